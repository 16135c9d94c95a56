"""A copy session killed with SIGKILL leaves the target consistent (no half point) and the re-run resumes: packs the
killed run finished are re-indexed and re-used, not sent again (asserted in bytes)."""

from __future__ import annotations

import json
import os
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
MIB = 1 << 20


def _slow_small_pack_target(path: Path) -> None:
    """A target that recompresses hard (zstd 13 on random data: slow) into 1 MiB packs: many commits to kill."""
    path.mkdir()
    Repository.init(LocalStorage(path), None, compression=13)
    cfg = json.loads((path / "config.json").read_text())
    cfg["pack_size"] = MIB
    (path / "config.json").write_text(json.dumps(cfg))


TRIALS = int(os.environ.get("CRASH_TRIALS", "10"))   # the full run: CRASH_TRIALS=50


@pytest.mark.parametrize("trial", range(TRIALS))
def test_kill_copy_midway_then_resume(tmp_path: Path, trial: int) -> None:
    home = tmp_path / "home"
    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        (src / f"f{i}.bin").write_bytes(random_bytes(2 * MIB, 50 + i))
    _slow_small_pack_target(tmp_path / "r2")
    with Catalog.open(home) as cat:
        add_local(cat, "main", str(tmp_path / "r1"), compression=0)
        add_local(cat, "off", str(tmp_path / "r2"))
        jobs.add_backup_job(cat, "bj", "main", [str(src)])
        assert jobs.run_job(cat, "bj", home).status == SessionStatus.SUCCESS
        jobs.add_copy_job(cat, "cj", "off", from_jobs=["bj"])

    env = {**os.environ, "BACKUP_CONSOLE_HOME": str(home), "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.Popen([sys.executable, "-m", "console", "job", "run", "cj"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    want = 2 + (trial * 7) % 19                      # kill after 2..20 of the ~24 packs reached the target
    deadline = time.monotonic() + 60
    while len(pack_paths(tmp_path / "r2")) < want and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = {p.name: p.stat().st_size for p in pack_paths(tmp_path / "r2")}
    assert len(left) >= want, "the copy finished before it could be killed; slow it down"

    with Catalog.open(home) as cat:
        assert cat.list_points(job="cj") == []                         # no half point
        chk = maintenance.check(cat, "off", read_data=True)
        assert chk.status == SessionStatus.SUCCESS, [x.message for x in cat.get_session(chk.id).log]
        s = jobs.run_job(cat, "cj", home)
        assert s.status == SessionStatus.SUCCESS, s.error
        after = {p.name: p.stat().st_size for p in pack_paths(tmp_path / "r2")}
        assert set(left) <= set(after)                                  # finished packs were kept
        new_bytes = sum(size for name, size in after.items() if name not in left)
        # the re-run sent only the packs it made (plus index and manifest), never the killed run's packs again
        assert s.stats["transferred"] <= new_bytes + 64 * 1024
        assert sum(after.values()) <= 24 * MIB * 1.03 + 64 * 1024      # nothing stored twice
        point = cat.list_points(job="cj")[0]
        session, _ = maintenance.restore(cat, point.id, str(tmp_path / "out"))
        assert session.status == SessionStatus.SUCCESS
        assert snapshot(tmp_path / "out", with_dir_mtimes=False) == snapshot(src, with_dir_mtimes=False)
        assert maintenance.check(cat, "off", read_data=True).status == SessionStatus.SUCCESS
