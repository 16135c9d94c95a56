"""Tree blobs: one per directory, listing its entries sorted by name. Unchanged directories give identical bytes,
hence the same id, so they are stored once and shared between restore points.

Names are `os.fsdecode`d (surrogate escapes keep non-UTF-8 names exact); JSON with ensure_ascii round-trips them.
A decoded tree is validated: a hostile repository cannot smuggle '..', '/' or duplicate names into a restore.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Sequence
from operator import lt
from typing import Annotated

import msgspec
from msgspec import Meta

from console.core.errors import CorruptDataError
from console.core.gc_pause import paused_gc

FILE, DIR, SYMLINK = "file", "dir", "symlink"
MAX_SIZE = 1 << 50


class Node(msgspec.Struct, gc=False):
    """One directory entry. Untracked by the garbage collector (gc=False: a Node never refers back to anything
    that could form a cycle): the trees of a folder of 100,000 files would otherwise make every full collection
    walk 100,000 more objects while holding the GIL."""

    name: str
    type: str
    mode: int = 0
    mtime: int = 0                  # nanoseconds since the epoch
    size: int = 0
    uid: int = 0
    gid: int = 0
    inode: int = 0
    blobs: Sequence[bytes] = ()     # file content blocks, in order (decoded trees hold tuples: never tracked)
    tree: bytes | None = None       # subtree id for directories
    target: str | None = None       # symlink target, stored verbatim, never followed

    def to_json(self) -> dict:
        d: dict = {"name": self.name, "type": self.type, "mode": self.mode, "mtime": self.mtime,
                   "uid": self.uid, "gid": self.gid}
        if self.type == FILE:
            d.update(size=self.size, inode=self.inode, blobs=[b.hex() for b in self.blobs])
        elif self.type == DIR:
            d["tree"] = self.tree.hex() if self.tree else None
        else:
            d["target"] = self.target
        return d


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\0" in name:
        raise CorruptDataError(f"tree holds an unsafe name {name!r}")
    return name


def _int(d: dict, key: str, lo: int = 0, hi: int = MAX_SIZE) -> int:
    v = d.get(key, 0)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise CorruptDataError(f"tree entry has an invalid {key}")
    return v


def _hexid(v: object) -> bytes:
    if not isinstance(v, str) or len(v) != 64:
        raise CorruptDataError("tree entry has an invalid blob id")
    try:
        out = bytes.fromhex(v)
    except ValueError:
        raise CorruptDataError("tree entry has an invalid blob id") from None
    if len(out) != 32:                       # fromhex skips spaces
        raise CorruptDataError("tree entry has an invalid blob id")
    return out


def encode_tree(nodes: list[Node]) -> bytes:
    nodes = sorted(nodes, key=lambda n: n.name)
    return json.dumps({"v": 1, "nodes": [n.to_json() for n in nodes]}, separators=(",", ":"),
                      sort_keys=True).encode()


def _bad(what: str) -> CorruptDataError:
    return CorruptDataError(f"tree entry has an invalid {what}")


class _Entry(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A tree entry as stored; msgspec checks the types and ranges in C while it parses. Unknown fields go to the
    full decoder (msgspec skips them unread, where json would refuse bytes that are not UTF-8)."""

    name: str
    type: str
    mode: Annotated[int, Meta(ge=0, le=0o177777)] = 0
    mtime: Annotated[int, Meta(ge=-(1 << 62), le=1 << 62)] = 0
    uid: Annotated[int, Meta(ge=0, le=1 << 32)] = 0
    gid: Annotated[int, Meta(ge=0, le=1 << 32)] = 0
    size: Annotated[int, Meta(ge=0, le=MAX_SIZE)] = 0
    inode: Annotated[int, Meta(ge=0)] = 0
    blobs: list[str] | None = None
    tree: str | None = None
    target: str | None = None


class _Doc(msgspec.Struct, forbid_unknown_fields=True):
    v: int
    nodes: list[_Entry]


_parse_regular = msgspec.json.Decoder(_Doc).decode


def decode_tree(data: bytes) -> list[Node]:
    """Parse and validate a tree. A regular tree (as the console writes them) takes the fast path; anything else —
    damaged, hostile, or merely unusual such as names with surrogate escapes — is judged by the full decoder, so
    both accept exactly the same trees and every refusal has the full decoder's message."""
    with paused_gc():
        try:
            nodes = _decode_regular(data)
        except (msgspec.DecodeError, ValueError, RecursionError):
            nodes = None
        return nodes if nodes is not None else _decode_any(data)


