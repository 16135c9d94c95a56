"""The headless scheduler (`backup-console service`): plans from the catalog every tick and runs due jobs.

One run at a time, in a worker thread, so the main loop keeps ticking while a job runs: it stops a copy run when its
copy window closes, and on shutdown (SIGTERM / SIGINT → `stop`) it cancels the running session and returns. The
same job never runs twice across processes: `run_job` takes a per-job lock and raises `LockedError` when the GUI or
a `job run` has it, which only means "skip, try next tick".
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.core import paths
from console.core.catalog import Catalog
from console.core.engine.events import CancelToken, Events
from console.core.errors import ConsoleError, LockedError, UsageError
from console.core.model import Job, JobKind, RestorePoint, Session, SessionStatus
from console.core.scheduling.planner import RETRY_BACKOFF, Action, JobState, PlannerState, next_runs, plan
from console.core.scheduling.specs import CopyWindow, parse_window
from console.core.units import plural

log = logging.getLogger(__name__)

LOG_FILE = "service.log"
WINDOW_STOP = "stopped by copy window"
SHUTDOWN_STOP = "stopped: the service is shutting down"
RUN_KINDS = ("backup", "copy")            # session kinds that are job runs (health checks count separately)
HEALTH_CHECK_KIND = "health-check"
SESSION_HISTORY = 50                      # sessions per job read to count consecutive failures
NEXT_RUN_SLACK = timedelta(minutes=1)     # don't rewrite Job.next_run for changes smaller than this
Clock = Callable[[], datetime]


def local_zone() -> tzinfo:
    """The machine's time zone as a ZoneInfo (so DST changes are honoured), from $TZ or /etc/localtime."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for key in candidates:
        if key:
            try:
                return ZoneInfo(key)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now().astimezone().tzinfo or UTC    # a fixed offset: right until the next DST change


def local_now() -> datetime:
    return datetime.now(local_zone())


class Runner(Protocol):
    """What the service needs to run jobs (console.core.operations.jobs; tests pass a fake)."""

    def run_job(self, catalog: Catalog, name: str, data_dir: Path, events: Events | None = None,
                cancel: CancelToken | None = None, *, clock: Clock | None = None) -> Session: ...

    def pending_points(self, catalog: Catalog, copy_job_name: str) -> list[RestorePoint]: ...

    def run_health_check(self, catalog: Catalog, copy_job_name: str, data_dir: Path, events: Events | None = None,
                         cancel: CancelToken | None = None) -> Session: ...


class CoreRunner:
    """The real runner: the same operations the CLI's `job run` and the GUI use."""

    def run_job(self, catalog: Catalog, name: str, data_dir: Path, events: Events | None = None,
                cancel: CancelToken | None = None, *, clock: Clock | None = None) -> Session:
        from console.core.operations import jobs
        return jobs.run_job(catalog, name, data_dir, events, cancel, clock=clock)

    def pending_points(self, catalog: Catalog, copy_job_name: str) -> list[RestorePoint]:
        from console.core.operations import jobs
        return jobs.pending_points(catalog, copy_job_name)

    def run_health_check(self, catalog: Catalog, copy_job_name: str, data_dir: Path, events: Events | None = None,
                         cancel: CancelToken | None = None) -> Session:
        from console.core.operations import jobs
        return jobs.run_health_check(catalog, copy_job_name, data_dir, events, cancel)


@dataclass(frozen=True)
class ServiceEvent:
    """One line of service output: a run started, finished, or could not start (skipped)."""

    event: Literal["started", "finished", "skipped"]
    action: Action
    session: Session | None = None
    message: str = ""


@dataclass
class _Running:
    action: Action
    token: CancelToken
    window: CopyWindow | None
    window_end: datetime | None


