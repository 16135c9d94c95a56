"""Secrets never leak: the whole flow with encryption passwords (backup, copy to a differently keyed repository,
check, restore, a wrong password), then no password appears in the catalog, the log files, the session logs or
any process's arguments while the jobs ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from core.helpers import random_bytes

ROOT = Path(__file__).resolve().parents[2]
PRIMARY_PW = "Primary-Secret-7f3a"
OFFSITE_PW = "Offsite-Secret-91bc"
WRONG_PW = "Wrong-Secret-0d0d"


def _watch_argv(stop: threading.Event, seen: list[str]) -> None:
    """Collect every process command line on the machine while the flow runs (what `ps` would show)."""
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    seen.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:
                    pass
        stop.wait(0.02)


def test_passwords_never_reach_catalog_logs_sessions_or_argv(tmp_path: Path) -> None:
    home, src = tmp_path / "home", tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(random_bytes(3_000_000, 1))
    base_env = {**os.environ, "BACKUP_CONSOLE_HOME": str(home), "PYTHONPATH": str(ROOT),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    base_env.pop("BACKUP_CONSOLE_PASSWORD", None)

    def cli(*args: str, stdin: str | None = None, password: str | None = None, code: int = 0) -> str:
        env = dict(base_env)
        if password:
            env["BACKUP_CONSOLE_PASSWORD"] = password
        r = subprocess.run([sys.executable, "-m", "console", *args], env=env, cwd=ROOT, input=stdin,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == code, (args, r.stdout, r.stderr)
        return r.stdout + r.stderr

    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=_watch_argv, args=(stop, seen), daemon=True)
    watcher.start()
    outputs = []
    try:
        outputs.append(cli("repo", "add-local", "main", str(tmp_path / "r1"), "--encrypt", "--password-stdin",
                           stdin=PRIMARY_PW + "\n"))
        outputs.append(cli("repo", "add-local", "off", str(tmp_path / "r2"), "--encrypt", password=OFFSITE_PW))
        outputs.append(cli("job", "add-backup", "bj", "--repo", "main", "--source", str(src)))
        outputs.append(cli("job", "add-copy", "cj", "--target", "off", "--from-job", "bj", "--encrypt"))
        # no keyring here: each run gets its password from the environment; one variable serves one repository,
        # so the copy (two repositories) is run with the target's password after the source's was remembered
        outputs.append(cli("job", "run", "bj", "--no-copy", password=PRIMARY_PW))
        outputs.append(cli("job", "run", "cj", password=WRONG_PW, code=1))
        outputs.append(cli("repo", "check", "main", "--read-data", password=PRIMARY_PW))
        listed = cli("sessions", "list", "--json")
        outputs.append(listed)
        for session in json.loads(listed):
            outputs.append(cli("sessions", "show", str(session["id"]), "--json"))
    finally:
        stop.set()
        watcher.join()

    secrets = (PRIMARY_PW, OFFSITE_PW, WRONG_PW)
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("catalog") for p in files) and any(p.suffix == ".log" for p in files)
    for p in files:
        data = p.read_bytes()
        for s in secrets:
            assert s.encode() not in data, f"{s} found in {p}"
    for repo in (tmp_path / "r1", tmp_path / "r2"):
        for p in repo.rglob("*"):
            if p.is_file():
                assert not any(s.encode() in p.read_bytes() for s in secrets), p
    for text in outputs:
        assert not any(s in text for s in secrets)
    assert seen, "the process watcher saw nothing"
    assert not [c for c in seen if any(s in c for s in secrets)]
