"""Backup copy jobs with an SFTP repository on either side, through the CLI, against a real OpenSSH server: copies
both ways restore byte-identical, a server killed mid-copy is resumed without re-sending finished packs, and a full
remote disk fails the session cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e.test_cli import ROOT, Cli, _tree
from sftp.sftp_helpers import MIB, RemoteFolder, Server, add_sftp_cli, pack_sizes, source_tree


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


def test_copy_local_to_sftp_and_sftp_to_local(cli: Cli, sshd: Server, remote: RemoteFolder, tmp_path: Path) -> None:
    src = source_tree(tmp_path, random_mib=2)
    cli("repo", "add-local", "main", str(tmp_path / "r1"))
    add_sftp_cli(cli, sshd, remote)
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(src))
    cli("job", "add-copy", "offsite", "--target", "off", "--from-job", "daily")
    assert cli.json("job", "run", "daily", "--no-copy")["status"] == "success"
    s = cli.json("job", "run", "offsite")
    assert s["status"] == "success" and s["transferred"] > 2 * MIB
    (copy,) = cli.json("points", "list", "--job", "offsite")
    cli("restore", copy["id"], "--to", str(tmp_path / "from-sftp"))
    assert _tree(tmp_path / "from-sftp") == _tree(src)

    # the other way: a backup job writing to the SFTP repository, copied to a local one
    cli("repo", "add-local", "usb", str(tmp_path / "r3"))
    cli("job", "add-backup", "remote", "--repo", "off", "--source", str(src))
    cli("job", "add-copy", "tousb", "--target", "usb", "--from-job", "remote")
    cli("job", "run", "remote", "--no-copy")
    s = cli.json("job", "run", "tousb")
    assert s["status"] == "success" and s["transferred"] > 2 * MIB   # read from SFTP, all new to the usb repository
    (back,) = cli.json("points", "list", "--job", "tousb")
    cli("restore", back["id"], "--to", str(tmp_path / "from-usb"))
    assert _tree(tmp_path / "from-usb") == _tree(src)


def test_server_killed_mid_copy_then_resume_sends_only_the_rest(cli: Cli, private_sshd: Server,
                                                                private_remote: RemoteFolder,
                                                                tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        (src / f"f{i}.bin").write_bytes(os.urandom(2 * MIB))
    cli("repo", "add-local", "main", str(tmp_path / "r1"), "--compression", "none")
    add_sftp_cli(cli, private_sshd, private_remote, "off", "--compression", "none", "--throttle", "6")
    cfg = json.loads((private_remote.path / "config.json").read_text())
    cfg["pack_size"] = MIB                                      # many small packs: some finish before the kill
    (private_remote.path / "config.json").write_text(json.dumps(cfg))
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(src))
    cli("job", "run", "daily", "--no-copy")
    cli("job", "add-copy", "offsite", "--target", "off", "--from-job", "daily")

    env = {**os.environ, "BACKUP_CONSOLE_HOME": str(cli.home), "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.Popen([sys.executable, "-m", "console", "job", "run", "offsite", "--json"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(pack_sizes(private_remote)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    private_sshd.kill()
    finished = pack_sizes(private_remote)                      # complete: packs appear only by rename
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err
    failed = json.loads(out)
    assert failed["status"] == "failed" and "127.0.0.1" in (failed.get("error") or err)
    assert len(finished) >= 3 and sum(finished.values()) < 12 * MIB
    assert cli.json("points", "list", "--job", "offsite") == []   # no half copy is visible

    private_sshd.restart()
    done = cli.json("job", "run", "offsite")
    assert done["status"] == "success"
    shown = cli.json("sessions", "show", str(done["id"]))
    total = sum(pack_sizes(private_remote).values())
    assert set(finished) <= set(pack_sizes(private_remote))   # kept and re-used
    # only what the first run had not finished was sent (plus index and manifest)
    assert shown["transferred"] <= total - sum(finished.values()) + 256 * 1024
    (copy,) = cli.json("points", "list", "--job", "offsite")
    cli("restore", copy["id"], "--to", str(tmp_path / "out"))
    assert _tree(tmp_path / "out") == _tree(src)
    assert cli.json("repo", "check", "off", "--read-data")["status"] == "success"


@pytest.fixture
def small_remote_disk(sshd: Server, remote: RemoteFolder):
    remote.path.mkdir(parents=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(remote.path)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    sshd.chown(remote.path)
    yield remote
    subprocess.run(["umount", "-l", str(remote.path)], check=False)


def test_full_remote_disk_fails_cleanly_and_the_next_run_works(cli: Cli, sshd: Server,
                                                               small_remote_disk: RemoteFolder,
                                                               tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):                                          # 20 MiB of incompressible data for a 12 MiB disk
        (src / f"big{i}.bin").write_bytes(os.urandom(5 * MIB))
    add_sftp_cli(cli, sshd, small_remote_disk)
    cli("job", "add-backup", "docs", "--repo", "off", "--source", str(src))
    r = cli("job", "run", "docs", code=1)
    assert "disk is full" in r.stdout + r.stderr and "Traceback" not in r.stderr
    assert cli.json("points", "list") == []
    assert cli("repo", "check", "off").returncode == 0
    for i in range(2, 4):
        (src / f"big{i}.bin").unlink()
    cli("repo", "gc", "off")
    cli("job", "run", "docs")
    (p,) = cli.json("points", "list")
    cli("restore", p["id"], "--to", str(tmp_path / "out"))
    assert _tree(tmp_path / "out") == _tree(src)


