"""The repository: config, keys, index, packs, trees and manifests on top of a `Storage`.

Write order is the commit protocol: packs -> index -> manifest, each atomic. A crash leaves at most packs
that no index names; `recover_unindexed_packs` re-indexes them from their trailers so a re-run re-uses them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import blake3

from console.core.errors import CorruptDataError, PasswordRequiredError, RepositoryError
from console.core.gc_pause import paused_gc
from console.core.model import DEFAULT_BLOCK_SIZE
from console.core.repository import codec
from console.core.repository.crypto import AesGcmCipher, Cipher, KeyEnvelope, new_envelope, open_envelope
from console.core.repository.locks import RepositoryLock
from console.core.repository.manifest import POINT_SUFFIX, BackupDoc, PointDoc, check_id, utc_stamp
from console.core.repository.packfile import (
    DATA,
    FOOTER,
    PACK_MAGIC,
    TREE,
    BlobLocation,
    decode_index,
    decode_trailer,
    encode_index,
    encode_trailer,
    pack_id_from_name,
    pack_name,
)
from console.core.repository.tree import Listed, Node, decode_listing, decode_tree, encode_tree
from console.core.storage.base import Storage
from console.core.units import plural

if TYPE_CHECKING:
    from console.core.engine.pipeline import BusyClock

log = logging.getLogger(__name__)

FORMAT = "backup-console-repository"
VERSION = 1
CONFIG = "config.json"
PACK_TARGET = 16 << 20
MAX_BLOCK = 4 << 20
MAX_TREE = 256 << 20
MERGE_SLICE = 16_384                # index entries merged per dict.update call (the GIL is free between calls)
PasswordSource = Callable[[], str | None]


@dataclass
class RepoConfig:
    id: str
    block_size: int = DEFAULT_BLOCK_SIZE
    compression: int = 3
    pack_size: int = PACK_TARGET
    created: str = ""
    encryption: KeyEnvelope | None = None
    version: int = VERSION

    def to_bytes(self) -> bytes:
        return json.dumps({"format": FORMAT, "version": self.version, "id": self.id, "created": self.created,
                           "chunker": "fixed", "block_size": self.block_size, "compression": self.compression,
                           "pack_size": self.pack_size,
                           "encryption": self.encryption.to_dict() if self.encryption else None},
                          indent=2).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> RepoConfig:
        try:
            d = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RepositoryError(f"{where} is not a Backup Copy Console repository (config.json is damaged)") from None
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise RepositoryError(f"{where} is not a Backup Copy Console repository")
        version = d.get("version")
        if not isinstance(version, int) or version < 1:
            raise RepositoryError(f"{where}: config.json has an invalid format version")
        if version > VERSION:
            raise RepositoryError(f"{where} uses repository format version {version}, newer than this console "
                                  f"understands ({VERSION}); upgrade Backup Copy Console to use it")
        try:
            cfg = cls(id=str(d["id"]), block_size=int(d["block_size"]), compression=int(d["compression"]),
                      pack_size=int(d.get("pack_size", PACK_TARGET)), created=str(d.get("created", "")),
                      encryption=KeyEnvelope.from_dict(d["encryption"]) if d.get("encryption") else None,
                      version=version)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, CorruptDataError) as e:
            raise RepositoryError(f"{where}: config.json is damaged ({e})") from None
        if cfg.block_size not in (256 << 10, 512 << 10, 1 << 20, 4 << 20) or not 0 <= cfg.compression <= 22:
            raise RepositoryError(f"{where}: config.json has invalid block size or compression")
        if not 1 << 20 <= cfg.pack_size <= 1 << 30:
            raise RepositoryError(f"{where}: config.json has an invalid pack size")
        return cfg


class Repository:
    def __init__(self, storage: Storage, config: RepoConfig, cipher: Cipher, name_key: bytes) -> None:
        self.storage = storage
        self.config = config
        self.cipher = cipher
        self._name_key = name_key
        self.index: dict[bytes, BlobLocation] = {}
        self.index_files: list[str] = []
        self.damaged_index: list[str] = []
        self._index_lock = threading.Lock()
        self._trees: OrderedDict[bytes, list[Node]] = OrderedDict()
        self._listings: OrderedDict[bytes, list[Listed]] = OrderedDict()
        self._decoded_lock = threading.Lock()

    # -- creating and opening --------------------------------------------------------------------------
    @classmethod
    def init(cls, storage: Storage, password: str | None = None, block_size: int = DEFAULT_BLOCK_SIZE,
             compression: int = 3) -> Repository:
        """Create a repository in an empty location (refuses a location that already holds files)."""
        if storage.exists(CONFIG):
            raise RepositoryError(f"{storage.location} already holds a repository; add it instead of creating one")
        if not storage.is_empty():
            raise RepositoryError(f"{storage.location} is not empty and not a repository; choose an empty folder")
        cfg = RepoConfig(id=uuid.uuid4().hex, block_size=block_size, compression=compression,
                         created=datetime.now(UTC).isoformat(timespec="seconds"))
        master = None
        if password is not None:
            if not password:
                raise RepositoryError("an empty password cannot protect a repository")
            cfg.encryption, master = new_envelope(password)
        storage.write(CONFIG, cfg.to_bytes())
        return cls._with_key(storage, cfg, master)

    @classmethod
    def open(cls, storage: Storage, password: PasswordSource | None = None) -> Repository:
        try:
            raw = storage.read(CONFIG)
        except RepositoryError:
            if storage.is_empty():
                raise RepositoryError(f"{storage.location} holds no repository (it is empty or missing); "
                                      "check the path, or create the repository again") from None
            raise RepositoryError(f"{storage.location} is not a Backup Copy Console repository "
                                  "(no config.json)") from None
        cfg = RepoConfig.from_bytes(raw, storage.location)
        master = None
        if cfg.encryption:
            pw = password() if password else None
            if not pw:
                raise PasswordRequiredError(
                    f"repository {storage.location} is encrypted: give its password (keyring, --password-stdin "
                    "or BACKUP_CONSOLE_PASSWORD)")
            master = open_envelope(cfg.encryption, pw)
        repo = cls._with_key(storage, cfg, master)
        repo.load_index()
        return repo

    @classmethod
    def _with_key(cls, storage: Storage, cfg: RepoConfig, master: bytes | None) -> Repository:
        if master is None:
            return cls(storage, cfg, Cipher(), b"")
        data_key = blake3.blake3(master, derive_key_context="backup-console 2026 data key").digest()
        name_key = blake3.blake3(master, derive_key_context="backup-console 2026 name key").digest()
        return cls(storage, cfg, AesGcmCipher(data_key), name_key)

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def encrypted(self) -> bool:
        return self.cipher.encrypted

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lock(self, kind: str, what: str, timeout: float = 0.0) -> RepositoryLock:
        return RepositoryLock(self.storage, kind, what).acquire(timeout)

    # -- documents (index files, manifests, descriptors) -----------------------------------------------------
    def seal_doc(self, data: bytes, aad: bytes) -> bytes:
        # plain documents carry zstd's checksum; encrypted ones are authenticated by AES-GCM already
        return codec.encode(data, 3, self.cipher, aad, checksum=not self.encrypted)

    def open_doc(self, stored: bytes, aad: bytes) -> bytes:
        return codec.decode(stored, self.cipher, aad)

    # -- index -------------------------------------------------------------------------------------------
    def load_index(self) -> None:
        """Read every index file. A damaged one is skipped (named in `damaged_index`): the packs it described look
        unindexed, and the next writer re-indexes them from their trailers (`recover_unindexed_packs`)."""
        files = sorted(self.storage.list("index"))
        damaged: list[str] = []
        decoded: list[list[tuple[bytes, BlobLocation]]] = []
        for name in files:
            try:
                stored = self.storage.read(name)
                if blake3.blake3(stored).hexdigest() != name.rsplit("/", 1)[-1]:
                    raise CorruptDataError("its content does not match its checksum")
                with paused_gc():                   # 100,000s of locations: see gc_pause
                    entries = decode_index(self.open_doc(stored, b"index"))
            except CorruptDataError as e:
                log.warning("index file %s is damaged (%s); its packs are re-indexed by the next backup, copy or "
                            "GC", name, e)
                damaged.append(name)
                continue
            decoded.append(entries)
        # the first location of a block wins (in file order, then entry order): merged backwards by dict.update,
        # which runs in C, a slice at a time (one call over 100,000 entries would hold the GIL ~25 ms)
        index: dict[bytes, BlobLocation] = {}
        with paused_gc():
            for entries in reversed(decoded):
                for stop in range(len(entries), 0, -MERGE_SLICE):
                    index.update(reversed(entries[max(0, stop - MERGE_SLICE):stop]))
        with self._index_lock:
            self.index, self.index_files = index, [f for f in files if f not in damaged]
            self.damaged_index = damaged

    def write_index(self, packs: dict[bytes, list[tuple[bytes, BlobLocation]]]) -> str | None:
        if not packs:
            return None
        stored = self.seal_doc(encode_index(packs), b"index")
        name = f"index/{blake3.blake3(stored).hexdigest()}"
        self.storage.write(name, stored)
        with self._index_lock:
            self.index_files.append(name)
        return name

    def add_to_index(self, entries: list[tuple[bytes, BlobLocation]]) -> None:
        with self._index_lock:
            for bid, loc in entries:
                self.index.setdefault(bid, loc)

    def has_blob(self, bid: bytes) -> bool:
        return bid in self.index

    def packs_in_index(self) -> set[bytes]:
        return {loc.pack for loc in self.index.values()}

    def read_pack_trailer(self, name: str) -> list[tuple[bytes, BlobLocation]]:
        pack_id = pack_id_from_name(name)
        if pack_id is None:
            raise CorruptDataError(f"{name} is not a pack file name")
        size = self.storage.size(name)
        if size < FOOTER.size:
            raise CorruptDataError(f"pack {name} is truncated")
        tlen, magic = FOOTER.unpack(self.storage.read_range(name, size - FOOTER.size, FOOTER.size))
        if magic != PACK_MAGIC or tlen > size - FOOTER.size:
            raise CorruptDataError(f"pack {name} has a damaged footer")
        body = size - FOOTER.size - tlen
        trailer = self.open_doc(self.storage.read_range(name, body, tlen), b"pack-trailer")
        return decode_trailer(trailer, pack_id, body)

    def recover_unindexed_packs(self) -> int:
        """Index packs a crashed session left behind (or a damaged index file described) from their trailers,
        so their blobs are re-used, not sent again. Needs the write lock."""
        # after damage every trailer is read: a pack may be listed partly, by several index files
        known = set() if self.damaged_index else self.packs_in_index()
        found: dict[bytes, list[tuple[bytes, BlobLocation]]] = {}
        unreadable = 0
        for name in self.storage.list("data"):
            pid = pack_id_from_name(name)
            if pid is None or pid in known:
                continue
            try:
                entries = self.read_pack_trailer(name)
            except (CorruptDataError, RepositoryError) as e:
                unreadable += 1
                log.warning("ignoring unreadable pack %s: %s", name, e)
                continue
            entries = [(bid, loc) for bid, loc in entries if self.index.get(bid) != loc]
            if entries:
                found[pid] = entries
        written = None
        if found:
            written = self.write_index(found)
            self.add_to_index([e for entries in found.values() for e in entries])
            log.info("re-indexed %s left by an interrupted session or a damaged index", plural(len(found), "pack"))
        if self.damaged_index and not unreadable:
            # every pack is described by a readable index now: the damaged files carry nothing more (a plain
            # re-index can rebuild the very same file, under the very same name: that one stays)
            for name in self.damaged_index:
                if name == written:
                    continue
                self.storage.delete(name)
                log.warning("removed damaged index file %s (its packs were re-indexed)", name)
            self.damaged_index = []
        return len(found)

    # -- blobs -------------------------------------------------------------------------------------------
    def encode_blob(self, bid: bytes, data: bytes, level: int | None = None) -> bytes:
        return codec.encode(data, self.config.compression if level is None else level, self.cipher, bid)

    def decode_blob(self, bid: bytes, stored: bytes, raw_length: int) -> bytes:
        data = codec.decode(stored, self.cipher, bid, raw_length)
        if len(data) != raw_length or codec.blob_id(data) != bid:
            raise CorruptDataError(f"block {bid.hex()[:16]} failed verification (content does not match its id)")
        return data

    def location(self, bid: bytes) -> BlobLocation:
        loc = self.index.get(bid)
        if loc is None:
            raise CorruptDataError(f"block {bid.hex()[:16]} is not in the repository index")
        return loc

    def read_stored(self, bid: bytes) -> tuple[BlobLocation, bytes]:
        loc = self.location(bid)
        data = self.storage.read_range(pack_name(loc.pack), loc.offset, loc.length)
        if len(data) != loc.length:
            raise CorruptDataError(f"pack {loc.pack.hex()[:16]} is truncated")
        return loc, data

    def read_blob(self, bid: bytes) -> bytes:
        loc, stored = self.read_stored(bid)
        if loc.raw_length > (MAX_TREE if loc.type == TREE else MAX_BLOCK):
            raise CorruptDataError(f"block {bid.hex()[:16]} claims an impossible size")
        return self.decode_blob(bid, stored, loc.raw_length)

    # -- trees ---------------------------------------------------------------------------------------------
    def load_tree(self, tid: bytes) -> list[Node]:
        return self._cached(self._trees, tid, decode_tree, 256)

    def load_listing(self, tid: bytes) -> list[Listed]:
        """A folder's entries as a listing shows them (browse): decoded much faster than load_tree for big folders."""
        return self._cached(self._listings, tid, decode_listing, 16)

    def _cached(self, cache: OrderedDict[bytes, Any], tid: bytes, decode: Callable[[bytes], Any], keep: int) -> Any:
        with self._decoded_lock:
            found = cache.get(tid)
            if found is not None:
                cache.move_to_end(tid)
                return found
        found = decode(self.read_blob(tid))
        with self._decoded_lock:
            cache[tid] = found
            while len(cache) > keep:
                cache.popitem(last=False)
        return found

    # -- backups and points --------------------------------------------------------------------------------
    def object_dir(self, object_name: str) -> str:
        """Folder name of an object inside a backup: readable when plain, a keyed hash when encrypted."""
        if self.encrypted:
            return blake3.blake3(object_name.encode("utf-8", "surrogateescape"), key=self._name_key).hexdigest()[:32]
        slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in object_name.strip("/"))[-60:] or "root"
        return f"{slug.lstrip('.')}-{blake3.blake3(object_name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"

    def write_backup_doc(self, doc: BackupDoc) -> None:
        check_id(doc.id, "backup id")
        self.storage.write(f"backups/{doc.id}/backup.json", self.seal_doc(doc.to_bytes(), b"backup"))

    def read_backup_doc(self, backup_id: str) -> BackupDoc:
        doc = BackupDoc.from_bytes(self.open_doc(self.storage.read(f"backups/{backup_id}/backup.json"), b"backup"))
        if doc.id != backup_id:
            raise CorruptDataError(f"backup descriptor in backups/{backup_id} names another backup")
        return doc

    def point_name(self, doc: PointDoc) -> str:
        return f"backups/{doc.backup}/{self.object_dir(doc.object)}/{utc_stamp(doc.created_at)}_{doc.id}{POINT_SUFFIX}"

    def write_point(self, doc: PointDoc) -> str:
        """The commit point of a restore point: after this returns, the point exists."""
        name = self.point_name(doc)
        self.storage.write(name, self.seal_doc(doc.to_bytes(), b"manifest"))
        return name

    def read_point(self, name: str) -> PointDoc:
        doc = PointDoc.from_bytes(self.open_doc(self.storage.read(name), b"manifest"))
        if not name.endswith(f"_{doc.id}{POINT_SUFFIX}") or not name.startswith(f"backups/{doc.backup}/"):
            raise CorruptDataError(f"{name} does not match the point it describes")
        return doc

    def list_backup_ids(self) -> list[str]:
        ids = set()
        for name in self.storage.list("backups"):
            parts = name.split("/")
            if len(parts) == 3 and parts[2] == "backup.json":
                ids.add(parts[1])
        return sorted(ids)

    def list_point_names(self, backup_id: str | None = None) -> list[str]:
        prefix = f"backups/{backup_id}" if backup_id else "backups"
        return sorted(n for n in self.storage.list(prefix) if n.endswith(POINT_SUFFIX))

    def iter_points(self, backup_id: str | None = None) -> Iterator[tuple[str, PointDoc | Exception]]:
        for name in self.list_point_names(backup_id):
            try:
                doc = self.read_point(name)
            except (CorruptDataError, RepositoryError) as e:
                yield name, e
            except Exception as e:  # hostile content must never take listings, check or GC down
                yield name, CorruptDataError(f"{name} cannot be parsed ({type(e).__name__})")
            else:
                yield name, doc

    def delete_point(self, name: str) -> None:
        self.storage.delete(name)

    def new_id(self) -> str:
        return os.urandom(8).hex()


