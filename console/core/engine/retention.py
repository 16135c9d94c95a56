"""Retention: which restore points of one object chain are kept, and why (DESIGN.md §6, Veeam-compatible).

Pure functions: no I/O, no catalog. The caller passes the chain's points with the GFS flags it persisted
earlier, deletes the points whose `Decision.keep` is False and stores `Decision.gfs` back on the kept ones.
Persisting every assigned flag (also expired ones) is what keeps GFS periods sticky across runs.

Dates are calendar dates in one time zone: a "day", "week", "month" or "year" is always a local one.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from console.core.errors import UsageError
from console.core.model import MIN_KEPT_POINTS, MIN_RETENTION

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june",
          "july", "august", "september", "october", "november", "december")
WEEKS = ("first", "second", "third", "fourth", "last")
FLAGS = ("W", "M", "Y")
REASONS = ("short-term", "minimum", "W", "M", "Y")   # the order reasons are listed in
DEFAULT_POINTS = 7                                    # when neither days nor points is given

_WEEK_FIRST_DAY = {"first": 1, "second": 8, "third": 15, "fourth": 22}   # "last" depends on the month
_WEEKDAY_HINT = "use monday … sunday"
_MONTH_HINT = "use january … december"
_WEEK_HINT = "use first, second, third, fourth or last"


# ---------------------------------------------------------------------------------------------- validation


def _whole(value: Any, what: str) -> int:
    # bool is an int subclass; `true` in a policy file is a mistake, not 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} must be a whole number (got {value!r})")
    return value


def _check_keep(value: Any, label: str, unit: str) -> int:
    keep = _whole(value, f"{label} keep")
    if keep < 1:
        raise UsageError(f"{label} must keep at least 1 {unit} (got {keep})")
    return keep


def _name_index(value: Any, names: tuple[str, ...], what: str, hint: str) -> int:
    """Index of an English name, any case; a prefix of 3+ letters (mon, jan, sept) is accepted too."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) >= 3:
        for i, name in enumerate(names):
            if name.startswith(text):
                return i
    raise UsageError(f"unknown {what} {value!r}: {hint}")


def parse_weekday(value: Any) -> int:
    """'sunday', 'Sun', 'SUN' -> 6 (0 = Monday)."""
    return _name_index(value, WEEKDAYS, "weekday", _WEEKDAY_HINT)


def parse_month(value: Any) -> int:
    """'january', 'Jan' -> 1."""
    return _name_index(value, MONTHS, "month", _MONTH_HINT) + 1


def parse_week(value: Any) -> str:
    """'Last' -> 'last'."""
    return WEEKS[_name_index(value, WEEKS, "week", _WEEK_HINT)]


# ---------------------------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class GfsWeekly:
    keep: int   # weeks
    day: int    # 0 = Monday .. 6 = Sunday

    def __post_init__(self) -> None:
        _check_keep(self.keep, "GFS weekly", "week")
        if isinstance(self.day, bool) or not isinstance(self.day, int) or not 0 <= self.day <= 6:
            raise UsageError(f"GFS weekly day must be 0 (Monday) … 6 (Sunday) (got {self.day!r})")


@dataclass(frozen=True)
class GfsMonthly:
    keep: int   # months
    week: str   # first|second|third|fourth|last

    def __post_init__(self) -> None:
        _check_keep(self.keep, "GFS monthly", "month")
        if self.week not in WEEKS:
            raise UsageError(f"unknown week {self.week!r}: {_WEEK_HINT}")


@dataclass(frozen=True)
class GfsYearly:
    keep: int   # years
    month: int  # 1..12

    def __post_init__(self) -> None:
        _check_keep(self.keep, "GFS yearly", "year")
        if isinstance(self.month, bool) or not isinstance(self.month, int) or not 1 <= self.month <= 12:
            raise UsageError(f"GFS yearly month must be 1 (January) … 12 (December) (got {self.month!r})")


