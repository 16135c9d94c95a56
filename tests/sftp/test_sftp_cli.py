"""SFTP repositories through the CLI, as an admin scripts them, against a real OpenSSH server: adding (host key
prompt), backup, restore, check, GC, a changed host key, and a password that never shows up where it must not.
Copies, a server killed mid-copy and a full remote disk: test_sftp_cli_copy.py. Helpers shared by both live here."""

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


def test_unknown_host_then_backup_restore_check_gc(cli: Cli, sshd: Server, remote: RemoteFolder,
                                                    tmp_path: Path) -> None:
    src = source_tree(tmp_path)
    r = cli("repo", "add-sftp", "off", remote.location, "--key", str(sshd.key), code=1)
    first = r.stderr.splitlines()[0]
    assert "ssh-ed25519" in first and sshd.fingerprint in first and f"--accept-host-key {sshd.fingerprint}" in first
    assert "Traceback" not in r.stderr and not remote.path.exists()
    added = add_sftp_cli(cli, sshd, remote)
    assert added["created"] and added["kind"] == "sftp" and (remote.path / "config.json").exists()
    assert added["location"] == remote.location
    cli("job", "add-backup", "docs", "--repo", "off", "--source", str(src))
    s = cli.json("job", "run", "docs")
    assert s["status"] == "success" and s["transferred"] > MIB
    (point,) = cli.json("points", "list")
    cli("restore", point["id"], "--to", str(tmp_path / "out"))
    assert _tree(tmp_path / "out") == _tree(src)
    assert cli.json("repo", "check", "off", "--read-data")["status"] == "success"
    (src / "data.bin").write_bytes(os.urandom(MIB))
    cli("job", "run", "docs")
    cli("points", "remove-missing", point["backup"], "--forget", "--yes")
    before = sum(pack_sizes(remote).values())
    assert cli.json("repo", "gc", "off")["status"] == "success"
    assert sum(pack_sizes(remote).values()) <= before
    assert remote.files(under="tmp") == {} and remote.files(under="locks") == {}
    assert "holds a repository" in cli("repo", "test", "off").stdout


def _command_lines() -> str:
    """Every process's command line, as `ps -eo args` shows it (read from /proc: bare Debian has no procps)."""
    out = []
    for f in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            out.append(f.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return "\n".join(out)


def test_password_login_never_shows_the_password(cli: Cli, sshd: Server, remote: RemoteFolder,
                                                 tmp_path: Path) -> None:
    src = source_tree(tmp_path, random_mib=6)
    pw = sshd.password
    r = cli("repo", "add-sftp", "off", remote.location, "--password-stdin", "--accept-host-key", sshd.fingerprint,
            "--throttle", "4", stdin=pw + "\n")
    assert "no usable keyring (found keyring.backends.fail.Keyring)" in r.stdout and "each run" in r.stdout
    cli("job", "add-backup", "docs", "--repo", "off", "--source", str(src))
    r = cli("job", "run", "docs", code=1)                        # no keyring, no secret given: a clear refusal
    assert "SFTP password" in r.stdout + r.stderr and "not available" in r.stdout + r.stderr

    env = {**os.environ, "BACKUP_CONSOLE_HOME": str(cli.home), "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("BACKUP_CONSOLE_PASSWORD", None)
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen([sys.executable, "-m", "console", "job", "run", "docs", "--password-stdin", "--json"],
                                stdin=subprocess.PIPE, stdout=fo, stderr=fe, env=env, cwd=ROOT, text=True)
        assert proc.stdin is not None
        proc.stdin.write(pw + "\n")
        proc.stdin.close()
        seen = []
        while proc.poll() is None:                              # the throttle keeps the run going for ~1.5 s
            seen.append(_command_lines())
            time.sleep(0.1)
    assert proc.returncode == 0, err.read_text()
    assert json.loads(out.read_text())["status"] == "success"
    assert len(seen) >= 3 and all(pw not in s for s in seen)
    assert any("-m console job run docs" in s for s in seen)   # the run was really watched
    for f in cli.home.rglob("*"):
        if f.is_file():
            assert pw.encode() not in f.read_bytes(), f"password found in {f}"
    assert (cli.home / "logs" / "console.log").stat().st_size > 0


def test_changed_host_key_stops_jobs(cli: Cli, private_sshd: Server, private_remote: RemoteFolder,
                                     tmp_path: Path) -> None:
    src = source_tree(tmp_path)
    add_sftp_cli(cli, private_sshd, private_remote)
    cli("job", "add-backup", "docs", "--repo", "off", "--source", str(src))
    old = private_sshd.fingerprint
    private_sshd.new_host_key()
    r = cli("job", "run", "docs", code=1)
    text = r.stdout + r.stderr
    assert "CHANGED" in text and old in text and private_sshd.fingerprint in text
    r = cli("repo", "test", "off", "--accept-host-key", private_sshd.fingerprint, code=1)
    assert "CHANGED" in r.stderr.splitlines()[0]
    assert cli.json("points", "list") == []
