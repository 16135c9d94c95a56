"""Context menus and their confirmations change the catalog and the repository the way the CLI does: delete
from disk (GFS points kept unless ticked), remove from configuration, remove missing points (only offered when
there are some), delete job (backups become orphaned), repository remove / off-site; No is the default answer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from gui.gui_data import answer_dialog, make_missing_point, make_world, open_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from console.core.catalog import Catalog
from console.core.engine.retention import WEEKDAYS
from console.core.model import PointState
from console.core.operations import jobs
from console.gui.actions import menu_actions
from console.gui.dialogs import ConfirmDialog, PropertiesDialog
from console.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot, data_dir: Path):
    """window() → a shown MainWindow on this test's data dir, its snapshot loaded."""
    return lambda **kwargs: open_window(qtbot, data_dir, **kwargs)


def primary_backup(w: MainWindow):
    return next(b for b in w.snapshot.backups if b.backup.repository == "primary" and b.backup.job == "docs")


def select_backup(w: MainWindow, backup_id: str) -> None:
    w.show_page("backups", "all")
    assert w.backups.select_backup(backup_id)


def confirm_with(qtbot, *, tick: bool = False, answer: str = "yes", seen: list | None = None) -> None:
    def act(dialog) -> None:
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.no_button.isDefault() and not dialog.yes_button.isDefault()
        if seen is not None:
            seen.append(dialog)
        if tick:
            dialog.checkbox.setChecked(True)
        if answer == "enter":
            qtbot.keyClick(dialog, Qt.Key.Key_Return)     # Enter means No
        elif answer == "yes":
            dialog.yes_button.click()
        else:
            dialog.no_button.click()
    answer_dialog(act)


def test_the_backup_menu_offers_what_applies(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=2)
    w = window()
    b = primary_backup(w)
    select_backup(w, b.id)
    menu = w.context_menu("backup")
    names = list(menu_actions(menu))
    assert names == ["Restore…", "Properties", "Rescan", "Delete from Disk…", "Remove from Configuration…"]
    assert not any(isinstance(a.menu(), QMenu) for a in menu.actions() if a.menu())   # no "remove missing" yet

    make_missing_point(world)
    qtbot.waitUntil(lambda: primary_backup(w).missing == 1, timeout=10_000)
    menu = w.context_menu("backup")
    submenu = next(a.menu() for a in menu.actions() if a.menu() is not None)
    assert submenu.title() == "Remove Missing Restore Points"
    assert list(menu_actions(submenu)) == ["Forget Missing Restore Points…",
                                           "Remove Missing Restore Points from Disk…"]

    # a real right-click pops the same menu up
    view = w.backups.backups_view
    rect = view.visualRect(w.backups.backups_proxy.index(0, 0))
    view.customContextMenuRequested.emit(rect.center())
    popup = QApplication.activePopupWidget()
    assert isinstance(popup, QMenu) and "Delete from Disk…" in menu_actions(popup)
    popup.close()


def test_delete_from_disk_removes_files_and_catalog_entries(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=2, copy=False)
    w = window()
    b = primary_backup(w)
    backup_dir = world.primary / "backups" / b.id
    assert (backup_dir / "backup.json").exists()
    select_backup(w, b.id)

    confirm_with(qtbot, answer="enter")                        # Enter: No, nothing happens
    w.commands.delete_from_disk.trigger()
    with Catalog.open(data_dir) as cat:
        assert len(cat.list_points(backup=b.id)) == 4
    assert (backup_dir / "backup.json").exists()

    seen: list = []
    confirm_with(qtbot, seen=seen)
    w.commands.delete_from_disk.trigger()
    qtbot.waitUntil(lambda: w.snapshot.backup(b.id) is None, timeout=30_000)
    dialog = seen[0]
    assert dialog.question.text() == "Delete the backup of docs from repository primary?"
    assert dialog.items.count() == 4                           # every restore point that goes is named
    assert dialog.checkbox.isHidden()                          # no GFS points: nothing to choose
    with Catalog.open(data_dir) as cat:
        assert all(x.id != b.id for x in cat.list_backups())
        assert all(p.backup != b.id for p in cat.list_points())
        assert cat.list_sessions(limit=1)[0].kind == "delete"
    assert not (backup_dir / "backup.json").exists()
    assert not list(backup_dir.rglob("*.point"))


