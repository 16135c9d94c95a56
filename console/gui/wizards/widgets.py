"""Pieces the three wizards share: the wizard and page base classes with inline validation, a busy indicator,
a folder list, the retention + GFS editor and its dialog, the retention preview calendar, the copy window grid and
the SFTP host key dialog.

Nothing here touches the repository or blocks: slow work goes through `run_in_background`.
"""

from __future__ import annotations

import calendar
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from console.core import paths
from console.core.catalog import Catalog
from console.core.engine.retention import MONTHS, WEEKDAYS, WEEKS, PointRef, RetentionPolicy, evaluate
from console.core.errors import ConsoleError, UsageError
from console.core.model import MIN_RETENTION
from console.gui.background import run_in_background

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #b3261e; font-weight: 600;"
# Fields named by a validation message get a red frame until they are edited (spin boxes and combo boxes only get
# the focus: a style sheet border would replace their native arrows).
INVALID_STYLE = ("QLineEdit[invalid=\"true\"], QAbstractItemView[invalid=\"true\"] "
                 "{ border: 2px solid #b3261e; border-radius: 3px; }")
Problem = str | tuple[str, QWidget] | None
HINT_STYLE = "color: #66696e;"
WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ---------------------------------------------------------------------------------------------- wizard plumbing


class ErrorLabel(QLabel):
    """The inline validation message at the bottom of a page: hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("validationError")
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, message: str) -> None:
        message = message[:1].upper() + message[1:]      # core messages start in lower case (CLI style)
        self.setText(f"⚠ {message}")
        self.show()

    def clear_error(self) -> None:
        self.clear()
        self.hide()

    @property
    def message(self) -> str:
        """The message without the warning sign ('' when none is shown)."""
        return self.text().removeprefix("⚠ ")


class BusyIndicator(QWidget):
    """An indeterminate bar with a line of text, for work running in the background."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(120)
        self.bar.setMaximumHeight(14)
        self.label = QLabel()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar)
        row.addWidget(self.label, 1)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def stop(self) -> None:
        self.hide()


@dataclass
class BackgroundCheck:
    """Slow verification a page needs before Next (connection test, repository probe), keyed by the inputs it
    verified so that unchanged inputs are not verified twice."""

    key: object
    busy_text: str
    fn: Callable[..., Any]
    args: tuple = ()


RETRY = object()    # returned by `check_failed` to run the same check again (e.g. after a host key was accepted)


class ValidatedPage(QWizardPage):
    """A wizard page that refuses Next/Finish with an inline message while `problem()` returns one.

    Pages that must verify something slowly return a BackgroundCheck from `background_check()`: Next then runs it
    off the GUI thread with a busy indicator and moves on by itself when it succeeded.
    """

    def __init__(self, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)
        self.body = QVBoxLayout(self)
        self.busy = BusyIndicator()
        self.error = ErrorLabel()
        self.checked_key: object = None       # the inputs the last successful background check verified
        self.checking = False
        self.check_result: Any = None
        self.invalid: QWidget | None = None   # the field the message is about

    def finish_layout(self) -> None:
        """Call after adding the page's widgets: busy indicator and message go right under them, and editing any
        field takes a shown message away (it may no longer be true)."""
        self.body.addWidget(self.busy)
        self.body.addWidget(self.error)
        self.body.addStretch(1)
        for edit in self.findChildren(QLineEdit):
            edit.textChanged.connect(self.clear_problem)
        for spin in self.findChildren(QAbstractSpinBox):
            spin.editingFinished.connect(self.clear_problem)
            if isinstance(spin, QSpinBox):
                spin.valueChanged.connect(self.clear_problem)
        for combo in self.findChildren(QComboBox):
            combo.currentIndexChanged.connect(self.clear_problem)
        for button in self.findChildren(QAbstractButton):
            button.toggled.connect(self.clear_problem)
            button.clicked.connect(self.clear_problem)
        for view in self.findChildren(QListWidget):
            view.model().rowsInserted.connect(self.clear_problem)
            view.model().rowsRemoved.connect(self.clear_problem)
            view.itemChanged.connect(self.clear_problem)

    def problem(self) -> Problem:
        """What keeps the admin from going on, in one sentence that says what to do — optionally with the field it
        is about, as (message, widget); None when all is well."""
        return None

    def show_problem(self, problem: Problem) -> None:
        self.clear_problem()
        if problem is None:
            return
        message, widget = problem if isinstance(problem, tuple) else (problem, None)
        self.error.show_error(message)
        if widget is not None:
            self.invalid = widget
            widget.setProperty("invalid", True)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
            widget.setFocus()

    def clear_problem(self) -> None:
        if self.checking:
            return
        self.error.clear_error()
        if self.invalid is not None and shiboken6.isValid(self.invalid):
            self.invalid.setProperty("invalid", False)
            self.invalid.style().unpolish(self.invalid)
            self.invalid.style().polish(self.invalid)
        self.invalid = None

    def background_check(self) -> BackgroundCheck | None:
        return None

    def check_done(self, result: Any) -> Problem:
        """Called on the GUI thread with the check's result; return a problem to stay on the page."""
        return None

    def check_failed(self, error: BaseException) -> object:
        """Called on the GUI thread when the check raised: a message to show, or RETRY."""
        return str(error) if isinstance(error, ConsoleError) else f"unexpected error: {error}"

    def _sync_problem(self) -> Problem:
        try:
            return self.problem()
        except ConsoleError as e:           # core validation speaks the admin's language already
            return str(e)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if self.checking:
            return False
        problem = self._sync_problem()
        if problem:
            self.show_problem(problem)
            return False
        self.clear_problem()
        check = self.background_check()
        if check is None or check.key == self.checked_key:
            return True
        self.run_check(check, advance=True)
        return False

    def run_check(self, check: BackgroundCheck, *, advance: bool) -> None:
        """Run `check` off the GUI thread; with advance, go to the next page when it succeeds."""
        self.clear_problem()
        self.checking = True
        self.busy.start(check.busy_text)
        self._set_navigation(False)
        self.busy_changed(True)

        def finish() -> bool:
            if not shiboken6.isValid(self):
                return False               # the wizard was closed meanwhile
            self.checking = False
            self.busy.stop()
            self._set_navigation(True)
            self.busy_changed(False)
            wizard = self.wizard()
            return wizard is not None and wizard.isVisible()   # cancelled meanwhile: no dialog, no next page

        def done(result: Any) -> None:
            if not finish():
                return
            problem = self.check_done(result)
            if problem:
                self.show_problem(problem)
                return
            self.checked_key, self.check_result = check.key, result
            wizard = self.wizard()
            if advance and wizard is not None and wizard.currentPage() is self:
                wizard.next()

        def failed(error: BaseException) -> None:
            if not finish():
                return
            outcome = self.check_failed(error)
            if outcome is RETRY:
                retry = self.background_check()
                if retry is not None:
                    self.run_check(retry, advance=advance)
            elif outcome:
                self.show_problem(str(outcome))

        run_in_background(check.fn, *check.args, on_done=done, on_error=failed)

    def busy_changed(self, busy: bool) -> None:
        """Pages disable their own buttons that would start the same work again."""

    def _set_navigation(self, enabled: bool) -> None:
        wizard = self.wizard()
        if wizard is None:
            return
        for which in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                      QWizard.WizardButton.FinishButton):
            button = wizard.button(which)
            if button is not None:
                button.setEnabled(enabled)

    def console_wizard(self) -> ConsoleWizard:
        wizard = self.wizard()
        assert isinstance(wizard, ConsoleWizard)
        return wizard


