"""Backup of one source folder (one protected object) into one restore point.

Pipeline: this thread walks the folder, reads blocks and hashes them (BLAKE3 is cheap), drops blocks the
repository already has, and hands new ones to the pool, which compresses, encrypts and appends them to packs.
Unchanged files (same size, mtime and inode as in the previous point) re-use their block lists unread.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from console.core.engine.events import CancelToken, Events, Progress, Throttle
from console.core.engine.pipeline import BoundedPool, BusyClock
from console.core.errors import UsageError
from console.core.repository import codec
from console.core.repository.manifest import PointDoc
from console.core.repository.packfile import DATA, TREE
from console.core.repository.repo import PackWriter, Repository
from console.core.repository.tree import DIR, FILE, SYMLINK, Node, encode_tree

log = logging.getLogger(__name__)


@dataclass
class BackupStats:
    processed: int = 0          # bytes of all files in the point
    read: int = 0               # bytes read from the source
    new_raw: int = 0            # plaintext bytes of blocks new to the repository
    stored: int = 0             # bytes written to packs (compressed, encrypted)
    files: int = 0
    dirs: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    warnings: int = 0
    duration: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


class _Estimator(threading.Thread):
    """Counts the source's size alongside the backup so progress can show a total and an ETA."""

    def __init__(self, root: str) -> None:
        super().__init__(name="estimate", daemon=True)
        self.root, self.bytes, self.files, self.done = root, 0, 0, False
        self.stop = False

    def run(self) -> None:
        for dirpath, _dirs, files in os.walk(self.root):
            if self.stop:
                return
            for f in files:
                try:
                    st = os.lstat(os.path.join(dirpath, f))
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    self.bytes += st.st_size
                    self.files += 1
        self.done = True


class BackupRun:
    def __init__(self, repo: Repository, writer: PackWriter, pool: BoundedPool, events: Events,
                 cancel: CancelToken, object_name: str, active_full: bool = False) -> None:
        self.repo, self.writer, self.pool = repo, writer, pool
        self.events, self.cancel = events, cancel
        self.object = object_name
        self.active_full = active_full
        self.block = repo.config.block_size
        self.stats = BackupStats()
        self.pending: set[bytes] = set()
        self.clock = BusyClock()
        self._throttle = Throttle()
        self._t0 = time.monotonic()
        self.estimator: _Estimator | None = None

    # -- storing blobs --------------------------------------------------------------------------------
    def _encode_and_store(self, bid: bytes, typ: int, data: bytes) -> None:
        with self.clock.timed("transform"):
            stored = self.repo.encode_blob(bid, data)
        with self.clock.timed("target"):
            self.writer.add(bid, typ, stored, len(data))

    def _store(self, bid: bytes, typ: int, data: bytes) -> bool:
        """Queue a blob unless the repository (or this run) has it already; True when it is new."""
        if bid in self.pending or self.repo.has_blob(bid):
            return False
        self.pending.add(bid)
        self.stats.new_raw += len(data)
        self.pool.submit(self._encode_and_store, bid, typ, data)
        return True

    # -- walking ----------------------------------------------------------------------------------------
    def warn(self, message: str) -> None:
        self.stats.warnings += 1
        self.events.log("warning", message, self.object)

    def _progress(self, force: bool = False) -> None:
        if not (force or self._throttle.ready()):
            return
        est = self.estimator
        elapsed = time.monotonic() - self._t0
        self.events.progress(Progress(
            phase="backup", object=self.object, bytes_done=self.stats.processed,
            bytes_total=est.bytes if est and est.done else 0, files_done=self.stats.files,
            files_total=est.files if est and est.done else 0, read=self.stats.read,
            transferred=self.writer.bytes_written, elapsed=elapsed,
            busy=self.clock.shares(elapsed, {"transform": self.pool.workers, "target": self.pool.workers})))

    def _read_file(self, path: str, st: os.stat_result) -> tuple[list[bytes], int] | None:
        blobs: list[bytes] = []
        size = 0
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as e:
            self.warn(f"cannot read {path}: {e.strerror} — skipped")
            return None
        try:
            while True:
                self.cancel.check()
                with self.clock.timed("source"):
                    data = os.read(fd, self.block)
                    if len(data) < self.block and data:
                        # os.read may return short reads on some file systems; fill the block
                        while len(data) < self.block:
                            more = os.read(fd, self.block - len(data))
                            if not more:
                                break
                            data += more
                if not data:
                    break
                bid = codec.blob_id(data)
                blobs.append(bid)
                size += len(data)
                self.stats.read += len(data)
                self.stats.processed += len(data)
                self._store(bid, DATA, data)
                self._progress()
        except OSError as e:
            self.warn(f"error reading {path}: {e.strerror} — skipped")
            return None
        finally:
            os.close(fd)
        if size != st.st_size:
            self.warn(f"{path} changed while it was read ({st.st_size} → {size} bytes); the point holds what was read")
        return blobs, size

    def walk(self, path: str, prev: list[Node] | None) -> bytes | None:
        """Back up a directory; returns its tree id (None if it could not be read)."""
        self.cancel.check()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            self.warn(f"cannot list {path}: {e.strerror} — skipped")
            return None
        prev_by_name = {n.name: n for n in prev} if prev else {}
        nodes: list[Node] = []
        for entry in entries:
            child = entry.path
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as e:
                self.warn(f"cannot read {child}: {e.strerror} — skipped")
                continue
            node = Node(name=entry.name, type=FILE, mode=stat.S_IMODE(st.st_mode), mtime=st.st_mtime_ns,
                        uid=st.st_uid, gid=st.st_gid)
            old = prev_by_name.get(entry.name)
            if stat.S_ISDIR(st.st_mode):
                node.type = DIR
                sub_prev = None
                if old is not None and old.type == DIR and old.tree:
                    sub_prev = self._load_prev(old.tree)
                tid = self.walk(child, sub_prev)
                if tid is None:
                    continue
                node.tree = tid
                self.stats.dirs += 1
            elif stat.S_ISLNK(st.st_mode):
                node.type = SYMLINK
                try:
                    node.target = os.readlink(child)
                except OSError as e:
                    self.warn(f"cannot read link {child}: {e.strerror} — skipped")
                    continue
            elif stat.S_ISREG(st.st_mode):
                node.size, node.inode = st.st_size, st.st_ino
                if (not self.active_full and old is not None and old.type == FILE and old.size == st.st_size
                        and old.mtime == st.st_mtime_ns and old.inode == st.st_ino
                        and all(self.repo.has_blob(b) for b in old.blobs)):
                    node.blobs = old.blobs
                    self.stats.files_unchanged += 1
                    self.stats.processed += st.st_size
                else:
                    result = self._read_file(child, st)
                    if result is None:
                        continue
                    node.blobs, node.size = result
                    if old is None:
                        self.stats.files_new += 1
                    else:
                        self.stats.files_changed += 1
                self.stats.files += 1
                self._progress()
            else:
                self.events.log("info", f"{child}: special file (device, socket or pipe) not backed up", self.object)
                continue
            nodes.append(node)
        data = encode_tree(nodes)
        tid = codec.blob_id(data)
        self._store(tid, TREE, data)
        return tid

    def _load_prev(self, tid: bytes) -> list[Node] | None:
        try:
            return self.repo.load_tree(tid)
        except Exception as e:  # a damaged previous point only costs re-reading, never the backup
            log.warning("previous tree %s unreadable (%s); reading files again", tid.hex()[:16], e)
            return None