def _check_short_term(days: Any, points: Any, both_msg: str) -> None:
    if days is not None and points is not None:
        raise UsageError(both_msg)
    if days is not None and _whole(days, "retention days") < MIN_RETENTION:
        raise UsageError(f"retention must keep at least {MIN_RETENTION} days (got {days})")
    if points is not None and _whole(points, "retention restore points") < MIN_RETENTION:
        raise UsageError(f"retention must keep at least {MIN_RETENTION} restore points (got {points})")


@dataclass(frozen=True)
class RetentionPolicy:
    days: int | None = None      # exactly one of days / points; neither means DEFAULT_POINTS points
    points: int | None = None
    min_points: int = MIN_KEPT_POINTS
    weekly: GfsWeekly | None = None
    monthly: GfsMonthly | None = None
    yearly: GfsYearly | None = None

    def __post_init__(self) -> None:
        _check_short_term(self.days, self.points, "retention is either by days or by restore points, not both")
        if self.days is None and self.points is None:
            object.__setattr__(self, "points", DEFAULT_POINTS)   # frozen: the only way to fill the default
        if _whole(self.min_points, "min_points") < 1:
            raise UsageError(f"min_points must be at least 1 (got {self.min_points})")
        for value, cls in ((self.weekly, GfsWeekly), (self.monthly, GfsMonthly), (self.yearly, GfsYearly)):
            if value is not None and not isinstance(value, cls):
                raise UsageError(f"expected {cls.__name__}, got {value!r}")

    @property
    def has_gfs(self) -> bool:
        return self.weekly is not None or self.monthly is not None or self.yearly is not None

    def keep_for(self, flag: str) -> int | None:
        """Keep count of the GFS tier behind `flag`, or None when that tier is off."""
        tier = {"W": self.weekly, "M": self.monthly, "Y": self.yearly}.get(flag)
        return tier.keep if tier is not None else None

    @classmethod
    def from_dict(cls, d: dict) -> RetentionPolicy:
        """The policy-file shape of CLI.md; unknown keys are refused so a typo does not silently drop a rule."""
        if not isinstance(d, dict):
            raise UsageError('a retention policy must be a JSON object, e.g. {"points": 7}')
        _no_unknown_keys(d, ("days", "points", "min_points", "gfs"), "retention policy")
        gfs = d.get("gfs") or {}
        if not isinstance(gfs, dict):
            raise UsageError('retention policy "gfs" must be an object with "weekly", "monthly" and/or "yearly"')
        _no_unknown_keys(gfs, ("weekly", "monthly", "yearly"), 'retention policy "gfs"')
        weekly = monthly = yearly = None
        if (w := _tier(gfs, "weekly", "day")) is not None:
            weekly = GfsWeekly(_check_keep(w.get("keep"), "GFS weekly", "week"), parse_weekday(w.get("day")))
        if (m := _tier(gfs, "monthly", "week")) is not None:
            monthly = GfsMonthly(_check_keep(m.get("keep"), "GFS monthly", "month"), parse_week(m.get("week")))
        if (y := _tier(gfs, "yearly", "month")) is not None:
            yearly = GfsYearly(_check_keep(y.get("keep"), "GFS yearly", "year"), parse_month(y.get("month")))
        _check_short_term(d.get("days"), d.get("points"), 'a retention policy has "days" or "points", not both')
        return cls(days=d.get("days"), points=d.get("points"), min_points=d.get("min_points", MIN_KEPT_POINTS),
                   weekly=weekly, monthly=monthly, yearly=yearly)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"days": self.days} if self.days is not None else {"points": self.points}
        out["min_points"] = self.min_points
        gfs: dict[str, Any] = {}
        if self.weekly:
            gfs["weekly"] = {"keep": self.weekly.keep, "day": WEEKDAYS[self.weekly.day]}
        if self.monthly:
            gfs["monthly"] = {"keep": self.monthly.keep, "week": self.monthly.week}
        if self.yearly:
            gfs["yearly"] = {"keep": self.yearly.keep, "month": MONTHS[self.yearly.month - 1]}
        if gfs:
            out["gfs"] = gfs
        return out

    def describe(self) -> str:
        text = f"{self.days} days" if self.days is not None else f"{self.points} restore points"
        if self.min_points != MIN_KEPT_POINTS:
            text += f" (at least {self.min_points} kept)"
        tiers = []
        if self.weekly:
            tiers.append(f"{self.weekly.keep} weekly ({WEEKDAYS[self.weekly.day].capitalize()})")
        if self.monthly:
            tiers.append(f"{self.monthly.keep} monthly ({self.monthly.week} week)")
        if self.yearly:
            tiers.append(f"{self.yearly.keep} yearly ({MONTHS[self.yearly.month - 1].capitalize()})")
        return text + ("; GFS: " + ", ".join(tiers) if tiers else "")


