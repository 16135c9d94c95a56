"""A bounded worker pool: compression, hashing and encryption run in threads (their C code releases the GIL);
the number of blocks in flight is capped so memory stays flat whatever the size of the data."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def worker_count() -> int:
    return max(2, min(8, os.cpu_count() or 2))


class BusyClock:
    """Accumulates how long each stage was busy, for the bottleneck figure (source / transform / target)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.busy: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.busy[stage] = self.busy.get(stage, 0.0) + seconds

    def timed(self, stage: str) -> _Timed:
        return _Timed(self, stage)

    def shares(self, elapsed: float, workers: dict[str, int] | None = None) -> dict[str, float]:
        """Busy share per stage in 0..1; stages run by a pool are divided by its size."""
        workers = workers or {}
        if elapsed <= 0:
            return {}
        with self._lock:
            return {k: round(min(1.0, v / elapsed / workers.get(k, 1)), 3) for k, v in self.busy.items()}

    @staticmethod
    def bottleneck(shares: dict[str, float]) -> str:
        return max(shares, key=lambda k: shares[k]) if shares else ""


class _Timed:
    def __init__(self, clock: BusyClock, stage: str) -> None:
        self.clock, self.stage = clock, stage

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.clock.add(self.stage, time.perf_counter() - self.t0)


class BoundedPool:
    """submit() blocks while `limit` tasks are in flight; the first worker error is re-raised by check()."""

    def __init__(self, workers: int | None = None, limit: int | None = None) -> None:
        # a thread returning from a syscall (open, rename) otherwise waits up to 5 ms for the GIL while
        # workers run short C calls: the convoy effect that makes many small files slow
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        # walks recurse per folder level; PATH_MAX (4096) allows ~2048 levels, so this covers every real tree
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
        self.workers = workers or worker_count()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="engine")
        self._slots = threading.Semaphore(limit or self.workers * 4)
        self._error: BaseException | None = None
        self._futures: set[Future] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self.check()
        self._slots.acquire()
        fut = self._pool.submit(fn, *args)
        with self._lock:
            self._futures.add(fut)
        fut.add_done_callback(self._done)

    def _done(self, fut: Future) -> None:
        self._slots.release()
        with self._lock:
            self._futures.discard(fut)
        exc = fut.exception()
        if exc is not None and self._error is None:
            self._error = exc

    def check(self) -> None:
        if self._error is not None:
            raise self._error

    def join(self) -> None:
        while True:
            with self._lock:
                pending = list(self._futures)
            if not pending:
                break
            for f in pending:
                f.exception()
        self.check()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def map_ordered(self, fn: Callable[[T], R], items: Iterable[T], window: int | None = None) -> Iterator[tuple[T, R]]:
        """Apply fn in the pool, yielding (item, result) in input order with at most `window` in flight."""
        window = window or self.workers * 4
        pending: deque[tuple[T, Future]] = deque()
        for item in items:
            pending.append((item, self._pool.submit(fn, item)))
            if len(pending) >= window:
                it, fut = pending.popleft()
                yield it, fut.result()
        while pending:
            it, fut = pending.popleft()
            yield it, fut.result()

    def __enter__(self) -> BoundedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
