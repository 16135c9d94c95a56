"""Interpreter settings for a GUI thread that shares the process with the engine's worker threads.

Every Python call the GUI thread makes (a slot, a model's data(), a paint) needs the GIL. While the engine's
threads run Python, the GUI thread waits up to one switch interval for each of them, and a full garbage
collection in any thread holds the GIL for as long as it walks every tracked object (tens of ms for the
~100,000 objects of the widgets, modules and catalog snapshot).
"""

from __future__ import annotations

import gc
import logging
import sys

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.0002      # CPython's default is 5 ms; the engine itself lowers it to 1 ms
_frozen = False


def tune_interpreter() -> None:
    """Hand the GIL over more often, so the GUI thread never queues long behind engine threads."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))


def freeze_startup_objects() -> None:
    """Once the console has started: move everything alive now (modules, widgets, their wrappers) out of the
    garbage collector's reach. They live as long as the console does; later collections then only walk what
    was made since, which keeps them short wherever they run."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.freeze()
    log.debug("froze %d long-lived objects", gc.get_freeze_count())
