"""Corruption of a copy target: flip bytes in, truncate, or delete a random pack, index or manifest file.

Every case must be detected by `repo check --read-data` (never reported healthy) with the affected restore points
named (corrupted or missing); then, with a healthy source, the health check plus the next copy session repair the
copy, `check --read-data` is clean and the copy restores byte-identically.

CI runs the 18 combinations plus 6 seeded random cases; TORTURE_TRIALS=N runs N random cases (full run: 60).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from core.helpers import random_bytes, snapshot

from console.core import secrets
from console.core.catalog import Catalog
from console.core.model import PointState, SessionStatus
from console.core.operations import jobs, maintenance
from console.core.operations.repositories import add_local

TRIALS = int(os.environ.get("TORTURE_TRIALS", "6"))          # random cases on top of the 18 fixed ones
KINDS = ("pack", "index", "manifest")
DAMAGE = ("flip", "truncate", "delete")


def _build(tmp: Path, encrypted: bool) -> tuple[Catalog, Path, Path]:
    home, src = tmp / "home", tmp / "src"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}.bin").write_bytes(random_bytes(300_000, 10 + i))
    (src / "notes.txt").write_text("corruption torture\n" * 3000)
    cat = Catalog.open(home)
    pw = "torture-pass" if encrypted else None
    if pw:
        secrets.remember(secrets.repo_key("main"), pw)
        secrets.remember(secrets.repo_key("off"), pw + "-2")
    add_local(cat, "main", str(tmp / "r1"), pw)
    add_local(cat, "off", str(tmp / "r2"), pw + "-2" if pw else None)
    jobs.add_backup_job(cat, "bj", "main", [str(src)])
    assert jobs.run_job(cat, "bj", home).status == SessionStatus.SUCCESS
    (src / "later.bin").write_bytes(random_bytes(200_000, 99))
    assert jobs.run_job(cat, "bj", home).status == SessionStatus.SUCCESS
    jobs.add_copy_job(cat, "cj", "off", from_jobs=["bj"], copy_history=True)
    assert jobs.run_job(cat, "cj", home).status == SessionStatus.SUCCESS
    return cat, home, src


def _victims(repo: Path, kind: str) -> list[Path]:
    if kind == "pack":
        return sorted(p for p in (repo / "data").rglob("*") if p.is_file())
    if kind == "index":
        return sorted((repo / "index").iterdir())
    return sorted((repo / "backups").rglob("*.point"))


def _damage(path: Path, how: str, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(bytes(data[:rng.randrange(0, len(data))]))
    else:
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))


def _cases() -> list[tuple[int, str, str, bool]]:
    fixed = [(0, k, d, e) for k in KINDS for d in DAMAGE for e in (False, True)]   # every combination once
    rng = random.Random(2026)
    return fixed + [(s, rng.choice(KINDS), rng.choice(DAMAGE), rng.random() < 0.5) for s in range(1, TRIALS + 1)]


@pytest.mark.parametrize("seed,kind,how,encrypted", _cases())
def test_damage_is_detected_then_repaired(tmp_path: Path, seed: int, kind: str, how: str, encrypted: bool) -> None:
    cat, home, src = _build(tmp_path, encrypted)
    try:
        rng = random.Random(seed * 1000 + KINDS.index(kind) * 10 + DAMAGE.index(how))
        victim = rng.choice(_victims(tmp_path / "r2", kind))
        _damage(victim, how, rng)

        chk = maintenance.check(cat, "off", read_data=True)
        log = [line.message for line in cat.get_session(chk.id).log]
        assert chk.status == SessionStatus.FAILED, f"{kind}/{how} not detected: {log}"
        bad = [p for p in cat.list_points(job="cj") if p.state != PointState.OK]
        assert bad, f"{kind}/{how}: no restore point named as affected: {log}"
        assert all(any(p.id in m for m in log) for p in bad), log

        hc = jobs.run_health_check(cat, "cj", home, scope="all")
        assert hc.status in (SessionStatus.FAILED, SessionStatus.SUCCESS)
        s = jobs.run_job(cat, "cj", home)
        assert s.status in (SessionStatus.SUCCESS, SessionStatus.WARNING), s.error
        chk = maintenance.check(cat, "off", read_data=True)
        log = [line.message for line in cat.get_session(chk.id).log]
        assert chk.status == SessionStatus.SUCCESS, f"{kind}/{how} not repaired: {log}"
        copies = cat.list_points(job="cj")
        assert len(copies) == 2 and all(p.state == PointState.OK for p in copies)
        newest = copies[-1]
        session, _ = maintenance.restore(cat, newest.id, str(tmp_path / "out"))
        assert session.status == SessionStatus.SUCCESS, session.error
        assert snapshot(tmp_path / "out", with_dir_mtimes=False) == snapshot(src, with_dir_mtimes=False)
    finally:
        cat.close()
