"""The New / Edit / Clone backup copy job wizard.

Pages: name and mode → sources (backup jobs and whole repositories) → target (repository, retention, GFS)
→ retention preview → advanced (health check, history, latest point) → copy window → summary.
"""

from __future__ import annotations

import logging
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import UsageError
from console.core.model import Job, JobKind
from console.core.scheduling.specs import (
    DEFAULT_HEALTH_CHECK,
    MONTH_WEEKS,
    WEEKDAY_NAMES,
    CopyWindow,
    HealthCheckSchedule,
    format_interval,
    parse_health_check,
    parse_window,
)
from console.core.units import plural
from console.gui.wizards import copy_job_sources, save_copy_job
from console.gui.wizards.widgets import (
    ConsoleWizard,
    JobSummaryPage,
    Problem,
    RetentionEditor,
    RetentionPreview,
    ValidatedPage,
    WindowEditor,
    buddy_label,
    combo_select,
    describe_grid,
    fill_repositories,
    hint,
    unique_name,
)

log = logging.getLogger(__name__)

PAGE_NAME, PAGE_SOURCES, PAGE_TARGET, PAGE_PREVIEW, PAGE_ADVANCED, PAGE_WINDOW, PAGE_SUMMARY = range(7)
JOB, REPOSITORY = "job", "repository"
INTERVAL_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _wizard(page: ValidatedPage) -> CopyJobWizard:
    wizard = page.wizard()
    assert isinstance(wizard, CopyJobWizard)
    return wizard


# ---------------------------------------------------------------------------------------------- name and mode


