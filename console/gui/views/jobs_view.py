"""Home > Jobs (and its Backup / Backup Copy children): every job with what it does, when, and how it went."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from console.core.model import JobKind
from console.gui.models.jobs import jobs_model, retention_text, schedule_text, sources_text
from console.gui.snapshot import JobRow
from console.gui.views.record_page import RecordPage
from console.gui.views.widgets import EmptyState

TITLES = {
    None: ("Jobs", "Backup jobs turn folders into restore points; backup copy jobs copy those restore points to "
                   "a second repository. Right-click a job for everything you can do with it."),
    JobKind.BACKUP: ("Backup jobs", "Each backup job reads its source folders and writes restore points into "
                                    "one repository."),
    JobKind.COPY: ("Backup copy jobs", "Each backup copy job copies restore points of backup jobs (or whole "
                                       "repositories) into another repository, with its own retention."),
}


def describe_job(row: JobRow) -> str:
    job = row.job
    lines = [f"<b>{escape(job.name)}</b>" + (f" — {escape(job.description)}" if job.description else "")
             + ("" if job.enabled else " <i>(disabled: the scheduler skips it)</i>")]
    if job.kind == JobKind.BACKUP:
        lines.append(f"Backs up {escape(sources_text(row))} into repository <b>{escape(job.repository)}</b>.")
        if row.linked:
            lines.append(f"Secondary destinations (copy jobs): {escape(', '.join(row.linked))}.")
    else:
        lines.append(f"Copies from {escape(sources_text(row))} into repository <b>{escape(job.repository)}</b>.")
    lines.append(f"Schedule: {escape(schedule_text(row))}. Retention: {escape(retention_text(row))}.")
    s = row.last_session
    if s is not None and s.error:
        lines.append(f"<span style='color:#C62828'>Last run: {escape(s.error)}</span>")
    return "<br>".join(lines)


class JobsPage(RecordPage):
    def __init__(self, state: Callable[[JobRow], str], new_backup_job: Callable[[], None],
                 new_copy_job: Callable[[], None]) -> None:
        empty = EmptyState("No jobs yet. A backup job protects folders; a backup copy job keeps a second copy of "
                           "its restore points elsewhere.",
                           [("New Backup Job…", "job", new_backup_job),
                            ("New Backup Copy Job…", "copy-job", new_copy_job)], icon="job")
        super().__init__("Jobs", TITLES[None][1], jobs_model(state), "Filter jobs (name, repository, source…)", empty)
        self.kind: JobKind | None = None
        self.describe = describe_job
        self.set_noun("job", "jobs")

    def set_kind(self, kind: JobKind | None) -> None:
        self.kind = kind
        title, explanation = TITLES[kind]
        self.title.setText(title)
        self.explanation.setText(explanation)
        self.set_predicate(None if kind is None else (lambda r: r.job.kind == kind))
        if kind == JobKind.COPY:
            self.empty.set_message("No backup copy jobs yet. A backup copy job keeps a second copy of restore "
                                   "points in another repository (ideally off-site).")
        elif kind == JobKind.BACKUP:
            self.empty.set_message("No backup jobs yet. Create one to protect folders.")
        else:
            self.empty.set_message("No jobs yet. A backup job protects folders; a backup copy job keeps a second "
                                   "copy of its restore points elsewhere.")
        self.table.setColumnHidden(5, kind == JobKind.COPY)     # "Linked copy jobs" means nothing for copy jobs
