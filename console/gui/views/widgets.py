"""Small building blocks shared by the pages: table views set up the same way, an empty-state panel, a search
box, and delegates that draw progress bars and GFS badges inside table cells."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.gui.models.table import RECORD_ROLE, SORT_ROLE, Column
from console.gui.resources import app_icon, resource_icon

AnyIndex = QModelIndex | QPersistentModelIndex
GFS_COLORS = {"W": "#1565C0", "M": "#6A1B9A", "Y": "#E65100"}
GFS_TIPS = {"W": "weekly", "M": "monthly", "Y": "yearly"}


def setup_table(view: QTableView | QTreeView, columns: Sequence[Column] = (), sortable: bool = True) -> None:
    """Row selection, alternating colours, sortable header, sensible widths, a context menu hook."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(sortable)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)
    if sortable:
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    for i, column in enumerate(columns):
        if column.width:
            header.resizeSection(i, column.width)
    if isinstance(view, QTableView):
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
        view.setShowGrid(False)
        view.setCornerButtonEnabled(False)
    else:
        view.setUniformRowHeights(True)
        view.setAllColumnsShowFocus(True)


class SearchBox(QLineEdit):
    """A filter field: clear button, placeholder, Escape clears."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.setMaximumWidth(320)
        self.setToolTip(f"{placeholder} (Esc clears)")

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


def page_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("pageTitle")
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.35)
    font.setBold(True)
    label.setFont(font)
    return label


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("pageHint")
    pal = label.palette()
    pal.setColor(QPalette.ColorRole.WindowText, QColor("#56636B"))     # secondary text, still easy to read
    label.setPalette(pal)
    return label


class EmptyState(QFrame):
    """A centred icon, a message and optional buttons: what a page shows while it has nothing to list."""

    def __init__(self, message: str, buttons: Sequence[tuple[str, str, Callable[[], None]]] = (),
                 icon: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        picture = QLabel()
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pixmap_icon = resource_icon(icon) if icon else app_icon()
        picture.setPixmap(pixmap_icon.pixmap(QSize(72, 72)))
        self.message = QLabel(message)
        self.message.setObjectName("emptyStateMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        font = QFont(self.message.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.message.setFont(font)
        row = QHBoxLayout()
        row.addStretch(1)
        self.buttons: list[QPushButton] = []
        for text, icon_name, slot in buttons:
            button = QPushButton(resource_icon(icon_name), text)
            button.clicked.connect(slot)
            button.setMinimumHeight(32)
            row.addWidget(button)
            self.buttons.append(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(picture)
        layout.addWidget(self.message)
        layout.addSpacing(8)
        layout.addLayout(row)
        layout.addStretch(2)

    def set_message(self, text: str) -> None:
        self.message.setText(text)


class ProgressDelegate(QStyledItemDelegate):
    """Draws a slim progress bar from the cell's sort value (0..1; negative: nothing to show yet)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        value = index.data(SORT_ROLE)
        if not isinstance(value, (int, float)) or value < 0:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(option.rect.adjusted(4, 5, -4, -5))
        painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(option.palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(frame, 3, 3)
        if value > 0:
            filled = QRectF(frame.left(), frame.top(), frame.width() * min(1.0, value), frame.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#1565C0") if value < 1 else QColor("#2E7D32"))
            painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(QColor("white") if value >= 0.55 else option.palette.color(QPalette.ColorRole.Text))
        painter.drawText(frame, Qt.AlignmentFlag.AlignCenter, f"{value:.0%}")
        painter.restore()


class GfsDelegate(QStyledItemDelegate):
    """Draws GFS flags as small coloured badges (W weekly, M monthly, Y yearly)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        flags = [f for f in str(text).split() if f in GFS_COLORS]
        if not flags:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else QApplication.style()
        option.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(option.font)
        font.setBold(True)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        size = option.rect.height() - 8
        x = option.rect.left() + 4
        for flag in flags:
            rect = QRect(x, option.rect.top() + 4, size + 2, size)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(GFS_COLORS[flag]))
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(QColor("white"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, flag)
            x += size + 6
        painter.restore()

    def helpEvent(self, event: Any, view: Any, option: QStyleOptionViewItem, index: Any) -> bool:
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if text:
            from PySide6.QtWidgets import QToolTip
            names = ", ".join(GFS_TIPS[f] for f in str(text).split() if f in GFS_TIPS)
            QToolTip.showText(event.globalPos(), f"kept for archival ({names})", view)
            return True
        return super().helpEvent(event, view, option, index)


class SelectionTable(QTableView):
    """A table that reports its selected record (or None) through one signal."""

    record_selected = Signal(object)

    def setModel(self, model: Any) -> None:  # noqa: N802 - Qt's name
        super().setModel(model)
        self.selectionModel().currentRowChanged.connect(self._emit)
        self.selectionModel().selectionChanged.connect(self._emit)
        model.modelReset.connect(lambda: self.record_selected.emit(self.current_record()))

    def _emit(self, *_: Any) -> None:
        self.record_selected.emit(self.current_record())

    def current_record(self) -> Any:
        """The record of the current row while it is selected (the current index moves before the selection)."""
        model = self.selectionModel()
        if model is None:
            return None
        index = model.currentIndex()
        if not index.isValid():
            return None
        return index.siblingAtColumn(0).data(RECORD_ROLE)
