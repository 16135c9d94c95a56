"""GC killed with SIGKILL at random moments: the repository stays consistent, every remaining point restores
byte-identically, and the next GC finishes the job."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from core.helpers import pack_paths, random_bytes, snapshot

from console.core.catalog import Catalog
from console.core.model import SessionStatus
from console.core.operations import jobs, maintenance
from console.core.operations.repositories import add_local
from console.core.repository.repo import Repository
from console.core.storage.local import LocalStorage

ROOT = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("CRASH_TRIALS", "10"))
MIB = 1 << 20


def _env(home: Path) -> dict:
    return {**os.environ, "BACKUP_CONSOLE_HOME": str(home), "PYTHONPATH": str(ROOT),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def _clone(base: Path, dest: Path) -> Path:
    """A private copy of the prepared repository and catalog; the catalog is pointed at the copied folder."""
    shutil.copytree(base, dest)
    with Catalog.open(dest / "home") as cat:
        entry = cat.get_repository("r")
        entry.location = str(dest / "repo")
        cat.update_repository(entry)
    return dest


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A repository where GC has real work (points deleted, packs half used), and how long that GC takes."""
    base = tmp_path_factory.mktemp("gc")
    home, src, repo = base / "home", base / "src", base / "repo"
    src.mkdir()
    repo.mkdir()
    Repository.init(LocalStorage(repo), None, compression=0)
    cfg = json.loads((repo / "config.json").read_text())
    cfg["pack_size"] = MIB                                  # many small packs: many deletes and repacks
    (repo / "config.json").write_text(json.dumps(cfg))
    with Catalog.open(home) as cat:
        add_local(cat, "r", str(repo))
        jobs.add_backup_job(cat, "j", "r", [str(src)], retention={"points": 3})
        for run in range(6):
            for i in range(4):
                (src / f"r{run}-{i}.bin").write_bytes(random_bytes(700_000, run * 10 + i))
            if run >= 2:
                for old in src.glob(f"r{run - 2}-*"):
                    old.unlink()
            assert jobs.run_job(cat, "j", home).status == SessionStatus.SUCCESS
    # retention removed points; GC ran after it: undo that by adding garbage again
    (src / "junk.bin").write_bytes(random_bytes(6 * MIB, 77))
    with Catalog.open(home) as cat:
        assert jobs.run_job(cat, "j", home).status == SessionStatus.SUCCESS
        p = cat.list_points(job="j")[-1]
        (repo / p.manifest).unlink()                        # its blocks are garbage now
        cat.delete_point(p.id)
    (src / "junk.bin").unlink()
    timing = _clone(base, base.parent / "gc-timing")
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "console", "repo", "gc", "r"], env=_env(timing / "home"), cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return base, time.monotonic() - t0


@pytest.mark.parametrize("trial", range(TRIALS))
def test_kill_gc_at_random_moment(prepared: tuple[Path, float], tmp_path: Path, trial: int) -> None:
    base, duration = prepared
    work = _clone(base, tmp_path / "w")
    before = sum(p.stat().st_size for p in pack_paths(work / "repo"))
    proc = subprocess.Popen([sys.executable, "-m", "console", "repo", "gc", "r"], env=_env(work / "home"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.Random(trial).uniform(0.25, 1.0) * duration)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Catalog.open(work / "home") as cat:
        chk = maintenance.check(cat, "r", read_data=True)
        assert chk.status == SessionStatus.SUCCESS, [x.message for x in cat.get_session(chk.id).log]
        points = cat.list_points(job="j")
        assert len(points) == 2                             # retention kept 3, the junk point was removed
        newest = points[-1]
        session, _ = maintenance.restore(cat, newest.id, str(tmp_path / "out"))
        assert session.status == SessionStatus.SUCCESS, session.error
        assert snapshot(tmp_path / "out", with_dir_mtimes=False) == snapshot(base / "src", with_dir_mtimes=False)
        assert maintenance.gc(cat, "r").status == SessionStatus.SUCCESS
        assert maintenance.check(cat, "r", read_data=True).status == SessionStatus.SUCCESS
    after = sum(p.stat().st_size for p in pack_paths(work / "repo"))
    assert after < before - 4 * MIB                                   # the garbage is gone after the re-run