class ConsoleWizard(QWizard):
    """Base of the console's wizards: a catalog for lookups, Finish saves (`save()`), Cancel saves nothing.

    After `exec()` returns Accepted, `saved_name` names what was saved and `run_now` says whether to start it.
    """

    def __init__(self, data_dir: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = paths.data_dir(data_dir)      # None: the default data dir, as the CLI does
        self.catalog = Catalog.open(self.data_dir)
        self.saved_name = ""
        self.run_now = False
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoDefaultButton, False)
        self.setMinimumSize(860, 640)
        self.setStyleSheet(INVALID_STYLE)
        self.finished.connect(self._close_catalog)

    def save(self) -> str:
        """Write what the wizard built; return its name. Raise ConsoleError with a readable message to refuse."""
        raise NotImplementedError

    def current_validated_page(self) -> ValidatedPage | None:
        page = self.currentPage()
        return page if isinstance(page, ValidatedPage) else None

    def show_error(self, message: str) -> None:
        page = self.current_validated_page()
        if page is not None:
            page.show_problem(message)

    def accept(self) -> None:
        if not self.validateCurrentPage():
            return
        try:
            self.saved_name = self.save()
        except ConsoleError as e:
            log.info("wizard refused to save: %s", e)
            self.show_error(str(e))
            return
        super().accept()

    def finish_saved(self, name: str) -> None:
        """For wizards that save in the background: close as accepted once the work is done."""
        self.saved_name = name
        QWizard.accept(self)

    def _close_catalog(self) -> None:
        self.catalog.close()


def set_buttons_enabled(wizard: QWizard, enabled: bool) -> None:
    for which in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                  QWizard.WizardButton.FinishButton, QWizard.WizardButton.CancelButton):
        button = wizard.button(which)
        if button is not None:
            button.setEnabled(enabled)


def buddy_label(text: str, buddy: QWidget) -> QLabel:
    """A form label with a mnemonic (&) for a field that sits in a row layout (QFormLayout only buddies widgets)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def hint(text: str) -> QLabel:
    """A secondary line of explanation under a field."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    return label


def summary_html(rows: list[tuple[str, str]]) -> str:
    """Label/value rows as a two-column table (values may hold several lines)."""
    cells = "".join(
        f"<tr><td style='padding:3px 16px 3px 0; vertical-align:top'><b>{html.escape(label)}</b></td>"
        f"<td style='padding:3px 0'>{'<br>'.join(html.escape(line) for line in value.splitlines()) or '—'}</td></tr>"
        for label, value in rows)
    return f"<table>{cells}</table>"


