"""Immediate copy in the GUI: a backup job started from the console is followed by its linked immediate copy job
as soon as it ends, and the copy shows as a run of its own."""

from __future__ import annotations

from pathlib import Path

from gui.gui_data import make_world, open_window

from console.core.catalog import Catalog


def test_backup_started_in_the_gui_triggers_its_immediate_copy(qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=1, copy=True, copy_run=True)
    (tmp_path / "src" / "docs" / "late.txt").write_text("written after the last copy\n" * 50)
    w = open_window(qtbot, data_dir)
    backup = w.runner.start_job("docs", "backup")
    qtbot.waitUntil(lambda: not backup.running, timeout=60_000)
    assert backup.status == "success", backup.error
    qtbot.waitUntil(lambda: w.runner.latest_for_job("docs-offsite") is not None, timeout=20_000)
    copy = w.runner.latest_for_job("docs-offsite")
    qtbot.waitUntil(lambda: not copy.running, timeout=60_000)
    assert copy.status == "success", copy.error
    with Catalog.open(data_dir) as cat:
        newest_backup = cat.list_points(job="docs")[-1]
        assert newest_backup.id in {p.source_point for p in cat.list_points(job="docs-offsite")}


def test_a_copy_job_run_does_not_trigger_anything(qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=1, copy=True, copy_run=False)
    w = open_window(qtbot, data_dir)
    run = w.runner.start_job("docs-offsite", "copy")
    qtbot.waitUntil(lambda: not run.running, timeout=60_000)
    assert run.status == "success" and not run.follow_copies
    qtbot.wait(300)
    assert w.runner.active() == []
