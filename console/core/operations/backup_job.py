"""Running a backup job: one restore point per source, then retention, then GC of what retention freed."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from console.core import paths
from console.core.catalog import Catalog
from console.core.engine.backup import backup_object
from console.core.engine.events import CancelToken, Events
from console.core.engine.gc import collect_garbage
from console.core.engine.pipeline import BoundedPool, BusyClock
from console.core.engine.retention import RetentionPolicy
from console.core.errors import ConsoleError, LockedError, UsageError
from console.core.model import Backup, JobKind, PointState, PointType, RestorePoint, Session, SessionStatus
from console.core.operations.repositories import open_repository
from console.core.operations.retention import apply_retention
from console.core.operations.sessions import JobLock, SessionRecorder, run_session
from console.core.repository.locks import EXCLUSIVE, WRITE
from console.core.repository.manifest import BackupDoc, PointDoc
from console.core.repository.repo import PackWriter, Repository
from console.core.units import plural

log = logging.getLogger(__name__)
WRITE_LOCK_WAIT = 3600.0     # sessions on one repository queue up rather than fail


def ensure_backup(catalog: Catalog, repo: Repository, repo_name: str, job: str, kind: str = "backup",
                  source_backup: str | None = None, existing: Backup | None = None) -> Backup:
    """The backup (folder in the repository) of `job`, created on first use (and again if its folder is gone).

    A copy job has one backup per source backup: its caller finds it (`existing`), not the job name."""
    backup = existing if kind == "copy" else catalog.find_backup(repo_name, job)
    if backup is not None and repo.storage.exists(f"backups/{backup.id}/backup.json"):
        return backup
    bid = backup.id if backup is not None else repo.new_id()
    now = datetime.now(UTC)
    repo.write_backup_doc(BackupDoc(id=bid, job=job, kind=kind, source_backup=source_backup,
                                    created=now.isoformat(timespec="seconds")))
    backup = Backup(id=bid, repository=repo_name, job=job, kind=JobKind(kind), source_backup=source_backup,
                    created=now)
    catalog.upsert_backup(backup)
    return backup


def point_from_doc(doc: PointDoc, manifest: str, gfs: list[str] | None = None,
                   state: PointState = PointState.OK) -> RestorePoint:
    return RestorePoint(id=doc.id, backup=doc.backup, object=doc.object, created=doc.created_at,
                        type=PointType(doc.type), state=state, gfs=gfs or [], data_size=doc.data_size,
                        stored_size=doc.stored_size, files=doc.files, manifest=manifest,
                        source_point=doc.source_point, root=doc.root)


def _previous(catalog: Catalog, repo: Repository, backup_id: str, obj: str) -> PointDoc | None:
    for p in reversed(catalog.list_points(backup=backup_id, object=obj, state=PointState.OK)):
        try:
            return repo.read_point(p.manifest)
        except ConsoleError as e:
            log.warning("previous point %s unreadable (%s)", p.id, e)
    return None


def gc_after_retention(repo: Repository, events: Events, cancel: CancelToken) -> None:
    try:
        lock = repo.lock(EXCLUSIVE, "garbage collection after retention")
    except LockedError:
        events.log("info", "space of removed restore points is reclaimed by the next GC (repository busy)")
        return
    with lock:
        collect_garbage(repo, events, cancel)


def run_backup_job(catalog: Catalog, job_name: str, data_dir: Path, events: Events | None = None,
                   cancel: CancelToken | None = None, active_full: bool = False) -> Session:
    job = catalog.get_job(job_name)
    if job.kind != JobKind.BACKUP:
        raise UsageError(f"{job_name} is a backup copy job")
    cancel = cancel or CancelToken()
    with JobLock(paths.locks_dir(data_dir), job.name):
        def body(rec: SessionRecorder) -> list[RestorePoint]:
            if not job.sources:
                raise UsageError(f"job {job.name} has no sources")
            entry, repo = open_repository(catalog, job.repository)
            points: list[RestorePoint] = []
            try:
                with repo.lock(WRITE, f"backup job {job.name}", timeout=WRITE_LOCK_WAIT):
                    repo.recover_unindexed_packs()
                    backup = ensure_backup(catalog, repo, entry.name, job.name)
                    points = _backup_sources(catalog, repo, backup, job.sources, rec, cancel, active_full)
                    policy = RetentionPolicy.from_dict(job.retention)
                    removed = apply_retention(catalog, repo, backup.id, policy, rec)
                if removed:
                    gc_after_retention(repo, rec, cancel)
            finally:
                repo.close()
            return points

        session, _ = run_session(catalog, job.name, "backup", body, events, cancel)
    catalog.set_job_result(job.name, session.status.value)
    return session


def _backup_sources(catalog: Catalog, repo: Repository, backup: Backup, sources: list[str], rec: SessionRecorder,
                    cancel: CancelToken, active_full: bool) -> list[RestorePoint]:
    points: list[RestorePoint] = []
    totals = {"processed": 0, "read": 0, "transferred": 0, "new_raw": 0, "files": 0, "files_new": 0,
              "files_changed": 0, "files_unchanged": 0}
    failed: list[str] = []
    busy = BusyClock()
    elapsed = 0.0
    with BoundedPool() as pool:
        writer = PackWriter(repo)
        try:
            for source in sources:
                obj = os.path.abspath(source)
                rec.object_status(obj, SessionStatus.RUNNING.value)
                prev = None if active_full else _previous(catalog, repo, backup.id, obj)
                try:
                    doc, stats = backup_object(repo, writer, pool, obj, backup.id, backup.job, prev, rec, cancel,
                                               active_full)
                except UsageError as e:          # this source only (missing folder): the others go on
                    rec.log("error", str(e), obj)
                    rec.object_status(obj, SessionStatus.FAILED.value, str(e))
                    failed.append(obj)
                    continue
                point = point_from_doc(doc, repo.point_name(doc))
                catalog.upsert_point(point)
                points.append(point)
                for k in totals:
                    totals[k] += stats.as_dict()[k] if k != "transferred" else stats.stored
                elapsed += stats.duration
                p = rec.last_progress
                for stage, share in (p.busy if p else {}).items():
                    busy.add(stage, share * stats.duration)
                rec.object_status(obj, (SessionStatus.WARNING if stats.warnings else SessionStatus.SUCCESS).value,
                                  f"{doc.type}, {stats.files} files")
                rec.log("info", f"restore point {doc.id} ({doc.type}): {stats.files} files, "
                                f"{stats.read} bytes read, {stats.stored} bytes stored", obj)
        except BaseException:
            writer.abort()
            raise
    shares = busy.shares(elapsed)
    new_raw, stored = totals.pop("new_raw"), totals["transferred"]
    rec.stats.update(totals)
    rec.stats.update(
        duration=round(elapsed, 3), rate=round(totals["processed"] / elapsed) if elapsed else 0,
        dedup_ratio=round(totals["read"] / new_raw, 2) if new_raw else None,
        compression_ratio=round(new_raw / stored, 2) if stored else None,
        bottleneck=BusyClock.bottleneck(shares), busy=shares, points=[p.id for p in points])
    if failed:   # the points made are kept; retention waits for a run where every source worked
        raise ConsoleError(f"{len(failed)} of {plural(len(sources), 'source')} could not be backed up: "
                           f"{', '.join(failed)}")
    return points
