"""A table model over a list of records described by columns, and the filter/sort proxy every table uses.

Sort values are plain str/int/float so QSortFilterProxyModel sorts in C++ (fast on thousands of rows); the proxy's
text filter matches a per-record search text computed once, and an optional predicate narrows further (a page's
"only failed sessions", "only copy jobs").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RECORD_ROLE = Qt.ItemDataRole.UserRole + 2
KEY_ROLE = Qt.ItemDataRole.UserRole + 3
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 4
ANY_INDEX = QModelIndex | QPersistentModelIndex


@dataclass
class Column:
    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], str | int | float] | None = None     # default: the text
    icon: Callable[[Any], QIcon | None] | None = None
    tooltip: Callable[[Any], str] | None = None
    right: bool = False                 # numbers are right-aligned
    header_tip: str = ""
    width: int = 0                      # a sensible initial width in pixels (0: fit the contents)


class RecordTableModel(QAbstractTableModel):
    """Rows are records (any objects); `key` identifies a record across reloads (selection survives them)."""

    def __init__(self, columns: Sequence[Column], key: Callable[[Any], Any],
                 dimmed: Callable[[Any], bool] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.key = key
        self.dimmed = dimmed
        self.records: list[Any] = []
        self._search: list[str] = []

    # -- content ------------------------------------------------------------------------------------------
    def set_records(self, records: Sequence[Any]) -> None:
        records = list(records)
        same_rows = [self.key(r) for r in records] == [self.key(r) for r in self.records]
        if same_rows and records:
            self.records = records
            self._search = [self._search_text(r) for r in records]
            self.dataChanged.emit(self.index(0, 0), self.index(len(records) - 1, len(self.columns) - 1))
            return
        self.beginResetModel()
        self.records = records
        self._search = [self._search_text(r) for r in records]
        self.endResetModel()

    def append_records(self, records: Sequence[Any]) -> None:
        """Add rows at the end (a growing log) without resetting the view."""
        if not records:
            return
        first = len(self.records)
        self.beginInsertRows(QModelIndex(), first, first + len(records) - 1)
        self.records.extend(records)
        self._search.extend(self._search_text(r) for r in records)
        self.endInsertRows()

    def _search_text(self, record: Any) -> str:
        return "\t".join(c.text(record) for c in self.columns).casefold()

    def record(self, row: int) -> Any:
        return self.records[row]

    def row_of(self, key: Any) -> int:
        return next((i for i, r in enumerate(self.records) if self.key(r) == key), -1)

    # -- Qt model interface -----------------------------------------------------------------------------
    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.header_tip:
            return column.header_tip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter) if column.right else \
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.records) or \
                not 0 <= index.column() < len(self.columns):
            return None
        record, column = self.records[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == SORT_ROLE:
            return column.sort(record) if column.sort else column.text(record).casefold()
        if role == Qt.ItemDataRole.DecorationRole and column.icon is not None:
            return column.icon(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(record) if column.tooltip else column.text(record)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and self.dimmed is not None and self.dimmed(record):
            return QBrush(QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        if role == Qt.ItemDataRole.FontRole and index.column() == 0:
            font = QFont()
            font.setItalic(bool(self.dimmed is not None and self.dimmed(record)))
            return font
        if role == RECORD_ROLE:
            return record
        if role == KEY_ROLE:
            return self.key(record)
        if role == SEARCH_ROLE:
            return self._search[index.row()]
        return None


class FilterProxy(QSortFilterProxyModel):
    """Sorts by SORT_ROLE; keeps rows whose search text holds every word typed and that pass the predicate."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)
        self._words: list[str] = []
        self._predicate: Callable[[Any], bool] | None = None

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_words", text.casefold().split()))

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        self._refilter(lambda: setattr(self, "_predicate", predicate))

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):         # Qt >= 6.9; invalidateFilter is deprecated there
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: ANY_INDEX) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        if self._predicate is not None:
            # trees: the predicate judges top-level records; children follow their parent
            top = index
            while top.parent().isValid():
                top = top.parent()
            if not self._predicate(model.data(top, RECORD_ROLE)):
                return False
        if self._words:
            text = model.data(index, SEARCH_ROLE) or ""
            return all(word in text for word in self._words)
        return True
