"""The scheduler inside the GUI: the same `Service` as `backup-console service`, in a background thread.

Its runs report to the GUI's Runner (they show live like runs started by hand, and Stop works on them); the
per-job lock keeps it from running a job the GUI, the CLI or a headless service is running already.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.core.catalog import Catalog
from console.core.engine.events import CancelToken, Events
from console.core.model import JobKind, RestorePoint, Session
from console.gui.runner import Runner

log = logging.getLogger(__name__)
SETTING = "gui.run_scheduler"           # catalog setting: run scheduled jobs while the console is open
DEFAULT_TICK = 30.0


class GuiServiceRunner:
    """The Service's Runner: the core operations, with every run registered in the GUI's Runner."""

    def __init__(self, gui: Runner) -> None:
        self.gui = gui

    def _watched(self, key: str, title: str, kind: str, job: str, cancel: CancelToken | None,
                 work: Any) -> Session:
        token = cancel or CancelToken()
        run = self.gui.adopt(key, title, kind, job, token)     # LockedError: the service skips and retries
        session, error = None, None
        try:
            session = work(run.collector, token)
            return session
        except Exception as e:
            error = str(e)
            raise
        finally:
            run.finish(session, error)

    def run_job(self, catalog: Catalog, name: str, data_dir: Path, events: Events | None = None,
                cancel: CancelToken | None = None, *, clock: Any = None) -> Session:
        from console.core.operations import jobs
        kind = catalog.get_job(name).kind
        return self._watched(f"job:{name}", f"Scheduled run of {name}", kind.value, name, cancel,
                             lambda ev, tok: jobs.run_job(catalog, name, data_dir, ev, tok, clock=clock))

    def pending_points(self, catalog: Catalog, copy_job_name: str) -> list[RestorePoint]:
        from console.core.operations import jobs
        return jobs.pending_points(catalog, copy_job_name)

    def run_health_check(self, catalog: Catalog, copy_job_name: str, data_dir: Path, events: Events | None = None,
                         cancel: CancelToken | None = None) -> Session:
        from console.core.operations import jobs
        return self._watched(f"health:{copy_job_name}", f"Scheduled health check of {copy_job_name}",
                             "health-check", copy_job_name, cancel,
                             lambda ev, tok: jobs.run_health_check(catalog, copy_job_name, data_dir, ev, tok))


class GuiScheduler(QObject):
    """Starts and stops the Service thread; reports what it does as signals (GUI thread)."""

    state_changed = Signal(bool)         # running or not
    message = Signal(str)                # one line for the status bar

    def __init__(self, data_dir: Path, runner: Runner, tick: float = DEFAULT_TICK, parent: QObject | None = None,
                 clock: Any = None) -> None:
        super().__init__(parent)
        self.data_dir, self.runner, self.tick, self.clock = Path(data_dir), runner, tick, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    @staticmethod
    def available() -> bool:
        try:
            import console.core.operations.service  # noqa: F401
        except ImportError:
            return False
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        if self.running:
            return True
        if not self.available():
            self.error = "the scheduler is not part of this version"
            return False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="gui-scheduler", daemon=True)
        self._thread.start()
        self.state_changed.emit(True)
        return True

    def stop(self) -> None:
        """Ask the service to stop (it cancels its running session); `running` turns False when it has."""
        self._stop.set()

    def _main(self) -> None:
        from console.core.operations.service import Service, ServiceEvent
        stop = self._stop

        def report(event: ServiceEvent) -> None:
            what = "health check" if event.action.kind == "health_check" else "run"
            if event.event == "started":
                self.message.emit(f"Scheduler: started the {what} of {event.action.job} ({event.action.reason})")
            elif event.event == "finished" and event.session is not None:
                self.message.emit(f"Scheduler: the {what} of {event.action.job} ended: "
                                  f"{event.session.status.value}")
            else:
                self.message.emit(f"Scheduler: {event.action.job} not started: {event.message}")

        kwargs: dict[str, Any] = {"runner": GuiServiceRunner(self.runner), "tick": self.tick, "report": report}
        if self.clock is not None:
            kwargs["clock"] = self.clock
        try:
            with Service(self.data_dir, **kwargs) as service:
                service.run_forever(stop)
        except Exception as e:      # the console goes on without its scheduler; the admin is told
            log.exception("the scheduler stopped")
            self.error = str(e)
            self.message.emit(f"Scheduler stopped: {e}")
        finally:
            self.state_changed.emit(False)


__all__ = ["DEFAULT_TICK", "SETTING", "GuiScheduler", "GuiServiceRunner", "JobKind"]
