"""Home > Backups: the restore-point browser.

Top: backups (one per job and repository) with their protected objects. Bottom left: the restore points of the
selected backup or object on a timeline grouped by date (today, yesterday, this week, months) with type, state,
GFS badges, sizes and — for copies — the point they were copied from. Bottom right: the files of the selected
point, loaded folder by folder off the GUI thread, with a search over the opened folders (its matches replace the
tree while something is typed) and Restore buttons.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.core.model import JobKind, PointState
from console.core.units import plural
from console.gui.formatting import local_time
from console.gui.models.backups import ObjectRow, backup_groups, backups_model, points_model, timeline_groups
from console.gui.models.file_matches import FileMatchesModel, find_matches
from console.gui.models.files import PATH_ROLE, FileTreeModel
from console.gui.models.table import RECORD_ROLE, FilterProxy
from console.gui.resources import resource_icon
from console.gui.snapshot import BackupRow, PointRow, Snapshot
from console.gui.views.widgets import EmptyState, GfsDelegate, SearchBox, hint, page_title, setup_table

EXPANDED_POINTS = 400             # restore points shown unfolded when a backup is selected
SEARCH_DELAY_MS = 150             # a file search runs this long after the last keystroke (Enter: at once)

FILTERS = {
    "all": ("Backups", "All restore points of each job in each repository. Select a backup to see its restore "
                       "points, then a restore point to browse its files."),
    "disk": ("Backups: Disk", "Backups made by backup jobs."),
    "copy": ("Backups: Disk (Copy)", "Backups made by backup copy jobs: the second copies of your restore points."),
    "orphaned": ("Backups: Orphaned", "Backups whose job was deleted. Their restore points can still be restored; "
                                      "delete them when you no longer need them."),
}


def _predicate(kind: str) -> Any:
    if kind == "disk":
        return lambda b: isinstance(b, BackupRow) and b.backup.kind == JobKind.BACKUP and not b.orphaned
    if kind == "copy":
        return lambda b: isinstance(b, BackupRow) and b.backup.kind == JobKind.COPY and not b.orphaned
    if kind == "orphaned":
        return lambda b: isinstance(b, BackupRow) and b.orphaned
    return None


def _signature(snap: Snapshot) -> tuple:
    """What the page shows, cheaply comparable: reloading during a run must not reset 10,000 rows for nothing."""
    return (tuple((b.id, b.orphaned, b.source_label, b.backup.job) for b in snap.backups),
            tuple((bid, tuple((r.point.id, r.point.state, tuple(r.point.gfs), r.group_key, r.source_label)
                              for r in rows)) for bid, rows in snap.points.items()))


class BackupsPage(QWidget):
    selection_changed = Signal()
    context_menu_requested = Signal(QPoint, str)      # global position, "backup" | "point" | "file"
    restore_requested = Signal(str, list)             # point id, paths ([] = whole point)

    def __init__(self, data_dir: Any, new_backup_job: Any = None) -> None:
        super().__init__()
        self.snapshot: Snapshot | None = None
        self._signature: tuple = ()
        self.filter = "all"

        self.title = page_title("Backups")
        self.explanation = hint(FILTERS["all"][1])
        self.count = QLabel()
        self.search = SearchBox("Filter backups (job, repository, folder)")

        # backups → objects
        self.backups = backups_model()
        self.backups_proxy = FilterProxy(self)
        self.backups_proxy.setSourceModel(self.backups)
        self.backups_proxy.setRecursiveFilteringEnabled(True)
        self.search.textChanged.connect(self._filter_backups)
        self.backups_view = QTreeView()
        self.backups_view.setModel(self.backups_proxy)
        setup_table(self.backups_view, self.backups.columns)
        self.backups_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.backups_view.selectionModel().currentRowChanged.connect(self._backup_changed)
        self.backups_view.customContextMenuRequested.connect(
            lambda pos: self._menu(self.backups_view, pos, "backup"))

        # timeline
        self.points = points_model()
        self.points_view = QTreeView()
        self.points_view.setModel(self.points)
        setup_table(self.points_view, self.points.child_columns, sortable=False)
        self.points_view.setItemDelegateForColumn(4, GfsDelegate(self.points_view))
        self.points_view.selectionModel().currentRowChanged.connect(self._point_changed)
        self.points_view.customContextMenuRequested.connect(lambda pos: self._menu(self.points_view, pos, "point"))
        self.points_view.doubleClicked.connect(self._point_double_clicked)
        self.points_title = QLabel("<b>Restore points</b>")
        self.points_hint = hint("Select a backup above to see its restore points.")

        # files
        self.files = FileTreeModel(data_dir)
        self.files_view = QTreeView()
        self.files_view.setModel(self.files)
        setup_table(self.files_view, sortable=False)
        self.files_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for column, width in enumerate((220, 70, 125, 90)):
            self.files_view.header().resizeSection(column, width)
        self.files_view.customContextMenuRequested.connect(lambda pos: self._menu(self.files_view, pos, "file"))
        self.files_view.selectionModel().selectionChanged.connect(self._files_selection_changed)
        # search results: a flat table over the listings in memory, shown instead of the tree while text is typed
        # (the tree model is left alone, so clearing the search shows it as it was). A table view lays out
        # 100,000 rows without calling Python per row; a tree view asks each row about children.
        self.file_matches = FileMatchesModel(self)
        self.matches_view = QTableView()
        self.matches_view.setModel(self.file_matches)
        setup_table(self.matches_view, sortable=False)
        self.matches_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for column, width in enumerate((170, 90, 55, 115)):        # Permissions takes the rest
            self.matches_view.horizontalHeader().resizeSection(column, width)
        self.matches_view.customContextMenuRequested.connect(
            lambda pos: self._menu(self.matches_view, pos, "file"))
        self.matches_view.selectionModel().selectionChanged.connect(self._files_selection_changed)
        self.matches_view.doubleClicked.connect(self._show_in_folder)
        self.matches_view.setToolTip("Double-click a match to show it in its folder")
        self.no_match = EmptyState("", icon="browse")
        self.files_stack = QStackedWidget()
        self.files_stack.addWidget(self.files_view)
        self.files_stack.addWidget(self.matches_view)
        self.files_stack.addWidget(self.no_match)
        self.files_title = QLabel("<b>Files</b>")
        self.files_status = QLabel()
        self.files_title.setWordWrap(True)       # a long folder path wraps instead of squeezing the search box
        self.files_search = SearchBox("Search opened folders")
        self.files_search.setMinimumWidth(170)
        self.files_search.setToolTip("Lists the files and folders whose names hold every word typed, in the "
                                     "folders opened so far (open a folder in the tree to search inside it). "
                                     "Esc clears the search and shows the tree again.")
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.apply_search_now)
        self.files_search.textChanged.connect(self._search_typed)
        self.files_search.returnPressed.connect(self.apply_search_now)
        self.files.loading_changed.connect(self._loading)
        self.files.exposed_changed.connect(lambda: self._loading(self.files.pending))
        self.files.folder_loaded.connect(self._folder_loaded)
        self.files_status.linkActivated.connect(lambda _link: self.files.expose_all())
        self.files.load_failed.connect(lambda msg: self.files_status.setText(f"Cannot list: {msg}"))
        self.restore_selected = QPushButton(resource_icon("restore"), "Restore Selected…")
        self.points_view.setMinimumWidth(280)
        self.files_stack.setMinimumWidth(240)
        self.restore_selected.setToolTip("Restore the files and folders selected above")
        self.restore_selected.clicked.connect(self._restore_selected)
        self.restore_all = QPushButton(resource_icon("restore"), "Restore Whole Point…")
        self.restore_all.setToolTip("Restore everything in this restore point")
        self.restore_all.clicked.connect(lambda: self._request_restore([]))

        # layout
        head = QHBoxLayout()
        head.addWidget(self.count)
        head.addStretch(1)
        head.addWidget(self.search)
        points_box = QWidget()
        pl = QVBoxLayout(points_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.points_title)
        pl.addWidget(self.points_hint)
        pl.addWidget(self.points_view, 1)
        files_box = QWidget()
        fl = QVBoxLayout(files_box)
        fl.setContentsMargins(0, 0, 0, 0)
        files_head = QHBoxLayout()
        files_head.addWidget(self.files_title, 1)
        files_head.addWidget(self.files_search)
        fl.addLayout(files_head)
        fl.addWidget(self.files_stack, 1)
        self.files_status.setWordWrap(True)
        fl.addWidget(self.files_status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.restore_selected)
        buttons.addWidget(self.restore_all)
        fl.addLayout(buttons)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(points_box)
        bottom.addWidget(files_box)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)
        bottom.setChildrenCollapsible(False)
        bottom.setSizes([520, 440])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.backups_view)
        split.addWidget(bottom)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        split.setSizes([220, 380])
        self.splitter = split

        self.empty = EmptyState("No backups yet. Backups appear here after a backup job has run; a rescan of a "
                                "repository imports the backups it already holds.",
                                [("New Backup Job…", "job", new_backup_job)] if new_backup_job else [], icon="job")
        self.stack = QStackedWidget()
        self.stack.addWidget(split)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.title)
        layout.addWidget(self.explanation)
        layout.addLayout(head)
        layout.addWidget(self.stack, 1)
        self._update_buttons()

    # -- content ------------------------------------------------------------------------------------------------
    def set_filter(self, kind: str) -> None:
        self.filter = kind
        self.title.setText(FILTERS[kind][0])
        self.explanation.setText(FILTERS[kind][1])
        self.backups_proxy.set_predicate(_predicate(kind))
        self._after_backups_changed()

    def set_snapshot(self, snap: Snapshot) -> None:
        signature = _signature(snap)
        if self.snapshot is not None and signature == self._signature:
            self.snapshot = snap           # nothing this page shows changed: keep models, selection and file tree
            return
        self._signature = signature
        keep_backup = self._current_backup_key()
        keep_point = self.selected_point().point.id if self.selected_point() else None
        self.snapshot = snap
        self.backups.set_groups(backup_groups(snap.backups, snap.points))
        if keep_backup is not None:
            self._select_backup_key(keep_backup)
        self._after_backups_changed()
        if keep_point is not None:
            self.select_point(keep_point)

    def _after_backups_changed(self) -> None:
        shown = self.backups_proxy.rowCount()
        self.count.setText(f"{shown} backup{'s' if shown != 1 else ''}")
        self.stack.setCurrentWidget(self.empty if shown == 0 and not self.search.text() else self.splitter)
        if not self.backups_view.selectionModel().currentIndex().isValid():
            self._show_points(None, None)

    def _filter_backups(self, text: str) -> None:
        self.backups_proxy.set_text(text)
        self._after_backups_changed()

    # -- selection --------------------------------------------------------------------------------------------
    def _current_backup_key(self) -> tuple[str, str] | None:
        ix = self.backups_view.selectionModel().currentIndex()
        return ix.data(Qt.ItemDataRole.UserRole + 3) if ix.isValid() else None

    def _select_backup_key(self, key: tuple[str, str]) -> bool:
        source = self.backups.find(key)
        if not source.isValid():
            return False
        index = self.backups_proxy.mapFromSource(source)
        if not index.isValid():
            return False
        if index.parent().isValid():
            self.backups_view.expand(index.parent())
        self.backups_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        return True

    def select_backup(self, backup_id: str, object_name: str = "") -> bool:
        return self._select_backup_key((backup_id, object_name))

    def selected_record(self) -> BackupRow | ObjectRow | None:
        ix = self.backups_view.selectionModel().currentIndex()
        return ix.data(RECORD_ROLE) if ix.isValid() else None

    def selected_backup(self) -> BackupRow | None:
        record = self.selected_record()
        return record.backup if isinstance(record, ObjectRow) else record

    def selected_object(self) -> str | None:
        record = self.selected_record()
        return record.name if isinstance(record, ObjectRow) else None

    def selected_point(self) -> PointRow | None:
        ix = self.points_view.selectionModel().currentIndex()
        record = ix.data(RECORD_ROLE) if ix.isValid() else None
        return record if isinstance(record, PointRow) else None

    def select_point(self, point_id: str) -> bool:
        index = self.points.find(point_id)
        if not index.isValid():
            return False
        self.points_view.expand(index.parent())
        self.points_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.points_view.scrollTo(index)
        return True

    def shown_files_view(self) -> QTreeView | QTableView:
        """The file tree, or the search results while a search is shown."""
        return self.matches_view if self.searching() else self.files_view

    def searching(self) -> bool:
        """Whether search results (or the no-match panel) are shown instead of the tree."""
        return self.files_stack.currentWidget() is not self.files_view

    def selected_paths(self) -> list[str]:
        rows = self.shown_files_view().selectionModel().selectedRows(0)
        return sorted({path for ix in rows if (path := ix.data(PATH_ROLE))})

    def _backup_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record = current.data(RECORD_ROLE) if current.isValid() else None
        if isinstance(record, ObjectRow):
            self._show_points(record.backup, record.name)
        else:
            self._show_points(record, None)
        self.selection_changed.emit()

    def _show_points(self, backup: BackupRow | None, object_name: str | None) -> None:
        rows = self.snapshot.points.get(backup.id, []) if (backup and self.snapshot) else []
        groups = timeline_groups(rows, object_name)
        self.points.set_groups(groups)
        self.points_view.setColumnHidden(8, not (backup and backup.backup.kind == JobKind.COPY))
        self.points_view.setColumnHidden(1, object_name is not None)
        self._expand_recent(groups)
        newest = next((r.point.id for g in groups for r in g.children if r.point.state == PointState.OK), None)
        if newest is not None:
            self.files.prefetch(newest)              # the point an admin most often opens next
        if backup is None:
            self.points_title.setText("<b>Restore points</b>")
            self.points_hint.setText("Select a backup above to see its restore points.")
        else:
            where = f"{object_name}" if object_name else f"job {backup.backup.job}"
            n = sum(len(g.children) for g in groups)
            self.points_title.setText(f"<b>Restore points of {where}</b> in repository {backup.backup.repository}")
            self.points_hint.setText(f"{n} restore point{'s' if n != 1 else ''}, newest first. Select one to see "
                                     "its files; right-click for restore and properties." if n else
                                     "This backup has no restore points.")
        self._point_changed(QModelIndex(), QModelIndex())

    def _expand_recent(self, groups: list) -> None:
        """Open the newest date groups (about EXPANDED_POINTS points); older months stay folded. Laying out
        every row of 10,000 restore points would take the GUI thread a noticeable moment for rows nobody sees."""
        shown = 0
        for row, group in enumerate(groups):
            if row and shown + len(group.children) > EXPANDED_POINTS:
                break
            self.points_view.expand(self.points.index(row, 0))
            shown += len(group.children)

    def _point_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record = current.data(RECORD_ROLE) if current.isValid() else None
        point = record.point if isinstance(record, PointRow) else None
        self.files_search.clear()               # a search belongs to the point it was typed in
        if point is None:
            self.files.set_point(None)
            self.files_title.setText("<b>Files</b>")
            self.files_status.setText("Select a restore point to see its files.")
        elif point.state == PointState.MISSING:
            self.files.set_point(None)
            self.files_title.setText(f"<b>Files of {local_time(point.created)}</b>")
            self.files_status.setText("This restore point is missing from the repository: restore it from a copy.")
        else:
            self.files_title.setText(f"<b>Files of {local_time(point.created)}</b> ({point.object})")
            self.files.set_point(point.id)
        self.files_search.setEnabled(self.files.point_id is not None)     # nothing to search without files
        self._update_buttons()
        self.selection_changed.emit()

    def _loading(self, pending: int) -> None:
        if self.searching():
            return                              # the status line counts the matches meanwhile
        partial = self.files.partial_folders()
        if pending:
            self.files_status.setText("Loading folder…")
        elif partial:
            # big folders show their first rows at once and more as the view scrolls to their end
            path, shown, total = partial[0]
            where = f" in {path}" if path else ""
            more = f" (and {len(partial) - 1} more folder{'s' if len(partial) > 2 else ''} partly shown)" \
                if len(partial) > 1 else ""
            self.files_status.setText(f"Showing {shown:,} of {total:,} items{where}{more} — scroll down for more, "
                                      "or <a href='all'>show all</a>.")
        elif self.files.point_id:
            self.files_status.setText("Open folders to look inside; select items to restore only those.")

    # -- file search ------------------------------------------------------------------------------------------
    def _search_typed(self, text: str) -> None:
        if text.split():
            self.search_timer.start()           # restarts: one search once typing pauses
        else:
            self.apply_search_now()             # cleared: the tree comes back at once

    def apply_search_now(self) -> None:
        """Search the opened folders for the typed words now (typing searches after a short pause)."""
        self.search_timer.stop()
        text = self.files_search.text()
        if not text.split():
            self.file_matches.set_matches([])
            self.files_stack.setCurrentWidget(self.files_view)
            self._loading(self.files.pending)
        else:
            matches = find_matches(self.files.listed_folders(), text)
            self.file_matches.set_matches(matches)
            words = [f"“{word}”" for word in text.split()]
            wanted = words[0] if len(words) == 1 else "all of " + ", ".join(words)
            self.no_match.set_message(f"No name in the opened folders holds {wanted}.\n\nClear the search to see "
                                      "the tree again; open a folder there to search inside it.")
            self.files_stack.setCurrentWidget(self.matches_view if matches else self.no_match)
            self.files_status.setText(
                f"{plural(len(matches), 'match', 'matches')} in the opened folders — double-click one to show it "
                "in its folder." if matches else
                "No match in the opened folders — open a folder to search inside it.")
        self._update_buttons()

    def _folder_loaded(self, _path: str, _entries: int) -> None:
        if self.searching():
            self.search_timer.start()           # a folder listed while a search is shown is searched too

    def _show_in_folder(self, index: QModelIndex) -> None:
        """A double-clicked match: back to the tree, its folders opened, the entry selected."""
        if not index.isValid():
            return
        folder, entry = self.file_matches.matches[index.row()]
        self.files_search.clear()
        target = self.files.reveal(folder, entry)
        if not target.isValid():
            return
        parent = target.parent()
        while parent.isValid():
            self.files_view.expand(parent)
            parent = parent.parent()
        self.files_view.selectionModel().setCurrentIndex(
            target, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.files_view.scrollTo(target)
        self.files_view.setFocus()

    def _files_selection_changed(self, *_: Any) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        point = self.selected_point()
        usable = point is not None and point.point.state != PointState.MISSING
        self.restore_all.setEnabled(usable)
        self.restore_selected.setEnabled(usable and bool(self.selected_paths()))

    # -- requests ---------------------------------------------------------------------------------------------
    def _menu(self, view: QAbstractItemView, pos: QPoint, kind: str) -> None:
        index = view.indexAt(pos)
        if index.isValid() and kind != "file":
            view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        if kind == "point" and self.selected_point() is None:
            return                                  # a date group: nothing to do with it
        if kind == "backup" and self.selected_record() is None:
            return
        self.context_menu_requested.emit(view.viewport().mapToGlobal(pos), kind)

    def _point_double_clicked(self, index: QModelIndex) -> None:
        if isinstance(index.data(RECORD_ROLE), PointRow):
            self.files_view.setFocus()

    def _restore_selected(self) -> None:
        self._request_restore(self.selected_paths())

    def _request_restore(self, paths: list[str]) -> None:
        point = self.selected_point()
        if point is not None:
            self.restore_requested.emit(point.point.id, paths)
