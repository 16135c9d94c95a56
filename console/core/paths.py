"""Where the console keeps its own files: the data dir (catalog, logs, known_hosts, locks).

Precedence for the data dir: an explicit argument (`--data-dir`), then `BACKUP_CONSOLE_HOME`, then the platform's
user data dir. Everything is created on demand; directories the console creates are private (0700) because the
catalog and known_hosts describe the admin's infrastructure even though they hold no secrets.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "backup-console"
ENV_HOME = "BACKUP_CONSOLE_HOME"
CATALOG_FILE = "catalog.db"
LOG_DIR = "logs"
KNOWN_HOSTS_FILE = "known_hosts"
LOCKS_DIR = "locks"

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def _ensure_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing; only a directory we create gets 0700 — an existing one is the admin's."""
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask; chmod makes 0700 hold whatever the umask is.
        try:
            os.chmod(path, PRIVATE_DIR_MODE)
        except OSError as exc:  # e.g. a file system without POSIX modes
            log.debug("could not chmod %s: %s", path, exc)
    return path


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The console's data dir: `explicit`, else $BACKUP_CONSOLE_HOME, else the platform user data dir; created."""
    if explicit is not None and str(explicit) != "":
        chosen = Path(explicit).expanduser()
    elif os.environ.get(ENV_HOME):
        chosen = Path(os.environ[ENV_HOME]).expanduser()
    else:
        # appauthor=False: no "<author>\<app>" nesting on Windows.
        chosen = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return _ensure_dir(chosen.absolute())


def catalog_path(data_dir: str | os.PathLike[str]) -> Path:
    """The catalog database file (the data dir is created; the file itself is created by `Catalog`)."""
    return _ensure_dir(Path(data_dir)) / CATALOG_FILE


def log_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Directory for the console's own log files; created."""
    return _ensure_dir(Path(data_dir) / LOG_DIR)


def known_hosts_path(data_dir: str | os.PathLike[str]) -> Path:
    """The console's own known_hosts file; created empty (0600) so SSH libraries can load it before the first host."""
    path = _ensure_dir(Path(data_dir)) / KNOWN_HOSTS_FILE
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        except FileExistsError:  # another process created it meanwhile
            pass
    return path


def locks_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Directory for the console's local lock files (job and session locks); created."""
    return _ensure_dir(Path(data_dir) / LOCKS_DIR)
