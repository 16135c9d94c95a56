"""The restore-point browser and the restore wizard: backups grouped by job and object, the timeline, the lazy
file tree with its search, and restores (whole point, a selection, from a copy) that really write the files."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from gui.gui_data import make_world, open_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from console.gui.models.files import PATH_ROLE
from console.gui.restore_wizard import RestoreWizard


@pytest.fixture
def window(qtbot, data_dir: Path):
    """window() → a shown MainWindow on this test's data dir, its snapshot loaded."""
    return lambda **kwargs: open_window(qtbot, data_dir, **kwargs)


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def test_backups_objects_timeline_and_files(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=2)
    w = window()
    w.show_page("backups", "all")
    page = w.backups
    assert page.backups_proxy.rowCount() == 2
    primary = next(b for b in w.snapshot.backups if b.backup.repository == "primary")
    assert page.select_backup(primary.id)
    assert page.points.rowCount() == 1                              # one date group: Today
    assert page.points.index(0, 0).data() == "Today (4)"
    assert "Restore points of job docs" in page.points_title.text()
    assert page.points_view.isColumnHidden(8)                       # "copied from" only for copies

    assert page.select_backup(primary.id, str(world.source))       # the object under the backup
    assert page.points.index(0, 0).data() == "Today (2)"
    assert page.points_view.isColumnHidden(1)                       # one object: no object column
    newest = next(r.point for r in w.snapshot.points[primary.id] if r.point.object == str(world.source))
    assert page.select_point(newest.id)
    qtbot.waitUntil(lambda: page.files.rowCount() == 3, timeout=10_000)
    names = [page.files.index(i, 0).data() for i in range(page.files.rowCount())]
    assert names == ["docs", "photos", "readme.txt"]
    assert page.restore_all.isEnabled() and not page.restore_selected.isEnabled()

    docs = page.files.index(0, 0)
    page.files_view.expand(docs)                                    # the view asks the model to fetch
    qtbot.waitUntil(lambda: page.files.rowCount(docs) >= 4, timeout=10_000)
    new1 = next(page.files.index(i, 0, docs) for i in range(page.files.rowCount(docs))
                if page.files.index(i, 0, docs).data() == "new1.txt")
    page.files_view.selectionModel().select(new1, page.files_view.selectionModel().SelectionFlag.ClearAndSelect
                                            | page.files_view.selectionModel().SelectionFlag.Rows)
    assert page.selected_paths() == ["docs/new1.txt"] and page.restore_selected.isEnabled()
    restores: list = []
    page.restore_requested.connect(lambda point_id, paths: restores.append((point_id, paths)))
    page.restore_selected.click()
    assert restores == [(newest.id, ["docs/new1.txt"])]

    page.files_search.setText("new1")
    page.apply_search_now()                                         # as Enter does (typing waits a moment)
    assert page.files_stack.currentWidget() is page.matches_view
    assert page.file_matches.rowCount() == 1                        # docs/new1.txt, found in the opened docs/
    match = page.file_matches.index(0, 0)
    assert match.data() == "new1.txt" and match.data(PATH_ROLE) == "docs/new1.txt"
    assert page.file_matches.index(0, 1).data() == "docs"
    assert page.files_status.text().startswith("1 match in the opened folders")
    page.files_search.clear()
    assert page.files_stack.currentWidget() is page.files_view
    assert page.files_view.model() is page.files and page.selected_paths() == ["docs/new1.txt"]

    copy = next(b for b in w.snapshot.backups if b.backup.repository == "offsite")
    assert page.select_backup(copy.id)
    assert not page.points_view.isColumnHidden(8)
    child = page.points.index(0, 0, page.points.index(0, 0))
    assert " in primary" in page.points.index(child.row(), 8, child.parent()).data()


