"""A copy to an SFTP repository whose process is SIGKILLed at a random moment: no half point is visible, the
remote repository checks clean, and the re-run sends only what the killed run had not finished (bytes asserted).
CRASH_TRIALS=N for the full run (50); CI runs 10."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e.test_cli import ROOT, Cli, _tree
from sftp.sftp_helpers import MIB, RemoteFolder, Server, add_sftp_cli, pack_sizes

TRIALS = int(os.environ.get("CRASH_TRIALS", "10"))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_kill_copy_to_sftp_then_resume(tmp_path: Path, sshd: Server, remote: RemoteFolder, trial: int) -> None:
    cli = Cli(tmp_path / "home")
    src = tmp_path / "src"
    src.mkdir()
    rng = random.Random(trial)
    for i in range(4):
        (src / f"f{i}.bin").write_bytes(rng.randbytes(2 * MIB))
    cli("repo", "add-local", "main", str(tmp_path / "r1"), "--compression", "none")
    add_sftp_cli(cli, sshd, remote, "off", "--compression", "none", "--throttle", "8")
    cfg = json.loads((remote.path / "config.json").read_text())
    cfg["pack_size"] = MIB
    (remote.path / "config.json").write_text(json.dumps(cfg))
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(src))
    cli("job", "run", "daily", "--no-copy")
    cli("job", "add-copy", "offsite", "--target", "off", "--from-job", "daily")

    env = {**os.environ, "BACKUP_CONSOLE_HOME": str(cli.home), "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.Popen([sys.executable, "-m", "console", "job", "run", "offsite"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    want = 1 + trial % 6                                       # kill after 1..6 of the 8 packs arrived
    deadline = time.monotonic() + 60
    while len(pack_sizes(remote)) < want and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.1))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = pack_sizes(remote)                              # complete: packs appear only by rename
    assert cli.json("points", "list", "--job", "offsite") == []
    assert cli.json("repo", "check", "off", "--read-data")["status"] == "success"

    done = cli.json("job", "run", "offsite")
    assert done["status"] == "success"
    after = pack_sizes(remote)
    assert set(finished) <= set(after)                        # kept and re-used
    assert done["transferred"] <= sum(after.values()) - sum(finished.values()) + 256 * 1024
    (copy,) = cli.json("points", "list", "--job", "offsite")
    cli("restore", copy["id"], "--to", str(tmp_path / "out"))
    assert _tree(tmp_path / "out") == _tree(src)
