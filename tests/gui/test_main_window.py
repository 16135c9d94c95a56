"""The placeholder main window: shows, has the navigation and the empty state, renders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QTreeWidgetItemIterator

from console.gui.main_window import EMPTY_STATE_TEXT, MainWindow

EXPECTED_NAVIGATION = {
    "Home": None,
    "Jobs": "Home",
    "Backup": "Jobs",
    "Backup Copy": "Jobs",
    "Backups": "Home",
    "Disk": "Backups",
    "Disk (Copy)": "Backups",
    "Orphaned": "Backups",
    "Backup Infrastructure": None,
    "Repositories": "Backup Infrastructure",
    "History": None,
    "Sessions": "History",
}


def navigation_items(window: MainWindow) -> dict[str, str | None]:
    """label -> parent label (None for top-level items)."""
    items = {}
    iterator = QTreeWidgetItemIterator(window.navigation)
    while item := iterator.value():
        items[item.text(0)] = item.parent().text(0) if item.parent() else None
        iterator += 1
    return items


def test_main_window_shows_navigation_and_empty_state(qtbot, data_dir: Path) -> None:
    window = MainWindow(data_dir=data_dir)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    assert window.isVisible()
    assert window.windowTitle() == "Backup Copy Console"
    assert (window.width(), window.height()) == (1100, 700)
    assert window.data_dir == data_dir
    assert window.statusBar().currentMessage() == "Ready"

    assert navigation_items(window) == EXPECTED_NAVIGATION

    texts = [label.text() for label in window.findChildren(QLabel)]
    assert EMPTY_STATE_TEXT in texts
    assert EMPTY_STATE_TEXT == "No repositories yet — add a repository, then create your first backup job"
    assert not window.add_repository_button.isEnabled()
    assert not window.new_backup_job_button.isEnabled()

    pixmap = window.grab()
    assert not pixmap.isNull()
    assert (pixmap.width(), pixmap.height()) == (1100, 700)


def test_main_window_without_data_dir(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.data_dir is None
    assert window.section_title.text() == "Home"