class SummaryView(QLabel):
    """The summary of a wizard: a read-only, selectable table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.rows: list[tuple[str, str]] = []

    def set_rows(self, rows: list[tuple[str, str]]) -> None:
        self.rows = rows
        self.setText(summary_html(rows))

    def value(self, label: str) -> str:
        return dict(self.rows)[label]


def combo_select(combo: QComboBox, data: Any) -> bool:
    """Select the item whose data is `data`; False when there is none."""
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)
    return index >= 0


def fill_repositories(combo: QComboBox, repositories: list) -> None:
    """The repository pickers of the job wizards: "name  (local: /path)" with the name as item data."""
    combo.clear()
    for repo in repositories:
        kind = "SFTP" if repo.kind == "sftp" else "local"
        combo.addItem(f"{repo.name}  ({kind}: {repo.location})", repo.name)


def unique_name(wanted: str, taken: set[str]) -> str:
    """'name (copy)', 'name (copy 2)', ... the first one not taken."""
    candidate = f"{wanted} (copy)"
    n = 2
    while candidate in taken:
        candidate = f"{wanted} (copy {n})"
        n += 1
    return candidate


# ---------------------------------------------------------------------------------------------- folder list


class JobSummaryPage(ValidatedPage):
    """The last page of the job wizards: the settings as the wizard's summary_rows() tells them, and the choice
    to start the job at once."""

    def __init__(self, run_label: str) -> None:
        super().__init__("Summary", "Check the settings, then click Finish to save the job.")
        self.summary = SummaryView()
        self.run_now = QCheckBox(run_label)
        self.body.addWidget(self.summary)
        self.body.addSpacing(8)
        self.body.addWidget(self.run_now)
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        self.summary.set_rows(self.wizard().summary_rows())


class FolderList(QWidget):
    """Folders to protect: a list with Add folder… / Remove."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setAlternatingRowColors(True)
        self.add_button = QPushButton("&Add folder…")
        self.add_button.setToolTip("Choose a folder to protect")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setToolTip("Remove the selected folders from the list (nothing is deleted on disk)")
        self.remove_button.setEnabled(False)
        self.add_button.clicked.connect(self._browse)
        self.remove_button.clicked.connect(self.remove_selected)
        self.list.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.list.selectedItems())))
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)

    def folders(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def set_folders(self, folders: list[str]) -> None:
        self.list.clear()
        for folder in folders:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> bool:
        """Add an absolute folder path; False when it is listed already."""
        path = str(Path(folder).expanduser().absolute())
        if path in self.folders():
            return False
        item = QListWidgetItem(path)
        item.setToolTip(path)
        self.list.addItem(item)
        self.changed.emit()
        return True

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def _browse(self) -> None:
        start = self.folders()[-1] if self.folders() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to protect", start)
        if folder:
            self.add_folder(folder)


# ---------------------------------------------------------------------------------------------- retention + GFS


def gfs_summary(gfs: dict[str, Any]) -> str:
    parts = []
    if w := gfs.get("weekly"):
        parts.append(f"{w['keep']} weekly ({str(w['day']).capitalize()})")
    if m := gfs.get("monthly"):
        parts.append(f"{m['keep']} monthly ({m['week']} week)")
    if y := gfs.get("yearly"):
        parts.append(f"{y['keep']} yearly ({str(y['month']).capitalize()})")
    return ", ".join(parts)


class GfsDialog(QDialog):
    """Weekly / monthly / yearly archive (GFS) settings, each tier switched on by its own checkbox."""

    def __init__(self, gfs: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Configure GFS")
        intro = QLabel("Keep some full backups longer for archival purposes (grandfather-father-son). "
                       "Archive points share their blocks with the other restore points, so they cost no extra "
                       "space for data that did not change.")
        intro.setWordWrap(True)

        self.weekly = QCheckBox("Keep &weekly full backups for")
        self.weekly_keep = self._spin(1, 9999, 1, " weeks")
        self.weekly_day = QComboBox()
        for i, name in enumerate(WEEKDAYS):
            self.weekly_day.addItem(name.capitalize(), name)
            if name == "sunday":
                self.weekly_day.setCurrentIndex(i)

        self.monthly = QCheckBox("Keep &monthly full backups for")
        self.monthly_keep = self._spin(1, 999, 12, " months")
        self.monthly_week = QComboBox()
        for name in WEEKS:
            self.monthly_week.addItem(f"{name.capitalize()} week", name)
        self.monthly_week.setCurrentIndex(len(WEEKS) - 1)

        self.yearly = QCheckBox("Keep &yearly full backups for")
        self.yearly_keep = self._spin(1, 99, 5, " years")
        self.yearly_month = QComboBox()
        for name in MONTHS:
            self.yearly_month.addItem(name.capitalize(), name)

        grid = QGridLayout()
        grid.addWidget(self.weekly, 0, 0)
        grid.addWidget(self.weekly_keep, 0, 1)
        grid.addWidget(QLabel("If a full backup is not created on"), 1, 0, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.weekly_day, 1, 1)
        grid.addWidget(hint("the next point of that week is used instead."), 1, 2)
        grid.addWidget(self.monthly, 2, 0)
        grid.addWidget(self.monthly_keep, 2, 1)
        grid.addWidget(QLabel("Use the weekly full backup from the"), 3, 0, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.monthly_week, 3, 1)
        grid.addWidget(hint("of the month (days 1–7, 8–14, 15–21, 22–28, last 7 days)."), 3, 2)
        grid.addWidget(self.yearly, 4, 0)
        grid.addWidget(self.yearly_keep, 4, 1)
        grid.addWidget(QLabel("Use the monthly full backup from"), 5, 0, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.yearly_month, 5, 1)
        grid.setColumnStretch(2, 1)
        grid.setVerticalSpacing(6)
        for row in (2, 4):
            grid.setRowMinimumHeight(row, 32)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(grid)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        for box, widgets in ((self.weekly, (self.weekly_keep, self.weekly_day)),
                             (self.monthly, (self.monthly_keep, self.monthly_week)),
                             (self.yearly, (self.yearly_keep, self.yearly_month))):
            box.toggled.connect(lambda on, ws=widgets: [w.setEnabled(on) for w in ws])
            for w in widgets:
                w.setEnabled(False)
        self.set_gfs(gfs or {})
        self.resize(self.sizeHint().expandedTo(QSize(680, 0)))

    @staticmethod
    def _spin(low: int, high: int, value: int, suffix: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setSuffix(suffix)
        return spin

    def set_gfs(self, gfs: dict[str, Any]) -> None:
        w, m, y = gfs.get("weekly"), gfs.get("monthly"), gfs.get("yearly")
        self.weekly.setChecked(bool(w))
        if w:
            self.weekly_keep.setValue(int(w["keep"]))
            combo_select(self.weekly_day, str(w["day"]).lower())
        self.monthly.setChecked(bool(m))
        if m:
            self.monthly_keep.setValue(int(m["keep"]))
            combo_select(self.monthly_week, str(m["week"]).lower())
        self.yearly.setChecked(bool(y))
        if y:
            self.yearly_keep.setValue(int(y["keep"]))
            combo_select(self.yearly_month, str(y["month"]).lower())

    def gfs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.weekly.isChecked():
            out["weekly"] = {"keep": self.weekly_keep.value(), "day": self.weekly_day.currentData()}
        if self.monthly.isChecked():
            out["monthly"] = {"keep": self.monthly_keep.value(), "week": self.monthly_week.currentData()}
        if self.yearly.isChecked():
            out["yearly"] = {"keep": self.yearly_keep.value(), "month": self.yearly_month.currentData()}
        return out


class RetentionEditor(QWidget):
    """Short-term retention (N days or N restore points) plus the optional GFS archive tiers."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The spin box allows 1 so that "below the minimum" is refused with a message, not silently impossible.
        self.count = QSpinBox()
        self.count.setRange(1, 9999)
        self.count.setValue(7)
        self.count.setAccessibleName("Retention count")
        self.unit = QComboBox()
        self.unit.addItem("restore points", "points")
        self.unit.addItem("days", "days")
        self.unit.setAccessibleName("Retention unit")
        self.gfs_check = QCheckBox("&Keep certain full backups longer for archival purposes")
        self.gfs_button = QPushButton("&Configure…")
        self.gfs_button.setToolTip("Weekly, monthly and yearly archive points (GFS)")
        self.gfs_button.setEnabled(False)
        self.gfs_label = hint("")
        self._gfs: dict[str, Any] = {"weekly": {"keep": 4, "day": "sunday"}}

        row = QHBoxLayout()
        row.addWidget(QLabel("Keep"))
        row.addWidget(self.count)
        row.addWidget(self.unit)
        row.addStretch(1)
        gfs_row = QHBoxLayout()
        gfs_row.addWidget(self.gfs_check)
        gfs_row.addWidget(self.gfs_button)
        gfs_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(hint(f"With days, the day of the run plus N previous days are kept. At least "
                              f"{MIN_RETENTION} are required, and the 3 newest restore points are always kept."))
        layout.addLayout(gfs_row)
        layout.addWidget(self.gfs_label)

        self.count.valueChanged.connect(self.changed)
        self.unit.currentIndexChanged.connect(self.changed)
        self.gfs_check.toggled.connect(self._gfs_toggled)
        self.gfs_button.clicked.connect(self.configure_gfs)
        self._update_gfs_label()

    def _gfs_toggled(self, on: bool) -> None:
        self.gfs_button.setEnabled(on)
        self._update_gfs_label()
        self.changed.emit()

    def _update_gfs_label(self) -> None:
        on = self.gfs_check.isChecked()
        text = gfs_summary(self._gfs) if on else ""
        if on and not text:
            text = "No archive tier is selected: click Configure…"
        self.gfs_label.setText(f"Archive points: {text}" if on and self._gfs else text)
        self.gfs_label.setVisible(on)

    def gfs_dialog(self) -> GfsDialog:
        return GfsDialog(self._gfs, self)

    def configure_gfs(self) -> None:
        dialog = self.gfs_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_gfs(dialog.gfs())

    def set_gfs(self, gfs: dict[str, Any]) -> None:
        self._gfs = dict(gfs)
        self.gfs_check.setChecked(bool(gfs))
        self._update_gfs_label()
        self.changed.emit()

    def set_policy(self, policy: dict[str, Any]) -> None:
        if policy.get("days") is not None:
            self.count.setValue(int(policy["days"]))
            combo_select(self.unit, "days")
        else:
            self.count.setValue(int(policy.get("points") or 7))
            combo_select(self.unit, "points")
        gfs = policy.get("gfs") or {}
        if gfs:
            self._gfs = dict(gfs)
        self.gfs_check.setChecked(bool(gfs))
        self._update_gfs_label()

    def policy_dict(self) -> dict[str, Any]:
        """The policy in the catalog's shape; raises UsageError (readable) when it is not valid."""
        d: dict[str, Any] = {self.unit.currentData(): self.count.value()}
        if self.gfs_check.isChecked():
            if not self._gfs:
                raise UsageError("archival (GFS) retention is on but no weekly, monthly or yearly tier is chosen: "
                                 "click Configure… or clear the checkbox")
            d["gfs"] = self._gfs
        return RetentionPolicy.from_dict(d).to_dict()

    def describe(self) -> str:
        try:
            return RetentionPolicy.from_dict(self.policy_dict()).describe()
        except UsageError as e:
            return str(e)


# ---------------------------------------------------------------------------------------------- retention preview

REASON_COLORS = {
    "Y": QColor("#d9822b"), "M": QColor("#8e44ad"), "W": QColor("#2f6fd6"),
    "short-term": QColor("#3c9a4a"), "minimum": QColor("#1b998b"),
}
DELETED_COLOR = QColor("#d6d6d6")
REASON_LABELS = {"short-term": "short-term retention", "minimum": "minimum of restore points",
                 "W": "weekly archive (W)", "M": "monthly archive (M)", "Y": "yearly archive (Y)"}
LEGEND_LABELS = {"short-term": "short-term", "minimum": "minimum kept", "W": "weekly (W)", "M": "monthly (M)",
                 "Y": "yearly (Y)"}
PREVIEW_DAYS = 400


@dataclass
class SimulatedDay:
    """One simulated daily restore point and its fate at the end of the simulation."""

    day: date
    keep: bool
    reasons: list[str] = field(default_factory=list)
    gfs_expires: dict[str, date] = field(default_factory=dict)
    deleted_on: date | None = None
    flags_when_deleted: frozenset[str] = frozenset()

    @property
    def main_reason(self) -> str | None:
        """The reason that colours the cell: the longest-lived one."""
        for reason in ("Y", "M", "W", "short-term", "minimum"):
            if reason in self.reasons:
                return reason
        return None


def simulate_retention(policy_dict: dict[str, Any], start: date, days: int = PREVIEW_DAYS,
                       run_at: time = time(22, 0)) -> list[SimulatedDay]:
    """Run the policy day by day over `days` daily restore points, exactly as the engine would after each run
    (deleting what it drops and keeping the GFS flags it assigned), and report each point's fate."""
    policy = RetentionPolicy.from_dict(policy_dict)
    tz = datetime.now().astimezone().tzinfo
    chain: list[PointRef] = []
    result: dict[str, SimulatedDay] = {}
    for n in range(days):
        d = start + timedelta(days=n)
        created = datetime.combine(d, run_at, tzinfo=tz)
        chain.append(PointRef(str(n), created))
        result[str(n)] = SimulatedDay(day=d, keep=True)
        decisions = {x.id: x for x in evaluate(policy, chain, created + timedelta(minutes=5), tz)}
        kept = []
        for ref in chain:
            decision = decisions[ref.id]
            if decision.keep:
                kept.append(PointRef(ref.id, ref.created, decision.gfs))
            else:
                sim = result[ref.id]
                sim.keep, sim.deleted_on, sim.flags_when_deleted = False, d, decision.gfs
        chain = kept
        if n == days - 1:
            for ref in chain:
                decision = decisions[ref.id]
                result[ref.id].reasons = list(decision.reasons)
                result[ref.id].gfs_expires = dict(decision.gfs_expires)
    return [result[str(n)] for n in range(days)]


def describe_day(sim: SimulatedDay, policy_dict: dict[str, Any]) -> str:
    """A tooltip line: the point's date, kept or deleted, and why."""
    head = f"{sim.day:%a %d %b %Y}"
    if sim.keep:
        parts = []
        for reason in sim.reasons:
            until = sim.gfs_expires.get(reason)
            parts.append(REASON_LABELS[reason] + (f" until {until:%d %b %Y}" if until else ""))
        return f"{head}: kept — " + "; ".join(parts)
    if sim.flags_when_deleted:
        why = "its archive period ended (" + ", ".join(sorted(sim.flags_when_deleted)) + ")"
    elif policy_dict.get("days") is not None:
        why = f"older than the last {policy_dict['days']} days and not an archive point"
    else:
        why = f"more than {policy_dict.get('points')} newer restore points and not an archive point"
    return f"{head}: deleted on {sim.deleted_on:%d %b %Y} — {why}"


class PreviewCalendar(QWidget):
    """A month-per-row calendar of the simulated points: colour = why kept, grey = deleted."""

    CELL, GAP, LABEL_W, HEADER_H = 17, 2, 78, 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.days: list[SimulatedDay] = []
        self.policy: dict[str, Any] = {}
        self._months: list[tuple[int, int]] = []
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_days(self, days: list[SimulatedDay], policy: dict[str, Any]) -> None:
        self.days, self.policy = days, policy
        months: list[tuple[int, int]] = []
        for sim in days:
            if not months or months[-1] != (sim.day.year, sim.day.month):
                months.append((sim.day.year, sim.day.month))
        self._months = months
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        step = self.CELL + self.GAP
        return QSize(self.LABEL_W + 31 * step, self.HEADER_H + max(len(self._months), 14) * step)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()

    def _cell(self, d: date) -> QRect:
        step = self.CELL + self.GAP
        row = self._months.index((d.year, d.month))
        return QRect(self.LABEL_W + (d.day - 1) * step, self.HEADER_H + row * step, self.CELL, self.CELL)

    def day_at(self, pos: QPoint) -> SimulatedDay | None:
        step = self.CELL + self.GAP
        col, row = (pos.x() - self.LABEL_W) // step, (pos.y() - self.HEADER_H) // step
        if pos.x() < self.LABEL_W or pos.y() < self.HEADER_H or not 0 <= row < len(self._months) or col > 30:
            return None
        year, month = self._months[row]
        if col + 1 > calendar.monthrange(year, month)[1]:
            return None
        wanted = date(year, month, col + 1)
        if not self.days or not self.days[0].day <= wanted <= self.days[-1].day:
            return None
        return self.days[(wanted - self.days[0].day).days]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        step = self.CELL + self.GAP
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.75))
        painter.setFont(small)
        text_pen = self.palette().color(self.foregroundRole())
        painter.setPen(text_pen)
        for day in (1, 5, 10, 15, 20, 25, 31):
            painter.drawText(QRect(self.LABEL_W + (day - 1) * step - 4, 0, self.CELL + 8, self.HEADER_H),
                             Qt.AlignmentFlag.AlignCenter, str(day))
        for row, (year, month) in enumerate(self._months):
            painter.setPen(text_pen)
            painter.drawText(QRect(0, self.HEADER_H + row * step, self.LABEL_W - 6, self.CELL),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             f"{calendar.month_abbr[month]} {year}")
        bold = QFont(small)
        bold.setBold(True)
        painter.setFont(bold)
        last = self.days[-1].day if self.days else None
        for sim in self.days:
            rect = self._cell(sim.day)
            reason = sim.main_reason
            color = REASON_COLORS[reason] if sim.keep and reason else DELETED_COLOR
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(rect, 3, 3)
            if sim.keep and reason in ("W", "M", "Y"):
                painter.setPen(QColor("white"))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, reason)
            if sim.day == last:     # the day the simulation ends: "as of" marker
                painter.setPen(QPen(self.palette().color(self.foregroundRole()), 1.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(rect.adjusted(-1, -1, 1, 1), 3, 3)
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        sim = self.day_at(event.position().toPoint())
        if sim is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), describe_day(sim, self.policy), self)