class NamePage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Job", "Name the backup copy job and choose when it copies.")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Off-site copy")
        self.name.setAccessibleName("Job name")
        self.description = QLineEdit()
        self.description.setPlaceholderText("optional")
        self.description.setAccessibleName("Job description")
        self.immediate = QRadioButton("&Immediate copy (mirroring)")
        self.periodic = QRadioButton("&Periodic copy (pruning)")
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.immediate)
        self.mode.addButton(self.periodic)
        self.immediate.setChecked(True)
        self.interval = QSpinBox()
        self.interval.setRange(1, 9999)
        self.interval.setValue(24)
        self.interval.setAccessibleName("Copy interval")
        self.interval_unit = QComboBox()
        self.interval_unit.addItem("hours", "h")
        self.interval_unit.addItem("days", "d")
        self.interval_unit.addItem("minutes", "m")
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        form.addRow("&Description:", self.description)
        self.body.addLayout(form)
        self.fixed = hint("A job's name is fixed: its backups and history refer to it. To use another name, clone "
                          "the job.")
        self.fixed.hide()
        self.body.addWidget(self.fixed)
        self.body.addSpacing(12)
        self.body.addWidget(QLabel("<b>Copy mode</b>"))
        self.body.addWidget(self.immediate)
        self.body.addWidget(hint("Copies every new restore point of the source jobs as soon as it appears, oldest "
                                 "first."))
        self.body.addWidget(self.periodic)
        interval_row = QHBoxLayout()
        interval_row.addSpacing(24)
        interval_row.addWidget(QLabel("Copy the latest restore point every"))
        interval_row.addWidget(self.interval)
        interval_row.addWidget(self.interval_unit)
        interval_row.addStretch(1)
        self.body.addLayout(interval_row)
        self.body.addWidget(hint("Copies only the most recent restore point not yet copied, once per interval."))
        self.finish_layout()
        self.periodic.toggled.connect(self._mode_changed)
        self._mode_changed()

    def _mode_changed(self) -> None:
        self.interval.setEnabled(self.periodic.isChecked())
        self.interval_unit.setEnabled(self.periodic.isChecked())

    def mode_name(self) -> str:
        return "periodic" if self.periodic.isChecked() else "immediate"

    def interval_text(self) -> str:
        return f"{self.interval.value()}{self.interval_unit.currentData()}"

    def set_interval(self, seconds: int) -> None:
        for unit in ("d", "h", "m"):
            if seconds % INTERVAL_UNITS[unit] == 0:
                self.interval.setValue(seconds // INTERVAL_UNITS[unit])
                combo_select(self.interval_unit, unit)
                return

    def problem(self) -> Problem:
        wizard = _wizard(self)
        name = self.name.text().strip()
        if not name:
            return "Enter a name for the job.", self.name
        if len(name) > 120 or any(c in name for c in "\n\r\t/\\"):    # the core's rule (operations.jobs)
            return "Use a name of up to 120 characters without slashes or tabs.", self.name
        if wizard.creates_job() and name in {j.name for j in wizard.catalog.list_jobs()}:
            return f"A job named '{name}' exists already: choose another name.", self.name
        if self.periodic.isChecked():
            seconds = self.interval.value() * INTERVAL_UNITS[self.interval_unit.currentData()]
            if not timedelta(minutes=5) <= timedelta(seconds=seconds) <= timedelta(days=31):
                return "The copy interval must be between 5 minutes and 31 days.", self.interval
        return None


# ---------------------------------------------------------------------------------------------- sources


class SourcePicker(QDialog):
    """A checklist of backup jobs or repositories to add as sources."""

    def __init__(self, title: str, intro: str, items: list[tuple[str, str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.list = QListWidget()
        for key, label, tip in items:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(tip)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        label = QLabel(intro)
        label.setWordWrap(True)
        layout.addWidget(label)
        layout.addWidget(self.list, 1)
        if not items:
            layout.addWidget(hint("Nothing (more) to add."))
        layout.addWidget(buttons)
        self.resize(520, 380)

    def set_checked(self, keys: set[str]) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in keys
                               else Qt.CheckState.Unchecked)

    def checked(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]


class SourcesPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Objects to copy", "The restore points to copy: those of chosen backup jobs, or of every "
                                            "backup job that writes to a chosen repository (now and in future).")
        self.list = QListWidget()
        self.list.setAccessibleName("Sources of the backup copy job")
        self.list.setAlternatingRowColors(True)
        self.add_button = QPushButton("&Add")
        self.add_menu = QMenu(self)
        self.add_jobs_action = self.add_menu.addAction("From &jobs…", self.pick_jobs)
        self.add_repos_action = self.add_menu.addAction("From &repositories…", self.pick_repositories)
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove_selected)
        self.list.itemSelectionChanged.connect(lambda: self.remove_button.setEnabled(bool(self.list.selectedItems())))
        self.picker: SourcePicker | None = None     # the open picker (tests and screenshots)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        self.body.addLayout(row, 1)
        self.empty = hint("No sources yet: click Add.")
        self.body.addWidget(self.empty)
        self.finish_layout()

    def _label(self, kind: str, name: str) -> tuple[str, str]:
        catalog = _wizard(self).catalog
        if kind == JOB:
            try:
                job = catalog.get_job(name)
            except UsageError:
                return f"Job: {name}  (no longer exists)", ""
            return f"Job: {name}  ({job.repository}, {plural(len(job.sources), 'folder')})", "\n".join(job.sources)
        return (f"Repository: {name}  (every backup job writing to it)",
                "Restore points of every backup job that targets this repository, present and future")

    def add_source(self, kind: str, name: str) -> bool:
        if (kind, name) in self.sources():
            return False
        label, tip = self._label(kind, name)
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, (kind, name))
        item.setToolTip(tip)
        self.list.addItem(item)
        self.empty.hide()
        return True

    def sources(self) -> list[tuple[str, str]]:
        return [tuple(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())]

    def jobs(self) -> list[str]:
        return [name for kind, name in self.sources() if kind == JOB]

    def repositories(self) -> list[str]:
        return [name for kind, name in self.sources() if kind == REPOSITORY]

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.empty.setVisible(self.list.count() == 0)

    def job_picker(self) -> SourcePicker:
        taken = set(self.jobs())
        items = [(j.name, f"{j.name}  → {j.repository}", "\n".join(j.sources))
                 for j in _wizard(self).catalog.list_jobs(JobKind.BACKUP) if j.name not in taken]
        return SourcePicker("Add backup jobs", "Copy the restore points of these backup jobs:", items, self)

    def repository_picker(self) -> SourcePicker:
        taken = set(self.repositories())
        items = [(r.name, f"{r.name}  ({r.kind}: {r.location})", r.location)
                 for r in _wizard(self).catalog.list_repositories() if r.name not in taken]
        return SourcePicker("Add repositories", "Copy the restore points of every backup job that writes to these "
                                                "repositories:", items, self)

    def pick_jobs(self) -> None:
        self._pick(self.job_picker(), JOB)

    def pick_repositories(self) -> None:
        self._pick(self.repository_picker(), REPOSITORY)

    def _pick(self, picker: SourcePicker, kind: str) -> None:
        self.picker = picker
        if picker.exec() == QDialog.DialogCode.Accepted:
            for name in picker.checked():
                self.add_source(kind, name)
        self.picker = None

    def problem(self) -> Problem:
        if not self.sources():
            return "Add at least one source: a backup job or a repository (Add ▾).", self.list
        catalog = _wizard(self).catalog
        for kind, name in self.sources():
            try:
                found = catalog.get_job(name) if kind == JOB else catalog.get_repository(name)
            except UsageError:
                return f"The {kind} '{name}' no longer exists: remove it from the list.", self.list
            if kind == JOB and found.kind != JobKind.BACKUP:
                return f"'{name}' is not a backup job: only backup jobs can be copied.", self.list
        return None


