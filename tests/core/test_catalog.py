"""The SQLite catalog, on real files in tmp_path."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils

from console.core.catalog import Catalog, migrations
from console.core.catalog import database as catalog_db
from console.core.errors import AlreadyExistsError, ConsoleError, NotFoundError, UsageError
from console.core.model import (
    Backup,
    Job,
    JobKind,
    LogLine,
    PointState,
    PointType,
    Repository,
    RestorePoint,
    SessionObject,
    SessionStatus,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.db"


@pytest.fixture
def catalog(db_path: Path) -> Iterator[Catalog]:
    with Catalog(db_path) as cat:
        yield cat


def add_repo(cat: Catalog, name: str = "primary", location: str = "/srv/primary") -> Repository:
    return cat.add_repository(Repository(name=name, kind="local", location=location))


def add_backup_job(cat: Catalog, name: str = "docs", repo: str = "primary") -> Job:
    return cat.add_job(Job(name=name, kind=JobKind.BACKUP, repository=repo, sources=["/home/a/docs"]))


def add_copy_job(cat: Catalog, name: str = "offsite", repo: str = "secondary") -> Job:
    return cat.add_job(Job(name=name, kind=JobKind.COPY, repository=repo, options={"mode": "immediate"}))


def point(pid: str, backup: str, created: datetime, obj: str = "/home/a/docs", **kw: object) -> RestorePoint:
    return RestorePoint(id=pid, backup=backup, object=obj, created=created, **kw)  # type: ignore[arg-type]


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path))


# ---------------------------------------------------------------------------------------------------- opening

def test_open_sets_wal_busy_timeout_foreign_keys_and_schema_version(catalog: Catalog, db_path: Path) -> None:
    conn = catalog.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with raw(db_path) as other:
        assert other.execute("PRAGMA user_version").fetchone()[0] == migrations.schema_version() >= 1
    assert set(catalog.db.table_names()) >= {"repositories", "jobs", "job_links", "backups", "restore_points",
                                             "sessions", "session_objects", "session_log", "settings"}


def test_open_in_data_dir_creates_the_catalog_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Catalog.open(home) as cat:
        assert cat.path == home / "catalog.db"
    assert (home / "catalog.db").is_file()
    assert not list(home.glob("catalog.db.bak-*"))      # a brand-new catalog has nothing to back up


def test_indexes_cover_list_filters(catalog: Catalog) -> None:
    def indexed(table: str) -> set[tuple[str, ...]]:
        return {tuple(idx.columns) for idx in catalog.db[table].indexes}  # type: ignore[union-attr]

    assert ("backup_id", "created") in indexed("restore_points")
    assert ("state",) in indexed("restore_points")
    assert ("created",) in indexed("restore_points")
    assert ("job", "started") in indexed("sessions")
    assert ("started",) in indexed("sessions")
    assert ("session_id", "id") in indexed("session_log")


def test_close_is_idempotent(db_path: Path) -> None:
    cat = Catalog(db_path)
    cat.close()
    cat.close()
    with pytest.raises(sqlite3.ProgrammingError):
        cat.list_repositories()


# ---------------------------------------------------------------------------------------------------- repositories

def test_repository_round_trip(catalog: Catalog, db_path: Path) -> None:
    stored = catalog.add_repository(Repository(name="offsite", kind="sftp", location="bk@nas:2222/srv/backups",
                                               repo_uid="feedbeef", encrypted=True,
                                               options={"key_file": "~/.ssh/id_ed25519", "throttle": 5}))
    assert len(stored.id) == 32 and int(stored.id, 16) >= 0
    assert stored.created is not None and stored.created.tzinfo is not None
    assert abs(stored.created - datetime.now(UTC)) < timedelta(minutes=1)
    catalog.close()
    with Catalog(db_path) as again:
        got = again.get_repository("offsite")
        assert got == stored
        assert got.encrypted is True
        assert got.options == {"key_file": "~/.ssh/id_ed25519", "throttle": 5}
        assert again.get_repository_by_id(stored.id) == stored


def test_add_repository_keeps_a_given_id_and_does_not_mutate_the_argument(catalog: Catalog) -> None:
    repo = Repository(name="primary", kind="local", location="/srv/p", id="a" * 32)
    stored = catalog.add_repository(repo)
    assert stored.id == "a" * 32
    fresh = Repository(name="other", kind="local", location="/srv/o")
    catalog.add_repository(fresh)
    assert fresh.id == "" and fresh.created is None


def test_list_repositories_sorted_by_name(catalog: Catalog) -> None:
    for name in ("zulu", "alpha", "mike"):
        add_repo(catalog, name, f"/srv/{name}")
    assert [r.name for r in catalog.list_repositories()] == ["alpha", "mike", "zulu"]


def test_duplicate_repository_name_is_refused(catalog: Catalog) -> None:
    add_repo(catalog, "primary", "/srv/one")
    with pytest.raises(AlreadyExistsError, match="a repository named 'primary' exists already"):
        add_repo(catalog, "primary", "/srv/two")
    assert [r.location for r in catalog.list_repositories()] == ["/srv/one"]


def test_missing_repository_message(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError) as err:
        catalog.get_repository("nope")
    assert str(err.value) == "no repository named 'nope' (see `backup-console repo list`)"
    with pytest.raises(NotFoundError):
        catalog.get_repository_by_id("0" * 32)
    with pytest.raises(NotFoundError):
        catalog.delete_repository("nope")


def test_update_repository_renames_by_id_and_keeps_created(catalog: Catalog) -> None:
    stored = add_repo(catalog)
    add_backup_job(catalog)
    catalog.upsert_backup(Backup(id="b" * 32, repository="primary", job="docs"))
    stored.name = "main"
    stored.location = "/srv/main"
    stored.options = {"throttle": 10}
    updated = catalog.update_repository(stored)
    assert (updated.name, updated.location, updated.options, updated.created) == \
           ("main", "/srv/main", {"throttle": 10}, stored.created)
    with pytest.raises(NotFoundError):
        catalog.get_repository("primary")
    # jobs and backups follow the rename (they point at the id)
    assert catalog.get_job("docs").repository == "main"
    assert catalog.get_backup("b" * 32).repository == "main"


def test_update_repository_to_a_taken_name_is_refused(catalog: Catalog) -> None:
    add_repo(catalog, "one", "/srv/1")
    two = add_repo(catalog, "two", "/srv/2")
    two.name = "one"
    with pytest.raises(AlreadyExistsError):
        catalog.update_repository(two)
    assert catalog.get_repository_by_id(two.id).name == "two"


def test_delete_repository_removes_its_backups_and_points(catalog: Catalog) -> None:
    add_repo(catalog, "primary")
    add_repo(catalog, "secondary", "/srv/secondary")
    catalog.upsert_backup(Backup(id="1111aaaa", repository="primary", job="docs"))
    catalog.upsert_backup(Backup(id="2222bbbb", repository="secondary", job="docs", kind=JobKind.COPY,
                                 source_backup="1111aaaa"))
    catalog.upsert_point(point("p1", "1111aaaa", T0))
    catalog.upsert_point(point("p2", "2222bbbb", T0, source_point="p1"))
    catalog.delete_repository("primary")
    assert [r.name for r in catalog.list_repositories()] == ["secondary"]
    assert [b.id for b in catalog.list_backups()] == ["2222bbbb"]
    assert [p.id for p in catalog.list_points()] == ["p2"]
    assert catalog.db.execute("SELECT count(*) FROM restore_points WHERE backup_id = '1111aaaa'").fetchone()[0] == 0


def test_delete_repository_targeted_by_a_job_is_refused(catalog: Catalog) -> None:
    add_repo(catalog)
    add_backup_job(catalog)
    with pytest.raises(UsageError, match="target of job.*'docs'"):
        catalog.delete_repository("primary")
    assert catalog.get_repository("primary")


def test_secrets_are_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="'password' looks like a secret") as err:
        catalog.add_repository(Repository(name="nas", kind="sftp", location="u@nas/srv",
                                          options={"password": "hunter2"}))
    assert "hunter2" not in str(err.value)
    assert catalog.list_repositories() == []
    add_repo(catalog)
    with pytest.raises(ValueError):
        catalog.add_job(Job(name="j", kind=JobKind.BACKUP, repository="primary",
                            options={"encryption": {"passphrase": "s3cret"}}))
    with pytest.raises(ValueError):
        catalog.set_setting("smtp", {"user": "me", "smtp_password": "x"})
    # a flag that only mentions a password is not a secret
    catalog.add_job(Job(name="k", kind=JobKind.BACKUP, repository="primary", options={"ask_password": True}))


# ---------------------------------------------------------------------------------------------------- jobs

def test_job_round_trip(catalog: Catalog, db_path: Path) -> None:
    add_repo(catalog)
    next_run = datetime(2024, 3, 2, 22, 0, tzinfo=timezone(timedelta(hours=2)))
    stored = catalog.add_job(Job(
        name="docs", kind=JobKind.BACKUP, repository="primary", description="home folders",
        sources=["/home/a", "/home/b"], retention={"days": 14, "gfs": {"weekly": {"keep": 4, "day": "sunday"}}},
        schedule={"daily": "22:00", "days": ["mon", "fri"]}, options={"compression": "high"},
        last_result="success", next_run=next_run,
    ))
    assert len(stored.id) == 32 and stored.created is not None
    catalog.close()
    with Catalog(db_path) as again:
        got = again.get_job("docs")
    assert got == stored
    assert got.kind is JobKind.BACKUP
    assert got.sources == ["/home/a", "/home/b"]
    assert got.retention["gfs"]["weekly"] == {"keep": 4, "day": "sunday"}
    assert got.schedule == {"daily": "22:00", "days": ["mon", "fri"]}
    assert got.next_run == next_run and got.next_run.utcoffset() == timedelta(0)


def test_job_defaults_round_trip(catalog: Catalog) -> None:
    add_repo(catalog)
    got = catalog.add_job(Job(name="plain", kind=JobKind.COPY, repository="primary"))
    assert (got.schedule, got.retention, got.options, got.enabled, got.next_run) == \
           (None, {"points": 7}, {}, True, None)


def test_list_jobs_by_kind(catalog: Catalog) -> None:
    add_repo(catalog)
    add_repo(catalog, "secondary", "/srv/s")
    add_backup_job(catalog, "zeta")
    add_backup_job(catalog, "alpha")
    add_copy_job(catalog, "offsite")
    assert [j.name for j in catalog.list_jobs()] == ["alpha", "offsite", "zeta"]
    assert [j.name for j in catalog.list_jobs(JobKind.BACKUP)] == ["alpha", "zeta"]
    assert [j.name for j in catalog.list_jobs(JobKind.COPY)] == ["offsite"]


def test_duplicate_job_and_missing_job_and_missing_repository(catalog: Catalog) -> None:
    add_repo(catalog)
    add_backup_job(catalog)
    with pytest.raises(AlreadyExistsError, match="a job named 'docs' exists already"):
        add_backup_job(catalog)
    with pytest.raises(NotFoundError) as err:
        catalog.get_job("nope")
    assert str(err.value) == "no job named 'nope' (see `backup-console job list`)"
    with pytest.raises(NotFoundError, match="no repository named 'ghost'"):
        catalog.add_job(Job(name="x", kind=JobKind.BACKUP, repository="ghost"))
    assert [j.name for j in catalog.list_jobs()] == ["docs"]


def test_update_job(catalog: Catalog) -> None:
    add_repo(catalog)
    add_repo(catalog, "secondary", "/srv/s")
    job = add_backup_job(catalog)
    job.enabled = False
    job.description = "changed"
    job.repository = "secondary"
    job.last_result = "warning"
    job.sources.append("/etc")
    catalog.update_job(job)
    got = catalog.get_job("docs")
    assert (got.enabled, got.description, got.repository, got.last_result, got.created) == \
           (False, "changed", "secondary", "warning", job.created)
    assert got.sources == ["/home/a/docs", "/etc"]
    job.kind = JobKind.COPY
    with pytest.raises(UsageError, match="kind cannot change"):
        catalog.update_job(job)
    with pytest.raises(NotFoundError):
        catalog.update_job(Job(name="ghost", kind=JobKind.BACKUP, repository="primary"))


def test_deleting_a_job_leaves_its_backups_orphaned(catalog: Catalog) -> None:
    add_repo(catalog)
    add_backup_job(catalog, "docs")
    add_backup_job(catalog, "mail")
    docs = catalog.upsert_backup(Backup(id="d0c5d0c5", repository="primary", job="docs"))
    mail = catalog.upsert_backup(Backup(id="3a113a11", repository="primary", job="mail"))
    catalog.upsert_point(point("p1", docs.id, T0))
    assert not catalog.is_orphaned(docs)
    catalog.delete_job("docs")
    with pytest.raises(NotFoundError):
        catalog.get_job("docs")
    kept = catalog.get_backup("d0c5d0c5")
    assert kept.job == "docs"
    assert catalog.is_orphaned(kept) and catalog.is_orphaned("d0c5d0c5")
    assert not catalog.is_orphaned(mail)
    assert [p.id for p in catalog.list_points(job="docs")] == ["p1"]
    with pytest.raises(NotFoundError):
        catalog.delete_job("docs")


# ---------------------------------------------------------------------------------------------------- links

@pytest.fixture
def linked_setup(catalog: Catalog) -> Catalog:
    add_repo(catalog)
    add_repo(catalog, "secondary", "/srv/s")
    add_backup_job(catalog, "docs")
    add_backup_job(catalog, "mail")
    add_copy_job(catalog, "offsite")
    add_copy_job(catalog, "tape")
    return catalog


def test_link_shows_on_both_sides_and_is_idempotent(linked_setup: Catalog) -> None:
    cat = linked_setup
    cat.link_jobs("docs", "offsite")
    cat.link_jobs("docs", "offsite")
    cat.link_jobs("docs", "tape")
    cat.link_jobs("mail", "offsite")
    assert cat.linked_copy_jobs("docs") == ["offsite", "tape"]
    assert cat.linked_copy_jobs("mail") == ["offsite"]
    assert cat.linked_backup_jobs("offsite") == ["docs", "mail"]
    assert cat.linked_backup_jobs("tape") == ["docs"]
    assert cat.db.execute("SELECT count(*) FROM job_links").fetchone()[0] == 3


def test_unlink_from_either_side(linked_setup: Catalog) -> None:
    cat = linked_setup
    cat.link_jobs("docs", "offsite")
    cat.link_jobs("mail", "offsite")
    cat.unlink_jobs("docs", "offsite")
    assert cat.linked_copy_jobs("docs") == []
    assert cat.linked_backup_jobs("offsite") == ["mail"]
    cat.unlink_jobs("docs", "offsite")          # not linked any more: nothing happens
    cat.unlink_jobs("mail", "offsite")
    assert cat.linked_backup_jobs("offsite") == []
    assert cat.linked_copy_jobs("mail") == []


def test_link_validates_kinds(linked_setup: Catalog) -> None:
    cat = linked_setup
    with pytest.raises(UsageError, match="'mail' is not a backup copy job"):
        cat.link_jobs("docs", "mail")
    with pytest.raises(UsageError, match="'offsite' is not a backup job"):
        cat.link_jobs("offsite", "tape")
    with pytest.raises(UsageError, match="'offsite' is not a backup job"):
        cat.link_jobs("offsite", "docs")             # reversed arguments
    with pytest.raises(NotFoundError, match="no job named 'ghost'"):
        cat.link_jobs("docs", "ghost")
    assert cat.db.execute("SELECT count(*) FROM job_links").fetchone()[0] == 0


def test_deleting_a_job_drops_its_links(linked_setup: Catalog) -> None:
    cat = linked_setup
    cat.link_jobs("docs", "offsite")
    cat.link_jobs("mail", "offsite")
    cat.link_jobs("docs", "tape")
    cat.delete_job("offsite")
    assert cat.linked_copy_jobs("docs") == ["tape"]
    assert cat.linked_copy_jobs("mail") == []
    cat.delete_job("docs")
    assert cat.linked_backup_jobs("tape") == []
    assert cat.db.execute("SELECT count(*) FROM job_links").fetchone()[0] == 0


# ---------------------------------------------------------------------------------------------------- backups

def test_backup_round_trip_and_upsert_keeps_created(catalog: Catalog) -> None:
    add_repo(catalog)
    add_repo(catalog, "secondary", "/srv/s")
    created = datetime(2024, 1, 5, 8, 30, tzinfo=UTC)
    first = catalog.upsert_backup(Backup(id="c0ffee00", repository="secondary", job="offsite", kind=JobKind.COPY,
                                         source_backup="abad1dea", created=created))
    assert first == Backup(id="c0ffee00", repository="secondary", job="offsite", kind=JobKind.COPY,
                           source_backup="abad1dea", created=created)
    again = catalog.upsert_backup(Backup(id="c0ffee00", repository="secondary", job="offsite2", kind=JobKind.COPY))
    assert again.created == created and again.job == "offsite2" and again.source_backup is None
    assert len(catalog.list_backups()) == 1
    with pytest.raises(NotFoundError, match="no repository named 'ghost'"):
        catalog.upsert_backup(Backup(id="dead0000", repository="ghost", job="x"))


def test_find_and_list_backups(catalog: Catalog) -> None:
    add_repo(catalog)
    add_repo(catalog, "secondary", "/srv/s")
    catalog.upsert_backup(Backup(id="aaaa0001", repository="primary", job="docs"))
    catalog.upsert_backup(Backup(id="aaaa0002", repository="primary", job="mail"))
    catalog.upsert_backup(Backup(id="bbbb0001", repository="secondary", job="docs", kind=JobKind.COPY))
    assert catalog.find_backup("primary", "docs").id == "aaaa0001"  # type: ignore[union-attr]
    assert catalog.find_backup("secondary", "docs").id == "bbbb0001"  # type: ignore[union-attr]
    assert catalog.find_backup("secondary", "mail") is None
    assert [b.id for b in catalog.list_backups()] == ["aaaa0001", "aaaa0002", "bbbb0001"]
    assert [b.id for b in catalog.list_backups("secondary")] == ["bbbb0001"]
    with pytest.raises(NotFoundError):
        catalog.list_backups("ghost")


def test_delete_backup_removes_its_points(catalog: Catalog) -> None:
    add_repo(catalog)
    catalog.upsert_backup(Backup(id="aaaa0001", repository="primary", job="docs"))
    catalog.upsert_backup(Backup(id="aaaa0002", repository="primary", job="mail"))
    catalog.upsert_point(point("p1", "aaaa0001", T0))
    catalog.upsert_point(point("p2", "aaaa0002", T0))
    catalog.delete_backup("aaaa0001")
    assert [b.id for b in catalog.list_backups()] == ["aaaa0002"]
    assert [p.id for p in catalog.list_points()] == ["p2"]
    assert catalog.db.execute("SELECT id FROM restore_points").fetchall() == [("p2",)]   # gone, not just hidden
    with pytest.raises(NotFoundError):
        catalog.delete_backup("aaaa0001")


@pytest.fixture
def prefixed(catalog: Catalog) -> Catalog:
    add_repo(catalog)
    add_repo(catalog, "secondary", "/srv/s")
    catalog.upsert_backup(Backup(id="abcd1111", repository="primary", job="docs"))
    catalog.upsert_backup(Backup(id="abcd2222", repository="primary", job="mail"))
    catalog.upsert_backup(Backup(id="ef001234", repository="primary", job="photos"))
    catalog.upsert_backup(Backup(id="ef009999", repository="secondary", job="photos", kind=JobKind.COPY))
    return catalog


def test_get_backup_by_exact_id_and_unique_prefix(prefixed: Catalog) -> None:
    assert prefixed.get_backup("abcd2222").job == "mail"
    assert prefixed.get_backup("abcd1").id == "abcd1111"
    assert prefixed.get_backup("  abcd22 ").id == "abcd2222"


def test_get_backup_ambiguous_prefix_lists_candidates(prefixed: Catalog) -> None:
    with pytest.raises(UsageError) as err:
        prefixed.get_backup("abcd")
    assert not isinstance(err.value, NotFoundError)
    assert "abcd1111" in str(err.value) and "abcd2222" in str(err.value) and "matches 2 backups" in str(err.value)


def test_get_backup_prefix_too_short(prefixed: Catalog) -> None:
    with pytest.raises(UsageError, match="at least 4 characters") as err:
        prefixed.get_backup("abc")
    assert not isinstance(err.value, NotFoundError)


def test_get_backup_by_job_name(prefixed: Catalog) -> None:
    assert prefixed.get_backup("docs").id == "abcd1111"
    with pytest.raises(UsageError) as err:
        prefixed.get_backup("photos")               # one in each repository
    assert "ef001234" in str(err.value) and "ef009999" in str(err.value)
    assert "secondary" in str(err.value)


def test_get_backup_not_found(prefixed: Catalog) -> None:
    with pytest.raises(NotFoundError) as err:
        prefixed.get_backup("ffff0000")
    assert str(err.value) == "no backup 'ffff0000' (see `backup-console backups list`)"


# ---------------------------------------------------------------------------------------------------- restore points

@pytest.fixture
def points_setup(catalog: Catalog) -> Catalog:
    add_repo(catalog)
    add_repo(catalog, "secondary", "/srv/s")
    catalog.upsert_backup(Backup(id="bk-docs", repository="primary", job="docs"))
    catalog.upsert_backup(Backup(id="bk-mail", repository="primary", job="mail"))
    catalog.upsert_backup(Backup(id="bk-copy", repository="secondary", job="offsite", kind=JobKind.COPY))
    # inserted out of time order on purpose
    catalog.upsert_point(point("p3", "bk-docs", T0 + timedelta(days=2), obj="/docs"))
    catalog.upsert_point(point("p1", "bk-docs", T0, obj="/docs"))
    catalog.upsert_point(point("p2", "bk-docs", T0 + timedelta(days=1), obj="/photos", state=PointState.MISSING))
    catalog.upsert_point(point("m1", "bk-mail", T0 + timedelta(hours=1), obj="/mail"))
    catalog.upsert_point(point("c1", "bk-copy", T0 + timedelta(hours=2), obj="/docs", state=PointState.CORRUPTED))
    return catalog


def test_point_round_trip(catalog: Catalog) -> None:
    add_repo(catalog)
    catalog.upsert_backup(Backup(id="bk", repository="primary", job="docs"))
    created = datetime(2024, 3, 1, 14, 0, 1, 123456, tzinfo=timezone(timedelta(hours=2)))
    original = RestorePoint(id="9f86d081", backup="bk", object="/home/a", created=created,
                            type=PointType.INCREMENT, state=PointState.OK, gfs=["W", "M"], data_size=10 << 30,
                            stored_size=12345, files=42, manifest="backups/bk/x.point", source_point="5e884898",
                            root="ab" * 32)
    stored = catalog.upsert_point(original)
    assert stored == original
    assert stored.created.utcoffset() == timedelta(0)
    assert catalog.get_point("9f86d081") == original
    original.stored_size = 1
    catalog.upsert_point(original)
    assert catalog.get_point("9f86d081").stored_size == 1
    assert len(catalog.list_points()) == 1


def test_point_of_unknown_backup_is_refused(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError, match="no backup 'ghost'"):
        catalog.upsert_point(point("p1", "ghost", T0))


def test_list_points_oldest_first_and_filters(points_setup: Catalog) -> None:
    cat = points_setup
    ids = lambda **kw: [p.id for p in cat.list_points(**kw)]  # noqa: E731
    assert ids() == ["p1", "m1", "c1", "p2", "p3"]
    assert ids(backup="bk-docs") == ["p1", "p2", "p3"]
    assert ids(job="docs") == ["p1", "p2", "p3"]
    assert ids(job="offsite") == ["c1"]
    assert ids(state=PointState.MISSING) == ["p2"]
    assert ids(state=PointState.OK) == ["p1", "m1", "p3"]
    assert ids(object="/docs") == ["p1", "c1", "p3"]
    assert ids(repository="secondary") == ["c1"]
    assert ids(repository="primary", object="/docs") == ["p1", "p3"]
    assert ids(backup="bk-docs", state=PointState.OK, object="/docs") == ["p1", "p3"]
    assert ids(job="nobody") == []
    with pytest.raises(NotFoundError):
        cat.list_points(backup="ghost")
    with pytest.raises(NotFoundError):
        cat.list_points(repository="ghost")


def test_points_are_ordered_by_instant_across_time_zones(catalog: Catalog) -> None:
    add_repo(catalog)
    catalog.upsert_backup(Backup(id="bk", repository="primary", job="docs"))
    # 10:00+02:00 is 08:00 UTC: older than 09:00 UTC although its wall-clock text is "later"
    catalog.upsert_point(point("later", "bk", datetime(2024, 3, 1, 9, 0, tzinfo=UTC)))
    catalog.upsert_point(point("earlier", "bk", datetime(2024, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))))
    assert [p.id for p in catalog.list_points()] == ["earlier", "later"]


def test_set_point_state_gfs_and_delete(points_setup: Catalog) -> None:
    cat = points_setup
    cat.set_point_state("p2", PointState.OK)
    assert cat.get_point("p2").state is PointState.OK
    cat.set_point_gfs("p1", ["y", "W", "M", "W"])
    assert cat.get_point("p1").gfs == ["W", "M", "Y"]
    cat.set_point_gfs("p1", [])
    assert cat.get_point("p1").gfs == []
    with pytest.raises(UsageError, match="unknown GFS flag"):
        cat.set_point_gfs("p1", ["Q"])
    cat.delete_point("p3")
    assert [p.id for p in cat.list_points(backup="bk-docs")] == ["p1", "p2"]
    for call in (lambda: cat.set_point_state("ghost", PointState.OK), lambda: cat.set_point_gfs("ghost", ["W"]),
                 lambda: cat.delete_point("ghost")):
        with pytest.raises(NotFoundError):
            call()


def test_get_point_prefix_resolution(catalog: Catalog) -> None:
    add_repo(catalog)
    catalog.upsert_backup(Backup(id="bk", repository="primary", job="docs"))
    catalog.upsert_point(point("1234aaaa", "bk", T0))
    catalog.upsert_point(point("1234bbbb", "bk", T0 + timedelta(days=1)))
    catalog.upsert_point(point("5678cccc", "bk", T0 + timedelta(days=2)))
    assert catalog.get_point("5678").id == "5678cccc"
    assert catalog.get_point("1234b").id == "1234bbbb"
    with pytest.raises(UsageError) as err:
        catalog.get_point("1234")
    assert not isinstance(err.value, NotFoundError)
    assert "1234aaaa" in str(err.value) and "1234bbbb" in str(err.value)
    with pytest.raises(UsageError, match="at least 4 characters"):
        catalog.get_point("567")
    with pytest.raises(NotFoundError, match="no restore point '9999'"):
        catalog.get_point("9999")


# ---------------------------------------------------------------------------------------------------- sessions

def test_session_with_objects_and_log_round_trip(catalog: Catalog, db_path: Path) -> None:
    before = datetime.now(UTC)
    session = catalog.start_session("docs", "backup")
    assert session.status is SessionStatus.RUNNING and session.ended is None
    assert before - timedelta(seconds=1) <= session.started <= datetime.now(UTC)
    catalog.set_session_object(session.id, SessionObject(name="/docs"))
    catalog.set_session_object(session.id, SessionObject(name="/photos", status="running", processed=10))
    catalog.set_session_object(session.id, SessionObject(name="/docs", status="success", processed=99, detail="ok"))
    t = datetime(2024, 3, 1, 12, 0, 0, 500, tzinfo=UTC)
    catalog.add_log(session.id, LogLine(time=t, level="info", message="starting"))
    catalog.add_log(session.id, LogLine(time=t + timedelta(seconds=1), level="warning", message="skipped a.tmp",
                                        object="/docs"))
    catalog.update_session_stats(session.id, {"processed": 5, "rate": 1.5})
    assert catalog.get_session(session.id).stats == {"processed": 5, "rate": 1.5}
    catalog.close()

    with Catalog(db_path) as again:
        got = again.get_session(session.id)
    assert got.objects == [SessionObject(name="/docs", status="success", processed=99, detail="ok"),
                           SessionObject(name="/photos", status="running", processed=10, detail="")]
    assert got.log == [LogLine(time=t, level="info", message="starting"),
                       LogLine(time=t + timedelta(seconds=1), level="warning", message="skipped a.tmp",
                               object="/docs")]
    assert got.status is SessionStatus.RUNNING


def test_finish_session(catalog: Catalog) -> None:
    session = catalog.start_session("docs", "backup")
    catalog.update_session_stats(session.id, {"processed": 1})
    catalog.finish_session(session.id, SessionStatus.WARNING, {"processed": 7, "bottleneck": "network"},
                           error="1 file skipped")
    got = catalog.get_session(session.id)
    assert got.status is SessionStatus.WARNING
    assert got.stats == {"processed": 7, "bottleneck": "network"}
    assert got.error == "1 file skipped"
    assert got.ended is not None and got.ended >= got.started
    with pytest.raises(ValueError):
        catalog.finish_session(session.id, SessionStatus.RUNNING, {})


def test_session_status_transitions(catalog: Catalog) -> None:
    session = catalog.start_session("docs", "backup")
    catalog.set_session_status(session.id, SessionStatus.STOPPING)
    assert catalog.get_session(session.id).status is SessionStatus.STOPPING
    with pytest.raises(ValueError):
        catalog.set_session_status(session.id, SessionStatus.SUCCESS)


def test_missing_session(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError) as err:
        catalog.get_session(99)
    assert str(err.value) == "no session 99 (see `backup-console sessions list`)"
    for call in (lambda: catalog.finish_session(99, SessionStatus.SUCCESS, {}),
                 lambda: catalog.update_session_stats(99, {}),
                 lambda: catalog.set_session_object(99, SessionObject(name="x")),
                 lambda: catalog.add_log(99, LogLine(time=T0, level="info", message="x"))):
        with pytest.raises(NotFoundError):
            call()


def test_session_ids_are_integers_that_increase(catalog: Catalog) -> None:
    ids = [catalog.start_session("docs", "backup").id for _ in range(3)]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(ids) and len(set(ids)) == 3


def _set_started(cat: Catalog, session_id: int, when: datetime) -> None:
    cat.db.execute("UPDATE sessions SET started = ? WHERE id = ?", [catalog_db._ts(when), session_id])


def test_list_sessions_newest_first_with_filters(catalog: Catalog) -> None:
    now = datetime.now(UTC)
    a = catalog.start_session("docs", "backup")
    b = catalog.start_session("mail", "backup")
    c = catalog.start_session("docs", "backup")
    _set_started(catalog, a.id, now - timedelta(days=3))
    _set_started(catalog, b.id, now - timedelta(days=2))
    _set_started(catalog, c.id, now - timedelta(days=1))
    catalog.finish_session(a.id, SessionStatus.SUCCESS, {})
    catalog.finish_session(b.id, SessionStatus.FAILED, {}, error="boom")
    catalog.set_session_object(c.id, SessionObject(name="/docs"))
    catalog.add_log(c.id, LogLine(time=now, level="info", message="hello"))

    listed = catalog.list_sessions()
    assert [s.id for s in listed] == [c.id, b.id, a.id]
    assert listed[0].objects == [SessionObject(name="/docs")]
    assert listed[0].log == []
    assert [s.id for s in catalog.list_sessions(job="docs")] == [c.id, a.id]
    assert [s.id for s in catalog.list_sessions(limit=2)] == [c.id, b.id]
    assert [s.id for s in catalog.list_sessions(since=now - timedelta(days=2, hours=1))] == [c.id, b.id]
    assert [s.id for s in catalog.list_sessions(status=SessionStatus.FAILED)] == [b.id]
    assert [s.id for s in catalog.list_sessions(job="docs", status=SessionStatus.RUNNING)] == [c.id]


def test_prune_sessions_removes_old_finished_sessions_with_their_rows(catalog: Catalog) -> None:
    now = datetime.now(UTC)
    old = catalog.start_session("docs", "backup")
    old_running = catalog.start_session("docs", "backup")
    recent = catalog.start_session("docs", "backup")
    for s in (old, old_running):
        _set_started(catalog, s.id, now - timedelta(days=40))
    _set_started(catalog, recent.id, now - timedelta(days=5))
    catalog.set_session_object(old.id, SessionObject(name="/docs"))
    catalog.add_log(old.id, LogLine(time=now, level="info", message="x"))
    catalog.finish_session(old.id, SessionStatus.SUCCESS, {})
    catalog.finish_session(recent.id, SessionStatus.SUCCESS, {})

    assert catalog.prune_sessions(30) == 1
    assert sorted(s.id for s in catalog.list_sessions()) == sorted([old_running.id, recent.id])
    conn = catalog.db.conn
    assert conn.execute("SELECT count(*) FROM session_objects WHERE session_id = ?", [old.id]).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM session_log WHERE session_id = ?", [old.id]).fetchone()[0] == 0
    assert catalog.prune_sessions(30) == 0


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_mark_interrupted_sessions(catalog: Catalog) -> None:
    mine = catalog.start_session("alive", "backup")
    killed = catalog.start_session("killed", "backup")
    stopping = catalog.start_session("killed-while-stopping", "copy")
    elsewhere = catalog.start_session("other-host", "backup")
    done = catalog.start_session("done", "backup")
    catalog.finish_session(done.id, SessionStatus.SUCCESS, {})
    dead = _dead_pid()
    conn = catalog.db.conn
    conn.execute("UPDATE sessions SET pid = ? WHERE id IN (?, ?, ?)", [dead, killed.id, stopping.id, done.id])
    conn.execute("UPDATE sessions SET status = 'stopping' WHERE id = ?", [stopping.id])
    conn.execute("UPDATE sessions SET pid = ?, hostname = ? WHERE id = ?",
                 [dead, socket.gethostname() + "-not-this-one", elsewhere.id])

    assert catalog.mark_interrupted_sessions() == 2
    for sid in (killed.id, stopping.id):
        got = catalog.get_session(sid)
        assert got.status is SessionStatus.FAILED
        assert got.ended is not None
        assert "interrupted" in (got.error or "") and str(dead) in (got.error or "")
    assert catalog.get_session(mine.id).status is SessionStatus.RUNNING
    assert catalog.get_session(elsewhere.id).status is SessionStatus.RUNNING
    assert catalog.get_session(done.id).status is SessionStatus.SUCCESS
    assert catalog.mark_interrupted_sessions() == 0


@pytest.mark.skipif(catalog_db._process_token(os.getpid()) is None, reason="needs /proc to tell a reused pid")
def test_mark_interrupted_sessions_sees_a_reused_pid(catalog: Catalog) -> None:
    session = catalog.start_session("docs", "backup")
    # our own pid, but recorded with another process start time: the pid was reused after the session's process died
    catalog.db.conn.execute("UPDATE sessions SET proc_token = 'another-boot:1' WHERE id = ?", [session.id])
    assert catalog.mark_interrupted_sessions() == 1
    assert catalog.get_session(session.id).status is SessionStatus.FAILED


# ---------------------------------------------------------------------------------------------------- settings

def test_settings_round_trip(catalog: Catalog, db_path: Path) -> None:
    assert catalog.get_setting("history_days") is None
    assert catalog.get_setting("history_days", 90) == 90
    catalog.set_setting("history_days", 30)
    catalog.set_setting("window", {"mon": [[22, 24]], "tue": []})
    catalog.set_setting("recent", ["a", "b"])
    catalog.set_setting("history_days", 60)
    catalog.set_setting("nothing", None)
    catalog.close()
    with Catalog(db_path) as again:
        assert again.get_setting("history_days", 90) == 60
        assert again.get_setting("window") == {"mon": [[22, 24]], "tue": []}
        assert again.get_setting("recent") == ["a", "b"]
        assert again.get_setting("nothing", "default") is None     # stored null is a value, not a missing key


# ---------------------------------------------------------------------------------------------------- migrations

def _make_v1_catalog(path: Path) -> None:
    """A schema-v1 catalog built by hand (no Catalog object), holding one repository."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    db = sqlite_utils.Database(conn, execute_plugins=False)
    migrations._v1_initial_schema(db)
    conn.execute("INSERT INTO repositories (id, name, kind, location, created) "
                 "VALUES ('r1', 'legacy', 'local', '/srv/legacy', '2023-01-01T00:00:00.000000+00:00')")
    conn.execute("PRAGMA user_version = 1")
    conn.close()


