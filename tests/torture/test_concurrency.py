"""Concurrency: a backup writing while a copy reads the same repository; GC while a restore reads; two schedulers
(GUI + service) planning the same job; two processes starting the same job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from core.helpers import random_bytes, snapshot

from console.core.catalog import Catalog
from console.core.model import PointState, SessionStatus
from console.core.operations import jobs, maintenance
from console.core.operations.repositories import add_local
from console.core.operations.service import Service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup(tmp_path: Path):
    home, src = tmp_path / "home", tmp_path / "src"
    src.mkdir()
    for i in range(8):
        (src / f"f{i}.bin").write_bytes(random_bytes(1_500_000, i))
    with Catalog.open(home) as cat:
        add_local(cat, "main", str(tmp_path / "r1"))
        add_local(cat, "off", str(tmp_path / "r2"))
        jobs.add_backup_job(cat, "bj", "main", [str(src)], retention={"points": 2})
        assert jobs.run_job(cat, "bj", home).status == SessionStatus.SUCCESS
        jobs.add_copy_job(cat, "cj", "off", from_jobs=["bj"])
    return home, src


def _in_thread(home: Path, fn, results: dict, key: str) -> threading.Thread:
    def body() -> None:
        with Catalog.open(home) as cat:        # one connection per thread, as the GUI's workers do
            try:
                results[key] = fn(cat)
            except Exception as e:  # noqa: BLE001 - recorded for the assertion
                results[key] = e
    t = threading.Thread(target=body)
    t.start()
    return t


def test_backup_writes_while_copy_reads_the_same_repository(setup, tmp_path: Path) -> None:
    home, src = setup
    (src / "more.bin").write_bytes(random_bytes(4_000_000, 99))
    results: dict = {}
    threads = [_in_thread(home, lambda c: jobs.run_job(c, "cj", home).status, results, "copy"),
               _in_thread(home, lambda c: jobs.run_job(c, "bj", home).status, results, "backup")]
    for t in threads:
        t.join(120)
    assert results == {"copy": SessionStatus.SUCCESS, "backup": SessionStatus.SUCCESS}
    with Catalog.open(home) as cat:
        for repo in ("main", "off"):
            assert maintenance.check(cat, repo, read_data=True).status == SessionStatus.SUCCESS
        assert jobs.run_job(cat, "cj", home).status == SessionStatus.SUCCESS    # the new point follows
        newest = cat.list_points(job="cj")[-1]
        session, _ = maintenance.restore(cat, newest.id, str(tmp_path / "out"))
        assert session.status == SessionStatus.SUCCESS
        assert snapshot(tmp_path / "out", with_dir_mtimes=False) == snapshot(src, with_dir_mtimes=False)


def test_gc_while_restore_reads_never_restores_wrong_data(setup, tmp_path: Path) -> None:
    home, src = setup
    with Catalog.open(home) as cat:
        for i in range(3):                       # retention (2 points) leaves garbage for GC to collect
            (src / f"f{i}.bin").write_bytes(random_bytes(1_500_000, 100 + i))
            assert jobs.run_job(cat, "bj", home).status == SessionStatus.SUCCESS
        point = cat.list_points(job="bj")[-1]
    results: dict = {}
    threads = [_in_thread(home, lambda c: maintenance.restore(c, point.id, str(tmp_path / "out"))[0], results, "r"),
               _in_thread(home, lambda c: maintenance.gc(c, "main"), results, "gc")]
    for t in threads:
        t.join(120)
    restore, gc = results["r"], results["gc"]
    assert restore.status in (SessionStatus.SUCCESS, SessionStatus.FAILED)
    if restore.status == SessionStatus.SUCCESS:
        assert snapshot(tmp_path / "out", with_dir_mtimes=False) == snapshot(src, with_dir_mtimes=False)
    assert gc.status in (SessionStatus.SUCCESS, SessionStatus.FAILED)
    with Catalog.open(home) as cat:
        assert maintenance.check(cat, "main", read_data=True).status == SessionStatus.SUCCESS
        assert all(p.state == PointState.OK for p in cat.list_points(job="bj"))


def test_two_schedulers_never_run_one_job_twice(setup) -> None:
    home, _src = setup
    with Catalog.open(home) as cat:
        job = cat.get_job("bj")
        job.schedule = {"spec": "every 5m"}
        cat.update_job(job)
        before = len(cat.list_sessions(job="bj"))
    clock = lambda: datetime.now().astimezone() + timedelta(minutes=10)  # noqa: E731 - the job is due
    barrier = threading.Barrier(2)

    def scheduler() -> None:           # each in its own thread, like the GUI's scheduler and `service`
        with Service(home, clock=clock) as s:
            barrier.wait()
            s.tick_once()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with Catalog.open(home) as cat:
        runs = [s for s in cat.list_sessions(job="bj") if s.kind == "backup"]
    assert len(runs) - before == 1, [(s.id, s.started, s.status) for s in runs]


def _holds_flock(path: Path) -> bool:
    """True when another process holds the exclusive flock on `path`."""
    import fcntl
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_second_process_starting_the_same_job_is_refused(setup, tmp_path: Path) -> None:
    home, src = setup
    env = {**os.environ, "BACKUP_CONSOLE_HOME": str(home), "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    cmd = [sys.executable, "-m", "console", "job", "run", "bj", "--no-copy"]
    lock = home / "locks" / "job-bj.lock"
    import time
    for _attempt in range(10):
        first = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)) and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGSTOP)      # hold it inside its run, whatever the machine's speed
        if _holds_flock(lock):                  # stopped while running the job (not already past it): go on
            break
        os.kill(first.pid, signal.SIGCONT)      # too late: its (small) run had ended; try again
        first.communicate(timeout=120)
    else:
        pytest.fail("could not catch the first process inside its run")
    try:
        second = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert second.returncode == 1 and "already running" in second.stderr
