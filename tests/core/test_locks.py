"""Repository locks (repository/locks.py) on a real LocalStorage: writers exclude each other, readers run beside a
writer, the exclusive (GC) lock excludes everyone, and locks of dead processes are stale."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from core.helpers import new_repo, repo_files

from console.core.errors import LockedError
from console.core.repository.locks import EXCLUSIVE, READ, STALE_AFTER, WRITE, RepositoryLock
from console.core.repository.repo import Repository
from console.core.storage.local import LocalStorage

pytestmark = pytest.mark.timeout(30)
MAIN = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return new_repo(tmp_path / "repo")


def lock_files(repo: Repository) -> list[Path]:
    return repo_files(Path(repo.storage.location), "locks")


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def plant_lock(repo: Repository, kind: str, pid: int, host: str | None = None, age: float = 0.0,
               what: str = "planted") -> str:
    name = f"locks/{os.urandom(16).hex()}.json"
    repo.storage.write(name, json.dumps({"kind": kind, "host": host or socket.gethostname(), "pid": pid,
                                         "time": time.time() - age, "what": what}).encode())
    return name


def test_write_lock_excludes_a_second_writer(repo: Repository) -> None:
    with repo.lock(WRITE, "backup job Daily"):
        assert len(lock_files(repo)) == 1
        with pytest.raises(LockedError) as e:
            repo.lock(WRITE, "backup job Weekly")
        msg = str(e.value)
        assert f"pid {os.getpid()}" in msg and socket.gethostname() in msg
        assert "backup job Daily" in msg and "writing" in msg and repo.storage.location in msg
        assert len(lock_files(repo)) == 1                      # the refused attempt left nothing behind
        with pytest.raises(LockedError):
            repo.lock(EXCLUSIVE, "gc")
    assert lock_files(repo) == []
    with repo.lock(WRITE, "next"):                             # released: free again
        pass


def test_second_writer_from_another_process_is_refused(repo: Repository, tmp_path: Path) -> None:
    script = tmp_path / "other.py"
    script.write_text(f"""
import sys
sys.path.insert(0, {str(MAIN)!r})
from console.core.storage.local import LocalStorage
from console.core.repository.repo import Repository
from console.core.errors import LockedError
repo = Repository.open(LocalStorage({str(tmp_path / "repo")!r}))
try:
    repo.lock("write", "other process").release()
    print("acquired")
except LockedError as e:
    print("locked:", e)
""")
    with repo.lock(WRITE, "this process"):
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=20)
        assert out.stdout.startswith("locked:") and f"pid {os.getpid()}" in out.stdout, out.stderr
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "acquired", out.stderr


def test_readers_coexist_with_a_writer(repo: Repository) -> None:
    with repo.lock(WRITE, "backup"):
        r1 = repo.lock(READ, "restore 1")
        r2 = repo.lock(READ, "restore 2")
        assert len(lock_files(repo)) == 3
        r1.release()
        r2.release()
    with repo.lock(READ, "browse"), repo.lock(WRITE, "backup while browsing"), repo.lock(READ, "another"):
        assert len(lock_files(repo)) == 3


def test_exclusive_excludes_readers_and_writers(repo: Repository) -> None:
    with repo.lock(EXCLUSIVE, "garbage collection"):
        for kind in (READ, WRITE, EXCLUSIVE):
            with pytest.raises(LockedError, match="maintenance"):
                repo.lock(kind, f"wants {kind}")
    with repo.lock(READ, "restore"), pytest.raises(LockedError, match="reading"):
        repo.lock(EXCLUSIVE, "gc")
    assert lock_files(repo) == []


def test_waiting_for_a_lock(repo: Repository) -> None:
    held = repo.lock(WRITE, "short backup")
    threading.Timer(0.3, held.release).start()
    t0 = time.monotonic()
    with repo.lock(WRITE, "patient", timeout=10):
        assert 0.2 < time.monotonic() - t0 < 5
    held2 = repo.lock(WRITE, "long backup")
    t0 = time.monotonic()
    with pytest.raises(LockedError):
        repo.lock(WRITE, "impatient", timeout=0.5)
    assert 0.4 < time.monotonic() - t0 < 3
    held2.release()


def test_lock_of_a_dead_process_on_this_host_is_stale(repo: Repository) -> None:
    stale = plant_lock(repo, EXCLUSIVE, dead_pid(), what="crashed gc")
    with repo.lock(WRITE, "backup"):
        assert not repo.storage.exists(stale)                 # removed, not just ignored
        assert len(lock_files(repo)) == 1


def test_lock_of_a_live_process_is_respected(repo: Repository) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        plant_lock(repo, WRITE, sleeper.pid, what="other console")
        with pytest.raises(LockedError, match=f"pid {sleeper.pid}"):
            repo.lock(WRITE, "backup")
    finally:
        sleeper.kill()
        sleeper.wait()
    with repo.lock(WRITE, "backup after the other one died"):
        pass


def test_locks_of_other_hosts(repo: Repository) -> None:
    fresh = plant_lock(repo, WRITE, 1, host="nas-backup-01", age=60)
    with pytest.raises(LockedError, match="nas-backup-01"):   # cannot check the pid: trust the lock
        repo.lock(WRITE, "backup")
    repo.storage.delete(fresh)
    old = plant_lock(repo, WRITE, 1, host="nas-backup-01", age=STALE_AFTER + 60)
    with repo.lock(WRITE, "backup"):                          # not refreshed for over an hour: stale
        assert not repo.storage.exists(old)


def test_refreshed_lock_is_not_stale(repo: Repository) -> None:
    lock = repo.lock(WRITE, "long backup")
    doc = json.loads(repo.storage.read(lock.name))
    assert doc["pid"] == os.getpid() and doc["kind"] == WRITE and abs(doc["time"] - time.time()) < 60
    assert not RepositoryLock._stale(doc)
    lock.release()


def test_locks_work_across_storage_instances(tmp_path: Path, repo: Repository) -> None:
    other = Repository.open(LocalStorage(tmp_path / "repo"))
    with repo.lock(WRITE, "first"), pytest.raises(LockedError):
        other.lock(WRITE, "second")


def test_damaged_lock_file_blocks(repo: Repository) -> None:
    repo.storage.write("locks/" + "ab" * 16 + ".json", b'{"kind": "write", "host"')
    with pytest.raises(LockedError, match="damaged lock file"):
        repo.lock(WRITE, "backup")
