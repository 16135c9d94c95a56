"""Applying a retention policy to one backup: decide (pure module), then delete manifests and record GFS flags
in the catalog and in the repository (backups/<id>/retention.json, so a rescan restores them)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from console.core.catalog import Catalog
from console.core.engine.events import Events
from console.core.engine.retention import PointRef, RetentionPolicy, evaluate
from console.core.errors import ConsoleError
from console.core.model import PointState
from console.core.repository.repo import Repository

log = logging.getLogger(__name__)


def retention_doc_name(backup_id: str) -> str:
    return f"backups/{backup_id}/retention.json"


def read_retention_doc(repo: Repository, backup_id: str) -> dict[str, dict]:
    """point id -> {"gfs": [...], "expires": {flag: iso date}}; empty when absent or unreadable."""
    name = retention_doc_name(backup_id)
    if not repo.storage.exists(name):
        return {}
    try:
        doc = json.loads(repo.open_doc(repo.storage.read(name), b"retention"))
        return {k: v for k, v in doc.get("points", {}).items() if isinstance(v, dict)}
    except (ConsoleError, ValueError, AttributeError) as e:
        log.warning("retention.json of backup %s unreadable: %s", backup_id, e)
        return {}


def write_retention_doc(repo: Repository, backup_id: str, points: dict[str, dict]) -> None:
    data = json.dumps({"v": 1, "points": points}, sort_keys=True).encode()
    repo.storage.write(retention_doc_name(backup_id), repo.seal_doc(data, b"retention"))


def apply_retention(catalog: Catalog, repo: Repository, backup_id: str, policy: RetentionPolicy, events: Events,
                    now: datetime | None = None) -> int:
    """Delete the points the policy does not keep (per object); returns how many were deleted.

    Only healthy points count and are deleted: missing or corrupted points are the admin's call."""
    now = now or datetime.now().astimezone()
    points = [p for p in catalog.list_points(backup=backup_id) if p.state == PointState.OK]
    by_object: dict[str, list] = {}
    for p in points:
        by_object.setdefault(p.object, []).append(p)
    deleted = 0
    flags: dict[str, dict] = {}
    for obj, chain in by_object.items():
        decisions = evaluate(policy, [PointRef(p.id, p.created, frozenset(p.gfs)) for p in chain], now)
        by_id = {p.id: p for p in chain}
        for d in decisions:
            p = by_id[d.id]
            gfs = [f for f in ("W", "M", "Y") if f in d.gfs]   # held flags, expired ones too (sticky)
            if d.keep:
                if sorted(gfs) != sorted(p.gfs):
                    catalog.set_point_gfs(p.id, gfs)
                if gfs:
                    flags[p.id] = {"gfs": gfs, "expires": {k: v.isoformat() for k, v in d.gfs_expires.items()}}
                continue
            if p.manifest:
                repo.delete_point(p.manifest)
            catalog.delete_point(p.id)
            deleted += 1
            events.log("info", f"retention: removed restore point {p.id} of {p.created:%Y-%m-%d %H:%M}", obj)
    if flags or repo.storage.exists(retention_doc_name(backup_id)):
        write_retention_doc(repo, backup_id, flags)
    return deleted