# ---------------------------------------------------------------------------------------------- target


class TargetPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Target", "The repository the copies go to, and how long they are kept there.")
        self.repository = QComboBox()
        self.repository.setAccessibleName("Target repository")
        self.repository.setMinimumWidth(320)
        self.new_repository = QPushButton("&New repository…")
        self.new_repository.clicked.connect(self._add_repository)
        self.retention = RetentionEditor()
        row = QHBoxLayout()
        row.addWidget(self.repository, 1)
        row.addWidget(self.new_repository)
        form = QFormLayout()
        form.addRow(buddy_label("&Repository:", self.repository), row)
        self.body.addLayout(form)
        self.body.addWidget(hint("Choose a repository on other media than the sources — best off-site (SFTP) — so "
                                 "that one event cannot destroy every copy."))
        self.body.addSpacing(10)
        self.body.addWidget(QLabel("<b>Retention policy of the copies</b>"))
        self.body.addWidget(self.retention)
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        wizard = _wizard(self)
        keep = select or self.repository.currentData() or wizard.wanted_target
        fill_repositories(self.repository, wizard.catalog.list_repositories())
        if keep:
            combo_select(self.repository, keep)
        else:
            # Preselect the first repository that is not a source: the only kind of choice that is valid.
            sources = set(wizard.source_repositories())
            for i in range(self.repository.count()):
                if self.repository.itemData(i) not in sources:
                    self.repository.setCurrentIndex(i)
                    break

    def _add_repository(self) -> None:
        from console.gui.wizards.repository import RepositoryWizard

        dialog = RepositoryWizard(_wizard(self).data_dir, self)
        if dialog.exec() == RepositoryWizard.DialogCode.Accepted:
            self.refresh(select=dialog.saved_name)

    def problem(self) -> Problem:
        target = self.repository.currentData()
        if not target:
            return "Choose the target repository (or add one with New repository…).", self.repository
        wizard = _wizard(self)
        if target in wizard.sources_page.repositories():
            return (f"'{target}' is a source repository of this job: the copies must go to another repository. "
                    f"Choose another target or remove it from the sources."), self.repository
        for job_name in wizard.sources_page.jobs():
            if wizard.catalog.get_job(job_name).repository == target:
                return (f"'{target}' holds the backups of the source job '{job_name}': a copy in the same repository "
                        f"protects nothing. Choose another target repository."), self.repository
        try:
            self.retention.policy_dict()
        except UsageError as e:
            return str(e), self.retention.count
        return None


class PreviewPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Retention preview", "Which restore points the target keeps, and why, if a restore point "
                                              "arrived every day.")
        self.preview = RetentionPreview()
        self.body.addWidget(self.preview)
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        try:
            policy = _wizard(self).target_page.retention.policy_dict()
        except UsageError:
            policy = None
        self.preview.set_policy(policy)


# ---------------------------------------------------------------------------------------------- advanced


