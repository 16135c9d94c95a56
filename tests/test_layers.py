"""The one import rule (DESIGN.md §2): console.core and console.cli never load Qt."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import console.cli
import console.core

REPO_ROOT = Path(__file__).resolve().parents[1]
QT_PREFIXES = ("PySide6", "shiboken6", "qasync", "PyQt5", "PyQt6")


def _raise(name: str) -> None:
    raise ImportError(f"cannot walk package {name}")


def headless_modules() -> list[str]:
    """Every module and package under console.core and console.cli, found now (new modules count at once)."""
    names = ["console.core", "console.cli"]
    for package in (console.core, console.cli):
        names += [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".", _raise)]
    return sorted(set(names))


def test_core_and_cli_load_no_qt() -> None:
    modules = headless_modules()
    assert "console.core.errors" in modules
    code = "\n".join(
        [f"import {name}" for name in modules]
        + [
            "import sys",
            f"loaded = sorted(m for m in sys.modules if m.startswith({QT_PREFIXES!r}))",
            "assert not loaded, f'Qt loaded by console.core/console.cli: {loaded}'",
        ]
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"importing {len(modules)} modules failed:\n{result.stderr}"
