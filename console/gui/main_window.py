"""The console's main window: navigation tree on the left, the working area on the right, a toolbar whose actions
follow the selection, menus, and a status bar with the runs in progress and the scheduler state.

The window owns the Runner (job/restore/check runs in worker threads), the scheduler thread and the Snapshot: every
view shows data from one Snapshot loaded off the GUI thread, reloaded after each action, when a run ends, and when
another process (the CLI, a headless service) changed the catalog.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QFontMetrics, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from console.core import paths
from console.core.catalog import Catalog
from console.core.model import JobKind, Session
from console.core.units import plural
from console.gui.actions import Actions, Selection
from console.gui.browser import BackupsPage
from console.gui.catalog_access import with_catalog
from console.gui.dialogs import confirm, show_error
from console.gui.progress_view import SessionWindow
from console.gui.resources import app_icon, resource_icon, resources_dir
from console.gui.responsiveness import freeze_startup_objects, tune_interpreter
from console.gui.runner import Run, Runner
from console.gui.scheduler import SETTING as SCHEDULER_SETTING
from console.gui.scheduler import GuiScheduler
from console.gui.sessions_view import SessionsPage
from console.gui.snapshot import Snapshot, load_snapshot
from console.gui.status_view import WELCOME, HomePage
from console.gui.views.jobs_view import JobsPage
from console.gui.views.repositories_view import RepositoriesPage

log = logging.getLogger(__name__)
WINDOW_TITLE = "Backup Copy Console"
DEFAULT_SIZE = QSize(1200, 760)
ROW_HEIGHT = 26
WATCH_MS = 2000                 # how often to look for catalog changes made by other processes
SPARE_WINDOW_MS = 500           # a progress window is built ahead this long after startup / the last one
RUNNING_RELOAD_S = 6.0          # while runs are active (they write often), reload no more often than this
EMPTY_STATE_TEXT = WELCOME
__all__ = ["EMPTY_STATE_TEXT", "MainWindow", "resource_icon", "resources_dir"]

# (label, icon, (page, argument), children)
NAVIGATION: list[tuple[str, str | None, tuple[str, Any], list]] = [
    ("Home", "home", ("home", None), [
        ("Jobs", "job", ("jobs", None), [
            ("Backup", "job", ("jobs", JobKind.BACKUP), []),
            ("Backup Copy", "copy-job", ("jobs", JobKind.COPY), []),
        ]),
        ("Backups", "repository", ("backups", "all"), [
            ("Disk", "repository", ("backups", "disk"), []),
            ("Disk (Copy)", "copy-job", ("backups", "copy"), []),
            ("Orphaned", "point-missing", ("backups", "orphaned"), []),
        ]),
        ("Last 24 hours", "history", ("recent", None), [
            ("Running", "status-running", ("recent", "running"), []),
            ("Success", "status-success", ("recent", "success"), []),
            ("Warning", "status-warning", ("recent", "warning"), []),
            ("Failed", "status-failed", ("recent", "failed"), []),
        ]),
    ]),
    ("Backup Infrastructure", "infrastructure", ("repositories", None), [
        ("Repositories", "repository", ("repositories", None), []),
    ]),
    ("History", "history", ("sessions", None), [
        ("Sessions", "history", ("sessions", None), []),
    ]),
]
PAGE_ACTIONS = {
    "home": ["new_repository", "new_backup_job", "new_copy_job"],
    "jobs": ["start", "stop", "active_full", "sync_now", "show_session", "edit", "toggle_enabled", "clone",
             "delete_job"],
    "backups": ["restore", "properties", "rescan", "remove_missing", "delete_from_disk", "remove_from_config"],
    "repositories": ["rescan", "check_repo", "verify_repo", "edit", "offsite", "properties", "remove_repo"],
    "sessions": ["show_session", "stop"],
    "recent": ["show_session", "stop"],
}


def _files_stamp(db: Path) -> tuple:
    """Size and mtime of the catalog and its write-ahead log: they change with every commit, whoever makes it."""
    out: list[tuple[int, int] | None] = []
    for path in (db, Path(f"{db}-wal")):
        try:
            st = os.stat(path)
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


class MainWindow(QMainWindow):
    def __init__(self, data_dir: Path | None = None, *, start_scheduler: bool = True,
                 scheduler_tick: float | None = None) -> None:
        super().__init__()
        tune_interpreter()
        self.data_dir = paths.data_dir(data_dir)
        self.setWindowTitle(WINDOW_TITLE)
        self.setWindowIcon(app_icon())
        self.resize(DEFAULT_SIZE)
        self.snapshot: Snapshot | None = None
        self.runner = Runner(self.data_dir, self)
        self.scheduler = GuiScheduler(self.data_dir, self.runner, parent=self,
                                      **({"tick": scheduler_tick} if scheduler_tick else {}))
        self._want_scheduler = start_scheduler
        self.session_windows: dict[str, SessionWindow] = {}
        self._spare_window: SessionWindow | None = None
        self._started = False
        self._stale_pages: set[str] = set()          # pages not showing the newest snapshot yet
        self.restore_wizards: list[QWidget] = []
        self._loading = False
        self._reload_again = False
        self._after_load: list[Callable[[], None]] = []
        self._stamp: tuple | None = None
        self._loaded_at = 0.0
        self._closing = False
        self._menu_kind = ""
        self._followed: set[Run] = set()
        self.page = "home"

        self.commands = Actions(self)
        c = self.commands
        self.home = HomePage(c.new_repository.trigger, c.new_backup_job.trigger, c.new_copy_job.trigger)
        self.add_repository_button = self.home.add_repository_button
        self.new_backup_job_button = self.home.new_backup_job_button
        self.jobs = JobsPage(self._job_state, c.new_backup_job.trigger, c.new_copy_job.trigger)
        self.backups = BackupsPage(self.data_dir, c.new_backup_job.trigger)
        self.repositories = RepositoriesPage(c.new_repository.trigger)
        self.sessions = SessionsPage()
        self.pages = QStackedWidget()
        self.page_widgets = {"home": self.home, "jobs": self.jobs, "backups": self.backups,
                             "repositories": self.repositories, "sessions": self.sessions, "recent": self.sessions}
        for widget in (self.home, self.jobs, self.backups, self.repositories, self.sessions):
            self.pages.addWidget(widget)

        self.navigation = self._build_navigation()
        self.section_title = QLabel()        # the navigation label of the page shown (tests, accessibility)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.navigation)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, DEFAULT_SIZE.width() - 230])
        self.setCentralWidget(splitter)
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()
        self._connect()

        self.navigation.setCurrentItem(self.navigation.topLevelItem(0))
        self.statusBar().showMessage("Ready")
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._look_for_changes)
        self._watch.start()
        self.refresh(after=self._start_scheduler_if_wanted)

    # -- building ---------------------------------------------------------------------------------------------
    def _build_navigation(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setObjectName("navigation")
        tree.setHeaderHidden(True)
        tree.setColumnCount(1)
        tree.setIconSize(QSize(18, 18))
        tree.setMinimumWidth(190)
        tree.setAccessibleName("Navigation")

        def add(parent: QTreeWidget | QTreeWidgetItem, label: str, icon: str | None, target: tuple[str, Any],
                children: list) -> None:
            item = QTreeWidgetItem(parent, [label])
            item.setData(0, Qt.ItemDataRole.UserRole, target)
            font = item.font(0)
            font.setBold(isinstance(parent, QTreeWidget))
            item.setFont(0, font)
            if icon:
                item.setIcon(0, resource_icon(icon))
            width = QFontMetrics(font).horizontalAdvance(label) + tree.iconSize().width() + 16
            item.setSizeHint(0, QSize(width, ROW_HEIGHT))
            for child in children:
                add(item, *child)

        for node in NAVIGATION:
            add(tree, *node)
        tree.expandAll()
        return tree

    def _build_toolbar(self) -> None:
        bar = QToolBar("Actions")
        bar.setObjectName("actions")
        bar.setMovable(False)
        bar.setIconSize(QSize(22, 22))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        new_menu = QMenu(self)
        for action in (self.commands.new_repository, self.commands.new_backup_job, self.commands.new_copy_job):
            new_menu.addAction(action)
        self.new_button = QToolButton()
        self.new_button.setText("New")
        self.new_button.setIcon(resource_icon("add"))
        self.new_button.setToolTip("Add a repository, a backup job or a backup copy job")
        self.new_button.setMenu(new_menu)
        self.new_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.new_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.new_button_action = bar.addWidget(self.new_button)
        bar.addSeparator()
        self.toolbar_actions: dict[str, QAction] = {}
        names = []
        for page_names in PAGE_ACTIONS.values():
            names += [n for n in page_names if n not in names]
        for name in names:
            if name == "remove_missing":
                button = QToolButton()
                button.setText("Remove Missing")
                button.setIcon(resource_icon("point-missing"))
                button.setToolTip("Remove restore points the repository no longer has (only when there are some)")
                button.setMenu(self.commands.remove_missing_menu)
                button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
                self.remove_missing_button = button
                self.toolbar_actions[name] = bar.addWidget(button)
            else:
                action = getattr(self.commands, name)
                bar.addAction(action)
                self.toolbar_actions[name] = action
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.commands.refresh)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

    def _build_menus(self) -> None:
        a = self.commands
        file_menu = self.menuBar().addMenu("&File")
        for action in (a.new_repository, a.new_backup_job, a.new_copy_job):
            file_menu.addAction(action)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        view = self.menuBar().addMenu("&View")
        for n, (label, page) in enumerate((("Home", ("home", None)), ("Jobs", ("jobs", None)),
                                           ("Backups", ("backups", "all")), ("Repositories", ("repositories", None)),
                                           ("Sessions", ("sessions", None))), start=1):
            action = view.addAction(label)
            action.setShortcut(QKeySequence(f"Ctrl+{n}"))
            action.triggered.connect(lambda _c=False, t=page: self.show_page(*t))
        view.addSeparator()
        view.addAction(a.refresh)
        jobs = self.menuBar().addMenu("&Job")
        for action in (a.start, a.stop, a.active_full, a.sync_now, a.copy_all, a.health_check, None, a.show_session,
                       a.edit, a.toggle_enabled, a.clone, a.delete_job):
            jobs.addSeparator() if action is None else jobs.addAction(action)
        backup = self.menuBar().addMenu("&Backup")
        for action in (a.restore, a.browse, a.properties, None, a.rescan, None, a.delete_from_disk,
                       a.remove_from_config):
            backup.addSeparator() if action is None else backup.addAction(action)
        backup.addMenu(a.remove_missing_menu)
        tools = self.menuBar().addMenu("&Tools")
        self.scheduler_action = tools.addAction("Run Scheduled Jobs While the Console Is Open")
        self.scheduler_action.setCheckable(True)
        self.scheduler_action.setToolTip("The console runs scheduled jobs and copies itself while it is open "
                                         "(like `backup-console service`)")
        self.scheduler_action.toggled.connect(self._scheduler_toggled)
        help_menu = self.menuBar().addMenu("&Help")
        about = help_menu.addAction("About Backup Copy Console")
        about.triggered.connect(self._about)

    def _build_status_bar(self) -> None:
        self.running_label = QLabel()
        self.running_label.setToolTip("Runs in progress (Home > Last 24 hours > Running)")
        self.scheduler_label = QLabel()
        self.statusBar().addPermanentWidget(self.running_label)
        self.statusBar().addPermanentWidget(self.scheduler_label)
        self._update_running()
        self._scheduler_state(False)

    def _connect(self) -> None:
        self.navigation.currentItemChanged.connect(self._on_navigation_changed)
        self.jobs.selection_changed.connect(self.update_actions)
        self.jobs.context_menu_requested.connect(lambda pos: self._popup("job", pos))
        self.jobs.activated.connect(lambda _r: self.commands.show_session.trigger())
        self.repositories.selection_changed.connect(self.update_actions)
        self.repositories.context_menu_requested.connect(lambda pos: self._popup("repository", pos))
        self.repositories.activated.connect(lambda _r: self.commands.properties.trigger())
        self.sessions.selection_changed.connect(self.update_actions)
        self.sessions.context_menu_requested.connect(lambda pos: self._popup("session", pos))
        self.sessions.activated.connect(lambda s: s is not None and self.open_session(s))
        self.backups.selection_changed.connect(self.update_actions)
        self.backups.context_menu_requested.connect(lambda pos, kind: self._popup(kind, pos))
        self.backups.restore_requested.connect(self.open_restore)
        self.home.show_sessions.connect(lambda status: self.show_page("recent", status))
        self.runner.run_started.connect(self._run_changed)
        self.runner.run_finished.connect(self._run_finished)
        self.scheduler.state_changed.connect(self._scheduler_state)
        self.scheduler.message.connect(lambda text: self.statusBar().showMessage(text, 10000))

    # -- pages and selection -------------------------------------------------------------------------------------
    def show_page(self, page: str, argument: Any = None) -> None:
        """Select the navigation item for (page, argument) — which shows the page."""
        if page == "backups" and argument is None:
            argument = "all"                          # the navigation's "Backups" item: every backup

        def find(item: QTreeWidgetItem) -> QTreeWidgetItem | None:
            if item.data(0, Qt.ItemDataRole.UserRole) == (page, argument) and item.text(0) != "Backup Infrastructure" \
                    and item.text(0) != "History":
                return item
            for i in range(item.childCount()):
                found = find(item.child(i))
                if found is not None:
                    return found
            return None

        for i in range(self.navigation.topLevelItemCount()):
            item = find(self.navigation.topLevelItem(i))
            if item is not None:
                self.navigation.setCurrentItem(item)
                return
        self._show(page, argument, page)

    def _on_navigation_changed(self, item: QTreeWidgetItem | None, _previous: Any = None) -> None:
        if item is None:
            return
        page, argument = item.data(0, Qt.ItemDataRole.UserRole)
        self._show(page, argument, item.text(0))

    def _show(self, page: str, argument: Any, label: str) -> None:
        self.page = page
        self.section_title.setText(label)
        if page == "jobs":
            self.jobs.set_kind(argument)
        elif page == "backups":
            self.backups.set_filter(argument or "all")
        elif page == "recent":
            self.sessions.show_filter(argument, last_24_hours=True)
        elif page == "sessions":
            self.sessions.show_filter()
        self._update_page(page)
        self.pages.setCurrentWidget(self.page_widgets[page])
        visible = set(PAGE_ACTIONS.get(page, []))
        for name, action in self.toolbar_actions.items():
            action.setVisible(name in visible)
        self.update_actions()

    def selection(self) -> Selection:
        s = Selection(page=self.page)
        if self.page == "jobs":
            s.job = self.jobs.selected()
        elif self.page == "backups":
            s.backup = self.backups.selected_backup()
            s.object = self.backups.selected_object()
            s.point = self.backups.selected_point()
            s.paths = self.backups.selected_paths()
        elif self.page == "repositories":
            s.repository = self.repositories.selected()
        elif self.page in ("sessions", "recent"):
            s.session = self.sessions.selected()
        return s

    def update_actions(self) -> None:
        self.commands.update(self.selection())
        self.remove_missing_button.setEnabled(self.commands.remove_missing_menu.isEnabled())

    def _popup(self, kind: str, pos: QPoint) -> None:
        self._menu_kind = kind
        self.update_actions()
        self.commands.popup(kind, pos)

    def context_menu(self, kind: str) -> QMenu:
        """The context menu for what is selected now, without showing it (keyboard users: Shift+F10 path)."""
        self._menu_kind = kind
        self.update_actions()
        return self.commands.menu_for(kind)

    def focus_is_points(self) -> bool:
        return self._menu_kind == "point" or self.backups.points_view.hasFocus()

    def focus_files(self) -> None:
        self.show_page("backups", self.backups.filter)
        self.backups.shown_files_view().setFocus()

    def select_job(self, name: str) -> None:
        self.show_page("jobs")
        self.jobs.select_key(name)

    # -- snapshot ------------------------------------------------------------------------------------------------
    def refresh(self, after: Callable[[], None] | None = None) -> None:
        """Reload the snapshot in the background (coalesced); `after` runs once the new one is shown."""
        if after is not None:
            self._after_load.append(after)
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        db = paths.catalog_path(self.data_dir)

        def load(catalog: Catalog) -> tuple[tuple, Snapshot]:
            stamp = _files_stamp(db)          # before reading: a change made meanwhile triggers the next reload
            return stamp, load_snapshot(catalog)

        with_catalog(self.data_dir, load, on_done=self._loaded, on_error=self._load_failed)

    def _loaded(self, result: tuple[tuple, Snapshot]) -> None:
        self._loading = False
        self._loaded_at = time.monotonic()
        self._stamp, snap = result
        self.apply_snapshot(snap)
        if not self._started:               # the first snapshot is shown: the console has started
            self._started = True
            freeze_startup_objects()
            QTimer.singleShot(SPARE_WINDOW_MS, self._prepare_session_window)
        if self._reload_again:
            self._reload_again = False
            self.refresh()
            return
        callbacks, self._after_load = self._after_load, []
        for callback in callbacks:
            callback()

    def _load_failed(self, error: BaseException) -> None:
        self._loading = False
        log.error("cannot read the catalog: %s", error)
        self.statusBar().showMessage(f"Cannot read the catalog: {error}", 15000)
        callbacks, self._after_load = self._after_load, []
        for callback in callbacks:
            callback()

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Show a new snapshot on the page in view; the other pages take it when they are shown (reloads come
        every few seconds while runs write, and rebuilding hidden tables would only cost the GUI thread)."""
        self.snapshot = snap
        self._stale_pages = {"home", "jobs", "backups", "repositories", "sessions"}
        self._update_page(self.page)
        self.update_actions()

    def _update_page(self, page: str) -> None:
        widget = "sessions" if page == "recent" else page
        if self.snapshot is None or widget not in self._stale_pages:
            return
        self._stale_pages.discard(widget)
        snap = self.snapshot
        if widget == "home":
            self.home.set_snapshot(snap)
        elif widget == "jobs":
            self.jobs.set_records(snap.jobs)
        elif widget == "backups":
            self.backups.set_snapshot(snap)
        elif widget == "repositories":
            self.repositories.set_records(snap.repositories)
        else:
            self.sessions.set_sessions(snap.sessions, [j.name for j in snap.jobs])

    def _look_for_changes(self) -> None:
        """Reload when another process (CLI, service) or a run changed the catalog files."""
        if self._loading:
            return
        db = paths.catalog_path(self.data_dir)

        def compare(new: tuple) -> None:
            # while runs write their statistics every few seconds, reload at most every RUNNING_RELOAD_S
            if self.runner.active() and time.monotonic() - self._loaded_at < RUNNING_RELOAD_S:
                return
            if not self._loading and new != self._stamp:
                self.refresh()

        with_catalog(self.data_dir, lambda _catalog: _files_stamp(db), on_done=compare, on_error=lambda _e: None,
                     owner=self)

    # -- runs ----------------------------------------------------------------------------------------------------
    def _job_state(self, row: Any) -> str:
        run = self.runner.job_run(row.name)
        if run is not None:
            fraction = run.stats.fraction()
            label = "Stopping…" if run.status == "stopping" else "Running"
            return f"{label} {fraction:.0%}" if fraction is not None and run.status == "running" else label
        if not row.job.enabled:
            return "Disabled"
        s = row.last_session
        if s is not None and not s.status.finished:
            return "Running elsewhere"
        return "Idle"

    def _prepare_session_window(self) -> None:
        """Build (and style) a progress window while the console is idle: the first one built in a process
        costs ~50 ms of the GUI thread, which would otherwise fall on the click that starts a job."""
        if self._spare_window is None and not self._closing:
            self._spare_window = SessionWindow(self)
            self._spare_window.ensurePolished()

    def _session_window(self) -> SessionWindow:
        window, self._spare_window = self._spare_window or SessionWindow(self), None
        QTimer.singleShot(SPARE_WINDOW_MS, self._prepare_session_window)     # the next one, when idle
        return window

    def open_run(self, run: Run) -> SessionWindow:
        window = self.session_windows.get(run.key)
        if window is None or window.view.run is not run:
            window = self._session_window()
            self.session_windows[run.key] = window
            window.show_run(run)
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def open_session(self, session: Session) -> None:
        """A session from the history (the live view when this console runs it)."""
        if not session.status.finished:
            run = self.runner.job_run(session.job)
            if run is not None:
                self.open_run(run)
                return

        def shown(full: Session) -> None:
            window = self._session_window()
            self.session_windows[f"session:{full.id}"] = window
            window.show_session(full)
            window.show()
            window.raise_()

        with_catalog(self.data_dir, lambda catalog, sid: catalog.get_session(sid), session.id, on_done=shown,
                     on_error=lambda e: show_error(self, "Cannot show the session", e), owner=self)

    def open_restore(self, point_id: str, paths_: list[str] | None = None) -> QWidget | None:
        from console.gui.restore_wizard import RestoreWizard
        if self.snapshot is None:
            return None
        try:
            wizard = RestoreWizard(self.data_dir, self.snapshot, self.runner, point_id, paths_ or [], parent=self)
        except Exception as e:   # noqa: BLE001 - one dialog, never a traceback
            show_error(self, "Cannot restore", e)
            return None
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.restore_wizards.append(wizard)
        wizard.destroyed.connect(lambda *_: self.restore_wizards.remove(wizard) if wizard in self.restore_wizards
                                 else None)
        wizard.show()
        return wizard

    def _run_changed(self, _run: Run) -> None:
        self._update_running()
        self.jobs.model.set_records(self.jobs.model.records)      # the State column
        self.update_actions()

    def _run_finished(self, run: Run) -> None:
        self._update_running()
        self.jobs.model.set_records(self.jobs.model.records)
        self.update_actions()
        if run.status == "failed" and run.session is None and run.error:
            self.statusBar().showMessage(f"{run.title}: {run.error}", 15000)
        else:
            self.statusBar().showMessage(f"{run.title}: {run.status}", 10000)
        self.refresh()
        if self._closing and not self.runner.active():
            self._finish_closing()

    def _update_running(self) -> None:
        active = self.runner.active()
        for run in active:
            if run not in self._followed:
                self._followed.add(run)
                run.updated.connect(self._refresh_job_states)
        self._followed &= set(active)
        n = len(active)
        self.running_label.setText(f"{n} run{'s' if n != 1 else ''} in progress" if n else "No runs in progress")

    def _refresh_job_states(self) -> None:
        if self.page == "jobs" and self.jobs.model.records:
            model = self.jobs.model
            model.dataChanged.emit(model.index(0, 2), model.index(model.rowCount() - 1, 2))

    # -- scheduler -----------------------------------------------------------------------------------------------
    def _start_scheduler_if_wanted(self) -> None:
        if not GuiScheduler.available():
            self.scheduler_action.setEnabled(False)
            self.scheduler_label.setText("Scheduler: not available")
            return

        def read(catalog: Catalog) -> bool:
            return bool(catalog.get_setting(SCHEDULER_SETTING, True))

        def apply(enabled: bool) -> None:
            self.scheduler_action.blockSignals(True)
            self.scheduler_action.setChecked(enabled)
            self.scheduler_action.blockSignals(False)
            if enabled and self._want_scheduler and not self._closing:
                self.scheduler.start()

        with_catalog(self.data_dir, read, on_done=apply, on_error=lambda e: log.warning("setting: %s", e), owner=self)

    def _scheduler_toggled(self, enabled: bool) -> None:
        with_catalog(self.data_dir, lambda catalog: catalog.set_setting(SCHEDULER_SETTING, enabled),
                     on_error=lambda e: show_error(self, "Cannot save the setting", e), owner=self)
        if enabled:
            self.scheduler.start()
        else:
            self.scheduler.stop()

    def _scheduler_state(self, running: bool) -> None:
        self.scheduler_label.setText("Scheduler: on" if running else "Scheduler: off")
        self.scheduler_label.setToolTip("Scheduled jobs run while the console is open" if running else
                                        "Scheduled jobs do not run from this console (Tools menu)")
        if self._closing and not running:
            self._finish_closing()

    # -- closing -------------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            if self.runner.active() or self.scheduler.running:
                event.ignore()
                return
            self._watch.stop()
            event.accept()
            return
        active = self.runner.active()
        if active:
            yes, _ = confirm(self, "Runs in progress", f"Stop {plural(len(active), 'run')} and close the console?",
                             [run.title for run in active],
                             note="A stopped job keeps what it finished; its next run continues from there.",
                             yes_text="Stop and Close")
            if not yes:
                event.ignore()
                return
        self._closing = True
        self.runner.stop_all()
        self.scheduler.stop()
        for window in list(self.session_windows.values()):
            window.close()
        if self.runner.active() or self.scheduler.running:
            self.statusBar().showMessage("Stopping runs before closing…")
            self.setEnabled(False)
            self._poll_close = QTimer(self)
            self._poll_close.timeout.connect(self._finish_closing)
            self._poll_close.start(200)
            event.ignore()
            return
        self._watch.stop()
        event.accept()

    def _finish_closing(self) -> None:
        if self.runner.active() or self.scheduler.running:
            return
        if hasattr(self, "_poll_close"):
            self._poll_close.stop()
        self.close()

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop every run and the scheduler and wait (the event loop keeps turning) until they have ended; for
        an orderly exit without questions (tests, session logout). True when everything stopped in time."""
        from PySide6.QtCore import QCoreApplication, QEventLoop
        self._closing = True
        self._watch.stop()
        self.runner.stop_all()
        self.scheduler.stop()
        deadline = time.monotonic() + timeout
        while (self.runner.active() or self.scheduler.running) and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)
        return not (self.runner.active() or self.scheduler.running)

    def _about(self) -> None:
        import console
        from console.gui.dialogs import show_info
        show_info(self, "About Backup Copy Console",
                  f"Backup Copy Console {console.__version__}\n\nBackup jobs, backup copy jobs and restores by the "
                  f"3-2-1 rule.\nData folder: {self.data_dir}")

    def busy(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text)
        else:
            self.statusBar().clearMessage()


__all__ += ["NAVIGATION", "PAGE_ACTIONS"]
