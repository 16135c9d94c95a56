"""The session history table."""

from __future__ import annotations

from console.core.model import Session
from console.gui.formatting import (
    KIND_LABELS,
    STATUS_ICONS,
    STATUS_LABELS,
    human_duration,
    human_rate,
    human_size,
    local_time,
)
from console.gui.models.table import Column, RecordTableModel
from console.gui.resources import resource_icon


def _duration(s: Session) -> float | None:
    if s.stats.get("duration") is not None and s.ended is not None:
        return float(s.stats["duration"])
    if s.ended is not None:
        return (s.ended - s.started).total_seconds()
    return None


def details(s: Session) -> str:
    """The error, else what happened to the objects ("2 objects succeeded", "1 failed: /srv/x")."""
    if s.error:
        return s.error
    if not s.objects:
        return ""
    counts: dict[str, list[str]] = {}
    for o in s.objects:
        counts.setdefault(o.status, []).append(o.name)
    words = {"success": "succeeded", "warning": "with warnings", "failed": "failed", "stopped": "stopped",
             "running": "running"}
    parts = []
    for status, names in counts.items():
        text = f"{len(names)} object{'s' if len(names) != 1 else ''} {words.get(status, status)}"
        if status in ("failed", "warning") and len(names) <= 2:
            text += f": {', '.join(names)}"
        parts.append(text)
    return "; ".join(parts)


def sessions_model() -> RecordTableModel:
    columns = [
        Column("Job", lambda s: s.job, width=150),
        Column("Type", lambda s: KIND_LABELS.get(s.kind, s.kind), width=110),
        Column("Status", lambda s: STATUS_LABELS.get(s.status.value, s.status.value),
               icon=lambda s: resource_icon(STATUS_ICONS.get(s.status.value, "status-running")), width=90),
        Column("Started", lambda s: local_time(s.started, seconds=True), sort=lambda s: s.started.timestamp(),
               width=150),
        Column("Duration", lambda s: human_duration(_duration(s)), sort=lambda s: _duration(s) or 0.0, right=True,
               width=90),
        Column("Processed", lambda s: human_size(s.stats.get("processed")) if "processed" in s.stats else "—",
               sort=lambda s: int(s.stats.get("processed") or 0), right=True, width=85),
        Column("Transferred", lambda s: human_size(s.stats.get("transferred")) if "transferred" in s.stats else "—",
               sort=lambda s: int(s.stats.get("transferred") or 0), right=True, width=85),
        Column("Rate", lambda s: human_rate(s.stats.get("rate")), sort=lambda s: float(s.stats.get("rate") or 0),
               right=True, width=85),
        Column("Details", details, tooltip=lambda s: s.error or "\n".join(f"{o.name}: {o.status} {o.detail}"
                                                                          for o in s.objects), width=260),
    ]
    return RecordTableModel(columns, key=lambda s: s.id)
