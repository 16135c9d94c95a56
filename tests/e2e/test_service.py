"""The headless scheduler: `Service` over a real catalog and real repositories (the real runner where a job run is
the point, a recording runner where the run itself is not), and `backup-console service` as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console.core import paths
from console.core.catalog import Catalog
from console.core.engine.events import CancelToken, Events
from console.core.errors import RepositoryError
from console.core.model import JobKind, PointState, RestorePoint, Session, SessionStatus
from console.core.operations import jobs
from console.core.operations.repositories import add_local
from console.core.operations.service import WINDOW_STOP, Service, ServiceEvent
from console.core.operations.sessions import JobLock
from console.core.scheduling.planner import Action

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
MIN = timedelta(minutes=1)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_cli import Cli  # noqa: E402


class FakeClock:
    """Starts at `start` (default: the real time, so the catalog's real session timestamps line up) and moves only
    when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(BERLIN)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now += delta

    def set(self, when: datetime) -> None:
        with self._lock:
            self.now = when


class RecordingRunner:
    """Runs nothing: records each call as a catalog session with the given outcome. `block` makes a run wait for its
    cancel token (a long copy), then end stopped with the token's reason."""

    def __init__(self, outcomes: Iterator[SessionStatus] | None = None, pending: bool = False,
                 block: bool = False, clock: FakeClock | None = None) -> None:
        self.outcomes = outcomes
        self.clock = clock
        self.pending = pending
        self.block = block
        self.calls: list[tuple[str, str]] = []
        self.tokens: list[CancelToken] = []
        self.started = threading.Event()

    def _session(self, catalog: Catalog, name: str, kind: str, cancel: CancelToken | None) -> Session:
        assert cancel is not None
        self.tokens.append(cancel)
        session = catalog.start_session(name, kind)
        self.started.set()
        if self.block:
            assert cancel.wait(20), "the service never cancelled the blocked run"
            status, error = SessionStatus.STOPPED, cancel.reason
        else:
            status = next(self.outcomes) if self.outcomes else SessionStatus.SUCCESS
            error = "disk on fire" if status == SessionStatus.FAILED else None
        catalog.finish_session(session.id, status, {}, error)
        if self.clock is not None:
            # The catalog stamps sessions with the real time; a fake clock's service must see its own time.
            stamp = self.clock().astimezone(UTC).isoformat(timespec="microseconds")
            catalog.db.execute("UPDATE sessions SET started = ?, ended = ? WHERE id = ?", [stamp, stamp, session.id])
        return catalog.get_session(session.id)

    def run_job(self, catalog: Catalog, name: str, data_dir: Path, events: Events | None = None,
                cancel: CancelToken | None = None, *, clock: Callable[[], datetime] | None = None) -> Session:
        self.calls.append(("run", name))
        return self._session(catalog, name, catalog.get_job(name).kind.value, cancel)

    def pending_points(self, catalog: Catalog, copy_job_name: str) -> list[RestorePoint]:
        if not self.pending:
            return []
        return [RestorePoint(id="p", backup="b", object="o", created=datetime.now(UTC))]

    def run_health_check(self, catalog: Catalog, copy_job_name: str, data_dir: Path, events: Events | None = None,
                         cancel: CancelToken | None = None) -> Session:
        self.calls.append(("health_check", copy_job_name))
        return self._session(catalog, copy_job_name, "health-check", cancel)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "report.txt").write_text("quarterly numbers\n" * 1000)
    (src / "data.bin").write_bytes(os.urandom(100_000))
    return src


@pytest.fixture
def catalog(data_dir: Path, tmp_path: Path) -> Iterator[Catalog]:
    """A catalog with two local repositories, `primary` and `offsite`."""
    with Catalog.open(paths.data_dir(data_dir)) as cat:
        add_local(cat, "primary", str(tmp_path / "primary"))
        add_local(cat, "offsite", str(tmp_path / "offsite"))
        yield cat


def run_forever_in_thread(service: Service) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=service.run_forever, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


# --- real runs -------------------------------------------------------------------------------------------------------