def _no_unknown_keys(d: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in d:
        if key not in allowed:
            raise UsageError(f"unknown key {key!r} in {where}: use {', '.join(allowed)}")


def _tier(gfs: dict, name: str, what: str) -> dict | None:
    tier = gfs.get(name)
    if tier is None:
        return None
    if not isinstance(tier, dict):
        raise UsageError(f'retention policy "gfs.{name}" must be an object like {{"keep": N, "{what}": ...}}')
    _no_unknown_keys(tier, ("keep", what), f'retention policy "gfs.{name}"')
    if "keep" not in tier or what not in tier:
        raise UsageError(f'retention policy "gfs.{name}" needs "keep" and "{what}"')
    return tier


_GFS_ARG = re.compile(r"\s*(\d+)\s*:\s*([A-Za-z]+)\s*")


def _split_gfs_arg(value: str, option: str, syntax: str, example: str) -> tuple[int, str]:
    match = _GFS_ARG.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise UsageError(f"{option} needs {syntax}, e.g. {example}")
    return int(match.group(1)), match.group(2)


def parse_retention_args(days: int | None, points: int | None, weekly: str | None, monthly: str | None,
                         yearly: str | None) -> RetentionPolicy:
    """The RETENTION options of CLI.md. Neither days nor points means the default of 7 restore points."""
    _check_short_term(days, points, "use either --retention-days or --retention-points, not both")
    w = m = y = None
    if weekly is not None:
        n, name = _split_gfs_arg(weekly, "--gfs-weekly", "N:WEEKDAY", "4:sunday")
        w = GfsWeekly(_check_keep(n, "--gfs-weekly", "week"), parse_weekday(name))
    if monthly is not None:
        n, name = _split_gfs_arg(monthly, "--gfs-monthly", "N:first|second|third|fourth|last", "12:last")
        m = GfsMonthly(_check_keep(n, "--gfs-monthly", "month"), parse_week(name))
    if yearly is not None:
        n, name = _split_gfs_arg(yearly, "--gfs-yearly", "N:MONTH", "5:january")
        y = GfsYearly(_check_keep(n, "--gfs-yearly", "year"), parse_month(name))
    return RetentionPolicy(days=days, points=points, weekly=w, monthly=m, yearly=y)


# ---------------------------------------------------------------------------------------------- calendar


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(d: date, months: int) -> date:
    """Same day `months` later, clamped to the target month's last day (Jan 31 + 1 -> Feb 28/29)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return d.replace(year=year, month=month + 1, day=min(d.day, calendar.monthrange(year, month + 1)[1]))


def add_years(d: date, years: int) -> date:
    """Same day `years` later; Feb 29 becomes Feb 28 in a common year."""
    return add_months(d, 12 * years)


def expiry(flag: str, flag_date: date, keep: int) -> date:
    """First date on which a GFS flag set on `flag_date` no longer keeps its point (valid while today < expiry)."""
    if flag == "W":
        return flag_date + timedelta(days=7 * keep)
    if flag == "M":
        return add_months(flag_date, keep) + timedelta(days=1)
    if flag == "Y":
        return add_years(flag_date, keep) + timedelta(days=1)
    raise UsageError(f"unknown GFS flag {flag!r}: use W, M or Y")


def week_start(d: date, weekday: int) -> date:
    """Start of the weekly GFS period (starting on `weekday`) that contains `d`."""
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def selected_week_start(year: int, month: int, week: str) -> date:
    """First day of the selected week of a month: days 1–7, 8–14, 15–21, 22–28, or the last 7 days."""
    if week == "last":
        return _month_end(year, month) - timedelta(days=6)
    return date(year, month, _WEEK_FIRST_DAY[week])


def _months(first: tuple[int, int], last: tuple[int, int]) -> Iterator[tuple[int, int]]:
    year, month = first
    while (year, month) <= last:
        yield year, month
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


# ---------------------------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class PointRef:
    id: str
    created: datetime                      # timezone-aware (a naive value is taken as wall time in tz)
    gfs: frozenset[str] = frozenset()      # flags assigned by earlier runs (persisted): "W", "M", "Y"


@dataclass
class Decision:
    id: str
    created: datetime
    keep: bool
    reasons: list[str]                     # subset of REASONS, in that order
    gfs_expires: dict[str, date]           # flag -> expiry, for every flag still valid
    gfs: frozenset[str] = field(default_factory=frozenset)   # every flag held (incl. expired): persist this


def _localize(dt: datetime, tz: tzinfo | None) -> datetime:
    if tz is None:
        return dt.astimezone()              # system local zone, DST-correct for that instant; naive = local
    if dt.tzinfo is None:
        return dt.replace(tzinfo=tz)
    return dt.astimezone(tz)


@dataclass
class _Chain:
    """The chain sorted oldest first, with local timestamps and dates, and the flags held so far."""

    refs: list[PointRef]
    at: list[datetime]
    day: list[date]
    held: list[set[str]]
    now: datetime

    @classmethod
    def build(cls, points: Iterable[PointRef], now: datetime, tz: tzinfo | None) -> _Chain:
        rows = sorted(((_localize(p.created, tz), p) for p in points), key=lambda row: (row[0], row[1].id))
        return cls(refs=[p for _, p in rows], at=[at for at, _ in rows], day=[at.date() for at, _ in rows],
                   held=[{f for f in p.gfs if f in FLAGS} for _, p in rows], now=_localize(now, tz))

    @property
    def today(self) -> date:
        return self.now.date()

    def eligible(self) -> list[int]:
        # points from "the future" (clock skew) are kept short-term but get no flag until their time has come
        return [i for i in range(len(self.refs)) if self.at[i] <= self.now]

    def holders(self, flag: str, period_of: Any) -> dict[Any, int]:
        """Period -> oldest point already holding `flag` for it (sticky flags from earlier runs)."""
        out: dict[Any, int] = {}
        for i, flags in enumerate(self.held):
            if flag in flags:
                out.setdefault(period_of(self.day[i]), i)
        return out


def _assign_flags(policy: RetentionPolicy, chain: _Chain) -> None:
    """Add the GFS flags of every period that has none yet to `chain.held` (W first: M rides on W, Y on M)."""
    eligible = chain.eligible()
    if not eligible:
        return
    today = chain.today
    first_day = min(chain.day[i] for i in eligible)
    wk, mo, yr = policy.weekly, policy.monthly, policy.yearly

    # Weekly: the first point of each period [weekday, weekday + 7) — back-fills a missed weekday.
    week_holder: dict[date, int] = {}
    if wk is not None:
        week_holder = chain.holders("W", lambda d: week_start(d, wk.day))
        for i in eligible:
            key = week_start(chain.day[i], wk.day)
            if key not in week_holder:
                week_holder[key] = i
                chain.held[i].add("W")

    # Monthly
    month_holder: dict[tuple[int, int], int] = {}

    def weekly_day_of(year: int, month: int) -> date:   # the weekly period start inside the selected week
        assert wk is not None and mo is not None
        ws = selected_week_start(year, month, mo.week)
        return ws + timedelta(days=(wk.day - ws.weekday()) % 7)

    def month_of(d: date) -> tuple[int, int]:   # which month's M a flagged point dated d carries
        assert mo is not None
        if wk is not None:
            s = week_start(d, wk.day)   # a weekly point can carry last month's M (back-filled into this month)
            if s == weekly_day_of(s.year, s.month):
                return s.year, s.month
        return d.year, d.month

    def month_settled(year: int, month: int) -> bool:   # no point can become this month's M point any more
        assert mo is not None
        end = _month_end(year, month)
        if wk is not None:
            end = max(end, weekly_day_of(year, month) + timedelta(days=6))
        return (year, month) in month_holder or today > end

    if mo is not None:
        month_holder = chain.holders("M", month_of)
        month_first: dict[tuple[int, int], int] = {}
        for i in eligible:
            d = chain.day[i]
            if d >= selected_week_start(d.year, d.month, mo.week):
                month_first.setdefault((d.year, d.month), i)
        for key in _months(_previous_month(first_day.year, first_day.month), (today.year, today.month)):
            if key in month_holder:
                continue
            if wk is not None:
                s = weekly_day_of(*key)
                if s in week_holder:
                    month_holder[key] = week_holder[s]
                    chain.held[week_holder[s]].add("M")
                    continue
                if today < s + timedelta(days=7):
                    continue   # that week's point may still come: do not hand M to an earlier point for good
            if (i := month_first.get(key)) is not None:
                month_holder[key] = i
                chain.held[i].add("M")

    # Yearly
    if yr is not None:

        def year_of(d: date) -> int:
            if mo is not None:
                year, month = month_of(d)
                if month == yr.month:
                    return year
            return d.year

        year_holder = chain.holders("Y", year_of)
        year_first: dict[int, int] = {}
        for i in eligible:
            if chain.day[i].month >= yr.month:
                year_first.setdefault(chain.day[i].year, i)
        for year in range(first_day.year - 1, today.year + 1):
            if year in year_holder or date(year, yr.month, 1) > today:
                continue
            if mo is not None:
                if (i := month_holder.get((year, yr.month))) is not None:
                    year_holder[year] = i
                    chain.held[i].add("Y")
                    continue
                if not month_settled(year, yr.month):
                    continue   # the monthly point may still come
            if (i := year_first.get(year)) is not None:
                year_holder[year] = i
                chain.held[i].add("Y")


def assign_flags(policy: RetentionPolicy, points: Iterable[PointRef], now: datetime,
                 tz: tzinfo | None = None) -> dict[str, frozenset[str]]:
    """Point id -> every GFS flag it holds after this run (persisted ones plus new ones, expired or not)."""
    chain = _Chain.build(points, now, tz)
    _assign_flags(policy, chain)
    return {ref.id: frozenset(flags) for ref, flags in zip(chain.refs, chain.held, strict=True)}


def evaluate(policy: RetentionPolicy, points: Iterable[PointRef], now: datetime,
             tz: tzinfo | None = None) -> list[Decision]:
    """One Decision per point, oldest first. tz None means the console's local time zone."""
    chain = _Chain.build(points, now, tz)
    _assign_flags(policy, chain)
    today, count = chain.today, len(chain.refs)
    decisions = []
    for i, ref in enumerate(chain.refs):
        if chain.at[i] > chain.now:
            short_term = True   # clock skew must never delete data
        elif policy.days is not None:
            short_term = chain.day[i] >= today - timedelta(days=policy.days)   # today + N previous days
        else:
            short_term = i >= count - (policy.points or DEFAULT_POINTS)
        reasons = ["short-term"] if short_term else ["minimum"] if i >= count - policy.min_points else []
        expires: dict[str, date] = {}
        for flag in FLAGS:
            keep = policy.keep_for(flag)
            # a flag of a tier that is switched off no longer keeps anything (the preview shows that)
            if flag in chain.held[i] and keep is not None:
                until = expiry(flag, chain.day[i], keep)
                if today < until:
                    expires[flag] = until
                    reasons.append(flag)
        decisions.append(Decision(id=ref.id, created=ref.created, keep=bool(reasons), reasons=reasons,
                                  gfs_expires=expires, gfs=frozenset(chain.held[i])))
    return decisions