class Service:
    def __init__(self, data_dir: Path, clock: Clock = local_now, runner: Runner | None = None, tick: float = 30.0,
                 *, report: Callable[[ServiceEvent], None] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.runner: Runner = runner or CoreRunner()
        self.tick = tick
        self.report = report or (lambda event: None)
        self.since = clock()
        self.results: list[tuple[Action, Session | None]] = []    # every run attempted, in order
        self._hold: dict[str, datetime] = {}     # job → no new attempt before (a run that could not even start)
        self._lock = threading.Lock()
        self._running: _Running | None = None
        self._planned_at: datetime | None = None
        self._log_handler = _attach_log_file(self.data_dir)
        # For tick_once in the creating thread; run_forever and its worker open their own (one per thread).
        self.catalog = Catalog.open(self.data_dir)
        interrupted = self.catalog.mark_interrupted_sessions()
        log.info("service started (data dir %s, tick %.0f s, %s marked failed)",
                 self.data_dir, tick, plural(interrupted, "interrupted session"))

    def close(self) -> None:
        self.catalog.close()
        log.info("service stopped")
        _detach_log_file(self._log_handler)

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------------- planning

    def build_state(self, catalog: Catalog, jobs: list[Job]) -> PlannerState:
        """What the planner needs, from the catalog's sessions (and pending points of immediate copy jobs)."""
        catalog.mark_interrupted_sessions()      # a crashed run must not look active forever
        state = PlannerState(since=self.since)
        with self._lock:
            current = self._running.action.job if self._running else None
        for job in jobs:
            sessions = catalog.list_sessions(job=job.name, limit=SESSION_HISTORY)
            runs = [s for s in sessions if s.kind in RUN_KINDS]
            checks = [s for s in sessions if s.kind == HEALTH_CHECK_KIND]
            js = JobState(running=job.name == current or any(not s.status.finished for s in sessions))
            if runs:
                js.last_start, js.last_end = runs[0].started, runs[0].ended
                js.last_result = runs[0].status.value if runs[0].status.finished else None
                for s in runs:
                    if s.status != SessionStatus.FAILED:
                        break
                    js.attempts += 1
            if checks:
                js.last_health_check = checks[0].started
            if (job.kind == JobKind.COPY and job.enabled and not js.running
                    and job.options.get("mode", "immediate") == "immediate"):
                js.pending = self._has_pending(catalog, job.name)
            state.jobs[job.name] = js
        return state

    def _has_pending(self, catalog: Catalog, name: str) -> bool:
        try:
            return bool(self.runner.pending_points(catalog, name))
        except ConsoleError as e:
            log.warning("copy job %s: cannot tell whether restore points are pending: %s", name, e)
            return False

    def due_actions(self, catalog: Catalog, now: datetime) -> list[Action]:
        """Plan at `now`, record every job's next run in the catalog, and return what is due."""
        # sessions record real time; a test's clock may run ahead of it: "meanwhile" means after both
        self._planned_at = max(datetime.now(UTC), now.astimezone(UTC))
        jobs = catalog.list_jobs()
        state = self.build_state(catalog, jobs)
        self._record_next_runs(catalog, jobs, state, now)
        return [a for a in plan(now, jobs, state) if self._hold.get(a.job, now) <= now]

    def _record_next_runs(self, catalog: Catalog, jobs: list[Job], state: PlannerState, now: datetime) -> None:
        for name, when in next_runs(now, jobs, state).items():
            job = next(j for j in jobs if j.name == name)
            if not _differs(job.next_run, when):
                continue
            try:
                catalog.set_job_next_run(name, when.astimezone(UTC) if when else None)
            except ConsoleError as e:      # deleted meanwhile, catalog busy: the next tick tries again
                log.info("could not record the next run of %s: %s", name, e)

    # ---------------------------------------------------------------------------------------------- running

    def tick_once(self) -> list[Action]:
        """Plan once and run what is due, here and now, one after the other (tests, `service --once`)."""
        now = self.clock()
        self.check_windows(now)
        actions = self.due_actions(self.catalog, now)
        done = self._run_actions(self.catalog, actions, None)
        if done:        # record the next runs the finished sessions imply
            jobs = self.catalog.list_jobs()
            self._record_next_runs(self.catalog, jobs, self.build_state(self.catalog, jobs), self.clock())
        return done

    def run_forever(self, stop: threading.Event) -> None:
        """Tick until `stop` is set; then cancel the running session, wait for it to end, and return."""
        worker: threading.Thread | None = None
        log.info("service running; next plan every %.0f s", self.tick)
        catalog = Catalog.open(self.data_dir)      # this thread's own (SQLite connections stay in their thread)
        try:
            while not stop.is_set():
                now = self.clock()
                self.check_windows(now)
                if worker is None or not worker.is_alive():
                    try:
                        actions = self.due_actions(catalog, now)
                    except ConsoleError as e:     # e.g. the catalog stayed busy: try again next tick
                        log.warning("planning failed: %s", e)
                        actions = []
                    if actions:
                        worker = threading.Thread(target=self._work, args=(actions, stop), name="service-run",
                                                  daemon=True)
                        worker.start()
                stop.wait(self.tick)
        finally:
            self.cancel_running(SHUTDOWN_STOP)
            if worker is not None:
                worker.join()
            catalog.close()

    def _work(self, actions: list[Action], stop: threading.Event) -> None:
        try:
            with Catalog.open(self.data_dir) as catalog:
                self._run_actions(catalog, actions, stop)
        except Exception:      # the loop must survive anything a run throws; the next tick plans again
            log.exception("service worker failed")

    def _run_actions(self, catalog: Catalog, actions: list[Action], stop: threading.Event | None) -> list[Action]:
        done: list[Action] = []
        queue = list(actions)
        while queue and not (stop and stop.is_set()):
            action = queue.pop(0)
            done.append(action)
            session = self._execute(catalog, action)
            if session is not None and action.kind == "run" and not (stop and stop.is_set()):
                # immediate copy: linked copy jobs follow a backup job's new restore points right away
                follow = self._immediate_copies(catalog, action.job)
                planned = {(a.kind, a.job) for a in follow}
                queue = follow + [a for a in queue if (a.kind, a.job) not in planned]
        return done

    def _immediate_copies(self, catalog: Catalog, backup_job: str) -> list[Action]:
        """Immediate copy jobs linked to `backup_job` with points to copy now (window, retries as planned)."""
        try:
            if catalog.get_job(backup_job).kind != JobKind.BACKUP:
                return []
            linked = [catalog.get_job(name) for name in catalog.linked_copy_jobs(backup_job)]
        except ConsoleError as e:
            log.warning("cannot list copy jobs linked to %s: %s", backup_job, e)
            return []
        immediate = [j for j in linked if j.options.get("mode", "immediate") == "immediate"]
        if not immediate:
            return []
        now = self.clock()
        state = self.build_state(catalog, immediate)
        return [Action(a.kind, a.job, f"new restore points of {backup_job}") for a in plan(now, immediate, state)
                if a.kind == "run"]

    def _execute(self, catalog: Catalog, action: Action) -> Session | None:
        now = self.clock()
        token = CancelToken()
        window = window_end = None
        try:
            job = catalog.get_job(action.job)
            if job.kind == JobKind.COPY and job.options.get("window"):
                window = parse_window(job.options["window"])
                window_end = window.current_end(now)
        except UsageError as e:
            return self._skipped(action, now, str(e), hold=True)
        if self._ran_meanwhile(catalog, action):
            return self._skipped(action, now, "it ran meanwhile in another process (GUI, service or job run)",
                                 hold=False)
        with self._lock:
            self._running = _Running(action, token, window, window_end)
        self.report(ServiceEvent("started", action))
        log.info("starting %s of %s: %s", "health check" if action.kind == "health_check" else "run", action.job,
                 action.reason)
        try:
            if action.kind == "health_check":
                session = self.runner.run_health_check(catalog, action.job, self.data_dir, None, token)
            else:
                session = self.runner.run_job(catalog, action.job, self.data_dir, None, token, clock=self.clock)
        except LockedError as e:          # running in another process (GUI, `job run`): try again next tick
            return self._skipped(action, now, str(e), hold=False)
        except ConsoleError as e:         # could not even start (e.g. repository gone): no session to retry from
            return self._skipped(action, now, str(e), hold=True)
        except Exception as e:
            log.exception("run of %s crashed", action.job)
            return self._skipped(action, now, f"internal error: {type(e).__name__}: {e}", hold=True)
        finally:
            with self._lock:
                self._running = None
        self.results.append((action, session))
        log.info("%s of %s finished: %s%s (session %s)", action.kind, action.job, session.status.value,
                 f" — {session.error}" if session.error else "", session.id)
        self.report(ServiceEvent("finished", action, session))
        return session

    def _ran_meanwhile(self, catalog: Catalog, action: Action) -> bool:
        """A GUI and a service (or two services) plan alike: the job lock stops two runs at once, and this stops a
        second run right after the first one finished elsewhere."""
        planned = getattr(self, "_planned_at", None)
        if planned is None:
            return False
        for s in catalog.list_sessions(job=action.job, limit=5):
            if (s.kind == "health-check") == (action.kind == "health_check") and s.started > planned:
                return True
        return False

    def _skipped(self, action: Action, now: datetime, message: str, hold: bool) -> None:
        if hold:
            self._hold[action.job] = now + RETRY_BACKOFF[0]
        log.warning("%s of %s not started: %s", action.kind, action.job, message)
        self.results.append((action, None))
        self.report(ServiceEvent("skipped", action, None, message))
        return None

    def check_windows(self, now: datetime) -> None:
        """Stop a copy run whose copy window has closed (it resumes in the next window without re-sending)."""
        with self._lock:
            running = self._running
        if running is None or running.window is None or running.token.cancelled:
            return
        if not running.window.allows(now) or (running.window_end is not None and now >= running.window_end):
            log.info("copy window of %s closed at %s: stopping its run", running.action.job,
                     running.window_end.isoformat() if running.window_end else now.isoformat())
            running.token.cancel(WINDOW_STOP)

    def cancel_running(self, reason: str) -> None:
        with self._lock:
            running = self._running
        if running is not None and not running.token.cancelled:
            log.info("cancelling the run of %s: %s", running.action.job, reason)
            running.token.cancel(reason)

    @property
    def running(self) -> Action | None:
        with self._lock:
            return self._running.action if self._running else None


def _differs(old: datetime | None, new: datetime | None) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    return abs(old - new) >= NEXT_RUN_SLACK


def _attach_log_file(data_dir: Path) -> logging.Handler | None:
    """Log the console's messages (info and up) to <log dir>/service.log while the service lives."""
    try:
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            paths.log_dir(data_dir) / LOG_FILE, maxBytes=5 << 20, backupCount=3, encoding="utf-8")
    except OSError as e:
        log.warning("cannot write %s in the log dir: %s", LOG_FILE, e)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("console")
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
        handler._restore_level = True        # type: ignore[attr-defined]
    logger.addHandler(handler)
    return handler


def _detach_log_file(handler: logging.Handler | None) -> None:
    if handler is None:
        return
    logger = logging.getLogger("console")
    logger.removeHandler(handler)
    if getattr(handler, "_restore_level", False):
        logger.setLevel(logging.NOTSET)
    handler.close()


__all__ = ["CoreRunner", "Runner", "Service", "ServiceEvent", "WINDOW_STOP", "local_now", "local_zone"]
