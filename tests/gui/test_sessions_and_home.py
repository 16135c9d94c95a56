"""Session history filters, the Home page's 3-2-1 overview and last-24-hours counters, and the wizards the
toolbar opens (they belong to another module; here only the wiring is checked)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from gui.gui_data import answer_dialog, make_world, open_window
from PySide6.QtWidgets import QDialog

from console.core.catalog import Catalog
from console.core.operations import jobs
from console.gui.status_view import protection_summary


@pytest.fixture
def window(qtbot, data_dir: Path):
    """window() → a shown MainWindow on this test's data dir, its snapshot loaded."""
    return lambda **kwargs: open_window(qtbot, data_dir, **kwargs)


@pytest.fixture
def history(tmp_path: Path, data_dir: Path):
    world = make_world(tmp_path, data_dir, runs=2)
    with Catalog.open(data_dir) as cat:
        jobs.add_backup_job(cat, "broken", "primary", [str(tmp_path / "gone")])
        assert jobs.run_job(cat, "broken", data_dir).status.value == "failed"
    return world


def test_session_filters(window, history) -> None:
    w = window()
    w.show_page("sessions")
    page = w.sessions
    assert page.proxy.rowCount() == 4                        # 2 backups, 1 copy, 1 failed backup
    first = page.proxy.index(0, 0).data(), page.proxy.index(0, 2).data()
    assert first == ("broken", "Failed")                     # newest first
    page.status.setCurrentIndex(page.status.findData("failed"))
    assert page.proxy.rowCount() == 1
    page.status.setCurrentIndex(0)
    page.kind.setCurrentIndex(page.kind.findData("copy"))
    assert page.proxy.rowCount() == 1 and page.proxy.index(0, 0).data() == "docs-offsite"
    page.kind.setCurrentIndex(0)
    page.job.setCurrentIndex(page.job.findData("docs"))
    assert page.proxy.rowCount() == 2
    page.job.setCurrentIndex(0)
    page.now = lambda: w.snapshot.loaded + timedelta(days=2)  # two days later: nothing in the last 24 hours
    page.period.setCurrentIndex(0)
    assert page.proxy.rowCount() == 0 and page.stack.currentWidget() is page.empty
    page.period.setCurrentIndex(1)                           # last 7 days
    assert page.proxy.rowCount() == 4
    page.search.setText("gone")                              # the failed run's message names the folder
    assert page.proxy.rowCount() == 1


def test_home_shows_protection_and_the_last_24_hours(window, history, qtbot) -> None:
    w = window()
    home = w.home
    assert home.stack.currentWidget() is home.overview
    assert home.counters["success"].value.text() == "3"
    assert home.counters["failed"].value.text() == "1"
    assert home.counters["running"].value.text() == "0"
    rows = {p.source: p for p in home.model.records}
    assert rows[str(history.source)].ok and not rows[str(history.source.parent / "gone")].ok
    assert "1 of 3 protected sources does not follow" in home.summary.text()
    home.counters["failed"].clicked.emit()
    assert w.page == "recent" and w.sessions.proxy.rowCount() == 1
    assert w.navigation.currentItem().text(0) == "Failed"


def test_protection_summary_wording() -> None:
    assert protection_summary([]) == "No protected sources yet."


@pytest.mark.parametrize(("action", "wizard_class"), [("new_repository", "RepositoryWizard"),
                                                       ("new_backup_job", "BackupJobWizard"),
                                                       ("new_copy_job", "CopyJobWizard")])
def test_new_actions_open_the_wizards(window, qtbot, tmp_path: Path, data_dir: Path, action: str,
                                      wizard_class: str) -> None:
    make_world(tmp_path, data_dir, runs=0, copy=False)
    w = window()
    opened: list[str] = []

    def cancel(dialog: QDialog) -> None:
        opened.append(type(dialog).__name__)
        dialog.reject()

    answer_dialog(cancel)
    getattr(w.commands, action).trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    assert opened == [wizard_class]
    with Catalog.open(data_dir) as cat:                       # Cancel saves nothing
        assert [r.name for r in cat.list_repositories()] == ["offsite", "primary"]
        assert [j.name for j in cat.list_jobs()] == ["docs"]


def test_edit_opens_the_wizard_of_the_selected_job(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=0)
    w = window()
    w.show_page("jobs")
    assert w.jobs.select_key("docs-offsite")
    seen: list = []

    def cancel(dialog: QDialog) -> None:
        seen.append(dialog)
        dialog.reject()

    answer_dialog(cancel)
    w.commands.edit.trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert type(seen[0]).__name__ == "CopyJobWizard"
