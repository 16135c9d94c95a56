"""Garbage collection: drop packs no restore point references, repack packs that are mostly garbage.

Crash-safe order: new packs -> one consolidated index -> delete old index files -> delete old packs.
A crash in between leaves duplicates (harmless) or unindexed packs (re-indexed or removed next time).
The caller holds the repository's exclusive lock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import blake3

from console.core.engine.events import CancelToken, Events
from console.core.engine.references import mark_point
from console.core.errors import ConsoleError, RepositoryError
from console.core.repository.packfile import BlobLocation, decode_index, pack_name
from console.core.repository.repo import PackWriter, Repository
from console.core.units import plural

log = logging.getLogger(__name__)


@dataclass
class GcStats:
    packs_deleted: int = 0
    packs_repacked: int = 0
    bytes_freed: int = 0
    blobs_kept: int = 0
    duration: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def collect_garbage(repo: Repository, events: Events | None = None, cancel: CancelToken | None = None,
                    repack_below: float = 0.5) -> GcStats:
    events = events or Events()
    cancel = cancel or CancelToken()
    t0 = time.monotonic()
    stats = GcStats()
    repo.recover_unindexed_packs()

    # mark: refuse to sweep when anything that might reference data cannot be read
    used: set[bytes] = set()
    visited: set[bytes] = set()
    problems: list[str] = []
    for name, doc in repo.iter_points():
        if isinstance(doc, Exception):
            problems.append(f"{name}: {doc}")
            continue
        mark_point(repo, bytes.fromhex(doc.root), used, visited,
                   lambda tid, e: problems.append(f"tree {tid.hex()[:16]}: {e}"), cancel)
    if problems:
        raise RepositoryError("garbage collection skipped: some restore points cannot be read, so nothing is "
                              f"deleted (run `repo check`): {problems[0]}")

    # every location from every index file (a blob may sit in two packs after a crash)
    old_index_files = list(repo.storage.list("index"))
    by_pack: dict[bytes, list[tuple[bytes, BlobLocation]]] = {}
    for name in old_index_files:
        stored = repo.storage.read(name)
        if blake3.blake3(stored).hexdigest() != name.rsplit("/", 1)[-1]:
            raise RepositoryError(f"garbage collection skipped: index file {name} is damaged (run `repo check`)")
        for bid, loc in decode_index(repo.open_doc(stored, b"index")):
            by_pack.setdefault(loc.pack, []).append((bid, loc))
    chosen: dict[bytes, BlobLocation] = {}
    for entries in by_pack.values():
        for bid, loc in entries:
            if bid in used:
                chosen.setdefault(bid, loc)

    unindexed = used - chosen.keys()
    if unindexed:   # something referenced is not where the index says: deleting anything could lose it
        are = "is" if len(unindexed) == 1 else "are"
        raise RepositoryError(f"garbage collection skipped: {plural(len(unindexed), 'referenced block')} {are} not "
                              "in the index, so nothing is deleted (run `repo check`)")
    keep: dict[bytes, list[tuple[bytes, BlobLocation]]] = {}
    drop: list[bytes] = []
    repack: list[tuple[bytes, BlobLocation]] = []
    for pid, entries in by_pack.items():
        live = [(b, loc) for b, loc in entries if chosen.get(b) == loc]
        total = sum(loc.length for _, loc in entries)
        live_bytes = sum(loc.length for _, loc in live)
        if not live:
            drop.append(pid)
        elif live_bytes < total * repack_below:
            repack.extend(live)
            drop.append(pid)
            stats.packs_repacked += 1
        else:
            keep[pid] = live
    if not drop:
        stats.blobs_kept = len(chosen)
        stats.duration = time.monotonic() - t0
        _tidy(repo)
        return stats

    writer = PackWriter(repo)
    try:
        for bid, loc in repack:
            cancel.check()
            data = repo.storage.read_range(pack_name(loc.pack), loc.offset, loc.length)
            writer.add(bid, loc.type, data, loc.raw_length)   # stored bytes move as they are: no re-encoding
        keep.update(writer.flush())
    except BaseException:
        writer.abort()
        raise
    new_index = repo.write_index(keep)
    for name in old_index_files:
        if name != new_index:
            repo.storage.delete(name)
    for pid in drop:
        name = pack_name(pid)
        try:
            stats.bytes_freed += repo.storage.size(name)
        except ConsoleError:
            pass
        repo.storage.delete(name)
        stats.packs_deleted += 1
    repo.load_index()
    stats.blobs_kept = len(repo.index)
    _tidy(repo)
    stats.duration = time.monotonic() - t0
    events.log("info", f"GC removed {plural(stats.packs_deleted, 'pack')} ({stats.packs_repacked} repacked), "
                       f"freed {stats.bytes_freed} bytes")
    return stats


def _tidy(repo: Repository) -> None:
    """Remove temporary files of crashed sessions (safe: the exclusive lock keeps writers out)."""
    for name in repo.storage.list("tmp"):
        repo.storage.delete(name)
    repo.storage.remove_empty_dirs("data")
    repo.storage.remove_empty_dirs("backups")
