"""The configuration and catalog model: plain dataclasses shared by the engine, the catalog, the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

MIN_RETENTION = 2          # the smallest N an admin may choose for short-term retention
MIN_KEPT_POINTS = 3        # restore points always kept, whatever the policy says

BLOCK_SIZES = {"4M": 4 << 20, "1M": 1 << 20, "512K": 512 << 10, "256K": 256 << 10}
DEFAULT_BLOCK_SIZE = 1 << 20
COMPRESSION_LEVELS = {"none": 0, "fast": 1, "default": 3, "high": 12}


class JobKind(StrEnum):
    BACKUP = "backup"
    COPY = "copy"


class PointType(StrEnum):
    FULL = "full"
    INCREMENT = "increment"


class PointState(StrEnum):
    OK = "ok"
    MISSING = "missing"
    CORRUPTED = "corrupted"


class SessionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    STOPPING = "stopping"
    SUCCESS = "success"
    WARNING = "warning"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def finished(self) -> bool:
        return self in (SessionStatus.SUCCESS, SessionStatus.WARNING, SessionStatus.FAILED, SessionStatus.STOPPED)


@dataclass
class Repository:
    """A configured repository. `location` is a folder path (local) or USER@HOST[:PORT]/PATH (sftp)."""

    name: str
    kind: str                       # "local" | "sftp"
    location: str
    id: str = ""                    # catalog id (uuid hex)
    repo_uid: str = ""              # the id inside the repository's config.json
    encrypted: bool = False
    options: dict[str, Any] = field(default_factory=dict)   # sftp key file, throttle, ... never secrets
    created: datetime | None = None


@dataclass
class Job:
    """A backup job (sources → repository) or a backup copy job (source backups → target repository)."""

    name: str
    kind: JobKind
    repository: str                 # target repository name
    id: str = ""
    description: str = ""
    enabled: bool = True
    sources: list[str] = field(default_factory=list)         # backup: folders; copy: unused (see links/options)
    retention: dict[str, Any] = field(default_factory=lambda: {"points": 7})   # CLI.md policy-file shape
    schedule: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)    # compression, mode, interval, window, ...
    created: datetime | None = None
    last_result: str | None = None
    next_run: datetime | None = None


@dataclass
class Backup:
    """All restore points of one job in one repository (a folder backups/<id>/ in the repository)."""

    id: str
    repository: str                 # repository name
    job: str                        # job name (may no longer exist: orphaned)
    kind: JobKind = JobKind.BACKUP
    source_backup: str | None = None
    created: datetime | None = None


@dataclass
class RestorePoint:
    id: str
    backup: str                     # backup id
    object: str                     # protected object (source folder)
    created: datetime
    type: PointType = PointType.FULL
    state: PointState = PointState.OK
    gfs: list[str] = field(default_factory=list)
    data_size: int = 0
    stored_size: int = 0
    files: int = 0
    manifest: str = ""              # storage name of the manifest file
    source_point: str | None = None
    root: str = ""                  # root tree id (hex)


@dataclass
class SessionObject:
    name: str
    status: str = SessionStatus.RUNNING.value
    processed: int = 0
    detail: str = ""


@dataclass
class LogLine:
    time: datetime
    level: str                      # "info" | "warning" | "error"
    message: str
    object: str | None = None


@dataclass
class Session:
    id: int
    job: str
    kind: str                       # "backup" | "copy" | "restore" | "check" | "gc" | "rescan"
    status: SessionStatus
    started: datetime
    ended: datetime | None = None
    stats: dict[str, Any] = field(default_factory=dict)      # processed, read, transferred, rate, bottleneck, ...
    objects: list[SessionObject] = field(default_factory=list)
    log: list[LogLine] = field(default_factory=list)
    error: str | None = None
