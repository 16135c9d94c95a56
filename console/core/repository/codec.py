"""How bytes become stored bytes: an optional zstd layer, then the repository's cipher.

Stored form: cipher.seal(FLAG + payload) where FLAG is 0 (payload raw) or 1 (payload is a zstd frame).
Decoding is defensive: every size is checked against a limit before memory is allocated.
"""

from __future__ import annotations

import threading

import blake3
import zstandard

from console.core.errors import CorruptDataError
from console.core.repository.crypto import Cipher

RAW, ZSTD = 0, 1
MAX_DOC_SIZE = 256 << 20          # largest index / tree / manifest we accept when decoding
_local = threading.local()


def blob_id(data: bytes | memoryview) -> bytes:
    """The content id of a plaintext block or document: BLAKE3-256, the same in every repository."""
    return blake3.blake3(data).digest()


def _cctx(level: int, checksum: bool = False) -> zstandard.ZstdCompressor:
    cache = getattr(_local, "cctx", None)
    if cache is None:
        cache = _local.cctx = {}
    c = cache.get((level, checksum))
    if c is None:
        c = cache[(level, checksum)] = zstandard.ZstdCompressor(level=level, write_content_size=True,
                                                                write_checksum=checksum)
    return c


def _dctx() -> zstandard.ZstdDecompressor:
    d = getattr(_local, "dctx", None)
    if d is None:
        d = _local.dctx = zstandard.ZstdDecompressor()
    return d


def pack_payload(data: bytes, level: int, checksum: bool = False) -> bytes:
    """FLAG + payload; incompressible data is kept raw so restores skip the decompressor.

    checksum: documents always go through zstd with its frame checksum, so an unencrypted manifest or descriptor
    with a flipped byte is detected (blobs need none: their id is the hash of their content)."""
    if checksum:
        return bytes((ZSTD,)) + _cctx(max(level, 1), True).compress(data)
    if level > 0 and len(data) > 64:
        z = _cctx(level).compress(data)
        if len(z) < len(data) - (len(data) >> 5):
            return bytes((ZSTD,)) + z
    return bytes((RAW,)) + data


def unpack_payload(body: bytes, max_size: int) -> bytes:
    if not body:
        raise CorruptDataError("empty stored object")
    flag, payload = body[0], memoryview(body)[1:]
    if flag == RAW:
        if len(payload) > max_size:
            raise CorruptDataError("stored object is larger than recorded")
        return bytes(payload)
    if flag != ZSTD:
        raise CorruptDataError(f"unknown encoding flag {flag}")
    try:
        size = zstandard.frame_content_size(payload)
    except zstandard.ZstdError as e:
        raise CorruptDataError(f"damaged compressed data: {e}") from None
    if size < 0 or size > max_size:   # unknown size or a decompression bomb
        raise CorruptDataError("compressed data claims an impossible size")
    try:
        out = _dctx().decompress(payload, max_output_size=max_size)
    except zstandard.ZstdError as e:
        raise CorruptDataError(f"damaged compressed data: {e}") from None
    if len(out) != size:
        raise CorruptDataError("compressed data has the wrong size")
    return out


def encode(data: bytes, level: int, cipher: Cipher, aad: bytes, checksum: bool = False) -> bytes:
    return cipher.seal(pack_payload(data, level, checksum), aad)


def decode(stored: bytes, cipher: Cipher, aad: bytes, max_size: int = MAX_DOC_SIZE) -> bytes:
    return unpack_payload(cipher.open(stored, aad), max_size)
