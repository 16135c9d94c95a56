"""The storage interface a repository lives on: a flat namespace of files addressed by '/'-separated names.

Implementations: `LocalStorage` (a folder), later SFTP and S3. Every write is atomic: a reader never sees a
partly written file under its final name (temporary name + flush/fsync + rename).
"""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from pathlib import Path

from console.core.errors import RepositoryError


class ReadOnlyStorageError(RepositoryError):
    """The repository's location cannot be written (read-only mount, write-protected media): reads still work."""


def check_name(name: str) -> str:
    """Storage names are built by the repository code; this guards against a bug or hostile listing."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        raise RepositoryError(f"invalid storage name {name!r}")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise RepositoryError(f"invalid storage name {name!r}")
    return name


class Storage(ABC):
    """A place to keep repository files. Names are relative, '/'-separated, without '..'."""

    #: human description, e.g. "/srv/backups" or "sftp://backup@nas:22/srv/backups"
    location: str = ""

    @abstractmethod
    def read(self, name: str) -> bytes: ...

    @abstractmethod
    def read_range(self, name: str, offset: int, length: int) -> bytes: ...

    @abstractmethod
    def write(self, name: str, data: bytes) -> None:
        """Atomically create or replace `name` with `data` (durable when this returns)."""

    @abstractmethod
    def create_exclusive(self, name: str, data: bytes) -> bool:
        """Create `name` only if it does not exist; False if it does (used for lock files)."""

    @abstractmethod
    def spool_dir(self) -> Path:
        """A local folder where pack files are assembled before `put_file` (same file system when local)."""

    @abstractmethod
    def put_file(self, name: str, local_path: Path) -> None:
        """Atomically place a finished local file under `name`; the local file is consumed."""

    @abstractmethod
    def exists(self, name: str) -> bool: ...

    @abstractmethod
    def size(self, name: str) -> int: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Names of all files below folder `prefix` (recursive); an absent folder lists nothing."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove `name`; an absent file is not an error."""

    @abstractmethod
    def remove_empty_dirs(self, prefix: str) -> None:
        """Remove empty folders below and including `prefix` (tidying after deletes)."""

    def is_empty(self) -> bool:
        """True when the location holds no files at all (safe to initialise a repository there)."""
        return not self.list("")

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def join(*parts: str) -> str:
    return posixpath.join(*parts)
