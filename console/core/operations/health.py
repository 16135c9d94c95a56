"""The health check of a backup copy job: read, decrypt and re-hash the blocks of its copies in the target.

Scope (job option `health_check_scope`): "newest" (default: the newest point of each object), "all" (every pack of
the target, as `repo check --read-data`) or "sample" (a tenth of the packs). A point that fails is marked corrupted;
the next copy session re-sends its good blocks from the source (copy_job.plan_copy → repair).
"""

from __future__ import annotations

import logging
from pathlib import Path

from console.core import paths
from console.core.catalog import Catalog
from console.core.engine.check import check_repository
from console.core.engine.events import CancelToken, Events
from console.core.engine.references import point_blobs
from console.core.errors import ConsoleError, RepositoryError, UsageError
from console.core.model import JobKind, PointState, RestorePoint, Session
from console.core.operations.repositories import open_repository
from console.core.operations.sessions import JobLock, SessionRecorder, run_session
from console.core.repository.locks import READ
from console.core.repository.repo import Repository
from console.core.units import plural

log = logging.getLogger(__name__)
SCOPES = ("newest", "all", "sample")


def verify_point(repo: Repository, point: RestorePoint, cancel: CancelToken) -> str | None:
    """None when every block of the point reads back intact, else the first reason it does not."""
    try:
        doc = repo.read_point(point.manifest)
    except ConsoleError as e:
        return f"manifest unreadable: {e}"
    blobs, errors = point_blobs(repo, bytes.fromhex(doc.root))
    if errors:
        return errors[0]
    bad = 0
    first = ""
    for bid in blobs:
        cancel.check()
        try:
            repo.read_blob(bid)
        except ConsoleError as e:
            bad += 1
            first = first or str(e)
    return f"{plural(bad, 'block')} damaged ({first})" if bad else None


def run_health_check(catalog: Catalog, job_name: str, data_dir: Path, events: Events | None = None,
                     cancel: CancelToken | None = None, scope: str | None = None) -> Session:
    job = catalog.get_job(job_name)
    if job.kind != JobKind.COPY:
        raise UsageError(f"{job_name} is a backup job; the health check verifies backup copy jobs' copies "
                         "(for any repository: repo check NAME --read-data)")
    scope = scope or job.options.get("health_check_scope") or "newest"
    if scope not in SCOPES:
        raise UsageError(f"health check scope must be one of {', '.join(SCOPES)}")
    cancel = cancel or CancelToken()

    def body(rec: SessionRecorder) -> None:
        backups = [b for b in catalog.list_backups(repository=job.repository)
                   if b.kind == JobKind.COPY and b.job == job.name]
        points = [p for b in backups for p in catalog.list_points(backup=b.id) if p.state != PointState.MISSING]
        if scope == "newest":
            newest: dict[tuple[str, str], RestorePoint] = {}
            for p in points:
                newest[(p.backup, p.object)] = p        # oldest first: the last one wins
            points = list(newest.values())
        _, repo = open_repository(catalog, job.repository)
        corrupted: dict[str, str] = {}
        with repo, repo.lock(READ, f"health check of {job.name}"):
            if scope == "newest":
                for p in points:
                    reason = verify_point(repo, p, cancel)
                    if reason:
                        corrupted[p.id] = reason
            else:
                res = check_repository(repo, True, 100.0 if scope == "all" else 10.0, rec, cancel)
                corrupted = {pid: r for pid, r in res.corrupted.items() if pid in {p.id for p in points}}
                for name in res.damaged_manifests:
                    pid = name.rsplit("_", 1)[-1].split(".", 1)[0]
                    if any(p.id == pid for p in points):
                        corrupted[pid] = "manifest unreadable"
        for p in points:
            if p.id in corrupted:
                catalog.set_point_state(p.id, PointState.CORRUPTED)
                rec.log("error", f"copy of restore point {p.source_point} ({p.created:%Y-%m-%d %H:%M}) is corrupted: "
                                 f"{corrupted[p.id]}; the next copy session repairs it from the source", p.object)
            elif p.state == PointState.CORRUPTED and scope != "sample":
                catalog.set_point_state(p.id, PointState.OK)
        rec.stats.update(points=len(points), corrupted=sorted(corrupted), scope=scope)
        if corrupted:
            are = "is" if len(corrupted) == 1 else "are"
            raise RepositoryError(f"health check of {job.name}: {len(corrupted)} of "
                                  f"{plural(len(points), 'checked restore point')} {are} corrupted; the next copy "
                                  "session repairs them")
        rec.log("info", f"health check of {job.name}: {plural(len(points), 'restore point')} verified, all intact")

    with JobLock(paths.locks_dir(data_dir), job.name):
        session, _ = run_session(catalog, job.name, "health-check", body, events, cancel)
    return session
