"""Where the GUI finds its icons: resources/ in the checkout, or the copy the installer puts into the venv."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

APP_ICON = "backup-console.svg"


def resources_dir() -> Path:
    """The resources/ folder (icons, desktop entry): the checkout's, else the copy installer/install.sh puts
    into the venv. It may be absent (e.g. a plain `pip install`): callers then go without icons."""
    checkout = Path(__file__).resolve().parents[2] / "resources"
    installed = Path(sys.prefix) / "share" / "backup-console" / "resources"
    return next((path for path in (checkout, installed) if (path / APP_ICON).is_file()), checkout)


@cache
def resource_icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg, or an empty icon when it is not there (callers need not check)."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def app_icon() -> QIcon:
    """The application icon, or the theme's / an empty icon when resources/ is not there."""
    svg = resources_dir() / APP_ICON
    if svg.is_file():
        icon = QIcon(str(svg))
        if not icon.isNull():
            return icon
    return QIcon.fromTheme("backup-console")
