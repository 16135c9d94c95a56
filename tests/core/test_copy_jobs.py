"""Backup copy jobs through the core operations: real catalog, real repositories, real copy engine."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from core.helpers import pack_paths, random_bytes, snapshot

from console.core import secrets
from console.core.catalog import Catalog
from console.core.errors import ConsoleError, UsageError
from console.core.model import JobKind, PointState, SessionStatus
from console.core.operations import jobs, maintenance
from console.core.operations.backups import delete_backup, remove_missing_points
from console.core.operations.copy_job import WINDOW_STOP, plan_copy, source_backups
from console.core.operations.repositories import add_local


class Env:
    def __init__(self, tmp: Path, src_password: str | None = None, dst_password: str | None = None,
                 dst_compression: int = 3) -> None:
        self.tmp = tmp
        self.data_dir = tmp / "home"
        self.cat = Catalog.open(self.data_dir)
        self.src = tmp / "src"
        self.src.mkdir()
        (self.src / "a.txt").write_text("alpha\n" * 5000)
        (self.src / "sub").mkdir()
        (self.src / "sub" / "b.bin").write_bytes(random_bytes(600_000, 1))
        add_local(self.cat, "main", str(tmp / "r1"), src_password, block_size=256 << 10)
        add_local(self.cat, "off", str(tmp / "r2"), dst_password, compression=dst_compression)
        jobs.add_backup_job(self.cat, "bj", "main", [str(self.src)], retention={"points": 10})

    def copy_job(self, **kw) -> None:
        jobs.add_copy_job(self.cat, "cj", "off", from_jobs=["bj"], **kw)

    def backup(self) -> None:
        s = jobs.run_job(self.cat, "bj", self.data_dir)
        assert s.status == SessionStatus.SUCCESS, s.error

    def copy(self, **kw):
        return jobs.run_job(self.cat, "cj", self.data_dir, **kw)

    def copies(self) -> list:
        return [p for p in self.cat.list_points(job="cj")]

    def change(self, n: int, size: int = 300_000) -> None:
        (self.src / f"new{n}.bin").write_bytes(random_bytes(size, 100 + n))


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = Env(tmp_path)
    yield e
    e.cat.close()


def restored_equal(env: Env, point_id: str, dest: Path) -> None:
    session, _ = maintenance.restore(env.cat, point_id, str(dest))
    assert session.status == SessionStatus.SUCCESS, session.error
    assert snapshot(dest, with_dir_mtimes=False) == snapshot(env.src, with_dir_mtimes=False)


def test_immediate_first_run_copies_latest_then_every_new_point(env: Env, tmp_path: Path) -> None:
    env.backup()
    env.change(1)
    env.backup()
    env.copy_job()
    s = env.copy()
    assert s.status == SessionStatus.SUCCESS, s.error
    copies = env.copies()
    src_points = env.cat.list_points(job="bj")
    assert [c.source_point for c in copies] == [src_points[-1].id]        # the latest only
    c = copies[0]
    assert (c.created, c.type, c.object) == (src_points[-1].created, src_points[-1].type, src_points[-1].object)
    restored_equal(env, c.id, tmp_path / "out")
    env.change(2)
    env.backup()
    env.change(3)
    env.backup()
    assert len(jobs.pending_points(env.cat, "cj")) == 2
    s = env.copy()
    assert s.status == SessionStatus.SUCCESS
    assert [c.source_point for c in env.copies()] == [p.id for p in env.cat.list_points(job="bj")[1:]]
    assert jobs.pending_points(env.cat, "cj") == []
    again = env.copy()
    assert again.stats["transferred"] == 0 and again.stats["points"] == []
    assert maintenance.check(env.cat, "off", read_data=True).status == SessionStatus.SUCCESS


def test_copy_history_copies_every_point_oldest_first(env: Env) -> None:
    for n in range(3):
        env.change(n)
        env.backup()
    env.copy_job(copy_history=True)
    env.copy()
    copies = env.copies()
    assert [c.source_point for c in copies] == [p.id for p in env.cat.list_points(job="bj")]
    assert [c.created for c in copies] == sorted(c.created for c in copies)


def test_periodic_copies_only_the_latest_point_not_yet_copied(env: Env) -> None:
    env.backup()
    env.copy_job(mode="periodic", interval="4h")
    env.copy()
    for n in range(3):
        env.change(n)
        env.backup()
    env.copy()
    src = env.cat.list_points(job="bj")
    assert [c.source_point for c in env.copies()] == [src[0].id, src[-1].id]


def test_incremental_copy_sends_about_its_new_unique_bytes(env: Env) -> None:
    env.backup()
    env.copy_job()
    env.copy()
    env.change(1, 4_000_000)
    env.backup()
    new = env.cat.list_points(job="bj")[-1]
    s = env.copy()
    assert s.stats["transferred"] <= 1.05 * new.stored_size, (s.stats["transferred"], new.stored_size)
    assert s.stats["transferred"] >= 0.95 * new.stored_size


@pytest.mark.parametrize("src_pw,dst_pw,dst_comp", [(None, "copy-secret", 3), ("src-secret", None, 0),
                                                     ("src-secret", "other-secret", 12)])
def test_copy_between_different_keys_and_compression(tmp_path: Path, src_pw, dst_pw, dst_comp) -> None:
    for name, pw in (("main", src_pw), ("off", dst_pw)):
        if pw:
            secrets.remember(secrets.repo_key(name), pw)
    env = Env(tmp_path, src_pw, dst_pw, dst_comp)
    try:
        env.backup()
        env.copy_job()
        s = env.copy()
        assert s.status == SessionStatus.SUCCESS, s.error
        restored_equal(env, env.copies()[0].id, tmp_path / "out")
        assert maintenance.check(env.cat, "off", read_data=True).status == SessionStatus.SUCCESS
        if dst_pw:   # nothing readable in the encrypted target: the plaintext never lands there
            blob = b"".join(p.read_bytes() for p in pack_paths(tmp_path / "r2"))
            assert b"alpha\nalpha" not in blob
    finally:
        env.cat.close()


def test_wrong_target_password_fails_and_changes_nothing(tmp_path: Path) -> None:
    secrets.remember(secrets.repo_key("off"), "right")
    env = Env(tmp_path, None, "right")
    try:
        env.backup()
        env.copy_job()
        secrets.remember(secrets.repo_key("off"), "wrong")
        before = sorted(p.name for p in (tmp_path / "r2").rglob("*"))
        s = env.copy()
        assert s.status == SessionStatus.FAILED and "password" in s.error
        assert sorted(p.name for p in (tmp_path / "r2").rglob("*")) == before
    finally:
        env.cat.close()


def test_unavailable_source_fails_and_deletes_nothing_on_target(env: Env) -> None:
    env.backup()
    env.copy_job()
    env.copy()
    env.change(1)
    env.backup()
    os.rename(env.tmp / "r1", env.tmp / "r1-away")
    s = env.copy()
    assert s.status == SessionStatus.FAILED and "does not exist" in s.error
    assert len(env.copies()) == 1 and env.copies()[0].state == PointState.OK
    os.rename(env.tmp / "r1-away", env.tmp / "r1")
    assert env.copy().status == SessionStatus.SUCCESS
    assert len(env.copies()) == 2


def test_copy_window_stops_cleanly_and_resumes_without_resending(env: Env) -> None:
    (env.src / "big.bin").write_bytes(random_bytes(6_000_000, 7))
    env.backup()
    env.copy_job(window="mon-sun 0-24")
    calls = {"n": 0}
    base = datetime(2026, 11, 23, 12, 0).astimezone()

    def clock() -> datetime:   # inside the window for the first checks, then past its end
        calls["n"] += 1
        return base if calls["n"] < 6 else base.replace(hour=23) + timedelta(hours=2)

    job = env.cat.get_job("cj")
    job.options["window"] = "mon-sun 8-24"
    env.cat.update_job(job)
    s1 = env.copy(clock=clock)
    assert s1.status == SessionStatus.STOPPED and WINDOW_STOP in s1.error
    assert env.copies() == []
    sent_before = sum(p.stat().st_size for p in pack_paths(env.tmp / "r2"))
    assert sent_before > 0                                           # what was sent before the stop is kept
    with pytest.raises(ConsoleError, match="outside its copy window"):
        env.copy(clock=lambda: base.replace(hour=3))
    s2 = env.copy(clock=lambda: base)
    assert s2.status == SessionStatus.SUCCESS
    total = sum(p.stat().st_size for p in pack_paths(env.tmp / "r2"))
    assert s2.stats["transferred"] < total - sent_before * 0.9       # the first part was not sent again
    restored_equal(env, env.copies()[0].id, env.tmp / "out")


def test_corrupted_copy_is_found_by_health_check_and_repaired(env: Env) -> None:
    env.backup()
    env.copy_job()
    env.copy()
    packs = pack_paths(env.tmp / "r2")
    victim = max(packs, key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 3] ^= 0xFF
    victim.write_bytes(bytes(data))
    hc = jobs.run_health_check(env.cat, "cj", env.data_dir)
    assert hc.status == SessionStatus.FAILED
    assert env.copies()[0].state == PointState.CORRUPTED
    assert len(jobs.pending_points(env.cat, "cj")) == 1
    s = env.copy()
    assert s.status == SessionStatus.SUCCESS, s.error
    assert s.stats["repaired"] >= 1
    assert env.copies()[0].state == PointState.OK
    assert jobs.run_health_check(env.cat, "cj", env.data_dir).status == SessionStatus.SUCCESS
    assert maintenance.gc(env.cat, "off").status == SessionStatus.SUCCESS
    # the damaged pack is gone once GC repacks; a full read is clean
    chk = maintenance.check(env.cat, "off", read_data=True)
    assert chk.status == SessionStatus.SUCCESS, [line.message for line in env.cat.get_session(chk.id).log]
    restored_equal(env, env.copies()[0].id, env.tmp / "out")


def test_copy_job_validation(env: Env) -> None:
    with pytest.raises(UsageError, match="needs sources"):
        jobs.add_copy_job(env.cat, "x", "off")
    with pytest.raises(UsageError, match="another repository"):
        jobs.add_copy_job(env.cat, "x", "main", from_jobs=["bj"])
    with pytest.raises(UsageError, match="both a source and the target"):
        jobs.add_copy_job(env.cat, "x", "off", from_repos=["off"])
    with pytest.raises(UsageError):
        jobs.add_copy_job(env.cat, "x", "off", from_jobs=["bj"], retention={"points": 1})
    with pytest.raises(UsageError):
        jobs.add_copy_job(env.cat, "x", "off", from_jobs=["bj"], window="mon-fry 20-06")
    with pytest.raises(UsageError):
        jobs.add_copy_job(env.cat, "x", "off", from_jobs=["bj"], retention={"points": 7, "gfs": {
            "weekly": {"keep": 4, "day": "sunnday"}}})
    with pytest.raises(UsageError, match="not encrypted"):
        jobs.add_copy_job(env.cat, "x", "off", from_jobs=["bj"], encrypt=True)
    assert [j.name for j in env.cat.list_jobs()] == ["bj"]


def test_repository_sources_include_jobs_added_later(env: Env) -> None:
    jobs.add_copy_job(env.cat, "cj", "off", from_repos=["main"])
    env.backup()
    other = env.tmp / "other"
    other.mkdir()
    (other / "o.txt").write_text("other job")
    jobs.add_backup_job(env.cat, "bj2", "main", [str(other)])
    assert jobs.run_job(env.cat, "bj2", env.data_dir).status == SessionStatus.SUCCESS
    job = env.cat.get_job("cj")
    assert {b.job for b in source_backups(env.cat, job)} == {"bj", "bj2"}
    env.copy()
    assert {env.cat.get_backup(b.source_backup).job for b in env.cat.list_backups("off")} == {"bj", "bj2"}


def test_missing_points_forget_and_from_disk(env: Env) -> None:
    env.backup()
    env.copy_job()
    env.copy()
    env.change(1)
    env.backup()
    env.copy()
    first, second = env.copies()
    (env.tmp / "r2" / first.manifest).unlink()
    maintenance.rescan(env.cat, "off")
    assert [p.state for p in env.copies()] == [PointState.MISSING, PointState.OK]
    s = remove_missing_points(env.cat, first.backup, from_disk=False)
    assert s.status == SessionStatus.SUCCESS
    assert [p.id for p in env.copies()] == [second.id]                     # only the missing one went
    (env.tmp / "r2" / second.manifest).rename(env.tmp / "kept.point")
    maintenance.rescan(env.cat, "off")
    (env.tmp / "kept.point").rename(env.tmp / "r2" / second.manifest)      # files back, catalog says missing
    s = remove_missing_points(env.cat, second.backup, from_disk=True)
    assert s.status == SessionStatus.SUCCESS and env.copies() == []
    assert not (env.tmp / "r2" / second.manifest).exists()


def test_delete_backup_from_configuration_then_rescan_imports_it_with_gfs(env: Env) -> None:
    env.backup()
    env.copy_job(retention={"points": 3, "gfs": {"weekly": {"keep": 4, "day": "sunday"}}})
    env.copy()
    tb = env.cat.list_backups("off")[0]
    pts = env.cat.list_points(backup=tb.id)
    env.cat.set_point_gfs(pts[0].id, ["W"])
    from console.core.operations.repositories import open_repository
    from console.core.operations.retention import write_retention_doc
    _, repo = open_repository(env.cat, "off")
    with repo:
        write_retention_doc(repo, tb.id, {pts[0].id: {"gfs": ["W"], "expires": {}}})
    s = delete_backup(env.cat, tb.id, from_disk=False)
    assert s.status == SessionStatus.SUCCESS
    assert env.cat.list_backups("off") == []
    maintenance.rescan(env.cat, "off")
    back = env.cat.list_backups("off")
    assert [b.id for b in back] == [tb.id] and back[0].kind == JobKind.COPY
    assert env.cat.list_points(backup=tb.id)[0].gfs == ["W"]


def test_delete_backup_from_disk_keep_gfs_and_space_freed(env: Env) -> None:
    env.backup()
    env.change(1, 2_000_000)
    env.backup()
    bk = env.cat.list_backups("main")[0]
    a, b = env.cat.list_points(backup=bk.id)
    env.cat.set_point_gfs(a.id, ["M"])
    size = lambda: sum(p.stat().st_size for p in pack_paths(env.tmp / "r1"))  # noqa: E731
    before = size()
    s = delete_backup(env.cat, bk.id, from_disk=True, keep_gfs=True)
    assert s.status == SessionStatus.SUCCESS, s.error
    assert [p.id for p in env.cat.list_points(backup=bk.id)] == [a.id]
    assert size() < before - 1_500_000                                      # the new file's blocks are gone
    s = delete_backup(env.cat, bk.id, from_disk=True)
    assert s.status == SessionStatus.SUCCESS
    assert env.cat.list_backups("main") == [] and pack_paths(env.tmp / "r1") == []


def test_plan_ignores_points_older_than_the_newest_copy(env: Env) -> None:
    env.backup()
    env.change(1)
    env.backup()
    env.copy_job()
    env.copy()
    job = env.cat.get_job("cj")
    plan = plan_copy(env.cat, job, source_backups(env.cat, job)[0])
    assert plan.copy == [] and plan.repair == []
    plan = plan_copy(env.cat, job, source_backups(env.cat, job)[0], sync_all=True)
    assert [p.id for p in plan.copy] == [env.cat.list_points(job="bj")[0].id]


def test_two_copy_jobs_writing_one_target_are_serialised(env: Env) -> None:
    import threading

    (env.src / "big.bin").write_bytes(random_bytes(3_000_000, 9))
    env.backup()
    env.copy_job()
    jobs.add_copy_job(env.cat, "cj2", "off", from_jobs=["bj"])
    results: dict[str, SessionStatus] = {}

    def run(name: str) -> None:
        with Catalog.open(env.data_dir) as cat:      # one catalog connection per thread, like the GUI workers
            results[name] = jobs.run_job(cat, name, env.data_dir).status

    threads = [threading.Thread(target=run, args=(n,)) for n in ("cj", "cj2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {"cj": SessionStatus.SUCCESS, "cj2": SessionStatus.SUCCESS}
    assert len(env.cat.list_backups("off")) == 2
    assert maintenance.check(env.cat, "off", read_data=True).status == SessionStatus.SUCCESS
    # the second job found the first one's blocks in the target: together they stored the data once
    sizes = sum(p.stat().st_size for p in pack_paths(env.tmp / "r2"))
    assert sizes < 1.3 * sum(p.stat().st_size for p in pack_paths(env.tmp / "r1"))


def test_same_job_twice_at_once_is_refused(env: Env) -> None:
    from console.core import paths
    from console.core.errors import LockedError
    from console.core.operations.sessions import JobLock

    env.backup()
    env.copy_job()
    with JobLock(paths.locks_dir(env.data_dir), "cj"), pytest.raises(LockedError, match="already running"):
        env.copy()


def test_source_point_gone_before_copy_is_marked_missing(env: Env) -> None:
    env.backup()
    env.copy_job()
    env.copy()
    env.change(1)
    env.backup()
    env.change(2)
    env.backup()
    gone, last = env.cat.list_points(job="bj")[1:]
    (env.tmp / "r1" / gone.manifest).unlink()
    s = env.copy()
    assert s.status == SessionStatus.WARNING
    assert env.cat.get_point(gone.id).state == PointState.MISSING
    assert [c.source_point for c in env.copies()][-1] == last.id
    session, _ = maintenance.restore(env.cat, gone.id, str(env.tmp / "out"))
    assert session.status == SessionStatus.FAILED and "missing" in session.error


def test_restore_of_a_point_whose_manifest_vanished_marks_it_missing(env: Env) -> None:
    env.backup()
    p = env.cat.list_points(job="bj")[0]
    (env.tmp / "r1" / p.manifest).unlink()
    session, _ = maintenance.restore(env.cat, p.id, str(env.tmp / "out"))
    assert session.status == SessionStatus.FAILED and "marked missing" in session.error
    assert env.cat.get_point(p.id).state == PointState.MISSING
