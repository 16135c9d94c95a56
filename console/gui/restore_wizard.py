"""The restore wizard: restore point (primary or any copy) → files and folders → destination and overwrite
policy → summary → the restore runs with live progress on the last page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from console.core.errors import ConsoleError
from console.core.model import PointState, PointType
from console.gui.dialogs import error_message
from console.gui.formatting import POINT_STATE_ICONS, POINT_STATE_LABELS, human_size, local_time
from console.gui.models.files import FileTreeModel
from console.gui.models.table import Column, FilterProxy, RecordTableModel
from console.gui.progress_view import ProgressView
from console.gui.resources import resource_icon
from console.gui.runner import Run, Runner
from console.gui.snapshot import PointRow, Snapshot
from console.gui.views.widgets import SelectionTable, setup_table

OVERWRITE = [("never", "Keep existing files (skip them)"),
             ("newer", "Replace existing files that are older than the backed-up version"),
             ("always", "Replace every existing file")]


class _Choice:
    """What the admin chose so far (the pages share it)."""

    def __init__(self, point: PointRow, paths: list[str]) -> None:
        self.point = point
        self.preset_paths = paths


def _point_candidates(snapshot: Snapshot, point: PointRow) -> list[tuple[PointRow, str, str]]:
    """Every restore point of the same object in every backup: (row, repository, job), newest first."""
    out = []
    for b in snapshot.backups:
        for row in snapshot.points.get(b.id, []):
            if row.point.object == point.point.object:
                out.append((row, b.backup.repository, b.backup.job))
    out.sort(key=lambda t: t[0].point.created, reverse=True)
    return out


def _candidates_model() -> RecordTableModel:
    columns = [
        Column("Created", lambda c: local_time(c[0].point.created, seconds=True),
               sort=lambda c: c[0].point.created.timestamp(),
               icon=lambda c: resource_icon(POINT_STATE_ICONS[c[0].point.state.value]), width=170),
        Column("Repository", lambda c: c[1], width=120),
        Column("Job", lambda c: c[2], width=120),
        Column("Copy", lambda c: "copy" if c[0].point.source_point else "primary",
               header_tip="primary: made by the backup job; copy: made by a backup copy job", width=70),
        Column("Type", lambda c: "Full" if c[0].point.type == PointType.FULL else "Increment", width=80),
        Column("State", lambda c: POINT_STATE_LABELS[c[0].point.state.value], width=80),
        Column("Size", lambda c: human_size(c[0].point.data_size), sort=lambda c: c[0].point.data_size, right=True,
               width=80),
        Column("GFS", lambda c: " ".join(c[0].point.gfs), width=50),
    ]
    return RecordTableModel(columns, key=lambda c: c[0].point.id,
                            dimmed=lambda c: c[0].point.state == PointState.MISSING)


class PointPage(QWizardPage):
    def __init__(self, snapshot: Snapshot, choice: _Choice) -> None:
        super().__init__()
        self.choice = choice
        self.setTitle("Restore point")
        self.setSubTitle(f"Restore {choice.point.point.object} as it was at one of these times. The same point "
                         "may exist in several repositories (the primary backup and its copies): pick any.")
        self.model = _candidates_model()
        self.model.set_records(_point_candidates(snapshot, choice.point))
        proxy = FilterProxy(self)
        proxy.setSourceModel(self.model)
        self.table = SelectionTable()
        self.table.setModel(proxy)
        setup_table(self.table, self.model.columns, sortable=False)
        self.table.record_selected.connect(self._selected)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        row = self.model.row_of(choice.point.point.id)
        if row >= 0:
            self.table.selectRow(row)

    def _selected(self, record: Any) -> None:
        if record is not None:
            row = record[0]
            if row.point.state == PointState.MISSING:
                self.message.setText("<span style='color:#C62828'>This restore point is missing from its "
                                     "repository; choose a copy of it instead.</span>")
            else:
                self.message.setText(f"Restore point {row.point.id} in repository {record[1]}.")
                self.choice.point = row         # same object in every candidate: chosen paths still apply
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        record = self.table.current_record()
        return record is not None and record[0].point.state != PointState.MISSING


class FilesPage(QWizardPage):
    def __init__(self, data_dir: Path, choice: _Choice) -> None:
        super().__init__()
        self.choice = choice
        self.setTitle("Files and folders")
        self.setSubTitle("Restore everything, or tick the files and folders you want.")
        self.everything = QRadioButton("Everything in the restore point")
        self.preset = QRadioButton()
        self.chosen = QRadioButton("Only the files and folders I tick below")
        self.group = QButtonGroup(self)
        for i, button in enumerate((self.everything, self.preset, self.chosen)):
            self.group.addButton(button, i)
        self.model = FileTreeModel(data_dir, checkable=True)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        setup_table(self.tree, sortable=False)
        self.tree.header().resizeSection(0, 280)
        self.model.dataChanged.connect(lambda *_: self.completeChanged.emit())
        self.model.rowsInserted.connect(lambda *_: self.completeChanged.emit())
        self.group.idToggled.connect(self._mode)
        # the browser's selection is listed as such: the tree's ticks would show something else
        self.preset_list = QListWidget()
        self.preset_list.setToolTip("The files and folders selected in the browser")
        self.shown = QStackedWidget()
        self.shown.addWidget(self.tree)
        self.shown.addWidget(self.preset_list)
        self.status = QLabel()
        self.model.load_failed.connect(lambda m: self.status.setText(f"Cannot list: {m}"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.everything)
        layout.addWidget(self.preset)
        layout.addWidget(self.chosen)
        layout.addWidget(self.shown, 1)
        layout.addWidget(self.status)
        self._point_id: str | None = None

    def initializePage(self) -> None:
        point = self.choice.point.point
        if point.id != self._point_id:
            self._point_id = point.id
            self.model.set_point(point.id)
        paths = self.choice.preset_paths
        self.preset.setVisible(bool(paths))
        if paths:
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            self.preset.setText(f"The {len(paths)} item{'s' if len(paths) != 1 else ''} selected in the browser: "
                                f"{shown}")
            self.preset_list.clear()
            self.preset_list.addItems(paths)
            self.preset.setChecked(True)
        elif self.group.checkedId() < 0:
            self.everything.setChecked(True)
        self._mode()

    def _mode(self, *_: Any) -> None:
        choosing = self.chosen.isChecked()
        self.tree.setEnabled(choosing)
        self.shown.setCurrentWidget(self.preset_list if self.preset.isChecked() else self.tree)
        if choosing and self.model.whole_point_checked():
            self.model.set_all_checked(False)
        self.completeChanged.emit()

    def paths(self) -> list[str] | None:
        """None: the whole point; else the paths to restore."""
        if self.everything.isChecked():
            return None
        if self.preset.isChecked():
            return list(self.choice.preset_paths)
        selection = self.model.selection()
        return None if selection == [""] else selection

    def isComplete(self) -> bool:
        if self.chosen.isChecked():
            return bool(self.model.selection())
        return self.group.checkedId() >= 0


class DestinationPage(QWizardPage):
    def __init__(self, choice: _Choice) -> None:
        super().__init__()
        self.choice = choice
        self.setTitle("Destination")
        self.setSubTitle("Where the files go, and what happens to files that exist there already.")
        self.original = QRadioButton()
        self.other = QRadioButton("Another folder:")
        self.other.setChecked(True)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("e.g. /tmp/restored")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._pick)
        self.folder.textChanged.connect(lambda _t: (self.other.setChecked(True), self._validate()))
        self.original.toggled.connect(lambda _c: self._validate())
        self.overwrite = QComboBox()
        for value, label in OVERWRITE:
            self.overwrite.addItem(label, value)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #C62828")
        row = QHBoxLayout()
        row.addWidget(self.other)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.original)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addSpacing(12)
        layout.addWidget(QLabel("When a file exists already:"))
        layout.addWidget(self.overwrite)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.original.setText(f"The original location: {self.choice.point.point.object}")
        self._validate()

    def _pick(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Restore to folder", self.folder.text() or str(Path.home()))
        if folder:
            self.folder.setText(folder)

    def destination(self) -> str:
        if self.original.isChecked():
            return self.choice.point.point.object
        return os.path.expanduser(self.folder.text().strip())

    def _problem(self) -> str:
        if self.original.isChecked():
            return ""
        text = self.folder.text().strip()
        if not text:
            return "Choose a folder."
        path = os.path.expanduser(text)
        if not os.path.isabs(path):
            return "Give a full path (starting with /)."
        if os.path.exists(path) and not os.path.isdir(path):
            return f"{path} is a file, not a folder."
        return ""

    def _validate(self) -> None:
        self.error.setText(self._problem())
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self._problem()


class SummaryPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Summary")
        self.setSubTitle("Check what will be restored, then click Restore.")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addStretch(1)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Restore")


class ProgressPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Restoring")
        self.view = ProgressView()
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        self.run: Run | None = None

    def isComplete(self) -> bool:
        return self.run is None or not self.run.running

    def run_ended(self, _run: Run) -> None:
        self.completeChanged.emit()


class RestoreWizard(QWizard):
    def __init__(self, data_dir: Path, snapshot: Snapshot, runner: Runner, point_id: str,
                 paths: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = snapshot.point(point_id)
        if row is None:
            raise ConsoleError(f"restore point {point_id} is no longer in the catalog; refresh and try again")
        self.runner = runner
        self.snapshot = snapshot
        self.setWindowTitle("Restore")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.choice = _Choice(row, list(paths or []))
        self.point_page = PointPage(snapshot, self.choice)
        self.files_page = FilesPage(data_dir, self.choice)
        self.destination_page = DestinationPage(self.choice)
        self.summary_page = SummaryPage()
        self.progress_page = ProgressPage()
        for page in (self.point_page, self.files_page, self.destination_page, self.summary_page,
                     self.progress_page):
            self.addPage(page)
        self.currentIdChanged.connect(self._entered)
        self.resize(860, 600)
        self.run: Run | None = None

    def _entered(self, _id: int) -> None:
        page = self.currentPage()
        if page is self.summary_page:
            self.summary_page.text.setText(self.summary())
        elif page is self.progress_page and self.run is None:
            self._start()

    def summary(self) -> str:
        p = self.choice.point.point
        paths = self.files_page.paths()
        what = "everything" if paths is None else ", ".join(paths)
        overwrite = self.destination_page.overwrite.currentText()
        backup = self.snapshot.backup(p.backup)
        source = f"repository {backup.backup.repository} (job {backup.backup.job})" if backup else p.backup
        return (f"<b>Restore point:</b> {local_time(p.created, seconds=True)} ({p.id})<br>"
                f"<b>From:</b> {source}<br>"
                f"<b>Object:</b> {p.object}<br><b>What:</b> {what}<br>"
                f"<b>To:</b> {self.destination_page.destination()}<br><b>Existing files:</b> {overwrite}")

    def _start(self) -> None:
        p = self.choice.point.point
        try:
            self.run = self.runner.start_restore(p.id, self.destination_page.destination(), self.files_page.paths(),
                                                 self.destination_page.overwrite.currentData(), p.object)
        except ConsoleError as e:
            self.progress_page.message.setText(f"<span style='color:#C62828'>{error_message(e)}</span>")
            return
        self.progress_page.run = self.run
        self.progress_page.view.show_run(self.run)
        self.run.ended.connect(self.progress_page.run_ended)
        self.progress_page.completeChanged.emit()
