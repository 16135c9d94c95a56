"""Job, restore, check and rescan runs in worker threads, reported to the GUI as Qt signals.

The engine calls `Events` from its own threads. `_Collector` only appends to lists under a lock there; a timer on
the GUI thread drains them every DRAIN_MS and emits one batch per kind, so a flood of log lines or progress calls
costs the GUI one short slot call per tick and no widget is ever touched from a worker. Each run has a CancelToken
(Stop) and a key; a second run with the same key (the same job twice) is refused.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal

from console.core.catalog import Catalog
from console.core.engine.events import CancelToken, Events, Progress
from console.core.errors import ConsoleError, LockedError
from console.core.model import JobKind, LogLine, Session
from console.gui.background import run_in_background

log = logging.getLogger(__name__)
DRAIN_MS = 100
FINAL_STATUSES = ("success", "warning", "failed", "stopped")
BEGIN_AT_LATEST_MS = 500       # a deferred run starts after this even if its window never painted
HISTORY_KEPT = 50               # finished runs kept with their rate graphs (the catalog keeps the rest)
GRAPH_SAMPLES = 600             # rate samples kept for the graph (one per drain with news: about a minute)


class _Collector(Events):
    """Thread-safe inbox for engine events; only the GUI thread drains it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: list[LogLine] = []
        self._objects: dict[str, tuple[str, str]] = {}
        self._progress: list[Progress] = []

    def log(self, level: str, message: str, object: str | None = None) -> None:
        with self._lock:
            self._logs.append(LogLine(datetime.now(UTC), level, message, object))

    def progress(self, p: Progress) -> None:
        with self._lock:
            self._progress.append(p)

    def object_status(self, name: str, status: str, detail: str = "") -> None:
        with self._lock:
            self._objects[name] = (status, detail)

    def drain(self) -> tuple[list[LogLine], dict[str, tuple[str, str]], list[Progress]]:
        with self._lock:
            out = self._logs, self._objects, self._progress
            self._logs, self._objects, self._progress = [], {}, []
        return out


@dataclass
class ObjectState:
    name: str
    status: str = "pending"
    detail: str = ""
    progress: Progress | None = None

    @property
    def fraction(self) -> float | None:
        if self.status in ("success", "warning"):
            return 1.0
        return self.progress.fraction if self.progress is not None else None


@dataclass
class RunStats:
    """What a run has done so far, aggregated from engine progress (Qt-free, so it is easy to test).

    Backup progress restarts for every object (one source folder after another); copy, restore and check
    progress counts for the whole session. Totals add up the last report of each backup object."""

    expected_objects: int = 0          # known up front for backup jobs (their sources), else 0
    objects: dict[str, ObjectState] = field(default_factory=dict)
    last: Progress | None = None
    _latest: dict[str, Progress] = field(default_factory=dict)

    def add(self, p: Progress) -> None:
        self.last = p
        self._latest[f"{p.phase}:{p.object}" if p.phase == "backup" else p.phase] = p
        if p.object:
            self.object(p.object).progress = p

    def object(self, name: str) -> ObjectState:
        if name not in self.objects:
            self.objects[name] = ObjectState(name)
        return self.objects[name]

    def _sum(self, attr: str) -> int:
        return sum(getattr(p, attr) for p in self._latest.values())

    @property
    def processed(self) -> int:
        return self._sum("bytes_done")

    @property
    def read(self) -> int:
        return self._sum("read")

    @property
    def transferred(self) -> int:
        return self._sum("transferred")

    @property
    def files(self) -> int:
        return self._sum("files_done")

    def fraction(self) -> float | None:
        """Overall progress 0..1, or None while it cannot be told."""
        total = max(self.expected_objects, len(self.objects))
        if total and self.last is not None and self.last.phase == "backup":
            parts = [o.fraction or 0.0 for o in self.objects.values()]
            return min(1.0, sum(parts) / total)
        return self.last.fraction if self.last is not None else None

    def eta(self, rate: float) -> float | None:
        """Seconds left, when every remaining byte is known (the last object of a backup, any copy/restore)."""
        p = self.last
        if p is None or rate <= 0 or not p.bytes_total:
            return None
        if p.phase == "backup" and len(self.objects) < self.expected_objects:
            return None
        unfinished = [o.progress for o in self.objects.values()
                      if o.status not in FINAL_STATUSES and o.progress is not None and o.progress.bytes_total]
        if p.phase == "backup":
            remaining = sum(max(0, q.bytes_total - q.bytes_done) for q in unfinished)
        else:
            remaining = max(0, p.bytes_total - p.bytes_done)
        return remaining / rate

    def bottleneck(self) -> tuple[str, dict[str, float]]:
        busy = self.last.busy if self.last is not None else {}
        return (max(busy, key=lambda k: busy[k]) if busy else ""), dict(busy)


