"""Backups grouped with their protected objects, and the restore point timeline of one backup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console.core.model import JobKind, PointType
from console.gui.formatting import POINT_STATE_ICONS, POINT_STATE_LABELS, human_size, local_time
from console.gui.models.table import Column
from console.gui.models.tree import Group, TwoLevelModel
from console.gui.resources import resource_icon
from console.gui.snapshot import BackupRow, PointRow


@dataclass
class ObjectRow:
    """One protected object (source folder) inside a backup."""

    backup: BackupRow
    name: str
    points: int
    missing: int
    stored: int
    newest: datetime | None


@dataclass
class DateGroup:
    key: int
    label: str
    count: int


def backup_note(b: BackupRow) -> str:
    notes = []
    if b.orphaned:
        notes.append("orphaned (job deleted)")
    if b.missing:
        notes.append(f"{b.missing} missing")
    if b.corrupted:
        notes.append(f"{b.corrupted} corrupted")
    return "; ".join(notes)


def _backup_icon(b: BackupRow):
    if b.missing or b.corrupted:
        return resource_icon("point-corrupted" if b.corrupted else "point-missing")
    return resource_icon("copy-job" if b.backup.kind == JobKind.COPY else "job")


def backups_model() -> TwoLevelModel:
    ts = lambda t: t.timestamp() if t else 0.0  # noqa: E731 - a tiny sort key
    columns = [
        Column("Job", lambda b: b.backup.job, icon=_backup_icon,
               tooltip=lambda b: f"backup {b.id} of job {b.backup.job}", width=200),
        Column("Type", lambda b: "Backup copy" if b.backup.kind == JobKind.COPY else "Backup", width=85),
        Column("Repository", lambda b: b.backup.repository, width=110),
        Column("Restore points", lambda b: str(b.points), sort=lambda b: b.points, right=True, width=95),
        Column("Newest", lambda b: local_time(b.newest), sort=lambda b: ts(b.newest), width=120),
        Column("Stored", lambda b: human_size(b.stored), sort=lambda b: b.stored, right=True, width=80),
        Column("Copied from", lambda b: b.source_label or "—",
               header_tip="For backups made by a backup copy job: the backup they copy", width=170),
        Column("Notes", backup_note, width=180),
    ]
    child_columns = [
        Column("Job", lambda o: o.name, icon=lambda o: resource_icon("folder")),
        Column("Type", lambda o: "Object"),
        Column("Repository", lambda o: o.backup.backup.repository),
        Column("Restore points", lambda o: str(o.points), sort=lambda o: o.points, right=True),
        Column("Newest", lambda o: local_time(o.newest), sort=lambda o: ts(o.newest)),
        Column("Stored", lambda o: human_size(o.stored), sort=lambda o: o.stored, right=True),
        Column("Copied from", lambda o: ""),
        Column("Notes", lambda o: f"{o.missing} missing" if o.missing else ""),
    ]
    return TwoLevelModel(columns, child_columns, key=_backups_key, bold_groups=False,
                         dimmed=lambda r: isinstance(r, BackupRow) and r.orphaned)


def _backups_key(record: BackupRow | ObjectRow) -> tuple[str, str]:
    if isinstance(record, ObjectRow):
        return record.backup.id, record.name
    return record.id, ""


def backup_groups(backups: list[BackupRow], points: dict[str, list[PointRow]]) -> list[Group]:
    groups = []
    for b in backups:
        per_object: dict[str, ObjectRow] = {}
        for row in points.get(b.id, []):
            p = row.point
            o = per_object.setdefault(p.object, ObjectRow(b, p.object, 0, 0, 0, None))
            o.points += 1
            o.missing += p.state.value == "missing"
            o.stored += p.stored_size
            o.newest = p.created if o.newest is None or p.created > o.newest else o.newest
        groups.append(Group(b, [per_object[k] for k in sorted(per_object)]))
    return groups


# -- the timeline ----------------------------------------------------------------------------------------------

def gfs_text(row: PointRow) -> str:
    return " ".join(row.point.gfs)


def points_model(copies: bool = True) -> TwoLevelModel:
    """Date groups (Today, Yesterday, This week, months) → restore points, newest first."""
    group_columns = [
        Column("Restore point", lambda g: f"{g.label} ({g.count})"),
        *[Column(title, lambda g: "") for title in ("Object", "Type", "State", "GFS", "Size", "Stored", "Files",
                                                     "Copied from point")],
    ]
    point_columns = [
        Column("Restore point", lambda r: local_time(r.point.created),
               icon=lambda r: resource_icon(POINT_STATE_ICONS[r.point.state.value]),
               tooltip=lambda r: f"restore point {r.point.id}, {local_time(r.point.created, seconds=True)}",
               width=190),
        Column("Object", lambda r: r.point.object, width=190),
        Column("Type", lambda r: "Full" if r.point.type == PointType.FULL else "Increment",
               header_tip="Full: all data was read; increment: only changed files were read "
                          "(every restore point restores on its own)", width=75),
        Column("State", lambda r: POINT_STATE_LABELS[r.point.state.value],
               tooltip=lambda r: {"ok": "usable", "missing": "the repository no longer has it",
                                  "corrupted": "a health check found damaged data"}[r.point.state.value],
               width=80),
        Column("GFS", gfs_text, header_tip="Kept for archival: W weekly, M monthly, Y yearly", width=70),
        Column("Size", lambda r: human_size(r.point.data_size), right=True,
               header_tip="Size of the protected data at that time", width=80),
        Column("Stored", lambda r: human_size(r.point.stored_size), right=True,
               header_tip="Bytes this restore point added to the repository", width=80),
        Column("Files", lambda r: f"{r.point.files:,}", right=True, width=70),
        Column("Copied from point", lambda r: r.source_label or "—",
               header_tip="For copies: the restore point it was copied from", width=150),
    ]
    if not copies:
        group_columns, point_columns = group_columns[:-1], point_columns[:-1]
    return TwoLevelModel(group_columns, point_columns, key=_points_key, bold_groups=True)


def _points_key(record: DateGroup | PointRow) -> str:
    return f"group:{record.key}" if isinstance(record, DateGroup) else record.point.id


def timeline_groups(rows: list[PointRow], object_name: str | None = None) -> list[Group]:
    """Group newest-first point rows by their date bucket; only `object_name`'s points when given."""
    groups: list[Group] = []
    for row in rows:
        if object_name is not None and row.point.object != object_name:
            continue
        if not groups or groups[-1].record.key != row.group_key:
            groups.append(Group(DateGroup(row.group_key, row.group, 0)))
        groups[-1].children.append(row)
        groups[-1].record.count += 1
    return groups
