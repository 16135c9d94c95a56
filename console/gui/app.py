"""Start the desktop console: QApplication with the app icon and id, the main window, and a qasync event loop
(asyncio and Qt share one loop, so async code can run next to the widgets)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

import console
from console.gui.dialogs import install_exception_hook
from console.gui.resources import app_icon

log = logging.getLogger(__name__)
APP_NAME = "Backup Copy Console"
ORGANIZATION_NAME = "Backup Copy Console"
ORGANIZATION_DOMAIN = "backupconsole.github.io"
DESKTOP_FILE_NAME = "backup-console"  # resources/backup-console.desktop, matches StartupWMClass

__all__ = ["app_icon", "create_application", "main"]


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the console's names, desktop id and icon (reused if one exists)."""
    args = list(sys.argv if argv is None else argv) or ["backup-console"]
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationVersion(console.__version__)
    QApplication.setOrganizationName(ORGANIZATION_NAME)
    QApplication.setOrganizationDomain(ORGANIZATION_DOMAIN)
    QApplication.setDesktopFileName(DESKTOP_FILE_NAME)
    app = QApplication.instance() or QApplication(args)
    app.setWindowIcon(app_icon())
    return app  # type: ignore[return-value]


def main(argv: list[str] | None = None, *, data_dir: Path | None = None) -> int:
    """Run the console until its window is closed; returns the exit code."""
    from console.gui.main_window import MainWindow

    app = create_application(argv)
    install_exception_hook()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    window = MainWindow(data_dir=data_dir)
    window.show()
    with loop:
        loop.run_until_complete(closed.wait())
    log.info("console closed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