class Run(QObject):
    """One run: its live state (log, objects, statistics, rate samples) and signals on the GUI thread."""

    updated = Signal()                  # statistics / objects changed
    logged = Signal(list)               # new LogLines
    finished = Signal(object)           # the finished Session, or None when it never started
    ended = Signal(object)              # this Run, once finished (for receivers that follow many runs)
    _done = Signal(object, object)      # worker → GUI thread: (session, error)

    def __init__(self, key: str, title: str, kind: str, job: str, expected_objects: int = 0,
                 parent: QObject | None = None, cancel: CancelToken | None = None) -> None:
        super().__init__(parent)
        self.key, self.title, self.kind, self.job = key, title, kind, job
        self.cancel_token = cancel or CancelToken()
        self.collector = _Collector()
        self.stats = RunStats(expected_objects=expected_objects)
        self.log_lines: list[LogLine] = []
        self.samples: list[tuple[float, float]] = []     # (seconds since start, bytes/s) for the rate graph
        self.started = datetime.now(UTC)
        self._t0 = time.monotonic()
        self._ended_at: float | None = None
        self._last_sample: tuple[float, int] | None = None
        self.rate = 0.0
        self.status = "running"
        self.session: Session | None = None
        self.error: str | None = None
        self.result: Any = None
        self.follow_copies = False      # a backup started here: its immediate copy jobs follow when it ends
        self._pending: Callable[[Events, CancelToken], Session | None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_MS)
        self._timer.timeout.connect(self.drain)
        self._done.connect(self._on_done)

    # -- state --------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.status in ("running", "stopping")

    @property
    def elapsed(self) -> float:
        return (self._ended_at or time.monotonic()) - self._t0

    @property
    def average_rate(self) -> float:
        return self.stats.processed / self.elapsed if self.elapsed > 0 else 0.0

    def stop(self, reason: str = "stopped by the user") -> None:
        if self.running:
            self.status = "stopping"
            self.cancel_token.cancel(reason)
            self.updated.emit()

    # -- event pump (GUI thread) -------------------------------------------------------------------------
    def drain(self) -> None:
        logs, objects, progress = self.collector.drain()
        for name, (status, detail) in objects.items():
            obj = self.stats.object(name)
            obj.status, obj.detail = status, detail
        for p in progress:
            self.stats.add(p)
        if progress:
            self._sample()
        if logs:
            self.log_lines.extend(logs)
            self.logged.emit(logs)
        if logs or objects or progress:
            self.updated.emit()

    def _sample(self) -> None:
        now, done = self.elapsed, self.stats.processed
        if self._last_sample is not None:
            t, d = self._last_sample
            if now - t >= 0.25:
                instant = max(0.0, (done - d) / (now - t))
                # light smoothing keeps the graph readable without hiding real changes
                self.rate = instant if not self.samples else 0.5 * instant + 0.5 * self.rate
                self.samples.append((now, self.rate))
                del self.samples[:-GRAPH_SAMPLES]
                self._last_sample = (now, done)
        else:
            self._last_sample = (now, done)

    # -- worker side ------------------------------------------------------------------------------------------
    def start(self, work: Callable[[Events, CancelToken], Session | None], defer: bool = False) -> None:
        """Start the work in its thread, or (defer) keep it until `begin()`: the console first shows the run's
        window, so the engine's busy start-up does not compete with painting it."""
        self._timer.start()
        self._pending = work
        if defer:
            QTimer.singleShot(BEGIN_AT_LATEST_MS, self.begin)       # in case nobody calls begin()
        else:
            self.begin()

    def begin(self) -> None:
        """Start the deferred work (once; later calls do nothing)."""
        work, self._pending = self._pending, None
        if work is not None:
            self._t0 = time.monotonic()
            thread = threading.Thread(target=self._work, args=(work,), name=f"run {self.key}", daemon=True)
            thread.start()

    def watch(self) -> None:
        """Start pumping events of work that runs elsewhere (a scheduled run in the scheduler's thread)."""
        self._timer.start()

    def finish(self, session: Session | None, error: str | None = None) -> None:
        """Any thread: the work ended (the GUI thread then drains the last events and emits `finished`)."""
        self._done.emit(session, error)

    def _work(self, work: Callable[[Events, CancelToken], Session | None]) -> None:
        session, error = None, None
        try:
            session = work(self.collector, self.cancel_token)
        except ConsoleError as e:
            error = str(e)
        except Exception as e:  # a bug: shown as one message, logged with its traceback
            log.exception("run %s crashed", self.key)
            error = f"unexpected error: {type(e).__name__}: {e}"
        self._done.emit(session, error)

    def _on_done(self, session: Session | None, error: str | None) -> None:
        self.drain()
        self._timer.stop()
        self._ended_at = time.monotonic()
        self.session = session
        if session is not None:
            self.status = session.status.value
            self.error = session.error
        else:
            self.status, self.error = "failed", error
        self.updated.emit()
        self.finished.emit(session)
        self.ended.emit(self)


