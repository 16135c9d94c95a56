"""The scheduler inside the GUI runs due jobs (shown live like runs started by hand), linked immediate copies
follow, the setting turns it off, and closing the console stops it cleanly — asking first when a run is on."""

from __future__ import annotations

from pathlib import Path

from gui.gui_data import answer_dialog, make_world, open_window

from console.core.catalog import Catalog
from console.core.model import SessionStatus
from console.core.operations import jobs
from console.gui.runner import Run


def test_the_console_runs_scheduled_jobs_while_open(qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=0)
    with Catalog.open(data_dir) as cat:
        job = cat.get_job("docs")
        job.schedule = {"spec": "every 5m"}               # never run: due at once
        jobs.update_job(cat, job)
    w = open_window(qtbot, data_dir, wait=False, start_scheduler=True, scheduler_tick=0.2)
    started: list[Run] = []
    w.runner.run_started.connect(started.append)
    qtbot.waitUntil(lambda: w.scheduler.running, timeout=10_000)
    assert w.scheduler_label.text() == "Scheduler: on" and w.scheduler_action.isChecked()
    qtbot.waitUntil(lambda: {r.job for r in started} >= {"docs", "docs-offsite"}, timeout=60_000)
    qtbot.waitUntil(lambda: not w.runner.active(), timeout=60_000)
    assert started[0].title == "Scheduled run of docs" and started[0].stats.processed > 0
    assert all(r.status == "success" for r in started), [(r.title, r.status, r.error) for r in started]
    with Catalog.open(data_dir) as cat:
        assert cat.list_sessions(job="docs")[0].status == SessionStatus.SUCCESS
        assert cat.list_sessions(job="docs-offsite")[0].kind == "copy"

    w.scheduler_action.setChecked(False)                  # Tools > Run Scheduled Jobs… off
    qtbot.waitUntil(lambda: w.scheduler_label.text() == "Scheduler: off", timeout=30_000)
    assert not w.scheduler.running
    w.scheduler_action.setChecked(True)
    qtbot.waitUntil(lambda: w.scheduler.running, timeout=10_000)
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=30_000)
    assert not w.scheduler.running


def test_closing_with_a_run_asks_first_and_stops_it(qtbot, tmp_path: Path, data_dir: Path) -> None:
    make_world(tmp_path, data_dir, runs=0, copy=False, megabytes=96)
    w = open_window(qtbot, data_dir)
    run = w.runner.start_job("docs", "backup", sources=2)
    questions: list[str] = []

    def answer(no: bool):
        def act(dialog) -> None:
            questions.append(dialog.question.text())
            (dialog.no_button if no else dialog.yes_button).click()
        return act

    answer_dialog(answer(no=True))
    w.close()
    assert w.isVisible() and run.running                     # No: nothing happens
    assert questions == ["Stop 1 run and close the console?"]
    answer_dialog(answer(no=False))
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=60_000)
    assert run.status in ("stopped", "success")              # a very fast machine may finish first
    with Catalog.open(data_dir) as cat:
        assert cat.list_sessions(job="docs")[0].status.finished
