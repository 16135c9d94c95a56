"""How the engine reports to whoever runs it (CLI, GUI worker, service): plain callbacks, no Qt.

The engine calls these from its own threads; a GUI bridge turns them into signals on the GUI thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from console.core.errors import CancelledError


class CancelToken:
    """Set by Stop / SIGTERM / the copy window; the engine checks it between blocks and files."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "stopped by the user") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise CancelledError(self.reason or "stopped")

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)


@dataclass
class Progress:
    phase: str                       # "backup", "copy", "restore", "check", "gc", ...
    object: str = ""
    bytes_done: int = 0              # processed source bytes (incl. unchanged files)
    bytes_total: int = 0             # 0 while unknown
    files_done: int = 0
    files_total: int = 0
    read: int = 0                    # bytes actually read from the source
    transferred: int = 0             # bytes written to the target
    elapsed: float = 0.0
    busy: dict[str, float] = field(default_factory=dict)   # bottleneck shares: source / transform / target

    @property
    def rate(self) -> float:
        return self.bytes_done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float | None:
        """Done share 0..1 by bytes, else by files; None while neither total is known."""
        if self.bytes_total:
            return min(1.0, self.bytes_done / self.bytes_total)
        if self.files_total:
            return min(1.0, self.files_done / self.files_total)
        return None

    @property
    def eta(self) -> float | None:
        if not self.bytes_total or not self.rate or self.bytes_done >= self.bytes_total:
            return None
        return (self.bytes_total - self.bytes_done) / self.rate


class Events:
    """Receiver of engine events. The default does nothing; subclasses record or display."""

    def log(self, level: str, message: str, object: str | None = None) -> None:
        pass

    def progress(self, p: Progress) -> None:
        pass

    def object_status(self, name: str, status: str, detail: str = "") -> None:
        pass


class Throttle:
    """Calls through at most every `interval` seconds (progress would otherwise flood the GUI)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self._last = 0.0

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False
