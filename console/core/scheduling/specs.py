"""Schedule, interval, copy-window and health-check specs: parse admin text, compute the next run, print canonically.

Everything here is pure (no clock, no I/O). Times are aware datetimes; daily/weekly/monthly wall-clock times are
evaluated in the time zone of the datetime passed in, so a `zoneinfo.ZoneInfo` gives correct DST behaviour:
a time that does not exist on a spring-forward day runs at the equivalent instant (02:30 → 03:30), a time that occurs
twice on a fall-back day runs once, at its first occurrence.

Spec syntax (weekday names in English, any case, full or 3 letters; ranges `mon-fri` (may wrap: `fri-mon`), lists
`mon,wed,fri`):

* job schedule:   `daily HH:MM [WEEKDAYS]` | `every N(h|m)` (at least 5m) | `after JOBNAME` | `manual`
* interval:       `N(d|h|m)`, e.g. `24h`, `1d`, `90m` (5m … 31d)
* copy window:    see `parse_window`
* health check:   `monthly first|second|third|fourth|last WEEKDAY HH:MM` | `weekly WEEKDAY HH:MM` | `daily HH:MM`
                  | `never` (default: `monthly last sunday 05:00`)
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from console.core.errors import UsageError

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_ABBREVIATIONS = tuple(name[:3] for name in WEEKDAY_NAMES)
ALL_DAYS = frozenset(range(7))

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(days=31)

WEEKDAYS_SYNTAX = "weekdays as names (mon, Tuesday, ...), ranges (mon-fri) or lists (mon,wed,fri)"
SCHEDULE_SYNTAX = ("'daily HH:MM [WEEKDAYS]' (e.g. 'daily 22:00 mon-fri'), 'every N(h|m)' (e.g. 'every 4h', "
                   "at least 5m), 'after JOBNAME' or 'manual'")
INTERVAL_SYNTAX = "a number with a unit d, h or m, e.g. '24h', '1d', '90m' (from 5m to 31d)"
WINDOW_SYNTAX = ("'WEEKDAYS HH-HH' clauses separated by ';' or ',' with whole hours, "
                 "e.g. 'mon-fri 20-06; sat,sun 0-24' (a range crossing midnight belongs to the day it starts on), "
                 "or 'always'")
HEALTH_CHECK_SYNTAX = ("'monthly first|second|third|fourth|last WEEKDAY HH:MM' (e.g. 'monthly last sunday 05:00'), "
                       "'weekly WEEKDAY HH:MM', 'daily HH:MM' or 'never'")

DEFAULT_HEALTH_CHECK = "monthly last sunday 05:00"
MONTH_WEEKS = ("first", "second", "third", "fourth", "last")

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_INTERVAL_RE = re.compile(r"^(\d+)\s*(d|days?|h|hours?|hrs?|m|min|mins|minutes?)$")
_HOURS_RE = re.compile(r"^(\d{1,2})(?::00)?-(\d{1,2})(?::00)?$")


# --- small shared parsers -------------------------------------------------------------------------------------------

def _weekday(name: str) -> int | None:
    name = name.strip().lower()
    if name in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(name)
    if name in WEEKDAY_ABBREVIATIONS:
        return WEEKDAY_ABBREVIATIONS.index(name)
    return None


def parse_weekdays(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri`, `Saturday`, `fri-mon` (wraps), `daily` → set of weekdays (Monday=0)."""
    days: set[int] = set()
    text = text.strip().lower()
    if text in ("daily", "everyday", "all"):
        return ALL_DAYS
    for item in text.split(","):
        item = item.strip()
        first, sep, last = item.partition("-")
        start, end = _weekday(first), _weekday(last) if sep else _weekday(first)
        if start is None or end is None:
            raise UsageError(f"unknown weekday {item!r}: use {WEEKDAYS_SYNTAX}")
        day = start
        days.add(day)
        while day != end:                # a range like fri-mon wraps over the weekend
            day = (day + 1) % 7
            days.add(day)
    if not days:
        raise UsageError(f"no weekdays given: use {WEEKDAYS_SYNTAX}")
    return frozenset(days)


def format_weekdays(days: Iterable[int]) -> str:
    """Canonical text for a set of weekdays: runs of 3+ days as ranges (`mon-fri`), others listed (`sat,sun`)."""
    ordered = sorted(set(days))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{WEEKDAY_ABBREVIATIONS[ordered[i]]}-{WEEKDAY_ABBREVIATIONS[ordered[j]]}")
        else:
            parts.extend(WEEKDAY_ABBREVIATIONS[d] for d in ordered[i:j + 1])
        i = j + 1
    return ",".join(parts)


def _parse_time(text: str, syntax: str, what: str) -> time:
    m = _TIME_RE.match(text.strip())
    if m:
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise UsageError(f"bad time {text!r} in {what}: use HH:MM (00:00 to 23:59); accepted: {syntax}")


