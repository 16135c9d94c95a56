"""The console's wizards: new/edit/clone repository, backup job and backup copy job.

Each wizard's `exec()` returns Accepted after Finish saved; then `.saved_name` names what was saved and `.run_now`
says whether the admin asked to start the job right away. Cancel saves nothing.

The two functions below are the only place the wizards write jobs: through the job operations of the core
(`console.core.operations.jobs`), which validate exactly as the CLI does.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from console.core.catalog import Catalog
from console.core.model import Job
from console.core.operations import jobs as job_ops
from console.core.operations.jobs import copy_job_sources

if TYPE_CHECKING:   # the classes load lazily (see __getattr__): importing the package stays cheap
    from console.gui.wizards.backup_job import BackupJobWizard
    from console.gui.wizards.copy_job import CopyJobWizard
    from console.gui.wizards.repository import RepositoryWizard

log = logging.getLogger(__name__)
REPO_SOURCE_PREFIX = "repo:"

_LAZY = {"RepositoryWizard": "repository", "BackupJobWizard": "backup_job", "CopyJobWizard": "copy_job"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def save_backup_job(catalog: Catalog, *, existing: Job | None, name: str, repository: str, sources: list[str],
                    retention: dict, schedule: str | None, description: str, copy_jobs: list[str]) -> Job:
    """Create (existing None) or update a backup job, and make its copy-job links exactly `copy_jobs`."""
    if existing is None:
        return job_ops.add_backup_job(catalog, name, repository, sources, retention=retention, schedule=schedule,
                                      description=description, copy_jobs=list(copy_jobs))
    job = catalog.get_job(existing.name)
    job.repository, job.sources, job.retention = repository, list(sources), retention
    job.schedule = {"spec": schedule} if schedule else None
    job.description = description
    job = job_ops.update_job(catalog, job)
    linked = set(catalog.linked_copy_jobs(job.name))
    for copy_job in sorted(linked - set(copy_jobs)):
        catalog.unlink_jobs(job.name, copy_job)
    for copy_job in sorted(set(copy_jobs) - linked):
        job_ops.link(catalog, job.name, copy_job)
    return catalog.get_job(job.name)


def save_copy_job(catalog: Catalog, *, existing: Job | None, name: str, target: str, from_jobs: list[str],
                  from_repos: list[str], mode: str, interval: str, retention: dict, window: str | None,
                  copy_history: bool, process_latest: bool, health_check: str | None, description: str) -> Job:
    """Create (existing None) or update a backup copy job; its sources become exactly from_jobs + from_repos."""
    if existing is None:
        return job_ops.add_copy_job(catalog, name, target, from_jobs=list(from_jobs), from_repos=list(from_repos),
                                    mode=mode, interval=interval, retention=retention, window=window,
                                    copy_history=copy_history, process_latest=process_latest,
                                    health_check=health_check, description=description)
    job = catalog.get_job(existing.name)
    job.repository, job.retention, job.description = target, retention, description
    job.options = {**job.options, "mode": mode, "interval": interval, "window": window, "copy_history": copy_history,
                   "process_latest": process_latest, "health_check": health_check}
    return job_ops.update_job(catalog, job, from_jobs=list(from_jobs), from_repos=list(from_repos))


__all__ = ["BackupJobWizard", "CopyJobWizard", "RepositoryWizard", "copy_job_sources", "save_backup_job",
           "save_copy_job"]