class RetentionPreview(QWidget):
    """What the policy does to a year of daily restore points, computed off the GUI thread (≈ 0.2 s)."""

    updated = Signal()

    def __init__(self, parent: QWidget | None = None, *, start: Callable[[], date] = date.today,
                 days: int = PREVIEW_DAYS) -> None:
        super().__init__(parent)
        self._start, self._days = start, days
        self._policy: dict[str, Any] | None = None
        self._generation = 0
        self.result: list[SimulatedDay] = []
        self.calendar = PreviewCalendar()
        self.busy = BusyIndicator()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        # a wrapped label's height-for-width is not honoured inside wizard pages: keep room for its 2-3 lines
        self.summary.setMinimumHeight(self.summary.fontMetrics().lineSpacing() * 3)
        self.intro = hint("")
        legend = QHBoxLayout()
        for key in ("short-term", "minimum", "W", "M", "Y"):
            legend.addWidget(_swatch(REASON_COLORS[key], LEGEND_LABELS[key]))
        legend.addWidget(_swatch(DELETED_COLOR, "deleted"))
        legend.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.intro)
        layout.addLayout(legend)
        layout.addWidget(self.calendar)
        layout.addWidget(self.busy)
        layout.addWidget(self.summary)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)   # typing 1-2-0 in a spin box computes once
        self._timer.timeout.connect(self._compute)

    def set_policy(self, policy: dict[str, Any] | None) -> None:
        """Show the effect of `policy` (None: nothing valid to show)."""
        self._policy = policy
        self._timer.start()

    def _compute(self) -> None:
        self._generation += 1
        generation, policy = self._generation, self._policy
        if policy is None:
            self.result = []
            self.calendar.set_days([], {})
            self.summary.setText("Fix the retention settings to see a preview.")
            self.updated.emit()
            return
        start = self._start()
        self.intro.setText(f"One restore point a day at 22:00 for {self._days} days from {start:%d %b %Y}. Each "
                           f"square is a day's restore point as it stands after the last simulated run (outlined); "
                           f"hover a square to see why it is kept or when it was deleted.")
        self.busy.start("Calculating…")

        def done(days: list[SimulatedDay]) -> None:
            if not shiboken6.isValid(self) or generation != self._generation:
                return                       # closed meanwhile, or a newer policy is on its way
            self.busy.stop()
            self.result = days
            self.calendar.set_days(days, policy)
            self.summary.setText(self._summarize(days))
            self.updated.emit()

        def failed(error: BaseException) -> None:
            if not shiboken6.isValid(self) or generation != self._generation:
                return
            self.busy.stop()
            self.result = []
            self.summary.setText(f"Cannot preview this policy: {error}")
            self.updated.emit()

        run_in_background(simulate_retention, policy, start, self._days, on_done=done, on_error=failed)

    def _summarize(self, days: list[SimulatedDay]) -> str:
        kept = [d for d in days if d.keep]
        counts = {key: sum(1 for d in kept if key in d.reasons) for key in ("short-term", "minimum", "W", "M", "Y")}
        parts = [f"{counts[k]} {REASON_LABELS[k]}" for k in counts if counts[k]]
        return (f"After {len(days)} daily runs, {len(kept)} restore points are kept "
                f"({', '.join(parts)}; a point can count for several reasons) and "
                f"{len(days) - len(kept)} were deleted.")