def drive_restore(qtbot, wizard: RestoreWizard, destination: Path | None, overwrite: str = "never") -> None:
    qtbot.addWidget(wizard)
    assert wizard.currentPage() is wizard.point_page and wizard.point_page.isComplete()
    wizard.next()
    assert wizard.currentPage() is wizard.files_page
    qtbot.waitUntil(lambda: wizard.files_page.model.rowCount() > 0, timeout=10_000)
    wizard.next()
    page = wizard.destination_page
    if destination is None:
        page.original.setChecked(True)
    else:
        page.folder.setText(str(destination))
    page.overwrite.setCurrentIndex(page.overwrite.findData(overwrite))
    assert page.isComplete()
    wizard.next()
    assert wizard.currentPage() is wizard.summary_page
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Restore"
    wizard.next()
    assert wizard.currentPage() is wizard.progress_page and wizard.run is not None
    qtbot.waitUntil(lambda: not wizard.run.running, timeout=60_000)
    assert wizard.progress_page.isComplete()


def test_restore_the_whole_point_to_another_folder(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=1, copy=False)
    w = window()
    primary = w.snapshot.backups[0]
    point = next(r.point for r in w.snapshot.points[primary.id] if r.point.object == str(world.source))
    wizard = w.open_restore(point.id)
    assert isinstance(wizard, RestoreWizard) and wizard.isVisible()
    out = tmp_path / "restored"
    drive_restore(qtbot, wizard, out)
    assert wizard.run.status == "success", wizard.run.error
    assert same_tree(world.source, out)
    assert wizard.progress_page.view.bar.format() == "Finished"


def test_restore_a_selection_from_the_copy(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=1)
    w = window()
    primary = next(b for b in w.snapshot.backups if b.backup.repository == "primary")
    point = next(r.point for r in w.snapshot.points[primary.id] if r.point.object == str(world.source))
    wizard = w.open_restore(point.id)
    qtbot.addWidget(wizard)
    candidates = wizard.point_page.model.records
    assert {c[1] for c in candidates} == {"primary", "offsite"}    # the point and its copy
    copy_row = next(i for i, c in enumerate(candidates) if c[1] == "offsite")
    wizard.point_page.table.selectRow(copy_row)
    assert wizard.choice.point.point.source_point == point.id
    wizard.next()
    files = wizard.files_page
    qtbot.waitUntil(lambda: files.model.rowCount() == 3, timeout=10_000)
    files.chosen.setChecked(True)
    assert not files.isComplete()                                   # nothing ticked yet
    readme = files.model.index(2, 0)
    assert readme.data() == "readme.txt"
    files.model.setData(readme, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert files.isComplete() and files.paths() == ["readme.txt"]
    wizard.next()
    out = tmp_path / "one-file"
    wizard.destination_page.folder.setText(str(out))
    wizard.next()
    summary = wizard.summary_page.text.text()
    assert "readme.txt" in summary and "repository offsite (job docs-offsite)" in summary
    wizard.next()
    qtbot.waitUntil(lambda: not wizard.run.running, timeout=60_000)
    assert wizard.run.status == "success", wizard.run.error
    assert sorted(p.name for p in out.iterdir()) == ["readme.txt"]
    assert (out / "readme.txt").read_bytes() == (world.source / "readme.txt").read_bytes()


def test_restore_to_the_original_location_honours_the_overwrite_policy(window, qtbot, tmp_path: Path,
                                                                       data_dir: Path) -> None:
    world = make_world(tmp_path, data_dir, runs=1, copy=False)
    original = (world.source / "readme.txt").read_bytes()
    (world.source / "readme.txt").write_text("changed after the backup\n")
    (world.source / "docs" / "file0.bin").unlink()
    w = window()
    primary = w.snapshot.backups[0]
    point = next(r.point for r in w.snapshot.points[primary.id] if r.point.object == str(world.source))

    wizard = w.open_restore(point.id, ["docs/file0.bin", "readme.txt"])    # from the browser's selection
    qtbot.addWidget(wizard)
    wizard.next()
    page = wizard.files_page
    assert page.preset.isChecked() and "2 items" in page.preset.text()
    assert page.shown.currentWidget() is page.preset_list          # the selection itself, not the tree's ticks
    assert [page.preset_list.item(i).text() for i in range(page.preset_list.count())] == ["docs/file0.bin",
                                                                                         "readme.txt"]
    page.chosen.setChecked(True)
    assert page.shown.currentWidget() is page.tree and page.tree.isEnabled()
    page.preset.setChecked(True)
    wizard.next()
    wizard.destination_page.original.setChecked(True)
    assert wizard.destination_page.destination() == str(world.source)
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: not wizard.run.running, timeout=60_000)
    assert wizard.run.status == "success", wizard.run.error
    assert (world.source / "docs" / "file0.bin").exists()            # the missing file is back
    assert (world.source / "readme.txt").read_text() == "changed after the backup\n"   # "never" kept it

    wizard = w.open_restore(point.id, ["readme.txt"])
    drive_restore(qtbot, wizard, None, overwrite="always")
    assert (world.source / "readme.txt").read_bytes() == original


