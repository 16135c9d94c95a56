"""How the GUI writes sizes, durations, times and dates (local time, words an admin reads at a glance)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from console.core.units import human_duration, human_rate, human_size  # noqa: F401 - the GUI's names

STATUS_LABELS = {"success": "Success", "warning": "Warning", "failed": "Failed", "stopped": "Stopped",
                 "running": "Running", "queued": "Queued", "stopping": "Stopping"}
STATUS_ICONS = {"success": "status-success", "warning": "status-warning", "failed": "status-failed",
                "stopped": "status-stopped", "running": "status-running", "queued": "status-running",
                "stopping": "status-stopped"}
POINT_STATE_ICONS = {"ok": "point-ok", "missing": "point-missing", "corrupted": "point-corrupted"}
POINT_STATE_LABELS = {"ok": "OK", "missing": "Missing", "corrupted": "Corrupted"}
KIND_LABELS = {"backup": "Backup", "copy": "Backup copy", "restore": "Restore", "check": "Repository check",
               "health-check": "Health check", "gc": "Space reclaim (GC)", "rescan": "Rescan",
               "delete": "Delete backup", "remove-missing": "Remove missing points"}


def human_age(delta: timedelta | None) -> str:
    """'5 minutes ago', '3 hours ago', '2 days ago'."""
    if delta is None:
        return "never"
    s = max(0, int(delta.total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if s >= size:
            n = s // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def local(t: datetime | None) -> datetime | None:
    return t.astimezone() if t is not None else None


def local_time(t: datetime | None, seconds: bool = False) -> str:
    if t is None:
        return "—"
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def now_utc() -> datetime:
    return datetime.now(UTC)


def date_group(t: datetime, today: date) -> tuple[int, str]:
    """The timeline bucket of a point: (sort key — smaller is newer, label): Today, Yesterday, This week (the
    days before yesterday since Monday), then one bucket per month ('May 2024')."""
    return _date_bucket(t.astimezone().date(), today)


@lru_cache(maxsize=4096)
def _date_bucket(d: date, today: date) -> tuple[int, str]:
    """Cached: 10,000 restore points fall on a few hundred days."""
    if d >= today:
        return 0, "Today"
    if d == today - timedelta(days=1):
        return 1, "Yesterday"
    if d >= today - timedelta(days=today.weekday()):
        return 2, "This week"
    return 3 + (today.year - d.year) * 12 + (today.month - d.month), d.strftime("%B %Y")
