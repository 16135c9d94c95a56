"""The main window: navigation, pages, the first-start empty state, a toolbar that follows the selection,
keyboard navigation, and the snapshot reload when another process changes the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui.gui_data import answer_dialog, make_world, open_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItemIterator

from console.core.catalog import Catalog
from console.core.model import JobKind
from console.core.operations.repositories import add_local
from console.gui.main_window import EMPTY_STATE_TEXT, MainWindow


@pytest.fixture
def window(qtbot, data_dir: Path):
    """window() → a shown MainWindow on this test's data dir, its snapshot loaded."""
    return lambda **kwargs: open_window(qtbot, data_dir, **kwargs)


EXPECTED_NAVIGATION = {
    "Home": None,
    "Jobs": "Home",
    "Backup": "Jobs",
    "Backup Copy": "Jobs",
    "Backups": "Home",
    "Disk": "Backups",
    "Disk (Copy)": "Backups",
    "Orphaned": "Backups",
    "Last 24 hours": "Home",
    "Running": "Last 24 hours",
    "Success": "Last 24 hours",
    "Warning": "Last 24 hours",
    "Failed": "Last 24 hours",
    "Backup Infrastructure": None,
    "Repositories": "Backup Infrastructure",
    "History": None,
    "Sessions": "History",
}


def navigation_items(window: MainWindow) -> dict[str, str | None]:
    items = {}
    iterator = QTreeWidgetItemIterator(window.navigation)
    while item := iterator.value():
        items[item.text(0)] = item.parent().text(0) if item.parent() else None
        iterator += 1
    return items


