"""Bandwidth throttle per repository (MB/s, 1 MB = 1,000,000 bytes): a token bucket shared by every thread that
moves bytes to or from one repository, and a `Storage` wrapper that applies it to any backend (e.g. local).

`SftpStorage` calls `TokenBucket.consume` per SFTP request, so its rate is smooth; the wrapper charges whole
reads and writes, which averages out to the same rate over a session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from console.core.storage.base import Storage

MB = 1_000_000


class TokenBucket:
    """At most `rate` bytes per second on average, with bursts of up to `burst` bytes. Thread-safe.

    `consume(n)` may overdraw the bucket (a 16 MB pack is charged in one call): the caller then sleeps until the
    debt is paid, and later callers wait for it too, so concurrent threads share the rate instead of each getting it.
    """

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not rate > 0:
            raise ValueError("a throttle needs a positive rate")
        self.rate = float(rate)
        # a quarter of a second of traffic: small enough to keep the rate smooth, large enough for one request
        self.burst = float(burst) if burst is not None else max(self.rate / 4, 256 << 10)
        self._clock, self._sleep = clock, sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    @classmethod
    def from_mbps(cls, mbps: float | None, **kw) -> TokenBucket | None:
        """None (no limit) for None or 0; MB/s otherwise."""
        if not mbps:
            return None
        return cls(float(mbps) * MB, **kw)

    def consume(self, n: int) -> float:
        """Take `n` bytes' worth of tokens, sleeping as long as needed; returns the seconds slept."""
        if n <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class ThrottledStorage(Storage):
    """Any storage, with the bytes it reads and writes charged to a token bucket (used for local repositories)."""

    def __init__(self, inner: Storage, bucket: TokenBucket) -> None:
        self.inner, self.bucket = inner, bucket
        self.location = inner.location

    def read(self, name: str) -> bytes:
        data = self.inner.read(name)
        self.bucket.consume(len(data))
        return data

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        self.bucket.consume(length)
        return self.inner.read_range(name, offset, length)

    def write(self, name: str, data: bytes) -> None:
        self.bucket.consume(len(data))
        self.inner.write(name, data)

    def create_exclusive(self, name: str, data: bytes) -> bool:
        return self.inner.create_exclusive(name, data)

    def spool_dir(self) -> Path:
        return self.inner.spool_dir()

    def put_file(self, name: str, local_path: Path) -> None:
        try:
            size = local_path.stat().st_size
        except OSError:
            size = 0
        self.bucket.consume(size)
        self.inner.put_file(name, local_path)

    def exists(self, name: str) -> bool:
        return self.inner.exists(name)

    def size(self, name: str) -> int:
        return self.inner.size(name)

    def list(self, prefix: str) -> list[str]:
        return self.inner.list(prefix)

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def remove_empty_dirs(self, prefix: str) -> None:
        self.inner.remove_empty_dirs(prefix)

    def is_empty(self) -> bool:
        return self.inner.is_empty()

    def close(self) -> None:
        self.inner.close()
