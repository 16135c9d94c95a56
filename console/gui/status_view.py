"""Home: the first-start welcome, then the 3-2-1 status of every protected source and the last 24 hours."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from console.core.operations.protection import REQUIRED_COPIES, SourceProtection
from console.gui.formatting import human_age, local_time, now_utc
from console.gui.models.table import Column, RecordTableModel
from console.gui.resources import resource_icon
from console.gui.snapshot import Snapshot, recent
from console.gui.views.widgets import EmptyState, SelectionTable, hint, page_title, setup_table

WELCOME = "Welcome! Add a repository (where backups are stored), then create your first backup job."
NO_JOBS = "Your repository is ready. Create a backup job to protect your first folders."


def protection_model() -> RecordTableModel:
    columns = [
        Column("Protected source", lambda p: p.source, width=200,
               icon=lambda p: resource_icon("status-success" if p.ok else "status-warning")),
        Column("3-2-1", lambda p: "Rule holds" if p.ok else "Incomplete", width=85,
               tooltip=lambda p: "3 copies, 2 kinds of media, 1 off-site" if p.ok else "\n".join(p.missing)),
        Column("Copies", lambda p: f"{p.copies} of {REQUIRED_COPIES}", sort=lambda p: p.copies, width=60,
               header_tip="The source itself plus every repository holding a usable restore point"),
        Column("Media", lambda p: ", ".join(p.media), sort=lambda p: len(p.media), width=210),
        Column("Off-site", lambda p: "Yes" if p.offsite else "No", width=60),
        Column("Newest point", lambda p: human_age(p.age()) if p.newest else "none yet",
               sort=lambda p: p.newest.timestamp() if p.newest else 0.0,
               tooltip=lambda p: local_time(p.newest), width=105),
        Column("What is missing", lambda p: "; ".join(p.missing) or "nothing",
               tooltip=lambda p: "\n".join(p.missing) or "The 3-2-1 rule holds", width=300),
        Column("Stored in", lambda p: ", ".join(loc.repository for loc in p.locations) or "—", width=140),
    ]
    return RecordTableModel(columns, key=lambda p: p.source)


class _Counter(QFrame):
    clicked = Signal()

    def __init__(self, label: str, icon: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.value = QLabel("0")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        pic = QLabel()
        pic.setPixmap(resource_icon(icon).pixmap(22, 22))
        row = QHBoxLayout(self)
        row.addWidget(pic)
        row.addWidget(self.value)
        row.addWidget(QLabel(label))
        row.addStretch(1)
        self.setToolTip(f"Show the sessions of the last 24 hours: {label.lower()}")

    def mousePressEvent(self, event: object) -> None:
        self.clicked.emit()


class HomePage(QWidget):
    """Welcome panel until there is a repository and a job; afterwards the protection overview."""

    show_sessions = Signal(str)        # status to show in Last 24 hours

    def __init__(self, add_repository: Callable[[], None], new_backup_job: Callable[[], None],
                 new_copy_job: Callable[[], None]) -> None:
        super().__init__()
        self.welcome = EmptyState(WELCOME, [("Add Repository…", "repository", add_repository),
                                            ("New Backup Job…", "job", new_backup_job)])
        self.add_repository_button, self.new_backup_job_button = self.welcome.buttons
        self.new_backup_job_button.setEnabled(False)
        self.new_backup_job_button.setToolTip("Add a repository first: a backup job needs somewhere to write")

        overview = QWidget()
        self.title = page_title("3-2-1 protection")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.counters: dict[str, _Counter] = {}
        counters = QHBoxLayout()
        for status, label, icon in (("running", "Running", "status-running"), ("success", "Success", "status-success"),
                                    ("warning", "Warning", "status-warning"), ("failed", "Failed", "status-failed")):
            counter = _Counter(label, icon)
            counter.clicked.connect(lambda s=status: self.show_sessions.emit(s))
            self.counters[status] = counter
            counters.addWidget(counter)
        self.model = protection_model()
        self.table = SelectionTable()
        self.table.setModel(self.model)
        setup_table(self.table, self.model.columns)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        layout = QVBoxLayout(overview)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.title)
        layout.addWidget(hint("The 3-2-1 rule: keep 3 copies of your data (the source counts), on 2 kinds of "
                              "media, with 1 copy off-site. Each protected folder is checked here."))
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(page_title("Last 24 hours"))
        layout.addLayout(counters)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(overview)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.overview = overview
        self._new_copy_job = new_copy_job

    def set_snapshot(self, snap: Snapshot) -> None:
        if snap.empty or not snap.jobs:
            self.welcome.set_message(WELCOME if snap.empty else NO_JOBS)
            self.new_backup_job_button.setEnabled(not snap.empty)
            self.new_backup_job_button.setToolTip("" if not snap.empty else
                                                  "Add a repository first: a backup job needs somewhere to write")
            self.stack.setCurrentWidget(self.welcome)
            return
        self.stack.setCurrentWidget(self.overview)
        self.model.set_records(snap.protection)
        self.summary.setText(protection_summary(snap.protection))
        last = recent(snap.sessions, now_utc())
        for status, counter in self.counters.items():
            n = sum((not s.status.finished) if status == "running" else s.status.value == status for s in last)
            counter.value.setText(str(n))


def protection_summary(items: list[SourceProtection]) -> str:
    if not items:
        return "No protected sources yet."
    ok = sum(p.ok for p in items)
    n = len(items)
    if ok == n:
        what = "The protected source follows" if n == 1 else f"All {n} protected sources follow"
        return f"<span style='color:#2E7D32'><b>{what} the 3-2-1 rule.</b></span>"
    worst = next(p for p in items if not p.ok)
    bad = n - ok
    verb = "does" if bad == 1 else "do"
    return (f"<span style='color:#B26A00'><b>{bad} of {n} protected source{'s' if n != 1 else ''} {verb} not "
            f"follow the 3-2-1 rule yet.</b></span> For example {escape(worst.source)}: {escape(worst.missing[0])}.")
