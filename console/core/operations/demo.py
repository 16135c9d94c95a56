"""Sample data for a first look: two repositories, a backup job and a linked backup copy job, each run once."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from console.core.catalog import Catalog
from console.core.engine.events import Events
from console.core.errors import UsageError
from console.core.model import Session
from console.core.operations import jobs
from console.core.operations.repositories import add_local

log = logging.getLogger(__name__)
PRIMARY, OFFSITE = "demo-primary", "demo-offsite"
BACKUP_JOB, COPY_JOB = "demo-backup", "demo-offsite-copy"


@dataclass
class Demo:
    folder: Path
    sources: Path
    sessions: list[Session] = field(default_factory=list)


def _sample_files(root: Path) -> None:
    docs = root / "Documents"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "budget-2026.csv").write_text("month,income,costs\n" + "".join(
        f"{m:02d},{1000 + m * 37},{800 + m * 11}\n" for m in range(1, 13)))
    (docs / "notes.md").write_text("# Notes\n\nThe 3-2-1 rule: 3 copies, 2 kinds of media, 1 off-site.\n" * 40)
    photos = root / "Pictures" / "2026"
    photos.mkdir(parents=True, exist_ok=True)
    for i in range(6):
        (photos / f"IMG_{i:04d}.jpg").write_bytes(os.urandom(150_000))    # photos do not compress
    (root / "Projects" / "site").mkdir(parents=True, exist_ok=True)
    (root / "Projects" / "site" / "index.html").write_text("<html><body>demo</body></html>\n")


def create_demo(catalog: Catalog, data_dir: Path, folder: Path, events: Events | None = None) -> Demo:
    folder = folder.expanduser().absolute()
    existing = {r.name for r in catalog.list_repositories()} | {j.name for j in catalog.list_jobs()}
    clash = sorted(existing & {PRIMARY, OFFSITE, BACKUP_JOB, COPY_JOB})
    if clash:
        raise UsageError(f"the demo exists already ({', '.join(clash)}); remove it or use another --data-dir")
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty; choose an empty or new folder with --dir")
    demo = Demo(folder, folder / "sample-data")
    _sample_files(demo.sources)
    add_local(catalog, PRIMARY, str(folder / "repositories" / "primary"))
    add_local(catalog, OFFSITE, str(folder / "repositories" / "offsite"), compression=12)
    jobs.add_backup_job(catalog, BACKUP_JOB, PRIMARY, [str(demo.sources)], retention={"days": 7},
                        schedule="daily 22:00", description="Demo: sample documents and pictures")
    jobs.add_copy_job(catalog, COPY_JOB, OFFSITE, from_jobs=[BACKUP_JOB],
                      description="Demo: a second copy of the demo backups",
                      retention={"points": 14, "gfs": {"weekly": {"keep": 4, "day": "sunday"},
                                                       "monthly": {"keep": 12, "week": "last"}}})
    demo.sessions.append(jobs.run_job(catalog, BACKUP_JOB, data_dir, events))
    demo.sessions.append(jobs.run_job(catalog, COPY_JOB, data_dir, events))
    return demo
