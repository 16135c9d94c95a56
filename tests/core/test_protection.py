"""3-2-1 status per protected source (console.core.operations.protection), on a real catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.core.catalog import Catalog
from console.core.model import Backup, Job, JobKind, PointState, Repository, RestorePoint
from console.core.operations.backup_job import run_backup_job
from console.core.operations.protection import assess, is_offsite, media_of, sftp_host
from console.core.operations.repositories import add_local

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SRC = "/home/admin/docs"


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog(tmp_path / "catalog.db") as cat:
        yield cat


def _repo(cat: Catalog, name: str, kind: str = "local", location: str | None = None, **options) -> None:
    cat.add_repository(Repository(name=name, kind=kind, location=location or f"/srv/{name}", options=options))


def _points(cat: Catalog, repo: str, job: str, n: int, kind: JobKind = JobKind.BACKUP, obj: str = SRC,
            state: PointState = PointState.OK, start: datetime = T0) -> None:
    bid = f"{repo}-{job}".ljust(16, "0")[:16]
    cat.upsert_backup(Backup(id=bid, repository=repo, job=job, kind=kind))
    for i in range(n):
        cat.upsert_point(RestorePoint(id=f"{bid}-{i}", backup=bid, object=obj, created=start + timedelta(days=i),
                                      state=state))


def _one(cat: Catalog):
    [p] = assess(cat)
    return p


def test_a_job_that_never_ran_says_so(catalog: Catalog) -> None:
    _repo(catalog, "primary")
    catalog.add_job(Job(name="docs", kind=JobKind.BACKUP, repository="primary", sources=[SRC]))
    p = _one(catalog)
    assert (p.source, p.jobs, p.copies, p.locations, p.newest) == (SRC, ["docs"], 1, [], None)
    assert not p.ok
    assert p.missing == ["not backed up yet: run job docs"]


def test_one_local_backup_names_every_missing_piece(catalog: Catalog) -> None:
    _repo(catalog, "primary")
    catalog.add_job(Job(name="docs", kind=JobKind.BACKUP, repository="primary", sources=[SRC]))
    _points(catalog, "primary", "docs", 3)
    p = _one(catalog)
    assert p.copies == 2 and p.media == ["local disk"] and not p.offsite
    assert p.newest == T0 + timedelta(days=2)
    assert [(loc.repository, loc.points, loc.copy) for loc in p.locations] == [("primary", 3, False)]
    assert len(p.missing) == 3
    assert p.missing[0].startswith("2 of 3 copies")
    assert "another kind of media" in p.missing[1]
    assert "off-site" in p.missing[2]


def test_local_plus_offsite_sftp_copy_holds_the_rule(catalog: Catalog) -> None:
    _repo(catalog, "primary")
    _repo(catalog, "offsite", kind="sftp", location="backup@vault.example.com:2222/srv/copies")
    catalog.add_job(Job(name="docs", kind=JobKind.BACKUP, repository="primary", sources=[SRC]))
    _points(catalog, "primary", "docs", 2)
    _points(catalog, "offsite", "docs", 1, kind=JobKind.COPY, start=T0 + timedelta(days=5))
    p = _one(catalog)
    assert p.ok, p.missing
    assert p.copies == 3
    assert p.media == ["local disk", "remote server (SFTP)"]
    assert p.offsite
    assert p.newest == T0 + timedelta(days=5)
    assert [(loc.repository, loc.offsite, loc.copy) for loc in p.locations] == [
        ("offsite", True, True), ("primary", False, False)]


def test_missing_and_corrupted_points_do_not_count(catalog: Catalog) -> None:
    _repo(catalog, "primary")
    _repo(catalog, "offsite", kind="sftp", location="backup@vault.example.com/srv")
    _points(catalog, "primary", "docs", 2)
    _points(catalog, "offsite", "docs", 2, kind=JobKind.COPY, state=PointState.MISSING)
    p = _one(catalog)
    assert p.copies == 2 and not p.offsite and not p.ok
    assert p.jobs == []          # the job is gone, its points still protect the source


def test_loopback_sftp_is_on_site_and_admin_overrides_win(catalog: Catalog) -> None:
    _repo(catalog, "primary")
    _repo(catalog, "loop", kind="sftp", location="me@127.0.0.1:2022/srv")
    _points(catalog, "primary", "docs", 1)
    _points(catalog, "loop", "docs", 1, kind=JobKind.COPY)
    p = _one(catalog)
    assert p.copies == 3 and len(p.media) == 2 and not p.offsite
    assert p.missing == ["no copy is off-site: copy to a repository at another location"]

    usb = catalog.get_repository("primary")
    usb.options = {"offsite": True, "media": "removable disk"}
    catalog.update_repository(usb)
    p = _one(catalog)
    assert p.ok and p.media == ["local disk", "remote server (SFTP)", "removable disk"]


@pytest.mark.parametrize(("location", "host"), [
    ("user@host.example:22/path", "host.example"),
    ("user@host.example/path", "host.example"),
    ("user@[::1]:2222/p", "::1"),
    ("host/p", "host"),
])
def test_sftp_host(location: str, host: str) -> None:
    assert sftp_host(location) == host


def test_media_and_offsite_rules() -> None:
    assert media_of(Repository(name="a", kind="local", location="/x")) == "local disk"
    assert media_of(Repository(name="a", kind="s3", location="b")) == "object storage"
    assert not is_offsite(Repository(name="a", kind="sftp", location="u@localhost/x"))
    assert is_offsite(Repository(name="a", kind="sftp", location="u@10.1.2.3/x"))
    assert not is_offsite(Repository(name="a", kind="sftp", location="u@10.1.2.3/x", options={"offsite": False}))


def test_a_real_backup_run_is_counted(tmp_path: Path, data_dir: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("hello\n")
    with Catalog.open(data_dir) as cat:
        add_local(cat, "primary", str(tmp_path / "repo"))
        cat.add_job(Job(name="docs", kind=JobKind.BACKUP, repository="primary", sources=[str(src)]))
        assert _one(cat).copies == 1
        session = run_backup_job(cat, "docs", data_dir)
        assert session.status.value == "success"
        p = _one(cat)
        assert (p.source, p.copies, p.jobs) == (str(src), 2, ["docs"])
        assert p.locations[0].repository == "primary" and p.locations[0].points == 1
