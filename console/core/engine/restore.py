"""Restore a restore point (or selected paths of it) into a destination folder.

Safety: every name comes from a validated tree (no '/', '.', '..'); files and folders are created relative to
an open directory descriptor with O_NOFOLLOW, so a symlink in the point (or already in the destination) can
never redirect a write outside the destination. Each block is verified against its id before it is written,
into a temporary file that replaces the target only when the whole file checked out.
"""

from __future__ import annotations

import logging
import os
import stat
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from console.core.engine.events import CancelToken, Events, Progress, Throttle
from console.core.engine.pipeline import BoundedPool
from console.core.errors import ConsoleError, UsageError
from console.core.repository.manifest import PointDoc
from console.core.repository.repo import Repository
from console.core.repository.tree import DIR, FILE, SYMLINK, Node

log = logging.getLogger(__name__)
OVERWRITE = ("never", "newer", "always")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_IS_ROOT = os.geteuid() == 0


@dataclass
class RestoreStats:
    files: int = 0
    dirs: int = 0
    links: int = 0
    bytes: int = 0
    skipped: int = 0
    errors: int = 0
    duration: float = 0.0
    total_bytes: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Dir:
    """An open destination folder: closed (and its mtime set) once its listing and its files are done."""

    fd: int
    node: Node | None          # None: not restored itself (only on the way to a selected path)
    pending: int = 1           # files in flight + 1 while its listing is being walked


@dataclass
class _FileJob:
    dir: _Dir
    node: Node
    display: str
    tmp: str = ""
    fd: int = -1
    written: int = 0
    failed: bool = False
    blobs: list[bytes] = field(default_factory=list)