def test_tick_runs_a_due_backup_and_its_immediate_copy(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_copy_job(catalog, "offsite copy", "offsite", from_jobs=[], from_repos=["primary"], health_check="never")
    jobs.add_backup_job(catalog, "docs", "primary", [str(source)], schedule="every 5m", copy_jobs=["offsite copy"])
    clock = FakeClock()
    events: list[ServiceEvent] = []
    with Service(data_dir, clock=clock, report=events.append) as service:
        actions = service.tick_once()
        assert [(a.kind, a.job) for a in actions] == [("run", "docs"), ("run", "offsite copy")]
        assert [(e.event, e.action.job) for e in events] == [("started", "docs"), ("finished", "docs"),
                                                              ("started", "offsite copy"),
                                                              ("finished", "offsite copy")]
        sessions = {s.job: s for s in catalog.list_sessions()}
        assert sessions["docs"].status == SessionStatus.SUCCESS and sessions["docs"].kind == "backup"
        assert sessions["offsite copy"].status == SessionStatus.SUCCESS and sessions["offsite copy"].kind == "copy"
        copied = [p for b in catalog.list_backups("offsite") for p in catalog.list_points(backup=b.id)]
        assert len(copied) == 1 and copied[0].state == PointState.OK
        # the next run is recorded: five minutes after the start
        next_run = catalog.get_job("docs").next_run
        assert next_run is not None
        assert abs(next_run - (sessions["docs"].started + 5 * MIN)) < timedelta(seconds=1)

        # nothing is due a minute later; five minutes later the backup runs again and the copy follows
        clock.advance(MIN)
        assert service.tick_once() == []
        clock.advance(5 * MIN)
        (source / "docs" / "new.txt").write_text("new")
        assert [(a.kind, a.job) for a in service.tick_once()] == [("run", "docs"), ("run", "offsite copy")]
        copied = [p for b in catalog.list_backups("offsite") for p in catalog.list_points(backup=b.id)]
        assert len(copied) == 2
    log_text = (paths.log_dir(data_dir) / "service.log").read_text()
    assert "starting run of docs" in log_text and "run of offsite copy finished: success" in log_text


def test_a_job_running_elsewhere_is_skipped_not_failed(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_backup_job(catalog, "docs", "primary", [str(source)], schedule="every 5m")
    events: list[ServiceEvent] = []
    with Service(data_dir, clock=FakeClock(), report=events.append) as service:
        with JobLock(paths.locks_dir(data_dir), "docs"):          # as a `job run` in another process holds it
            assert [a.job for a in service.tick_once()] == ["docs"]
        assert catalog.list_sessions(job="docs") == []
        assert events[-1].event == "skipped" and "already running" in events[-1].message
        # skipped, not held back: the very next tick runs it
        assert [a.job for a in service.tick_once()] == ["docs"]
        assert [s.status for s in catalog.list_sessions(job="docs")] == [SessionStatus.SUCCESS]


def test_disabled_and_manual_jobs_do_not_run(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_backup_job(catalog, "manual", "primary", [str(source)], schedule="manual")
    jobs.add_backup_job(catalog, "off", "primary", [str(source)], schedule="every 5m")
    job = catalog.get_job("off")
    job.enabled = False
    catalog.update_job(job)
    with Service(data_dir, clock=FakeClock(), runner=RecordingRunner()) as service:
        assert service.tick_once() == []
        assert catalog.get_job("off").next_run is None and catalog.get_job("manual").next_run is None


# --- rules with a recording runner ---------------------------------------------------------------------------------

def test_failed_runs_are_retried_with_back_off(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_backup_job(catalog, "docs", "primary", [str(source)], schedule="every 4h")
    clock = FakeClock()
    runner = RecordingRunner(outcomes=iter([SessionStatus.FAILED] * 4 + [SessionStatus.SUCCESS] * 3), clock=clock)
    start = clock()
    with Service(data_dir, clock=clock, runner=runner) as service:
        ran_at = []
        for minute in range(0, 6 * 60):              # step a fake clock minute by minute through six hours
            clock.set(start + minute * MIN)
            if service.tick_once():
                ran_at.append(minute)
        # first run, retries 5 / 15 / 45 minutes after each failure, then the regular 4 h after the last start
        assert ran_at == [0, 5, 20, 65, 65 + 240]
        statuses = [s.status for s in reversed(catalog.list_sessions(job="docs"))]
        assert statuses == [SessionStatus.FAILED] * 4 + [SessionStatus.SUCCESS]


def test_health_check_runs_on_its_schedule(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_backup_job(catalog, "docs", "primary", [str(source)])
    jobs.add_copy_job(catalog, "copy", "offsite", from_jobs=["docs"], health_check="daily 05:00")
    runner = RecordingRunner()
    clock = FakeClock(datetime.now(BERLIN) + timedelta(days=2))     # a 05:00 has passed since the job was created
    with Service(data_dir, clock=clock, runner=runner) as service:
        actions = service.tick_once()
    assert [(a.kind, a.job) for a in actions] == [("health_check", "copy")]
    assert runner.calls == [("health_check", "copy")]
    assert [s.kind for s in catalog.list_sessions(job="copy")] == ["health-check"]


def test_copy_window_stops_a_running_copy(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_backup_job(catalog, "docs", "primary", [str(source)])
    jobs.add_copy_job(catalog, "copy", "offsite", from_jobs=["docs"], window="wed 20-22", health_check="never")
    runner = RecordingRunner(pending=True, block=True)
    clock = FakeClock(datetime(2024, 1, 10, 19, 59, tzinfo=BERLIN))             # a Wednesday, window closed
    with Service(data_dir, clock=clock, runner=runner, tick=0.01) as service:
        assert service.tick_once() == []                                         # outside the window: no start
        clock.set(datetime(2024, 1, 10, 21, 30, tzinfo=BERLIN))
        thread, stop = run_forever_in_thread(service)
        try:
            assert runner.started.wait(20)
            assert service.running == Action("run", "copy", "restore points pending")
            assert not runner.tokens[0].cancelled
            clock.set(datetime(2024, 1, 10, 22, 0, tzinfo=BERLIN))               # the window closes
            assert runner.tokens[0].wait(20)
            assert runner.tokens[0].reason == WINDOW_STOP
        finally:
            stop.set()
            thread.join(20)
        assert not thread.is_alive()
    session = catalog.list_sessions(job="copy")[0]
    assert (session.status, session.error) == (SessionStatus.STOPPED, WINDOW_STOP)


def test_stop_cancels_the_running_session_and_returns(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_backup_job(catalog, "docs", "primary", [str(source)], schedule="every 5m")
    runner = RecordingRunner(block=True)
    with Service(data_dir, clock=FakeClock(), runner=runner, tick=0.01) as service:
        thread, stop = run_forever_in_thread(service)
        assert runner.started.wait(20)
        stop.set()
        thread.join(20)
        assert not thread.is_alive()
        assert runner.tokens[0].reason.startswith("stopped: the service")
        assert service.running is None
    assert catalog.list_sessions(job="docs")[0].status == SessionStatus.STOPPED


def test_a_run_that_cannot_start_is_held_back(catalog: Catalog, data_dir: Path, source: Path) -> None:
    jobs.add_backup_job(catalog, "docs", "primary", [str(source)], schedule="every 5m")

    class BrokenRunner(RecordingRunner):
        def run_job(self, *args: object, **kw: object) -> Session:
            self.calls.append(("run", "docs"))
            raise RepositoryError("repository primary is gone")

    runner = BrokenRunner()
    clock = FakeClock()
    events: list[ServiceEvent] = []
    with Service(data_dir, clock=clock, runner=runner, report=events.append) as service:
        service.tick_once()
        assert events[-1].event == "skipped" and "is gone" in events[-1].message
        clock.advance(4 * MIN)
        assert service.tick_once() == []
        clock.advance(MIN)
        assert [a.job for a in service.tick_once()] == ["docs"]
    assert len(runner.calls) == 2


# --- the CLI command, as a process -----------------------------------------------------------------------------------

def _service_env(home: Path) -> dict[str, str]:
    return {**os.environ, "BACKUP_CONSOLE_HOME": str(home), "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_service_command_runs_a_scheduled_job_and_stops_on_signal(tmp_path: Path, source: Path,
                                                                   signum: signal.Signals) -> None:
    cli = Cli(tmp_path / "home")
    cli("repo", "add-local", "main", str(tmp_path / "repo"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(source), "--schedule", "every 5m")
    proc = subprocess.Popen([sys.executable, "-m", "console.cli.main", "service", "--tick", "0.2"],
                            env=_service_env(cli.home), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        sessions: list = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sessions = cli.json("sessions", "list")
            if sessions and sessions[0]["status"] != "running":
                break
            time.sleep(0.2)         # waiting on another process: there is no clock to inject here
        assert [(s["job"], s["status"]) for s in sessions] == [("docs", "success")]
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert any("started docs: first run (every 5m)" in line for line in lines), out
    assert any("finished docs: success" in line for line in lines), out
    assert lines[-1] == "service stopped"
    assert "service stopped" in (cli.home / "logs" / "service.log").read_text()
    # the service recorded when the job runs next
    doc = next(j for j in cli.json("job", "list") if j["name"] == "docs")
    assert doc["next_run"] is not None and doc["last_result"] == "success"


def test_service_once_json(tmp_path: Path, source: Path) -> None:
    cli = Cli(tmp_path / "home")
    cli("repo", "add-local", "main", str(tmp_path / "repo"))
    cli("repo", "add-local", "far", str(tmp_path / "far"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(source), "--schedule", "every 5m")
    cli("job", "add-copy", "offsite", "--target", "far", "--from-job", "docs")
    runs = json.loads(cli("service", "--once", "--json").stdout)
    assert [(r["job"], r["action"], r["status"]) for r in runs] == [("docs", "run", "success"),
                                                                     ("offsite", "run", "success")]
    assert json.loads(cli("service", "--once", "--json").stdout) == []      # nothing due a moment later
    cli("service", "--tick", "0", code=2)
    assert [j["kind"] for j in cli.json("job", "list")] == [JobKind.BACKUP.value, JobKind.COPY.value]