def test_delete_from_disk_keeps_gfs_points_unless_ticked(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=0, copy=False)
    today = WEEKDAYS[datetime.now().astimezone().weekday()]
    with Catalog.open(data_dir) as cat:
        job = cat.get_job("docs")
        job.retention = {"points": 7, "gfs": {"weekly": {"keep": 4, "day": today}}}
        jobs.update_job(cat, job)
        assert jobs.run_job(cat, "docs", data_dir).status.value == "success"
        assert jobs.run_job(cat, "docs", data_dir).status.value == "success"
        flagged = [p.id for p in cat.list_points(job="docs") if p.gfs]
    assert flagged, "today's weekly GFS point"
    w = window()
    b = primary_backup(w)
    select_backup(w, b.id)
    seen: list = []
    confirm_with(qtbot, seen=seen)                             # checkbox left unticked: GFS points stay
    w.commands.delete_from_disk.trigger()
    qtbot.waitUntil(lambda: primary_backup(w).points == len(flagged), timeout=30_000)
    assert seen[0].checkbox.isVisibleTo(seen[0]) and "GFS" in seen[0].checkbox.text()
    with Catalog.open(data_dir) as cat:
        assert sorted(p.id for p in cat.list_points(backup=b.id)) == sorted(flagged)
    assert (world.primary / "backups" / b.id / "backup.json").exists()

    confirm_with(qtbot, tick=True)                             # ticked: the GFS points go too
    w.commands.delete_from_disk.trigger()
    qtbot.waitUntil(lambda: w.snapshot.backup(b.id) is None, timeout=30_000)
    assert not (world.primary / "backups" / b.id / "backup.json").exists()


def test_remove_from_configuration_keeps_the_files_and_rescan_brings_it_back(window, qtbot, tmp_path: Path,
                                                                             data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=1, copy=False)
    w = window()
    b = primary_backup(w)
    select_backup(w, b.id)
    confirm_with(qtbot)
    w.commands.remove_from_config.trigger()
    qtbot.waitUntil(lambda: w.snapshot.backup(b.id) is None, timeout=30_000)
    assert (world.primary / "backups" / b.id / "backup.json").exists()
    assert len(list((world.primary / "backups" / b.id).rglob("*.point"))) == 2

    w.show_page("repositories")
    assert w.repositories.select_key("primary")
    assert "Rescan" in menu_actions(w.context_menu("repository"))
    w.commands.rescan.trigger()
    qtbot.waitUntil(lambda: w.snapshot.backup(b.id) is not None, timeout=30_000)
    assert w.snapshot.backup(b.id).points == 2
    assert "imported" in w.statusBar().currentMessage()


@pytest.mark.parametrize("from_disk", [False, True])
def test_remove_missing_restore_points(window, qtbot, tmp_path: Path, data_dir: Path, from_disk: bool) -> None:
    world = make_world(tmp_path, data_dir, runs=2, copy=False)
    missing_id = make_missing_point(world)
    with Catalog.open(data_dir) as cat:
        missing = cat.get_point(missing_id)
    leftover = world.primary / missing.manifest
    leftover.write_bytes(b"what is left of it")         # e.g. a half-restored folder: --from-disk deletes it
    w = window()
    b = primary_backup(w)
    select_backup(w, b.id)
    assert w.commands.forget_missing.isEnabled()
    seen: list = []
    confirm_with(qtbot, seen=seen)
    (w.commands.remove_missing_disk if from_disk else w.commands.forget_missing).trigger()
    qtbot.waitUntil(lambda: primary_backup(w).missing == 0, timeout=30_000)
    assert seen[0].items.count() == 1 and missing.object in seen[0].items.item(0).text()
    with Catalog.open(data_dir) as cat:
        points = cat.list_points(backup=b.id)
        assert missing_id not in {p.id for p in points} and len(points) == 3
        assert all(p.state == PointState.OK for p in points)
    assert leftover.exists() != from_disk
    assert not w.commands.forget_missing.isEnabled()