def split_path(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UsageError(f"path {path!r} must not contain '..'")
    return parts


class _Selection:
    """Which paths of the point to restore: everything, or the given paths and what lies below them."""

    def __init__(self, paths: list[str] | None) -> None:
        self.paths = [split_path(p) for p in paths] if paths else None

    def wants(self, parts: list[str]) -> tuple[bool, bool]:
        """(restore this entry, descend into it)."""
        if self.paths is None:
            return True, True
        for sel in self.paths:
            if parts[:len(sel)] == sel:
                return True, True          # inside a selected path
            if sel[:len(parts)] == parts:
                return False, True         # on the way to a selected path
        return False, False


class Restorer:
    def __init__(self, repo: Repository, dest: str, overwrite: str, events: Events, cancel: CancelToken,
                 pool: BoundedPool) -> None:
        if overwrite not in OVERWRITE:
            raise UsageError(f"overwrite must be one of {', '.join(OVERWRITE)}")
        self.repo, self.overwrite, self.events, self.cancel, self.pool = repo, overwrite, events, cancel, pool
        self.dest = os.path.abspath(dest)
        self.stats = RestoreStats()
        self._open: list[_Dir] = []
        self._throttle = Throttle()
        self._t0 = time.monotonic()

    def error(self, message: str) -> None:
        self.stats.errors += 1
        self.events.log("error", message)

    # -- walking the point ---------------------------------------------------------------------------------
    def _existing(self, dir_fd: int, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def _may_replace(self, st: os.stat_result | None, node: Node) -> bool:
        if st is None or self.overwrite == "always":
            return True
        if self.overwrite == "newer":
            return node.mtime > st.st_mtime_ns
        return False

    def _open_dir(self, parent_fd: int, name: str, display: str) -> int | None:
        st = self._existing(parent_fd, name)
        if st is not None and not stat.S_ISDIR(st.st_mode):
            if self.overwrite != "always":
                self.stats.skipped += 1
                self.events.log("warning", f"{display}: exists and is not a folder — skipped")
                return None
            os.unlink(name, dir_fd=parent_fd)
            st = None
        if st is None:
            os.mkdir(name, 0o700, dir_fd=parent_fd)
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)

    def _release(self, d: _Dir) -> None:
        d.pending -= 1
        if d.pending:
            return
        node = d.node
        try:
            if node is not None:
                os.fchmod(d.fd, node.mode & 0o1777)
                if _IS_ROOT:
                    os.fchown(d.fd, node.uid, node.gid)
                os.utime(d.fd, ns=(node.mtime, node.mtime))
        except OSError:
            pass
        finally:
            os.close(d.fd)
            self._open.remove(d)

    def walk(self, tree_id: bytes, d: _Dir, parts: list[str], sel: _Selection) -> Iterator[_FileJob]:
        try:
            yield from self._walk(tree_id, d, parts, sel)
        finally:
            self._release(d)

    def _walk(self, tree_id: bytes, parent: _Dir, parts: list[str], sel: _Selection) -> Iterator[_FileJob]:
        self.cancel.check()
        dir_fd = parent.fd
        try:
            nodes = self.repo.load_tree(tree_id)
        except (ConsoleError, RecursionError) as e:
            self.error(f"/{'/'.join(parts)}: cannot read folder listing: {e}")
            return
        for node in nodes:
            child = parts + [node.name]
            display = "/" + "/".join(child)
            want, descend = sel.wants(child)
            if not (want or descend):
                continue
            try:
                if node.type == DIR:
                    fd = self._open_dir(dir_fd, node.name, display)
                    if fd is None:
                        continue
                    sub = _Dir(fd, node if want else None)
                    self._open.append(sub)
                    self.stats.dirs += want
                    yield from self.walk(node.tree, sub, child, sel)
                elif not want:
                    continue
                elif node.type == FILE:
                    st = self._existing(dir_fd, node.name)
                    if not self._may_replace(st, node):
                        self.stats.skipped += 1
                        continue
                    parent.pending += 1
                    yield _FileJob(parent, node, display, blobs=node.blobs)
                elif node.type == SYMLINK:
                    self._restore_link(dir_fd, node, display)
            except OSError as e:
                self.error(f"{display}: {e.strerror or e}")

    def _restore_link(self, dir_fd: int, node: Node, display: str) -> None:
        st = self._existing(dir_fd, node.name)
        if st is not None:
            if not self._may_replace(st, node) or stat.S_ISDIR(st.st_mode):
                self.stats.skipped += 1
                return
            os.unlink(node.name, dir_fd=dir_fd)
        os.symlink(node.target or "", node.name, dir_fd=dir_fd)
        try:
            os.utime(node.name, ns=(node.mtime, node.mtime), dir_fd=dir_fd, follow_symlinks=False)
            if _IS_ROOT:
                os.chown(node.name, node.uid, node.gid, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            pass
        self.stats.links += 1

    # -- writing files -------------------------------------------------------------------------------------
    def _fetch(self, item: tuple[_FileJob, int]) -> bytes:
        job, i = item
        if i < 0:
            return b""
        return self.repo.read_blob(job.blobs[i])

    def _items(self, jobs: Iterator[_FileJob]) -> Iterator[tuple[_FileJob, int]]:
        for job in jobs:
            if not job.blobs:
                yield job, -1
            for i in range(len(job.blobs)):
                yield job, i

    def _start(self, job: _FileJob) -> None:
        job.tmp = f".restoring-{uuid.uuid4().hex}"     # short: names may be 255 bytes of multibyte text
        job.fd = os.open(job.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=job.dir.fd)

    def _finish(self, job: _FileJob) -> None:
        node = job.node
        os.fchmod(job.fd, node.mode & 0o1777)
        if _IS_ROOT:
            try:
                os.fchown(job.fd, node.uid, node.gid)
            except OSError:
                pass
        os.utime(job.fd, ns=(node.mtime, node.mtime))
        os.close(job.fd)
        job.fd = -1
        st = self._existing(job.dir.fd, node.name)
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"{job.display} exists as a folder")
        os.rename(job.tmp, node.name, src_dir_fd=job.dir.fd, dst_dir_fd=job.dir.fd)
        self.stats.files += 1
        self._release(job.dir)

    def _abandon(self, job: _FileJob, message: str) -> None:
        if not job.failed:
            job.failed = True
            self.error(f"{job.display}: {message} — not restored")
        if job.fd >= 0:
            os.close(job.fd)
            job.fd = -1
        if job.tmp:
            try:
                os.unlink(job.tmp, dir_fd=job.dir.fd)
            except OSError:
                pass
        self._release(job.dir)

    def run(self, point: PointDoc, paths: list[str] | None) -> RestoreStats:
        t0 = time.monotonic()
        try:
            os.makedirs(self.dest, exist_ok=True)
            root_fd = os.open(self.dest, _DIR_FLAGS)
        except OSError as e:
            raise UsageError(f"cannot use restore destination {self.dest}: {e.strerror}") from None
        sel = _Selection(paths)
        self.stats.total_bytes = point.data_size
        root = _Dir(root_fd, None)
        self._open.append(root)
        jobs = self.walk(bytes.fromhex(point.root), root, [], sel)
        results = self.pool.map_ordered(self._fetch_safe, self._items(jobs))
        try:
            for (job, i), data in results:
                self.cancel.check()
                if job.failed:
                    continue
                if isinstance(data, Exception):
                    self._abandon(job, str(data))
                    continue
                try:
                    if i <= 0:
                        self._start(job)
                    if data:
                        os.write(job.fd, data)
                        job.written += len(data)
                        self.stats.bytes += len(data)
                    if i < 0 or i == len(job.blobs) - 1:
                        if job.written != job.node.size:
                            self._abandon(job, f"size mismatch ({job.written} of {job.node.size} bytes)")
                        else:
                            self._finish(job)
                except OSError as e:
                    self._abandon(job, e.strerror or str(e))
                    if e.errno == 28:   # ENOSPC: nothing more will fit
                        raise ConsoleError(f"restore stopped: the destination disk is full ({self.dest})") from None
                self._progress()
        finally:
            results.close()
            for d in self._open:       # left open only when the restore stopped early
                os.close(d.fd)
            self._open.clear()
        if sel.paths is not None and not (self.stats.files or self.stats.dirs or self.stats.links
                                          or self.stats.skipped or self.stats.errors):
            raise UsageError("none of the given paths exist in this restore point")
        self.stats.duration = time.monotonic() - t0
        self._progress(force=True)
        return self.stats

    def _fetch_safe(self, item: tuple[_FileJob, int]) -> bytes | Exception:
        try:
            return self._fetch(item)
        except ConsoleError as e:
            return e

    def _progress(self, force: bool = False) -> None:
        if force or self._throttle.ready():
            self.events.progress(Progress(phase="restore", bytes_done=self.stats.bytes,
                                          bytes_total=self.stats.total_bytes, files_done=self.stats.files,
                                          read=self.stats.bytes, transferred=self.stats.bytes,
                                          elapsed=time.monotonic() - self._t0))


def restore_point(repo: Repository, point: PointDoc, dest: str, paths: list[str] | None = None,
                  overwrite: str = "never", events: Events | None = None,
                  cancel: CancelToken | None = None) -> RestoreStats:
    with BoundedPool() as pool:
        return Restorer(repo, dest, overwrite, events or Events(), cancel or CancelToken(), pool).run(point, paths)
