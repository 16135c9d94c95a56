"""An in-memory keyring backend for tests: secrets live in a dict, never on disk or in a desktop keyring.

In the test process the autouse `memory_keyring` fixture (tests/conftest.py) installs it.
A subprocess (e.g. the CLI under test) selects it through keyring's environment variable:

    env["PYTHONPATH"] = "<repo>/tests" + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHON_KEYRING_BACKEND"] = "memory_keyring.MemoryKeyring"

`subprocess_env()` below builds exactly that. Each process has its own, initially empty, store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

TESTS_DIR = Path(__file__).resolve().parent
BACKEND_NAME = "memory_keyring.MemoryKeyring"


class MemoryKeyring(KeyringBackend):
    """Keeps passwords in memory, keyed by (service, username)."""

    priority = 1  # keyring wants a priority; any positive number makes the backend "viable"

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise PasswordDeleteError(f"no password stored for {username!r} at {service!r}") from None


def subprocess_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default: os.environ) that makes a child Python process use MemoryKeyring."""
    env = dict(os.environ if base is None else base)
    paths = [str(TESTS_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHON_KEYRING_BACKEND"] = BACKEND_NAME
    return env
