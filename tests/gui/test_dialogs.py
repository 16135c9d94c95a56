"""Dialogs: confirmations default to No and list what goes; errors are one readable message (tracebacks only
for bugs, under "Show Details"); an unexpected exception anywhere becomes one dialog and a log line."""

from __future__ import annotations

import logging
import sys

import pytest
from gui.gui_data import answer_dialog
from PySide6.QtWidgets import QMessageBox

from console.core.errors import RepositoryError
from console.gui.dialogs import ConfirmDialog, confirm, error_message, install_exception_hook, show_error


def test_confirm_lists_what_goes_and_no_is_the_default(qtbot) -> None:
    seen: list[ConfirmDialog] = []

    def look(dialog: ConfirmDialog) -> None:
        seen.append(dialog)
        assert dialog.no_button.isDefault() and dialog.no_button.hasFocus()
        dialog.checkbox.setChecked(True)
        dialog.yes_button.click()

    answer_dialog(look)
    yes, ticked = confirm(None, "Delete", "Delete 3 things?", ["a", "b", "c"], note="for good",
                          yes_text="Delete", checkbox="also the archive")
    assert (yes, ticked) == (True, True)
    assert [seen[0].items.item(i).text() for i in range(3)] == ["a", "b", "c"]
    assert seen[0].yes_button.text() == "Delete"

    many = [f"point {i}" for i in range(30)]
    answer_dialog(lambda d: d.reject())                 # Escape / closing the window is No too
    assert confirm(None, "Delete", "Delete 30 things?", many) == (False, False)


def test_errors_read_as_one_line(qtbot) -> None:
    assert error_message(RepositoryError("repository x: folder gone; mount it again")) == \
        "repository x: folder gone; mount it again"
    assert error_message(FileNotFoundError(2, "No such file or directory", "/x")) == "No such file or directory: /x"
    assert error_message(KeyError("k")).startswith("Unexpected error (KeyError)")
    shown: list[QMessageBox] = []

    def read(box: QMessageBox) -> None:
        shown.append(box)
        box.accept()

    answer_dialog(read)
    show_error(None, "Rescan", RepositoryError("repository x is gone"))
    assert shown[0].text() == "repository x is gone" and not shown[0].detailedText()


def test_unexpected_exceptions_become_one_dialog(qtbot, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)     # put the original back afterwards
    install_exception_hook()
    shown: list[QMessageBox] = []

    def read(box: QMessageBox) -> None:
        shown.append(box)
        box.accept()

    answer_dialog(read)
    try:
        raise ZeroDivisionError("division by zero in a slot")
    except ZeroDivisionError:
        with caplog.at_level(logging.ERROR):
            sys.excepthook(*sys.exc_info())
    assert shown[0].text() == "Unexpected error (ZeroDivisionError): division by zero in a slot"
    assert "Traceback" in shown[0].detailedText()
    assert "unexpected error" in caplog.text
