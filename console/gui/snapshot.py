"""Everything the working-area views show, read from the catalog in one go off the GUI thread.

The views never query the catalog themselves: the main window loads a Snapshot in the background (after every
action, when a run ends and when another process changed the catalog) and hands it to each view.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from console.core.catalog import Catalog
from console.core.model import Backup, Job, JobKind, PointState, Repository, RestorePoint, Session
from console.core.operations.copy_job import copy_job_sources
from console.core.operations.protection import SourceProtection, assess_data, is_offsite, media_of
from console.gui.formatting import date_group, now_utc

log = logging.getLogger(__name__)
SESSION_LIMIT = 2000


@dataclass
class JobRow:
    job: Job
    linked: list[str]                       # copy jobs fed by this backup job / backup jobs feeding this copy job
    source_repositories: list[str] = field(default_factory=list)   # copy jobs: whole repositories as sources
    last_session: Session | None = None

    @property
    def name(self) -> str:
        return self.job.name


@dataclass
class PointRow:
    point: RestorePoint
    group_key: int                          # timeline bucket, smaller = newer
    group: str                              # "Today", "Yesterday", "This week", "May 2024"
    source_label: str = ""                  # copies: where the point came from


@dataclass
class BackupRow:
    backup: Backup
    orphaned: bool
    objects: list[str]
    points: int
    missing: int
    corrupted: int
    gfs: int
    stored: int                             # bytes stored by all its points
    newest: datetime | None
    source_label: str                       # copies: "job docs in repository primary"

    @property
    def id(self) -> str:
        return self.backup.id


@dataclass
class RepositoryRow:
    repo: Repository
    backups: int
    points: int
    missing: int
    stored: int
    jobs: list[str]                         # jobs that write into it
    media: str
    offsite: bool

    @property
    def name(self) -> str:
        return self.repo.name


@dataclass
class Snapshot:
    loaded: datetime
    repositories: list[RepositoryRow] = field(default_factory=list)
    jobs: list[JobRow] = field(default_factory=list)
    backups: list[BackupRow] = field(default_factory=list)
    points: dict[str, list[PointRow]] = field(default_factory=dict)     # backup id -> newest first
    sessions: list[Session] = field(default_factory=list)               # newest first
    protection: list[SourceProtection] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.repositories

    def job(self, name: str) -> JobRow | None:
        return next((j for j in self.jobs if j.name == name), None)

    def backup(self, backup_id: str) -> BackupRow | None:
        return next((b for b in self.backups if b.id == backup_id), None)

    def repository(self, name: str) -> RepositoryRow | None:
        return next((r for r in self.repositories if r.name == name), None)

    def point(self, point_id: str) -> PointRow | None:
        for rows in self.points.values():
            for row in rows:
                if row.point.id == point_id:
                    return row
        return None

    def copies_of(self, point: RestorePoint) -> list[PointRow]:
        """The point itself and every copy of it (or of its source) in other backups, newest first."""
        root = point.source_point or point.id
        found = []
        for rows in self.points.values():
            for row in rows:
                p = row.point
                if p.id == root or p.source_point == root or p.id == point.id:
                    found.append(row)
        return found


def load_snapshot(catalog: Catalog, today: date | None = None) -> Snapshot:
    """Read the catalog into view rows. Runs in a worker thread with that thread's catalog."""
    snap = Snapshot(loaded=now_utc())
    today = today or datetime.now().astimezone().date()
    repos = catalog.list_repositories()
    jobs = catalog.list_jobs()
    backups = catalog.list_backups()
    points = catalog.list_points()
    snap.sessions = catalog.list_sessions(limit=SESSION_LIMIT)
    job_names = {j.name for j in jobs}

    last_session: dict[str, Session] = {}
    for s in snap.sessions:                  # newest first: the first one seen per job is its last
        if s.kind in ("backup", "copy"):
            last_session.setdefault(s.job, s)
    for job in jobs:
        if job.kind == JobKind.BACKUP:
            snap.jobs.append(JobRow(job, catalog.linked_copy_jobs(job.name), last_session=last_session.get(job.name)))
        else:
            from_jobs, from_repos = copy_job_sources(catalog, job)
            snap.jobs.append(JobRow(job, from_jobs, from_repos, last_session.get(job.name)))

    by_backup: dict[str, list[RestorePoint]] = defaultdict(list)
    by_id: dict[str, RestorePoint] = {}
    for p in points:
        by_backup[p.backup].append(p)
        by_id[p.id] = p
    backup_by_id = {b.id: b for b in backups}

    def source_label(p: RestorePoint) -> str:
        src = by_id.get(p.source_point or "")
        if src is None:
            return f"point {p.source_point[:8]}" if p.source_point else ""
        b = backup_by_id.get(src.backup)
        return f"{src.id[:8]} in {b.repository}" if b else src.id[:8]

    for b in backups:
        pts = by_backup.get(b.id, [])
        src = backup_by_id.get(b.source_backup or "")
        label = f"{src.job} ({src.repository})" if src else (b.source_backup or "")
        snap.backups.append(BackupRow(
            backup=b, orphaned=b.job not in job_names, objects=sorted({p.object for p in pts}), points=len(pts),
            missing=sum(p.state == PointState.MISSING for p in pts),
            corrupted=sum(p.state == PointState.CORRUPTED for p in pts), gfs=sum(bool(p.gfs) for p in pts),
            stored=sum(p.stored_size for p in pts), newest=max((p.created for p in pts), default=None),
            source_label=label if b.kind == JobKind.COPY else ""))
        rows = []
        copy = b.kind == JobKind.COPY
        for p in reversed(pts):              # the catalog lists them oldest first (by created, id)
            key, group = date_group(p.created, today)
            rows.append(PointRow(p, key, group, source_label(p) if copy else ""))
        snap.points[b.id] = rows

    for r in repos:
        mine = [b for b in snap.backups if b.backup.repository == r.name]
        snap.repositories.append(RepositoryRow(
            repo=r, backups=len(mine), points=sum(b.points for b in mine), missing=sum(b.missing for b in mine),
            stored=sum(b.stored for b in mine), jobs=sorted(j.name for j in jobs if j.repository == r.name),
            media=media_of(r), offsite=is_offsite(r)))

    snap.protection = assess_data(repos, jobs, backups, points)
    return snap


def recent(sessions: list[Session], now: datetime, hours: int = 24) -> list[Session]:
    """Sessions started in the last `hours` hours, plus any still running."""
    since = now - timedelta(hours=hours)
    return [s for s in sessions if s.started >= since or not s.status.finished]
