"""A repository on a full disk: the session fails with a clear message, the repository stays consistent,
and the next run (after space is freed) succeeds. Uses a small tmpfs made by the test (needs root, as in CI)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_cli import Cli, _tree


@pytest.fixture
def small_disk(tmp_path: Path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_fails_cleanly_and_the_next_run_works(tmp_path: Path, small_disk: Path) -> None:
    cli = Cli(tmp_path / "home")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):                                  # 40 MiB of incompressible data for a 24 MiB disk
        (src / f"big{i}.bin").write_bytes(os.urandom(10 << 20))
    cli("repo", "add-local", "usb", str(small_disk / "repo"))
    cli("job", "add-backup", "docs", "--repo", "usb", "--source", str(src))
    r = cli("job", "run", "docs", code=1)
    assert "disk is full" in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert cli.json("points", "list") == []             # no half restore point is visible
    assert cli("repo", "check", "usb").returncode == 0

    for i in range(2, 4):                               # the admin frees space at the source side
        (src / f"big{i}.bin").unlink()
    cli("repo", "gc", "usb")                            # reclaims what the failed run left
    cli("job", "run", "docs")
    (p,) = cli.json("points", "list")
    cli("restore", p["id"], "--to", str(tmp_path / "out"))
    assert _tree(tmp_path / "out") == _tree(src)
    assert cli("repo", "check", "usb", "--read-data").returncode == 0


def test_copy_target_full_fails_cleanly_and_resumes(tmp_path: Path, small_disk: Path) -> None:
    cli = Cli(tmp_path / "home")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"big{i}.bin").write_bytes(os.urandom(10 << 20))
    cli("repo", "add-local", "main", str(tmp_path / "main"))
    cli("repo", "add-local", "usb", str(small_disk / "repo"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(src))
    cli("job", "run", "docs")
    cli("job", "add-copy", "tousb", "--target", "usb", "--from-job", "docs")
    r = cli("job", "run", "tousb", code=1)
    assert "disk is full" in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert cli.json("points", "list", "--job", "tousb") == []          # no half copy
    assert cli("repo", "check", "usb", "--read-data").returncode == 0  # the target stays consistent
    assert cli.json("points", "list", "--job", "docs")[0]["state"] == "ok"   # the source is untouched

    for i in range(2, 4):
        (src / f"big{i}.bin").unlink()
    cli("job", "run", "docs", "--no-copy")
    cli("repo", "gc", "usb")
    out = cli.json("job", "run", "tousb")
    assert out["status"] == "success"
    (p,) = cli.json("points", "list", "--job", "tousb")
    cli("restore", p["id"], "--to", str(tmp_path / "out"))
    assert _tree(tmp_path / "out") == _tree(src)


def test_restore_to_a_full_disk_fails_cleanly_then_works(tmp_path: Path, small_disk: Path) -> None:
    cli = Cli(tmp_path / "home")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"big{i}.bin").write_bytes(os.urandom(10 << 20))
    cli("repo", "add-local", "main", str(tmp_path / "main"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(src))
    cli("job", "run", "docs")
    (p,) = cli.json("points", "list")
    r = cli("restore", p["id"], "--to", str(small_disk / "out"), code=1)
    assert "full" in (r.stdout + r.stderr).lower() and "Traceback" not in r.stderr
    # nothing half-written is left under a final name: every file there is complete
    for f in (small_disk / "out").rglob("*.bin"):
        assert f.stat().st_size == 10 << 20
    for f in list((small_disk / "out").rglob("*")):
        if f.is_file():
            f.unlink()
    cli("restore", p["id"], "--to", str(small_disk / "out2"), "--path", "big0.bin", "--path", "big1.bin")
    assert (small_disk / "out2" / "big1.bin").read_bytes() == (src / "big1.bin").read_bytes()


def test_read_only_repository_gets_a_clear_message(tmp_path: Path, small_disk: Path) -> None:
    cli = Cli(tmp_path / "home")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("hello")
    cli("repo", "add-local", "ro", str(small_disk / "repo"))
    cli("job", "add-backup", "docs", "--repo", "ro", "--source", str(src))
    cli("job", "run", "docs")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        (src / "b.txt").write_text("more")
        r = cli("job", "run", "docs", code=1)
        assert "read-only" in (r.stdout + r.stderr).lower() and "Traceback" not in r.stderr
        assert len(cli.json("points", "list")) == 1
        (p,) = cli.json("points", "list")
        cli("restore", p["id"], "--to", str(tmp_path / "out"))          # reading still works
        assert (tmp_path / "out" / "a.txt").read_text() == "hello"
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    cli("job", "run", "docs")
    assert len(cli.json("points", "list")) == 2
