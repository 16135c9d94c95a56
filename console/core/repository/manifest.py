"""Restore point manifests and backup descriptors: the small documents that make a repository self-describing.

backups/<backup-id>/backup.json                         -> BackupDoc
backups/<backup-id>/<object-dir>/<utc-stamp>_<id>.point -> PointDoc (written last: a point exists once this does)
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from console.core.errors import CorruptDataError

POINT_SUFFIX = ".point"
_ID = re.compile(r"^[0-9a-f]{16}$")


def check_id(v: object, what: str = "id") -> str:
    if not isinstance(v, str) or not _ID.match(v):
        raise CorruptDataError(f"invalid {what} {v!r}")
    return v


def utc_stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def parse_time(v: object) -> datetime:
    if not isinstance(v, str):
        raise CorruptDataError("invalid timestamp")
    try:
        t = datetime.fromisoformat(v)
    except ValueError:
        raise CorruptDataError(f"invalid timestamp {v!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass
class BackupDoc:
    id: str
    job: str
    kind: str = "backup"                 # backup | copy
    source_backup: str | None = None
    created: str = ""

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> BackupDoc:
        d = _load(data, "backup descriptor")
        kind = d.get("kind", "backup")
        if kind not in ("backup", "copy") or not isinstance(d.get("job"), str):
            raise CorruptDataError("backup descriptor has invalid fields")
        sb = d.get("source_backup")
        return cls(id=check_id(d.get("id"), "backup id"), job=d["job"], kind=kind,
                   source_backup=check_id(sb, "source backup id") if sb is not None else None,
                   created=str(d.get("created", "")))


@dataclass
class PointDoc:
    id: str
    backup: str
    object: str                           # the protected object (source folder path)
    created: str                          # ISO 8601 UTC
    type: str                             # full | increment
    root: str                             # root tree id (hex)
    data_size: int = 0
    stored_size: int = 0
    files: int = 0
    dirs: int = 0
    job: str = ""
    source_point: str | None = None       # for copies: the point this one was copied from
    stats: dict = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @property
    def created_at(self) -> datetime:
        return parse_time(self.created)

    @classmethod
    def from_bytes(cls, data: bytes) -> PointDoc:
        d = _load(data, "restore point manifest")
        try:
            doc = cls(id=check_id(d["id"], "point id"), backup=check_id(d["backup"], "backup id"),
                      object=str(d["object"]), created=str(d["created"]), type=str(d["type"]), root=str(d["root"]),
                      data_size=int(d.get("data_size", 0)), stored_size=int(d.get("stored_size", 0)),
                      files=int(d.get("files", 0)), dirs=int(d.get("dirs", 0)), job=str(d.get("job", "")),
                      source_point=d.get("source_point"), stats=dict(d.get("stats") or {}))
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise CorruptDataError(f"restore point manifest has invalid fields ({e})") from None
        if doc.type not in ("full", "increment") or not re.fullmatch(r"[0-9a-f]{64}", doc.root):
            raise CorruptDataError("restore point manifest has invalid fields")
        if doc.source_point is not None:
            check_id(doc.source_point, "source point id")
        parse_time(doc.created)
        return doc


def _load(data: bytes, what: str) -> dict:
    try:
        d = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CorruptDataError(f"{what} is not valid JSON") from None
    if not isinstance(d, dict):
        raise CorruptDataError(f"{what} has an unknown layout")
    return d