def test_the_destination_page_explains_bad_input(window, qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=1, copy=False)
    w = window()
    point = w.snapshot.points[w.snapshot.backups[0].id][0].point
    wizard = w.open_restore(point.id)
    qtbot.addWidget(wizard)
    wizard.next()
    wizard.next()
    page = wizard.destination_page
    assert not page.isComplete() and page.error.text() == "Choose a folder."
    page.folder.setText("relative/path")
    assert not page.isComplete() and "full path" in page.error.text()
    (tmp_path / "a-file").write_text("x")
    page.folder.setText(str(tmp_path / "a-file"))
    assert "is a file" in page.error.text()
    page.folder.setText(str(tmp_path / "new-folder"))
    assert page.isComplete() and page.error.text() == ""
    wizard.back()
    assert wizard.currentPage() is wizard.files_page
    wizard.next()
    assert page.folder.text() == str(tmp_path / "new-folder")      # Back keeps what was typed


def test_a_long_timeline_opens_its_newest_groups_and_folds_older_months(window, qtbot, tmp_path: Path,
                                                                        data_dir: Path, monkeypatch) -> None:
    """Thousands of restore points: the newest date groups open (the list shows at once), older months stay
    folded until the admin opens them or selects one of their points."""
    from datetime import UTC, datetime, timedelta

    from console.core.catalog import Catalog
    from console.core.model import PointType, RestorePoint
    from console.gui import browser

    monkeypatch.setattr(browser, "EXPANDED_POINTS", 10)
    make_world(tmp_path, data_dir, runs=1, copy=False)
    with Catalog.open(data_dir) as cat:
        real = cat.list_points(job="docs")[0]
        now = datetime.now(UTC)
        for i in range(1, 200):                      # older points of the same backup, one a day
            cat.upsert_point(RestorePoint(
                id=f"{i:064x}", backup=real.backup, object=real.object, created=now - timedelta(days=i),
                type=PointType.INCREMENT, data_size=real.data_size, stored_size=10, files=real.files,
                manifest=real.manifest, root=real.root))
        oldest = f"{199:064x}"
    w = window()
    w.show_page("backups", "all")
    page = w.backups
    assert page.select_backup(real.backup)
    model, view = page.points, page.points_view
    groups = [model.index(r, 0) for r in range(model.rowCount())]
    assert len(groups) >= 8 and groups[0].data().startswith("Today")
    open_rows = sum(model.rowCount(g) for g in groups if view.isExpanded(g))
    assert view.isExpanded(groups[0]) and not view.isExpanded(groups[-1])
    assert 0 < open_rows <= 10 + model.rowCount(groups[0])
    assert sum(model.rowCount(g) for g in groups) == 201                # every point is in the list
    assert page.select_point(oldest)                                     # its month opens
    assert view.isExpanded(groups[-1]) and page.selected_point().point.id == oldest
