"""Repository health check: structure (every referenced blob is indexed and its pack exists) and, with
read_data, a full read that decrypts, decompresses and re-hashes every blob of every (or a sample of) pack."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field

import blake3

from console.core.engine.events import CancelToken, Events, Progress, Throttle
from console.core.engine.references import point_blobs
from console.core.errors import ConsoleError, CorruptDataError
from console.core.repository.manifest import PointDoc
from console.core.repository.packfile import TREE, BlobLocation, decode_index, pack_id_from_name, pack_name
from console.core.repository.repo import MAX_BLOCK, MAX_TREE, Repository
from console.core.units import plural

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    errors: list[str] = field(default_factory=list)
    points: dict[str, PointDoc] = field(default_factory=dict)        # readable points by id
    corrupted: dict[str, str] = field(default_factory=dict)          # point id -> first reason
    damaged_manifests: list[str] = field(default_factory=list)       # manifest files that cannot be read
    bad_blobs: set[bytes] = field(default_factory=set)
    packs_total: int = 0
    packs_read: int = 0
    bytes_read: int = 0
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


def _sample(pack_ids: list[bytes], percent: float) -> list[bytes]:
    """A deterministic-by-day sample so successive checks cover different packs."""
    if percent >= 100:
        return pack_ids
    salt = time.strftime("%Y%m%d").encode()
    ranked = sorted(pack_ids, key=lambda p: hashlib.sha256(salt + p).digest())
    return ranked[:max(1, round(len(ranked) * percent / 100))] if ranked else []


def check_repository(repo: Repository, read_data: bool = False, subset: float = 100.0,
                     events: Events | None = None, cancel: CancelToken | None = None) -> CheckResult:
    events = events or Events()
    cancel = cancel or CancelToken()
    res = CheckResult()
    t0 = time.monotonic()
    throttle = Throttle()

    # 1. index files: each must decode; collect every location (duplicates included)
    by_pack: dict[bytes, list[tuple[bytes, BlobLocation]]] = {}
    index: dict[bytes, BlobLocation] = {}
    for name in repo.storage.list("index"):
        try:
            stored = repo.storage.read(name)
            if blake3.blake3(stored).hexdigest() != name.rsplit("/", 1)[-1]:
                raise ConsoleError("its content does not match its checksum")
            entries = decode_index(repo.open_doc(stored, b"index"))
        except ConsoleError as e:
            res.errors.append(f"index file {name} is damaged: {e}")
            continue
        for bid, loc in entries:
            by_pack.setdefault(loc.pack, []).append((bid, loc))
            index.setdefault(bid, loc)
    repo.index = index

    # 2. packs: present, large enough; unindexed ones reported
    present: dict[bytes, str] = {}
    for name in repo.storage.list("data"):
        pid = pack_id_from_name(name)
        if pid is None:
            res.errors.append(f"unexpected file {name} in data/")
        else:
            present[pid] = name
    res.packs_total = len(by_pack)
    for pid, entries in by_pack.items():
        if pid not in present:
            res.errors.append(f"pack {pid.hex()[:16]} is missing ({len(entries)} blocks lost)")
            res.bad_blobs.update(b for b, _ in entries)
            continue
        size = repo.storage.size(present[pid])
        end = max(loc.offset + loc.length for _, loc in entries)
        if end > size:
            res.errors.append(f"pack {pid.hex()[:16]} is truncated ({size} bytes, index needs {end})")
            res.bad_blobs.update(b for b, loc in entries if loc.offset + loc.length > size)
    for pid in set(present) - set(by_pack):
        events.log("info", f"pack {pid.hex()[:16]} is not indexed (left by an interrupted session; GC re-uses "
                           "or removes it)")

    # 3. read data: the pack hash is its name; on mismatch find the damaged blobs one by one
    if read_data:
        chosen = [p for p in _sample(sorted(by_pack), subset) if p in present]
        for n, pid in enumerate(chosen, 1):
            cancel.check()
            name = pack_name(pid)
            try:
                data = repo.storage.read(name)
            except ConsoleError as e:
                res.errors.append(f"pack {pid.hex()[:16]} cannot be read: {e}")
                res.bad_blobs.update(b for b, _ in by_pack[pid])
                continue
            res.packs_read += 1
            res.bytes_read += len(data)
            whole_ok = blake3.blake3(data).digest() == pid
            for bid, loc in by_pack[pid]:
                try:
                    if loc.raw_length > (MAX_TREE if loc.type == TREE else MAX_BLOCK):
                        raise CorruptDataError("the index claims an impossible size")
                    repo.decode_blob(bid, data[loc.offset:loc.offset + loc.length], loc.raw_length)
                except ConsoleError as e:
                    res.bad_blobs.add(bid)
                    res.errors.append(f"block {bid.hex()[:16]} in pack {pid.hex()[:16]} is damaged: {e}")
            if not whole_ok and not any(b in res.bad_blobs for b, _ in by_pack[pid]):
                res.errors.append(f"pack {pid.hex()[:16]} does not match its checksum (damage outside its blocks)")
            if throttle.ready():
                events.progress(Progress(phase="check", files_done=n, files_total=len(chosen),
                                         read=res.bytes_read, bytes_done=res.bytes_read,
                                         elapsed=time.monotonic() - t0))

    # 4. points: every referenced blob indexed, readable and not found bad
    for name, doc in repo.iter_points():
        cancel.check()
        if isinstance(doc, Exception):
            res.damaged_manifests.append(name)
            res.errors.append(f"restore point manifest {name} is damaged: {doc}")
            continue
        res.points[doc.id] = doc
        blobs, tree_errors = point_blobs(repo, bytes.fromhex(doc.root))
        reason = tree_errors[0] if tree_errors else ""
        if not reason:
            missing = [b for b in blobs if b not in index]
            bad = [b for b in blobs if b in res.bad_blobs]
            if missing:
                reason = f"{plural(len(missing), 'block')} {'is' if len(missing) == 1 else 'are'} not in the repository"
            elif bad:
                reason = f"{plural(len(bad), 'block')} {'is' if len(bad) == 1 else 'are'} damaged"
        if reason:
            res.corrupted[doc.id] = reason
            res.errors.append(f"restore point {doc.id} ({doc.object}, {doc.created}) is corrupted: {reason}")
    res.duration = time.monotonic() - t0
    return res
