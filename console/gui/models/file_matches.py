"""Search results of the restore-point browser: the entries of the opened folders whose names hold every word typed,
as one flat table (name, folder, size, modified, permissions).

Matching runs over the listings the file tree already holds (`FileTreeModel.listed_folders`), in plain Python, one
comprehension per folder: 100,000 names take 10–40 ms here, and Qt only ever asks for the rows it paints. The
file tree itself is not touched, so clearing the search shows it exactly as it was."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import repeat
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from console.core.gc_pause import paused_gc
from console.core.repository.tree import Listed
from console.gui.models.files import PATH_ROLE, TYPE_ROLE, cell_text, type_icon

log = logging.getLogger(__name__)
ANY_INDEX = QModelIndex | QPersistentModelIndex
Match = tuple[str, Listed]              # (folder path inside the point, "" for the top folder; the entry)
COLUMNS = ("Name", "Folder", "Size", "Modified", "Permissions")
TREE_COLUMN = {0: 0, 2: 1, 3: 2, 4: 3}    # results column -> the file tree's column showing the same
TOP_FOLDER = "(top folder)"             # the point's top folder: the protected folder's contents
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def find_matches(folders: Sequence[tuple[str, Sequence[Listed]]], text: str) -> list[Match]:
    """The entries whose casefolded name holds every casefolded word of `text` (FilterProxy's word semantics),
    folder by folder in the given order, entries in listing order. No words: no matches."""
    words = text.casefold().split()
    if not words:
        return []
    first, rest = words[0], words[1:]
    out: list[Match] = []
    with paused_gc():           # up to one tuple per entry: no collection passes while they are made
        for path, listing in folders:
            # the first word narrows the whole listing in one comprehension; the other words only see its hits
            hits = [e for e in listing if first in e.name.casefold()]
            for word in rest:
                hits = [e for e in hits if word in e.name.casefold()]
            out.extend(zip(repeat(path), hits))      # the (folder, entry) pairs made in C
    return out


def match_path(match: Match) -> str:
    """The full path inside the point ("docs/sub/a.txt"), as the file tree's PATH_ROLE gives it."""
    folder, entry = match
    return f"{folder}/{entry.name}" if folder else entry.name


class FileMatchesModel(QAbstractTableModel):
    """A flat, read-only table over a list of matches; `set_matches` replaces them all."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.matches: list[Match] = []

    def set_matches(self, matches: list[Match]) -> None:
        self.beginResetModel()
        self.matches = matches
        self.endResetModel()

    # -- Qt model interface -----------------------------------------------------------------------------
    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.matches)

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if section == 2 else int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: ANY_INDEX) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self.matches) and 0 <= col < len(COLUMNS)):
            return None
        folder, entry = self.matches[row]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 1:
                return folder or TOP_FOLDER
            return cell_text(entry, TREE_COLUMN[col])
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return type_icon(entry.type)
        if role == Qt.ItemDataRole.ToolTipRole:
            return match_path(self.matches[row])
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return _RIGHT
        if role == PATH_ROLE:
            return match_path(self.matches[row])
        if role == TYPE_ROLE:
            return entry.type
        return None
