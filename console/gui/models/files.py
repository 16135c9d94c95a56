"""The file tree of one restore point, loaded folder by folder as the admin opens it (canFetchMore/fetchMore).

Each folder is listed with `maintenance.browse` in a worker thread (`loading_changed` reports the folders in
flight, so the view can say "Loading…"). A listed folder keeps its whole listing but shows it to Qt in batches:
`batch` rows at first, the next batch whenever the view calls fetchMore again (QTreeView does when it is scrolled
to the end). Laying out 100,000 rows at once would stall the GUI thread for most of a second; rows are made a
batch at a time too. A search looks through the whole listings (`listed_folders`), not the rows. Optionally checkable
(restore wizard): checking a folder checks everything below it — listed or not, shown or not — and `selection()`
returns the fewest paths that cover what is checked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QIcon

from console.core.catalog import Catalog
from console.core.gc_pause import paused_gc
from console.core.operations import maintenance
from console.core.repository.tree import DIR, SYMLINK, Listed
from console.gui.catalog_access import with_catalog
from console.gui.formatting import human_size
from console.gui.resources import resource_icon

log = logging.getLogger(__name__)
ANY_INDEX = QModelIndex | QPersistentModelIndex
COLUMNS = ("Name", "Size", "Modified", "Permissions")
_NCOLUMNS = len(COLUMNS)
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_PLAIN = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_LEAF = _PLAIN | Qt.ItemFlag.ItemNeverHasChildren
_CHECKABLE = _PLAIN | Qt.ItemFlag.ItemIsUserCheckable
_CHECKABLE_LEAF = _CHECKABLE | Qt.ItemFlag.ItemNeverHasChildren
PATH_ROLE = Qt.ItemDataRole.UserRole + 10
TYPE_ROLE = Qt.ItemDataRole.UserRole + 11
BATCH = 500                        # rows a listed folder shows at first, and per fetchMore after that (a view
                                   # lays out each row it is given: a smaller first batch paints sooner)
PREFETCH_KEEP = 2                  # top folders listed ahead of time that are kept (the newest points)
_NO_CHILDREN: tuple[()] = ()       # files and links: one shared empty sequence, not 100,000 empty lists


@dataclass(eq=False, slots=True)
class Entry:
    name: str
    type: str                      # "file" | "dir" | "symlink" | "loading" | "error"
    size: int = 0
    mtime: int = 0                 # ns
    mode: int = 0
    target: str | None = None
    parent: Entry | None = None
    row: int = 0
    children: list[Entry] | tuple[()] | None = None   # the rows Qt knows (a prefix of `listing`); None: not listed
    loading: bool = False
    check: Qt.CheckState = Qt.CheckState.Unchecked
    listing: Sequence[Listed] = ()   # every entry of a listed folder, in the order shown
    rest_check: Qt.CheckState = Qt.CheckState.Unchecked     # the check state of the entries not shown yet

    @property
    def path(self) -> str:
        parts: list[str] = []
        node: Entry | None = self
        while node is not None and node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "/".join(reversed(parts))

    @property
    def is_dir(self) -> bool:
        return self.type == DIR

    @property
    def hidden(self) -> int:
        """Listed entries not shown yet."""
        return len(self.listing) - len(self.children or ())


def list_folder(catalog: Catalog, point_id: str, path: str) -> list[Listed]:
    """Worker side: one folder of a restore point, folders first, then by name. Rows are made from it a batch at
    a time on the GUI thread, so a folder of 100,000 files costs the worker only its listing and one sort."""
    with paused_gc():           # the tree decode and the sort make 100,000s of objects at once: see gc_pause
        _point, nodes = maintenance.browse(catalog, point_id, path)
        # Trees are stored sorted by name and sorts are stable: sorting folders and the rest apart by the
        # casefolded name alone gives the (folders first, casefolded name, name) order at half the cost
        folders = [n for n in nodes if n.type == DIR]
        others = [n for n in nodes if n.type != DIR] if folders else list(nodes)   # never sort the cached list
        folders.sort(key=_casefolded_name)
        others.sort(key=_casefolded_name)
        return folders + others if folders else others


def _casefolded_name(node: Listed) -> str:
    return node.name.casefold()


class _Listing:
    """A folder listing made ahead of time: its result, or the callbacks waiting for it."""

    def __init__(self) -> None:
        self.result: list[Listed] | None = None
        self.error: BaseException | None = None
        self._waiting: list[tuple[Callable[[list[Listed]], None], Callable[[BaseException], None]]] = []

    def then(self, on_done: Callable[[list[Listed]], None], on_error: Callable[[BaseException], None]) -> None:
        if self.result is not None:
            result = self.result
            QTimer.singleShot(0, lambda: on_done(result))       # as a listing from a worker arrives: later
        elif self.error is not None:
            error = self.error
            QTimer.singleShot(0, lambda: on_error(error))
        else:
            self._waiting.append((on_done, on_error))

    def done(self, result: list[Listed]) -> None:
        self.result = result
        for on_done, _on_error in self._waiting:
            on_done(result)
        self._waiting.clear()

    def failed(self, error: BaseException) -> None:
        self.error = error
        for _on_done, on_error in self._waiting:
            on_error(error)
        self._waiting.clear()


class FileTreeModel(QAbstractItemModel):
    loading_changed = Signal(int)          # folders being listed right now
    load_failed = Signal(str)              # one readable message
    folder_loaded = Signal(str, int)       # path, entries (all of them, shown or not yet)
    exposed_changed = Signal()             # a listed folder shows more rows, or another point is shown

    def __init__(self, data_dir: Path, checkable: bool = False, parent: Any = None, batch: int = BATCH) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.checkable = checkable
        self.batch = max(1, batch)
        self.point_id: str | None = None
        self.root = Entry("", DIR, children=[])
        self._generation = 0
        self._pending = 0
        self._partial: dict[Entry, None] = {}  # listed folders with entries not shown yet, in listing order
        self._inserting = False                # between beginInsertRows and endInsertRows (and their signals)
        self._prefetched: dict[str, _Listing] = {}     # point id -> its top folder, listed ahead of time

    # -- content ------------------------------------------------------------------------------------------
    def set_point(self, point_id: str | None) -> None:
        """Show another restore point (None: nothing); its top folder loads at once."""
        self.beginResetModel()
        self._generation += 1
        self.point_id = point_id
        self.root = Entry("", DIR, children=None if point_id else [],
                          check=Qt.CheckState.Checked if self.checkable else Qt.CheckState.Unchecked)
        self._partial.clear()
        self.endResetModel()
        self.exposed_changed.emit()
        if point_id:
            self._load(self.root)

    def prefetch(self, point_id: str) -> None:
        """List a point's top folder in the background before it is shown. The browser asks for the newest point
        when a backup is selected: opening the repository and decoding a folder of 100,000 entries takes most of
        a second, which passes while the admin looks at the list of restore points."""
        if point_id in self._prefetched:
            return
        listing = self._prefetched[point_id] = _Listing()
        while len(self._prefetched) > PREFETCH_KEEP:
            self._prefetched.pop(next(iter(self._prefetched)))
        with_catalog(self.data_dir, list_folder, point_id, "", on_done=listing.done, on_error=listing.failed,
                     owner=self)

    @property
    def pending(self) -> int:
        """Folders being listed right now."""
        return self._pending

    # -- batches ------------------------------------------------------------------------------------------
    def expose_all(self) -> None:
        """Show the rest of every listed folder now."""
        for entry in list(self._partial):
            self._expose(entry, len(entry.listing))

    def expose_more(self, entry: Entry) -> None:
        """Show the next batch of a listed folder's entries."""
        self._expose(entry, len(entry.children or ()) + self.batch)

    def listed_folders(self) -> list[tuple[str, Sequence[Listed]]]:
        """(path, whole listing) of every listed folder with entries, in tree order (a folder before its
        subfolders): what a search looks through. A listed subfolder is always among its parent's shown rows."""
        out: list[tuple[str, Sequence[Listed]]] = []
        stack = [self.root] if self.root.listing else []
        while stack:
            folder = stack.pop()
            out.append((folder.path, folder.listing))
            stack.extend(reversed([c for c in folder.children or () if c.listing]))
        return out

    def reveal(self, folder: str, listed: Listed) -> QModelIndex:
        """The row of a listed entry of `folder` (a path as listed_folders gives it), its folder showing rows up to
        it first; invalid when it is no longer in the tree (another point is shown)."""
        entry = self.root
        for name in folder.split("/") if folder else ():
            entry = next((c for c in entry.children or () if c.name == name and c.listing), None)
            if entry is None:
                return QModelIndex()
        row = next((i for i, n in enumerate(entry.listing) if n is listed), -1)
        if row < 0:
            return QModelIndex()
        self._expose(entry, row + 1)
        children = entry.children or ()
        return self.createIndex(row, 0, children[row]) if row < len(children) else QModelIndex()

    def partial_folders(self) -> list[tuple[str, int, int]]:
        """(path, rows shown, entries) of each listed folder that shows only part of its entries."""
        return [(e.path, len(e.children or ()), len(e.listing)) for e in self._partial]

    def _rows(self, folder: Entry, start: int, stop: int) -> list[Entry]:
        return [Entry(n.name, n.type, n.size, n.mtime, n.mode, n.target, folder, i,
                      None if n.type == DIR else _NO_CHILDREN, False, folder.rest_check)
                for i, n in enumerate(folder.listing[start:stop], start)]

    def _expose(self, entry: Entry, upto: int) -> None:
        children = entry.children
        if children is None:
            return
        start, upto = len(children), min(upto, len(entry.listing))
        if upto <= start or self._inserting:
            return
        self._inserting = True
        try:
            self.beginInsertRows(self._index_of(entry), start, upto - 1)     # one insertion per batch
            children.extend(self._rows(entry, start, upto))
            self.endInsertRows()
        finally:
            self._inserting = False
        self._note_partial(entry)
        self.exposed_changed.emit()

    def _note_partial(self, entry: Entry) -> None:
        if entry.hidden:
            self._partial[entry] = None
        else:
            self._partial.pop(entry, None)

    def _index_of(self, entry: Entry, column: int = 0) -> QModelIndex:
        if entry is self.root or entry.parent is None:
            return QModelIndex()
        return self.createIndex(entry.row, column, entry)

    def _entry(self, index: ANY_INDEX) -> Entry:
        return index.internalPointer() if index.isValid() else self.root

    def _load(self, entry: Entry) -> None:
        if entry.loading or entry.children is not None or self.point_id is None:
            return
        entry.loading = True
        generation, point_id = self._generation, self.point_id
        self._pending += 1
        self.loading_changed.emit(self._pending)
        def done(listing: list[Listed]) -> None:
            self._loaded(generation, entry, listing)

        def failed(error: BaseException) -> None:
            self._failed(generation, entry, error)

        ahead = self._prefetched.get(point_id) if entry is self.root else None
        if ahead is not None and ahead.error is not None:
            del self._prefetched[point_id]           # a failed listing is tried again (the disk may be back)
            ahead = None
        if ahead is not None:
            ahead.then(done, failed)                # listed already, or being listed: no second decode
        else:
            with_catalog(self.data_dir, list_folder, point_id, entry.path, on_done=done, on_error=failed,
                         owner=self)

    def _finish_pending(self) -> None:
        self._pending = max(0, self._pending - 1)
        self.loading_changed.emit(self._pending)

    def _loaded(self, generation: int, entry: Entry, listing: list[Listed]) -> None:
        self._finish_pending()
        if generation != self._generation:
            return                              # another point was chosen meanwhile
        # the entries inherit the folder's state as it is now (it may have been ticked while the folder loaded)
        entry.rest_check = entry.check if entry.check != Qt.CheckState.PartiallyChecked else Qt.CheckState.Unchecked
        entry.listing = listing
        parent = self._index_of(entry)
        # `loading` stays set until the rows are in: a view asking canFetchMore meanwhile must not load again
        if listing:
            shown = min(len(listing), self.batch)
            self._inserting = True
            try:
                self.beginInsertRows(parent, 0, shown - 1)
                entry.children = self._rows(entry, 0, shown)
                entry.loading = False
                self.endInsertRows()
            finally:
                self._inserting = False
            if entry.hidden:
                self._note_partial(entry)
                self.exposed_changed.emit()
        else:
            entry.children = []
            entry.loading = False
            if entry is not self.root:      # the expander goes away
                self.dataChanged.emit(parent, parent)
        self.folder_loaded.emit(entry.path, len(listing))

    def _failed(self, generation: int, entry: Entry, error: BaseException) -> None:
        self._finish_pending()
        if generation != self._generation:
            return
        entry.loading = False
        entry.children = []
        log.info("cannot list %r of %s: %s", entry.path, self.point_id, error)
        self.load_failed.emit(str(error))

    # -- Qt model interface -----------------------------------------------------------------------------
    # index(), flags() and hasChildren() run once or twice per row when a view lays out a folder: kept lean
    # (a folder of 100,000 files must open in well under a second)
    def index(self, row: int, column: int, parent: ANY_INDEX = QModelIndex()) -> QModelIndex:  # noqa: B008
        children = (parent.internalPointer() if parent.isValid() else self.root).children
        if children is None or row < 0 or row >= len(children) or column < 0 or column >= _NCOLUMNS:
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index: ANY_INDEX = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        entry: Entry = index.internalPointer()
        return self._index_of(entry.parent) if entry.parent is not None else QModelIndex()

    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        children = self._entry(parent).children
        return len(children) if children else 0

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def hasChildren(self, parent: ANY_INDEX = QModelIndex()) -> bool:  # noqa: B008
        if not parent.isValid():
            return True
        if parent.column() != 0:
            return False
        children = parent.internalPointer().children
        return children is None or len(children) > 0

    def canFetchMore(self, parent: ANY_INDEX) -> bool:
        if parent.isValid() and parent.column() != 0:
            return False
        entry = self._entry(parent)
        if entry.children is None:
            return entry.is_dir and not entry.loading and self.point_id is not None
        # not while rows go in: a slot on rowsAboutToBeInserted/rowsInserted must not start a nested insertion
        return len(entry.children) < len(entry.listing) and not self._inserting

    def fetchMore(self, parent: ANY_INDEX) -> None:
        if parent.isValid() and parent.column() != 0:
            return
        entry = self._entry(parent)
        if entry.children is None:
            self._load(entry)
        else:
            self.expose_more(entry)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and \
                0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: ANY_INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return _NO_FLAGS
        children = index.internalPointer().children
        leaf = children is not None and not children     # files, links, empty folders: no expander to ask about
        if self.checkable and index.column() == 0:
            return _CHECKABLE_LEAF if leaf else _CHECKABLE
        return _LEAF if leaf else _PLAIN

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e: Entry = index.internalPointer()
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(e, col)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return type_icon(e.type)
        if role == Qt.ItemDataRole.CheckStateRole and col == 0 and self.checkable:
            return e.check
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return e.path
        if role == PATH_ROLE:
            return e.path
        if role == TYPE_ROLE:
            return e.type
        return None

    # -- check states (restore selection) -----------------------------------------------------------------
    def setData(self, index: ANY_INDEX, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not (self.checkable and index.isValid() and role == Qt.ItemDataRole.CheckStateRole):
            return False
        state = Qt.CheckState(value) if not isinstance(value, Qt.CheckState) else value
        if state == Qt.CheckState.PartiallyChecked:
            state = Qt.CheckState.Checked
        self.set_checked(index.internalPointer(), state == Qt.CheckState.Checked)
        return True

    def set_checked(self, entry: Entry, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self._set_subtree(entry, state)
        node = entry.parent
        while node is not None:
            kids = {c.check for c in node.children or ()}
            if node.hidden:
                kids.add(node.rest_check)
            node.check = kids.pop() if len(kids) == 1 else Qt.CheckState.PartiallyChecked
            if node is not self.root:
                ix = self._index_of(node)
                self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.CheckStateRole])
            node = node.parent

    def set_all_checked(self, checked: bool) -> None:
        self._set_subtree(self.root, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _set_subtree(self, entry: Entry, state: Qt.CheckState) -> None:
        # set everything first (entries not shown yet take `rest_check`), then one dataChanged per loaded folder
        # over its rows (not one per entry: folders can be huge)
        stack, folders = [entry], []
        while stack:
            node = stack.pop()
            node.check = node.rest_check = state
            if node.children:
                folders.append(node)
                stack.extend(c for c in node.children if c.children)
                for c in node.children:
                    c.check = state
        if entry is not self.root:
            ix = self._index_of(entry)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.CheckStateRole])
        for folder in folders:
            first = self.createIndex(0, 0, folder.children[0])
            last = self.createIndex(len(folder.children) - 1, 0, folder.children[-1])
            self.dataChanged.emit(first, last, [Qt.ItemDataRole.CheckStateRole])

    def whole_point_checked(self) -> bool:
        return self.root.check == Qt.CheckState.Checked

    def selection(self) -> list[str]:
        """The fewest paths covering everything checked ([] when nothing is), entries not shown yet included."""
        out: list[str] = []

        def walk(entry: Entry) -> None:
            children = entry.children or ()
            for child in children:
                if child.check == Qt.CheckState.Checked:
                    out.append(child.path)
                elif child.check == Qt.CheckState.PartiallyChecked:
                    walk(child)
            if entry.hidden and entry.rest_check == Qt.CheckState.Checked:
                prefix = f"{entry.path}/" if entry.parent is not None else ""
                out.extend(prefix + n.name for n in entry.listing[len(children):])

        if self.root.check == Qt.CheckState.Checked:
            return [""]
        walk(self.root)
        return out


class Shown(Protocol):
    """What a row shows of an entry: an `Entry` of the tree and a `Listed` of a listing both have it."""

    name: str
    type: str
    size: int
    mtime: int
    mode: int
    target: str | None


def cell_text(e: Shown, column: int) -> str:
    """The text of one column of COLUMNS for an entry (the file tree and the search results show the same)."""
    if column == 0:
        return f"{e.name} → {e.target}" if e.type == SYMLINK else e.name
    if column == 1:
        return human_size(e.size) if e.type == "file" else ""
    if column == 2:
        return datetime.fromtimestamp(e.mtime / 1e9).strftime("%Y-%m-%d %H:%M") if e.mtime else ""
    if column == 3:
        return _permissions(e)
    return ""


def type_icon(kind: str) -> QIcon:
    """The icon of an entry type: folder, symlink, or file."""
    return resource_icon({"dir": "folder", "symlink": "symlink"}.get(kind, "file"))


def _permissions(e: Shown) -> str:
    if not e.mode:
        return ""
    kind = {"dir": "d", "symlink": "l"}.get(e.type, "-")
    bits = "".join(ch if e.mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
    return kind + bits
