"""The catalog: configuration (repositories, jobs, job links, settings), a cache of repository contents (backups,
restore points) and the session history, in one SQLite file used through sqlite-utils.

Concurrency model: one `Catalog` object per thread (the GUI thread, each worker, the service and every CLI process
open their own on the same file). WAL mode lets readers run while one connection writes; every write transaction
starts with BEGIN IMMEDIATE so it queues on the busy timeout instead of failing with "database is locked" when a
read-then-write transaction would otherwise try to upgrade a stale snapshot.

Conventions: timestamps are stored as ISO 8601 UTC text with a fixed format (so text order is time order); dicts and
lists as JSON text. Naive datetimes given to the catalog are taken as UTC; datetimes read back are aware (UTC).
No secret is ever stored: option dicts carrying a password/passphrase/secret string are refused.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlite_utils

from ..errors import AlreadyExistsError, ConsoleError, LockedError, NotFoundError, UsageError
from ..model import (
    Backup,
    Job,
    JobKind,
    LogLine,
    PointState,
    PointType,
    Repository,
    RestorePoint,
    Session,
    SessionObject,
    SessionStatus,
)
from ..paths import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, catalog_path
from ..units import plural
from . import migrations

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 15.0            # how long a writer waits for another connection's write transaction
MIN_PREFIX = 4                   # shortest id prefix accepted for backups and restore points
GFS_FLAGS = ("W", "M", "Y")
_ACTIVE_STATUSES = (SessionStatus.QUEUED.value, SessionStatus.RUNNING.value, SessionStatus.STOPPING.value)
_FINISHED_STATUSES = tuple(s.value for s in SessionStatus if s.finished)
_SECRET_WORDS = ("password", "passphrase", "secret")
_MAX_LISTED = 10                 # candidates named in an "ambiguous" message


# ---------------------------------------------------------------------------------------------------- conversions

def _ts(value: datetime | None) -> str | None:
    """Datetime → fixed-format ISO 8601 UTC text (naive is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    if text is None or text == "":
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _ts(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot store a {type(value).__name__} in the catalog")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _load(text: str | None, default: Any) -> Any:
    if text is None or text == "":
        return default
    if text == "[]":                 # most restore points carry no GFS flag: skip the parser for 10,000 of them
        return []
    return json.loads(text)


def _check_no_secrets(value: Any, where: str) -> None:
    """Refuse a dict that carries a secret string (§8: secrets live in the keyring, never in the catalog).

    Only non-empty string values under a secret-sounding key count, so flags such as {"ask_password": true} pass.
    The message names the key, never the value.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            lowered = str(key).lower()
            if isinstance(item, str) and item and any(word in lowered for word in _SECRET_WORDS):
                raise ValueError(f"{where}: '{key}' looks like a secret; secrets belong in the keyring, "
                                 f"not in the catalog")
            _check_no_secrets(item, where)
    elif isinstance(value, list):
        for item in value:
            _check_no_secrets(item, where)


def _normalize_gfs(flags: Iterable[str]) -> list[str]:
    wanted = {str(flag).strip().upper() for flag in flags}
    unknown = wanted - set(GFS_FLAGS)
    if unknown:
        flags_word = "flag" if len(unknown) == 1 else "flags"
        raise UsageError(f"unknown GFS {flags_word} {', '.join(sorted(unknown))}: use W, M or Y")
    return [flag for flag in GFS_FLAGS if flag in wanted]


def _prefix_upper_bound(prefix: str) -> str:
    # Every string starting with `prefix` sorts in [prefix, prefix + U+10FFFF): an index range, not a table scan.
    return prefix + "\U0010ffff"


# ---------------------------------------------------------------------------------------------------- processes

def _process_token(pid: int) -> str | None:
    """Something that changes when a pid is reused (boot id + start time on Linux); None where unknown."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: fields after the last ')' start at field 3.
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) < 20:
        return None
    return f"{boot_id}:{fields[19]}"        # field 22: start time in clock ticks since boot


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)                     # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                         # exists, owned by someone else
    return True


def _pid_alive_windows(pid: int) -> bool:
    # os.kill on Windows terminates the process, so ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32       # type: ignore[attr-defined]
    process_query_limited_information, still_active, error_invalid_parameter = 0x1000, 259, 87
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return kernel32.GetLastError() != error_invalid_parameter
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def _session_process_gone(row: dict[str, Any], hostname: str) -> bool:
    """True when the process that started this session certainly no longer runs (only judged on this host)."""
    if row["pid"] is None or row["hostname"] != hostname:
        return False
    pid = int(row["pid"])
    if not _pid_alive(pid):
        return True
    stored, current = row["proc_token"], _process_token(pid)
    return stored is not None and current is not None and stored != current   # the pid now belongs to another


