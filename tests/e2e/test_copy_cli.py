"""Backup copy jobs through the CLI, as an admin scripts them (subprocesses, real catalog and repositories)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from e2e.test_cli import Cli, _tree


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "home")


@pytest.fixture
def setup(cli: Cli, tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "a.txt").write_text("hello\n" * 2000)
    (src / "b.bin").write_bytes(os.urandom(200_000))
    cli("repo", "add-local", "main", str(tmp_path / "r1"))
    cli("repo", "add-local", "off", str(tmp_path / "r2"))
    return src


def test_copy_job_lifecycle(cli: Cli, setup: Path, tmp_path: Path) -> None:
    cli("job", "add-copy", "offsite", "--target", "off", "--from-repo", "main", "--retention-points", "5",
        "--gfs-weekly", "4:sunday", "--window", "mon-sun 0-24")
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(setup), "--copy-job", "offsite")
    listed = {j["name"]: j for j in cli.json("job", "list")}
    assert listed["daily"]["linked"] == ["offsite"] and listed["offsite"]["linked"] == ["daily"]
    assert listed["offsite"]["target"] == "off" and listed["offsite"]["mode"] == "immediate"
    assert "repo:main" in listed["offsite"]["sources"]
    # the backup run triggers the immediate copy
    out = cli.json("job", "run", "daily")
    assert out["status"] == "success" and out["copies"][0]["job"] == "offsite"
    assert out["copies"][0]["transferred"] > 200_000
    points = cli.json("points", "list", "--job", "offsite")
    assert len(points) == 1 and points[0]["state"] == "ok"
    assert points[0]["source_point"] == cli.json("points", "list", "--job", "daily")[0]["id"]
    cli("restore", points[0]["id"], "--to", str(tmp_path / "out"))
    assert _tree(tmp_path / "out") == _tree(setup)
    # sync now with nothing new: success, nothing sent
    again = cli.json("job", "run", "offsite")
    assert again["status"] == "success" and again["transferred"] == 0
    shown = cli.json("sessions", "show", str(again["id"]))
    assert shown["bottleneck"] is not None or shown["transferred"] == 0
    cli("job", "unlink", "daily", "offsite")
    assert cli.json("job", "show", "daily")["linked"] == []
    cli("job", "link", "daily", "offsite")
    assert cli.json("job", "show", "daily")["linked"] == ["offsite"]
    hc = cli.json("job", "health-check", "offsite")
    assert hc["status"] == "success"


def test_copy_job_bad_input(cli: Cli, setup: Path) -> None:
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(setup))
    r = cli("job", "add-copy", "x", "--target", "off", code=2)
    assert "sources" in r.stderr
    r = cli("job", "add-copy", "x", "--target", "main", "--from-job", "daily", code=2)
    assert "another repository" in r.stderr
    r = cli("job", "add-copy", "x", "--target", "off", "--from-job", "daily", "--retention-points", "1", code=2)
    assert "2" in r.stderr
    r = cli("job", "add-copy", "x", "--target", "off", "--from-job", "daily", "--gfs-weekly", "4:sundy", code=2)
    assert "sundy" in r.stderr.lower()
    r = cli("job", "add-copy", "x", "--target", "off", "--from-job", "daily", "--window", "mon-fri 25-06", code=2)
    assert "window" in r.stderr.lower() or "hour" in r.stderr.lower()
    r = cli("job", "add-copy", "x", "--target", "nowhere", "--from-job", "daily", code=2)
    assert "nowhere" in r.stderr
    r = cli("job", "add-copy", "x", "--target", "off", "--from-job", "nojob", code=2)
    assert "nojob" in r.stderr
    assert [j["name"] for j in cli.json("job", "list")] == ["daily"]


def test_window_refuses_outside_and_ignore_window(cli: Cli, setup: Path) -> None:
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(setup))
    cli("job", "run", "daily")
    # a window that is never open now: today's hours are all denied
    cli("job", "add-copy", "offsite", "--target", "off", "--from-job", "daily", "--window", "mon 0-1")
    import datetime as dt
    now = dt.datetime.now().astimezone()
    if now.weekday() == 0 and now.hour == 0:
        pytest.skip("inside the one open hour")
    r = cli("job", "run", "offsite", code=1)
    assert "outside its copy window" in r.stderr and "--ignore-window" in r.stderr
    assert cli.json("job", "run", "offsite", "--ignore-window")["status"] == "success"


def test_backups_delete_and_remove_missing(cli: Cli, setup: Path, tmp_path: Path) -> None:
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(setup))
    cli("job", "run", "daily")
    (setup / "c.txt").write_text("more")
    cli("job", "run", "daily")
    backup = cli.json("backups", "list")[0]["id"]
    r = cli("backups", "delete", backup, "--from-disk", code=2)          # no terminal, no --yes: refused
    assert "--yes" in r.stderr
    r = cli("points", "remove-missing", backup, "--forget", "--yes")
    assert "no missing" in r.stdout
    points = cli.json("points", "list")
    manifest = next((tmp_path / "r1").rglob(f"*_{points[0]['id']}.point"))
    manifest.unlink()
    cli("repo", "rescan", "main", code=3)
    assert [p["state"] for p in cli.json("points", "list")] == ["missing", "ok"]
    out = cli.json("points", "remove-missing", backup, "--forget", "--yes")
    assert out["status"] == "success"
    assert [p["id"] for p in cli.json("points", "list")] == [points[1]["id"]]
    cli("backups", "delete", backup, "--from-configuration", "--yes")
    assert cli.json("backups", "list") == []
    assert (tmp_path / "r1" / "backups" / backup).is_dir()                 # files stay
    cli("repo", "rescan", "main")
    assert [b["id"] for b in cli.json("backups", "list")] == [backup]
    cli("backups", "delete", backup, "--from-disk", "--yes")
    assert cli.json("backups", "list") == [] and not (tmp_path / "r1" / "backups" / backup).exists()
    assert list((tmp_path / "r1" / "data").rglob("*")) == [] or all(
        p.is_dir() for p in (tmp_path / "r1" / "data").rglob("*"))


def test_job_delete_keeps_backups_unless_asked(cli: Cli, setup: Path) -> None:
    cli("job", "add-backup", "daily", "--repo", "main", "--source", str(setup))
    cli("job", "run", "daily")
    cli("job", "delete", "daily")
    assert cli.json("backups", "list")[0]["orphaned"] is True
    cli("job", "add-backup", "weekly", "--repo", "main", "--source", str(setup))
    cli("job", "run", "weekly")
    out = json.loads(cli("job", "delete", "weekly", "--delete-backups", "--yes", "--json").stdout)
    assert out["backups_deleted"] == 1
    assert [b["job"] for b in cli.json("backups", "list")] == ["daily"]


def test_demo_creates_linked_jobs_and_runs_them(cli: Cli, tmp_path: Path) -> None:
    out = cli.json("demo", "--dir", str(tmp_path / "demo"))
    assert [s["status"] for s in out["sessions"]] == ["success", "success"]
    jobs = {j["name"]: j for j in cli.json("job", "list")}
    assert jobs["demo-backup"]["linked"] == ["demo-offsite-copy"]
    points = cli.json("points", "list")
    assert {p["job"] for p in points} == {"demo-backup", "demo-offsite-copy"}
    r = cli("demo", "--dir", str(tmp_path / "demo2"), code=2)
    assert "exists already" in r.stderr
