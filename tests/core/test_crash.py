"""A backup killed with SIGKILL at any moment leaves a consistent repository (DESIGN §4, "write order is the
commit protocol"): check finds no error, no half-written point appears, the next run resumes from the packs the
killed run left (re-indexed, not sent again) and its point restores byte-identically."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from core.helpers import MIB, all_files, new_repo, open_repo, pack_paths, random_bytes, repo_files, snapshot

from console.core.engine.backup import backup_object
from console.core.engine.check import check_repository
from console.core.engine.events import CancelToken, Events
from console.core.engine.gc import collect_garbage
from console.core.engine.pipeline import BoundedPool
from console.core.engine.restore import restore_point
from console.core.repository.locks import WRITE
from console.core.repository.repo import PackWriter

MAIN = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("CRASH_TRIALS", "10"))     # kills of the backup; the full run: CRASH_TRIALS=50
PACK_TARGET = 4 * MIB
FILES, FILE_SIZE = 30, 2 * MIB                       # 60 MiB of incompressible data
DATASET = FILES * FILE_SIZE
# zstd level 13 tries hard (and fails) to compress random blocks: a few MB/s per worker, so a full run lasts
# seconds instead of 0.3 s and the kills below land in the middle of it; the blocks are then stored raw.
SLOW_COMPRESSION = 13

DRIVER = r'''
import json, sys
sys.path.insert(0, {main!r})
from console.core.storage.local import LocalStorage
from console.core.repository.repo import Repository, PackWriter
from console.core.repository.locks import WRITE
from console.core.engine.backup import backup_object
from console.core.engine.pipeline import BoundedPool
from console.core.engine.events import Events, CancelToken

repo_dir, src = sys.argv[1], sys.argv[2]
repo = Repository.open(LocalStorage(repo_dir))
with repo.lock(WRITE, "crash test backup"):        # what operations/backup_job.py does around a backup
    recovered = repo.recover_unindexed_packs()
    print("ready", recovered, flush=True)
    with BoundedPool() as pool:
        writer = PackWriter(repo, target_size={target})
        doc, stats = backup_object(repo, writer, pool, src, "0123456789abcdef", "job", None, Events(),
                                   CancelToken())
print(json.dumps({{"point": doc.id, "stats": stats.as_dict()}}), flush=True)
'''


def make_dataset(src: Path) -> None:
    for i in range(FILES):
        d = src / f"dir{i % 4}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:02d}.bin").write_bytes(random_bytes(FILE_SIZE, 1000 + i))
    (src / "small.txt").write_bytes(b"small file\n")


def start_driver(driver: Path, repo_dir: Path, src: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(driver), str(repo_dir), str(src)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        proc.kill()
        raise AssertionError(f"driver did not start: {line!r} {proc.stderr.read()}")
    return proc, int(line.split()[1])


def assert_consistent(repo_dir: Path, src: Path, tmp: Path, expect_points: int) -> None:
    repo = open_repo(repo_dir)
    res = check_repository(repo, read_data=True)
    assert res.ok, res.errors
    assert not res.damaged_manifests and not res.corrupted
    assert len(res.points) == expect_points, "a point appeared although its run never completed"
    assert not [p for p in repo_files(repo_dir, "backups") if not p.name.endswith((".point", ".json"))]


@pytest.mark.timeout(60 + 12 * TRIALS)
def test_sigkill_during_backup_leaves_a_consistent_resumable_repository(tmp_path: Path) -> None:
    src, repo_dir = tmp_path / "src", tmp_path / "repo"
    make_dataset(src)
    new_repo(repo_dir, compression=SLOW_COMPRESSION)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(main=str(MAIN), target=PACK_TARGET))

    # kill moments: right after start, some ms in, and after the 1st, 2nd or 3rd pack of that run reached data/
    # (pack-based triggers keep the schedule meaningful whatever the machine's speed); CRASH_TRIALS kills in all
    rng = random.Random(2026)
    moments = [(0.0, 0), (0.05, 0), (0.0, 1), (0.0, 2), (0.0, 3)]
    moments += [(rng.uniform(0, 0.08), rng.randint(0, 3)) for _ in range(max(0, TRIALS - len(moments)))]
    recovered_total = 0
    for delay, new_packs in moments:
        before = len(pack_paths(repo_dir))
        # runs after a kill skip what earlier runs stored: wait for fewer packs than this run still has to write,
        # or the kill could land after its last pack, when the point is complete (a faster machine or engine)
        left = max(0, DATASET - sum(p.stat().st_size for p in pack_paths(repo_dir))) // PACK_TARGET
        new_packs = min(new_packs, max(0, left - 2))
        proc, recovered = start_driver(driver, repo_dir, src)
        recovered_total += recovered
        time.sleep(delay)
        deadline = time.monotonic() + 30
        while len(pack_paths(repo_dir)) < before + new_packs and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, f"the run was not killed mid-way: {out} {err}"
        # the killed session's lock file is still there; the next writer on this host treats it as stale
        assert repo_files(repo_dir, "locks")
        assert_consistent(repo_dir, src, tmp_path, expect_points=0)
    assert len(pack_paths(repo_dir)) >= 6

    # the re-run (in this process): stale lock taken over, left-over packs re-indexed, not sent again
    repo = open_repo(repo_dir)
    with repo.lock(WRITE, "re-run after crash"):
        recovered = repo.recover_unindexed_packs()
        recovered_total += recovered
        reused = sum(loc.raw_length for loc in repo.index.values())
        with BoundedPool() as pool:
            doc, stats = backup_object(repo, PackWriter(repo, target_size=PACK_TARGET), pool, str(src),
                                       "0123456789abcdef", "job", None, Events(), CancelToken())
    assert recovered_total > 0
    assert reused >= PACK_TARGET // 2
    assert stats.read == stats.processed == DATASET + len(b"small file\n")
    assert stats.new_raw <= DATASET - reused + 64 * 1024, "blocks of the killed runs were stored again"
    assert stats.stored < DATASET
    assert not repo_files(repo_dir, "locks")

    assert_consistent(repo_dir, src, tmp_path, expect_points=1)
    repo = open_repo(repo_dir)
    [(_, listed)] = list(repo.iter_points())
    assert listed == doc
    restore_point(repo, doc, str(tmp_path / "dest"))
    assert snapshot(tmp_path / "dest") == snapshot(src)

    # GC drops what the killed runs left unreferenced (spool files, duplicate blocks); the point stays intact
    gc = collect_garbage(repo)
    assert not repo_files(repo_dir, "tmp")
    assert_consistent(repo_dir, src, tmp_path, expect_points=1)
    stored_total = sum(p.stat().st_size for p in pack_paths(repo_dir))
    assert DATASET <= stored_total < DATASET * 1.02, (stored_total, gc)


@pytest.mark.timeout(60)
def test_kill_after_manifest_keeps_the_point(tmp_path: Path) -> None:
    """A run that reached its manifest is a valid point even if the process dies right after."""
    src, repo_dir = tmp_path / "src", tmp_path / "repo"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f.bin").write_bytes(random_bytes(3 * MIB, 5))
    new_repo(repo_dir)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(main=str(MAIN), target=PACK_TARGET))
    proc, _ = start_driver(driver, repo_dir, src)
    deadline = time.monotonic() + 20
    while not [p for p in repo_files(repo_dir, "backups") if p.suffix == ".point"]:
        assert time.monotonic() < deadline and proc.poll() in (None, 0)
        time.sleep(0.001)
    proc.kill()
    proc.communicate(timeout=30)
    assert_consistent(repo_dir, src, tmp_path, expect_points=1)
    repo = open_repo(repo_dir)
    [(_, doc)] = list(repo.iter_points())
    restore_point(repo, doc, str(tmp_path / "dest"))
    assert snapshot(tmp_path / "dest") == snapshot(src)
    assert all_files(tmp_path / "dest") == {"d", "d/f.bin"}
    assert os.path.getsize(tmp_path / "dest" / "d" / "f.bin") == 3 * MIB