# ---------------------------------------------------------------------------------------------------- the catalog

class Catalog:
    """The console's SQLite catalog. Use one object per thread; open another on the same file in each worker."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        new_file = not self.path.exists()
        try:
            # isolation_level=None: no implicit transactions, every write transaction is an explicit BEGIN IMMEDIATE.
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConsoleError(f"cannot open catalog {self.path}: {exc}") from exc
        self._db = sqlite_utils.Database(conn, execute_plugins=False)
        self._closed = False
        try:
            self._configure()
            migrations.migrate(self._db, self.path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ConsoleError(
                f"cannot open catalog {self.path}: {exc} (if the file is damaged, move it away and rescan the "
                f"repositories, or restore a catalog.db.bak-v* copy)"
            ) from exc
        except BaseException:
            conn.close()
            raise
        if new_file:
            try:
                os.chmod(self.path, PRIVATE_FILE_MODE)
            except OSError as exc:
                log.debug("could not chmod %s: %s", self.path, exc)
        self._hostname = socket.gethostname()

    @classmethod
    def open(cls, data_dir: Path) -> Catalog:
        """Open (creating or migrating) the catalog in the console's data dir."""
        return cls(catalog_path(data_dir))

    def _configure(self) -> None:
        conn = self._db.conn
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        self._db.enable_wal()
        if self._db.journal_mode.lower() != "wal":     # e.g. a file system without shared memory support
            log.warning("catalog %s is not in WAL mode (%s); concurrent access will be slower",
                        self.path, self._db.journal_mode)
        # In WAL mode NORMAL is corruption-safe; it only may lose the last commits on power loss, and saves an
        # fsync per transaction (the session log writes many small ones).
        conn.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Catalog {self.path}>"

    @property
    def db(self) -> sqlite_utils.Database:
        """The underlying sqlite-utils database (for diagnostics and tests; code should use the methods)."""
        return self._db

    # ------------------------------------------------------------------------------------------------ plumbing

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested use becomes a savepoint."""
        conn = self._db.conn
        if conn.in_transaction:
            with self._db.atomic():
                yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise LockedError(
                    f"the catalog {self.path} stayed busy for {BUSY_TIMEOUT_S:.0f} s (another console process is "
                    f"writing to it); try again"
                ) from exc
            raise
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _rows(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        # Always materialise: a half-read cursor would keep a read snapshot open.
        return list(self._db.query(sql, params if isinstance(params, dict) else list(params)))

    def _one(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _exec(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params if isinstance(params, dict) else list(params))

    # ------------------------------------------------------------------------------------------------ repositories

    _REPO_SQL = "SELECT * FROM repositories"

    @staticmethod
    def _repository(row: dict[str, Any]) -> Repository:
        return Repository(
            name=row["name"], kind=row["kind"], location=row["location"], id=row["id"], repo_uid=row["repo_uid"],
            encrypted=bool(row["encrypted"]), options=_load(row["options"], {}), created=_dt(row["created"]),
        )

    @staticmethod
    def _repository_not_found(name: str) -> NotFoundError:
        return NotFoundError(f"no repository named '{name}' (see `backup-console repo list`)")

    def _repository_id(self, name: str) -> str:
        row = self._one("SELECT id FROM repositories WHERE name = ?", [name])
        if row is None:
            raise self._repository_not_found(name)
        return str(row["id"])

    def add_repository(self, repo: Repository) -> Repository:
        """Store a new repository; assigns `id` (uuid4 hex, unless given) and `created`. Returns the stored copy."""
        name = repo.name.strip()
        if not name:
            raise UsageError("a repository needs a name")
        _check_no_secrets(repo.options, f"repository '{name}' options")
        row = {
            "id": repo.id or uuid.uuid4().hex, "name": name, "kind": repo.kind, "location": repo.location,
            "repo_uid": repo.repo_uid, "encrypted": int(repo.encrypted), "options": _dump(repo.options),
            "created": _ts(repo.created or _now()),
        }
        with self._write():
            if self._one("SELECT 1 AS x FROM repositories WHERE name = ?", [name]):
                raise AlreadyExistsError(f"a repository named '{name}' exists already (see `backup-console repo list`)")
            if self._one("SELECT 1 AS x FROM repositories WHERE id = ?", [row["id"]]):
                raise AlreadyExistsError(f"a repository with id {row['id']} exists already")
            self._db["repositories"].insert(row)
        log.info("added repository %s (%s %s)", name, repo.kind, repo.location)
        return self.get_repository(name)

    def get_repository(self, name: str) -> Repository:
        row = self._one(f"{self._REPO_SQL} WHERE name = ?", [name])
        if row is None:
            raise self._repository_not_found(name)
        return self._repository(row)

    def get_repository_by_id(self, id: str) -> Repository:
        row = self._one(f"{self._REPO_SQL} WHERE id = ?", [id])
        if row is None:
            raise NotFoundError(f"no repository with id {id} (see `backup-console repo list`)")
        return self._repository(row)

    def list_repositories(self) -> list[Repository]:
        return [self._repository(row) for row in self._rows(f"{self._REPO_SQL} ORDER BY name")]

    def update_repository(self, repo: Repository) -> Repository:
        """Save changed fields. Found by `id` when set (so a rename works), else by name. `created` is kept."""
        name = repo.name.strip()
        if not name:
            raise UsageError("a repository needs a name")
        _check_no_secrets(repo.options, f"repository '{name}' options")
        with self._write():
            current = self.get_repository_by_id(repo.id) if repo.id else self.get_repository(name)
            clash = self._one("SELECT id FROM repositories WHERE name = ? AND id != ?", [name, current.id])
            if clash:
                raise AlreadyExistsError(f"a repository named '{name}' exists already (see `backup-console repo list`)")
            self._exec(
                "UPDATE repositories SET name = ?, kind = ?, location = ?, repo_uid = ?, encrypted = ?, options = ? "
                "WHERE id = ?",
                [name, repo.kind, repo.location, repo.repo_uid, int(repo.encrypted), _dump(repo.options), current.id],
            )
        return self.get_repository_by_id(current.id)

    def delete_repository(self, name: str) -> None:
        """Forget a repository with its backups and restore points (the files in the repository stay).

        Refused while jobs target it: deleting it would leave those jobs writing nowhere.
        """
        with self._write():
            repo_id = self._repository_id(name)
            jobs = [r["name"] for r in self._rows("SELECT name FROM jobs WHERE repository_id = ? ORDER BY name",
                                                   [repo_id])]
            if jobs:
                which = "job" if len(jobs) == 1 else "jobs"
                them = "that job or point it" if len(jobs) == 1 else "those jobs or point them"
                raise UsageError(
                    f"repository '{name}' is the target of {which} {', '.join(repr(j) for j in jobs)}: delete {them} "
                    f"at another repository first"
                )
            self._exec("DELETE FROM repositories WHERE id = ?", [repo_id])     # backups and points cascade
        log.info("removed repository %s from the catalog", name)

    # ------------------------------------------------------------------------------------------------ jobs

    _JOB_SQL = ("SELECT j.*, r.name AS repository FROM jobs j JOIN repositories r ON r.id = j.repository_id")

    @staticmethod
    def _job(row: dict[str, Any]) -> Job:
        return Job(
            name=row["name"], kind=JobKind(row["kind"]), repository=row["repository"], id=row["id"],
            description=row["description"], enabled=bool(row["enabled"]), sources=_load(row["sources"], []),
            retention=_load(row["retention"], {}), schedule=_load(row["schedule"], None),
            options=_load(row["options"], {}), created=_dt(row["created"]), last_result=row["last_result"],
            next_run=_dt(row["next_run"]),
        )

    @staticmethod
    def _job_not_found(name: str) -> NotFoundError:
        return NotFoundError(f"no job named '{name}' (see `backup-console job list`)")

    @staticmethod
    def _job_kind(kind: JobKind | str) -> JobKind:
        try:
            return JobKind(kind)
        except ValueError:
            raise UsageError(f"unknown job kind '{kind}': use backup or copy") from None

    def _job_columns(self, job: Job) -> dict[str, Any]:
        _check_no_secrets(job.options, f"job '{job.name}' options")
        _check_no_secrets(job.schedule, f"job '{job.name}' schedule")
        return {
            "repository_id": self._repository_id(job.repository), "description": job.description,
            "enabled": int(job.enabled), "sources": _dump(list(job.sources)), "retention": _dump(job.retention),
            "schedule": None if job.schedule is None else _dump(job.schedule), "options": _dump(job.options),
            "last_result": job.last_result, "next_run": _ts(job.next_run),
        }

    def add_job(self, job: Job) -> Job:
        """Store a new job; assigns `id` (uuid4 hex, unless given) and `created`. Returns the stored copy."""
        name = job.name.strip()
        if not name:
            raise UsageError("a job needs a name")
        kind = self._job_kind(job.kind)
        with self._write():
            if self._one("SELECT 1 AS x FROM jobs WHERE name = ?", [name]):
                raise AlreadyExistsError(f"a job named '{name}' exists already (see `backup-console job list`)")
            row = {"id": job.id or uuid.uuid4().hex, "name": name, "kind": kind.value,
                   "created": _ts(job.created or _now()), **self._job_columns(replace(job, name=name))}
            self._db["jobs"].insert(row)
        log.info("added %s job %s", kind.value, name)
        return self.get_job(name)

    def get_job(self, name: str) -> Job:
        row = self._one(f"{self._JOB_SQL} WHERE j.name = ?", [name])
        if row is None:
            raise self._job_not_found(name)
        return self._job(row)

    def list_jobs(self, kind: JobKind | None = None) -> list[Job]:
        if kind is None:
            rows = self._rows(f"{self._JOB_SQL} ORDER BY j.name")
        else:
            rows = self._rows(f"{self._JOB_SQL} WHERE j.kind = ? ORDER BY j.name", [self._job_kind(kind).value])
        return [self._job(row) for row in rows]

    def update_job(self, job: Job) -> Job:
        """Save changed fields of the job with this name. A job's name and kind are fixed (backups name their job)."""
        with self._write():
            current = self.get_job(job.name)
            if job.id and job.id != current.id:
                raise UsageError(f"job '{job.name}' has id {current.id}, not {job.id}: jobs cannot be renamed")
            if self._job_kind(job.kind) != current.kind:
                raise UsageError(f"job '{job.name}' is a {current.kind.value} job; a job's kind cannot change")
            columns = self._job_columns(job)
            assignments = ", ".join(f"{column} = ?" for column in columns)
            self._exec(f"UPDATE jobs SET {assignments} WHERE id = ?", [*columns.values(), current.id])
        return self.get_job(job.name)

    def set_job_result(self, name: str, result: str | None) -> None:
        """Record a job's last result alone (a concurrent edit of other fields is never undone)."""
        with self._write():
            if self._exec("UPDATE jobs SET last_result = ? WHERE name = ?", [result, name]).rowcount == 0:
                raise self._job_not_found(name)

    def set_job_next_run(self, name: str, when: datetime | None) -> None:
        """Record when the scheduler runs a job next (alone, like set_job_result)."""
        with self._write():
            if self._exec("UPDATE jobs SET next_run = ? WHERE name = ?", [_ts(when), name]).rowcount == 0:
                raise self._job_not_found(name)

    def delete_job(self, name: str) -> None:
        """Delete a job and its links. Its backups stay (orphaned: they keep the job's name)."""
        with self._write():
            job = self.get_job(name)
            self._exec("DELETE FROM jobs WHERE id = ?", [job.id])      # job_links cascade
        log.info("deleted job %s", name)

    def link_jobs(self, backup_job: str, copy_job: str) -> None:
        """Link a backup job to a backup copy job (idempotent)."""
        with self._write():
            source, target = self.get_job(backup_job), self.get_job(copy_job)
            usage = "link a backup job to a backup copy job: backup-console job link BACKUPJOB COPYJOB"
            if source.kind != JobKind.BACKUP:
                raise UsageError(f"'{backup_job}' is not a backup job; {usage}")
            if target.kind != JobKind.COPY:
                raise UsageError(f"'{copy_job}' is not a backup copy job; {usage}")
            self._exec("INSERT OR IGNORE INTO job_links (backup_job_id, copy_job_id) VALUES (?, ?)",
                       [source.id, target.id])

    def unlink_jobs(self, backup_job: str, copy_job: str) -> None:
        """Remove a link (nothing happens when the jobs were not linked)."""
        with self._write():
            source, target = self.get_job(backup_job), self.get_job(copy_job)
            self._exec("DELETE FROM job_links WHERE backup_job_id = ? AND copy_job_id = ?", [source.id, target.id])

    def linked_copy_jobs(self, backup_job: str) -> list[str]:
        job = self.get_job(backup_job)
        rows = self._rows("SELECT c.name FROM job_links l JOIN jobs c ON c.id = l.copy_job_id "
                          "WHERE l.backup_job_id = ? ORDER BY c.name", [job.id])
        return [row["name"] for row in rows]

    def linked_backup_jobs(self, copy_job: str) -> list[str]:
        job = self.get_job(copy_job)
        rows = self._rows("SELECT b.name FROM job_links l JOIN jobs b ON b.id = l.backup_job_id "
                          "WHERE l.copy_job_id = ? ORDER BY b.name", [job.id])
        return [row["name"] for row in rows]

    # ------------------------------------------------------------------------------------------------ backups

    _BACKUP_SQL = "SELECT b.*, r.name AS repository FROM backups b JOIN repositories r ON r.id = b.repository_id"

    @staticmethod
    def _backup(row: dict[str, Any]) -> Backup:
        return Backup(id=row["id"], repository=row["repository"], job=row["job"], kind=JobKind(row["kind"]),
                      source_backup=row["source_backup"], created=_dt(row["created"]))

    def upsert_backup(self, backup: Backup) -> Backup:
        """Insert or update a backup (by id). `created` defaults to the stored value, else now."""
        if not backup.id:
            raise ValueError("a backup needs an id")
        kind = self._job_kind(backup.kind)
        with self._write():
            repo_id = self._repository_id(backup.repository)
            existing = self._one("SELECT created FROM backups WHERE id = ?", [backup.id])
            created = _ts(backup.created) or (existing["created"] if existing else _ts(_now()))
            self._db["backups"].upsert(
                {"id": backup.id, "repository_id": repo_id, "job": backup.job, "kind": kind.value,
                 "source_backup": backup.source_backup, "created": created},
                pk="id",
            )
        return self._get_backup_exact(backup.id)

    def _get_backup_exact(self, id: str) -> Backup:
        row = self._one(f"{self._BACKUP_SQL} WHERE b.id = ?", [id])
        if row is None:
            raise NotFoundError(f"no backup '{id}' (see `backup-console backups list`)")
        return self._backup(row)

    def get_backup(self, id_or_prefix: str) -> Backup:
        """A backup by exact id, by a unique id prefix (>= 4 characters), or by the name of a job that has exactly
        one backup. Anything matching several backups is a UsageError that lists them."""
        ident = id_or_prefix.strip()
        if not ident:
            raise UsageError("give a backup id (see `backup-console backups list`)")
        row = self._one(f"{self._BACKUP_SQL} WHERE b.id = ?", [ident])
        if row is not None:
            return self._backup(row)
        rows = self._rows(f"{self._BACKUP_SQL} WHERE b.job = ? ORDER BY b.created, b.id", [ident])
        if len(ident) >= MIN_PREFIX:
            rows += self._rows(f"{self._BACKUP_SQL} WHERE b.id >= ? AND b.id < ? ORDER BY b.id",
                               [ident, _prefix_upper_bound(ident)])
        candidates = {row["id"]: self._backup(row) for row in rows}
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        if candidates:
            listed = [f"{b.id} (job '{b.job}' in repository '{b.repository}')" for b in candidates.values()]
            raise UsageError(f"'{ident}' matches {len(listed)} backups: {self._listing(listed)}; give the backup id")
        if len(ident) < MIN_PREFIX:
            raise UsageError(f"'{ident}' is too short to identify a backup: give at least {MIN_PREFIX} characters "
                             f"of its id or a job name (see `backup-console backups list`)")
        raise NotFoundError(f"no backup '{ident}' (see `backup-console backups list`)")

    @staticmethod
    def _listing(items: list[str]) -> str:
        shown = ", ".join(items[:_MAX_LISTED])
        return shown if len(items) <= _MAX_LISTED else f"{shown} and {len(items) - _MAX_LISTED} more"

    def find_backup(self, repository: str, job: str) -> Backup | None:
        """The backup of `job` in `repository` (the newest one if a rescan imported several), or None."""
        repo_id = self._repository_id(repository)
        row = self._one(f"{self._BACKUP_SQL} WHERE b.repository_id = ? AND b.job = ? "
                        f"ORDER BY b.created DESC, b.id DESC LIMIT 1", [repo_id, job])
        return self._backup(row) if row else None

    def list_backups(self, repository: str | None = None) -> list[Backup]:
        if repository is None:
            rows = self._rows(f"{self._BACKUP_SQL} ORDER BY r.name, b.job, b.created, b.id")
        else:
            rows = self._rows(f"{self._BACKUP_SQL} WHERE b.repository_id = ? ORDER BY b.job, b.created, b.id",
                              [self._repository_id(repository)])
        return [self._backup(row) for row in rows]

    def delete_backup(self, id: str) -> None:
        """Forget a backup and its restore points (exact id; repository files are the engine's business)."""
        with self._write():
            if self._exec("DELETE FROM backups WHERE id = ?", [id]).rowcount == 0:
                raise NotFoundError(f"no backup '{id}' (see `backup-console backups list`)")

    def is_orphaned(self, backup: Backup | str) -> bool:
        """True when the backup's job no longer exists."""
        job = backup.job if isinstance(backup, Backup) else self._get_backup_exact(backup).job
        return self._one("SELECT 1 AS x FROM jobs WHERE name = ?", [job]) is None

    # ------------------------------------------------------------------------------------------------ restore points

    @staticmethod
    def _point(row: dict[str, Any]) -> RestorePoint:
        created = _dt(row["created"])
        assert created is not None
        return RestorePoint(
            id=row["id"], backup=row["backup_id"], object=row["object"], created=created,
            type=PointType(row["type"]), state=PointState(row["state"]), gfs=_load(row["gfs"], []),
            data_size=row["data_size"], stored_size=row["stored_size"], files=row["files"],
            manifest=row["manifest"], source_point=row["source_point"], root=row["root"],
        )

    def upsert_point(self, point: RestorePoint) -> RestorePoint:
        """Insert or update a restore point (by id). Its backup must be in the catalog."""
        if not point.id:
            raise ValueError("a restore point needs an id")
        row = {
            "id": point.id, "backup_id": point.backup, "object": point.object, "created": _ts(point.created),
            "type": PointType(point.type).value, "state": PointState(point.state).value,
            "gfs": _dump(_normalize_gfs(point.gfs)), "data_size": int(point.data_size),
            "stored_size": int(point.stored_size), "files": int(point.files), "manifest": point.manifest,
            "source_point": point.source_point, "root": point.root,
        }
        with self._write():
            if self._one("SELECT 1 AS x FROM backups WHERE id = ?", [point.backup]) is None:
                raise NotFoundError(f"no backup '{point.backup}' for restore point {point.id}")
            self._db["restore_points"].upsert(row, pk="id")
        return self._get_point_exact(point.id)

    def _get_point_exact(self, id: str) -> RestorePoint:
        row = self._one("SELECT * FROM restore_points WHERE id = ?", [id])
        if row is None:
            raise NotFoundError(f"no restore point '{id}' (see `backup-console points list`)")
        return self._point(row)

    def get_point(self, id_or_prefix: str) -> RestorePoint:
        """A restore point by exact id or by a unique id prefix of at least 4 characters."""
        ident = id_or_prefix.strip()
        if not ident:
            raise UsageError("give a restore point id (see `backup-console points list`)")
        row = self._one("SELECT * FROM restore_points WHERE id = ?", [ident])
        if row is not None:
            return self._point(row)
        if len(ident) < MIN_PREFIX:
            raise UsageError(f"'{ident}' is too short to identify a restore point: give at least {MIN_PREFIX} "
                             f"characters of its id (see `backup-console points list`)")
        rows = self._rows("SELECT * FROM restore_points WHERE id >= ? AND id < ? ORDER BY id",
                          [ident, _prefix_upper_bound(ident)])
        if len(rows) == 1:
            return self._point(rows[0])
        if rows:
            listed = [f"{r['id']} ({r['object']}, {r['created']})" for r in rows]
            raise UsageError(f"'{ident}' matches {len(listed)} restore points: {self._listing(listed)}; "
                             f"give more of the id")
        raise NotFoundError(f"no restore point '{ident}' (see `backup-console points list`)")

    def list_points(self, backup: str | None = None, job: str | None = None, state: PointState | None = None,
                    object: str | None = None, repository: str | None = None) -> list[RestorePoint]:
        """Restore points matching every given filter, oldest first. `backup` is an exact backup id, `job` and
        `repository` are names (a job name also matches orphaned backups)."""
        where: list[str] = []
        params: list[Any] = []
        if backup is not None:
            self._get_backup_exact(backup)
            where.append("p.backup_id = ?")
            params.append(backup)
        if job is not None:
            where.append("b.job = ?")
            params.append(job)
        if state is not None:
            where.append("p.state = ?")
            params.append(PointState(state).value)
        if object is not None:
            where.append("p.object = ?")
            params.append(object)
        if repository is not None:
            where.append("b.repository_id = ?")
            params.append(self._repository_id(repository))
        sql = "SELECT p.* FROM restore_points p JOIN backups b ON b.id = p.backup_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._point(row) for row in self._rows(sql + " ORDER BY p.created, p.id", params)]

    def set_point_state(self, id: str, state: PointState) -> None:
        with self._write():
            if self._exec("UPDATE restore_points SET state = ? WHERE id = ?",
                          [PointState(state).value, id]).rowcount == 0:
                raise NotFoundError(f"no restore point '{id}' (see `backup-console points list`)")

    def set_point_gfs(self, id: str, flags: list[str]) -> None:
        with self._write():
            if self._exec("UPDATE restore_points SET gfs = ? WHERE id = ?",
                          [_dump(_normalize_gfs(flags)), id]).rowcount == 0:
                raise NotFoundError(f"no restore point '{id}' (see `backup-console points list`)")

    def delete_point(self, id: str) -> None:
        with self._write():
            if self._exec("DELETE FROM restore_points WHERE id = ?", [id]).rowcount == 0:
                raise NotFoundError(f"no restore point '{id}' (see `backup-console points list`)")

    # ------------------------------------------------------------------------------------------------ sessions

    @staticmethod
    def _session(row: dict[str, Any]) -> Session:
        started = _dt(row["started"])
        assert started is not None
        return Session(id=int(row["id"]), job=row["job"], kind=row["kind"], status=SessionStatus(row["status"]),
                       started=started, ended=_dt(row["ended"]), stats=_load(row["stats"], {}), error=row["error"])

    @staticmethod
    def _session_object(row: dict[str, Any]) -> SessionObject:
        return SessionObject(name=row["name"], status=row["status"], processed=row["processed"], detail=row["detail"])

    @staticmethod
    def _session_not_found(session_id: int) -> NotFoundError:
        return NotFoundError(f"no session {session_id} (see `backup-console sessions list`)")

    def start_session(self, job: str, kind: str) -> Session:
        """Record a new running session of `job` started now by this process."""
        pid = os.getpid()
        with self._write():
            cursor = self._exec(
                "INSERT INTO sessions (job, kind, status, started, stats, pid, hostname, proc_token) "
                "VALUES (?, ?, ?, ?, '{}', ?, ?, ?)",
                [job, kind, SessionStatus.RUNNING.value, _ts(_now()), pid, self._hostname, _process_token(pid)],
            )
            session_id = int(cursor.lastrowid or 0)
        return self.get_session(session_id)

    def finish_session(self, session_id: int, status: SessionStatus, stats: dict[str, Any],
                       error: str | None = None) -> None:
        status = SessionStatus(status)
        if not status.finished:
            raise ValueError(f"finish_session needs a final status, not {status.value}")
        with self._write():
            cursor = self._exec("UPDATE sessions SET status = ?, ended = ?, stats = ?, error = ? WHERE id = ?",
                                [status.value, _ts(_now()), _dump(stats), error, session_id])
            if cursor.rowcount == 0:
                raise self._session_not_found(session_id)

    def update_session_stats(self, session_id: int, stats: dict[str, Any]) -> None:
        """Replace the statistics of a (running) session."""
        with self._write():
            if self._exec("UPDATE sessions SET stats = ? WHERE id = ?", [_dump(stats), session_id]).rowcount == 0:
                raise self._session_not_found(session_id)

    def set_session_status(self, session_id: int, status: SessionStatus) -> None:
        """Move a session through the non-final states (queued → running → stopping); use finish_session to end it."""
        status = SessionStatus(status)
        if status.finished:
            raise ValueError("use finish_session to set a final status")
        with self._write():
            if self._exec("UPDATE sessions SET status = ? WHERE id = ?", [status.value, session_id]).rowcount == 0:
                raise self._session_not_found(session_id)

    def set_session_object(self, session_id: int, obj: SessionObject) -> None:
        """Insert or update the per-object task `obj.name` of a session."""
        with self._write():
            try:
                self._exec(
                    "INSERT INTO session_objects (session_id, name, status, processed, detail) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (session_id, name) DO UPDATE SET status = excluded.status, "
                    "processed = excluded.processed, detail = excluded.detail",
                    [session_id, obj.name, str(obj.status), int(obj.processed), obj.detail],
                )
            except sqlite3.IntegrityError as exc:       # foreign key: no such session
                raise self._session_not_found(session_id) from exc

    def add_log(self, session_id: int, line: LogLine) -> None:
        with self._write():
            try:
                self._exec("INSERT INTO session_log (session_id, time, level, message, object) VALUES (?, ?, ?, ?, ?)",
                           [session_id, _ts(line.time), line.level, line.message, line.object])
            except sqlite3.IntegrityError as exc:
                raise self._session_not_found(session_id) from exc

    def get_session(self, id: int) -> Session:
        """A session with its per-object tasks and its log."""
        row = self._one("SELECT * FROM sessions WHERE id = ?", [int(id)])
        if row is None:
            raise self._session_not_found(id)
        session = self._session(row)
        objects = self._rows("SELECT * FROM session_objects WHERE session_id = ? ORDER BY rowid", [session.id])
        session.objects = [self._session_object(r) for r in objects]
        session.log = [LogLine(time=_dt(r["time"]) or session.started, level=r["level"], message=r["message"],
                               object=r["object"])
                       for r in self._rows("SELECT * FROM session_log WHERE session_id = ? ORDER BY id", [session.id])]
        return session

    def list_sessions(self, job: str | None = None, limit: int | None = None, since: datetime | None = None,
                      status: SessionStatus | None = None) -> list[Session]:
        """Sessions newest first, with their per-object tasks but without their log."""
        where: list[str] = []
        params: list[Any] = []
        if job is not None:
            where.append("job = ?")
            params.append(job)
        if since is not None:
            where.append("started >= ?")
            params.append(_ts(since))
        if status is not None:
            where.append("status = ?")
            params.append(SessionStatus(status).value)
        sql = "SELECT * FROM sessions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        sessions = [self._session(row) for row in self._rows(sql, params)]
        by_id = {s.id: s for s in sessions}
        ids = list(by_id)
        for start in range(0, len(ids), 500):       # stay far below SQLite's bound-parameter limit
            chunk = ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for r in self._rows(f"SELECT * FROM session_objects WHERE session_id IN ({marks}) ORDER BY rowid", chunk):
                by_id[r["session_id"]].objects.append(self._session_object(r))
        return sessions

    def prune_sessions(self, keep_days: int) -> int:
        """Delete finished sessions started more than `keep_days` days ago (with objects and log); return count."""
        if keep_days < 0:
            raise ValueError("keep_days must be >= 0")
        cutoff = _ts(_now() - timedelta(days=keep_days))
        marks = ", ".join("?" * len(_FINISHED_STATUSES))
        with self._write():
            count = self._exec(f"DELETE FROM sessions WHERE started < ? AND status IN ({marks})",
                               [cutoff, *_FINISHED_STATUSES]).rowcount
        if count:
            log.info("pruned %s older than %s", plural(count, "session"), plural(keep_days, "day"))
        return count

    def mark_interrupted_sessions(self) -> int:
        """Fail sessions still queued/running/stopping whose process (on this host) is gone; return how many."""
        marks = ", ".join("?" * len(_ACTIVE_STATUSES))
        rows = self._rows(f"SELECT id, status, pid, hostname, proc_token FROM sessions WHERE status IN ({marks})",
                          list(_ACTIVE_STATUSES))
        count = 0
        for row in rows:
            if not _session_process_gone(row, self._hostname):
                continue
            with self._write():
                # Guarded by the old status: a session finished meanwhile is left alone.
                changed = self._exec(
                    "UPDATE sessions SET status = ?, ended = ?, error = ? WHERE id = ? AND status = ?",
                    [SessionStatus.FAILED.value, _ts(_now()),
                     f"interrupted: the process that ran this session (pid {row['pid']}) ended before it finished",
                     row["id"], row["status"]],
                ).rowcount
            if changed:
                log.warning("session %d was left %s by a process that no longer runs; marked failed",
                            row["id"], row["status"])
                count += changed
        return count

    # ------------------------------------------------------------------------------------------------ settings

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._one("SELECT value FROM settings WHERE key = ?", [key])
        return default if row is None else _load(row["value"], default)

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under `key`."""
        _check_no_secrets({key: value}, "setting")
        with self._write():
            self._exec("INSERT INTO settings (key, value) VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, _dump(value)])
