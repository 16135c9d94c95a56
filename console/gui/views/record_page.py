"""A working-area page: title, one-line explanation, filter box, a sortable table, and an empty state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from console.gui.models.table import KEY_ROLE, FilterProxy, RecordTableModel
from console.gui.views.widgets import EmptyState, SearchBox, SelectionTable, hint, page_title, setup_table


class RecordPage(QWidget):
    selection_changed = Signal()
    context_menu_requested = Signal(QPoint)     # global position
    activated = Signal(object)                  # a record was double-clicked / Enter pressed

    def __init__(self, title: str, explanation: str, model: RecordTableModel, search_placeholder: str,
                 empty: EmptyState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = FilterProxy(self)
        self.proxy.setSourceModel(model)
        self.title = page_title(title)
        self.explanation = hint(explanation)
        self.search = SearchBox(search_placeholder)
        self.search.textChanged.connect(self.proxy.set_text)
        self.count = QLabel()
        self.table = SelectionTable()
        self.table.setModel(self.proxy)
        setup_table(self.table, model.columns)
        self.table.record_selected.connect(lambda _r: self.selection_changed.emit())
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda ix: self.activated.emit(ix.data(Qt.ItemDataRole.UserRole + 2)))
        self.table.activated.connect(lambda ix: self.activated.emit(ix.data(Qt.ItemDataRole.UserRole + 2)))
        self.empty = empty
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(empty)

        self.toolbar_row = QHBoxLayout()
        self.toolbar_row.addWidget(self.count)
        self.toolbar_row.addStretch(1)
        self.toolbar_row.addWidget(self.search)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.title)
        layout.addWidget(self.explanation)
        layout.addLayout(self.toolbar_row)
        layout.addWidget(self.stack, 1)
        self.details = QLabel()
        self.details.setObjectName("details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setFrameShape(QFrame.Shape.StyledPanel)
        self.details.setContentsMargins(8, 6, 8, 6)
        self.details.setVisible(False)
        layout.addWidget(self.details)
        self.describe: Callable[[Any], str] | None = None
        self.selection_changed.connect(self._show_details)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._noun = ("item", "items")

    def set_noun(self, singular: str, plural: str) -> None:
        self._noun = (singular, plural)
        self._update_count()

    # -- content --------------------------------------------------------------------------------------------
    def set_records(self, records: list[Any]) -> None:
        key = self.selected_key()
        self.model.set_records(records)
        if key is not None:
            self.select_key(key)
        self._update_count()

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        self.proxy.set_predicate(predicate)
        self._update_count()

    def _update_count(self, *_: Any) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        singular, plural = self._noun
        text = f"{shown} {singular if shown == 1 else plural}"
        if self.search.text() and shown != total:
            text += " match the filter"
        self.count.setText(text)
        self.stack.setCurrentWidget(self.empty if shown == 0 and not self.search.text() else self.table)
        self.selection_changed.emit()

    # -- selection -------------------------------------------------------------------------------------------
    def selected(self) -> Any:
        return self.table.current_record() if self.stack.currentWidget() is self.table else None

    def selected_key(self) -> Any:
        index = self.table.selectionModel().currentIndex()
        return index.siblingAtColumn(0).data(KEY_ROLE) if index.isValid() else None

    def select_key(self, key: Any) -> bool:
        row = self.model.row_of(key)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.setCurrentIndex(index)
        return True

    def _show_details(self) -> None:
        record = self.selected()
        if self.describe is None or record is None:
            self.details.setVisible(False)
            return
        self.details.setText(self.describe(record))
        self.details.setVisible(True)

    def _context_menu(self, pos: QPoint) -> None:
        index: QModelIndex = self.table.indexAt(pos)
        if index.isValid():
            self.table.selectRow(index.row())
        self.context_menu_requested.emit(self.table.viewport().mapToGlobal(pos))
