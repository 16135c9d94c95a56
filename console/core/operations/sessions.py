"""Running an operation as a catalog session: status, statistics, per-object status and log lines."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from console.core.catalog import Catalog
from console.core.engine.events import CancelToken, Events, Progress
from console.core.errors import CancelledError, ConsoleError, LockedError
from console.core.model import LogLine, Session, SessionObject, SessionStatus

log = logging.getLogger(__name__)
T = TypeVar("T")


class SessionRecorder(Events):
    """Records engine events in the catalog and forwards them (to a terminal or the GUI)."""

    def __init__(self, catalog: Catalog, session: Session, forward: Events | None = None) -> None:
        self.catalog, self.session, self.forward = catalog, session, forward or Events()
        self.warnings = 0
        self.errors = 0
        self.stats: dict = {}
        self.last_progress: Progress | None = None
        self._last_flush = 0.0

    def log(self, level: str, message: str, object: str | None = None) -> None:
        if level == "warning":
            self.warnings += 1
        elif level == "error":
            self.errors += 1
        self.catalog.add_log(self.session.id, LogLine(datetime.now(UTC), level, message, object))
        getattr(log, "warning" if level == "warning" else "error" if level == "error" else "info")(
            "[session %s] %s", self.session.id, message)
        self.forward.log(level, message, object)

    def object_status(self, name: str, status: str, detail: str = "") -> None:
        self.catalog.set_session_object(self.session.id, SessionObject(name=name, status=status, detail=detail))
        self.forward.object_status(name, status, detail)

    def progress(self, p: Progress) -> None:
        self.last_progress = p
        now = time.monotonic()
        if now - self._last_flush > 2.0:
            self._last_flush = now
            self.catalog.update_session_stats(self.session.id, {
                "processed": p.bytes_done, "read": p.read, "transferred": p.transferred, "rate": p.rate,
                "total": p.bytes_total})
        self.forward.progress(p)


class JobLock:
    """One run of a job at a time across processes (CLI, GUI, service): an flock the kernel drops on exit."""

    def __init__(self, locks_dir: Path, name: str) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        self.path = locks_dir / f"job-{safe}.lock"
        self.name = name
        self.fd = -1

    def __enter__(self) -> JobLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise LockedError(f"job {self.name!r} is already running (pid {other}); wait for it to finish "
                              "or stop it first") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def run_session(catalog: Catalog, job: str, kind: str, body: Callable[[SessionRecorder], T],
                forward: Events | None = None, cancel: CancelToken | None = None) -> tuple[Session, T | None]:
    """Run `body` as a session; its outcome decides the status. Returns the finished session and body's result.

    body returns its result and fills recorder.stats; warnings logged make the session 'warning'."""
    session = catalog.start_session(job, kind)
    rec = SessionRecorder(catalog, session, forward)
    result: T | None = None
    error = None
    t0 = time.monotonic()
    try:
        result = body(rec)
        status = SessionStatus.WARNING if rec.warnings or rec.errors else SessionStatus.SUCCESS
    except CancelledError as e:
        status, error = SessionStatus.STOPPED, str(e)
        rec.log("warning", f"session stopped: {e}")
    except ConsoleError as e:
        status, error = SessionStatus.FAILED, str(e)
        rec.log("error", str(e))
    except OSError as e:
        from console.core.storage.local import describe_os_error
        status, error = SessionStatus.FAILED, describe_os_error(e, e.filename or "I/O error")
        rec.log("error", error)
    except Exception as e:  # a bug: the session must still end, with the reason recorded
        log.exception("session %s crashed", session.id)
        status, error = SessionStatus.FAILED, f"internal error: {type(e).__name__}: {e}"
        rec.log("error", error)
    rec.stats.setdefault("duration", round(time.monotonic() - t0, 3))
    catalog.finish_session(session.id, status, rec.stats, error)
    return catalog.get_session(session.id), result