def _decode_regular(data: bytes) -> list[Node] | None:
    """The fast path (a folder of 100,000 entries in about 0.2 s): types and ranges are checked by msgspec while
    it parses; this loop checks the rest the full decoder checks. None: not regular, ask the full decoder."""
    doc = _parse_regular(data)
    if doc.v != 1:
        return None
    out: list[Node] = []
    append = out.append
    seen: set[str] = set()
    add = seen.add
    fromhex = bytes.fromhex
    for e in doc.nodes:
        name = e.name
        if not name or name in (".", "..") or "/" in name or "\0" in name or name in seen:
            return None
        add(name)
        typ = e.type
        if typ == FILE:
            if e.blobs is None:
                return None
            ids = []
            for b in e.blobs:
                if len(b) != 64:
                    return None
                bid = fromhex(b)             # ValueError on a non-hex character: the full decoder judges
                if len(bid) != 32:           # fromhex skips spaces
                    return None
                ids.append(bid)
            append(Node(name, typ, e.mode, e.mtime, e.size, e.uid, e.gid, e.inode, tuple(ids)))
        elif typ == DIR:
            tree = e.tree
            if tree is None or len(tree) != 64:
                return None
            tid = fromhex(tree)
            if len(tid) != 32:
                return None
            append(Node(name, typ, e.mode, e.mtime, 0, e.uid, e.gid, 0, (), tid))
        elif typ == SYMLINK:
            target = e.target
            if target is None or "\0" in target:
                return None
            append(Node(name, typ, e.mode, e.mtime, 0, e.uid, e.gid, 0, (), None, target))
        else:
            return None
    return out


class Listed(msgspec.Struct, gc=False):
    """One entry of a folder as a listing shows it (browse): what the admin sees of it, nothing of its content."""

    name: str
    type: str
    mode: Annotated[int, Meta(ge=0, le=0o177777)] = 0
    mtime: Annotated[int, Meta(ge=-(1 << 62), le=1 << 62)] = 0
    size: Annotated[int, Meta(ge=0, le=MAX_SIZE)] = 0
    target: str | None = None
    tree: str | None = None         # subtree id (lowercase hex) for directories


class _ListDoc(msgspec.Struct):
    v: int
    nodes: list[Listed]


_parse_listing = msgspec.json.Decoder(_ListDoc).decode
_parse_entries = msgspec.json.Decoder(list[Listed]).decode
_UNSAFE_NAMES = frozenset(("", ".", ".."))
# A tree as the console writes it (compact, sorted keys): parsed in slices of about this many bytes. One msgspec
# call holds the GIL throughout (a 20 MB tree: ~90 ms, and the GUI thread waits that long); between calls it is free.
SLICE_BYTES = 1 << 21
_HEAD, _TAIL, _BETWEEN = b'{"nodes":[', b'],"v":1}', b'},{"'


def decode_listing(data: bytes) -> list[Listed]:
    """A folder's entries as a listing shows them, in the tree's order. Much faster than decode_tree for big folders
    (100,000 files: ~0.1 s against ~0.4 s): msgspec makes the entries in C and skips what a listing does not show
    (block lists, owners, inodes), so no Python object is made per block. Everything shown is checked as
    decode_tree checks it (names, types, ranges, folder ids); what is skipped is checked when a restore reads the
    tree. Anything the fast path doubts is judged by the full decoder: same refusals, same messages."""
    with paused_gc():
        try:
            entries = _list_regular(data)
        except (msgspec.DecodeError, ValueError, RecursionError):
            entries = None
        if entries is not None:
            return entries
        return [Listed(n.name, n.type, n.mode, n.mtime, n.size, n.target, n.tree.hex() if n.tree else None)
                for n in _decode_any(data)]


def _list_regular(data: bytes) -> list[Listed] | None:
    """decode_listing's fast path; None: not regular, ask the full decoder. The checks run over whole lists at C
    speed where they can; one lean loop checks what depends on the entry's type."""
    entries = _parse_entries_sliced(data)
    if entries is None:
        return None
    names = [e.name for e in entries]
    joined = "".join(names)
    if "/" in joined or "\0" in joined or not all(map(lt, names, names[1:])):     # the console writes them sorted:
        return None                                                              # strictly increasing = no twins
    if any(names[i] == name for name in _UNSAFE_NAMES if (i := bisect_left(names, name)) < len(names)):
        return None
    fromhex = bytes.fromhex
    for e in entries:
        typ = e.type
        if typ == FILE:
            if e.tree is not None or e.target is not None:      # the full decoder ignores them: so must a listing
                return None
        elif typ == DIR:
            tree = e.tree
            if tree is None or len(tree) != 64 or e.size or e.target is not None or fromhex(tree).hex() != tree:
                return None
        elif typ == SYMLINK:
            target = e.target
            if target is None or "\0" in target or e.size or e.tree is not None:
                return None
        else:
            return None
    return entries


