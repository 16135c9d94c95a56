"""Shared helpers for the real-file repository tests (tests/core/test_roundtrip, test_hostile, test_check_gc,
test_crash, test_locks). No mocks: every helper drives the real storage, repository and engine code."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from console.core.engine.backup import BackupStats, backup_object
from console.core.engine.events import CancelToken, Events
from console.core.engine.pipeline import BoundedPool
from console.core.repository import codec
from console.core.repository.manifest import PointDoc
from console.core.repository.packfile import DATA, TREE
from console.core.repository.repo import PackWriter, Repository
from console.core.storage.local import LocalStorage

BACKUP_ID = "0123456789abcdef"
OTHER_BACKUP_ID = "fedcba9876543210"
KIB, MIB = 1 << 10, 1 << 20
BLOCK = 256 * KIB
PASSWORD = "correct horse battery staple"


@dataclass
class RecordingEvents(Events):
    """Keeps every log line the engine emits, so tests can assert on warnings and errors."""

    logs: list[tuple[str, str]] = field(default_factory=list)

    def log(self, level: str, message: str, object: str | None = None) -> None:
        self.logs.append((level, message))

    def messages(self, level: str) -> list[str]:
        return [m for lv, m in self.logs if lv == level]


def new_repo(path: Path, password: str | None = None, block_size: int = BLOCK, compression: int = 3) -> Repository:
    """Create a repository in `path` (created here) and return it opened the way the console opens it."""
    path.mkdir(parents=True, exist_ok=True)
    storage = LocalStorage(path)
    Repository.init(storage, password, block_size=block_size, compression=compression)
    return open_repo(path, password)


def open_repo(path: Path, password: str | None = None) -> Repository:
    return Repository.open(LocalStorage(path), (lambda: password) if password is not None else None)


def backup(repo: Repository, src: Path | str, previous: PointDoc | None = None, backup_id: str = BACKUP_ID,
           events: Events | None = None, target_size: int | None = None,
           active_full: bool = False) -> tuple[PointDoc, BackupStats]:
    with BoundedPool() as pool:
        writer = PackWriter(repo, target_size=target_size)
        return backup_object(repo, writer, pool, str(src), backup_id, "job", previous, events or Events(),
                             CancelToken(), active_full=active_full)


def write_file(path: Path, data: bytes, mode: int | None = None, mtime_ns: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mode is not None:
        os.chmod(path, mode)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def random_bytes(n: int, seed: int) -> bytes:
    """Incompressible, reproducible bytes (a keyed BLAKE3 stream would do too; os.urandom is not reproducible)."""
    import blake3

    return blake3.blake3(seed.to_bytes(8, "little")).digest(length=n)


def snapshot(root: Path | str, with_dir_mtimes: bool = True) -> dict[bytes, tuple]:
    """Everything a restore must reproduce, keyed by the path relative to `root` as bytes (non-UTF-8 safe).

    file    -> ("file", mode, mtime_ns, content)
    dir     -> ("dir", mode, mtime_ns)      (mtime only when with_dir_mtimes)
    symlink -> ("symlink", target)          (link mode is meaningless on Linux; mtime is compared for files/dirs)
    The root itself is not part of the snapshot: a point does not record the source folder's own metadata.
    """
    root_b = os.fsencode(os.fspath(root))
    out: dict[bytes, tuple] = {}

    def walk(rel: bytes) -> None:
        full = os.path.join(root_b, rel) if rel else root_b
        for entry in sorted(os.scandir(full), key=lambda e: e.name):
            child = os.path.join(rel, entry.name) if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                out[child] = ("symlink", os.readlink(entry.path))
            elif stat.S_ISDIR(st.st_mode):
                walk(child)
                out[child] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns if with_dir_mtimes else None)
            elif stat.S_ISREG(st.st_mode):
                with open(entry.path, "rb") as f:
                    out[child] = ("file", stat.S_IMODE(st.st_mode), st.st_mtime_ns, f.read())
            else:
                out[child] = ("special", stat.S_IFMT(st.st_mode))

    walk(b"")
    return out


def all_files(root: Path) -> set[str]:
    """Every path (files, links, dirs) below root, relative, for 'nothing new appeared here' assertions."""
    out = set()
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def repo_files(repo_dir: Path, prefix: str) -> list[Path]:
    base = repo_dir / prefix
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def pack_paths(repo_dir: Path) -> list[Path]:
    return repo_files(repo_dir, "data")


# -- hand-crafted (possibly hostile) repository content ------------------------------------------------------


def store_blobs(repo: Repository, blobs: list[tuple[bytes, int, bytes, int]], target_size: int | None = None) -> str:
    """Append already *stored* blobs (bid, type, stored bytes, raw_length) to packs and write their index."""
    writer = PackWriter(repo, target_size=target_size)
    for bid, typ, stored, raw in blobs:
        writer.add(bid, typ, stored, raw)
    name = repo.write_index(writer.flush())
    assert name is not None
    return name


def store_tree_bytes(repo: Repository, data: bytes, bid: bytes | None = None) -> bytes:
    """Store `data` as a TREE blob (its id is its hash unless `bid` forces another one) and index it."""
    bid = bid if bid is not None else codec.blob_id(data)
    store_blobs(repo, [(bid, TREE, repo.encode_blob(bid, data), len(data))])
    return bid


def store_data(repo: Repository, data: bytes) -> bytes:
    bid = codec.blob_id(data)
    store_blobs(repo, [(bid, DATA, repo.encode_blob(bid, data), len(data))])
    return bid


def tree_json(entries: list[dict]) -> bytes:
    """Tree bytes in the on-disk layout, WITHOUT Node validation (names are whatever the test wants)."""
    return json.dumps({"v": 1, "nodes": entries}, separators=(",", ":"), sort_keys=True).encode()


def file_entry(name: str, blobs: list[bytes], size: int, mode: int = 0o644, mtime: int = 1_600_000_000 * 10**9) -> dict:
    return {"name": name, "type": "file", "mode": mode, "mtime": mtime, "uid": 0, "gid": 0, "size": size,
            "inode": 1, "blobs": [b.hex() for b in blobs]}


def dir_entry(name: str, tree: bytes, mode: int = 0o755, mtime: int = 1_600_000_000 * 10**9) -> dict:
    return {"name": name, "type": "dir", "mode": mode, "mtime": mtime, "uid": 0, "gid": 0, "tree": tree.hex()}


def link_entry(name: str, target: str) -> dict:
    return {"name": name, "type": "symlink", "mode": 0o777, "mtime": 1_600_000_000 * 10**9, "uid": 0, "gid": 0,
            "target": target}


def write_point_for(repo: Repository, root: bytes, backup_id: str = BACKUP_ID, obj: str = "/hostile",
                    data_size: int = 0) -> PointDoc:
    doc = PointDoc(id=repo.new_id(), backup=backup_id, object=obj,
                   created=datetime.now(UTC).isoformat(timespec="microseconds"), type="full", root=root.hex(),
                   data_size=data_size)
    repo.write_point(doc)
    return doc
