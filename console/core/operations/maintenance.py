"""Repository-wide operations: rescan (rebuild the catalog from the repository), check, GC, browse, restore."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from console.core.catalog import Catalog
from console.core.engine.check import check_repository
from console.core.engine.events import CancelToken, Events
from console.core.engine.gc import collect_garbage
from console.core.engine.restore import RestoreStats, restore_point, split_path
from console.core.errors import ConsoleError, CorruptDataError, NotFoundError, RepositoryError, UsageError
from console.core.model import Backup, JobKind, PointState, RestorePoint, Session
from console.core.operations.backup_job import point_from_doc
from console.core.operations.repositories import open_repository
from console.core.operations.retention import read_retention_doc
from console.core.operations.sessions import SessionRecorder, run_session
from console.core.repository.locks import EXCLUSIVE, READ
from console.core.repository.manifest import parse_time
from console.core.repository.repo import Repository
from console.core.repository.tree import DIR, Listed
from console.core.units import plural

log = logging.getLogger(__name__)
READ_LOCK_WAIT = 60.0     # a restore waits this long for GC (exclusive) to finish


@dataclass
class RescanResult:
    backups_imported: int = 0
    points_imported: int = 0
    points_missing: int = 0
    points_back: int = 0
    damaged: list[str] = field(default_factory=list)


def _sync_catalog(catalog: Catalog, repo: Repository, repo_name: str, rec: Events) -> RescanResult:
    res = RescanResult()
    seen_points: set[str] = set()
    known_backups = {b.id: b for b in catalog.list_backups(repository=repo_name)}
    for bid in repo.list_backup_ids():
        try:
            doc = repo.read_backup_doc(bid)
        except ConsoleError as e:
            res.damaged.append(f"backups/{bid}/backup.json: {e}")
            continue
        if bid not in known_backups:
            catalog.upsert_backup(Backup(id=bid, repository=repo_name, job=doc.job, kind=JobKind(doc.kind),
                                         source_backup=doc.source_backup,
                                         created=parse_time(doc.created) if doc.created else datetime.now(UTC)))
            res.backups_imported += 1
            rec.log("info", f"imported backup {bid} of job {doc.job}")
        flags = read_retention_doc(repo, bid)
        known = {p.id: p for p in catalog.list_points(backup=bid)}
        for name, pdoc in repo.iter_points(bid):
            if isinstance(pdoc, Exception):
                res.damaged.append(f"{name}: {pdoc}")
                continue
            seen_points.add(pdoc.id)
            old = known.get(pdoc.id)
            if old is None:
                gfs = [f for f in flags.get(pdoc.id, {}).get("gfs", []) if f in ("W", "M", "Y")]
                catalog.upsert_point(point_from_doc(pdoc, name, gfs))
                res.points_imported += 1
            elif old.state == PointState.MISSING:
                catalog.set_point_state(old.id, PointState.OK)
                res.points_back += 1
    for p in catalog.list_points(repository=repo_name):
        if p.id not in seen_points and p.state != PointState.MISSING:
            catalog.set_point_state(p.id, PointState.MISSING)
            res.points_missing += 1
            rec.log("warning", f"restore point {p.id} of {p.created:%Y-%m-%d %H:%M} is missing from the repository",
                    p.object)
    for d in res.damaged:
        rec.log("warning", f"unreadable: {d}")
    return res


def rescan(catalog: Catalog, repo_name: str, events: Events | None = None) -> tuple[Session, RescanResult | None]:
    def body(rec: SessionRecorder) -> RescanResult:
        try:
            _entry, repo = open_repository(catalog, repo_name)
        except RepositoryError:
            # the whole repository is gone: every point it held is missing (nothing is deleted)
            n = 0
            for p in catalog.list_points(repository=repo_name):
                if p.state != PointState.MISSING:
                    catalog.set_point_state(p.id, PointState.MISSING)
                    n += 1
            if n:
                rec.log("warning", f"{plural(n, 'restore point')} marked missing")
            raise
        with repo, repo.lock(READ, "rescan"):
            res = _sync_catalog(catalog, repo, repo_name, rec)
        rec.stats.update(backups_imported=res.backups_imported, points_imported=res.points_imported,
                         points_missing=res.points_missing, points_back=res.points_back)
        return res

    return run_session(catalog, repo_name, "rescan", body, events)


def check(catalog: Catalog, repo_name: str, read_data: bool = False, subset: float = 100.0,
          events: Events | None = None, cancel: CancelToken | None = None) -> Session:
    if not 0 < subset <= 100:
        raise UsageError("--subset is a percentage between 0 and 100")

    def body(rec: SessionRecorder) -> None:
        _entry, repo = open_repository(catalog, repo_name)
        with repo, repo.lock(READ, "health check"):
            res = check_repository(repo, read_data, subset, rec, cancel)
            known = {p.id: p for p in catalog.list_points(repository=repo_name)}
            for pid, p in known.items():
                if pid in res.corrupted:
                    if p.state != PointState.CORRUPTED:
                        catalog.set_point_state(pid, PointState.CORRUPTED)
                elif pid in res.points and p.state == PointState.CORRUPTED and read_data and subset >= 100:
                    catalog.set_point_state(pid, PointState.OK)    # only a full read can clear the mark
                elif pid not in res.points:
                    if p.state != PointState.MISSING:
                        catalog.set_point_state(pid, PointState.MISSING)
                    if not any(pid in name for name in res.damaged_manifests):
                        res.errors.append(f"restore point {pid} ({p.object}, {p.created:%Y-%m-%d %H:%M}) is missing: "
                                          "its manifest is gone from the repository")
        for e in res.errors:
            rec.log("error", e)
        rec.stats.update(points=len(res.points), corrupted=sorted(res.corrupted), packs=res.packs_total,
                         packs_read=res.packs_read, read=res.bytes_read, duration=round(res.duration, 3),
                         errors=len(res.errors))
        if res.errors:
            raise RepositoryError(f"repository {repo_name} has {plural(len(res.errors), 'problem')}; "
                                  f"{plural(len(res.corrupted), 'restore point')} corrupted")

    session, _ = run_session(catalog, repo_name, "check", body, events, cancel)
    return session


def gc(catalog: Catalog, repo_name: str, events: Events | None = None, cancel: CancelToken | None = None) -> Session:
    def body(rec: SessionRecorder) -> None:
        _entry, repo = open_repository(catalog, repo_name)
        with repo, repo.lock(EXCLUSIVE, "garbage collection", timeout=60):
            stats = collect_garbage(repo, rec, cancel)
        rec.stats.update(stats.as_dict())

    session, _ = run_session(catalog, repo_name, "gc", body, events, cancel)
    return session


def load_point(catalog: Catalog, ref: str) -> tuple[RestorePoint, Backup]:
    point = catalog.get_point(ref)
    return point, catalog.get_backup(point.backup)


class _OpenRepositories:
    """Browsing opens one folder at a time (the GUI's lazy tree): keep the repository open between calls instead of
    reading its config, keys and index again each time. An entry is reused for BROWSE_KEEP seconds; a tree the
    cached index does not know makes it reload the index once (a backup may have added it meanwhile)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._repos: dict[tuple[str, str, str], tuple[Repository, float]] = {}

    def get(self, catalog: Catalog, name: str, fresh: bool = False) -> Repository:
        key = (str(catalog.path), name, catalog.get_repository(name).location)   # an edited entry: a new key
        now = time.monotonic()
        with self._lock:
            hit = self._repos.get(key)
            if hit is not None and not fresh and now - hit[1] < BROWSE_KEEP:
                return hit[0]
        _entry, repo = open_repository(catalog, name)
        with self._lock:
            old = self._repos.pop(key, None)
            self._repos[key] = (repo, now)
        if old is not None:
            old[0].close()
        return repo


    def close_all(self) -> None:
        with self._lock:
            repos, self._repos = list(self._repos.values()), {}
        for repo, _at in repos:
            repo.close()


_open_repositories = _OpenRepositories()
BROWSE_KEEP = 120.0


def forget_open_repositories() -> None:
    """Close the repositories kept open for browsing (their indexes and decoded trees go with them)."""
    _open_repositories.close_all()


def browse(catalog: Catalog, ref: str, path: str = "") -> tuple[RestorePoint, list[Listed]]:
    """List one folder of a restore point, as a listing shows it; only the trees on the way are read."""
    point, backup = load_point(catalog, ref)
    if point.state == PointState.MISSING:
        raise RepositoryError(f"restore point {point.id} is missing from repository {backup.repository}")
    repo = _open_repositories.get(catalog, backup.repository)
    try:
        return point, _browse_in(repo, point, path)
    except CorruptDataError:
        repo = _open_repositories.get(catalog, backup.repository, fresh=True)   # newer than the cached index?
        return point, _browse_in(repo, point, path)


def _browse_in(repo: Repository, point: RestorePoint, path: str) -> list[Listed]:
    tid = point.root
    for part in split_path(path):
        entry = next((e for e in repo.load_listing(bytes.fromhex(tid)) if e.name == part), None)
        if entry is None:
            raise NotFoundError(f"{path} does not exist in restore point {point.id}")
        if entry.type != DIR or entry.tree is None:
            return [entry]
        tid = entry.tree
    return repo.load_listing(bytes.fromhex(tid))


def restore(catalog: Catalog, ref: str, dest: str, paths: list[str] | None = None, overwrite: str = "never",
            events: Events | None = None, cancel: CancelToken | None = None) -> tuple[Session, RestoreStats | None]:
    point, backup = load_point(catalog, ref)

    def body(rec: SessionRecorder) -> RestoreStats:
        if point.state == PointState.MISSING:
            raise RepositoryError(f"restore point {point.id} is missing from repository {backup.repository}; "
                                  "restore from a copy instead")
        _entry, repo = open_repository(catalog, backup.repository)
        with repo, repo.lock(READ, f"restore of {point.id}", timeout=READ_LOCK_WAIT):
            try:
                doc = repo.read_point(point.manifest)
            except ConsoleError:
                if repo.storage.exists(point.manifest):
                    raise
                catalog.set_point_state(point.id, PointState.MISSING)
                raise RepositoryError(f"restore point {point.id} is gone from repository {backup.repository} "
                                      "(now marked missing); restore from a copy instead") from None
            rec.object_status(point.object, "running")
            t0 = time.monotonic()
            stats = restore_point(repo, doc, dest, paths, overwrite, rec, cancel)
            rec.object_status(point.object, "warning" if stats.errors else "success",
                              f"{stats.files} files to {dest}")
        rec.stats.update(processed=stats.bytes, read=stats.bytes, transferred=stats.bytes,
                         duration=round(time.monotonic() - t0, 3), files=stats.files, skipped=stats.skipped,
                         errors=stats.errors, rate=round(stats.bytes / stats.duration) if stats.duration else 0,
                         point=point.id, destination=dest)
        if stats.errors:
            raise ConsoleError(f"{plural(stats.errors, 'item')} could not be restored (see the session log)")
        return stats

    return run_session(catalog, backup.job, "restore", body, events, cancel)

