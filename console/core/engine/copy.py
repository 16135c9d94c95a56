"""The copy engine: copy restore points from one repository to another, sending only blobs the target lacks.

Per point: walk the source trees (a subtree whose tree blob the target already has is skipped whole: the target
got it together with everything below it), collect missing data blobs in batches, read them grouped by pack
(coalesced ranges), verify each one (decrypt, decompress, re-hash), re-seal for the target when keys or
compression differ, and append to target packs. Trees follow their children (post-order), then the index, then the
manifest last: a killed copy leaves no half point, and `recover_unindexed_packs` lets the re-run re-use every
finished pack.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import blake3

from console.core.engine.events import CancelToken, Events, Progress, Throttle
from console.core.engine.pipeline import BoundedPool, BusyClock
from console.core.errors import CancelledError, CorruptDataError
from console.core.repository import codec
from console.core.repository.manifest import PointDoc
from console.core.repository.packfile import TREE, BlobLocation, pack_name
from console.core.repository.repo import MAX_BLOCK, MAX_TREE, PackWriter, Repository
from console.core.repository.tree import DIR, FILE

log = logging.getLogger(__name__)
BATCH = 2048                 # data blobs collected before a batch is read (bounds memory, keeps locality)
MAX_RANGE = 4 << 20          # one source read covers neighbouring blobs up to this many bytes
MAX_GAP = 256 << 10          # blobs closer than this in a pack are read together


def copy_point_id(target_backup: str, source_point: str) -> str:
    """Deterministic: copying the same point again (after a crash or a repair) rewrites the same manifest."""
    return blake3.blake3(f"{target_backup}:{source_point}".encode()).hexdigest()[:16]


@dataclass
class CopyStats:
    points: int = 0
    blobs: int = 0               # blobs referenced by the copied points that had to be looked at
    blobs_sent: int = 0
    processed: int = 0           # source bytes the copied points represent
    read: int = 0                # stored bytes read from the source
    transferred: int = 0         # bytes written to the target (blobs, pack trailers, index, manifests)
    repaired: int = 0            # blobs re-sent to replace damaged copies
    duration: float = 0.0
    busy: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"points": self.points, "blobs": self.blobs, "blobs_sent": self.blobs_sent,
                "processed": self.processed, "read": self.read, "transferred": self.transferred,
                "repaired": self.repaired, "duration": round(self.duration, 3), "busy": self.busy}


class Copier:
    """Copies points from `src` to `dst` within one session; shares one pool and one pack writer."""

    def __init__(self, src: Repository, dst: Repository, events: Events | None = None,
                 cancel: CancelToken | None = None, total_bytes: int = 0) -> None:
        self.src, self.dst = src, dst
        self.events = events or Events()
        self.cancel = cancel or CancelToken()
        self.clock = BusyClock()
        self.pool = BoundedPool(limit=None)
        self.writer = PackWriter(dst, busy=self.clock)
        self.stats = CopyStats()
        self.total_bytes = total_bytes
        self._sent: set[bytes] = set()          # blobs queued this session (not yet in the target index)
        self._throttle = Throttle()
        self._t0 = time.monotonic()
        self._object = ""
        self._force: set[bytes] = set()          # blobs to send even though the target index names them
        self._stats_lock = threading.Lock()
        # packs this session wrote; a repair that re-sends a damaged pack's exact content rebuilds the same pack
        self.written_packs: set[bytes] = set()
        self._point_raw = 0                      # plaintext bytes sent for the point being copied (progress)
        self._point_size = 0
        # stored bytes move unchanged when both sides would produce the same bytes (no keys, same compression)
        self._passthrough = (not src.encrypted and not dst.encrypted
                             and src.config.compression == dst.config.compression)
        self._same_compression = src.config.compression == dst.config.compression

    # -- public ------------------------------------------------------------------------------------------
    def copy_point(self, doc: PointDoc, target_backup: str, job: str) -> PointDoc:
        """Copy one point; returns the manifest written in the target (the commit)."""
        self._object = doc.object
        self._point_raw, self._point_size = 0, doc.data_size
        before = self.stats.transferred
        try:
            self._copy_tree(bytes.fromhex(doc.root))
            self._commit_packs()
        except CancelledError:
            self._save_progress()
            raise
        copy = self.write_manifest(doc, target_backup, job, self.stats.transferred - before)
        self.stats.points += 1
        self.stats.processed += doc.data_size
        self._point_raw = self._point_size = 0
        self._progress(force=True)
        return copy

    def write_manifest(self, doc: PointDoc, target_backup: str, job: str, stored_size: int = 0) -> PointDoc:
        """The copy's manifest: same creation time, type, root and sizes; records the point it came from."""
        copy = PointDoc(id=copy_point_id(target_backup, doc.id), backup=target_backup, object=doc.object,
                        created=doc.created, type=doc.type, root=doc.root, data_size=doc.data_size,
                        stored_size=stored_size, files=doc.files, dirs=doc.dirs, job=job, source_point=doc.id,
                        stats={"copied_from": self.src.id})
        stored = self.dst.seal_doc(copy.to_bytes(), b"manifest")
        self.dst.storage.write(self.dst.point_name(copy), stored)
        self.stats.transferred += len(stored)
        return copy

    def repair(self, doc: PointDoc) -> dict[bytes, BlobLocation | None]:
        """Re-send every blob of `doc` whose copy in the target is missing or fails verification.

        Returns {blob: its damaged target location (None if it had none)}; the caller drops those locations from
        the target index (`engine.repair.drop_locations`) so the fresh copies are the ones used."""
        used: set[bytes] = set()
        stack = [bytes.fromhex(doc.root)]
        while stack:
            tid = stack.pop()
            if tid in used:
                continue
            used.add(tid)
            self.cancel.check()
            for n in self.src.load_tree(tid):
                if n.type == FILE:
                    used.update(n.blobs)
                elif n.type == DIR and n.tree is not None:
                    stack.append(n.tree)
        bad: dict[bytes, BlobLocation | None] = {}
        for bid in used:
            self.cancel.check()
            if bid not in self._sent and not self._target_blob_ok(bid):
                bad[bid] = self.dst.index.get(bid)
        if bad:
            self._force = set(bad)
            self._sent.update(bad)
            self._send([b for b in bad if self.src.location(b).type != TREE])
            self.pool.join()
            self._send([b for b in bad if self.src.location(b).type == TREE])
            self._commit_packs()
            self._force = set()
            self.stats.repaired += len(bad)
        return bad

    def finish(self) -> CopyStats:
        self.pool.join()
        self._commit_packs()
        self.pool.shutdown()
        return self.elapsed_stats()

    def elapsed_stats(self) -> CopyStats:
        self.stats.duration = time.monotonic() - self._t0
        self.stats.busy = self.clock.shares(self.stats.duration, {"source": self.pool.workers,
                                                                   "transform": self.pool.workers})
        return self.stats

    def close(self) -> None:
        self.writer.abort()
        self.pool.shutdown()

    # -- walking -----------------------------------------------------------------------------------------
    def _have(self, bid: bytes) -> bool:
        return (bid in self._sent or self.dst.has_blob(bid)) and bid not in self._force

    def _copy_tree(self, root: bytes) -> None:
        """Post-order: data blobs of a folder before its tree, subtrees before their parent."""
        pending: list[bytes] = []
        trees_after: list[bytes] = []
        seen: set[bytes] = set()
        stack: list[tuple[bytes, bool]] = [(root, False)]
        while stack:
            tid, expanded = stack.pop()
            if expanded:
                trees_after.append(tid)
                continue
            if tid in seen or self._have(tid):
                continue
            seen.add(tid)
            self.cancel.check()
            stack.append((tid, True))
            for n in self.src.load_tree(tid):
                if n.type == FILE:
                    for b in n.blobs:
                        self.stats.blobs += 1
                        if not self._have(b):
                            self._sent.add(b)
                            pending.append(b)
                elif n.type == DIR and n.tree is not None:
                    stack.append((n.tree, False))
            if len(pending) >= BATCH:
                self._send(pending)
                pending = []
        self._send(pending)
        # a tree goes out only after all data blobs: its presence in the target then means "complete below"
        self.pool.join()
        fresh = [t for t in trees_after if not self._have(t)]
        self._sent.update(fresh)
        self._send(fresh)
        self.pool.join()

    # -- moving blobs ------------------------------------------------------------------------------------
    def _send(self, blobs: list[bytes]) -> None:
        """Read `blobs` from the source in coalesced ranges per pack and hand them to the pool."""
        if not blobs:
            return
        located = sorted(((self.src.location(b), b) for b in blobs), key=lambda x: (x[0].pack, x[0].offset))
        group: list[tuple[BlobLocation, bytes]] = []
        for loc, bid in located:
            if group:
                first, last = group[0][0], group[-1][0]
                if (loc.pack != first.pack or loc.offset - (last.offset + last.length) > MAX_GAP
                        or loc.offset + loc.length - first.offset > MAX_RANGE):
                    self.pool.submit(self._move_group, group)
                    self._progress()            # from this (the session's) thread only: events may hit the catalog
                    group = []
            group.append((loc, bid))
        if group:
            self.pool.submit(self._move_group, group)

    def _move_group(self, group: list[tuple[BlobLocation, bytes]]) -> None:
        self.cancel.check()
        first, last = group[0][0], group[-1][0]
        start, end = first.offset, last.offset + last.length
        with self.clock.timed("source"):
            data = self.src.storage.read_range(pack_name(first.pack), start, end - start)
        if len(data) != end - start:
            raise CorruptDataError(f"source pack {first.pack.hex()[:16]} is truncated")
        view = memoryview(data)
        for loc, bid in group:
            stored = bytes(view[loc.offset - start:loc.offset - start + loc.length])
            with self.clock.timed("transform"):
                out = self._transform(bid, loc, stored)
            self.writer.add(bid, loc.type, out, loc.raw_length)
            with self._stats_lock:
                self.stats.read += loc.length
                self.stats.blobs_sent += 1
                self._point_raw += loc.raw_length

    def _transform(self, bid: bytes, loc: BlobLocation, stored: bytes) -> bytes:
        """Verify the source blob, then produce the target's stored form."""
        limit = MAX_TREE if loc.type == TREE else MAX_BLOCK
        if loc.raw_length > limit:
            raise CorruptDataError(f"source block {bid.hex()[:16]} claims an impossible size")
        inner = self.src.cipher.open(stored, bid)
        plain = codec.unpack_payload(inner, loc.raw_length)
        if len(plain) != loc.raw_length or codec.blob_id(plain) != bid:
            raise CorruptDataError(f"source block {bid.hex()[:16]} failed verification (content does not match "
                                   "its id); run `repo check --read-data` on the source repository")
        if self._passthrough:
            return stored
        if self._same_compression:
            return self.dst.cipher.seal(inner, bid)      # re-key only: no recompression
        return self.dst.encode_blob(bid, plain)

    def _target_blob_ok(self, bid: bytes) -> bool:
        try:
            self.dst.read_blob(bid)
            return True
        except Exception as e:  # damaged, truncated or missing: all mean "send it again"
            log.info("target block %s needs repair: %s", bid.hex()[:16], e)
            return False

    # -- committing --------------------------------------------------------------------------------------
    def _commit_packs(self, join: bool = True) -> None:
        if join:
            self.pool.join()
        packs = self.writer.flush()
        self.written_packs.update(packs)
        if packs:
            self.stats.transferred += sum(self.writer.sizes.pop(p, 0) for p in packs)
            name = self.dst.write_index(packs)
            if name:
                self.stats.transferred += self.dst.storage.size(name)

    def _save_progress(self) -> None:
        """A stop (user or copy window): keep and index everything already sent, so the next run re-uses it."""
        try:
            self.pool.join()
        except CancelledError:
            pass
        except Exception as e:
            log.warning("stopping copy: %s", e)
        try:
            self._commit_packs(join=False)
        except Exception as e:
            log.warning("could not index the packs sent before the stop (the next run re-indexes them): %s", e)
            self.writer.abort()

    def _progress(self, force: bool = False) -> None:
        if not (force or self._throttle.ready()):
            return
        elapsed = time.monotonic() - self._t0
        self.events.progress(Progress(
            phase="copy", object=self._object,
            bytes_done=self.stats.processed + min(self._point_raw, self._point_size), bytes_total=self.total_bytes,
            files_done=self.stats.points, read=self.stats.read,
            transferred=self.stats.transferred + self.writer.pending_bytes(), elapsed=elapsed,
            busy=self.clock.shares(elapsed, {"source": self.pool.workers, "transform": self.pool.workers})))



__all__ = ["CopyStats", "Copier", "copy_point_id"]
