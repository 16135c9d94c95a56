"""Catalog access for GUI background work: one Catalog per worker thread (sqlite connections are per thread) and
a pool of its own, so long queries never wait behind the two threads of Qt's global pool."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThreadPool
from shiboken6 import Shiboken

from console.core.catalog import Catalog
from console.gui.background import run_in_background

log = logging.getLogger(__name__)
T = TypeVar("T")
POOL_THREADS = 4
_local = threading.local()
_pool: QThreadPool | None = None


def thread_catalog(data_dir: Path) -> Catalog:
    """The calling thread's Catalog on data_dir, opened on first use and kept for the thread's life."""
    catalogs: dict[str, Catalog] | None = getattr(_local, "catalogs", None)
    if catalogs is None:
        catalogs = _local.catalogs = {}
    key = str(data_dir)
    if key not in catalogs:
        catalogs[key] = Catalog.open(data_dir)
    return catalogs[key]


def gui_pool() -> QThreadPool:
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(POOL_THREADS)
        _pool.setExpiryTimeout(-1)      # threads keep their catalog connection
    return _pool


def with_catalog(data_dir: Path, fn: Callable[..., T], *args: Any, on_done: Callable[[T], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None, owner: QObject | None = None) -> None:
    """Run fn(catalog, *args) in the GUI pool with that thread's catalog; callbacks run on the GUI thread.

    `owner` (default: the object on_done is a method of): when it has been deleted by the time the answer
    comes (a window closed meanwhile), the callbacks are skipped instead of touching a dead widget."""
    def call() -> T:
        return fn(thread_catalog(data_dir), *args)

    owner = owner if owner is not None else getattr(on_done, "__self__", None)

    def guarded(callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
        if callback is None or not isinstance(owner, QObject):
            return callback

        def checked(value: Any) -> None:
            if Shiboken.isValid(owner):
                callback(value)
            else:
                log.debug("answer for a deleted %s dropped", type(owner).__name__)
        return checked

    run_in_background(call, on_done=guarded(on_done), on_error=guarded(on_error), pool=gui_pool())
