"""Repository locks kept as files in locks/, so they work on any storage (local, SFTP, object storage).

read: restore, browse, copy source.  write: backup, copy target.  exclusive: GC, delete.
A write lock excludes other writers (sessions on one repository are serialised) and GC; reads run alongside
writes. Locks of dead processes on this host, and locks not refreshed for STALE_AFTER, are removed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from datetime import UTC, datetime

from console.core.errors import CorruptDataError, LockedError
from console.core.storage.base import ReadOnlyStorageError, Storage

log = logging.getLogger(__name__)
READ, WRITE, EXCLUSIVE = "read", "write", "exclusive"
STALE_AFTER = 3600.0
REFRESH_EVERY = 300.0
_CONFLICTS = {READ: {EXCLUSIVE}, WRITE: {WRITE, EXCLUSIVE}, EXCLUSIVE: {READ, WRITE, EXCLUSIVE}}
_WHAT = {READ: "reading", WRITE: "writing", EXCLUSIVE: "maintenance (GC or delete)"}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RepositoryLock:
    def __init__(self, storage: Storage, kind: str, what: str) -> None:
        self.storage, self.kind, self.what = storage, kind, what
        self.name = f"locks/{uuid.uuid4().hex}.json"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._readonly = False

    def _doc(self) -> bytes:
        return json.dumps({"kind": self.kind, "host": socket.gethostname(), "pid": os.getpid(),
                           "time": time.time(), "what": self.what}).encode()

    def _others(self) -> list[tuple[str, dict]]:
        out = []
        for name in self.storage.list("locks"):
            if name == self.name:
                continue
            try:
                doc = json.loads(self.storage.read(name))
                if not isinstance(doc, dict):
                    raise ValueError
            except (ValueError, UnicodeDecodeError, CorruptDataError):
                # blocks (never judged stale by age) until an admin removes it: it may be a writer's half-written lock
                doc = {"kind": EXCLUSIVE, "time": time.time(), "what": f"damaged lock file {name}"}
            except Exception:  # vanished between list and read
                continue
            if self._stale(doc):
                log.info("removing stale lock %s (%s)", name, doc.get("what"))
                self.storage.delete(name)
                continue
            out.append((name, doc))
        return out

    @staticmethod
    def _stale(doc: dict) -> bool:
        try:
            if doc.get("host") == socket.gethostname() and not _pid_alive(int(doc.get("pid", 0))):
                return True
            return time.time() - float(doc.get("time", 0)) > STALE_AFTER
        except (TypeError, ValueError):
            return True

    def acquire(self, timeout: float = 0.0) -> RepositoryLock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.storage.write(self.name, self._doc())
            except ReadOnlyStorageError:
                if self.kind != READ:
                    raise
                # nothing can change a read-only repository from here: read it without a lock file
                log.warning("repository %s is read-only: reading without a lock", self.storage.location)
                self._readonly = True
                return self
            conflicts = [d for _n, d in self._others() if d.get("kind") in _CONFLICTS[self.kind]]
            if not conflicts:
                break
            self.storage.delete(self.name)
            if time.monotonic() >= deadline:
                d = conflicts[0]
                since = datetime.fromtimestamp(float(d.get("time", 0)), UTC).strftime("%Y-%m-%d %H:%M UTC")
                raise LockedError(
                    f"repository {self.storage.location} is busy: {d.get('what', 'another session')} "
                    f"(pid {d.get('pid', '?')} on {d.get('host', '?')}, since {since}) holds it for "
                    f"{_WHAT.get(str(d.get('kind')), 'writing')}; try again when it has finished")
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())) * random.uniform(0.5, 1.0))
        self._thread = threading.Thread(target=self._refresh, name="lock-refresh", daemon=True)
        self._thread.start()
        return self

    def _refresh(self) -> None:
        while not self._stop.wait(REFRESH_EVERY):
            try:
                self.storage.write(self.name, self._doc())
            except Exception as e:  # the session notices storage trouble on its own
                log.warning("could not refresh lock %s: %s", self.name, e)

    def release(self) -> None:
        if self._readonly:
            return
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        try:
            self.storage.delete(self.name)
        except Exception as e:
            log.warning("could not remove lock %s: %s", self.name, e)

    def __enter__(self) -> RepositoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
