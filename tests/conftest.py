"""Shared fixtures for every test (core, gui, e2e)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

# Qt aborts the whole process (exit 134, no pytest summary) when there is no display: render offscreen
# unless the caller chose a platform (e.g. QT_QPA_PLATFORM=xcb under xvfb-run to watch the GUI tests).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring  # noqa: E402
import pytest  # noqa: E402

# tests/ is importable whatever pytest's rootdir/import mode, so `memory_keyring` resolves here and, with
# tests/ on PYTHONPATH, in subprocesses: PYTHON_KEYRING_BACKEND=memory_keyring.MemoryKeyring
# (see memory_keyring.subprocess_env()).
# the deep-tree restore tests leave folders ~2000 levels deep; pytest's rmtree of old tmp dirs recurses per level
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from memory_keyring import MemoryKeyring  # noqa: E402


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets an empty in-memory keyring; the previous backend is put back afterwards."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data dir (catalog, settings, known_hosts) through BACKUP_CONSOLE_HOME; not created yet."""
    home = tmp_path / "home"
    monkeypatch.setenv("BACKUP_CONSOLE_HOME", str(home))
    return home
