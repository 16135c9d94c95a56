"""Tree blobs: one per directory, listing its entries sorted by name. Unchanged directories give identical bytes,
hence the same id, so they are stored once and shared between restore points.

Names are `os.fsdecode`d (surrogate escapes keep non-UTF-8 names exact); JSON with ensure_ascii round-trips them.
A decoded tree is validated: a hostile repository cannot smuggle '..', '/' or duplicate names into a restore.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from console.core.errors import CorruptDataError

FILE, DIR, SYMLINK = "file", "dir", "symlink"
MAX_SIZE = 1 << 50


@dataclass(slots=True)
class Node:
    name: str
    type: str
    mode: int = 0
    mtime: int = 0                  # nanoseconds since the epoch
    size: int = 0
    uid: int = 0
    gid: int = 0
    inode: int = 0
    blobs: list[bytes] = field(default_factory=list)   # file content blocks, in order
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
        return bytes.fromhex(v)
    except ValueError:
        raise CorruptDataError("tree entry has an invalid blob id") from None


def encode_tree(nodes: list[Node]) -> bytes:
    nodes = sorted(nodes, key=lambda n: n.name)
    return json.dumps({"v": 1, "nodes": [n.to_json() for n in nodes]}, separators=(",", ":"),
                      sort_keys=True).encode()


def decode_tree(data: bytes) -> list[Node]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CorruptDataError("tree is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("v") != 1 or not isinstance(doc.get("nodes"), list):
        raise CorruptDataError("tree has an unknown layout")
    out: list[Node] = []
    seen: set[str] = set()
    for d in doc["nodes"]:
        if not isinstance(d, dict):
            raise CorruptDataError("tree entry is not an object")
        name = check_name(d.get("name"))
        if name in seen:
            raise CorruptDataError(f"tree holds {name!r} twice")
        seen.add(name)
        typ = d.get("type")
        n = Node(name=name, type=typ, mode=_int(d, "mode", 0, 0o177777), mtime=_int(d, "mtime", -(1 << 62), 1 << 62),
                 uid=_int(d, "uid", 0, 1 << 32), gid=_int(d, "gid", 0, 1 << 32))
        if typ == FILE:
            n.size = _int(d, "size")
            n.inode = _int(d, "inode", 0, 1 << 64)
            blobs = d.get("blobs")
            if not isinstance(blobs, list):
                raise CorruptDataError("file entry without a block list")
            n.blobs = [_hexid(b) for b in blobs]
        elif typ == DIR:
            n.tree = _hexid(d.get("tree"))
        elif typ == SYMLINK:
            t = d.get("target")
            if not isinstance(t, str) or "\0" in t:
                raise CorruptDataError("symlink entry has an invalid target")
            n.target = t
        else:
            raise CorruptDataError(f"tree entry has an unknown type {typ!r}")
        out.append(n)
    return out
