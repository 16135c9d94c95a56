"""The New / Edit / Clone backup job wizard.

Pages: name → sources → storage (repository, retention, GFS) → secondary destinations (backup copy jobs to link)
→ schedule → summary with "Run the job when I click Finish".
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from console.core.errors import UsageError
from console.core.model import Job, JobKind
from console.core.scheduling.specs import Schedule, parse_schedule
from console.gui.wizards import save_backup_job
from console.gui.wizards.widgets import (
    WEEKDAY_SHORT,
    ConsoleWizard,
    FolderList,
    JobSummaryPage,
    Problem,
    RetentionEditor,
    ValidatedPage,
    buddy_label,
    combo_select,
    fill_repositories,
    hint,
    unique_name,
)

log = logging.getLogger(__name__)

PAGE_NAME, PAGE_SOURCES, PAGE_STORAGE, PAGE_SECONDARY, PAGE_SCHEDULE, PAGE_SUMMARY = range(6)


def _wizard(page: ValidatedPage) -> BackupJobWizard:
    wizard = page.wizard()
    assert isinstance(wizard, BackupJobWizard)
    return wizard


class NamePage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Name", "Name the backup job and say what it protects.")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. File server documents")
        self.name.setAccessibleName("Job name")
        self.description = QLineEdit()
        self.description.setPlaceholderText("optional")
        self.description.setAccessibleName("Job description")
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        form.addRow("&Description:", self.description)
        self.body.addLayout(form)
        self.fixed = hint("A job's name is fixed: its backups and history refer to it. To use another name, clone "
                          "the job.")
        self.fixed.hide()
        self.body.addWidget(self.fixed)
        self.finish_layout()

    def problem(self) -> Problem:
        wizard = _wizard(self)
        name = self.name.text().strip()
        if not name:
            return "Enter a name for the job.", self.name
        if len(name) > 120 or any(c in name for c in "\n\r\t/\\"):    # the core's rule (operations.jobs)
            return "Use a name of up to 120 characters without slashes or tabs.", self.name
        if wizard.creates_job() and name in {j.name for j in wizard.catalog.list_jobs()}:
            return f"A job named '{name}' exists already: choose another name.", self.name
        return None


class SourcesPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Sources", "The folders to protect. Each folder gets its own chain of restore points.")
        self.folders = FolderList()
        self.body.addWidget(self.folders, 1)
        self.finish_layout()

    def problem(self) -> Problem:
        folders = self.folders.folders()
        if not folders:
            return "Add at least one folder to protect (Add folder…).", self.folders.list
        for folder in folders:
            path = Path(folder)
            if not path.exists():
                return f"The folder {folder} does not exist: remove it or choose another.", self.folders.list
            if not path.is_dir():
                return f"{folder} is a file: add the folder that contains it.", self.folders.list
        return None


class StoragePage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Storage", "The repository that receives the restore points, and how long they are kept.")
        self.repository = QComboBox()
        self.repository.setAccessibleName("Target repository")
        self.repository.setMinimumWidth(320)
        self.new_repository = QPushButton("&New repository…")
        self.new_repository.clicked.connect(self._add_repository)
        self.none_yet = hint("No repository is configured yet: add one with New repository….")
        self.retention = RetentionEditor()
        row = QHBoxLayout()
        row.addWidget(self.repository, 1)
        row.addWidget(self.new_repository)
        form = QFormLayout()
        form.addRow(buddy_label("&Repository:", self.repository), row)
        form.addRow("", self.none_yet)
        self.body.addLayout(form)
        self.body.addSpacing(10)
        self.body.addWidget(QLabel("<b>Retention policy</b>"))
        self.body.addWidget(self.retention)
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        wizard = _wizard(self)
        keep = select or self.repository.currentData() or wizard.wanted_repository
        fill_repositories(self.repository, wizard.catalog.list_repositories())
        if keep:
            combo_select(self.repository, keep)
        self.none_yet.setVisible(self.repository.count() == 0)

    def _add_repository(self) -> None:
        from console.gui.wizards.repository import RepositoryWizard

        wizard = _wizard(self)
        dialog = RepositoryWizard(wizard.data_dir, self)
        if dialog.exec() == RepositoryWizard.DialogCode.Accepted:
            self.refresh(select=dialog.saved_name)

    def problem(self) -> Problem:
        name = self.repository.currentData()
        if not name:
            return "Choose the repository for the restore points (or add one with New repository…).", self.repository
        repo = _wizard(self).catalog.get_repository(name)
        if repo.kind == "local":
            target = Path(repo.location)
            for folder in _wizard(self).sources_page.folders.folders():
                if target == Path(folder) or Path(folder) in target.parents:
                    return (f"The repository folder {repo.location} is inside the source {folder}: the job would "
                            f"back up its own backups. Choose another repository or source."), self.repository
        try:
            self.retention.policy_dict()
        except UsageError as e:
            return str(e), self.retention.count
        return None


class SecondaryPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Secondary destinations",
                         "Link this job to backup copy jobs: each new restore point is then copied to a second "
                         "repository too — ideally off-site, for the 3-2-1 rule.")
        self.copy_jobs = QListWidget()
        self.copy_jobs.setAccessibleName("Backup copy jobs to link")
        self.empty = hint("There are no backup copy jobs yet. Create one later (New backup copy job) and add this "
                          "job to its sources; the link shows on both jobs.")
        self.body.addWidget(QLabel("Backup copy jobs:"))
        self.body.addWidget(self.copy_jobs, 1)
        self.body.addWidget(self.empty)
        self.finish_layout()
        self.shown = False

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        wizard = _wizard(self)
        checked = set(self.checked()) if self.shown else set(wizard.wanted_copy_jobs)
        self.shown = True
        self.copy_jobs.clear()
        for job in wizard.catalog.list_jobs(JobKind.COPY):
            mode = job.options.get("mode", "immediate")
            item = QListWidgetItem(f"{job.name}  → {job.repository}  ({mode} copy)")
            item.setData(Qt.ItemDataRole.UserRole, job.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if job.name in checked else Qt.CheckState.Unchecked)
            if job.description:
                item.setToolTip(job.description)
            self.copy_jobs.addItem(item)
        self.empty.setVisible(self.copy_jobs.count() == 0)
        self.copy_jobs.setVisible(self.copy_jobs.count() > 0)

    def set_checked(self, names: set[str]) -> None:
        for i in range(self.copy_jobs.count()):
            item = self.copy_jobs.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def checked(self) -> list[str]:
        if not self.shown:
            return list(_wizard(self).wanted_copy_jobs)
        return [self.copy_jobs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.copy_jobs.count())
                if self.copy_jobs.item(i).checkState() == Qt.CheckState.Checked]

    def problem(self) -> Problem:
        wizard = _wizard(self)
        target = wizard.storage_page.repository.currentData()
        for name in self.checked():
            job = wizard.catalog.get_job(name)
            if job.repository == target:
                return ((f"The backup copy job '{name}' copies into '{target}', the repository this job writes to: "
                        f"a copy in the same place protects nothing. Clear it or choose another repository."),
                        self.copy_jobs)
        return None


class SchedulePage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Schedule", "When the job runs by itself.")
        self.daily = QRadioButton("&Daily at")
        self.at = QTimeEdit(QTime(22, 0))
        self.at.setDisplayFormat("HH:mm")
        self.days = [QCheckBox(name) for name in WEEKDAY_SHORT]
        for box in self.days:
            box.setChecked(True)
        self.every = QRadioButton("&Every")
        self.every_count = QSpinBox()
        self.every_count.setRange(1, 999)
        self.every_count.setValue(4)
        self.every_unit = QComboBox()
        self.every_unit.addItem("hours", "h")
        self.every_unit.addItem("minutes", "m")
        self.after = QRadioButton("&After this job:")
        self.after_job = QComboBox()
        self.after_job.setMinimumWidth(240)
        self.manual = QRadioButton("&Manually only (start it from the console or `backup-console job run`)")
        self.group = QButtonGroup(self)
        for button in (self.daily, self.every, self.after, self.manual):
            self.group.addButton(button)
        self.daily.setChecked(True)
        self.next_run = QLabel()

        grid = QGridLayout()
        grid.addWidget(self.daily, 0, 0)
        daily_row = QHBoxLayout()
        daily_row.addWidget(self.at)
        daily_row.addWidget(QLabel("on"))
        for box in self.days:
            daily_row.addWidget(box)
        daily_row.addStretch(1)
        grid.addLayout(daily_row, 0, 1)
        grid.addWidget(self.every, 1, 0)
        every_row = QHBoxLayout()
        every_row.addWidget(self.every_count)
        every_row.addWidget(self.every_unit)
        every_row.addStretch(1)
        grid.addLayout(every_row, 1, 1)
        grid.addWidget(self.after, 2, 0)
        after_row = QHBoxLayout()
        after_row.addWidget(self.after_job)
        after_row.addStretch(1)
        grid.addLayout(after_row, 2, 1)
        grid.addWidget(self.manual, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(10)
        self.body.addLayout(grid)
        self.body.addSpacing(8)
        self.body.addWidget(self.next_run)
        self.body.addWidget(hint("Scheduled jobs run while the console is open, or all the time with "
                                 "`backup-console service`. A failed run is retried 3 times."))
        self.finish_layout()
        for signal in (self.group.buttonToggled, self.at.timeChanged, self.every_count.valueChanged,
                       self.every_unit.currentIndexChanged, self.after_job.currentIndexChanged):
            signal.connect(self._update)
        for box in self.days:
            box.toggled.connect(self._update)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        wizard = _wizard(self)
        keep = self.after_job.currentData() or wizard.wanted_after_job
        name = wizard.name_page.name.text().strip()
        self.after_job.clear()
        for job in wizard.catalog.list_jobs(JobKind.BACKUP):
            if job.name != name:
                self.after_job.addItem(job.name, job.name)
        if keep:
            combo_select(self.after_job, keep)
        self.after.setEnabled(self.after_job.count() > 0 or self.after.isChecked())
        self._update()

    def set_spec(self, spec: str | None) -> None:
        schedule = parse_schedule(spec) if spec else Schedule("manual")
        if schedule.kind == "daily":
            self.daily.setChecked(True)
            assert schedule.at is not None
            self.at.setTime(QTime(schedule.at.hour, schedule.at.minute))
            for i, box in enumerate(self.days):
                box.setChecked(i in schedule.weekdays)
        elif schedule.kind == "every":
            self.every.setChecked(True)
            assert schedule.interval is not None
            minutes = int(schedule.interval.total_seconds() // 60)
            if minutes % 60 == 0:
                self.every_count.setValue(minutes // 60)
                combo_select(self.every_unit, "h")
            else:
                self.every_count.setValue(minutes)
                combo_select(self.every_unit, "m")
        elif schedule.kind == "after":
            self.after.setChecked(True)
        else:
            self.manual.setChecked(True)

    def spec(self) -> str | None:
        """The schedule spec, or None for manual runs only. Raises UsageError when incomplete."""
        if self.manual.isChecked():
            return None
        if self.daily.isChecked():
            days = [i for i, box in enumerate(self.days) if box.isChecked()]
            if not days:
                raise UsageError("Tick at least one weekday for the daily run, or choose another schedule.")
            t = self.at.time()
            return Schedule("daily", at=time(t.hour(), t.minute()), weekdays=frozenset(days)).to_spec()
        if self.every.isChecked():
            return parse_schedule(f"every {self.every_count.value()}{self.every_unit.currentData()}").to_spec()
        job = self.after_job.currentData()
        if not job:
            raise UsageError("Choose the job after which this one runs, or choose another schedule.")
        return f"after {job}"

    def _update(self) -> None:
        self.at.setEnabled(self.daily.isChecked())
        for box in self.days:
            box.setEnabled(self.daily.isChecked())
        self.every_count.setEnabled(self.every.isChecked())
        self.every_unit.setEnabled(self.every.isChecked())
        self.after_job.setEnabled(self.after.isChecked())
        self.next_run.setText(describe_schedule(self._spec_or_error()))

    def _spec_or_error(self) -> str | UsageError | None:
        try:
            return self.spec()
        except UsageError as e:
            return e

    def problem(self) -> Problem:
        self.spec()
        return None


def describe_schedule(spec: str | UsageError | None, now: datetime | None = None) -> str:
    if isinstance(spec, UsageError):
        return str(spec)
    if spec is None:
        return "The job runs only when you start it."
    schedule = parse_schedule(spec)
    if schedule.kind == "after":
        return f"The job runs each time '{schedule.after_job}' finishes with success or warning."
    now = now or datetime.now().astimezone()
    when = schedule.next_run(now)
    if when is None:
        return f"Schedule: {spec}"
    soon = " (in less than an hour)" if when - now < timedelta(hours=1) else ""
    return f"Next run: {when:%A %d %B %Y, %H:%M}{soon}"


class BackupJobWizard(ConsoleWizard):
    """New backup job; with `existing`, Edit it (or, with clone=True, create a copy of it under a new name)."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None, existing: Job | None = None, *,
                 clone: bool = False) -> None:
        super().__init__(data_dir, parent)
        if existing is not None and existing.kind != JobKind.BACKUP:
            raise UsageError(f"'{existing.name}' is a backup copy job: edit it with the backup copy job wizard")
        self.existing = existing
        self.clone = clone and existing is not None
        self.wanted_repository: str | None = None
        self.wanted_copy_jobs: list[str] = []
        self.wanted_after_job: str | None = None
        title = "New backup job" if existing is None else "Clone backup job" if self.clone else "Edit backup job"
        self.setWindowTitle(title if existing is None else f"{title} — {existing.name}")
        self.name_page, self.sources_page, self.storage_page = NamePage(), SourcesPage(), StoragePage()
        self.secondary_page, self.schedule_page = SecondaryPage(), SchedulePage()
        self.summary_page = JobSummaryPage("&Run the job when I click Finish")
        for page_id, page in ((PAGE_NAME, self.name_page), (PAGE_SOURCES, self.sources_page),
                              (PAGE_STORAGE, self.storage_page), (PAGE_SECONDARY, self.secondary_page),
                              (PAGE_SCHEDULE, self.schedule_page), (PAGE_SUMMARY, self.summary_page)):
            self.setPage(page_id, page)
        if existing is not None:
            self._prefill(existing)

    def creates_job(self) -> bool:
        return self.existing is None or self.clone

    def _prefill(self, job: Job) -> None:
        if self.clone:
            self.name_page.name.setText(unique_name(job.name, {j.name for j in self.catalog.list_jobs()}))
        else:
            self.name_page.name.setText(job.name)
            self.name_page.name.setReadOnly(True)
            self.name_page.fixed.show()
        self.name_page.description.setText(job.description)
        self.sources_page.folders.set_folders(job.sources)
        self.wanted_repository = job.repository
        self.storage_page.retention.set_policy(job.retention)
        self.wanted_copy_jobs = self.catalog.linked_copy_jobs(job.name)
        spec = (job.schedule or {}).get("spec")
        self.schedule_page.set_spec(spec)
        if spec and spec.startswith("after "):
            self.wanted_after_job = parse_schedule(spec).after_job

    def summary_rows(self) -> list[tuple[str, str]]:
        storage = self.storage_page
        try:
            schedule = self.schedule_page.spec()
        except UsageError as e:
            schedule = str(e)
        copies = self.secondary_page.checked()
        return [
            ("Name", self.name_page.name.text().strip()),
            ("Description", self.name_page.description.text().strip()),
            ("Sources", "\n".join(self.sources_page.folders.folders())),
            ("Repository", storage.repository.currentData() or ""),
            ("Retention", storage.retention.describe()),
            ("Secondary destinations", "\n".join(copies) if copies else "none"),
            ("Schedule", schedule or "manual"),
        ]

    def save(self) -> str:
        job = save_backup_job(
            self.catalog, existing=None if self.creates_job() else self.existing,
            name=self.name_page.name.text().strip(), repository=self.storage_page.repository.currentData(),
            sources=self.sources_page.folders.folders(), retention=self.storage_page.retention.policy_dict(),
            schedule=self.schedule_page.spec(), description=self.name_page.description.text().strip(),
            copy_jobs=self.secondary_page.checked())
        self.run_now = self.summary_page.run_now.isChecked()
        log.info("backup job %s saved", job.name)
        return job.name


__all__ = ["BackupJobWizard", "describe_schedule"]
