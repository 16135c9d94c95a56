"""The desktop entry point: app name, desktop id and icon; `backup-console` with no command opens the window in a
qasync event loop and exits 0 when it is closed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from console.gui.app import DESKTOP_FILE_NAME, create_application

ROOT = Path(__file__).resolve().parents[2]


def test_application_identity(qapp) -> None:
    app = create_application([])
    assert app is QApplication.instance()
    assert QApplication.applicationName() == "Backup Copy Console"
    assert QApplication.desktopFileName() == DESKTOP_FILE_NAME == "backup-console"
    assert not app.windowIcon().isNull()
    assert (ROOT / "resources" / f"{DESKTOP_FILE_NAME}.desktop").is_file()


def test_the_console_starts_and_closes(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from console.gui.app import create_application\n"
        "create_application([])             # timers need the application first\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "def close():\n"
        "    windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]\n"
        "    assert windows and windows[0].windowTitle() == 'Backup Copy Console', windows\n"
        "    print('window shown', flush=True)\n"
        "    windows[0].close()\n"
        "QTimer.singleShot(2500, close)\n"
        "from console.cli.main import main\n"
        "sys.exit(main([]))\n"
    )
    env = {**os.environ, "BACKUP_CONSOLE_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
           "PYTHON_KEYRING_BACKEND": "memory_keyring.MemoryKeyring"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "window shown" in result.stdout
    assert (tmp_path / "home" / "catalog.db").exists()
