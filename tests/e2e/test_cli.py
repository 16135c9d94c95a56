"""The CLI end to end, in subprocesses, as an admin scripts it: real catalog, real repositories on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = home

    def __call__(self, *args: str, code: int | None = 0, stdin: str | None = None,
                 env: dict | None = None) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "BACKUP_CONSOLE_HOME": str(self.home), "PYTHONPATH": str(ROOT),
                    "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        full_env.pop("BACKUP_CONSOLE_PASSWORD", None)
        full_env.update(env or {})
        r = subprocess.run([sys.executable, "-m", "console", *args], capture_output=True, text=True,
                           input=stdin, env=full_env, cwd=ROOT, timeout=120)
        if code is not None:
            assert r.returncode == code, f"{args}: exit {r.returncode}\nstdout:{r.stdout}\nstderr:{r.stderr}"
        return r

    def json(self, *args: str, **kw) -> object:
        return json.loads(self(*args, "--json", **kw).stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "report.txt").write_text("quarterly numbers\n" * 1000)
    (src / "data.bin").write_bytes(os.urandom(300_000))
    (src / "empty").write_bytes(b"")
    os.symlink("docs/report.txt", src / "link")
    return src


def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_dir():
            out[rel] = ("dir", st.st_mode & 0o7777)
        else:
            out[rel] = ("file", st.st_mode & 0o7777, st.st_mtime_ns, p.read_bytes())
    return out


def test_backup_restore_round_trip_through_the_cli(cli: Cli, source: Path, tmp_path: Path) -> None:
    cli("repo", "add-local", "main", str(tmp_path / "repo"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(source), "--retention-points", "3")
    s = cli.json("job", "run", "docs")
    assert s["status"] == "success" and s["processed"] > 300_000
    points = cli.json("points", "list")
    assert len(points) == 1
    p = points[0]
    assert {"id", "backup", "job", "object", "repository", "created", "type", "state", "gfs", "data_size",
            "stored_size"} <= set(p)
    assert (p["job"], p["repository"], p["type"], p["state"]) == ("docs", "main", "full", "ok")
    out = tmp_path / "out"
    cli("restore", p["id"], "--to", str(out))
    assert _tree(out) == _tree(source)

    # browse lists one folder without restoring
    listing = cli.json("browse", p["id"], "docs")
    assert [e["name"] for e in listing] == ["report.txt"]

    # second run: an increment that reads only what changed
    (source / "docs" / "new.txt").write_text("new file")
    s2 = cli.json("job", "run", "docs")
    assert s2["status"] == "success"
    assert s2["read"] == len("new file")
    assert [q["type"] for q in cli.json("points", "list", "--job", "docs")] == ["full", "increment"]

    # JSON shapes of the lists
    (b,) = cli.json("backups", "list")
    assert (b["job"], b["kind"], b["repository"], b["objects"], b["points"], b["source_backup"]) == \
        ("docs", "backup", "main", 1, 2, None)
    (j,) = cli.json("job", "list")
    assert (j["name"], j["kind"], j["enabled"], j["repository"], j["sources"], j["linked"], j["last_result"]) == \
        ("docs", "backup", True, "main", [str(source)], [], "success")
    sessions = cli.json("sessions", "list")
    assert [x["kind"] for x in sessions] == ["backup", "restore", "backup"]
    detail = cli.json("sessions", "show", str(sessions[0]["id"]))
    assert detail["status"] == "success" and detail["objects"][0]["name"] == str(source)
    assert any("restore point" in ln["message"] for ln in detail["log"])


def test_retention_keeps_the_newest_points(cli: Cli, source: Path, tmp_path: Path) -> None:
    cli("repo", "add-local", "main", str(tmp_path / "repo"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(source), "--retention-points", "3")
    for i in range(5):
        (source / f"f{i}").write_text(str(i))
        cli("job", "run", "docs")
    pts = cli.json("points", "list")
    assert len(pts) == 3
    out = tmp_path / "out"
    cli("restore", pts[-1]["id"], "--to", str(out))
    assert (out / "f4").read_text() == "4"
    assert cli("repo", "check", "main", "--read-data").returncode == 0


def test_encrypted_repository_needs_the_right_password(cli: Cli, source: Path, tmp_path: Path) -> None:
    pw = {"BACKUP_CONSOLE_PASSWORD": "correct horse"}
    r = cli("repo", "add-local", "vault", str(tmp_path / "vault"), "--encrypt", code=2)
    assert "password" in r.stderr
    cli("repo", "add-local", "vault", str(tmp_path / "vault"), "--encrypt", env=pw)
    cli("job", "add-backup", "enc", "--repo", "vault", "--source", str(source))
    r = cli("job", "run", "enc", code=1)
    assert "encrypted" in r.stderr or "password" in r.stderr
    r = cli("job", "run", "enc", code=1, env={"BACKUP_CONSOLE_PASSWORD": "wrong"})
    assert "wrong password" in r.stderr
    cli("job", "run", "enc", "--password-stdin", stdin="correct horse\n")
    (p,) = cli.json("points", "list", env=pw)
    cli("restore", p["id"], "--to", str(tmp_path / "out"), env=pw)
    assert _tree(tmp_path / "out") == _tree(source)
    assert b"correct horse" not in (tmp_path / "home" / "catalog.db").read_bytes()


def test_bad_input_gets_clear_errors(cli: Cli, source: Path, tmp_path: Path) -> None:
    not_repo = tmp_path / "stuff"
    not_repo.mkdir()
    (not_repo / "file.txt").write_text("x")
    r = cli("repo", "add-local", "x", str(not_repo), code=1)
    assert "not empty and not a repository" in r.stderr
    assert "Traceback" not in r.stderr
    cli("repo", "add-local", "main", str(tmp_path / "repo"))
    r = cli("repo", "add-local", "main", str(tmp_path / "repo2"), code=2)
    assert "exists already" in r.stderr
    r = cli("job", "add-backup", "j", "--repo", "main", "--source", str(tmp_path / "nope"), code=2)
    assert "does not exist" in r.stderr
    r = cli("job", "add-backup", "j", "--repo", "main", "--source", str(source), "--retention-points", "1", code=2)
    assert "at least 2" in r.stderr
    r = cli("job", "add-backup", "j", "--repo", "nosuch", "--source", str(source), code=2)
    assert "nosuch" in r.stderr
    cli("job", "add-backup", "j", "--repo", "main", "--source", str(source))
    r = cli("job", "add-backup", "j", "--repo", "main", "--source", str(source), code=2)
    assert "exists" in r.stderr
    r = cli("browse", "ffff", code=2)
    assert "ffff" in r.stderr
    r = cli("sessions", "show", "abc", code=2)

    # the repository folder deleted: the run fails with a message that says what to do
    import shutil
    shutil.rmtree(tmp_path / "repo")
    r = cli("job", "run", "j", code=1)
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_newer_repository_format_is_refused(cli: Cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    cli("repo", "add-local", "main", str(repo))
    cfg = json.loads((repo / "config.json").read_text())
    cfg["version"] = 99
    (repo / "config.json").write_text(json.dumps(cfg))
    cli("repo", "remove", "main", code=None)
    r = cli("repo", "add-local", "again", str(repo), code=1)
    assert "newer" in r.stderr and "upgrade" in r.stderr


def test_rescan_rebuilds_a_fresh_catalog(cli: Cli, source: Path, tmp_path: Path) -> None:
    cli("repo", "add-local", "main", str(tmp_path / "repo"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(source))
    cli("job", "run", "docs")
    cli("job", "run", "docs")
    before = {p["id"] for p in cli.json("points", "list")}
    fresh = Cli(tmp_path / "other-home")
    fresh("repo", "add-local", "main", str(tmp_path / "repo"))
    fresh("repo", "rescan", "main")
    assert {p["id"] for p in fresh.json("points", "list")} == before
    # a point whose manifest disappears is marked missing, not forgotten
    manifest = next((tmp_path / "repo" / "backups").rglob("*.point"))
    manifest.unlink()
    fresh("repo", "rescan", "main", code=3)
    states = [p["state"] for p in fresh.json("points", "list")]
    assert sorted(states) == ["missing", "ok"]
    assert len(fresh.json("points", "list", "--state", "missing")) == 1


def test_job_enable_disable_delete_keeps_backups(cli: Cli, source: Path, tmp_path: Path) -> None:
    cli("repo", "add-local", "main", str(tmp_path / "repo"))
    cli("job", "add-backup", "docs", "--repo", "main", "--source", str(source))
    cli("job", "disable", "docs")
    assert cli.json("job", "list")[0]["enabled"] is False
    cli("job", "enable", "docs")
    cli("job", "run", "docs")
    cli("job", "delete", "docs")
    assert cli.json("job", "list") == []
    (b,) = cli.json("backups", "list")
    assert b["orphaned"] is True and b["points"] == 1


def test_retention_preview_from_files(cli: Cli, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"points": 2, "gfs": {"weekly": {"keep": 2, "day": "sunday"}}}))
    pts = tmp_path / "points.json"
    pts.write_text(json.dumps([{"id": f"p{d}", "created": f"2026-11-{d:02d}T12:00:00+00:00"} for d in range(1, 15)]))
    out = cli.json("retention", "preview", "--policy", str(policy), "--points", str(pts),
                   "--now", "2026-11-14T18:00:00+00:00")
    assert len(out) == 14 and set(out[0]) >= {"id", "created", "keep", "reasons", "gfs_expires"}
    kept = {d["id"]: d["reasons"] for d in out if d["keep"]}
    assert kept["p14"] == ["short-term"]
    assert kept["p12"] == ["minimum"]
    assert "W" in kept["p8"] and "W" in kept["p1"]      # Sundays Nov 1 and Nov 8
    assert not any(d["keep"] for d in out if d["id"] in ("p2", "p3", "p9"))


def test_no_command_help_and_version(cli: Cli) -> None:
    assert "backup-console" in cli("--version").stdout
    r = cli("job", "frobnicate", code=2)
    assert "invalid choice" in r.stderr


def test_global_options_work_before_and_after_the_command(cli: Cli, tmp_path: Path) -> None:
    for where in ("before", "after"):
        d = tmp_path / f"data-{where}"
        args = ["--data-dir", str(d), "--json"]
        r = cli(*(args + ["repo", "list"] if where == "before" else ["repo", "list"] + args))
        assert json.loads(r.stdout) == []
        assert (d / "catalog.db").exists()
    assert not (tmp_path / "home" / "catalog.db").exists()