def _v2_add_column(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE repositories ADD COLUMN note TEXT NOT NULL DEFAULT ''")


def test_migration_copies_the_old_catalog_first(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_v1_catalog(db_path)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:1], _v2_add_column])

    with Catalog(db_path) as cat:
        assert cat.get_repository("legacy").location == "/srv/legacy"
        assert "note" in cat.db["repositories"].columns_dict  # type: ignore[union-attr]
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2

    copy = db_path.with_name("catalog.db.bak-v1")
    assert copy.is_file()
    with raw(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT name FROM repositories").fetchall() == [("legacy",)]
        columns = [row[1] for row in conn.execute("PRAGMA table_info(repositories)")]
        assert "note" not in columns
    assert not copy.with_name(copy.name + ".tmp").exists()

    # opening again: nothing to migrate, the copy is not rewritten
    before = copy.stat().st_mtime_ns
    with Catalog(db_path):
        pass
    assert copy.stat().st_mtime_ns == before


def test_unversioned_database_with_tables_is_backed_up_as_v0(db_path: Path) -> None:
    with raw(db_path) as conn:
        conn.execute("CREATE TABLE scratch (x)")
        conn.execute("INSERT INTO scratch VALUES (42)")
    with Catalog(db_path) as cat:
        add_repo(cat)
    copy = db_path.with_name("catalog.db.bak-v0")
    with raw(copy) as conn:
        assert conn.execute("SELECT x FROM scratch").fetchall() == [(42,)]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_failed_migration_leaves_the_catalog_unchanged(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_v1_catalog(db_path)

    def broken(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:1], broken])
    with pytest.raises(ConsoleError, match="could not migrate catalog .* from schema v1 to v2") as err:
        Catalog(db_path)
    assert "bak-v1" in str(err.value)
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
        assert conn.execute("SELECT name FROM repositories").fetchall() == [("legacy",)]


