"""Running a backup copy job: which points to copy (immediate / periodic, first run, history), the copy window,
repairing corrupted copies from the source, then retention and GC on the target."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console.core import paths
from console.core.catalog import Catalog
from console.core.engine.copy import Copier, CopyStats
from console.core.engine.events import CancelToken, Events
from console.core.engine.repair import drop_locations, evacuate_packs
from console.core.engine.retention import RetentionPolicy
from console.core.errors import CancelledError, ConsoleError, LockedError, UsageError
from console.core.model import Backup, Job, JobKind, PointState, RestorePoint, Session, SessionStatus
from console.core.operations.backup_job import WRITE_LOCK_WAIT, ensure_backup, gc_after_retention, point_from_doc
from console.core.operations.repositories import open_repository
from console.core.operations.retention import apply_retention
from console.core.operations.sessions import JobLock, SessionRecorder, run_session
from console.core.repository.locks import EXCLUSIVE, READ, WRITE
from console.core.repository.packfile import pack_name
from console.core.repository.repo import Repository
from console.core.units import plural

log = logging.getLogger(__name__)
WINDOW_STOP = "stopped by copy window"
Clock = Callable[[], datetime]


def local_now() -> datetime:
    return datetime.now().astimezone()


def copy_job_sources(catalog: Catalog, job: Job) -> tuple[list[str], list[str]]:
    """(linked backup job names, source repository names) of a copy job."""
    repos = [s.removeprefix("repo:") for s in job.sources if s.startswith("repo:")]
    return catalog.linked_backup_jobs(job.name), repos


def source_backups(catalog: Catalog, job: Job) -> list[Backup]:
    """Every backup the copy job copies: linked jobs' backups and all backups in source repositories."""
    jobs, repos = copy_job_sources(catalog, job)
    return [b for b in catalog.list_backups()
            if b.kind == JobKind.BACKUP and b.repository != job.repository
            and (b.job in jobs or b.repository in repos)]


def target_backup(catalog: Catalog, job: Job, source: Backup) -> Backup | None:
    for b in catalog.list_backups(repository=job.repository):
        if b.kind == JobKind.COPY and b.job == job.name and b.source_backup == source.id:
            return b
    return None


@dataclass
class CopyPlan:
    source: Backup
    target: Backup | None
    copy: list[RestorePoint]          # source points to copy, oldest first
    repair: list[RestorePoint]        # source points whose copy is corrupted


def plan_copy(catalog: Catalog, job: Job, source: Backup, sync_all: bool = False) -> CopyPlan:
    """Which points of `source` this run copies. Immediate: every point newer than the newest copy (the first run
    only the latest point, unless copy history); periodic: the latest point if not copied yet."""
    tb = target_backup(catalog, job, source)
    copies = {p.source_point: p for p in catalog.list_points(backup=tb.id)} if tb else {}
    history = sync_all or bool(job.options.get("copy_history"))
    periodic = job.options.get("mode") == "periodic"
    plan = CopyPlan(source, tb, [], [])
    by_object: dict[str, list[RestorePoint]] = {}
    for p in catalog.list_points(backup=source.id, state=PointState.OK):
        by_object.setdefault(p.object, []).append(p)
    for chain in by_object.values():
        chain.sort(key=lambda p: (p.created, p.id))
        copied = [p for p in chain if p.id in copies]
        for p in copied:
            state = copies[p.id].state
            if state == PointState.CORRUPTED:
                plan.repair.append(p)
            elif state == PointState.MISSING:
                plan.copy.append(p)        # its files are gone from the target: copy it again
        todo = [p for p in chain if p.id not in copies]
        if not todo:
            continue
        if periodic:
            if chain[-1] in todo:
                plan.copy.append(chain[-1])
        elif history and not copied:
            plan.copy.extend(todo)
        elif not copied:
            plan.copy.append(chain[-1])
        else:
            newest = max(p.created for p in copied)
            plan.copy.extend(p for p in todo if p.created > newest or sync_all)
    plan.copy.sort(key=lambda p: (p.created, p.id))
    return plan


def pending_points(catalog: Catalog, job_name: str) -> list[RestorePoint]:
    """What a run of the copy job would copy or repair now (the scheduler's immediate-copy trigger)."""
    job = catalog.get_job(job_name)
    out: list[RestorePoint] = []
    for b in source_backups(catalog, job):
        plan = plan_copy(catalog, job, b)
        out += plan.copy + plan.repair
    return out


