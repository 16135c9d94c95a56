"""Tables of the session view: per-object status with progress, and the session log."""

from __future__ import annotations

from typing import Any

from console.core.model import LogLine, SessionObject
from console.gui.formatting import STATUS_ICONS, STATUS_LABELS, human_size, local_time
from console.gui.models.table import Column, RecordTableModel
from console.gui.resources import resource_icon
from console.gui.runner import ObjectState

LEVEL_ICONS = {"info": None, "warning": "status-warning", "error": "status-failed"}
FRACTION_ROLE_COLUMN = 2          # the column drawn as a progress bar


def _fraction(o: ObjectState | SessionObject) -> float:
    if isinstance(o, ObjectState):
        f = o.fraction
        return -1.0 if f is None else f
    return 1.0 if o.status in ("success", "warning") else -1.0


def _processed(o: Any) -> int:
    if isinstance(o, ObjectState):
        return o.progress.bytes_done if o.progress else 0
    return int(o.processed or 0)


def _status_icon(o: Any) -> Any:
    name = STATUS_ICONS.get(o.status)
    return resource_icon(name) if name else None


def objects_model() -> RecordTableModel:
    columns = [
        Column("Object", lambda o: o.name, width=260),
        Column("Status", lambda o: STATUS_LABELS.get(o.status, o.status.capitalize()), icon=_status_icon, width=90),
        Column("Progress", lambda o: "" if _fraction(o) < 0 else f"{_fraction(o):.0%}", sort=_fraction, width=140),
        Column("Processed", lambda o: human_size(_processed(o)) if _processed(o) else "—", sort=_processed,
               right=True, width=90),
        Column("Details", lambda o: o.detail, width=240),
    ]
    return RecordTableModel(columns, key=lambda o: o.name)


def log_model() -> RecordTableModel:
    columns = [
        Column("Time", lambda ln: local_time(ln.time, seconds=True), sort=lambda ln: ln.time.timestamp(), width=140),
        Column("Level", lambda ln: ln.level.capitalize(),
               icon=lambda ln: resource_icon(LEVEL_ICONS[ln.level]) if LEVEL_ICONS.get(ln.level) else None,
               width=80),
        Column("Message", lambda ln: ln.message, width=520),
        Column("Object", lambda ln: ln.object or "", width=160),
    ]
    return RecordTableModel(columns, key=lambda ln: id(ln))


def fraction_of(record: Any) -> float:
    return _fraction(record)


__all__ = ["LogLine", "fraction_of", "log_model", "objects_model"]