class PackWriter:
    """Appends stored blobs to pack files; thread-safe. Full packs are sealed, fsynced and renamed into data/."""

    def __init__(self, repo: Repository, target_size: int | None = None,
                 on_bytes: Callable[[int], None] | None = None, busy: BusyClock | None = None) -> None:
        self.repo = repo
        self.busy = busy                     # sealing + upload time counts as "target" for the bottleneck
        self.sizes: dict[bytes, int] = {}    # bytes of each finished pack (trailer included), for statistics
        self._pending = 0
        self.target = target_size or repo.config.pack_size
        self.on_bytes = on_bytes
        self._lock = threading.Lock()
        self._cur: _OpenPack | None = None
        self.packs: dict[bytes, list[tuple[bytes, BlobLocation]]] = {}
        self._done_lock = threading.Lock()
        self.bytes_written = 0
        # sealing (fsync) runs beside the workers so they keep compressing meanwhile
        self._sealer = ThreadPoolExecutor(1, thread_name_prefix="pack-seal")
        self._sealing: list[Future] = []

    def add(self, bid: bytes, typ: int, stored: bytes, raw_length: int) -> None:
        full = None
        with self._lock:
            if self._cur is None:
                self._cur = _OpenPack(self.repo.storage.spool_dir())
            self._cur.append(bid, typ, stored, raw_length)
            self._pending += len(stored)
            if self._cur.size >= self.target:
                full, self._cur = self._cur, None
        if self.on_bytes:
            self.on_bytes(len(stored))
        if full is not None:
            with self._done_lock:
                self._sealing.append(self._sealer.submit(self._finish, full))

    def _finish(self, pack: _OpenPack) -> None:
        t0 = time.perf_counter()
        pack_id, entries, size = pack.seal(self.repo)
        self.repo.storage.put_file(pack_name(pack_id), pack.path)
        self.repo.add_to_index(entries)
        if self.busy is not None:
            self.busy.add("target", time.perf_counter() - t0)
        with self._done_lock:
            self.packs[pack_id] = entries
            self.sizes[pack_id] = size
            self.bytes_written += size
        with self._lock:
            self._pending -= pack.size

    def pending_bytes(self) -> int:
        """Blob bytes added but not yet in a finished pack (live progress)."""
        return self._pending

    def _wait_sealed(self) -> None:
        with self._done_lock:
            pending, self._sealing = self._sealing, []
        for f in pending:
            f.result()

    def flush(self) -> dict[bytes, list[tuple[bytes, BlobLocation]]]:
        """Seal the open pack; returns the packs finished since the last flush (for the index)."""
        self._wait_sealed()
        with self._lock:
            pack, self._cur = self._cur, None
        if pack is not None and pack.entries:
            self._finish(pack)
        elif pack is not None:
            pack.discard()
        with self._done_lock:
            done, self.packs = self.packs, {}
        return done

    def abort(self) -> None:
        try:
            self._wait_sealed()
        except Exception as e:  # already failing; the original error is what the caller reports
            log.debug("sealing failed during abort: %s", e)
        with self._lock:
            pack, self._cur = self._cur, None
            self._pending = 0
        if pack is not None:
            pack.discard()


