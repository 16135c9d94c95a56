"""Dropping damaged blob locations from a repository index after good copies of those blobs were written.

The index keeps the first location of a blob it meets, so a repaired blob would still be read from its damaged
pack. Every index file naming a damaged location is replaced by one without it (new file first, then the old one
is deleted: a crash in between leaves duplicates, never a gap). The damaged packs stay until GC finds them unused.
"""

from __future__ import annotations

import logging

import blake3

from console.core.engine.events import Events
from console.core.errors import ConsoleError, CorruptDataError
from console.core.repository.packfile import TREE, BlobLocation, decode_index, pack_name
from console.core.repository.repo import MAX_BLOCK, MAX_TREE, PackWriter, Repository
from console.core.units import plural

log = logging.getLogger(__name__)


def drop_locations(repo: Repository, damaged: dict[bytes, BlobLocation | None], events: Events | None = None,
                   packs: set[bytes] = frozenset()) -> int:
    """Remove the given (blob, location) pairs, and every entry of `packs`, from the index files; returns how many
    entries were dropped."""
    bad = {(bid, loc) for bid, loc in damaged.items() if loc is not None}
    dropped = 0
    if bad or packs:
        for name in sorted(repo.storage.list("index")):
            stored = repo.storage.read(name)
            if blake3.blake3(stored).hexdigest() != name.rsplit("/", 1)[-1]:
                # a damaged index file cannot be filtered; its entries are unreadable anyway
                repo.storage.delete(name)
                log.warning("removed damaged index file %s during repair", name)
                continue
            entries = decode_index(repo.open_doc(stored, b"index"))
            keep = [(bid, loc) for bid, loc in entries if (bid, loc) not in bad and loc.pack not in packs]
            if len(keep) == len(entries):
                continue
            dropped += len(entries) - len(keep)
            packs: dict[bytes, list[tuple[bytes, BlobLocation]]] = {}
            for bid, loc in keep:
                packs.setdefault(loc.pack, []).append((bid, loc))
            new = repo.write_index(packs) if packs else None
            if new != name:
                repo.storage.delete(name)
    repo.load_index()
    if events is not None and dropped:
        events.log("info", f"repair: {plural(dropped, 'damaged block location')} removed from the index")
    return dropped


def evacuate_packs(repo: Repository, packs: set[bytes], events: Events | None = None) -> tuple[int, int]:
    """Move the intact blobs out of damaged packs into new ones, then delete the damaged packs.

    Needs the exclusive lock (readers may be using the packs). Returns (blobs moved, blobs lost)."""
    moved = lost = 0
    writer = PackWriter(repo)
    try:
        for pid in packs:
            entries = [(bid, loc) for bid, loc in repo.index.items() if loc.pack == pid]
            try:
                data = repo.storage.read(pack_name(pid))
            except ConsoleError:
                data = b""
            for bid, loc in entries:
                stored = data[loc.offset:loc.offset + loc.length]
                try:
                    if loc.raw_length > (MAX_TREE if loc.type == TREE else MAX_BLOCK):
                        raise CorruptDataError("impossible size")
                    repo.decode_blob(bid, stored, loc.raw_length)
                except ConsoleError:
                    lost += 1
                    continue
                writer.add(bid, loc.type, stored, loc.raw_length)
                moved += 1
        repo.write_index(writer.flush())
    except BaseException:
        writer.abort()
        raise
    drop_locations(repo, {}, events, packs)
    for pid in packs:
        repo.storage.delete(pack_name(pid))
    if events is not None:
        events.log("info" if not lost else "warning",
                   f"repair: {plural(len(packs), 'damaged pack')} removed; {plural(moved, 'intact block')} moved"
                   + (f", {plural(lost, 'damaged block')} that no source had {'is' if lost == 1 else 'are'} gone"
                      if lost else ""))
    return moved, lost