def _swatch(color: QColor, text: str) -> QWidget:
    box = QLabel()
    box.setFixedSize(12, 12)
    box.setStyleSheet(f"background: {color.name()}; border: 1px solid #a0a0a0; border-radius: 2px;")
    label = QLabel(text)
    w = QWidget()
    row = QHBoxLayout(w)
    row.setContentsMargins(0, 0, 10, 0)
    row.setSpacing(4)
    row.addWidget(box)
    row.addWidget(label)
    return w


# ---------------------------------------------------------------------------------------------- copy window


ALLOWED_COLOR = QColor("#3c9a4a")
DENIED_COLOR = QColor("#dcdcdc")


def full_grid(value: bool) -> list[list[bool]]:
    return [[value] * 24 for _ in range(7)]


class WindowGrid(QWidget):
    """7 weekdays × 24 hours; click or drag to switch hours between allowed (green) and denied (grey).
    Keyboard: arrows move, Space toggles."""

    changed = Signal()
    CELL_W, CELL_H, LABEL_W, HEADER_H = 24, 24, 44, 20

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = full_grid(True)
        self._paint_value: bool | None = None
        self._cursor = (0, 0)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Copy window: weekdays by hours")
        self.setToolTip("Click or drag to allow or deny hours; arrow keys and Space work too")

    def grid(self) -> list[list[bool]]:
        return [list(row) for row in self._grid]

    def set_grid(self, grid: list[list[bool]]) -> None:
        self._grid = [[bool(v) for v in row] for row in grid]
        self.update()
        self.changed.emit()

    def set_all(self, value: bool) -> None:
        self.set_grid(full_grid(value))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.LABEL_W + 24 * self.CELL_W + 1, self.HEADER_H + 7 * self.CELL_H + 1)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.sizeHint()

    def cell_rect(self, weekday: int, hour: int) -> QRect:
        return QRect(self.LABEL_W + hour * self.CELL_W, self.HEADER_H + weekday * self.CELL_H, self.CELL_W,
                     self.CELL_H)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        hour, weekday = (pos.x() - self.LABEL_W) // self.CELL_W, (pos.y() - self.HEADER_H) // self.CELL_H
        if pos.x() < self.LABEL_W or pos.y() < self.HEADER_H or not (0 <= hour < 24 and 0 <= weekday < 7):
            return None
        return weekday, hour

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        fg = self.palette().color(self.foregroundRole())
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        painter.setFont(small)
        painter.setPen(fg)
        for hour in range(24):
            painter.drawText(QRect(self.LABEL_W + hour * self.CELL_W, 0, self.CELL_W, self.HEADER_H),
                             Qt.AlignmentFlag.AlignCenter, f"{hour:02d}")
        for weekday, name in enumerate(WEEKDAY_SHORT):
            painter.drawText(QRect(0, self.HEADER_H + weekday * self.CELL_H, self.LABEL_W - 6, self.CELL_H),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
        if not self.isEnabled():
            painter.setOpacity(0.35)
        grid_pen = QPen(QColor("#ffffff"), 1)
        for weekday in range(7):
            for hour in range(24):
                rect = self.cell_rect(weekday, hour)
                painter.fillRect(rect, ALLOWED_COLOR if self._grid[weekday][hour] else DENIED_COLOR)
                painter.setPen(grid_pen)
                painter.drawRect(rect)
        if self.hasFocus():
            painter.setPen(QPen(fg, 2))
            painter.drawRect(self.cell_rect(*self._cursor).adjusted(1, 1, -1, -1))
        painter.end()

    def _apply(self, cell: tuple[int, int]) -> None:
        weekday, hour = cell
        if self._paint_value is not None and self._grid[weekday][hour] != self._paint_value:
            self._grid[weekday][hour] = self._paint_value
            self.update()
            self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        cell = self.cell_at(event.position().toPoint())
        if cell is None or event.button() != Qt.MouseButton.LeftButton:
            return
        self._cursor = cell
        self._paint_value = not self._grid[cell[0]][cell[1]]   # the first cell decides: drag paints that value
        self._apply(cell)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._paint_value is None:
            return
        cell = self.cell_at(event.position().toPoint())
        if cell is not None:
            self._apply(cell)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._paint_value = None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        weekday, hour = self._cursor
        moves = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0), Qt.Key.Key_Down: (1, 0)}
        if event.key() in moves:
            dw, dh = moves[Qt.Key(event.key())]
            self._cursor = (min(6, max(0, weekday + dw)), min(23, max(0, hour + dh)))
            self.update()
        elif event.key() == Qt.Key.Key_Space:
            self._grid[weekday][hour] = not self._grid[weekday][hour]
            self.update()
            self.changed.emit()
        else:
            super().keyPressEvent(event)