class Runner(QObject):
    """Starts runs in worker threads (each opens its own catalog) and keeps them until they end."""

    run_started = Signal(object)        # Run
    run_finished = Signal(object)       # Run
    _adopt = Signal(object)             # another thread asks for a Run (blocking queued: it waits for the answer)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self._runs: dict[str, Run] = {}
        self.history: list[Run] = []    # finished runs of this console's lifetime (their rate graphs stay)
        self._restores = itertools.count(1)
        self._adopt.connect(self._adopt_here, Qt.ConnectionType.BlockingQueuedConnection)

    # -- queries ------------------------------------------------------------------------------------------------
    def active(self) -> list[Run]:
        return list(self._runs.values())

    def get(self, key: str) -> Run | None:
        return self._runs.get(key)

    def job_run(self, job: str) -> Run | None:
        """The live run of a job (backup/copy/health check), if any."""
        return next((r for r in self._runs.values() if r.job == job and r.key.startswith(("job:", "health:"))),
                    None)

    def latest_for_job(self, job: str) -> Run | None:
        """The live run of `job`, else the newest finished run this console watched."""
        live = self.job_run(job)
        if live is not None:
            return live
        return next((r for r in reversed(self.history) if r.job == job and r.key.startswith(("job:", "health:"))),
                    None)

    def stop_all(self, reason: str = "stopped because the console is closing") -> None:
        for run in self.active():
            run.stop(reason)

    # -- starting ---------------------------------------------------------------------------------------------
    def _start(self, key: str, title: str, kind: str, job: str, work: Callable[[Catalog, Events, CancelToken], Any],
               expected_objects: int = 0, defer: bool = False) -> Run:
        if key in self._runs:
            raise LockedError(f"{title} is already running in this console: wait for it to finish or stop it")
        # no Qt parent: the worker thread keeps its Run alive even if the window (and this Runner) goes first
        run = Run(key, title, kind, job, expected_objects)
        data_dir = self.data_dir

        def body(events: Events, cancel: CancelToken) -> Session | None:
            with Catalog.open(data_dir) as catalog:     # sqlite connections belong to one thread
                result = work(catalog, events, cancel)
            if isinstance(result, tuple):               # (session, details) from restore / rescan
                run.result = result[1]
                return result[0]
            return result

        self._runs[key] = run
        run.ended.connect(self._on_finished)       # a method: Qt disconnects it when this Runner is deleted
        run.start(body, defer)
        log.info("started %s", title)
        self.run_started.emit(run)
        return run

    def _on_finished(self, run: Run) -> None:
        self._runs.pop(run.key, None)
        self.history.append(run)
        del self.history[:-HISTORY_KEPT]
        log.info("%s ended: %s", run.title, run.status)
        self.run_finished.emit(run)
        if run.follow_copies and run.status in ("success", "warning"):
            self._start_immediate_copies(run.job)

    def _start_immediate_copies(self, backup_job: str) -> None:
        """Immediate copy: linked copy jobs follow a backup job started here as soon as it ends (the scheduler
        does the same for the runs it starts)."""
        from console.core.operations.jobs import immediate_copy_jobs, pending_points
        data_dir = self.data_dir

        def due() -> list[str]:
            with Catalog.open(data_dir) as catalog:
                return [n for n in immediate_copy_jobs(catalog, backup_job) if pending_points(catalog, n)]

        def start(names: list[str]) -> None:
            for name in names:
                if self.job_run(name) is None:
                    self.start_job(name, JobKind.COPY)

        run_in_background(due, on_done=start,
                          on_error=lambda e: log.warning("immediate copy after %s not started: %s", backup_job, e))

    def adopt(self, key: str, title: str, kind: str, job: str, cancel: CancelToken) -> Run:
        """Register work another thread runs itself (the scheduler's runs), so it shows live like ours.

        Callable from any thread; raises LockedError when a run with this key is active already."""
        request = {"args": (key, title, kind, job, cancel)}
        if QThread.currentThread() is self.thread():
            self._adopt_here(request)
        else:
            self._adopt.emit(request)
        if "error" in request:
            raise request["error"]
        return request["run"]

    def _adopt_here(self, request: dict) -> None:
        key, title, kind, job, cancel = request["args"]
        if key in self._runs:
            request["error"] = LockedError(f"{title} is already running in this console")
            return
        run = Run(key, title, kind, job, cancel=cancel)
        self._runs[key] = run
        run.ended.connect(self._on_finished)
        run.watch()
        log.info("watching %s", title)
        self.run_started.emit(run)
        request["run"] = run

    def start_job(self, name: str, kind: JobKind | str, *, sources: int = 0, active_full: bool = False,
                  sync_all: bool = False, ignore_window: bool = False, defer: bool = False) -> Run:
        """A backup job, or a copy job (ignore_window: "Sync now" outside the copy window; sync_all: every
        restore point not copied yet, not only the newest). defer: the work waits for `run.begin()`."""
        kind = JobKind(kind)
        data_dir = self.data_dir
        what = "Active full of" if active_full else "Sync of" if (sync_all or ignore_window) else "Job"

        def work(catalog: Catalog, events: Events, cancel: CancelToken) -> Session:
            from console.core.operations.jobs import run_job
            if kind == JobKind.BACKUP:
                return run_job(catalog, name, data_dir, events, cancel, active_full=active_full)
            return run_job(catalog, name, data_dir, events, cancel, sync_all=sync_all, ignore_window=ignore_window)

        run = self._start(f"job:{name}", f"{what} {name}", kind.value, name, work,
                          expected_objects=sources if kind == JobKind.BACKUP else 0, defer=defer)
        run.follow_copies = kind == JobKind.BACKUP
        return run

    def start_health_check(self, name: str) -> Run:
        data_dir = self.data_dir

        def work(catalog: Catalog, events: Events, cancel: CancelToken) -> Session:
            from console.core.operations.jobs import run_health_check
            return run_health_check(catalog, name, data_dir, events, cancel)

        return self._start(f"health:{name}", f"Health check of {name}", "health-check", name, work)

    def start_restore(self, point_id: str, dest: str, paths: list[str] | None, overwrite: str, job: str) -> Run:
        from console.core.operations import maintenance

        def work(catalog: Catalog, events: Events, cancel: CancelToken) -> Any:
            return maintenance.restore(catalog, point_id, dest, paths or None, overwrite, events, cancel)

        n = next(self._restores)
        return self._start(f"restore:{n}", f"Restore of {job} to {dest}", "restore", job, work)

    def start_check(self, repository: str, read_data: bool = False) -> Run:
        from console.core.operations import maintenance

        def work(catalog: Catalog, events: Events, cancel: CancelToken) -> Session:
            return maintenance.check(catalog, repository, read_data, 100.0, events, cancel)

        title = f"{'Full health check' if read_data else 'Check'} of repository {repository}"
        return self._start(f"check:{repository}", title, "check", repository, work)

    def start_rescan(self, repository: str) -> Run:
        from console.core.operations import maintenance

        def work(catalog: Catalog, events: Events, cancel: CancelToken) -> Any:
            return maintenance.rescan(catalog, repository, events)

        return self._start(f"rescan:{repository}", f"Rescan of repository {repository}", "rescan", repository, work)
