"""Start the desktop console: create the QApplication, show the main window, run the event loop."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import console
from console.gui.main_window import MainWindow, resources_dir

APP_NAME = "Backup Copy Console"
ORGANIZATION_NAME = "Backup Copy Console"
ORGANIZATION_DOMAIN = "backupconsole.github.io"
DESKTOP_FILE_NAME = "backup-console"  # resources/backup-console.desktop, matches StartupWMClass


def app_icon() -> QIcon:
    """The application icon, or an empty icon when resources/ is not there (callers need not check)."""
    svg = resources_dir() / "backup-console.svg"
    if svg.is_file():
        icon = QIcon(str(svg))
        if not icon.isNull():
            return icon
    return QIcon.fromTheme("backup-console")


def main(argv: list[str] | None = None, *, data_dir: Path | None = None) -> int:
    """Run the console until its window is closed; returns the exit code of the Qt event loop."""
    args = list(sys.argv if argv is None else argv) or ["backup-console"]
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationVersion(console.__version__)
    QApplication.setOrganizationName(ORGANIZATION_NAME)
    QApplication.setOrganizationDomain(ORGANIZATION_DOMAIN)
    QApplication.setDesktopFileName(DESKTOP_FILE_NAME)
    app = QApplication.instance() or QApplication(args)
    app.setWindowIcon(app_icon())

    window = MainWindow(data_dir=data_dir)
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