class WindowEditor(QWidget):
    """The copy window grid with Allow all / Deny all, a legend and the window in words."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = WindowGrid()
        self.allow_all = QPushButton("Allow &all")
        self.deny_all = QPushButton("&Deny all")
        self.allow_all.clicked.connect(lambda: self.grid.set_all(True))
        self.deny_all.clicked.connect(lambda: self.grid.set_all(False))
        self.description = hint("")
        buttons = QHBoxLayout()
        buttons.addWidget(_swatch(ALLOWED_COLOR, "copying allowed"))
        buttons.addWidget(_swatch(DENIED_COLOR, "copying denied"))
        buttons.addStretch(1)
        buttons.addWidget(self.allow_all)
        buttons.addWidget(self.deny_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.grid)
        layout.addLayout(buttons)
        layout.addWidget(self.description)
        self.grid.changed.connect(self._grid_changed)
        self._grid_changed()

    def _grid_changed(self) -> None:
        self.description.setText(describe_grid(self.grid.grid()))
        self.changed.emit()


def _hour_spans(row: list[bool]) -> str:
    if all(row):
        return "all day"
    spans, hour = [], 0
    while hour < 24:
        if row[hour]:
            end = hour
            while end < 24 and row[end]:
                end += 1
            spans.append(f"{hour:02d}:00–{end:02d}:00")
            hour = end
        else:
            hour += 1
    return ", ".join(spans) if spans else "never"


def _day_names(days: list[int]) -> str:
    """[0, 1, 2, 4] -> 'Mon–Wed, Fri'."""
    parts, i = [], 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        first, last = WEEKDAY_SHORT[days[i]], WEEKDAY_SHORT[days[j]]
        parts.append(first if i == j else f"{first}, {last}" if j == i + 1 else f"{first}–{last}")
        i = j + 1
    return ", ".join(parts)


def describe_grid(grid: list[list[bool]]) -> str:
    """The allowed hours in words, weekdays with the same hours grouped: 'Mon–Fri 00:00–06:00, 20:00–24:00; ...'."""
    if all(all(row) for row in grid):
        return "Copying is allowed at any time."
    if not any(any(row) for row in grid):
        return "Copying is denied at all times: no copy would ever run."
    groups: dict[tuple[bool, ...], list[int]] = {}
    for weekday, row in enumerate(grid):
        groups.setdefault(tuple(row), []).append(weekday)
    clauses = [f"{_day_names(days)}: {_hour_spans(list(row))}"
               for row, days in sorted(groups.items(), key=lambda item: item[1][0])]
    return "Copying allowed — " + "; ".join(clauses)


# ---------------------------------------------------------------------------------------------- SFTP host keys


class HostKeyDialog(QDialog):
    """Shows an SFTP server's host key. Unknown key: Accept and remember / Reject. Changed key: refusal only."""

    def __init__(self, host: str, key_type: str = "", fingerprint: str = "", *, old_fingerprint: str = "",
                 known_hosts: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.changed_key = bool(old_fingerprint)
        self.setWindowTitle("Host key changed — connection refused" if self.changed_key else "Unknown SFTP host key")
        headline = QLabel()
        headline.setWordWrap(True)
        headline.setTextFormat(Qt.TextFormat.RichText)
        details = QFormLayout()
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.fingerprint_label = QLabel(fingerprint)
        self.fingerprint_label.setFont(mono)
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox()
        if self.changed_key:
            headline.setText(f"<span style='color:#b3261e'><b>The host key of {html.escape(host)} has changed.</b>"
                             f"</span> The console refuses to connect: this can mean that someone is intercepting "
                             f"the connection (man-in-the-middle), or that the server was reinstalled.")
            if key_type and not fingerprint.startswith(key_type):
                self.fingerprint_label.setText(f"{key_type} {fingerprint}")   # the known key is shown typed too
            self.old_label = QLabel(old_fingerprint)
            self.old_label.setFont(mono)
            self.old_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            details.addRow("Known key:", self.old_label)
            details.addRow("Key offered now:", self.fingerprint_label)
            advice = ("Ask the server's administrator whether the key was changed. If it was, remove the old "
                      f"entry for {host} from the console's known hosts file"
                      + (f" ({known_hosts})" if known_hosts else "") + " and connect again.")
            self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
            self.buttons.rejected.connect(self.reject)
        else:
            headline.setText(f"<b>{html.escape(host)} is not known yet.</b> Check that the fingerprint below is "
                             f"the server's before you accept it; the console then remembers the key and refuses a "
                             f"different one later.")
            details.addRow("Key type:", QLabel(key_type))
            details.addRow("SHA256 fingerprint:", self.fingerprint_label)
            advice = ("On the server, `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` (or the key file of "
                      "this type) prints the fingerprint to compare.")
            self.accept_button = self.buttons.addButton("&Accept and remember",
                                                        QDialogButtonBox.ButtonRole.AcceptRole)
            self.reject_button = self.buttons.addButton("&Reject", QDialogButtonBox.ButtonRole.RejectRole)
            self.accept_button.setAutoDefault(False)
            self.reject_button.setDefault(True)      # the safe choice is the default
            self.buttons.accepted.connect(self.accept)
            self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(headline)
        layout.addSpacing(6)
        layout.addLayout(details)
        layout.addSpacing(6)
        layout.addWidget(hint(advice))
        layout.addWidget(self.buttons)
        self.setMinimumWidth(620)


__all__ = [
    "RETRY", "BackgroundCheck", "BusyIndicator", "ConsoleWizard", "ErrorLabel", "FolderList", "GfsDialog",
    "HostKeyDialog", "PreviewCalendar", "RetentionEditor", "RetentionPreview", "SimulatedDay", "SummaryView",
    "ValidatedPage", "WindowEditor", "WindowGrid", "combo_select", "describe_day", "describe_grid", "full_grid",
    "buddy_label", "gfs_summary", "hint", "set_buttons_enabled", "simulate_retention", "summary_html", "unique_name",
]
