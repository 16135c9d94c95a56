"""The data dir precedence (--data-dir > BACKUP_CONSOLE_HOME > platform dir) and the files kept in it."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from console.core import paths

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


PLATFORM_CALLS: list[tuple[str, object]] = []


@pytest.fixture
def platform_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the platform default at tmp_path so no test touches the real user data dir."""
    target = tmp_path / "platform" / "backup-console"
    PLATFORM_CALLS.clear()

    def fake_user_data_dir(appname: str, appauthor: object = None, *args: object, **kwargs: object) -> str:
        PLATFORM_CALLS.append((appname, appauthor))
        return str(target)

    monkeypatch.setattr(paths.platformdirs, "user_data_dir", fake_user_data_dir)
    monkeypatch.delenv(paths.ENV_HOME, raising=False)
    return target


def test_explicit_argument_wins_over_environment_and_platform(tmp_path: Path, platform_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_HOME, str(tmp_path / "from-env"))
    result = paths.data_dir(tmp_path / "explicit")
    assert result == tmp_path / "explicit"
    assert result.is_dir()
    assert not (tmp_path / "from-env").exists()
    assert not platform_dir.exists()


def test_explicit_accepts_a_string(tmp_path: Path, platform_dir: Path) -> None:
    assert paths.data_dir(str(tmp_path / "as-text")) == tmp_path / "as-text"


def test_environment_wins_over_platform(tmp_path: Path, platform_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_HOME, str(tmp_path / "from-env"))
    result = paths.data_dir()
    assert result == tmp_path / "from-env"
    assert result.is_dir()
    assert not platform_dir.exists()


def test_platform_dir_is_the_default(platform_dir: Path) -> None:
    result = paths.data_dir()
    assert result == platform_dir
    assert result.is_dir()
    assert PLATFORM_CALLS == [("backup-console", False)]


def test_empty_environment_variable_is_ignored(platform_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_HOME, "")
    assert paths.data_dir() == platform_dir


def test_explicit_and_environment_expand_the_home_dir(tmp_path: Path, platform_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    assert paths.data_dir("~/console") == tmp_path / "home" / "console"
    monkeypatch.setenv(paths.ENV_HOME, "~/env-console")
    assert paths.data_dir() == tmp_path / "home" / "env-console"


@posix_only
def test_created_data_dir_is_private(tmp_path: Path, platform_dir: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        result = paths.data_dir(tmp_path / "new" / "nested")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(result.stat().st_mode) == 0o700


@posix_only
def test_existing_data_dir_keeps_its_mode(tmp_path: Path, platform_dir: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    existing.chmod(0o755)
    paths.data_dir(existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755


def test_files_inside_the_data_dir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert paths.catalog_path(home) == home / "catalog.db"
    assert home.is_dir()
    assert not (home / "catalog.db").exists()          # the Catalog creates the file, not the path helper

    assert paths.log_dir(home) == home / "logs"
    assert (home / "logs").is_dir()
    assert paths.locks_dir(home) == home / "locks"
    assert (home / "locks").is_dir()

    known_hosts = paths.known_hosts_path(home)
    assert known_hosts == home / "known_hosts"
    assert known_hosts.is_file()
    assert known_hosts.read_text() == ""


def test_known_hosts_is_not_truncated(tmp_path: Path) -> None:
    first = paths.known_hosts_path(tmp_path)
    first.write_text("host ssh-ed25519 AAAA\n")
    assert paths.known_hosts_path(tmp_path).read_text() == "host ssh-ed25519 AAAA\n"


@posix_only
def test_known_hosts_is_private(tmp_path: Path) -> None:
    known_hosts = paths.known_hosts_path(tmp_path)
    assert stat.S_IMODE(known_hosts.stat().st_mode) == 0o600