class HealthCheckEditor(QWidget):
    """On/off plus monthly (week + weekday) / weekly (weekday) / daily, at a time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Perform a &health check of the copies")
        self.frequency = QComboBox()
        self.frequency.addItem("Monthly, on the", "monthly")
        self.frequency.addItem("Weekly, on", "weekly")
        self.frequency.addItem("Daily", "daily")
        self.week = QComboBox()
        for week in MONTH_WEEKS:
            self.week.addItem(week, week)
        self.weekday = QComboBox()
        for name in WEEKDAY_NAMES:
            self.weekday.addItem(name.capitalize(), name)
        self.at = QTimeEdit(QTime(5, 0))
        self.at.setDisplayFormat("HH:mm")
        row = QHBoxLayout()
        row.addSpacing(24)
        row.addWidget(self.frequency)
        row.addWidget(self.week)
        row.addWidget(self.weekday)
        row.addWidget(QLabel("at"))
        row.addWidget(self.at)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addLayout(row)
        layout.addWidget(hint("Reads the newest copies back, decrypts them and checks every block's hash; a damaged "
                              "copy is repaired from the source during the next copy run."))
        self.enabled.toggled.connect(self._update)
        self.frequency.currentIndexChanged.connect(self._update)
        self.set_spec(DEFAULT_HEALTH_CHECK)

    def _update(self) -> None:
        on = self.enabled.isChecked()
        kind = self.frequency.currentData()
        self.frequency.setEnabled(on)
        self.at.setEnabled(on)
        self.week.setEnabled(on)
        self.weekday.setEnabled(on)
        self.week.setVisible(kind == "monthly")
        self.weekday.setVisible(kind in ("monthly", "weekly"))

    def set_spec(self, spec: str | None) -> None:
        check = parse_health_check(spec or "never")
        self.enabled.setChecked(check.kind != "never")
        if check.kind != "never":
            combo_select(self.frequency, check.kind)
            assert check.at is not None
            self.at.setTime(QTime(check.at.hour, check.at.minute))
            if check.weekday is not None:
                combo_select(self.weekday, WEEKDAY_NAMES[check.weekday])
            if check.week:
                combo_select(self.week, check.week)
        self._update()

    def spec(self) -> str:
        if not self.enabled.isChecked():
            return "never"
        t = self.at.time()
        kind = self.frequency.currentData()
        weekday = WEEKDAY_NAMES.index(self.weekday.currentData()) if kind != "daily" else None
        return HealthCheckSchedule(kind, at=time(t.hour(), t.minute()), weekday=weekday,
                                   week=self.week.currentData() if kind == "monthly" else None).to_spec()


class AdvancedPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Advanced", "Health checks and what the first runs copy.")
        self.health = HealthCheckEditor()
        self.copy_history = QCheckBox("Copy the whole &history on the first run (not only the latest restore point)")
        self.process_latest = QCheckBox("Process the &latest restore point at once, without waiting for the first "
                                        "interval")
        self.body.addWidget(self.health)
        self.body.addSpacing(12)
        self.body.addWidget(QLabel("<b>First run</b>"))
        self.body.addWidget(self.copy_history)
        self.body.addWidget(hint("Immediate copy: the first run copies the latest restore point of each source; "
                                 "with this option it copies all existing restore points, oldest first."))
        self.body.addWidget(self.process_latest)
        self.body.addWidget(hint("Periodic copy: the first copy starts right away instead of one interval later."))
        self.body.addSpacing(12)
        self.body.addWidget(hint("Compression and encryption of the copies are those of the target repository "
                                 "(set when it was added); blocks travel without being recompressed."))
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        periodic = _wizard(self).name_page.periodic.isChecked()
        self.process_latest.setEnabled(periodic)
        self.copy_history.setEnabled(not periodic)


class WindowPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Copy window", "When copies may transfer data. A copy still running when the window closes "
                                        "stops cleanly and resumes in the next window without re-sending data.")
        self.any_time = QRadioButton("&Any time (continuously)")
        self.limited = QRadioButton("&During the following time period only:")
        self.group = QButtonGroup(self)
        self.group.addButton(self.any_time)
        self.group.addButton(self.limited)
        self.any_time.setChecked(True)
        self.editor = WindowEditor()
        self.body.addWidget(self.any_time)
        self.body.addWidget(self.limited)
        self.body.addWidget(self.editor)
        self.finish_layout()
        self.limited.toggled.connect(self.editor.setEnabled)
        self.editor.setEnabled(False)

    def set_spec(self, spec: str | None) -> None:
        window = parse_window(spec) if spec else CopyWindow.always()
        self.limited.setChecked(not window.is_always)
        self.any_time.setChecked(window.is_always)
        self.editor.grid.set_grid(window.as_lists() if not window.is_always else self._default_grid())

    @staticmethod
    def _default_grid() -> list[list[bool]]:
        # A useful start when the admin switches to "limited": outside office hours (weekdays 06-20 denied)
        return parse_window("mon-fri 0-6 20-24; sat,sun 0-24").as_lists()

    def spec(self) -> str | None:
        if self.any_time.isChecked():
            return None
        window = CopyWindow.from_grid(self.editor.grid.grid())
        return None if window.is_always else window.to_spec()

    def problem(self) -> Problem:
        if self.limited.isChecked() and not any(any(row) for row in self.editor.grid.grid()):
            return ("The copy window allows no hour at all, so nothing would ever be copied: allow some hours.",
                    self.editor.grid)
        return None


class CopyJobWizard(ConsoleWizard):
    """New backup copy job; with `existing`, Edit it (or, with clone=True, create a copy under a new name)."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None, existing: Job | None = None, *,
                 clone: bool = False) -> None:
        super().__init__(data_dir, parent)
        if existing is not None and existing.kind != JobKind.COPY:
            raise UsageError(f"'{existing.name}' is a backup job: edit it with the backup job wizard")
        self.existing = existing
        self.clone = clone and existing is not None
        self.wanted_target: str | None = None
        title = ("New backup copy job" if existing is None else "Clone backup copy job" if self.clone
                 else "Edit backup copy job")
        self.setWindowTitle(title if existing is None else f"{title} — {existing.name}")
        self.name_page, self.sources_page, self.target_page = NamePage(), SourcesPage(), TargetPage()
        self.preview_page, self.advanced_page, self.window_page = PreviewPage(), AdvancedPage(), WindowPage()
        self.summary_page = JobSummaryPage("&Start copying when I click Finish")
        for page_id, page in ((PAGE_NAME, self.name_page), (PAGE_SOURCES, self.sources_page),
                              (PAGE_TARGET, self.target_page), (PAGE_PREVIEW, self.preview_page),
                              (PAGE_ADVANCED, self.advanced_page), (PAGE_WINDOW, self.window_page),
                              (PAGE_SUMMARY, self.summary_page)):
            self.setPage(page_id, page)
        self.window_page.set_spec(None)
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
        options: dict[str, Any] = job.options
        (self.name_page.periodic if options.get("mode") == "periodic" else self.name_page.immediate).setChecked(True)
        if options.get("interval"):
            self.name_page.set_interval(int(options["interval"]))
        jobs, repos = copy_job_sources(self.catalog, job)
        for name in jobs:
            self.sources_page.add_source(JOB, name)
        for name in repos:
            self.sources_page.add_source(REPOSITORY, name)
        self.wanted_target = job.repository
        self.target_page.retention.set_policy(job.retention)
        self.advanced_page.health.set_spec(options.get("health_check", DEFAULT_HEALTH_CHECK))
        self.advanced_page.copy_history.setChecked(bool(options.get("copy_history")))
        self.advanced_page.process_latest.setChecked(bool(options.get("process_latest")))
        self.window_page.set_spec(options.get("window"))

    def source_repositories(self) -> list[str]:
        """Repositories the sources read from: chosen repositories and the repositories of chosen jobs."""
        repos = list(self.sources_page.repositories())
        for name in self.sources_page.jobs():
            try:
                repos.append(self.catalog.get_job(name).repository)
            except UsageError:
                continue
        return repos

    def summary_rows(self) -> list[tuple[str, str]]:
        name = self.name_page
        mode = ("immediate: every new restore point is copied as soon as it appears" if name.immediate.isChecked()
                else f"periodic: the latest restore point every {format_interval(self._interval_delta())}")
        sources = [f"job {j}" for j in self.sources_page.jobs()]
        sources += [f"repository {r} (all its backup jobs)" for r in self.sources_page.repositories()]
        window = self.window_page.spec()
        advanced = [f"health check: {self.advanced_page.health.spec()}"]
        if self.advanced_page.copy_history.isChecked() and name.immediate.isChecked():
            advanced.append("first run copies the whole history")
        if self.advanced_page.process_latest.isChecked() and name.periodic.isChecked():
            advanced.append("the latest restore point is processed at once")
        return [
            ("Name", name.name.text().strip()),
            ("Description", name.description.text().strip()),
            ("Mode", mode),
            ("Sources", "\n".join(sources)),
            ("Target repository", self.target_page.repository.currentData() or ""),
            ("Retention", self.target_page.retention.describe()),
            ("Copy window", describe_grid(self.window_page.editor.grid.grid()) if window else "any time"),
            ("Advanced", "\n".join(advanced)),
        ]

    def _interval_delta(self) -> timedelta:
        page = self.name_page
        return timedelta(seconds=page.interval.value() * INTERVAL_UNITS[page.interval_unit.currentData()])

    def save(self) -> str:
        name, advanced = self.name_page, self.advanced_page
        periodic = name.periodic.isChecked()
        job = save_copy_job(
            self.catalog, existing=None if self.creates_job() else self.existing,
            name=name.name.text().strip(), target=self.target_page.repository.currentData(),
            from_jobs=self.sources_page.jobs(), from_repos=self.sources_page.repositories(),
            mode=name.mode_name(), interval=name.interval_text(), retention=self.target_page.retention.policy_dict(),
            window=self.window_page.spec(), copy_history=advanced.copy_history.isChecked() and not periodic,
            process_latest=advanced.process_latest.isChecked() and periodic, health_check=advanced.health.spec(),
            description=name.description.text().strip())
        self.run_now = self.summary_page.run_now.isChecked()
        log.info("backup copy job %s saved", job.name)
        return job.name


__all__ = ["CopyJobWizard", "HealthCheckEditor", "SourcePicker"]