def backup_object(repo: Repository, writer: PackWriter, pool: BoundedPool, source: str, backup_id: str,
                  job: str, previous: PointDoc | None, events: Events, cancel: CancelToken,
                  active_full: bool = False) -> tuple[PointDoc, BackupStats]:
    """Back up `source` and write its point manifest (after its packs and index). Returns (point, stats)."""
    if not os.path.isdir(source):
        if os.path.exists(source):
            raise UsageError(f"source {source} is not a folder")
        raise UsageError(f"source folder {source} does not exist (was it moved or unmounted?)")
    run = BackupRun(repo, writer, pool, events, cancel, source, active_full)
    run.estimator = _Estimator(source)
    run.estimator.start()
    t0 = time.monotonic()
    stored0 = writer.bytes_written
    prev_root = None
    if previous is not None and not active_full:
        prev_root = run._load_prev(bytes.fromhex(previous.root))
    try:
        root = run.walk(source, prev_root)
        if root is None:
            raise UsageError(f"source folder {source} cannot be read")
        pool.join()
        packs = writer.flush()
        repo.write_index(packs)
    except BaseException:
        run.estimator.stop = True
        raise
    run._progress(force=True)
    run.stats.stored = writer.bytes_written - stored0
    run.stats.duration = time.monotonic() - t0
    kind = "increment" if previous is not None and not active_full else "full"
    point = PointDoc(id=repo.new_id(), backup=backup_id, object=source, job=job,
                     created=datetime.now(UTC).isoformat(timespec="microseconds"), type=kind,
                     root=root.hex(), data_size=run.stats.processed, stored_size=run.stats.stored,
                     files=run.stats.files, dirs=run.stats.dirs, stats=run.stats.as_dict())
    repo.write_point(point)
    return point, run.stats

