"""The file tree of one restore point, loaded folder by folder as the admin opens it (canFetchMore/fetchMore).

Each folder is listed with `maintenance.browse` in a worker thread (`loading_changed` reports the folders in
flight, so the view can say "Loading…"). Optionally checkable (restore wizard): checking a folder checks everything
below it, loaded or not, and `selection()` returns the fewest paths that cover what is checked.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from console.core.catalog import Catalog
from console.core.operations import maintenance
from console.core.repository.tree import DIR, SYMLINK
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
    children: list[Entry] | None = None      # None: a folder not listed yet
    loading: bool = False
    check: Qt.CheckState = Qt.CheckState.Unchecked

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


def list_folder(catalog: Catalog, point_id: str, parent: Entry) -> list[Entry]:
    """Worker side: one folder of a restore point as entries, folders first, then by name. Building the
    entries here keeps a folder of 100,000 files from stalling the GUI thread."""
    # A big folder allocates hundreds of thousands of objects at once; the cyclic GC would walk the whole heap
    # several times meanwhile, holding the GIL for a second or more — the GUI thread would freeze. None of
    # these objects form garbage cycles, so collection waits until the folder is built.
    paused = gc.isenabled()
    gc.disable()
    try:
        _point, nodes = maintenance.browse(catalog, point_id, parent.path)
        nodes = sorted(nodes, key=lambda n: (n.type != DIR, n.name.casefold(), n.name))
        inherited = parent.check if parent.check != Qt.CheckState.PartiallyChecked else Qt.CheckState.Unchecked
        return [Entry(n.name, n.type, n.size, n.mtime, n.mode, n.target, parent, i, None if n.type == DIR else [],
                      False, inherited) for i, n in enumerate(nodes)]
    finally:
        if paused:
            gc.enable()


class FileTreeModel(QAbstractItemModel):
    loading_changed = Signal(int)          # folders being listed right now
    load_failed = Signal(str)              # one readable message
    folder_loaded = Signal(str, int)       # path, entries

    def __init__(self, data_dir: Path, checkable: bool = False, parent: Any = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.checkable = checkable
        self.point_id: str | None = None
        self.root = Entry("", DIR, children=[])
        self._generation = 0
        self._pending = 0

    # -- content ------------------------------------------------------------------------------------------
    def set_point(self, point_id: str | None) -> None:
        """Show another restore point (None: nothing); its top folder loads at once."""
        self.beginResetModel()
        self._generation += 1
        self.point_id = point_id
        self.root = Entry("", DIR, children=None if point_id else [],
                          check=Qt.CheckState.Checked if self.checkable else Qt.CheckState.Unchecked)
        self.endResetModel()
        if point_id:
            self._load(self.root)

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
        with_catalog(self.data_dir, list_folder, point_id, entry,
                     on_done=lambda children: self._loaded(generation, entry, children),
                     on_error=lambda e: self._failed(generation, entry, e), owner=self)

    def _finish_pending(self) -> None:
        self._pending = max(0, self._pending - 1)
        self.loading_changed.emit(self._pending)

    def _loaded(self, generation: int, entry: Entry, children: list[Entry]) -> None:
        self._finish_pending()
        if generation != self._generation:
            return                              # another point was chosen meanwhile
        if entry.check != Qt.CheckState.PartiallyChecked:     # ticked or unticked while the folder loaded
            for child in children:
                child.check = entry.check
        parent = self._index_of(entry)
        # `loading` stays set until the rows are in: a view asking canFetchMore meanwhile must not load again
        if children:
            self.beginInsertRows(parent, 0, len(children) - 1)
            entry.children = children
            entry.loading = False
            self.endInsertRows()
        else:
            entry.children = []
            entry.loading = False
            if entry is not self.root:      # the expander goes away
                self.dataChanged.emit(parent, parent)
        self.folder_loaded.emit(entry.path, len(children))

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
        entry = self._entry(parent)
        return entry.is_dir and entry.children is None and not entry.loading and self.point_id is not None

    def fetchMore(self, parent: ANY_INDEX) -> None:
        self._load(self._entry(parent))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and \
                0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: ANY_INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return _NO_FLAGS
        leaf = index.internalPointer().children == []     # files, links, empty folders: no expander to ask about
        if self.checkable and index.column() == 0:
            return _CHECKABLE_LEAF if leaf else _CHECKABLE
        return _LEAF if leaf else _PLAIN

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e: Entry = index.internalPointer()
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{e.name} → {e.target}" if e.type == SYMLINK else e.name
            if col == 1:
                return human_size(e.size) if e.type == "file" else ""
            if col == 2:
                return datetime.fromtimestamp(e.mtime / 1e9).strftime("%Y-%m-%d %H:%M") if e.mtime else ""
            if col == 3:
                return _permissions(e)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return resource_icon({"dir": "folder", "symlink": "symlink"}.get(e.type, "file"))
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
            kids = {c.check for c in node.children or []}
            node.check = kids.pop() if len(kids) == 1 else Qt.CheckState.PartiallyChecked
            if node is not self.root:
                ix = self._index_of(node)
                self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.CheckStateRole])
            node = node.parent

    def set_all_checked(self, checked: bool) -> None:
        self._set_subtree(self.root, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _set_subtree(self, entry: Entry, state: Qt.CheckState) -> None:
        # set everything first, then one dataChanged per loaded folder (not one per entry: folders can be huge)
        stack, folders = [entry], []
        while stack:
            node = stack.pop()
            node.check = state
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
        """The fewest paths covering everything checked ([] when nothing is)."""
        out: list[str] = []

        def walk(entry: Entry) -> None:
            for child in entry.children or []:
                if child.check == Qt.CheckState.Checked:
                    out.append(child.path)
                elif child.check == Qt.CheckState.PartiallyChecked:
                    walk(child)

        if self.root.check == Qt.CheckState.Checked:
            return [""]
        walk(self.root)
        return out


def _permissions(e: Entry) -> str:
    if not e.mode:
        return ""
    kind = {"dir": "d", "symlink": "l"}.get(e.type, "-")
    bits = "".join(ch if e.mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
    return kind + bits
