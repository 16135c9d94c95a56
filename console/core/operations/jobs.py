"""Creating, validating, editing, cloning and running jobs: the one place both the CLI and the GUI go through."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from console.core.catalog import Catalog
from console.core.engine.events import CancelToken, Events
from console.core.engine.retention import RetentionPolicy
from console.core.errors import UsageError
from console.core.model import Job, JobKind, RestorePoint, Session
from console.core.operations.backup_job import run_backup_job
from console.core.operations.copy_job import Clock, copy_job_sources, pending_points, run_copy_job
from console.core.operations.health import run_health_check
from console.core.scheduling.specs import DEFAULT_HEALTH_CHECK

log = logging.getLogger(__name__)
MODES = ("immediate", "periodic")


def _check_name(catalog: Catalog, name: str, current: str | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise UsageError("a job needs a name")
    if len(name) > 120 or any(c in name for c in "\n\r\t/\\"):
        raise UsageError(f"job name {name!r} is not allowed: use up to 120 characters without slashes or tabs")
    if name != current and any(j.name == name for j in catalog.list_jobs()):
        raise UsageError(f"a job named {name!r} exists already; choose another name")
    return name


def _policy(retention: dict | None) -> dict:
    return RetentionPolicy.from_dict(retention or {"points": 7}).to_dict()


def _schedule(spec: str | None) -> dict | None:
    if not spec or not spec.strip():
        return None
    from console.core.scheduling.specs import parse_schedule
    return {"spec": parse_schedule(spec).to_spec()}


def add_backup_job(catalog: Catalog, name: str, repository: str, sources: list[str], *, retention: dict | None = None,
                   schedule: str | None = None, description: str = "", copy_jobs: Iterable[str] = ()) -> Job:
    name = _check_name(catalog, name)
    catalog.get_repository(repository)
    if not sources:
        raise UsageError(f"backup job {name} needs at least one source folder")
    for cj in copy_jobs:
        if catalog.get_job(cj).kind != JobKind.COPY:
            raise UsageError(f"{cj!r} is not a backup copy job")
    job = catalog.add_job(Job(name=name, kind=JobKind.BACKUP, repository=repository, sources=list(sources),
                              description=description, retention=_policy(retention), schedule=_schedule(schedule)))
    for cj in copy_jobs:
        _check_link(catalog, job, catalog.get_job(cj))
        catalog.link_jobs(job.name, cj)
    return job


def _check_link(catalog: Catalog, backup_job: Job, copy_job: Job) -> None:
    if backup_job.repository == copy_job.repository:
        raise UsageError(f"backup job {backup_job.name} writes to {backup_job.repository}, the target of copy job "
                         f"{copy_job.name}: a copy must go to another repository")


def _copy_options(catalog: Catalog, target: str, from_jobs: Iterable[str], from_repos: Iterable[str], mode: str,
                  interval: str | int | None, window: str | None, copy_history: bool, process_latest: bool,
                  health_check: str | None) -> tuple[list[str], list[str], dict]:
    from console.core.scheduling.specs import parse_health_check, parse_interval, parse_window
    catalog.get_repository(target)
    jobs, repos = list(dict.fromkeys(from_jobs)), list(dict.fromkeys(from_repos))
    if not jobs and not repos:
        raise UsageError("a backup copy job needs sources: --from-job JOB (repeat) or --from-repo REPO (repeat)")
    for j in jobs:
        src = catalog.get_job(j)
        if src.kind != JobKind.BACKUP:
            raise UsageError(f"{j!r} is a backup copy job; a copy job copies backup jobs (--from-job) or "
                             "repositories (--from-repo)")
        if src.repository == target:
            raise UsageError(f"backup job {j} writes to {target}: the copy target must be another repository")
    for r in repos:
        catalog.get_repository(r)
        if r == target:
            raise UsageError(f"repository {r} is both a source and the target; copy to another repository")
    if mode not in MODES:
        raise UsageError(f"mode must be immediate or periodic, not {mode!r}")
    seconds = interval if isinstance(interval, int) else int(parse_interval(interval or "24h").total_seconds())
    options = {"mode": mode, "interval": seconds, "window": parse_window(window).to_spec() if window else None,
               "copy_history": bool(copy_history), "process_latest": bool(process_latest),
               "health_check": parse_health_check(health_check).to_spec() if health_check else None}
    return jobs, [f"repo:{r}" for r in repos], options


def add_copy_job(catalog: Catalog, name: str, target: str, *, from_jobs: Iterable[str] = (),
                 from_repos: Iterable[str] = (), mode: str = "immediate", interval: str | int | None = "24h",
                 retention: dict | None = None, window: str | None = None, copy_history: bool = False,
                 process_latest: bool = False, health_check: str | None = DEFAULT_HEALTH_CHECK,
                 description: str = "", encrypt: bool = False) -> Job:
    name = _check_name(catalog, name)
    jobs, sources, options = _copy_options(catalog, target, from_jobs, from_repos, mode, interval, window,
                                           copy_history, process_latest, health_check)
    if encrypt and not catalog.get_repository(target).encrypted:
        raise UsageError(f"--encrypt: target repository {target} is not encrypted; add an encrypted repository "
                         "(repo add-local NAME PATH --encrypt) and copy there")
    job = catalog.add_job(Job(name=name, kind=JobKind.COPY, repository=target, sources=sources,
                              description=description, retention=_policy(retention), options=options))
    for j in jobs:
        catalog.link_jobs(j, job.name)
    return job


def update_job(catalog: Catalog, job: Job, *, from_jobs: Iterable[str] | None = None,
               from_repos: Iterable[str] | None = None, old_name: str | None = None) -> Job:
    """Save an edited job with the same validation as creating it (links replaced when from_jobs is given)."""
    current = catalog.get_job(old_name or job.name)
    if job.name != current.name:
        raise UsageError("renaming a job is not supported: clone it under the new name and delete the old one")
    job.retention = _policy(job.retention)
    if job.kind == JobKind.BACKUP:
        catalog.get_repository(job.repository)
        if not job.sources:
            raise UsageError(f"backup job {job.name} needs at least one source folder")
        job.schedule = _schedule((job.schedule or {}).get("spec"))
        return catalog.update_job(job)
    old_jobs, old_repos = copy_job_sources(catalog, current)
    jobs = list(from_jobs) if from_jobs is not None else old_jobs
    repos = list(from_repos) if from_repos is not None else old_repos
    o = job.options
    jobs, job.sources, options = _copy_options(
        catalog, job.repository, jobs, repos, o.get("mode", "immediate"), o.get("interval") or "24h", o.get("window"),
        o.get("copy_history", False), o.get("process_latest", False), o.get("health_check"))
    job.options = {**o, **options}
    saved = catalog.update_job(job)
    for j in set(old_jobs) - set(jobs):
        catalog.unlink_jobs(j, job.name)
    for j in jobs:
        catalog.link_jobs(j, job.name)
    return saved


def clone_job(catalog: Catalog, name: str, new_name: str) -> Job:
    src = catalog.get_job(name)
    new_name = _check_name(catalog, new_name)
    clone = catalog.add_job(replace(src, name=new_name, id="", created=None, last_result=None, next_run=None,
                                    sources=list(src.sources), options=dict(src.options)))
    if src.kind == JobKind.COPY:
        for j in catalog.linked_backup_jobs(name):
            catalog.link_jobs(j, new_name)
    else:
        for cj in catalog.linked_copy_jobs(name):
            catalog.link_jobs(new_name, cj)
    return clone


def link(catalog: Catalog, backup_job: str, copy_job: str) -> None:
    b, c = catalog.get_job(backup_job), catalog.get_job(copy_job)
    if b.kind == JobKind.BACKUP and c.kind == JobKind.COPY:
        _check_link(catalog, b, c)
    catalog.link_jobs(backup_job, copy_job)


def run_job(catalog: Catalog, name: str, data_dir: Path, events: Events | None = None,
            cancel: CancelToken | None = None, *, active_full: bool = False, sync_all: bool = False,
            clock: Clock | None = None, ignore_window: bool = False) -> Session:
    """Run a backup job or a copy job (sync now) and wait for its session to end."""
    job = catalog.get_job(name)
    if job.kind == JobKind.BACKUP:
        return run_backup_job(catalog, name, data_dir, events, cancel, active_full)
    return run_copy_job(catalog, name, data_dir, events, cancel, sync_all=sync_all, clock=clock,
                        ignore_window=ignore_window)


def immediate_copy_jobs(catalog: Catalog, backup_job: str) -> list[str]:
    """Enabled immediate-mode copy jobs linked to `backup_job` (run right after it)."""
    out = []
    for name in catalog.linked_copy_jobs(backup_job):
        j = catalog.get_job(name)
        if j.enabled and j.options.get("mode", "immediate") == "immediate":
            out.append(name)
    return out


__all__ = ["DEFAULT_HEALTH_CHECK", "RestorePoint", "add_backup_job", "add_copy_job", "clone_job", "copy_job_sources",
           "immediate_copy_jobs", "link", "pending_points", "run_health_check", "run_job", "update_job"]