def _format_time(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _interval(text: str) -> timedelta | None:
    m = _INTERVAL_RE.match(text.strip().lower())
    if not m:
        return None
    number, unit = int(m.group(1)), m.group(2)[0]
    return {"d": timedelta(days=number), "h": timedelta(hours=number), "m": timedelta(minutes=number)}[unit]


def parse_interval(text: str) -> timedelta:
    """`24h`, `4h`, `30m`, `1d`, `90m` → timedelta (5 minutes to 31 days)."""
    value = _interval(text)
    if value is None:
        raise UsageError(f"bad interval {text!r}: use {INTERVAL_SYNTAX}")
    if not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise UsageError(f"interval {text!r} is out of range: use {INTERVAL_SYNTAX}")
    return value


def format_interval(value: timedelta, units: str = "dhm") -> str:
    """Canonical text for an interval: the largest of `units` that divides it (`1d`, `4h`, `90m`)."""
    minutes = int(value.total_seconds() // 60)
    if "d" in units and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if "h" in units and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed (got naive {dt.isoformat()})")


def _localize(day: date, at: time, tz: object) -> datetime:
    """Wall-clock `day at` in `tz`, normalised: a non-existent time moves forward, an ambiguous one is the first."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)  # type: ignore[arg-type]


def _next_matching(after: datetime, at: time, matches: Callable[[date], bool], horizon_days: int) -> datetime | None:
    """The first `at` on a day that `matches`, strictly later than `after`, in `after`'s time zone."""
    _require_aware(after)
    tz = after.tzinfo
    after_utc = after.astimezone(UTC)
    day = after.date()
    for _ in range(horizon_days + 1):
        if matches(day):
            candidate = _localize(day, at, tz)
            if candidate.astimezone(UTC) > after_utc:
                return candidate
        day += timedelta(days=1)
    return None


# --- job schedules -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    """When a backup job runs by itself. `kind` is "daily" | "every" | "after" | "manual"."""

    kind: str
    at: time | None = None                     # daily: time of day
    weekdays: frozenset[int] = ALL_DAYS        # daily: allowed weekdays (Monday=0)
    interval: timedelta | None = None          # every: the period
    after_job: str | None = None               # after: the job whose finished run starts this one

    def next_run(self, after: datetime) -> datetime | None:
        """The next automatic start strictly after `after` (daily), or `after` + interval (every); None otherwise."""
        _require_aware(after)
        if self.kind == "daily":
            assert self.at is not None
            return _next_matching(after, self.at, lambda d: d.weekday() in self.weekdays, 7)
        if self.kind == "every":
            assert self.interval is not None
            # Elapsed time, not wall-clock time: "every 4h" stays 4 hours across a DST change.
            return (after.astimezone(UTC) + self.interval).astimezone(after.tzinfo)
        return None

    def to_spec(self) -> str:
        if self.kind == "daily":
            assert self.at is not None
            days = "" if self.weekdays == ALL_DAYS else " " + format_weekdays(self.weekdays)
            return f"daily {_format_time(self.at)}{days}"
        if self.kind == "every":
            assert self.interval is not None
            return f"every {format_interval(self.interval, 'hm')}"
        if self.kind == "after":
            return f"after {self.after_job}"
        return "manual"

    def __str__(self) -> str:
        return self.to_spec()


def parse_schedule(spec: str) -> Schedule:
    """Parse a backup job schedule: `daily HH:MM [WEEKDAYS]`, `every N(h|m)`, `after JOBNAME` or `manual`."""
    text = " ".join(spec.split())
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word == "manual" and not rest:
        return Schedule("manual")
    if word == "daily" and rest:
        at_text, _, days_text = rest.partition(" ")
        at = _parse_time(at_text, SCHEDULE_SYNTAX, "the schedule")
        weekdays = parse_weekdays(days_text.replace(" ", "")) if days_text else ALL_DAYS
        return Schedule("daily", at=at, weekdays=weekdays)
    if word == "every" and rest:
        interval = _interval(rest)
        if interval is None or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise UsageError(f"bad interval in schedule {spec!r}: accepted: {SCHEDULE_SYNTAX}")
        return Schedule("every", interval=interval)
    if word == "after" and rest:
        return Schedule("after", after_job=rest)
    raise UsageError(f"bad schedule {spec!r}: accepted: {SCHEDULE_SYNTAX}")


# --- copy window ---------------------------------------------------------------------------------------------------

Grid = tuple[tuple[bool, ...], ...]


@dataclass(frozen=True)
class CopyWindow:
    """Allowed hours per weekday: `grid[weekday][hour]`, Monday=0, in the local time of the datetime asked about."""

    grid: Grid

    def __post_init__(self) -> None:
        if len(self.grid) != 7 or any(len(row) != 24 for row in self.grid):
            raise ValueError("a copy window grid has 7 rows (Monday first) of 24 hours")

    @classmethod
    def from_grid(cls, grid: Sequence[Sequence[bool]]) -> CopyWindow:
        return cls(tuple(tuple(bool(h) for h in row) for row in grid))

    @classmethod
    def always(cls) -> CopyWindow:
        return cls(tuple((True,) * 24 for _ in range(7)))

    @classmethod
    def never(cls) -> CopyWindow:
        return cls(tuple((False,) * 24 for _ in range(7)))

    def as_lists(self) -> list[list[bool]]:
        """A mutable copy of the grid (for an editor)."""
        return [list(row) for row in self.grid]

    @property
    def is_always(self) -> bool:
        return all(all(row) for row in self.grid)

    def allows(self, dt: datetime) -> bool:
        return self.grid[dt.weekday()][dt.hour]

    def _walk(self, dt: datetime, want: bool) -> datetime | None:
        """The start of the first wall-clock hour after dt's hour whose allowed-state is `want` (within a week)."""
        _require_aware(dt)
        slot = dt.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        for _ in range(8 * 24):               # a week and a day: the same slot a week on may be left out by DST
            slot += timedelta(hours=1)
            if self.grid[slot.weekday()][slot.hour] == want:
                at = _localize(slot.date(), slot.time(), dt.tzinfo)
                if at.replace(tzinfo=None) == slot:     # skip a wall-clock hour that DST leaves out
                    return at
        return None

    def current_end(self, dt: datetime) -> datetime | None:
        """When the allowed stretch containing `dt` ends (`dt` itself if outside the window); None if always allowed."""
        if self.is_always:
            return None
        if not self.allows(dt):
            return dt
        return self._walk(dt, False)

    def next_start(self, dt: datetime) -> datetime | None:
        """When copying may next start: `dt` if the window is open now; None if the window never opens."""
        if self.allows(dt):
            return dt
        return self._walk(dt, True)

    def to_spec(self) -> str:
        """Canonical text (parse_window(w.to_spec()) == w): weekdays with identical hours grouped, ranges that
        continue into the next day written as crossing midnight (`mon-fri 20-06`)."""
        if self.is_always:
            return "always"
        if not any(any(row) for row in self.grid):
            return "never"
        ranges: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        consumed_head = [0] * 7          # leading hours of a day already written by the previous day's crossing range
        for day in range(7):
            row = self.grid[day]
            if all(row):
                ranges[day].append((0, 24))
                continue
            runs = _runs(row)
            nxt = (day + 1) % 7
            prev_cross = ranges[day - 1][-1] if day > 0 and ranges[day - 1] else None
            for start, end in runs:
                if start < consumed_head[day]:
                    continue
                head = _runs(self.grid[nxt])[0] if any(self.grid[nxt]) else (0, 0)
                if end == 24 and start > 0 and head[0] == 0 and 0 < head[1] < start:
                    ranges[day].append((start, head[1]))
                    consumed_head[nxt] = head[1]
                elif end == 24 and head == (0, 24) and prev_cross and prev_cross[0] == start > prev_cross[1]:
                    # The next day is allowed all day, so any crossing range is exact; reuse the previous day's
                    # so `mon-fri 20-06; sat,sun 0-24` prints as it was written.
                    ranges[day].append(ranges[day - 1][-1])
                else:
                    ranges[day].append((start, end))
        # A day's head may have been written by the previous day only after that day was visited (Sunday → Monday).
        if consumed_head[0] and ranges[0] and ranges[0][0] == (0, consumed_head[0]):
            ranges[0].pop(0)
        groups: dict[tuple[tuple[int, int], ...], list[int]] = {}
        for day in range(7):
            if ranges[day]:
                groups.setdefault(tuple(ranges[day]), []).append(day)
        clauses = []
        for hours, days in sorted(groups.items(), key=lambda item: item[1][0]):
            names = "daily" if len(days) == 7 else format_weekdays(days)
            clauses.append(names + " " + " ".join(f"{s:02d}-{e:02d}" for s, e in hours))
        return "; ".join(clauses)

    def __str__(self) -> str:
        return self.to_spec()


def _runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """Allowed stretches [start, end) of one day."""
    runs: list[tuple[int, int]] = []
    hour = 0
    while hour < 24:
        if row[hour]:
            start = hour
            while hour < 24 and row[hour]:
                hour += 1
            runs.append((start, hour))
        hour += 1
    return runs


def parse_window(spec: str) -> CopyWindow:
    """Parse a copy window: clauses `WEEKDAYS HH-HH [HH-HH ...]` separated by `;` or `,`, with whole hours.

    Examples: `mon-fri 20-06; sat,sun 0-24`, `daily 22-06`, `mon,wed 0-6 18-24`. A range crossing midnight
    (`20-06`) belongs to the weekday it starts on (Friday 20-06 allows Saturday 00:00-06:00). Hours without
    weekdays apply to every day. `always` / `any` allows every hour; `never` allows none.
    """
    text = spec.strip().lower()
    if text in ("always", "any"):
        return CopyWindow.always()
    if text == "never":
        return CopyWindow.never()
    grid = [[False] * 24 for _ in range(7)]
    days: set[int] = set()
    days_closed = False              # the weekdays seen so far were followed by hours: new names start a new clause
    applied = False
    tokens = [t for t in re.split(r"[\s,;]+", text) if t]
    if not tokens:
        raise UsageError(f"empty copy window: use {WINDOW_SYNTAX}")
    for token in tokens:
        hours = _HOURS_RE.match(token)
        if hours:
            start, end = int(hours.group(1)), int(hours.group(2))
            if start > 23 or end > 24 or start == end or (end == 0 and start == 0):
                raise UsageError(f"bad hours {token!r} in copy window {spec!r}: use {WINDOW_SYNTAX}")
            for day in days or ALL_DAYS:
                _allow(grid, day, start, end)
            days_closed = applied = True
            continue
        try:
            names = parse_weekdays(token)
        except UsageError:
            raise UsageError(f"bad copy window {spec!r} (at {token!r}): use {WINDOW_SYNTAX}") from None
        if days_closed:
            days, days_closed = set(), False
        days |= names
    if not days_closed or not applied:
        raise UsageError(f"copy window {spec!r} names weekdays without hours: use {WINDOW_SYNTAX}")
    return CopyWindow.from_grid(grid)


def _allow(grid: list[list[bool]], day: int, start: int, end: int) -> None:
    if end == 0:
        end = 24                      # "20-00" means until midnight
    if end > start:
        for hour in range(start, end):
            grid[day][hour] = True
    else:                             # crosses midnight: the tail belongs to the next day
        for hour in range(start, 24):
            grid[day][hour] = True
        for hour in range(0, end):
            grid[(day + 1) % 7][hour] = True


# --- health check --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HealthCheckSchedule:
    """When a copy job verifies its target backups. `kind` is "monthly" | "weekly" | "daily" | "never"."""

    kind: str
    at: time | None = None
    weekday: int | None = None                 # monthly/weekly (Monday=0)
    week: str | None = None                    # monthly: first|second|third|fourth|last

    def _matches(self, day: date) -> bool:
        if self.kind == "daily":
            return True
        if day.weekday() != self.weekday:
            return False
        if self.kind == "weekly":
            return True
        if self.week == "last":
            return day.day > calendar.monthrange(day.year, day.month)[1] - 7
        return (day.day - 1) // 7 == MONTH_WEEKS.index(self.week or "first")

    def next_run(self, after: datetime) -> datetime | None:
        """The next check strictly after `after`, in `after`'s time zone; None for `never`."""
        _require_aware(after)
        if self.kind == "never":
            return None
        assert self.at is not None
        return _next_matching(after, self.at, self._matches, 70)

    def to_spec(self) -> str:
        if self.kind == "never":
            return "never"
        assert self.at is not None
        at = _format_time(self.at)
        if self.kind == "daily":
            return f"daily {at}"
        day = WEEKDAY_NAMES[self.weekday or 0]
        if self.kind == "weekly":
            return f"weekly {day} {at}"
        return f"monthly {self.week} {day} {at}"

    def __str__(self) -> str:
        return self.to_spec()


def parse_health_check(spec: str) -> HealthCheckSchedule:
    """Parse a health-check schedule (see HEALTH_CHECK_SYNTAX); the default is DEFAULT_HEALTH_CHECK."""
    words = spec.lower().split()
    error = UsageError(f"bad health check schedule {spec!r}: accepted: {HEALTH_CHECK_SYNTAX}")
    if words == ["never"]:
        return HealthCheckSchedule("never")
    if len(words) == 2 and words[0] == "daily":
        return HealthCheckSchedule("daily", at=_parse_time(words[1], HEALTH_CHECK_SYNTAX, "the health check"))
    if len(words) == 3 and words[0] == "weekly":
        weekday = _weekday(words[1])
        if weekday is None:
            raise error
        return HealthCheckSchedule("weekly", at=_parse_time(words[2], HEALTH_CHECK_SYNTAX, "the health check"),
                                   weekday=weekday)
    if len(words) == 4 and words[0] == "monthly" and words[1] in MONTH_WEEKS:
        weekday = _weekday(words[2])
        if weekday is None:
            raise error
        return HealthCheckSchedule("monthly", at=_parse_time(words[3], HEALTH_CHECK_SYNTAX, "the health check"),
                                   weekday=weekday, week=words[1])
    raise error
