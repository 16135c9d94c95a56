"""A repository in a local folder (or a mounted NAS share)."""

from __future__ import annotations

import errno
import logging
import os
import uuid
from pathlib import Path

from console.core.errors import RepositoryError
from console.core.storage.base import ReadOnlyStorageError, Storage, check_name

log = logging.getLogger(__name__)
TMP = "tmp"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def describe_os_error(e: OSError, what: str) -> str:
    if e.errno == errno.ENOSPC:
        return f"{what}: the disk is full (free space on the repository's disk, then run the job again)"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"{what}: permission denied"
    if e.errno == errno.EROFS:
        return f"{what}: the file system is read-only"
    if e.errno == errno.ENOENT:
        return f"{what}: not found"
    return f"{what}: {e.strerror or e}"


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).absolute()
        self.location = str(self.root)

    # -- helpers ---------------------------------------------------------------------------------------
    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def _tmp(self) -> Path:
        d = self.root / TMP
        d.mkdir(exist_ok=True)
        return d / f"{uuid.uuid4().hex}.tmp"

    def _error(self, e: OSError, what: str) -> RepositoryError:
        cls = ReadOnlyStorageError if e.errno == errno.EROFS else RepositoryError
        return cls(describe_os_error(e, f"{what} in repository {self.location}"))

    # -- Storage ---------------------------------------------------------------------------------------
    def read(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            raise RepositoryError(f"{name} is missing from repository {self.location}") from None
        except OSError as e:
            raise self._error(e, f"cannot read {name}") from None

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        try:
            fd = os.open(self._path(name), os.O_RDONLY)
        except FileNotFoundError:
            raise RepositoryError(f"{name} is missing from repository {self.location}") from None
        except OSError as e:
            raise self._error(e, f"cannot read {name}") from None
        try:
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def write(self, name: str, data: bytes) -> None:
        try:
            tmp = self._tmp()
        except OSError as e:
            raise self._error(e, f"cannot write {name}") from None
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            self.put_file(name, tmp)
        except OSError as e:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:             # a read-only file system refuses even this
                pass
            raise self._error(e, f"cannot write {name}") from None

    def create_exclusive(self, name: str, data: bytes) -> bool:
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except OSError as e:
            raise self._error(e, f"cannot create {name}") from None
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def spool_dir(self) -> Path:
        d = self.root / TMP
        try:
            d.mkdir(exist_ok=True)
        except OSError as e:
            raise self._error(e, "cannot create the temporary folder") from None
        return d

    def put_file(self, name: str, local_path: Path) -> None:
        path = self._path(name)
        try:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
                _fsync_dir(path.parent.parent)
            os.replace(local_path, path)
        except OSError as e:
            raise self._error(e, f"cannot store {name}") from None

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            raise RepositoryError(f"{name} is missing from repository {self.location}") from None

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        out: list[str] = []
        if not base.is_dir():
            return out
        root_len = len(str(self.root)) + 1
        for dirpath, _dirs, files in os.walk(base):
            rel = dirpath[root_len:]
            for f in files:
                out.append(f"{rel}/{f}" if rel else f)
        return out

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink(missing_ok=True)
        except OSError as e:
            raise self._error(e, f"cannot delete {name}") from None

    def remove_empty_dirs(self, prefix: str) -> None:
        base = self._path(prefix)
        if not base.is_dir():
            return
        for dirpath, _dirs, _files in os.walk(base, topdown=False):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
