"""Catalog schema migrations.

The schema version lives in `PRAGMA user_version`. `MIGRATIONS[i]` takes a database from version i to i + 1, so
`SCHEMA_VERSION == len(MIGRATIONS)`. A migration is frozen once released: later changes are new functions appended
to the list, never edits of old ones (an old catalog must replay exactly the steps its version missed).

Migrations write plain SQL rather than sqlite-utils' table builders: they need ON DELETE CASCADE, composite UNIQUE
keys and AUTOINCREMENT, and their result must not change when the library's defaults do.

`migrate()` runs every missing step in one write transaction (SQLite DDL is transactional, so a failing step leaves
the old catalog untouched), after copying an existing catalog to `catalog.db.bak-v<old>` with the backup API.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from ..errors import ConsoleError

log = logging.getLogger(__name__)

Migration = Callable[[sqlite_utils.Database], None]


def _v1_initial_schema(db: sqlite_utils.Database) -> None:
    """Version 1: the whole catalog. Timestamps are ISO 8601 UTC text, dicts/lists JSON text; no secrets."""
    db.executescript(
        """
        CREATE TABLE repositories (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            kind        TEXT NOT NULL,
            location    TEXT NOT NULL,
            repo_uid    TEXT NOT NULL DEFAULT '',
            encrypted   INTEGER NOT NULL DEFAULT 0,
            options     TEXT NOT NULL DEFAULT '{}',
            created     TEXT NOT NULL
        );

        -- A job targets a repository by id, so renaming the repository keeps the job pointing at it. RESTRICT
        -- because deleting a repository that jobs still write to must be an explicit decision.
        CREATE TABLE jobs (
            id            TEXT PRIMARY KEY,
            name          TEXT NOT NULL UNIQUE,
            kind          TEXT NOT NULL CHECK (kind IN ('backup', 'copy')),
            repository_id TEXT NOT NULL REFERENCES repositories(id) ON DELETE RESTRICT,
            description   TEXT NOT NULL DEFAULT '',
            enabled       INTEGER NOT NULL DEFAULT 1,
            sources       TEXT NOT NULL DEFAULT '[]',
            retention     TEXT NOT NULL DEFAULT '{}',
            schedule      TEXT,
            options       TEXT NOT NULL DEFAULT '{}',
            created       TEXT NOT NULL,
            last_result   TEXT,
            next_run      TEXT
        );
        CREATE INDEX jobs_repository ON jobs(repository_id);

        CREATE TABLE job_links (
            backup_job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            copy_job_id   TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            PRIMARY KEY (backup_job_id, copy_job_id)
        );
        CREATE INDEX job_links_copy ON job_links(copy_job_id);

        -- `job` is a name, not a foreign key: a backup outlives its job (orphaned backup).
        CREATE TABLE backups (
            id            TEXT PRIMARY KEY,
            repository_id TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            job           TEXT NOT NULL,
            kind          TEXT NOT NULL DEFAULT 'backup',
            source_backup TEXT,
            created       TEXT NOT NULL
        );
        CREATE INDEX backups_repository_job ON backups(repository_id, job);
        CREATE INDEX backups_job ON backups(job);

        CREATE TABLE restore_points (
            id           TEXT PRIMARY KEY,
            backup_id    TEXT NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
            object       TEXT NOT NULL,
            created      TEXT NOT NULL,
            type         TEXT NOT NULL DEFAULT 'full',
            state        TEXT NOT NULL DEFAULT 'ok',
            gfs          TEXT NOT NULL DEFAULT '[]',
            data_size    INTEGER NOT NULL DEFAULT 0,
            stored_size  INTEGER NOT NULL DEFAULT 0,
            files        INTEGER NOT NULL DEFAULT 0,
            manifest     TEXT NOT NULL DEFAULT '',
            source_point TEXT,
            root         TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX restore_points_backup_created ON restore_points(backup_id, created);
        CREATE INDEX restore_points_state ON restore_points(state);
        CREATE INDEX restore_points_created ON restore_points(created);

        -- `job` is a name (sessions outlive jobs, and restore/gc/rescan sessions name a repository or point).
        -- pid + hostname + proc_token identify the process that ran it, to detect sessions left by a killed process.
        CREATE TABLE sessions (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            job        TEXT NOT NULL,
            kind       TEXT NOT NULL,
            status     TEXT NOT NULL,
            started    TEXT NOT NULL,
            ended      TEXT,
            stats      TEXT NOT NULL DEFAULT '{}',
            error      TEXT,
            pid        INTEGER,
            hostname   TEXT,
            proc_token TEXT
        );
        CREATE INDEX sessions_job_started ON sessions(job, started);
        CREATE INDEX sessions_started ON sessions(started);
        CREATE INDEX sessions_status ON sessions(status);

        CREATE TABLE session_objects (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            name       TEXT NOT NULL,
            status     TEXT NOT NULL,
            processed  INTEGER NOT NULL DEFAULT 0,
            detail     TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (session_id, name)
        );

        CREATE TABLE session_log (
            id         INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            time       TEXT NOT NULL,
            level      TEXT NOT NULL,
            message    TEXT NOT NULL,
            object     TEXT
        );
        CREATE INDEX session_log_session ON session_log(session_id, id);

        CREATE TABLE settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )


MIGRATIONS: list[Migration] = [
    _v1_initial_schema,
]


def schema_version() -> int:
    """The schema version this code writes."""
    return len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def backup_path(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.bak-v{version}")


def newer_catalog_error(path: Path, found: int, known: int) -> ConsoleError:
    return ConsoleError(
        f"catalog {path} was written by a newer Backup Copy Console (schema v{found}); upgrade the console "
        f"(this version understands schema v{known} and older)"
    )


def copy_database(path: Path, target: Path) -> None:
    """Copy the committed state of `path` to `target` with the sqlite3 backup API (consistent even in WAL mode).

    Read through a separate connection: the backup API cannot read from the connection that holds the write lock.
    Written to a temporary name first so a crash never leaves a half-copied file under the final name.
    """
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(str(path), timeout=30)
    try:
        dest = sqlite3.connect(str(tmp))
        try:
            source.backup(dest)
            # The copy is an archive: one self-contained file, no -wal beside it.
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
    finally:
        source.close()
    try:
        os.chmod(tmp, 0o600)
    except OSError:
        pass
    os.replace(tmp, target)


def migrate(db: sqlite_utils.Database, path: Path) -> int:
    """Bring the catalog at `path` (opened as `db`, autocommit mode) to `schema_version()`; return the old version.

    Runs under BEGIN IMMEDIATE so two processes opening an old catalog at once migrate it exactly once.
    """
    conn = db.conn
    known = schema_version()
    found = user_version(conn)
    if found == known:
        return found
    if found > known:
        raise newer_catalog_error(path, found, known)

    conn.execute("BEGIN IMMEDIATE")
    try:
        found = user_version(conn)          # re-read under the write lock: another process may have migrated
        if found > known:
            raise newer_catalog_error(path, found, known)
        if found < known:
            has_tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
            target: Path | None = None
            if found > 0 or has_tables:
                target = backup_path(path, found)
                copy_database(path, target)
                log.info("copied catalog %s (schema v%d) to %s before migrating", path, found, target)
            for version in range(found, known):
                log.info("migrating catalog %s from schema v%d to v%d", path, version, version + 1)
                try:
                    MIGRATIONS[version](db)
                except sqlite3.Error as exc:
                    kept = f"; a copy of it is at {target}" if target else ""
                    raise ConsoleError(
                        f"could not migrate catalog {path} from schema v{version} to v{version + 1}: {exc}. "
                        f"The catalog was left unchanged{kept}"
                    ) from exc
            # PRAGMA does not take parameters; the value is an int we computed.
            conn.execute(f"PRAGMA user_version = {int(known)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found
