"""The browser's file search: the names of the opened folders that hold every word typed, as a flat results table
instead of the tree. Matching semantics, the results model (Qt's model tester, paths), restoring and the file menu
from the results, the typing pause, the tree coming back untouched, and showing a match in its folder. Real backups
of a real folder, real Qt offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gui.gui_data import shown_backups_page
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt

from console.core.catalog import Catalog
from console.core.model import SessionStatus
from console.core.operations import jobs
from console.core.operations.repositories import add_local
from console.core.repository.tree import Listed
from console.gui.browser import BackupsPage
from console.gui.models.file_matches import TOP_FOLDER, FileMatchesModel, find_matches
from console.gui.models.files import PATH_ROLE, TYPE_ROLE, FileTreeModel

SELECT_ROWS = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows


def make_source(src: Path) -> Path:
    """Docs/ (two reports, sub/ with a third), photos/ (three pictures), reports/ (a folder whose name matches),
    readme.txt and a symlink to it."""
    (src / "Docs" / "sub").mkdir(parents=True)
    (src / "photos").mkdir()
    (src / "reports").mkdir()
    (src / "Docs" / "Report 2024.txt").write_text("r\n")
    (src / "Docs" / "report-old.TXT").write_text("old\n")
    (src / "Docs" / "Straße.txt").write_text("street\n")
    (src / "Docs" / "sub" / "deep report.txt").write_text("deep\n")
    for name in ("beach.jpg", "city.jpg", "holiday.jpg"):
        (src / "photos" / name).write_bytes(os.urandom(3000))
    (src / "reports" / "q1.csv").write_text("a,b\n")
    (src / "readme.txt").write_text("read me\n")
    os.symlink("readme.txt", src / "link")
    return src


@pytest.fixture
def points(tmp_path: Path, data_dir: Path) -> list[str]:
    """Two restore points of the source (the second has Docs/new report.txt); their ids, oldest first."""
    src = make_source(tmp_path / "src")
    with Catalog.open(data_dir) as cat:
        add_local(cat, "primary", str(tmp_path / "repo"))
        jobs.add_backup_job(cat, "docs", "primary", [str(src)])
        for run in range(2):
            if run:
                (src / "Docs" / "new report.txt").write_text("new\n")
            session = jobs.run_job(cat, "docs", data_dir)
            assert session.status == SessionStatus.SUCCESS, session.error
        return [p.id for p in sorted(cat.list_points(), key=lambda p: p.created)]


def _child(model: FileTreeModel, name: str, parent: QModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
    return next(model.index(r, 0, parent) for r in range(model.rowCount(parent))
                if model.index(r, 0, parent).data() == name)


def _open_folder(qtbot, model: FileTreeModel, index: QModelIndex) -> None:
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.fetchMore(index)


def _names(matches: list) -> list[str]:
    return [f"{folder}/{entry.name}" if folder else entry.name for folder, entry in matches]


@pytest.fixture
def page(qtbot, points: list[str], data_dir: Path) -> BackupsPage:
    """A shown BackupsPage with the newest point selected, its top folder listed and Docs/ opened in the tree."""
    page = shown_backups_page(qtbot, data_dir)
    assert page.select_point(points[-1])
    qtbot.waitUntil(lambda: page.files.rowCount() == 5, timeout=10_000)
    docs = _child(page.files, "Docs")
    page.files_view.expand(docs)                             # the view asks the model to list it
    qtbot.waitUntil(lambda: page.files.rowCount(docs) == 5, timeout=10_000)
    return page


def _search(page: BackupsPage, text: str) -> list[str]:
    page.files_search.setText(text)
    page.apply_search_now()
    model = page.file_matches
    return [model.index(r, 0).data(PATH_ROLE) for r in range(model.rowCount())]


# -- matching ---------------------------------------------------------------------------------------------------
def test_every_word_must_be_in_the_name_whatever_the_case() -> None:
    listing = [Listed("Report 2024.txt", "file"), Listed("report-old.TXT", "file"), Listed("Straße.txt", "file"),
               Listed("reports", "dir"), Listed("notes.md", "file")]
    folders = [("Docs", listing)]
    assert _names(find_matches(folders, "report")) == ["Docs/Report 2024.txt", "Docs/report-old.TXT",
                                                       "Docs/reports"]                  # folders match too
    assert _names(find_matches(folders, "  TXT   report ")) == ["Docs/Report 2024.txt", "Docs/report-old.TXT"]
    assert _names(find_matches(folders, "report 2024 txt")) == ["Docs/Report 2024.txt"]
    assert _names(find_matches(folders, "STRASSE")) == ["Docs/Straße.txt"]            # casefolded, not lowered
    assert _names(find_matches(folders, "report zzz")) == []
    assert find_matches(folders, "") == [] and find_matches(folders, "   ") == []
    assert find_matches([("", listing)], "notes")[0] == ("", listing[4])             # the very entry, top folder


def test_only_opened_folders_are_searched_in_tree_order(qtbot, points: list[str], data_dir: Path) -> None:
    model = FileTreeModel(data_dir)
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.set_point(points[-1])
    assert [path for path, _ in model.listed_folders()] == [""]
    assert _names(find_matches(model.listed_folders(), "report")) == ["reports"]    # Docs/ is not opened yet

    docs = _child(model, "Docs")
    _open_folder(qtbot, model, docs)
    _open_folder(qtbot, model, _child(model, "reports"))
    assert [path for path, _ in model.listed_folders()] == ["", "Docs", "reports"]
    assert _names(find_matches(model.listed_folders(), "report")) == [
        "reports", "Docs/new report.txt", "Docs/Report 2024.txt", "Docs/report-old.TXT"]   # folder by folder

    _open_folder(qtbot, model, _child(model, "sub", docs))           # a subfolder opened later: searched next time
    assert [path for path, _ in model.listed_folders()] == ["", "Docs", "Docs/sub", "reports"]
    assert _names(find_matches(model.listed_folders(), "report txt")) == [
        "Docs/new report.txt", "Docs/Report 2024.txt", "Docs/report-old.TXT", "Docs/sub/deep report.txt"]


# -- the results model --------------------------------------------------------------------------------------------
def test_the_results_model_shows_what_the_tree_shows(qtbot, qtmodeltester, points: list[str], data_dir: Path) -> None:
    tree = FileTreeModel(data_dir)
    with qtbot.waitSignal(tree.folder_loaded, timeout=10_000):
        tree.set_point(points[-1])
    _open_folder(qtbot, tree, _child(tree, "Docs"))
    model = FileMatchesModel()
    folders = tree.listed_folders()
    model.set_matches([m for text in ("e", "link", "sub") for m in find_matches(folders, text)])
    qtmodeltester.check(model, force_py=True)
    rows = {model.index(r, 0).data(PATH_ROLE): r for r in range(model.rowCount())}
    assert {"link", "readme.txt", "Docs/Report 2024.txt", "Docs/sub"} <= set(rows)

    def cells(path: str) -> list[str]:
        return [model.index(rows[path], c).data() for c in range(model.columnCount())]

    def tree_cells(index: QModelIndex) -> list[str]:
        return [tree.index(index.row(), c, index.parent()).data() for c in range(tree.columnCount())]

    readme = _child(tree, "readme.txt")
    assert cells("readme.txt") == [tree_cells(readme)[0], TOP_FOLDER, *tree_cells(readme)[1:]]
    assert cells("readme.txt")[2] == "8 B" and cells("readme.txt")[4].startswith("-rw")
    report = _child(tree, "Report 2024.txt", _child(tree, "Docs"))
    assert cells("Docs/Report 2024.txt") == [tree_cells(report)[0], "Docs", *tree_cells(report)[1:]]
    assert cells("link")[0] == "link → readme.txt"
    assert cells("Docs/sub")[1] == "Docs" and cells("Docs/sub")[2] == ""              # folders have no size
    first = model.index(rows["Docs/Report 2024.txt"], 0)
    assert first.data(PATH_ROLE) == report.data(PATH_ROLE) == "Docs/Report 2024.txt"
    assert first.data(Qt.ItemDataRole.ToolTipRole) == "Docs/Report 2024.txt"
    assert first.data(TYPE_ROLE) == "file" and model.index(rows["Docs/sub"], 0).data(TYPE_ROLE) == "dir"
    assert not first.data(Qt.ItemDataRole.DecorationRole).isNull()
    size = model.index(rows["readme.txt"], 2)
    assert size.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight

    with qtbot.waitSignal(model.modelReset):
        model.set_matches([])
    assert model.rowCount() == 0


# -- the browser ------------------------------------------------------------------------------------------------
def test_results_replace_the_tree_and_restore_from_them(qtbot, page: BackupsPage, points: list[str]) -> None:
    assert _search(page, "report") == ["reports", "Docs/new report.txt", "Docs/Report 2024.txt",
                                       "Docs/report-old.TXT"]
    assert page.shown_files_view() is page.matches_view and page.files_stack.currentWidget() is page.matches_view
    assert page.files_status.text().startswith("4 matches in the opened folders")
    assert not page.restore_selected.isEnabled()

    model, selection = page.file_matches, page.matches_view.selectionModel()
    selection.select(model.index(0, 0), SELECT_ROWS)
    selection.select(model.index(2, 0), SELECT_ROWS)
    assert page.selected_paths() == ["Docs/Report 2024.txt", "reports"]
    assert page.restore_selected.isEnabled()
    restores: list = []
    page.restore_requested.connect(lambda point_id, paths: restores.append((point_id, paths)))
    page.restore_selected.click()
    assert restores == [(points[-1], ["Docs/Report 2024.txt", "reports"])]

    menus: list = []                                    # the file menu acts on selected_paths()
    page.context_menu_requested.connect(lambda pos, kind: menus.append(kind))
    row = page.matches_view.visualRect(model.index(0, 0)).center()
    page.matches_view.customContextMenuRequested.emit(QPoint(row.x(), row.y()))
    assert menus == ["file"]

    assert _search(page, "nothing like this") == []
    assert page.files_status.text() == "No match in the opened folders — open a folder to search inside it."
    assert page.files_stack.currentWidget() is page.no_match and page.searching()
    assert "holds all of “nothing”, “like”, “this”" in page.no_match.message.text()
    assert not page.restore_selected.isEnabled()


def test_clearing_the_search_shows_the_tree_as_it_was(qtbot, page: BackupsPage) -> None:
    tree, view = page.files, page.files_view
    docs = _child(tree, "Docs")
    readme = _child(tree, "readme.txt")
    view.selectionModel().select(readme, SELECT_ROWS)
    rows = (tree.rowCount(), tree.rowCount(docs))
    changes: list[str] = []
    for signal in (tree.rowsInserted, tree.rowsRemoved, tree.modelReset, tree.layoutChanged):
        signal.connect(lambda *_, name=signal: changes.append(str(name)))

    assert _search(page, "txt")
    assert page.selected_paths() == []                 # the results' selection, not the hidden tree's
    page.files_search.clear()                          # no pause: the tree is back at once
    assert page.shown_files_view() is view and view.model() is tree
    assert changes == []                               # the search never touched the tree model
    assert (tree.rowCount(), tree.rowCount(docs)) == rows and view.isExpanded(docs)
    assert page.selected_paths() == ["readme.txt"]
    assert page.files_status.text().startswith("Open folders to look inside")


def test_typing_searches_once_after_a_pause(qtbot, page: BackupsPage) -> None:
    searches: list[int] = []
    page.file_matches.modelReset.connect(lambda: searches.append(page.file_matches.rowCount()))
    page.files_search.setText("rep")
    page.files_search.setText("report 2024")
    assert searches == [] and page.shown_files_view() is page.files_view     # nothing yet: still typing
    assert page.search_timer.isActive()
    qtbot.waitUntil(lambda: page.shown_files_view() is page.matches_view)
    assert searches == [1] and not page.search_timer.isActive()              # one search, for the last text
    assert page.file_matches.index(0, 0).data(PATH_ROLE) == "Docs/Report 2024.txt"

    page.files_search.setText("readme")
    page.files_search.returnPressed.emit()                                   # Enter: at once
    assert searches == [1, 1] and not page.search_timer.isActive()
    assert page.file_matches.index(0, 0).data(PATH_ROLE) == "readme.txt"


def test_a_folder_listed_during_a_search_is_searched(qtbot, page: BackupsPage) -> None:
    assert _search(page, "deep") == []
    sub = _child(page.files, "sub", _child(page.files, "Docs"))
    page.files.fetchMore(sub)                                                 # it was being listed meanwhile
    qtbot.waitUntil(lambda: page.file_matches.rowCount() == 1, timeout=10_000)
    assert page.file_matches.index(0, 0).data(PATH_ROLE) == "Docs/sub/deep report.txt"
    assert page.files_status.text().startswith("1 match in")


def test_another_point_clears_the_search(qtbot, page: BackupsPage, points: list[str]) -> None:
    assert _search(page, "new") == ["Docs/new report.txt"]
    assert page.select_point(points[0])
    assert page.files_search.text() == "" and page.file_matches.rowCount() == 0
    assert page.shown_files_view() is page.files_view
    qtbot.waitUntil(lambda: page.files.rowCount() == 5, timeout=10_000)
    assert page.files_status.text().startswith("Open folders to look inside")
    assert page.files_search.isEnabled()
    page.points_view.selectionModel().clearCurrentIndex()           # no point: nothing to search
    assert not page.files_search.isEnabled()
    assert page.select_point(points[0]) and page.files_search.isEnabled()


def test_double_click_shows_a_match_in_its_folder(qtbot, page: BackupsPage) -> None:
    page.files.batch = 1                                       # folders listed from now on show one row at first
    sub = _child(page.files, "sub", _child(page.files, "Docs"))
    _open_folder(qtbot, page.files, _child(page.files, "photos"))
    photos = _child(page.files, "photos")
    assert page.files.rowCount(photos) == 1 and not page.files_view.isExpanded(photos)   # holiday.jpg not shown
    (path,) = _search(page, "holiday")
    assert path == "photos/holiday.jpg"
    page.matches_view.doubleClicked.emit(page.file_matches.index(0, 0))
    assert page.files_search.text() == "" and page.shown_files_view() is page.files_view
    assert page.files_view.isExpanded(photos) and page.selected_paths() == ["photos/holiday.jpg"]
    assert page.files_view.selectionModel().currentIndex().data(PATH_ROLE) == "photos/holiday.jpg"
    assert not page.files_view.isExpanded(sub)