def _parse_entries_sliced(data: bytes) -> list[Listed] | None:
    """The entries of a listing, parsed a slice at a time when the tree is big and written as the console writes
    it. A slice ends where '},{"' follows an entry: that sequence cannot occur inside a JSON string (a quote in a
    string is escaped), and a cut anywhere else (inside a nested value of some unknown field) leaves a slice that
    is not a complete JSON array, which msgspec refuses; so the slices that parse are exactly the entries."""
    if len(data) <= SLICE_BYTES or not (data.startswith(_HEAD) and data.endswith(_TAIL)):
        doc = _parse_listing(data)
        return doc.nodes if doc.v == 1 else None
    end = len(data) - len(_TAIL)
    pos = len(_HEAD)
    entries: list[Listed] = []
    while True:
        cut = data.find(_BETWEEN, pos + SLICE_BYTES, end)
        stop = end if cut < 0 else cut + 1
        entries += _parse_entries(b"[" + data[pos:stop] + b"]")
        if cut < 0:
            return entries
        pos = cut + 2


def _decode_any(data: bytes) -> list[Node]:
    """The full decoder: any JSON, every check with its own message. Written for speed too: `type(x) is int`
    also refuses bools, and every check of the readable helpers above is kept."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CorruptDataError("tree is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("v") != 1 or not isinstance(doc.get("nodes"), list):
        raise CorruptDataError("tree has an unknown layout")
    out: list[Node] = []
    append = out.append
    seen: set[str] = set()
    fromhex = bytes.fromhex
    for d in doc["nodes"]:
        if type(d) is not dict:
            raise CorruptDataError("tree entry is not an object")
        get = d.get
        name = get("name")
        if type(name) is not str or not name or name in (".", "..") or "/" in name or "\0" in name:
            raise CorruptDataError(f"tree holds an unsafe name {name!r}")
        if name in seen:
            raise CorruptDataError(f"tree holds {name!r} twice")
        seen.add(name)
        mode, mtime, uid, gid = get("mode", 0), get("mtime", 0), get("uid", 0), get("gid", 0)
        if type(mode) is not int or not 0 <= mode <= 0o177777:
            raise _bad("mode")
        if type(mtime) is not int or not -(1 << 62) <= mtime <= 1 << 62:
            raise _bad("mtime")
        if type(uid) is not int or not 0 <= uid <= 1 << 32:
            raise _bad("uid")
        if type(gid) is not int or not 0 <= gid <= 1 << 32:
            raise _bad("gid")
        typ = get("type")
        if typ == FILE:
            size, inode, blobs = get("size", 0), get("inode", 0), get("blobs")
            if type(size) is not int or not 0 <= size <= MAX_SIZE:
                raise _bad("size")
            if type(inode) is not int or not 0 <= inode <= 1 << 64:
                raise _bad("inode")
            if type(blobs) is not list:
                raise CorruptDataError("file entry without a block list")
            ids = []
            for b in blobs:
                if type(b) is not str or len(b) != 64:
                    raise _bad("blob id")
                try:
                    bid = fromhex(b)
                except ValueError:
                    raise _bad("blob id") from None
                if len(bid) != 32:           # fromhex skips spaces: "aa bb ..." must not pass
                    raise _bad("blob id")
                ids.append(bid)
            append(Node(name, typ, mode, mtime, size, uid, gid, inode, tuple(ids)))
        elif typ == DIR:
            append(Node(name, typ, mode, mtime, 0, uid, gid, 0, (), _hexid(get("tree"))))
        elif typ == SYMLINK:
            t = get("target")
            if not isinstance(t, str) or "\0" in t:
                raise CorruptDataError("symlink entry has an invalid target")
            append(Node(name, typ, mode, mtime, 0, uid, gid, 0, (), None, t))
        else:
            raise CorruptDataError(f"tree entry has an unknown type {typ!r}")
    return out
