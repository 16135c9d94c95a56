"""Dialogs every page uses: confirmations that name exactly what goes (No is the default), one-message error
dialogs, properties sheets, and the global handler that turns an unexpected exception into a dialog + log line."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import ConsoleError

log = logging.getLogger(__name__)
MAX_LISTED = 12


class ConfirmDialog(QDialog):
    """"Delete X?" with the list of what goes, an optional checkbox, and buttons where No has the focus."""

    def __init__(self, title: str, question: str, items: Sequence[str] = (), note: str = "",
                 yes_text: str = "Yes", checkbox: str | None = None, checkbox_tip: str = "",
                 destructive: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        icon = QLabel()
        style = self.style()
        pixmap = QStyle.StandardPixmap.SP_MessageBoxWarning if destructive else \
            QStyle.StandardPixmap.SP_MessageBoxQuestion
        icon.setPixmap(style.standardIcon(pixmap).pixmap(QSize(40, 40)))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.question = QLabel(question)
        self.question.setWordWrap(True)
        font = QFont(self.question.font())
        font.setBold(True)
        self.question.setFont(font)
        body = QVBoxLayout()
        body.addWidget(self.question)
        self.items = QListWidget()
        if items:
            shown = list(items[:MAX_LISTED])
            if len(items) > MAX_LISTED:
                shown.append(f"… and {len(items) - MAX_LISTED} more")
            self.items.addItems(shown)
            self.items.setMaximumHeight(min(220, 24 * len(shown) + 8))
            self.items.setSelectionMode(QListWidget.SelectionMode.NoSelection)
            self.items.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            body.addWidget(self.items)
        else:
            self.items.hide()
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        if note:
            body.addWidget(self.note)
        self.checkbox = QCheckBox(checkbox or "")
        if checkbox:
            self.checkbox.setToolTip(checkbox_tip)
            body.addWidget(self.checkbox)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addLayout(body, 1)
        self.yes_button = QPushButton(yes_text)
        self.no_button = QPushButton("No")
        self.yes_button.setAutoDefault(False)
        self.no_button.setDefault(True)          # Enter answers No: nothing goes by accident
        self.yes_button.clicked.connect(self.accept)
        self.no_button.clicked.connect(self.reject)
        buttons = QDialogButtonBox()
        buttons.addButton(self.yes_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.no_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)
        self.no_button.setFocus()

    @property
    def checked(self) -> bool:
        return self.checkbox.isChecked()


def confirm(parent: QWidget | None, title: str, question: str, items: Sequence[str] = (), note: str = "",
            yes_text: str = "Yes", checkbox: str | None = None, checkbox_tip: str = "",
            destructive: bool = True) -> tuple[bool, bool]:
    """Ask; returns (yes, checkbox checked)."""
    dialog = ConfirmDialog(title, question, items, note, yes_text, checkbox, checkbox_tip, destructive, parent)
    yes = dialog.exec() == QDialog.DialogCode.Accepted
    return yes, dialog.checked


def error_message(error: BaseException | str) -> str:
    """The one line an admin reads: a ConsoleError's own message, else the exception's type and text."""
    if isinstance(error, str):
        return error
    if isinstance(error, ConsoleError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return f"Unexpected error ({type(error).__name__}): {error}"


def show_error(parent: QWidget | None, title: str, error: BaseException | str) -> None:
    """One clear message; unexpected exceptions carry their traceback under "Show Details…"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(error_message(error))
    if isinstance(error, BaseException) and not isinstance(error, ConsoleError | OSError):
        box.setDetailedText("".join(traceback.format_exception(error)))
        box.setInformativeText("This looks like a bug; the details are also in the console log.")
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(text)
    box.exec()


class PropertiesDialog(QDialog):
    """A read-only sheet of label: value rows (values can be selected and copied)."""

    def __init__(self, title: str, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for label, value in rows:
            field = QLabel(value if value not in ("", None) else "—")
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setWordWrap(True)
            form.addRow(f"{label}:", field)
            self.values[label] = field
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)


# -- unexpected exceptions ----------------------------------------------------------------------------------

_showing = False


def install_exception_hook() -> None:
    """Log every uncaught exception and show it once as a dialog (never a stream of dialogs)."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        global _showing
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        log.error("unexpected error", exc_info=(kind, value, tb))
        if _showing or QApplication.instance() is None:
            return
        _showing = True
        try:
            show_error(QApplication.activeWindow(), "Unexpected error", value.with_traceback(tb))
        finally:
            _showing = False

    sys.excepthook = hook


def properties_rows(pairs: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, "" if v is None else str(v)) for k, v in pairs.items()]
