"""A two-level tree model (groups → items) over plain records, described by columns like RecordTableModel.

Used for backups → protected objects and for the restore point timeline (date group → points). Indexes carry an
integer id: 0 for a top-level row, parent row + 1 for a child, so no Python object has to outlive the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont, QPalette
from PySide6.QtWidgets import QApplication

from console.gui.models.table import KEY_ROLE, RECORD_ROLE, SEARCH_ROLE, SORT_ROLE, Column

ANY_INDEX = QModelIndex | QPersistentModelIndex


@dataclass
class Group:
    record: Any
    children: list[Any] = field(default_factory=list)


class TwoLevelModel(QAbstractItemModel):
    """`columns` describe top-level records, `child_columns` their children; `key` identifies either."""

    def __init__(self, columns: Sequence[Column], child_columns: Sequence[Column], key: Callable[[Any], Any],
                 bold_groups: bool = False, dimmed: Callable[[Any], bool] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        assert len(columns) == len(child_columns)
        self.columns, self.child_columns = list(columns), list(child_columns)
        self.key = key
        self.bold_groups = bold_groups
        self.dimmed = dimmed
        self.groups: list[Group] = []

    def set_groups(self, groups: Sequence[Group]) -> None:
        self.beginResetModel()
        self.groups = list(groups)
        self.endResetModel()

    # -- navigation -----------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: ANY_INDEX = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(self.columns) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0) if row < len(self.groups) else QModelIndex()
        if parent.internalId() != 0 or parent.row() >= len(self.groups):
            return QModelIndex()
        if row >= len(self.groups[parent.row()].children):
            return QModelIndex()
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: ANY_INDEX = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self.groups)
        if parent.internalId() == 0 and parent.column() == 0 and parent.row() < len(self.groups):
            return len(self.groups[parent.row()].children)
        return 0

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008
        return len(self.columns)

    def hasChildren(self, parent: ANY_INDEX = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    # -- data ----------------------------------------------------------------------------------------------
    def record_at(self, index: ANY_INDEX) -> tuple[Any, bool]:
        """(record, is_child) of a valid index."""
        if index.internalId() == 0:
            return self.groups[index.row()].record, False
        return self.groups[index.internalId() - 1].children[index.row()], True

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole and self.columns[section].header_tip:
            return self.columns[section].header_tip
        return None

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record, child = self.record_at(index)
        column = (self.child_columns if child else self.columns)[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == SORT_ROLE:
            return column.sort(record) if column.sort else column.text(record).casefold()
        if role == Qt.ItemDataRole.DecorationRole and column.icon is not None:
            return column.icon(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            text = column.tooltip(record) if column.tooltip else column.text(record)
            return text or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and self.bold_groups and not child:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and self.dimmed is not None and self.dimmed(record):
            return QBrush(QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        if role == RECORD_ROLE:
            return record
        if role == KEY_ROLE:
            return self.key(record)
        if role == SEARCH_ROLE:
            columns = self.child_columns if child else self.columns
            return "\t".join(c.text(record) for c in columns).casefold()
        return None

    def find(self, key: Any) -> QModelIndex:
        """The index (column 0) of the record with this key, or an invalid index."""
        for g, group in enumerate(self.groups):
            if self.key(group.record) == key:
                return self.index(g, 0)
            for c, child in enumerate(group.children):
                if self.key(child) == key:
                    return self.index(c, 0, self.index(g, 0))
        return QModelIndex()