def test_newer_catalog_is_refused(db_path: Path) -> None:
    with Catalog(db_path) as cat:
        add_repo(cat)
    newer = migrations.schema_version() + 1
    with raw(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(ConsoleError) as err:
        Catalog(db_path)
    message = str(err.value)
    assert f"was written by a newer Backup Copy Console (schema v{newer}); upgrade the console" in message
    assert str(db_path) in message
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == newer
    assert not list(db_path.parent.glob("catalog.db.bak-*"))


def test_a_file_that_is_not_a_database_gives_a_clear_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConsoleError, match="cannot open catalog"):
        Catalog(db_path)


# ---------------------------------------------------------------------------------------------------- concurrency

def test_a_writer_waits_for_another_writer_instead_of_failing(catalog: Catalog, db_path: Path) -> None:
    holder = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")                 # another process holds the write lock for a second
    holder.execute("INSERT INTO settings (key, value) VALUES ('held', '1')")
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        began = time.monotonic()
        catalog.set_setting("mine", 2)
        waited = time.monotonic() - began
    finally:
        release.join()
        holder.close()
    assert waited >= 0.5
    assert catalog.get_setting("held") == 1 and catalog.get_setting("mine") == 2


def test_two_threads_write_through_their_own_catalogs(db_path: Path) -> None:
    with Catalog(db_path) as setup:
        add_repo(setup)
        setup.upsert_backup(Backup(id="bk", repository="primary", job="docs"))
    rounds = 60
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(tag: str) -> None:
        try:
            with Catalog(db_path) as cat:          # one Catalog per thread, as the GUI workers do
                start.wait(timeout=30)
                session = cat.start_session(f"job-{tag}", "backup")
                for i in range(rounds):
                    # read-then-write transactions (name check + insert) and plain writes, interleaved
                    cat.add_repository(Repository(name=f"{tag}-{i}", kind="local", location=f"/srv/{tag}/{i}"))
                    cat.upsert_point(point(f"{tag}-{i}", "bk", T0 + timedelta(minutes=i)))
                    cat.add_log(session.id, LogLine(time=datetime.now(UTC), level="info", message=f"{tag} {i}"))
                    cat.update_session_stats(session.id, {"processed": i})
                    cat.set_setting(f"counter-{tag}", i)
                    cat.list_points(backup="bk")
                cat.finish_session(session.id, SessionStatus.SUCCESS, {"processed": rounds})
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
            start.abort()                          # never leave the other thread waiting at the barrier

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    with Catalog(db_path) as cat:
        assert len(cat.list_repositories()) == 1 + 2 * rounds
        assert len(cat.list_points(backup="bk")) == 2 * rounds
        sessions = cat.list_sessions()
        assert {s.status for s in sessions} == {SessionStatus.SUCCESS}
        assert [len(cat.get_session(s.id).log) for s in sessions] == [rounds, rounds]
        assert cat.get_setting("counter-a") == cat.get_setting("counter-b") == rounds - 1
