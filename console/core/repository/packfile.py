"""Pack files and index files: the binary structures that say where each blob lives.

Pack:  [stored blob]* [sealed trailer] [u32 trailer length] [b"BCP1"]
       trailer (before zstd+seal) = b"BCT1" u32 count, then per blob: id(32) type(1) length(u32) raw_length(u32);
       blob offsets are the running sum of lengths from 0.
Index: b"BCI1", then per pack: pack_id(32) u32 count, then per blob: id(32) type(1) offset(u32) length(u32) raw(u32).
Both are parsed defensively: counts and sizes are checked against the bytes actually present.
"""

from __future__ import annotations

import struct

import msgspec

from console.core.errors import CorruptDataError

DATA, TREE = 0, 1
PACK_MAGIC = b"BCP1"
TRAILER_MAGIC = b"BCT1"
INDEX_MAGIC = b"BCI1"
FOOTER = struct.Struct("<I4s")
_TRAILER_ENTRY = struct.Struct("<32sBII")
_INDEX_PACK = struct.Struct("<32sI")
_INDEX_ENTRY = struct.Struct("<32sBIII")
_BLOB_TYPES = bytes((DATA, TREE))
MAX_PACK_SIZE = 1 << 31


class BlobLocation(msgspec.Struct, frozen=True, gc=False):
    """Where a blob is stored. Untracked by the garbage collector: an index holds one per blob (100,000s)."""

    pack: bytes        # pack id (BLAKE3 of the pack file)
    type: int          # DATA or TREE
    offset: int
    length: int        # stored length (after compression and encryption)
    raw_length: int    # plaintext length


def pack_name(pack_id: bytes) -> str:
    h = pack_id.hex()
    return f"data/{h[:2]}/{h}"


def pack_id_from_name(name: str) -> bytes | None:
    leaf = name.rsplit("/", 1)[-1]
    if len(leaf) != 64:
        return None
    try:
        return bytes.fromhex(leaf)
    except ValueError:
        return None


def encode_trailer(entries: list[tuple[bytes, int, int, int]]) -> bytes:
    """entries: (id, type, length, raw_length) in pack order."""
    parts = [TRAILER_MAGIC, struct.pack("<I", len(entries))]
    parts += [_TRAILER_ENTRY.pack(i, t, n, r) for i, t, n, r in entries]
    return b"".join(parts)


def decode_trailer(data: bytes, pack_id: bytes, body_length: int) -> list[tuple[bytes, BlobLocation]]:
    """The blobs a pack holds, from its (already decoded) trailer; `body_length` bounds the offsets."""
    if len(data) < 8 or data[:4] != TRAILER_MAGIC:
        raise CorruptDataError("pack trailer is damaged")
    (count,) = struct.unpack_from("<I", data, 4)
    if 8 + count * _TRAILER_ENTRY.size != len(data):
        raise CorruptDataError("pack trailer has the wrong length")
    out, offset = [], 0
    for i in range(count):
        bid, typ, length, raw = _TRAILER_ENTRY.unpack_from(data, 8 + i * _TRAILER_ENTRY.size)
        if typ not in (DATA, TREE):
            raise CorruptDataError("pack trailer names an unknown blob type")
        out.append((bid, BlobLocation(pack_id, typ, offset, length, raw)))
        offset += length
        if offset > body_length:
            raise CorruptDataError("pack trailer points past the end of the pack")
    return out


def encode_index(packs: dict[bytes, list[tuple[bytes, BlobLocation]]]) -> bytes:
    parts = [INDEX_MAGIC]
    for pack_id, blobs in packs.items():
        parts.append(_INDEX_PACK.pack(pack_id, len(blobs)))
        parts += [_INDEX_ENTRY.pack(bid, loc.type, loc.offset, loc.length, loc.raw_length) for bid, loc in blobs]
    return b"".join(parts)


def decode_index(data: bytes) -> list[tuple[bytes, BlobLocation]]:
    if data[:4] != INDEX_MAGIC:
        raise CorruptDataError("index file is damaged (bad header)")
    pos, out, n = 4, [], len(data)
    while pos < n:
        if pos + _INDEX_PACK.size > n:
            raise CorruptDataError("index file is truncated")
        pack_id, count = _INDEX_PACK.unpack_from(data, pos)
        pos += _INDEX_PACK.size
        if pos + count * _INDEX_ENTRY.size > n:
            raise CorruptDataError("index file is truncated")
        end = pos + count * _INDEX_ENTRY.size
        # the type bytes, one per entry, checked at once; then one comprehension over a C loop (iter_unpack)
        if data[pos + 32:end:_INDEX_ENTRY.size].translate(None, _BLOB_TYPES):     # left: a type not known
            raise CorruptDataError("index file names an unknown blob type")
        out += [(bid, BlobLocation(pack_id, typ, off, length, raw))
                for bid, typ, off, length, raw in _INDEX_ENTRY.iter_unpack(memoryview(data)[pos:end])]
        pos = end
    return out