def test_delete_job_orphans_its_backups(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=1, copy=False)
    w = window()
    w.show_page("jobs")
    assert w.jobs.select_key("docs")
    menu = w.context_menu("job")
    assert list(menu_actions(menu)) == ["Start", "Stop", "Active Full", "Show Session", "Edit…", "Disable", "Clone…",
                                        "Delete Job…"]
    seen: list = []
    confirm_with(qtbot, seen=seen)
    menu_actions(menu)["Delete Job…"].trigger()
    qtbot.waitUntil(lambda: w.snapshot.job("docs") is None, timeout=30_000)
    assert "Orphaned" in seen[0].note.text()
    w.show_page("backups", "orphaned")
    assert w.backups.backups_proxy.rowCount() == 1
    with Catalog.open(data_dir) as cat:
        assert cat.is_orphaned(cat.list_backups()[0])


def test_point_menu_and_properties(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=1, copy=False)
    w = window()
    b = primary_backup(w)
    select_backup(w, b.id)
    point = w.snapshot.points[b.id][0].point
    assert w.backups.select_point(point.id)
    menu = w.context_menu("point")
    assert list(menu_actions(menu)) == ["Restore…", "Browse Files", "Properties"]

    def read(dialog) -> None:
        assert isinstance(dialog, PropertiesDialog)
        assert dialog.values["Restore point"].text() == point.id
        assert dialog.values["Object"].text() == point.object
        dialog.reject()

    answer_dialog(read)
    menu_actions(menu)["Properties"].trigger()


def test_repository_menu_off_site_and_remove(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=1, offsite=False)
    w = window()
    w.show_page("repositories")
    assert w.repositories.select_key("offsite")
    menu = w.context_menu("repository")
    assert list(menu_actions(menu)) == ["Rescan", "Check", "Verify All Data", "Edit…", "Off-site Location",
                                        "Properties", "Remove Repository…"]
    assert not w.commands.offsite.isChecked()
    menu_actions(menu)["Off-site Location"].trigger()
    qtbot.waitUntil(lambda: w.snapshot.repository("offsite").offsite, timeout=10_000)
    with Catalog.open(data_dir) as cat:
        assert cat.get_repository("offsite").options["offsite"] is True
    assert all(p.offsite for p in w.snapshot.protection)       # the 3-2-1 view follows

    errors: list[str] = []

    def refused(dialog) -> None:
        errors.append(dialog.text())
        dialog.accept()

    answer_dialog(refused)                                      # a repository in use cannot go
    w.commands.remove_repo.trigger()
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert "used by job docs-offsite: delete that job" in errors[0]

    with Catalog.open(data_dir) as cat:
        cat.delete_job("docs-offsite")
    qtbot.waitUntil(lambda: w.snapshot.job("docs-offsite") is None, timeout=10_000)
    assert w.repositories.select_key("offsite")
    confirm_with(qtbot)
    w.commands.remove_repo.trigger()
    qtbot.waitUntil(lambda: w.snapshot.repository("offsite") is None, timeout=10_000)
    assert (tmp_path / "repo-offsite" / "config.json").exists()  # files stay


def test_an_engine_error_is_one_readable_dialog(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=1, copy=False)
    w = window()
    b = primary_backup(w)
    select_backup(w, b.id)
    for child in world.primary.iterdir():                      # the repository disappears (disk unmounted)
        if child.is_dir():
            for f in sorted(child.rglob("*"), reverse=True):
                f.unlink() if f.is_file() else f.rmdir()
            child.rmdir()
        else:
            child.unlink()
    world.primary.rmdir()
    texts: list[str] = []

    def read(dialog) -> None:
        if isinstance(dialog, ConfirmDialog):
            dialog.yes_button.click()
            answer_dialog(read)
            return
        assert isinstance(dialog, QMessageBox)
        texts.append(dialog.text())
        assert not dialog.detailedText()                       # an expected error: no traceback
        dialog.accept()

    answer_dialog(read)
    w.commands.delete_from_disk.trigger()
    qtbot.waitUntil(lambda: bool(texts), timeout=30_000)
    assert "does not exist" in texts[0] and "\n" not in texts[0].strip()