class WindowCancel(CancelToken):
    """A cancel token that also trips when the copy window closes (checked on every engine check)."""

    def __init__(self, parent: CancelToken, allows: Callable[[datetime], bool] | None, clock: Clock) -> None:
        super().__init__()
        self.parent, self.allows, self.clock = parent, allows, clock

    def _poll(self) -> None:
        if self._event.is_set():
            return
        if self.parent.cancelled:
            self.cancel(self.parent.reason)
        elif self.allows is not None and not self.allows(self.clock()):
            self.cancel(WINDOW_STOP)

    @property
    def cancelled(self) -> bool:
        self._poll()
        return super().cancelled

    def check(self) -> None:
        self._poll()
        super().check()


def _window(job: Job) -> Callable[[datetime], bool] | None:
    spec = job.options.get("window")
    if not spec:
        return None
    from console.core.scheduling.specs import parse_window
    return parse_window(spec).allows


def run_copy_job(catalog: Catalog, job_name: str, data_dir: Path, events: Events | None = None,
                 cancel: CancelToken | None = None, *, sync_all: bool = False, clock: Clock | None = None,
                 ignore_window: bool = False) -> Session:
    job = catalog.get_job(job_name)
    if job.kind != JobKind.COPY:
        raise UsageError(f"{job_name} is a backup job, not a backup copy job")
    clock = clock or local_now
    allows = None if ignore_window else _window(job)
    if allows is not None and not allows(clock()):
        raise ConsoleError(f"copy job {job.name}: outside its copy window ({job.options['window']}); it runs in the "
                           "next window (or give --ignore-window to copy now)")
    token = WindowCancel(cancel or CancelToken(), allows, clock)
    with JobLock(paths.locks_dir(data_dir), job.name):
        session, _ = run_session(catalog, job.name, "copy", lambda rec: _copy_body(catalog, job, rec, token, sync_all),
                                 events, token)
    catalog.set_job_result(job.name, session.status.value)
    return session


def _copy_body(catalog: Catalog, job: Job, rec: SessionRecorder, cancel: CancelToken, sync_all: bool) -> list[str]:
    sources = source_backups(catalog, job)
    jobs, repos = copy_job_sources(catalog, job)
    if not jobs and not repos:
        raise UsageError(f"copy job {job.name} has no sources: link a backup job (job link BACKUPJOB {job.name})")
    plans = [plan_copy(catalog, job, b, sync_all) for b in sources]
    plans = [p for p in plans if p.copy or p.repair]
    totals = {"processed": 0, "read": 0, "transferred": 0, "points": 0, "repaired": 0, "duration": 0.0}
    busy_weighted: dict[str, float] = {}
    copied: list[str] = []
    if not plans:
        rec.log("info", "nothing to copy: every restore point of the sources is already in the target")
    entry, dst = open_repository(catalog, job.repository) if plans else (None, None)
    failed: list[str] = []
    damaged_packs: set[bytes] = set()
    try:
        if dst is not None:
            with dst.lock(WRITE, f"backup copy job {job.name}", timeout=WRITE_LOCK_WAIT):
                dst.recover_unindexed_packs()
                for plan in plans:
                    try:
                        copied += _copy_backup(catalog, job, plan, dst, rec, cancel, totals, busy_weighted,
                                               damaged_packs)
                    except (CancelledError, UsageError):
                        raise
                    except ConsoleError as e:     # this source failed (unreachable, damaged): the others go on
                        rec.log("error", f"backup {plan.source.id} of job {plan.source.job}: {e}")
                        failed.append(f"{plan.source.job}: {e}")
            if damaged_packs:
                _evacuate(dst, damaged_packs, rec)
            _retention(catalog, job, dst, rec, cancel)
    finally:
        if dst is not None:
            dst.close()
    elapsed = totals["duration"]
    shares = {k: round(v / elapsed, 3) for k, v in busy_weighted.items()} if elapsed else {}
    rec.stats.update(totals)
    rec.stats.update(rate=round(totals["processed"] / elapsed) if elapsed else 0, busy=shares,
                     bottleneck=max(shares, key=lambda k: shares[k]) if shares else "", points=copied)
    if failed:
        raise ConsoleError(f"{plural(len(failed), 'source backup')} could not be copied: {'; '.join(failed)}")
    return copied


