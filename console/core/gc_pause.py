"""Pause Python's cyclic garbage collector while a large structure is built.

Decoding a tree of 100,000 entries or an index of 100,000 blocks allocates hundreds of thousands of objects at
once. The collector then runs again and again over the growing heap — measured: a 100,000-entry tree decodes in
0.46 s with it paused and 1.16 s without — and holds the GIL meanwhile, so every other thread (the GUI's too)
waits. None of these objects form cycles; collection simply waits until the structure is built.

Process-wide and thread-safe: the collector resumes when the last of several overlapping pauses ends, and only if
it was running when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def paused_gc() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
