"""Fuzz every parser of repository files with hypothesis: random bytes and mutations of valid encodings.

Whatever a hostile or damaged repository holds, a parser returns a validated value or raises the console's
CorruptDataError / RepositoryError — never another exception, never a hang, never a huge allocation.
"""

from __future__ import annotations

import json
import os
import struct
from unittest.mock import patch

import msgspec
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.core.errors import CorruptDataError, RepositoryError
from console.core.repository import codec
from console.core.repository.crypto import AesGcmCipher, Cipher
from console.core.repository.manifest import BackupDoc, PointDoc
from console.core.repository.packfile import BlobLocation, decode_index, decode_trailer, encode_index, encode_trailer
from console.core.repository.repo import RepoConfig
from console.core.repository.tree import MAX_SIZE, Listed, Node, check_name, decode_listing, decode_tree, encode_tree

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
OK_ERRORS = (CorruptDataError, RepositoryError)

_ID = bytes(range(32))
VALID_TREE = encode_tree([
    Node(name="a.txt", type="file", mode=0o644, mtime=1, size=3, blobs=[_ID]),
    Node(name="sub", type="dir", mode=0o755, mtime=2, tree=bytes(32)),
    Node(name="ln", type="symlink", mode=0o777, mtime=3, target="a.txt"),
])
VALID_INDEX = encode_index({_ID: [(bytes(32), BlobLocation(_ID, 0, 0, 10, 20)),
                                  (b"\x01" * 32, BlobLocation(_ID, 1, 10, 5, 9))]})
VALID_TRAILER = encode_trailer([(bytes(32), 0, 10, 20), (b"\x01" * 32, 1, 5, 9)])
VALID_POINT = PointDoc(id="0123456789abcdef", backup="fedcba9876543210", object="/srv",
                       created="2026-01-01T00:00:00+00:00", type="full", root="00" * 32, data_size=5,
                       stored_size=3, files=1, dirs=1, job="j").to_bytes()
VALID_BACKUP = BackupDoc(id="0123456789abcdef", job="j", kind="copy", source_backup="fedcba9876543210",
                         created="2026-01-01T00:00:00+00:00").to_bytes()
VALID_CONFIG = RepoConfig(id="ab" * 16, created="2026-01-01T00:00:00+00:00").to_bytes()


def mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Valid bytes with flips, cuts, insertions and duplications: close enough to get past the first checks."""
    def mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
        b = bytearray(data)
        for kind, pos, val in ops:
            if not b:
                break
            pos %= len(b)
            if kind == 0:
                b[pos] ^= 1 << (val % 8)
            elif kind == 1:
                del b[pos:pos + 1 + val % 16]
            elif kind == 2:
                b[pos:pos] = bytes([val % 256]) * (1 + val % 8)
            else:
                b[pos:pos] = b[pos:pos + 64]
        return bytes(b)
    ops = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 1 << 16)), min_size=1,
                   max_size=6)
    return st.builds(mutate, st.just(valid), ops)


def any_of(valid: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=2048), mutations(valid))


def _no_crash(fn, data: bytes) -> None:
    try:
        fn(data)
    except OK_ERRORS:
        pass


@FUZZ
@given(any_of(VALID_TREE))
def test_tree(data: bytes) -> None:
    _no_crash(decode_tree, data)


def _outcome(fn, data: bytes) -> object:
    try:
        return fn(data)
    except CorruptDataError as e:
        return f"refused: {e}"


@FUZZ
@given(any_of(VALID_TREE))
def test_tree_fast_path_accepts_and_refuses_what_the_full_decoder_does(data: bytes) -> None:
    """decode_tree's fast path for regular trees hands everything else to the full decoder: both must give the
    same nodes or the same refusal for any input."""
    from console.core.repository.tree import _decode_any
    assert _outcome(decode_tree, data) == _outcome(_decode_any, data)


def test_tree_fast_path_keeps_unusual_but_valid_trees() -> None:
    odd = encode_tree([Node(name="caf\udce9", type="file", mode=0o644, mtime=-5, size=0, inode=1 << 64, blobs=[]),
                       Node(name="ln", type="symlink", target="/x\udcff")])      # non-UTF-8 names, huge inode
    assert [(n.name, n.inode, n.target) for n in decode_tree(odd)] == [("caf\udce9", 1 << 64, None),
                                                                     ("ln", 0, "/x\udcff")]


def _shown(n: Node) -> Listed:
    return Listed(n.name, n.type, n.mode, n.mtime, n.size, n.target, n.tree.hex() if n.tree else None)


def _assert_safe(listing: list[Listed]) -> None:
    names = [e.name for e in listing]
    assert len(set(names)) == len(names)
    for e in listing:
        assert check_name(e.name) == e.name
        assert 0 <= e.mode <= 0o177777 and 0 <= e.size <= MAX_SIZE and abs(e.mtime) <= 1 << 62
        if e.type == "dir":
            assert e.tree is not None and bytes.fromhex(e.tree).hex() == e.tree and len(e.tree) == 64
        elif e.type == "symlink":
            assert isinstance(e.target, str) and "\0" not in e.target
        else:
            assert e.type == "file" and e.tree is None and e.target is None


VALID_BIG_TREE = encode_tree([
    Node(name=f"f{i}", type="file", mode=0o644, mtime=i, size=i, blobs=[_ID]) for i in range(6)] + [
    Node(name="sub", type="dir", mode=0o755, mtime=2, tree=bytes(32)),
    Node(name="ln", type="symlink", mode=0o777, mtime=3, target="a.txt")])


@FUZZ
@given(st.one_of(any_of(VALID_TREE), mutations(VALID_BIG_TREE), mutations(VALID_BIG_TREE.replace(
    b'"blobs":', b'"x":[{"a":1},{"name":"evil","type":"file"}],"blobs":', 1))),
       st.sampled_from([1 << 30, 1, 40, 120]))
def test_listing_checks_what_it_shows_as_the_full_decoder_does(data: bytes, slice_bytes: int) -> None:
    """decode_listing skips what a listing does not show (block lists, owners, inodes). When the full decoder
    accepts a tree, the listing is exactly what it shows of it; a refusal is the full decoder's, word for word;
    a tree the listing shows while the full decoder refuses it (over something unread) shows nothing unsafe.
    Whole, or parsed in slices of any size (nested objects with '},{"' in an unknown field included)."""
    from console.core.repository import tree
    with patch.object(tree, "SLICE_BYTES", slice_bytes):
        full, listing = _outcome(tree._decode_any, data), _outcome(decode_listing, data)
    if isinstance(full, list):
        assert listing == [_shown(n) for n in full]
    elif isinstance(listing, str):
        assert listing == full
    else:
        _assert_safe(listing)


_names = st.text(st.characters(blacklist_characters="/\0", blacklist_categories=()), min_size=1, max_size=12).filter(
    lambda n: n not in (".", ".."))
_nodes = st.one_of(
    st.builds(Node, name=_names, type=st.just("file"), mode=st.integers(0, 0o177777), mtime=st.integers(-5, 1 << 62),
              size=st.integers(0, MAX_SIZE), uid=st.integers(0, 1 << 32), inode=st.integers(0, 1 << 64),
              blobs=st.lists(st.binary(min_size=32, max_size=32), max_size=3)),
    st.builds(Node, name=_names, type=st.just("dir"), mode=st.integers(0, 0o177777),
              tree=st.binary(min_size=32, max_size=32)),
    st.builds(Node, name=_names, type=st.just("symlink"), target=st.text(st.characters(blacklist_characters="\0"))))


@FUZZ
@given(st.lists(_nodes, max_size=20, unique_by=lambda n: n.name))
def test_listing_of_any_valid_tree_is_what_the_full_decoder_reads(nodes: list[Node]) -> None:
    """Valid trees of every kind, names with surrogate escapes and huge numbers included (the fast path hands those
    to the full decoder): the listing always shows exactly what decode_tree reads."""
    from console.core.repository import tree
    data = encode_tree(nodes)
    expected = [_shown(n) for n in decode_tree(data)]
    assert decode_listing(data) == expected
    with patch.object(tree, "SLICE_BYTES", 30):                     # parsed in slices: the same listing
        assert decode_listing(data) == expected


def test_listing_takes_the_fast_path_for_regular_trees() -> None:
    """The properties above compare something: a tree as the console writes it is listed by the fast path."""
    from console.core.repository.tree import _list_regular
    assert _list_regular(VALID_TREE) == [_shown(n) for n in decode_tree(VALID_TREE)]
    odd = encode_tree([Node(name="caf\udce9", type="file")])             # not UTF-8: the full decoder lists it
    with pytest.raises(msgspec.DecodeError):
        _list_regular(odd)
    assert [e.name for e in decode_listing(odd)] == ["caf\udce9"]
    unsorted = json.dumps({"v": 1, "nodes": [{"name": "b", "type": "file", "blobs": []},
                                             {"name": "a", "type": "file", "blobs": []}]}).encode()
    assert _list_regular(unsorted) is None                      # not as the console writes it: the full decoder
    assert [e.name for e in decode_listing(unsorted)] == ["b", "a"]


def test_a_big_listing_is_parsed_in_slices_with_the_gil_free_between_them() -> None:
    """Parsing a 20 MB tree in one msgspec call holds the GIL ~90 ms: the GUI thread would stall that long."""
    from console.core.repository import tree
    big = encode_tree([Node(name=f"file-{i:06d}", type="file", size=i, blobs=[_ID]) for i in range(2000)])
    calls: list[int] = []
    real = tree._parse_entries

    def counted(data: bytes) -> list[Listed]:
        calls.append(len(data))
        return real(data)

    with patch.object(tree, "SLICE_BYTES", 10_000), patch.object(tree, "_parse_entries", counted):
        listing = tree._list_regular(big)
    assert listing == [_shown(n) for n in decode_tree(big)] and len(listing) == 2000
    assert len(calls) == len(big) // 10_000 and max(calls) < 10_000 + 300      # slices of about SLICE_BYTES


@FUZZ
@given(any_of(VALID_INDEX))
def test_index(data: bytes) -> None:
    _no_crash(decode_index, data)


@FUZZ
@given(any_of(VALID_TRAILER), st.integers(0, 1 << 31))
def test_pack_trailer(data: bytes, body: int) -> None:
    _no_crash(lambda d: decode_trailer(d, _ID, body), data)


@FUZZ
@given(any_of(VALID_POINT))
def test_point_manifest(data: bytes) -> None:
    _no_crash(PointDoc.from_bytes, data)


@FUZZ
@given(any_of(VALID_BACKUP))
def test_backup_descriptor(data: bytes) -> None:
    _no_crash(BackupDoc.from_bytes, data)


@FUZZ
@given(any_of(VALID_CONFIG))
def test_config(data: bytes) -> None:
    _no_crash(lambda d: RepoConfig.from_bytes(d, "fuzz"), data)


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=6),
                    max_leaves=30))
def test_json_shaped_documents(value: object) -> None:
    """Valid JSON of the wrong shape: every document parser refuses it cleanly."""
    raw = json.dumps(value).encode()
    for fn in (decode_tree, PointDoc.from_bytes, BackupDoc.from_bytes, lambda d: RepoConfig.from_bytes(d, "fuzz")):
        _no_crash(fn, raw)


CIPHER = AesGcmCipher(bytes(32))


@FUZZ
@given(any_of(codec.encode(VALID_POINT, 3, Cipher(), b"manifest", checksum=True)), st.booleans())
def test_stored_object_decoding(data: bytes, encrypted: bool) -> None:
    cipher = CIPHER if encrypted else Cipher()
    _no_crash(lambda d: codec.decode(d, cipher, b"manifest", 1 << 20), data)


def test_decompression_bomb_is_refused_before_allocation() -> None:
    bomb = zstandard.ZstdCompressor(level=1, write_content_size=True).compress(bytes(64 << 20))
    assert len(bomb) < 1 << 20
    try:
        codec.decode(b"\x01" + bomb, Cipher(), b"x", 1 << 20)
    except CorruptDataError as e:
        assert "impossible size" in str(e)
    else:
        raise AssertionError("a 64 MiB bomb was decompressed")
    unknown = zstandard.ZstdCompressor(write_content_size=False).compress(bytes(8 << 20))
    try:
        codec.decode(b"\x01" + unknown, Cipher(), b"x", 1 << 20)
    except CorruptDataError:
        pass
    else:
        raise AssertionError("a frame without content size was decompressed")


def test_absurd_counts_are_refused_without_allocation() -> None:
    huge = b"BCI1" + _ID + struct.pack("<I", 0xFFFFFFFF)
    for fn in (decode_index, lambda d: decode_trailer(b"BCT1" + struct.pack("<I", 0xFFFFFFFF), _ID, 100)):
        try:
            fn(huge)
        except CorruptDataError:
            continue
        raise AssertionError("an absurd count was accepted")