class _OpenPack:
    def __init__(self, spool: Path) -> None:
        self.path = spool / f"pack-{uuid.uuid4().hex}.tmp"
        self.f = open(self.path, "wb")  # noqa: SIM115 - closed in seal/discard
        self.hasher = blake3.blake3()
        self.entries: list[tuple[bytes, int, int, int]] = []
        self.size = 0

    def append(self, bid: bytes, typ: int, stored: bytes, raw_length: int) -> None:
        self.f.write(stored)
        self.hasher.update(stored)
        self.entries.append((bid, typ, len(stored), raw_length))
        self.size += len(stored)

    def seal(self, repo: Repository) -> tuple[bytes, list[tuple[bytes, BlobLocation]], int]:
        trailer = repo.seal_doc(encode_trailer(self.entries), b"pack-trailer")
        tail = trailer + FOOTER.pack(len(trailer), PACK_MAGIC)
        self.f.write(tail)
        self.hasher.update(tail)
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        pack_id = self.hasher.digest()
        out, offset = [], 0
        for bid, typ, length, raw in self.entries:
            out.append((bid, BlobLocation(pack_id, typ, offset, length, raw)))
            offset += length
        return pack_id, out, self.size + len(tail)

    def discard(self) -> None:
        self.f.close()
        self.path.unlink(missing_ok=True)


__all__ = ["DATA", "TREE", "PackWriter", "RepoConfig", "Repository", "encode_tree"]