def _copy_backup(catalog: Catalog, job: Job, plan: CopyPlan, dst: Repository, rec: SessionRecorder,
                 cancel: CancelToken, totals: dict, busy_weighted: dict[str, float],
                 damaged_packs: set[bytes]) -> list[str]:
    _, src = open_repository(catalog, plan.source.repository)
    copied: list[str] = []
    try:
        with src.lock(READ, f"backup copy job {job.name}", timeout=WRITE_LOCK_WAIT):
            tb = ensure_backup(catalog, dst, job.repository, job.name, "copy", plan.source.id, plan.target)
            copier = Copier(src, dst, rec, cancel, total_bytes=sum(p.data_size for p in plan.copy))
            try:
                if plan.repair:
                    damaged_packs |= _repair(catalog, copier, dst, tb, job, plan.repair, rec, cancel)
                for sp in plan.copy:
                    cancel.check()
                    rec.object_status(sp.object, SessionStatus.RUNNING.value, f"copying point of {sp.created:%c}")
                    try:
                        doc = src.read_point(sp.manifest)
                    except ConsoleError:
                        if src.storage.exists(sp.manifest):
                            raise
                        # deleted since it was listed (retention, an admin): it is missing, the rest goes on
                        catalog.set_point_state(sp.id, PointState.MISSING)
                        rec.log("warning", f"restore point {sp.id} is gone from {plan.source.repository}; "
                                           "marked missing, not copied", sp.object)
                        continue
                    copy = copier.copy_point(doc, tb.id, job.name)
                    point = point_from_doc(copy, dst.point_name(copy))
                    catalog.upsert_point(point)
                    copied.append(point.id)
                    rec.object_status(sp.object, SessionStatus.SUCCESS.value,
                                      f"{plural(len(copied), 'point')} copied")
                    rec.log("info", f"copied restore point {sp.id} ({sp.type.value}, {sp.created:%Y-%m-%d %H:%M}) "
                                    f"as {copy.id}: {copy.stored_size} bytes sent", sp.object)
                stats = copier.finish()
            except BaseException:
                copier.close()
                _add_totals(totals, busy_weighted, copier.elapsed_stats())
                raise
            _add_totals(totals, busy_weighted, stats)
    finally:
        src.close()
    return copied


def _add_totals(totals: dict, busy_weighted: dict[str, float], stats: CopyStats) -> None:
    for k in ("processed", "read", "transferred", "points", "repaired"):
        totals[k] += getattr(stats, k)
    totals["duration"] = round(totals["duration"] + stats.duration, 3)
    for stage, share in stats.busy.items():
        busy_weighted[stage] = busy_weighted.get(stage, 0.0) + share * stats.duration


def _repair(catalog: Catalog, copier: Copier, dst: Repository, tb: Backup, job: Job, points: list[RestorePoint],
            rec: SessionRecorder, cancel: CancelToken) -> set[bytes]:
    """Make corrupted copies whole again from the source's good blocks; returns the damaged packs."""
    damaged: dict = {}
    for sp in points:
        cancel.check()
        doc = copier.src.read_point(sp.manifest)
        bad = copier.repair(doc)
        damaged.update(bad)
        copy = copier.write_manifest(doc, tb.id, job.name)      # the manifest itself may have been the damage
        catalog.upsert_point(point_from_doc(copy, dst.point_name(copy)))
        catalog.set_point_state(copy.id, PointState.OK)
        rec.log("info", f"repaired the copy of restore point {sp.id}: {plural(len(bad), 'block')} sent again",
                sp.object)
    # a pack rebuilt byte for byte has the same id and name: it was replaced by the good copy, keep it
    damaged = {b: loc for b, loc in damaged.items() if loc is None or loc.pack not in copier.written_packs}
    if damaged:
        drop_locations(dst, damaged, rec)
    return {loc.pack for loc in damaged.values() if loc is not None}


def _evacuate(dst: Repository, packs: set[bytes], rec: SessionRecorder) -> None:
    """Rewrite damaged packs without their bad blocks once no reader can be using them."""
    try:
        lock = dst.lock(EXCLUSIVE, "removing damaged packs")
    except LockedError:
        stay = "stays" if len(packs) == 1 else "stay"
        rec.log("info", f"{plural(len(packs), 'damaged pack')} {stay} until the next repair (repository busy)")
        return
    with lock:
        dst.load_index()
        evacuate_packs(dst, {p for p in packs if dst.storage.exists(pack_name(p))}, rec)


def _retention(catalog: Catalog, job: Job, dst: Repository, rec: SessionRecorder, cancel: CancelToken) -> None:
    policy = RetentionPolicy.from_dict(job.retention)
    removed = 0
    with dst.lock(WRITE, f"retention of backup copy job {job.name}", timeout=WRITE_LOCK_WAIT):
        for b in catalog.list_backups(repository=job.repository):
            if b.kind == JobKind.COPY and b.job == job.name:
                removed += apply_retention(catalog, dst, b.id, policy, rec)
    if removed:
        gc_after_retention(dst, rec, cancel)


__all__ = ["WINDOW_STOP", "WindowCancel", "pending_points", "plan_copy", "run_copy_job",
           "source_backups"]
