"""Every custom model passes Qt's model tester (qtmodeltester), over real catalog data; the lazy file tree loads
folders as they are opened; the run statistics add up what the engine reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from gui.gui_data import make_missing_point, make_world
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester

from console.core.catalog import Catalog
from console.core.engine.events import Progress
from console.core.model import LogLine, PointState
from console.core.operations.protection import assess
from console.gui.formatting import date_group
from console.gui.models.backups import backup_groups, backups_model, points_model, timeline_groups
from console.gui.models.files import PATH_ROLE, FileTreeModel
from console.gui.models.jobs import jobs_model
from console.gui.models.progress import log_model, objects_model
from console.gui.models.repositories import repositories_model
from console.gui.models.sessions import sessions_model
from console.gui.models.table import RECORD_ROLE, FilterProxy
from console.gui.runner import ObjectState, RunStats
from console.gui.snapshot import load_snapshot
from console.gui.status_view import protection_model


@pytest.fixture
def world(tmp_path: Path, data_dir: Path):
    w = make_world(tmp_path, data_dir, runs=2)
    make_missing_point(w)
    return w


@pytest.fixture
def snapshot(world, data_dir: Path):
    with Catalog.open(data_dir) as cat:
        return load_snapshot(cat)


def _records(name: str, snapshot, data_dir: Path) -> tuple:
    if name in ("objects", "log"):
        with Catalog.open(data_dir) as cat:
            full = cat.get_session(snapshot.sessions[-1].id)
        return (objects_model(), full.objects) if name == "objects" else (log_model(), full.log)
    return {"jobs": (jobs_model(lambda r: "Idle"), snapshot.jobs),
            "repositories": (repositories_model(), snapshot.repositories),
            "sessions": (sessions_model(), snapshot.sessions),
            "protection": (protection_model(), snapshot.protection)}[name]


@pytest.mark.parametrize("name", ["jobs", "repositories", "sessions", "protection", "objects", "log"])
def test_record_tables_pass_the_model_tester(request, name: str, snapshot, data_dir: Path) -> None:
    model, records = _records(name, snapshot, data_dir)
    assert records
    model.set_records(records)
    ModelTester(request.config).check(model, force_py=True)
    proxy = FilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(0, Qt.SortOrder.DescendingOrder)
    ModelTester(request.config).check(proxy, force_py=True)
    proxy.set_text(model.data(model.index(0, 0)))          # the first row's own name matches
    assert proxy.rowCount() >= 1
    proxy.set_text("no such text anywhere")
    assert proxy.rowCount() == 0
    model.set_records(records[:1])                         # a reset with fewer rows, under the tester's eyes
    model.set_records(records)


def test_the_log_model_grows_without_a_reset(qtmodeltester) -> None:
    model = log_model()
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    now = datetime.now(UTC)
    model.append_records([LogLine(now, "info", "one"), LogLine(now, "warning", "two", "/src")])
    model.append_records([LogLine(now, "error", "three")])
    assert model.rowCount() == 3 and not resets
    proxy = FilterProxy()
    proxy.setSourceModel(model)
    proxy.set_predicate(lambda ln: ln.level in ("warning", "error"))
    assert [proxy.index(i, 2).data() for i in range(proxy.rowCount())] == ["two", "three"]
    qtmodeltester.check(model, force_py=True)


def test_backups_tree_and_timeline_pass_the_model_tester(qtmodeltester, snapshot) -> None:
    backups = backups_model()
    backups.set_groups(backup_groups(snapshot.backups, snapshot.points))
    qtmodeltester.check(backups, force_py=True)
    assert backups.rowCount() == 2                                 # docs in primary, docs-offsite in offsite
    first = backups.index(0, 0)
    assert backups.rowCount(first) == 2                            # two protected objects
    assert backups.parent(backups.index(0, 0, first)) == first

    primary = _primary(snapshot)
    assert primary.missing == 1 and primary.points == 4
    timeline = points_model()
    timeline.set_groups(timeline_groups(snapshot.points[primary.id]))
    qtmodeltester.check(timeline, force_py=True)
    assert timeline.rowCount() == 1 and timeline.index(0, 0).data() == "Today (4)"
    states = [timeline.index(i, 3, timeline.index(0, 0)).data() for i in range(4)]
    assert states.count("Missing") == 1 and states.count("OK") == 3
    one = timeline_groups(snapshot.points[primary.id], object_name=primary.objects[0])
    assert sum(len(g.children) for g in one) == 2

    proxy = FilterProxy()
    proxy.setSourceModel(backups)
    proxy.setRecursiveFilteringEnabled(True)
    proxy.set_text("src2")                                         # an object of both backups
    assert proxy.rowCount() == 2 and proxy.rowCount(proxy.index(0, 0)) == 1
    proxy.set_predicate(lambda b: b.backup.kind.value == "copy")  # Disk (Copy)
    assert proxy.rowCount() == 1
    qtmodeltester.check(proxy, force_py=True)


def test_timeline_groups_today_yesterday_this_week_and_months() -> None:
    today = date(2024, 5, 16)               # a Thursday
    local = datetime(2024, 5, 16, 12, 0).astimezone()
    assert date_group(local, today) == (0, "Today")
    assert date_group(local - timedelta(days=1), today) == (1, "Yesterday")
    assert date_group(local - timedelta(days=3), today) == (2, "This week")     # Monday
    assert date_group(local - timedelta(days=4), today) == (3, "May 2024")      # the Sunday before
    assert date_group(local - timedelta(days=20), today) == (4, "April 2024")
    assert date_group(local - timedelta(days=400), today)[1] == "April 2023"


def _primary(snapshot):
    return next(b for b in snapshot.backups if b.backup.repository == "primary")


def test_the_file_tree_loads_folders_when_opened(qtmodeltester, qtbot, snapshot, world, data_dir: Path) -> None:
    point = next(r.point for r in snapshot.points[_primary(snapshot).id]
                 if r.point.state == PointState.OK and r.point.object == str(world.source))
    model = FileTreeModel(data_dir)
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.set_point(point.id)
    names = [model.index(i, 0).data() for i in range(model.rowCount())]
    assert names == ["docs", "photos", "readme.txt"]             # folders first, then files
    docs = model.index(0, 0)
    assert model.hasChildren(docs) and model.rowCount(docs) == 0 and model.canFetchMore(docs)
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000) as loaded:
        model.fetchMore(docs)
    assert loaded.args[0] == "docs"
    assert not model.canFetchMore(docs)
    children = [model.index(i, 0, docs).data(PATH_ROLE) for i in range(model.rowCount(docs))]
    assert children[0] == "docs/reports" and "docs/file0.bin" in children
    assert model.index(1, 1, docs).data() == "20.0 KB"
    qtmodeltester.check(model, force_py=True)

    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.set_point(point.id)                                   # another point resets the tree
    failures = []
    model.load_failed.connect(failures.append)
    missing = next(r.point for r in snapshot.points[_primary(snapshot).id] if r.point.state == PointState.MISSING)
    with qtbot.waitSignal(model.load_failed, timeout=10_000):
        model.set_point(missing.id)
    assert "missing" in failures[0] and model.rowCount() == 0


def test_checking_folders_selects_the_fewest_paths(qtbot, snapshot, world, data_dir: Path) -> None:
    point = next(r.point for r in snapshot.points[_primary(snapshot).id]
                 if r.point.state == PointState.OK and r.point.object == str(world.source))
    model = FileTreeModel(data_dir, checkable=True)
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.set_point(point.id)
    assert model.whole_point_checked() and model.selection() == [""]
    model.set_all_checked(False)
    assert model.selection() == []
    docs = model.index(0, 0)
    with qtbot.waitSignal(model.folder_loaded, timeout=10_000):
        model.fetchMore(docs)
    model.setData(model.index(1, 0, docs), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.selection() == [model.index(1, 0, docs).data(PATH_ROLE)]
    assert model.data(docs, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.PartiallyChecked
    model.setData(docs, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.selection() == ["docs"]
    model.setData(model.index(2, 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    model.setData(model.index(1, 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.whole_point_checked()                              # every top entry ticked = the whole point


def test_run_statistics_add_up_backup_objects_and_tell_the_eta() -> None:
    stats = RunStats(expected_objects=2)
    stats.add(Progress("backup", "/a", bytes_done=50, bytes_total=100, read=40, transferred=30, files_done=5,
                       busy={"source": 0.8, "target": 0.2}))
    assert stats.fraction() == pytest.approx(0.25)
    assert stats.eta(10.0) is None                 # the second object's size is unknown yet
    stats.object("/a").status = "success"
    stats.add(Progress("backup", "/b", bytes_done=10, bytes_total=40, read=10, transferred=9, files_done=1))
    assert (stats.processed, stats.read, stats.transferred, stats.files) == (60, 50, 39, 6)
    assert stats.fraction() == pytest.approx((1 + 0.25) / 2)
    assert stats.eta(10.0) == pytest.approx(3.0)
    assert stats.bottleneck() == ("", {})
    copy = RunStats()
    copy.add(Progress("copy", "/a", bytes_done=30, bytes_total=120, busy={"source": 0.9}))
    copy.add(Progress("copy", "/b", bytes_done=60, bytes_total=120))     # copy progress is cumulative
    assert copy.processed == 60 and copy.fraction() == pytest.approx(0.5) and copy.eta(20.0) == 3.0
    assert ObjectState("/x", status="success").fraction == 1.0
    assert ObjectState("/x", status="failed").fraction is None      # a failed object shows no full bar


def test_protection_rows_come_from_the_core(snapshot, data_dir: Path) -> None:
    with Catalog.open(data_dir) as cat:
        assert [p.source for p in assess(cat)] == [p.source for p in snapshot.protection]
    model = protection_model()
    model.set_records(snapshot.protection)
    row = model.index(0, 0)
    assert model.data(row, RECORD_ROLE).ok
    assert model.data(model.index(0, 1)) == "Rule holds"
    assert model.data(model.index(0, 2)) == "3 of 3"
    assert not row.parent().isValid()