def select_navigation(window: MainWindow, label: str) -> None:
    found = window.navigation.findItems(label, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
    window.navigation.setCurrentItem(found[0])



def visible_toolbar(window: MainWindow) -> set[str]:
    return {name for name, action in window.toolbar_actions.items() if action.isVisible()}


def test_first_start_shows_the_welcome_and_offers_a_repository(window, data_dir: Path) -> None:
    w = window()
    assert w.windowTitle() == "Backup Copy Console"
    assert (w.width(), w.height()) == (1200, 760)
    assert not w.windowIcon().isNull()
    assert w.data_dir == data_dir
    assert navigation_items(w) == EXPECTED_NAVIGATION
    assert w.home.stack.currentWidget() is w.home.welcome
    assert w.home.welcome.message.text() == EMPTY_STATE_TEXT
    assert w.add_repository_button.isEnabled()
    # a backup job needs a repository first: the button says why it is off
    assert not w.new_backup_job_button.isEnabled()
    assert "repository first" in w.new_backup_job_button.toolTip()
    assert not w.commands.new_backup_job.isEnabled()
    assert w.commands.new_repository.isEnabled()
    assert visible_toolbar(w) == {"new_repository", "new_backup_job", "new_copy_job"}
    assert w.statusBar().currentMessage() == "Ready"
    assert w.running_label.text() == "No runs in progress"
    assert not w.grab().isNull()


def test_every_page_has_an_empty_state(window) -> None:
    w = window()
    for label, page in (("Jobs", w.jobs), ("Repositories", w.repositories), ("Sessions", w.sessions)):
        select_navigation(w, label)
        assert w.pages.currentWidget() is page
        assert page.stack.currentWidget() is page.empty, label
    select_navigation(w, "Backups")
    assert w.backups.stack.currentWidget() is w.backups.empty


def test_a_repository_made_elsewhere_appears_without_a_click(window, data_dir: Path, tmp_path: Path,
                                                              qtbot) -> None:
    w = window()
    with Catalog.open(data_dir) as cat:      # as the CLI in another process would
        add_local(cat, "usb", str(tmp_path / "usb"))
    qtbot.waitUntil(lambda: bool(w.snapshot.repositories), timeout=10_000)
    assert w.home.welcome.message.text().startswith("Your repository is ready")
    assert w.new_backup_job_button.isEnabled()
    assert w.commands.new_backup_job.isEnabled()
    select_navigation(w, "Repositories")
    assert w.repositories.model.records[0].name == "usb"


def test_pages_filters_and_toolbar_follow_the_selection(window, data_dir: Path, tmp_path: Path, qtbot) -> None:
    make_world(tmp_path, data_dir, runs=1)
    w = window()
    assert w.home.stack.currentWidget() is w.home.overview
    assert {p.source for p in w.home.model.records} == {str(tmp_path / "src"), str(tmp_path / "src2")}

    select_navigation(w, "Jobs")
    assert w.page == "jobs"
    assert {r.name for r in w.jobs.model.records} == {"docs", "docs-offsite"}
    assert visible_toolbar(w) >= {"start", "stop", "edit", "delete_job", "clone", "toggle_enabled"}
    assert "restore" not in visible_toolbar(w)
    assert not w.commands.start.isEnabled()              # nothing selected yet
    assert w.jobs.select_key("docs")
    assert w.commands.start.isEnabled() and w.commands.active_full.isEnabled()
    assert not w.commands.sync_now.isEnabled() and not w.commands.stop.isEnabled()
    assert "docs-offsite" in w.jobs.details.text()       # the details panel names the linked copy job
    assert w.jobs.select_key("docs-offsite")
    assert w.commands.sync_now.isEnabled() and not w.commands.active_full.isEnabled()

    select_navigation(w, "Backup Copy")
    assert w.jobs.proxy.rowCount() == 1 and w.jobs.title.text() == "Backup copy jobs"
    select_navigation(w, "Backup")
    assert w.jobs.proxy.rowCount() == 1
    w.jobs.search.setText("nothing matches this")
    assert w.jobs.proxy.rowCount() == 0 and w.jobs.stack.currentWidget() is w.jobs.table
    w.jobs.search.clear()

    select_navigation(w, "Disk (Copy)")
    assert w.page == "backups" and w.backups.backups_proxy.rowCount() == 1
    assert not w.remove_missing_button.isEnabled()       # only offered for a backup with missing points
    assert visible_toolbar(w) >= {"restore", "delete_from_disk", "remove_from_config", "remove_missing"}
    select_navigation(w, "Orphaned")
    assert w.backups.backups_proxy.rowCount() == 0 and w.backups.stack.currentWidget() is w.backups.empty

    select_navigation(w, "Repositories")
    assert visible_toolbar(w) >= {"rescan", "check_repo", "remove_repo", "offsite"}
    assert w.repositories.select_key("offsite")
    assert w.commands.offsite.isChecked()                # make_world marks it off-site

    select_navigation(w, "Success")
    assert w.page == "recent" and w.sessions.title.text() == "Last 24 hours: Success"
    assert w.sessions.proxy.rowCount() == 2              # one backup run, one copy run
    select_navigation(w, "Failed")
    assert w.sessions.proxy.rowCount() == 0


def test_keyboard_shortcuts_switch_pages(window, qtbot) -> None:
    w = window()
    for key, page in ((Qt.Key.Key_2, w.jobs), (Qt.Key.Key_3, w.backups), (Qt.Key.Key_4, w.repositories),
                      (Qt.Key.Key_5, w.sessions), (Qt.Key.Key_1, w.home)):
        qtbot.keyClick(w, key, Qt.KeyboardModifier.ControlModifier)
        assert w.pages.currentWidget() is page
    w.navigation.setFocus()
    select_navigation(w, "Home")
    qtbot.keyClick(w.navigation, Qt.Key.Key_Down)
    assert w.navigation.currentItem().text(0) == "Jobs" and w.page == "jobs"


def test_a_disabled_job_is_shown_as_such_and_can_be_enabled_again(window, data_dir: Path, tmp_path: Path,
                                                                  qtbot) -> None:
    make_world(tmp_path, data_dir, runs=0, copy=False)
    w = window()
    w.show_page("jobs")
    w.jobs.select_key("docs")
    assert w.commands.toggle_enabled.text() == "Disable"
    w.commands.toggle_enabled.trigger()
    qtbot.waitUntil(lambda: not w.snapshot.job("docs").job.enabled, timeout=10_000)
    with Catalog.open(data_dir) as cat:
        assert not cat.get_job("docs").enabled
    assert w.jobs.model.data(w.jobs.model.index(0, 2)) == "Disabled"
    assert w.jobs.selected().name == "docs"               # the selection survives the reload
    assert w.commands.toggle_enabled.text() == "Enable"
    w.commands.toggle_enabled.trigger()
    qtbot.waitUntil(lambda: w.snapshot.job("docs").job.enabled, timeout=10_000)
    assert w.snapshot.job("docs").job.kind == JobKind.BACKUP


def test_clone_makes_a_new_job_with_the_same_settings(window, data_dir: Path, tmp_path: Path, qtbot) -> None:
    make_world(tmp_path, data_dir, runs=0)
    w = window()
    w.show_page("jobs")
    w.jobs.select_key("docs")

    def name_it(dialog) -> None:
        dialog.setTextValue("docs-weekly")
        dialog.accept()

    answer_dialog(name_it)
    w.commands.clone.trigger()
    qtbot.waitUntil(lambda: w.snapshot.job("docs-weekly") is not None, timeout=10_000)
    with Catalog.open(data_dir) as cat:
        clone, original = cat.get_job("docs-weekly"), cat.get_job("docs")
        assert clone.sources == original.sources and clone.repository == original.repository
        assert cat.linked_copy_jobs("docs-weekly") == ["docs-offsite"]
    assert w.jobs.selected().name == "docs-weekly"


def test_the_scheduler_setting_is_kept_in_the_catalog(window, data_dir: Path, qtbot) -> None:
    w = window()
    qtbot.waitUntil(lambda: w.scheduler_action.isChecked(), timeout=10_000)   # default: on
    assert not w.scheduler.running                    # this test window was told not to start it
    w.scheduler_action.setChecked(False)

    def saved() -> object:
        with Catalog.open(data_dir) as cat:
            return cat.get_setting("gui.run_scheduler")

    qtbot.waitUntil(lambda: saved() is False, timeout=10_000)
    assert w.scheduler_label.text() == "Scheduler: off"
