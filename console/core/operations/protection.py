"""The 3-2-1 rule per protected source: three copies of the data, on two kinds of media, one of them off-site.

A *copy* is the source itself (the production data) plus every repository that holds at least one usable (ok)
restore point of it; two backups in one repository are one copy. The media kind of a repository is its storage
kind (local disk, remote server over SFTP, object storage) unless the admin set `options["media"]`; the source
itself is on a local disk. A repository is off-site when it is an SFTP/S3 location on another host, unless the
admin set `options["offsite"]` either way. Pure functions over catalog data: no I/O, no Qt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from console.core.catalog import Catalog
from console.core.model import Backup, Job, JobKind, PointState, Repository, RestorePoint

REQUIRED_COPIES = 3
REQUIRED_MEDIA = 2
SOURCE_MEDIA = "local disk"
MEDIA_BY_KIND = {"local": "local disk", "sftp": "remote server (SFTP)", "s3": "object storage"}
_LOOPBACK = ("localhost", "127.", "::1", "0:0:0:0:0:0:0:1")


@dataclass
class CopyLocation:
    """One repository that holds restore points of a source."""

    repository: str
    media: str
    offsite: bool
    jobs: list[str]                    # jobs whose backups in this repository hold the points
    points: int                        # usable (ok) restore points
    newest: datetime | None
    copy: bool                         # made by a backup copy job


@dataclass
class SourceProtection:
    source: str
    jobs: list[str] = field(default_factory=list)           # backup jobs that protect it (configured)
    locations: list[CopyLocation] = field(default_factory=list)
    copies: int = 1                                           # the source itself counts
    media: list[str] = field(default_factory=lambda: [SOURCE_MEDIA])
    offsite: bool = False
    newest: datetime | None = None
    missing: list[str] = field(default_factory=list)         # what stops the rule from holding, one phrase each

    @property
    def ok(self) -> bool:
        return not self.missing

    def age(self, now: datetime | None = None) -> timedelta | None:
        if self.newest is None:
            return None
        return (now or datetime.now(UTC)) - self.newest


def sftp_host(location: str) -> str:
    """The host of USER@HOST[:PORT]/PATH (brackets allowed around IPv6 hosts)."""
    rest = location.split("@", 1)[1] if "@" in location else location
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def media_of(repo: Repository) -> str:
    media = repo.options.get("media")
    if isinstance(media, str) and media.strip():
        return media.strip()
    return MEDIA_BY_KIND.get(repo.kind, repo.kind)


def is_offsite(repo: Repository) -> bool:
    flag = repo.options.get("offsite")
    if isinstance(flag, bool):
        return flag
    if repo.kind == "local":
        return False
    host = sftp_host(repo.location).lower()
    return not (host == "" or host.startswith(_LOOPBACK))


def _describe_missing(p: SourceProtection) -> list[str]:
    missing: list[str] = []
    backups = p.copies - 1
    if backups == 0:
        how = f"run job {', '.join(p.jobs)}" if p.jobs else "create a backup job for it"
        return [f"not backed up yet: {how}"]
    if p.copies < REQUIRED_COPIES:
        missing.append(f"{p.copies} of {REQUIRED_COPIES} copies (the source and {backups} backup"
                       f"{'s' if backups != 1 else ''}): add a backup copy job to another repository")
    if len(p.media) < REQUIRED_MEDIA:
        missing.append(f"every copy is on {p.media[0]}: keep one on another kind of media "
                       f"(e.g. a remote server over SFTP)")
    if not p.offsite:
        missing.append("no copy is off-site: copy to a repository at another location")
    return missing


def assess_data(repositories: Iterable[Repository], jobs: Iterable[Job], backups: Iterable[Backup],
                points: Iterable[RestorePoint]) -> list[SourceProtection]:
    """3-2-1 status of every source that a backup job protects or that has restore points, sorted by source."""
    repos = {r.name: r for r in repositories}
    backup_by_id = {b.id: b for b in backups}
    result: dict[str, SourceProtection] = {}

    def entry(source: str) -> SourceProtection:
        if source not in result:
            result[source] = SourceProtection(source=source)
        return result[source]

    for job in jobs:
        if job.kind == JobKind.BACKUP:
            for source in job.sources:
                entry(os.path.abspath(source)).jobs.append(job.name)

    # (source, repository) -> [points, newest, jobs, made by copy]
    held: dict[tuple[str, str], list] = {}
    for point in points:
        backup = backup_by_id.get(point.backup)
        if backup is None or point.state != PointState.OK:
            continue
        entry(point.object)
        slot = held.setdefault((point.object, backup.repository), [0, None, set(), False])
        slot[0] += 1
        if slot[1] is None or point.created > slot[1]:
            slot[1] = point.created
        slot[2].add(backup.job)
        slot[3] = slot[3] or backup.kind == JobKind.COPY

    for (source, repo_name), (count, newest, job_names, made_by_copy) in sorted(held.items()):
        repo = repos.get(repo_name)
        media = media_of(repo) if repo else "unknown"
        offsite = is_offsite(repo) if repo else False
        result[source].locations.append(CopyLocation(repository=repo_name, media=media, offsite=offsite,
                                                     jobs=sorted(job_names), points=count, newest=newest,
                                                     copy=made_by_copy))

    for p in result.values():
        p.jobs = sorted(set(p.jobs))
        p.copies = 1 + len(p.locations)
        p.media = sorted({SOURCE_MEDIA, *(loc.media for loc in p.locations)},
                         key=lambda m: (m != SOURCE_MEDIA, m))
        p.offsite = any(loc.offsite for loc in p.locations)
        newest = [loc.newest for loc in p.locations if loc.newest is not None]
        p.newest = max(newest) if newest else None
        p.missing = _describe_missing(p)
    return [result[k] for k in sorted(result)]


def assess(catalog: Catalog) -> list[SourceProtection]:
    """3-2-1 status of every protected source, from the catalog."""
    return assess_data(catalog.list_repositories(), catalog.list_jobs(), catalog.list_backups(),
                       catalog.list_points())
