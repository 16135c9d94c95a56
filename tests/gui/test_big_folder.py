"""A folder of thousands of files in the restore-point browser: the file tree shows it in batches (more as the view
scrolls to the end), ticks cover the entries not shown yet, Qt's model tester passes on a partly shown tree, and the
browser's search finds entries that were not shown yet. Real backups of a real folder, real Qt offscreen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gui.gui_data import shown_backups_page
from PySide6.QtCore import QModelIndex, Qt

from console.core.catalog import Catalog
from console.core.model import SessionStatus
from console.core.operations import jobs
from console.core.operations.repositories import add_local
from console.gui.browser import BackupsPage
from console.gui.models.files import PATH_ROLE, FileTreeModel
from console.gui.snapshot import load_snapshot

FILES = 5_000
BATCH = 500
CHECKED, UNCHECKED, PARTLY = Qt.CheckState.Checked, Qt.CheckState.Unchecked, Qt.CheckState.PartiallyChecked


@pytest.fixture
def point(tmp_path: Path, data_dir: Path) -> str:
    """One restore point of a folder holding `aaa/` (one file) and `many/` (FILES files); returns its id."""
    src = tmp_path / "src"
    (src / "aaa").mkdir(parents=True)
    (src / "aaa" / "b.txt").write_text("b\n")
    many = src / "many"
    many.mkdir()
    for i in range(FILES):
        (many / f"file-{i:05d}.txt").write_bytes(b"%d\n" % i)
    with Catalog.open(data_dir) as cat:
        add_local(cat, "primary", str(tmp_path / "repo"))
        jobs.add_backup_job(cat, "big", "primary", [str(src)])
        session = jobs.run_job(cat, "big", data_dir)
        assert session.status == SessionStatus.SUCCESS, session.error
        return cat.list_points()[0].id


def _open(qtbot, model: FileTreeModel, point_id: str) -> QModelIndex:
    """Show the point, list `many/`; returns its index."""
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.set_point(point_id)
    many = model.index(1, 0)
    assert many.data() == "many"
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000) as loaded:
        model.fetchMore(many)
    assert loaded.args == ["many", FILES]                 # the signal counts every entry, shown or not
    return many


def _names(model: FileTreeModel, parent: QModelIndex) -> list[str]:
    return [model.index(i, 0, parent).data() for i in range(model.rowCount(parent))]


def test_a_big_folder_is_shown_in_batches(qtbot, point: str, data_dir: Path) -> None:
    model = FileTreeModel(data_dir, batch=BATCH)
    many = _open(qtbot, model, point)
    assert model.rowCount(many) == BATCH and model.canFetchMore(many)
    assert _names(model, many) == [f"file-{i:05d}.txt" for i in range(BATCH)]
    assert model.partial_folders() == [("many", BATCH, FILES)]
    assert not model.hasIndex(BATCH, 0, many)

    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.fetchMore(many)                              # the next batch, as one insertion
    assert inserted.args[1:] == [BATCH, 2 * BATCH - 1] and inserted.args[0] == many
    assert model.rowCount(many) == 2 * BATCH
    assert model.index(2 * BATCH - 1, 0, many).data(PATH_ROLE) == f"many/file-{2 * BATCH - 1:05d}.txt"

    while model.canFetchMore(many):
        model.fetchMore(many)
    assert model.rowCount(many) == FILES and model.partial_folders() == []
    assert model.index(FILES - 1, 0, many).data() == f"file-{FILES - 1:05d}.txt"


def test_a_partly_shown_tree_passes_the_model_tester(qtbot, qtmodeltester, point: str, data_dir: Path) -> None:
    model = FileTreeModel(data_dir, checkable=True, batch=BATCH)
    many = _open(qtbot, model, point)
    qtmodeltester.check(model, force_py=True)              # it fetches more itself, a batch at a time
    assert BATCH < model.rowCount(many) < FILES            # ... and the folder is still partly shown
    shown = model.rowCount(many)
    model.fetchMore(many)                                  # the tester re-checks during the insertion too
    assert model.rowCount(many) == shown + BATCH
    model.setData(many, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.selection() == ["aaa"]


def test_ticks_cover_entries_not_shown_yet(qtbot, point: str, data_dir: Path) -> None:
    model = FileTreeModel(data_dir, checkable=True, batch=BATCH)
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.set_point(point)
    model.set_all_checked(False)
    many = model.index(1, 0)
    model.setData(many, CHECKED.value, Qt.ItemDataRole.CheckStateRole)      # ticked before it is listed
    assert model.selection() == ["many"]
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.fetchMore(many)
    assert model.rowCount(many) == BATCH
    assert model.index(BATCH - 1, 0, many).data(Qt.ItemDataRole.CheckStateRole) == CHECKED

    first = model.index(0, 0, many)
    model.setData(first, UNCHECKED.value, Qt.ItemDataRole.CheckStateRole)
    assert model.data(many, Qt.ItemDataRole.CheckStateRole) == PARTLY
    chosen = model.selection()
    assert len(chosen) == FILES - 1 and "many/file-00000.txt" not in chosen
    assert chosen[-1] == f"many/file-{FILES - 1:05d}.txt"                  # never shown, still chosen
    model.fetchMore(many)
    assert model.index(BATCH, 0, many).data(Qt.ItemDataRole.CheckStateRole) == CHECKED

    model.setData(many, UNCHECKED.value, Qt.ItemDataRole.CheckStateRole)   # the whole folder, shown or not
    assert model.selection() == []
    model.fetchMore(many)
    assert model.index(2 * BATCH, 0, many).data(Qt.ItemDataRole.CheckStateRole) == UNCHECKED
    model.setData(first, CHECKED.value, Qt.ItemDataRole.CheckStateRole)
    assert model.selection() == ["many/file-00000.txt"]
    model.setData(many, CHECKED.value, Qt.ItemDataRole.CheckStateRole)
    model.setData(model.index(0, 0), CHECKED.value, Qt.ItemDataRole.CheckStateRole)
    assert model.whole_point_checked() and model.selection() == [""]

    model.set_all_checked(False)                           # one unshown entry ticked alone is not "the folder"
    model.setData(many, CHECKED.value, Qt.ItemDataRole.CheckStateRole)
    for row in range(model.rowCount(many)):
        model.setData(model.index(row, 0, many), UNCHECKED.value, Qt.ItemDataRole.CheckStateRole)
    assert model.data(many, Qt.ItemDataRole.CheckStateRole) == PARTLY       # the rest is still ticked
    assert len(model.selection()) == FILES - model.rowCount(many)


@pytest.fixture
def page(qtbot, point: str, data_dir: Path) -> BackupsPage:
    """A shown BackupsPage with the point selected and `many/` opened."""
    page = shown_backups_page(qtbot, data_dir)
    page.files.batch = BATCH
    assert page.select_point(point)
    qtbot.waitUntil(lambda: page.files.rowCount() == 2, timeout=10_000)
    many = page.files.index(1, 0)
    page.files_view.expand(many)                           # the view asks the model to list it
    qtbot.waitUntil(lambda: page.files.rowCount(many) > 0, timeout=10_000)
    return page


def test_the_browser_shows_more_as_the_view_scrolls(qtbot, page: BackupsPage) -> None:
    many = page.files.index(1, 0)
    shown = page.files.rowCount(many)
    assert BATCH <= shown < FILES
    assert re.search(rf"Showing {shown:,} of {FILES:,} items in many — scroll down", page.files_status.text())
    bar = page.files_view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())                            # `many` is the last folder: its rows end the view
    qtbot.waitUntil(lambda: page.files.rowCount(many) > shown)
    assert f"Showing {page.files.rowCount(many):,} of" in page.files_status.text()

    page.files_status.linkActivated.emit("all")            # "show all" in the status line
    assert page.files.rowCount(many) == FILES
    assert page.files_status.text().startswith("Open folders to look inside")


def test_the_browser_search_finds_entries_not_shown_yet(qtbot, page: BackupsPage) -> None:
    many = page.files.index(1, 0)
    shown = page.files.rowCount(many)
    assert shown < FILES
    last = f"file-{FILES - 1:05d}.txt"
    page.files_search.setText(last)
    qtbot.waitUntil(lambda: page.file_matches.rowCount() == 1)        # after the typing pause
    match = page.file_matches.index(0, 0)
    assert match.data() == last and match.data(PATH_ROLE) == f"many/{last}"
    assert page.files.rowCount(many) == shown                          # the tree shows no more rows for it
    page.files_search.setText("file-")
    page.files_search.returnPressed.emit()                             # Enter: at once
    assert page.file_matches.rowCount() == FILES
    assert page.files_status.text().startswith(f"{FILES:,} matches in the opened folders")
    page.files_search.clear()
    assert page.shown_files_view() is page.files_view and page.files.rowCount(many) == shown


def test_selecting_a_backup_lists_its_newest_point_ahead(qtbot, point: str, data_dir: Path, monkeypatch) -> None:
    """The top folder of the newest point is listed while the admin looks at the list of restore points; opening
    the point then shows it without listing it again."""
    from console.gui.models import files

    calls: list[tuple[str, str]] = []
    real = files.list_folder

    def counted(catalog: Catalog, point_id: str, path: str):
        calls.append((point_id, path))
        return real(catalog, point_id, path)

    monkeypatch.setattr(files, "list_folder", counted)
    with Catalog.open(data_dir) as cat:
        snap = load_snapshot(cat)
    page = BackupsPage(data_dir)
    qtbot.addWidget(page)
    page.set_snapshot(snap)
    assert page.select_backup(snap.backups[0].id)
    qtbot.waitUntil(lambda: page.files._prefetched.get(point) is not None and
                    page.files._prefetched[point].result is not None, timeout=10_000)
    assert calls == [(point, "")]                             # listed ahead, before the point was selected
    assert page.select_point(point)
    qtbot.waitUntil(lambda: page.files.rowCount() == 2, timeout=10_000)
    assert _names(page.files, QModelIndex()) == ["aaa", "many"]
    assert calls == [(point, "")]                             # the point's own load used that listing
