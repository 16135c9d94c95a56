"""Retention decisions (console/core/engine/retention.py): short-term, minimum, GFS tiers, expiry, policy parsing.

Calendar used below: 2024-01-01 is a Monday, so the Sundays of January 2024 are the 7th, 14th, 21st and 28th;
2024 is a leap year (Feb 29), 2023 is not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from console.core.engine.retention import (
    Decision,
    GfsMonthly,
    GfsWeekly,
    GfsYearly,
    PointRef,
    RetentionPolicy,
    evaluate,
    expiry,
    parse_retention_args,
    selected_week_start,
)
from console.core.errors import UsageError

BERLIN = ZoneInfo("Europe/Berlin")
SUN, WED = 6, 2


def at(text: str, tz=BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def pt(text: str, gfs: str = "", tz=BERLIN) -> PointRef:
    """A point whose id is its local timestamp; `gfs` holds persisted flags, e.g. "WM"."""
    return PointRef(text, at(text, tz), frozenset(gfs))


def daily(first: str, last: str, skip: tuple[str, ...] = ()) -> list[PointRef]:
    """One point a day at 22:00 Berlin, id = the date."""
    out, day, end = [], date.fromisoformat(first), date.fromisoformat(last)
    while day <= end:
        if day.isoformat() not in skip:
            out.append(PointRef(day.isoformat(), at(f"{day} 22:00")))
        day += timedelta(days=1)
    return out


def decide(policy: RetentionPolicy, points: list[PointRef], now: str, tz=BERLIN) -> dict[str, Decision]:
    decisions = evaluate(policy, points, at(now, tz), tz)
    assert [d.created for d in decisions] == sorted(d.created for d in decisions)   # oldest first
    assert all(d.keep == bool(d.reasons) for d in decisions)
    return {d.id: d for d in decisions}


def kept(decisions: dict[str, Decision]) -> dict[str, list[str]]:
    return {i: d.reasons for i, d in decisions.items() if d.keep}


def flagged(decisions: dict[str, Decision], flag: str) -> list[str]:
    """Points whose flag is still valid."""
    return [i for i, d in decisions.items() if flag in d.gfs_expires]


# ---------------------------------------------------------------------------------------------- short-term


@pytest.mark.parametrize(
    ("policy", "points", "now", "expected"),
    [
        pytest.param(  # N + 1 calendar days: today and the 2 previous days; 23:59 of the day before is out
            RetentionPolicy(days=2, min_points=1),
            [pt("2024-01-07 23:59"), pt("2024-01-08 00:01"), pt("2024-01-09 12:00"), pt("2024-01-10 08:00")],
            "2024-01-10 12:00",
            {"2024-01-08 00:01": ["short-term"], "2024-01-09 12:00": ["short-term"],
             "2024-01-10 08:00": ["short-term"]},
            id="days-n-plus-1",
        ),
        pytest.param(  # calendar days, not 24 h periods: a point 2 days + 1 minute old is still in
            RetentionPolicy(days=2, min_points=1),
            [pt("2024-01-08 00:01"), pt("2024-01-10 00:02")],
            "2024-01-10 00:02",
            {"2024-01-08 00:01": ["short-term"], "2024-01-10 00:02": ["short-term"]},
            id="days-are-calendar-days",
        ),
        pytest.param(
            RetentionPolicy(points=3, min_points=1),
            [pt(f"2024-01-0{d} 22:00") for d in range(1, 6)],
            "2024-01-06 12:00",
            {"2024-01-03 22:00": ["short-term"], "2024-01-04 22:00": ["short-term"],
             "2024-01-05 22:00": ["short-term"]},
            id="points-newest-n",
        ),
        pytest.param(  # several points a day count one by one
            RetentionPolicy(points=2, min_points=1),
            [pt("2024-01-05 08:00"), pt("2024-01-05 12:00"), pt("2024-01-05 18:00")],
            "2024-01-05 19:00",
            {"2024-01-05 12:00": ["short-term"], "2024-01-05 18:00": ["short-term"]},
            id="points-same-day",
        ),
        pytest.param(  # nothing recent: the 3 newest points survive as "minimum"
            RetentionPolicy(days=2),
            [pt("2024-01-01 22:00"), pt("2024-01-02 22:00"), pt("2024-01-03 22:00"), pt("2024-01-04 22:00")],
            "2024-01-20 12:00",
            {"2024-01-02 22:00": ["minimum"], "2024-01-03 22:00": ["minimum"], "2024-01-04 22:00": ["minimum"]},
            id="minimum-3",
        ),
        pytest.param(  # one recent point: it is short-term, the 2 before it are the minimum
            RetentionPolicy(days=2),
            [pt("2024-01-01 22:00"), pt("2024-01-02 22:00"), pt("2024-01-03 22:00"), pt("2024-01-19 22:00")],
            "2024-01-20 12:00",
            {"2024-01-02 22:00": ["minimum"], "2024-01-03 22:00": ["minimum"], "2024-01-19 22:00": ["short-term"]},
            id="minimum-tops-up-short-term",
        ),
        pytest.param(  # points=2 still keeps 3
            RetentionPolicy(points=2),
            [pt("2024-01-01 22:00"), pt("2024-01-02 22:00"), pt("2024-01-03 22:00"), pt("2024-01-04 22:00")],
            "2024-01-05 12:00",
            {"2024-01-02 22:00": ["minimum"], "2024-01-03 22:00": ["short-term"], "2024-01-04 22:00": ["short-term"]},
            id="minimum-with-points-2",
        ),
        pytest.param(
            RetentionPolicy(days=2, min_points=5),
            [pt(f"2024-01-0{d} 22:00") for d in range(1, 7)],
            "2024-01-30 12:00",
            {f"2024-01-0{d} 22:00": ["minimum"] for d in range(2, 7)},
            id="min-points-configurable",
        ),
        pytest.param(  # clock skew: a point "from the future" is never deleted
            RetentionPolicy(points=2, min_points=1),
            [pt("2024-01-01 22:00"), pt("2024-01-02 22:00"), pt("2024-01-03 22:00"), pt("2024-01-09 22:00")],
            "2024-01-04 12:00",
            {"2024-01-03 22:00": ["short-term"], "2024-01-09 22:00": ["short-term"]},
            id="future-point",
        ),
    ],
)
def test_short_term(policy, points, now, expected):
    decisions = decide(policy, points, now)
    assert kept(decisions) == expected
    assert all(d.reasons == [] and d.gfs_expires == {} for d in decisions.values() if not d.keep)


@pytest.mark.parametrize(("tz", "is_kept"), [(BERLIN, True), (UTC, False)])
def test_days_are_evaluated_in_the_given_time_zone(tz, is_kept):
    # 23:30 UTC on Jan 7 is 00:30 on Jan 8 in Berlin: inside "today + 2 days" there, outside in UTC
    point = PointRef("p", datetime(2024, 1, 7, 23, 30, tzinfo=UTC))
    newer = [PointRef(f"n{h}", datetime(2024, 1, 10, h, tzinfo=UTC)) for h in (1, 2, 3)]
    policy = RetentionPolicy(days=2, min_points=1)
    decisions = {d.id: d for d in evaluate(policy, [point, *newer], datetime(2024, 1, 10, 11, tzinfo=UTC), tz)}
    assert decisions["p"].keep is is_kept


def test_naive_timestamps_are_wall_time_in_tz():
    policy = RetentionPolicy(days=2, min_points=1)
    points = [PointRef("a", datetime(2024, 1, 7, 23, 59)), PointRef("b", datetime(2024, 1, 8, 0, 1))]
    decisions = {d.id: d.keep for d in evaluate(policy, points, datetime(2024, 1, 10, 12), BERLIN)}
    assert decisions == {"a": False, "b": True}


def test_decisions_are_oldest_first_whatever_the_input_order():
    points = daily("2024-01-01", "2024-01-05")
    decisions = evaluate(RetentionPolicy(points=2), list(reversed(points)), at("2024-01-06 12:00"), BERLIN)
    assert [d.id for d in decisions] == [p.id for p in points]


# ---------------------------------------------------------------------------------------------- GFS weekly


def test_weekly_flags_the_first_point_of_each_period():
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=2, day=SUN))
    decisions = decide(policy, daily("2024-01-01", "2024-01-20"), "2024-01-20 23:00")
    # periods start on Sundays; Jan 1 (Monday) is the first point of the period that started Dec 31,
    # flagged but expired on Jan 15 (flag date + 14 days)
    assert kept(decisions) == {"2024-01-07": ["W"], "2024-01-14": ["W"],
                               "2024-01-19": ["short-term"], "2024-01-20": ["short-term"]}
    assert decisions["2024-01-07"].gfs_expires == {"W": date(2024, 1, 21)}
    assert decisions["2024-01-14"].gfs_expires == {"W": date(2024, 1, 28)}
    assert decisions["2024-01-01"].gfs == frozenset("W")   # expired flags are still handed back to persist
    assert not decisions["2024-01-01"].keep


def test_weekly_back_fill():
    # weekly on Wednesday; no run on Wednesday Jan 10: Thursday takes the flag, Tuesday (same calendar week,
    # but the previous weekly period, already flagged on Monday) does not
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=4, day=WED))
    decisions = decide(policy, daily("2024-01-08", "2024-01-13", skip=("2024-01-10",)), "2024-01-13 23:00")
    assert [i for i, d in decisions.items() if "W" in d.gfs] == ["2024-01-08", "2024-01-11"]
    assert decisions["2024-01-11"].gfs_expires == {"W": date(2024, 2, 8)}
    assert not decisions["2024-01-09"].keep


def test_weekly_flag_counts_only_started_periods_and_past_points():
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=4, day=SUN))
    points = [pt("2024-01-06 22:00"), pt("2024-01-07 22:00")]   # the Sunday point is "from the future"
    decisions = decide(policy, points, "2024-01-07 12:00")
    assert decisions["2024-01-07 22:00"].gfs == frozenset()
    assert decisions["2024-01-07 22:00"].reasons == ["short-term"]


@pytest.mark.parametrize(("now", "valid"), [("2024-01-20 23:59", True), ("2024-01-21 00:00", False)])
def test_weekly_expiry_boundary(now, valid):
    # flagged on Sunday Jan 7 with keep 2: valid while the date is before Jan 21
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=2, day=SUN))
    points = [pt("2024-01-07 03:00"), pt("2024-01-20 10:00"), pt("2024-01-20 11:00")]
    decisions = decide(policy, points, now)
    assert decisions["2024-01-07 03:00"].keep is valid
    assert decisions["2024-01-07 03:00"].gfs == frozenset("W")


# ---------------------------------------------------------------------------------------------- GFS monthly


@pytest.mark.parametrize(
    ("week", "expected"),
    [("first", ["2024-01-20", "2024-02-01", "2024-03-01"]),
     ("second", ["2024-01-20", "2024-02-08", "2024-03-08"]),
     ("third", ["2024-01-20", "2024-02-15"]),
     ("fourth", ["2024-01-22", "2024-02-22"]),
     ("last", ["2024-01-25", "2024-02-23"])],
)
def test_monthly_alone(week, expected):
    # January's points start on the 20th: "first"/"second"/"third" back-fill to the first point on/after
    policy = RetentionPolicy(days=2, min_points=1, monthly=GfsMonthly(keep=2, week=week))
    decisions = decide(policy, daily("2024-01-20", "2024-03-10"), "2024-03-10 23:00")
    assert [i for i, d in decisions.items() if "M" in d.gfs] == expected
    for i in expected:
        assert decisions[i].gfs_expires["M"] == expiry("M", date.fromisoformat(i), 2)


@pytest.mark.parametrize(
    ("year", "month", "first_day"),
    [(2023, 2, 22), (2024, 2, 23), (2024, 4, 24), (2024, 1, 25), (2024, 12, 25)],
)
def test_last_week_is_the_last_seven_days(year, month, first_day):
    start = date(year, month, first_day)
    assert selected_week_start(year, month, "last") == start
    policy = RetentionPolicy(days=2, min_points=1, monthly=GfsMonthly(keep=12, week="last"))
    before, on = start - timedelta(days=1), start
    decisions = decide(policy, daily(before.isoformat(), on.isoformat()), f"{on + timedelta(days=10)} 12:00")
    assert flagged(decisions, "M") == [on.isoformat()]


def test_monthly_rides_on_the_weekly_point():
    # January's last week is Jan 25-31 and its Sunday is Jan 28; there was no run on the 28th, so the weekly
    # point is Monday Jan 29 and that is the monthly point too (not Jan 25, the first day of the week)
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=1, day=SUN),
                             monthly=GfsMonthly(keep=6, week="last"))
    decisions = decide(policy, daily("2024-01-20", "2024-02-10", skip=("2024-01-28",)), "2024-02-10 23:00")
    assert decisions["2024-01-29"].gfs == frozenset("WM")
    assert decisions["2024-01-29"].reasons == ["M"]   # W (Jan 29 + 7 days) has expired, M has not
    assert decisions["2024-01-29"].gfs_expires == {"M": date(2024, 7, 30)}
    assert "M" not in decisions["2024-01-25"].gfs
    assert [i for i, d in decisions.items() if "M" in d.gfs] == ["2024-01-29"]


def test_monthly_falls_back_when_the_weekly_period_had_no_point():
    # first week of January 2024 has Sunday Jan 7; no point from Jan 7 to Jan 13, so January's monthly point
    # is the first point on/after Jan 1 - once that weekly period is over
    policy = RetentionPolicy(days=2, min_points=1, weekly=GfsWeekly(keep=1, day=SUN),
                             monthly=GfsMonthly(keep=6, week="first"))
    points = [pt("2024-01-02 22:00"), pt("2024-01-03 22:00"), pt("2024-01-20 22:00")]
    assert flagged(decide(policy, points, "2024-01-21 12:00"), "M") == ["2024-01-02 22:00"]
    # while the weekly period is running, its point may still come: no monthly point yet
    assert flagged(decide(policy, points[:2], "2024-01-10 12:00"), "M") == []


# ---------------------------------------------------------------------------------------------- GFS yearly


def test_yearly_alone():
    policy = RetentionPolicy(days=2, min_points=1, yearly=GfsYearly(keep=2, month=3))
    points = [pt("2023-02-20 22:00"), pt("2023-03-05 22:00"), pt("2023-03-10 22:00"), pt("2024-03-02 22:00"),
              pt("2024-06-01 10:00")]
    decisions = decide(policy, points, "2024-06-01 12:00")
    assert kept(decisions) == {"2023-03-05 22:00": ["Y"], "2024-03-02 22:00": ["Y"],
                               "2024-06-01 10:00": ["short-term"]}
    assert decisions["2023-03-05 22:00"].gfs_expires == {"Y": date(2025, 3, 6)}
    assert decisions["2024-03-02 22:00"].gfs_expires == {"Y": date(2026, 3, 3)}


def test_yearly_back_fills_into_later_months():
    # no run in January 2023: the first point after it is 2023's yearly point; Dec 30 is 2022's
    policy = RetentionPolicy(days=2, min_points=1, yearly=GfsYearly(keep=1, month=1))
    points = [pt("2022-12-30 22:00"), pt("2023-02-03 22:00"), pt("2023-02-04 22:00")]
    assert flagged(decide(policy, points, "2023-06-01 12:00"), "Y") == ["2022-12-30 22:00", "2023-02-03 22:00"]


def test_yearly_rides_on_the_monthly_point():
    policy = RetentionPolicy(days=2, min_points=1, monthly=GfsMonthly(keep=1, week="last"),
                             yearly=GfsYearly(keep=3, month=1))
    points = daily("2023-01-02", "2023-01-31")
    decisions = decide(policy, points, "2023-06-01 12:00")
    assert kept(decisions) == {"2023-01-25": ["Y"], "2023-01-31": ["minimum"]}   # M expired on Feb 26, Y not
    assert decisions["2023-01-25"].gfs == frozenset("MY")
    assert decisions["2023-01-25"].gfs_expires == {"Y": date(2026, 1, 26)}
    # early in January the monthly point does not exist yet: the year waits for it instead of taking Jan 2
    early = decide(policy, daily("2023-01-02", "2023-01-09"), "2023-01-10 12:00")
    assert [i for i, d in early.items() if d.gfs] == []


def test_all_tiers_on_one_point():
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=4, day=SUN),
                             monthly=GfsMonthly(keep=12, week="last"), yearly=GfsYearly(keep=5, month=1))
    decisions = decide(policy, daily("2024-01-20", "2024-01-29"), "2024-01-29 23:00")
    assert decisions["2024-01-28"].reasons == ["short-term", "W", "M", "Y"]
    assert decisions["2024-01-28"].gfs_expires == {"W": date(2024, 2, 25), "M": date(2025, 1, 29),
                                                   "Y": date(2029, 1, 29)}


def test_back_fill_carries_last_years_flags_into_january():
    # December 2023's last week holds Sunday Dec 31; the chain starts on Monday Jan 1, which back-fills that
    # weekly period and so also carries December's monthly point and (yearly in December) 2023's yearly point
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=4, day=SUN),
                             monthly=GfsMonthly(keep=12, week="last"), yearly=GfsYearly(keep=2, month=12))
    decisions = decide(policy, daily("2024-01-01", "2024-01-10"), "2024-01-10 23:00")
    assert decisions["2024-01-01"].reasons == ["W", "M", "Y"]
    assert decisions["2024-01-01"].gfs_expires == {"W": date(2024, 1, 29), "M": date(2025, 1, 2),
                                                   "Y": date(2026, 1, 2)}


# ---------------------------------------------------------------------------------------------- expiry


@pytest.mark.parametrize(
    ("flag", "flag_date", "keep", "expected"),
    [
        ("W", date(2024, 1, 7), 4, date(2024, 2, 4)),
        ("W", date(2024, 12, 29), 1, date(2025, 1, 5)),
        ("M", date(2024, 1, 15), 1, date(2024, 2, 16)),
        ("M", date(2023, 1, 31), 1, date(2023, 3, 1)),     # Feb 28 + 1 day
        ("M", date(2024, 1, 31), 1, date(2024, 3, 1)),     # Feb 29 + 1 day
        ("M", date(2024, 1, 28), 1, date(2024, 2, 29)),    # no clamping needed, + 1 day
        ("M", date(2024, 3, 31), 1, date(2024, 5, 1)),     # Apr 30 + 1 day
        ("M", date(2024, 12, 31), 2, date(2025, 3, 1)),    # across the year, Feb 28 + 1 day
        ("M", date(2024, 5, 10), 12, date(2025, 5, 11)),
        ("Y", date(2024, 2, 29), 1, date(2025, 3, 1)),     # Feb 29 -> Feb 28 + 1 day
        ("Y", date(2024, 2, 29), 4, date(2028, 3, 1)),     # Feb 29 exists in 2028
        ("Y", date(2023, 6, 15), 5, date(2028, 6, 16)),
    ],
)
def test_expiry(flag, flag_date, keep, expected):
    assert expiry(flag, flag_date, keep) == expected


def test_monthly_expiry_in_evaluate():
    # flagged Jan 31, 2023 with keep 1: valid through Feb 28, gone on Mar 1
    policy = RetentionPolicy(days=2, min_points=1, monthly=GfsMonthly(keep=1, week="last"))
    points = [pt("2023-01-31 22:00"), pt("2023-02-27 10:00"), pt("2023-02-27 11:00")]
    assert decide(policy, points, "2023-02-28 23:59")["2023-01-31 22:00"].reasons == ["M"]
    assert not decide(policy, points, "2023-03-01 00:00")["2023-01-31 22:00"].keep


# ---------------------------------------------------------------------------------------------- sticky flags


def test_sticky_weekly_flag_blocks_a_second_one():
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=4, day=SUN))
    points = [pt("2024-01-07 22:00"), pt("2024-01-08 22:00", gfs="W"), pt("2024-01-09 22:00"),
              pt("2024-01-10 22:00")]
    decisions = decide(policy, points, "2024-01-10 23:00")
    assert [i for i, d in decisions.items() if d.gfs] == ["2024-01-08 22:00"]
    assert not decisions["2024-01-07 22:00"].keep
    assert decisions["2024-01-08 22:00"].gfs_expires == {"W": date(2024, 2, 5)}   # from its own date


def test_sticky_expired_flag_still_blocks_but_no_longer_keeps():
    policy = RetentionPolicy(points=2, min_points=1, weekly=GfsWeekly(keep=1, day=SUN))
    points = [pt("2024-01-07 22:00", gfs="W"), pt("2024-01-08 22:00"), pt("2024-01-20 22:00"),
              pt("2024-01-20 23:00")]
    decisions = decide(policy, points, "2024-01-20 23:30")
    assert not decisions["2024-01-07 22:00"].keep and decisions["2024-01-07 22:00"].reasons == []
    assert decisions["2024-01-07 22:00"].gfs_expires == {}
    assert decisions["2024-01-08 22:00"].gfs == frozenset()


def test_sticky_monthly_and_yearly_flags():
    policy = RetentionPolicy(days=2, min_points=1, monthly=GfsMonthly(keep=12, week="first"),
                             yearly=GfsYearly(keep=2, month=2))
    points = [pt("2024-02-01 22:00"), pt("2024-02-05 22:00", gfs="MY"), pt("2024-03-01 22:00")]
    decisions = decide(policy, points, "2024-03-01 23:00")
    assert flagged(decisions, "M") == ["2024-02-05 22:00", "2024-03-01 22:00"]
    assert flagged(decisions, "Y") == ["2024-02-05 22:00"]
    assert not decisions["2024-02-01 22:00"].keep


def test_switched_off_tier_no_longer_keeps_its_points():
    policy = RetentionPolicy(points=2, min_points=1)
    points = [pt("2024-01-07 22:00", gfs="W"), pt("2024-01-08 22:00"), pt("2024-01-09 22:00")]
    decisions = decide(policy, points, "2024-01-09 23:00")
    assert not decisions["2024-01-07 22:00"].keep
    assert decisions["2024-01-07 22:00"].gfs == frozenset("W")


def test_daily_runs_with_persisted_flags_match_a_single_evaluation():
    """Run retention after every daily backup, delete and persist like the engine does; a missed Sunday."""
    policy = RetentionPolicy(points=3, weekly=GfsWeekly(keep=3, day=SUN), monthly=GfsMonthly(keep=2, week="last"))
    all_points = daily("2024-01-01", "2024-03-20", skip=("2024-02-25",))
    chain: list[PointRef] = []
    for point in all_points:
        chain.append(point)
        now = point.created + timedelta(minutes=5)
        decisions = evaluate(policy, chain, now, BERLIN)
        chain = [PointRef(d.id, d.created, d.gfs) for d in decisions if d.keep]
    final = {d.id: d for d in decisions}
    assert kept(final) == {
        "2024-01-28": ["M"],             # January's last-week Sunday
        "2024-02-26": ["M"],             # back-filled Monday: February's monthly (its W expired on Mar 18)
        "2024-03-03": ["W"], "2024-03-10": ["W"], "2024-03-17": ["W"],
        "2024-03-18": ["short-term"], "2024-03-19": ["short-term"], "2024-03-20": ["short-term"],
    }
    assert kept(decide(policy, all_points, "2024-03-20 22:05")) == kept(final)


# ---------------------------------------------------------------------------------------------- policy


@pytest.mark.parametrize(
    "data",
    [
        {"days": 7, "min_points": 3},
        {"points": 14, "min_points": 5},
        {"points": 7, "min_points": 3, "gfs": {"weekly": {"keep": 4, "day": "sunday"}}},
        {"days": 30, "min_points": 3, "gfs": {"weekly": {"keep": 4, "day": "monday"},
                                              "monthly": {"keep": 12, "week": "last"},
                                              "yearly": {"keep": 5, "month": "january"}}},
        {"points": 2, "min_points": 1, "gfs": {"monthly": {"keep": 1, "week": "second"},
                                               "yearly": {"keep": 10, "month": "december"}}},
    ],
)
def test_policy_dict_round_trip(data):
    policy = RetentionPolicy.from_dict(data)
    assert policy.to_dict() == data
    assert RetentionPolicy.from_dict(policy.to_dict()) == policy


def test_from_dict_reads_names_and_defaults():
    policy = RetentionPolicy.from_dict({"gfs": {"weekly": {"keep": 4, "day": "Sun"}, "monthly": {"keep": 12,
                                       "week": "LAST"}, "yearly": {"keep": 5, "month": "Jan"}}})
    assert policy == RetentionPolicy(points=7, min_points=3, weekly=GfsWeekly(4, SUN),
                                     monthly=GfsMonthly(12, "last"), yearly=GfsYearly(5, 1))
    assert policy.to_dict()["gfs"]["weekly"]["day"] == "sunday"


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (RetentionPolicy(points=7, weekly=GfsWeekly(4, SUN), monthly=GfsMonthly(12, "last")),
         "7 restore points; GFS: 4 weekly (Sunday), 12 monthly (last week)"),
        (RetentionPolicy(days=14, yearly=GfsYearly(5, 1)), "14 days; GFS: 5 yearly (January)"),
        (RetentionPolicy(), "7 restore points"),
        (RetentionPolicy(points=2, min_points=5), "2 restore points (at least 5 kept)"),
    ],
)
def test_describe(policy, text):
    assert policy.describe() == text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"points": 1}, "retention must keep at least 2 restore points (got 1)"),
        ({"days": 1}, "retention must keep at least 2 days (got 1)"),
        ({"days": 7, "points": 7}, "not both"),
        ({"points": "7"}, "whole number"),
        ({"point": 7}, "unknown key 'point'"),
        ({"points": 7, "min_points": 0}, "min_points must be at least 1"),
        ({"gfs": {"weekly": {"keep": 0, "day": "sunday"}}}, "GFS weekly must keep at least 1 week (got 0)"),
        ({"gfs": {"weekly": {"keep": 4, "day": "sundy"}}}, "unknown weekday 'sundy': use monday … sunday"),
        ({"gfs": {"monthly": {"keep": 4, "week": "fifth"}}}, "unknown week 'fifth'"),
        ({"gfs": {"yearly": {"keep": 4, "month": "janury"}}}, "unknown month 'janury': use january … december"),
        ({"gfs": {"yearly": {"keep": 4}}}, '"gfs.yearly" needs "keep" and "month"'),
        ({"gfs": {"daily": {"keep": 4}}}, "unknown key 'daily'"),
        ([7], "must be a JSON object"),
    ],
)
def test_from_dict_errors(data, message):
    with pytest.raises(UsageError) as info:
        RetentionPolicy.from_dict(data)
    assert message in str(info.value)


def test_parse_retention_args():
    assert parse_retention_args(None, None, None, None, None) == RetentionPolicy(points=7)
    assert parse_retention_args(14, None, None, None, None) == RetentionPolicy(days=14)
    policy = parse_retention_args(None, 10, "4:Sun", " 12 : LAST ", "5:jan")
    assert policy == RetentionPolicy(points=10, weekly=GfsWeekly(4, SUN), monthly=GfsMonthly(12, "last"),
                                     yearly=GfsYearly(5, 1))
    assert parse_retention_args(None, 2, "1:wednesday", None, "1:Sept").weekly == GfsWeekly(1, WED)
    assert parse_retention_args(None, 2, None, None, "1:Sept").yearly == GfsYearly(1, 9)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, 1, None, None, None), "retention must keep at least 2 restore points (got 1)"),
        ((1, None, None, None, None), "retention must keep at least 2 days (got 1)"),
        ((7, 7, None, None, None), "use either --retention-days or --retention-points, not both"),
        ((None, None, "4", None, None), "--gfs-weekly needs N:WEEKDAY, e.g. 4:sunday"),
        ((None, None, "sunday:4", None, None), "--gfs-weekly needs N:WEEKDAY, e.g. 4:sunday"),
        ((None, None, "-1:sunday", None, None), "--gfs-weekly needs N:WEEKDAY"),
        ((None, None, "0:sunday", None, None), "--gfs-weekly must keep at least 1 week (got 0)"),
        ((None, None, "4:sundy", None, None), "unknown weekday 'sundy': use monday … sunday"),
        ((None, None, "4:su", None, None), "unknown weekday 'su'"),
        ((None, None, None, "12:fifth", None), "unknown week 'fifth': use first, second, third, fourth or last"),
        ((None, None, None, "12", None), "--gfs-monthly needs N:first|second|third|fourth|last"),
        ((None, None, None, None, "5:smarch"), "unknown month 'smarch': use january … december"),
        ((None, None, None, None, "five:january"), "--gfs-yearly needs N:MONTH, e.g. 5:january"),
    ],
)
def test_parse_retention_args_errors(args, message):
    with pytest.raises(UsageError) as info:
        parse_retention_args(*args)
    assert message in str(info.value)
