"""Schedule, interval, copy-window and health-check specs: parsing, canonical round trips, next runs across DST,
month ends and leap years (Europe/Berlin: spring forward 2024-03-31 02:00→03:00, fall back 2024-10-27 03:00→02:00)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.core.errors import UsageError
from console.core.scheduling.specs import (
    DEFAULT_HEALTH_CHECK,
    CopyWindow,
    HealthCheckSchedule,
    Schedule,
    format_interval,
    parse_health_check,
    parse_interval,
    parse_schedule,
    parse_weekdays,
    parse_window,
)

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)  # type: ignore[misc]


def same_instant(a: datetime | None, b: datetime | None) -> bool:
    """Equal instants with the same UTC offset (aware == with one tzinfo ignores fold, so compare explicitly)."""
    if a is None or b is None:
        return a is b
    return a.astimezone(UTC) == b.astimezone(UTC) and a.utcoffset() == b.utcoffset()


# --- parsing --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, canonical", [
    ("daily 22:00", "daily 22:00"),
    ("Daily 7:05 Mon-FRI", "daily 07:05 mon-fri"),
    ("daily 22:00 saturday, SUN", "daily 22:00 sat,sun"),
    ("daily 22:00 mon,wed,fri", "daily 22:00 mon,wed,fri"),
    ("daily 01:00 fri-mon", "daily 01:00 mon,fri-sun"),
    ("daily 01:00 mon-sun", "daily 01:00"),
    ("every 4h", "every 4h"),
    ("every 30m", "every 30m"),
    ("every 120m", "every 2h"),
    ("EVERY 5 m", "every 5m"),
    ("after Nightly  files", "after Nightly files"),
    ("manual", "manual"),
])
def test_parse_schedule_canonical(spec: str, canonical: str) -> None:
    assert parse_schedule(spec).to_spec() == canonical
    assert parse_schedule(canonical) == parse_schedule(spec)


def test_schedule_fields() -> None:
    s = parse_schedule("daily 22:00 mon-fri")
    assert (s.kind, s.at, s.weekdays, s.after_job) == ("daily", time(22, 0), frozenset(range(5)), None)
    s = parse_schedule("after Nightly")
    assert (s.kind, s.after_job) == ("after", "Nightly")
    assert parse_schedule("every 4h").interval == timedelta(hours=4)
    assert parse_schedule("manual").kind == "manual"


@pytest.mark.parametrize("spec", [
    "", "daily", "daily 24:00", "daily 22:60", "daily 22", "daily 22:00 funday", "daily 22:00 mon-", "every 4",
    "every 4s", "every 4m", "every 0h", "every 32d", "after", "manual now", "weekly sunday 05:00", "hourly",
])
def test_parse_schedule_rejects_with_syntax(spec: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_schedule(spec)
    message = str(info.value)
    assert "\n" not in message
    assert ("daily HH:MM" in message) or ("weekday" in message)


@pytest.mark.parametrize("text, expected", [
    ("24h", timedelta(hours=24)), ("4h", timedelta(hours=4)), ("30m", timedelta(minutes=30)),
    ("1d", timedelta(days=1)), ("90m", timedelta(minutes=90)), ("5m", timedelta(minutes=5)),
    ("31d", timedelta(days=31)), (" 2 H ", timedelta(hours=2)),
])
def test_parse_interval(text: str, expected: timedelta) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize("text", ["4m", "0h", "32d", "745h", "4", "h", "4x", "-4h", "1.5h", ""])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="24h"):
        parse_interval(text)


@pytest.mark.parametrize("value, text", [
    (timedelta(days=1), "1d"), (timedelta(hours=4), "4h"), (timedelta(minutes=90), "90m"), (timedelta(days=2), "2d"),
])
def test_format_interval(value: timedelta, text: str) -> None:
    assert format_interval(value) == text
    assert parse_interval(text) == value


def test_parse_weekdays_forms() -> None:
    assert parse_weekdays("mon-fri") == frozenset(range(5))
    assert parse_weekdays("Monday,WED,friday") == frozenset({0, 2, 4})
    assert parse_weekdays("sat-tue") == frozenset({5, 6, 0, 1})
    assert parse_weekdays("sun") == frozenset({6})
    with pytest.raises(UsageError, match="mon-fri"):
        parse_weekdays("mo")


# --- job schedule next_run ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, after, expected", [
    # plain daily, later the same day and the next day
    ("daily 22:00", berlin(2024, 1, 10, 12, 0), berlin(2024, 1, 10, 22, 0)),
    ("daily 22:00", berlin(2024, 1, 10, 22, 0), berlin(2024, 1, 11, 22, 0)),
    # spring forward: the offset changes under a daily time
    ("daily 22:00", berlin(2024, 3, 30, 23, 0), berlin(2024, 3, 31, 22, 0)),
    # 02:30 does not exist on 2024-03-31: it runs at the same instant, 03:30 CEST, once
    ("daily 02:30", berlin(2024, 3, 31, 0, 0), berlin(2024, 3, 31, 3, 30)),
    ("daily 02:30", berlin(2024, 3, 31, 3, 30), berlin(2024, 4, 1, 2, 30)),
    # fall back: 02:30 happens twice on 2024-10-27; only the first counts
    ("daily 02:30", berlin(2024, 10, 27, 0, 0), berlin(2024, 10, 27, 2, 30, fold=0)),
    ("daily 02:30", berlin(2024, 10, 27, 2, 30, fold=0), berlin(2024, 10, 28, 2, 30)),
    ("daily 02:30", berlin(2024, 10, 27, 2, 45, fold=1), berlin(2024, 10, 28, 2, 30)),
    # weekdays: Friday night → Monday
    ("daily 22:00 mon-fri", berlin(2024, 3, 29, 22, 0), berlin(2024, 4, 1, 22, 0)),
    ("daily 22:00 sat,sun", berlin(2024, 3, 25, 9, 0), berlin(2024, 3, 30, 22, 0)),
    # leap day, month end and year end
    ("daily 00:00", berlin(2024, 2, 28, 23, 59), berlin(2024, 2, 29, 0, 0)),
    ("daily 00:00", berlin(2023, 2, 28, 23, 59), berlin(2023, 3, 1, 0, 0)),
    ("daily 10:00 sat", berlin(2024, 12, 31, 12, 0), berlin(2025, 1, 4, 10, 0)),
    # every: elapsed time, also across DST changes
    ("every 4h", berlin(2024, 3, 31, 0, 0), berlin(2024, 3, 31, 5, 0)),
    ("every 4h", berlin(2024, 10, 27, 0, 0), berlin(2024, 10, 27, 3, 0)),
    ("every 30m", berlin(2024, 10, 27, 2, 45, fold=0), berlin(2024, 10, 27, 2, 15, fold=1)),
    ("after Nightly", berlin(2024, 1, 1, 0, 0), None),
    ("manual", berlin(2024, 1, 1, 0, 0), None),
])
def test_schedule_next_run(spec: str, after: datetime, expected: datetime | None) -> None:
    got = parse_schedule(spec).next_run(after)
    assert same_instant(got, expected), (got, expected)


def test_schedule_next_run_in_utc_and_naive_refused() -> None:
    after = datetime(2024, 1, 1, 23, 0, tzinfo=UTC)
    assert parse_schedule("daily 22:00").next_run(after) == datetime(2024, 1, 2, 22, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        parse_schedule("daily 22:00").next_run(datetime(2024, 1, 1))


# --- copy window ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, canonical", [
    ("mon-fri 20-06; sat,sun 0-24", "mon-fri 20-06; sat,sun 00-24"),
    ("mon-fri 20-06, sat,sun 0-24", "mon-fri 20-06; sat,sun 00-24"),
    ("20-06", "daily 20-06"),
    ("daily 22:00-06:00", "daily 22-06"),
    ("always", "always"),
    ("ANY", "always"),
    ("never", "never"),
    ("sun 22-02", "sun 22-02"),
    ("mon 0-6 18-24; tue 5-7", "mon 00-06 18-24; tue 05-07"),
    ("fri 20-00", "fri 20-24"),
    ("mon-sun 0-24", "always"),
])
def test_parse_window_canonical(spec: str, canonical: str) -> None:
    window = parse_window(spec)
    assert window.to_spec() == canonical
    assert parse_window(canonical) == window


def test_window_crossing_midnight_belongs_to_start_day() -> None:
    grid = parse_window("fri 20-06").grid
    assert [h for h in range(24) if grid[4][h]] == [20, 21, 22, 23]     # Friday
    assert [h for h in range(24) if grid[5][h]] == [0, 1, 2, 3, 4, 5]   # Saturday morning
    assert not any(grid[3]) and not any(grid[6])
    # Sunday night wraps to Monday morning
    grid = parse_window("sun 22-02").grid
    assert grid[6][22] and grid[6][23] and grid[0][0] and grid[0][1] and not grid[0][2]


@pytest.mark.parametrize("spec", ["", "mon-fri", "20-06 mon", "mon 25-02", "mon 3-3", "mon 0-0", "funday 1-2",
                                  "mon 1-2-3", "mon 8:30-10"])
def test_parse_window_rejects_with_syntax(spec: str) -> None:
    with pytest.raises(UsageError, match="sat,sun 0-24"):
        parse_window(spec)


def test_window_allows_end_and_next_start() -> None:
    w = parse_window("mon-fri 20-06")
    fri_night = berlin(2024, 3, 29, 21, 15)
    assert w.allows(fri_night)
    assert w.current_end(fri_night) == berlin(2024, 3, 30, 6, 0)
    assert not w.allows(berlin(2024, 3, 30, 6, 0))
    # outside the window: the stretch is over already, the next one starts Monday 20:00
    sat_noon = berlin(2024, 3, 30, 12, 0)
    assert w.current_end(sat_noon) == sat_noon
    assert w.next_start(sat_noon) == berlin(2024, 4, 1, 20, 0)
    assert w.next_start(fri_night) == fri_night
    # Sunday night wraps into Monday of the next week
    w = parse_window("sun 22-02")
    assert w.current_end(berlin(2024, 4, 7, 23, 59)) == berlin(2024, 4, 8, 2, 0)
    assert w.next_start(berlin(2024, 4, 8, 2, 0)) == berlin(2024, 4, 14, 22, 0)


def test_window_always_and_never() -> None:
    now = berlin(2024, 5, 1, 12, 0)
    assert CopyWindow.always().current_end(now) is None
    assert CopyWindow.always().allows(now)
    assert parse_window("always") == CopyWindow.always()
    assert CopyWindow.never().next_start(now) is None
    assert not CopyWindow.never().allows(now)


def test_window_across_dst() -> None:
    w = parse_window("sun 0-4")
    # spring forward: 02:00-03:00 does not exist, the window still closes at 04:00 CEST
    assert w.current_end(berlin(2024, 3, 31, 1, 30)) == berlin(2024, 3, 31, 4, 0)
    # fall back: at the second 02:30 (CET) the window closes at 04:00 CET
    end = w.current_end(berlin(2024, 10, 27, 2, 30, fold=1))
    assert same_instant(end, berlin(2024, 10, 27, 4, 0))
    assert w.next_start(berlin(2024, 10, 27, 4, 0)) == berlin(2024, 11, 3, 0, 0)
    # a closed hour that DST leaves out does not end the window: 01:59 CET is followed by 03:00 CEST
    w = parse_window("sun 1-2 3-5")
    assert w.current_end(berlin(2024, 3, 31, 1, 30)) == berlin(2024, 3, 31, 5, 0)
    assert w.current_end(berlin(2024, 3, 24, 1, 30)) == berlin(2024, 3, 24, 2, 0)
    # an open hour that DST leaves out does not start it either
    assert parse_window("sun 2-3").next_start(berlin(2024, 3, 31, 0, 0)) == berlin(2024, 4, 7, 2, 0)


def test_window_grid_editing_round_trip() -> None:
    w = parse_window("mon-fri 20-06")
    grid = w.as_lists()
    grid[2][12] = True                          # the GUI ticks Wednesday noon
    edited = CopyWindow.from_grid(grid)
    assert edited.grid[2][12] and not w.grid[2][12]
    assert edited.to_spec() == "mon,tue,thu,fri 20-06; wed 12-13 20-06"
    assert parse_window(edited.to_spec()) == edited
    with pytest.raises(ValueError):
        CopyWindow.from_grid([[True] * 24] * 6)


# --- health check ---------------------------------------------------------------------------------------------------

def test_default_health_check() -> None:
    check = parse_health_check(DEFAULT_HEALTH_CHECK)
    assert check == HealthCheckSchedule("monthly", at=time(5, 0), weekday=6, week="last")
    assert check.to_spec() == DEFAULT_HEALTH_CHECK == "monthly last sunday 05:00"


@pytest.mark.parametrize("spec, after, expected", [
    # last Sunday of March 2024 is the spring-forward day
    (DEFAULT_HEALTH_CHECK, berlin(2024, 3, 1, 0, 0), berlin(2024, 3, 31, 5, 0)),
    (DEFAULT_HEALTH_CHECK, berlin(2024, 3, 31, 5, 0), berlin(2024, 4, 28, 5, 0)),
    # year end
    (DEFAULT_HEALTH_CHECK, berlin(2024, 12, 29, 6, 0), berlin(2025, 1, 26, 5, 0)),
    # leap year: the last Thursday of February 2024 is the 29th, of February 2023 the 23rd
    ("monthly last thursday 05:00", berlin(2024, 2, 1, 0, 0), berlin(2024, 2, 29, 5, 0)),
    ("monthly last thursday 05:00", berlin(2023, 2, 1, 0, 0), berlin(2023, 2, 23, 5, 0)),
    # a month with five Fridays: fourth is days 22-28, last is the last seven days
    ("monthly fourth friday 01:00", berlin(2024, 3, 1, 0, 0), berlin(2024, 3, 22, 1, 0)),
    ("monthly last friday 01:00", berlin(2024, 3, 1, 0, 0), berlin(2024, 3, 29, 1, 0)),
    ("monthly first monday 01:00", berlin(2024, 1, 1, 1, 0), berlin(2024, 2, 5, 1, 0)),
    ("monthly second Tue 23:30", berlin(2024, 1, 10, 0, 0), berlin(2024, 2, 13, 23, 30)),
    ("monthly third sun 02:30", berlin(2024, 3, 1, 0, 0), berlin(2024, 3, 17, 2, 30)),
    # weekly on the fall-back day, daily
    ("weekly sunday 05:00", berlin(2024, 10, 26, 6, 0), berlin(2024, 10, 27, 5, 0)),
    ("weekly Sat 03:00", berlin(2024, 2, 3, 3, 0), berlin(2024, 2, 10, 3, 0)),
    ("daily 01:00", berlin(2024, 2, 29, 2, 0), berlin(2024, 3, 1, 1, 0)),
    ("never", berlin(2024, 1, 1, 0, 0), None),
])
def test_health_check_next_run(spec: str, after: datetime, expected: datetime | None) -> None:
    got = parse_health_check(spec).next_run(after)
    assert same_instant(got, expected), (got, expected)


@pytest.mark.parametrize("spec", ["", "monthly", "monthly fifth sunday 05:00", "monthly last someday 05:00",
                                  "weekly 05:00", "weekly sunday", "daily 25:00", "yearly", "never ever"])
def test_parse_health_check_rejects(spec: str) -> None:
    with pytest.raises(UsageError, match="monthly last sunday 05:00"):
        parse_health_check(spec)


# --- round trips (hypothesis) ---------------------------------------------------------------------------------------

times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)
job_names = st.from_regex(r"[A-Za-z0-9_.-]{1,12}( [A-Za-z0-9_.-]{1,12}){0,2}", fullmatch=True)
schedules = st.one_of(
    st.builds(lambda at, days: Schedule("daily", at=at, weekdays=days), times, weekday_sets),
    st.builds(lambda m: Schedule("every", interval=timedelta(minutes=m)), st.integers(5, 31 * 24 * 60)),
    st.builds(lambda name: Schedule("after", after_job=name), job_names),
    st.just(Schedule("manual")),
)
health_checks = st.one_of(
    st.just(HealthCheckSchedule("never")),
    st.builds(lambda at: HealthCheckSchedule("daily", at=at), times),
    st.builds(lambda at, d: HealthCheckSchedule("weekly", at=at, weekday=d), times, st.integers(0, 6)),
    st.builds(lambda at, d, w: HealthCheckSchedule("monthly", at=at, weekday=d, week=w), times, st.integers(0, 6),
              st.sampled_from(["first", "second", "third", "fourth", "last"])),
)
grids = st.lists(st.lists(st.booleans(), min_size=24, max_size=24), min_size=7, max_size=7)
sparse_grids = st.lists(st.lists(st.sampled_from([False, False, False, True]), min_size=24, max_size=24),
                        min_size=7, max_size=7)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=st.just(BERLIN))


@given(schedules)
def test_schedule_round_trip(schedule: Schedule) -> None:
    assert parse_schedule(schedule.to_spec()) == schedule


@given(health_checks)
def test_health_check_round_trip(check: HealthCheckSchedule) -> None:
    assert parse_health_check(check.to_spec()) == check


@given(st.one_of(grids, sparse_grids))
def test_window_round_trip(grid: list[list[bool]]) -> None:
    window = CopyWindow.from_grid(grid)
    assert parse_window(window.to_spec()) == window
    assert window.as_lists() == grid


@given(schedules, instants)
def test_schedule_next_run_is_later(schedule: Schedule, after: datetime) -> None:
    nxt = schedule.next_run(after)
    if schedule.kind in ("after", "manual"):
        assert nxt is None
        return
    assert nxt is not None and nxt.astimezone(UTC) > after.astimezone(UTC)
    if schedule.kind == "daily":
        assert nxt.weekday() in schedule.weekdays
        assert nxt.astimezone(UTC) - after.astimezone(UTC) <= timedelta(days=7, hours=1)


@given(health_checks, instants)
def test_health_check_next_run_is_later(check: HealthCheckSchedule, after: datetime) -> None:
    nxt = check.next_run(after)
    if check.kind == "never":
        assert nxt is None
        return
    assert nxt is not None and nxt.astimezone(UTC) > after.astimezone(UTC)
    assert nxt.astimezone(UTC) - after.astimezone(UTC) <= timedelta(days=63)


@given(grids, instants)
def test_window_end_and_start_agree_with_allows(grid: list[list[bool]], now: datetime) -> None:
    window = CopyWindow.from_grid(grid)
    end = window.current_end(now)
    if window.is_always:
        assert end is None
        return
    assert end is not None
    if window.allows(now):
        assert end > now and not window.allows(end)
    else:
        assert end == now
    start = window.next_start(now)
    if start is not None:
        assert window.allows(start) and start >= now
