"""The jobs table: backup jobs and backup copy jobs with their target, sources, links, schedule and last result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.core.engine.retention import RetentionPolicy
from console.core.errors import ConsoleError
from console.core.model import JobKind
from console.gui.formatting import STATUS_ICONS, STATUS_LABELS, local_time
from console.gui.models.table import Column, RecordTableModel
from console.gui.resources import resource_icon
from console.gui.snapshot import JobRow


def kind_label(row: JobRow) -> str:
    return "Backup" if row.job.kind == JobKind.BACKUP else "Backup copy"


def sources_text(row: JobRow) -> str:
    job = row.job
    if job.kind == JobKind.BACKUP:
        return ", ".join(job.sources) or "—"
    parts = [f"job {n}" for n in row.linked] + [f"repository {n}" for n in row.source_repositories]
    return ", ".join(parts) or "— (no sources yet)"


def interval_text(seconds: float) -> str:
    """'day', '2 days', '4 hours', '90 minutes': how often a periodic copy runs, as an admin says it."""
    minutes = max(1, int(seconds // 60))
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes % size == 0:
            count = minutes // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{minutes} minutes"


def schedule_text(row: JobRow) -> str:
    job = row.job
    if job.kind == JobKind.BACKUP:
        spec = (job.schedule or {}).get("spec")
        return spec if spec else "Manual (not scheduled)"
    mode = job.options.get("mode", "immediate")
    if mode == "periodic":
        interval = job.options.get("interval")
        text = f"Periodic, every {interval_text(float(interval))}" if interval else "Periodic"
    else:
        text = "Immediate"
    window = job.options.get("window")
    return f"{text}; window {window}" if window else text


def retention_text(row: JobRow) -> str:
    try:
        return RetentionPolicy.from_dict(row.job.retention).describe()
    except (ConsoleError, TypeError, ValueError):
        return str(row.job.retention)


def linked_text(row: JobRow) -> str:
    if row.job.kind == JobKind.BACKUP:
        return ", ".join(row.linked) or "—"
    return ""


def last_result(row: JobRow) -> str:
    s = row.last_session
    if s is None:
        return STATUS_LABELS.get(row.job.last_result or "", "Never run")
    label = STATUS_LABELS.get(s.status.value, s.status.value)
    return f"{label}, {local_time(s.ended or s.started)}"


def last_result_icon(row: JobRow) -> Any:
    status = row.last_session.status.value if row.last_session else row.job.last_result
    return resource_icon(STATUS_ICONS[status]) if status in STATUS_ICONS else None


def jobs_model(state: Callable[[JobRow], str]) -> RecordTableModel:
    """`state(row)` says what the job does now ("Running 42%", "Idle", "Disabled") — the runner knows."""
    columns = [
        Column("Name", lambda r: r.name, icon=lambda r: resource_icon("job" if r.job.kind == JobKind.BACKUP
                                                                        else "copy-job"),
               tooltip=lambda r: r.job.description or r.name, width=160),
        Column("Type", kind_label, width=90),
        Column("State", state, width=110),
        Column("Repository", lambda r: r.job.repository, header_tip="Where the job writes its restore points",
               width=110),
        Column("Sources", sources_text, header_tip="Folders (backup jobs) or jobs/repositories (copy jobs)",
               width=200),
        Column("Linked copy jobs", linked_text, header_tip="Backup copy jobs that copy this job's restore points",
               width=120),
        Column("Schedule", schedule_text, width=150),
        Column("Retention", retention_text, width=140),
        Column("Last result", last_result, icon=last_result_icon,
               sort=lambda r: (r.last_session.started.timestamp() if r.last_session else 0.0), width=170),
        Column("Next run", lambda r: local_time(r.job.next_run) if r.job.next_run else "—",
               sort=lambda r: r.job.next_run.timestamp() if r.job.next_run else 0.0, width=120),
    ]
    return RecordTableModel(columns, key=lambda r: r.name, dimmed=lambda r: not r.job.enabled)
