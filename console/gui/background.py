"""Run blocking work (catalog queries that may wait, connection tests, job runs) off the GUI thread.

Results come back as queued signals, so callbacks run on the GUI thread and may touch widgets; the worker itself
never does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[..., Any], args: tuple, relay: _Relay) -> None:
        super().__init__()
        self.fn, self.args, self.relay = fn, args, relay

    def run(self) -> None:
        try:
            result = self.fn(*self.args)
        except BaseException as e:  # noqa: BLE001 - every failure must reach the GUI as a message
            log.debug("background task failed: %s", e, exc_info=True)
            self._deliver(self.relay.failed, e)
        else:
            self._deliver(self.relay.done, result)

    @staticmethod
    def _deliver(signal: Signal, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:        # the application is shutting down and the receiver is gone: nobody waits
            log.debug("background result dropped at shutdown")


_alive: set[_Relay] = set()   # keeps relays alive until their signal has been delivered


def run_in_background(fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      pool: QThreadPool | None = None) -> None:
    """Call fn(*args) in a pool thread; on_done(result) or on_error(exception) then runs on the GUI thread."""
    relay = _Relay()   # created here, so it lives in (and delivers to) the calling (GUI) thread
    _alive.add(relay)

    def finish(cb: Callable[[Any], None] | None, value: Any) -> None:
        _alive.discard(relay)
        if cb is not None:
            cb(value)

    relay.done.connect(lambda r: finish(on_done, r))
    relay.failed.connect(lambda e: finish(on_error, e))
    (pool or QThreadPool.globalInstance()).start(_Task(fn, args, relay))
