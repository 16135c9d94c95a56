"""Connecting to a real OpenSSH server: logins (key, password, passphrase, agent keys), every way a login fails,
host key verification, and the repository operations built on them (add, test, open) with the keyring."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sftp.sftp_helpers import RemoteFolder, Server, ssh_keygen

from console.core import paths, secrets
from console.core.catalog import Catalog
from console.core.errors import (
    HostKeyChangedError,
    HostKeyUnknownError,
    KeyFileError,
    PasswordRequiredError,
    RemoteAuthError,
    RepositoryError,
    UsageError,
    WrongPasswordError,
)
from console.core.operations import repositories as ops
from console.core.storage.hostkeys import KnownHosts
from console.core.storage.sftp import SftpAuth, SftpLocation
from console.core.storage.sftp_connect import connect


def _connect(server: Server, data_dir: Path, auth: SftpAuth, user: str | None = None, **kw):
    loc = SftpLocation.parse(f"{user or server.user}@{server.host}:{server.port}/")
    return connect(loc, auth, server.trust(data_dir), timeout=10, **kw)


# -- logins --------------------------------------------------------------------------------------------------------
def test_key_and_password_logins(sshd: Server, data_dir: Path) -> None:
    c = _connect(sshd, data_dir, SftpAuth(key_file=str(sshd.key)))
    assert c.alive() and c.host_key == f"ssh-ed25519 {sshd.fingerprint}" and "OpenSSH" in c.server
    c.close()
    c = _connect(sshd, data_dir, SftpAuth(password=sshd.password))
    assert c.alive() and c.sftp.listdir(".") is not None
    c.close()


def test_wrong_user_key_or_password_is_refused_clearly(sshd: Server, data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(RemoteAuthError, match="login refused for nosuchuser at .* wrong user name"):
        _connect(sshd, data_dir, SftpAuth(key_file=str(sshd.key)), user="nosuchuser")
    other = ssh_keygen(tmp_path / "other")
    with pytest.raises(RemoteAuthError, match="authorized_keys"):
        _connect(sshd, data_dir, SftpAuth(key_file=str(other)))
    wrong = "not-the-password-" + sshd.password[:4]
    with pytest.raises(RemoteAuthError, match="wrong user name or password") as e:
        _connect(sshd, data_dir, SftpAuth(password=wrong))
    assert wrong not in str(e.value) and sshd.password not in str(e.value)


def test_key_file_problems(sshd: Server, data_dir: Path, tmp_path: Path) -> None:
    cases = {tmp_path / "missing": "does not exist", tmp_path: "is a folder",
             Path(str(sshd.key) + ".pub"): "not a private key"}
    for path, message in cases.items():
        with pytest.raises(KeyFileError, match=message):
            _connect(sshd, data_dir, SftpAuth(key_file=str(path)))
    junk = tmp_path / "junk"
    junk.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnonsense\n-----END OPENSSH PRIVATE KEY-----\n")
    with pytest.raises(KeyFileError, match="not a private key"):
        _connect(sshd, data_dir, SftpAuth(key_file=str(junk)))


def test_encrypted_key_needs_the_right_passphrase(private_sshd: Server, data_dir: Path, tmp_path: Path) -> None:
    key = ssh_keygen(tmp_path / "enc", passphrase="open sesame")
    private_sshd.authorize(Path(str(key) + ".pub"))
    with pytest.raises(KeyFileError, match="protected by a passphrase"):
        _connect(private_sshd, data_dir, SftpAuth(key_file=str(key)))
    with pytest.raises(KeyFileError, match="wrong passphrase") as e:
        _connect(private_sshd, data_dir, SftpAuth(key_file=str(key), key_passphrase="open sesame!"))
    assert "open sesame" not in str(e.value)
    _connect(private_sshd, data_dir, SftpAuth(key_file=str(key), key_passphrase="open sesame")).close()


def test_without_key_or_password_the_default_keys_are_tried(sshd: Server, data_dir: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(RemoteAuthError, match="no ssh-agent or ~/.ssh/id_\\* key"):
        _connect(sshd, data_dir, SftpAuth())
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "id_ed25519").write_bytes(sshd.key.read_bytes())
    _connect(sshd, data_dir, SftpAuth()).close()


# -- host keys -----------------------------------------------------------------------------------------------------
def test_unknown_host_key_refused_then_accepted(sshd: Server, data_dir: Path) -> None:
    kh = KnownHosts(paths.known_hosts_path(data_dir))
    loc = SftpLocation.parse(f"{sshd.user}@{sshd.host}:{sshd.port}/")
    auth = SftpAuth(key_file=str(sshd.key))
    with pytest.raises(HostKeyUnknownError) as e:
        connect(loc, auth, kh, timeout=10)
    assert (e.value.host, e.value.port, e.value.key_type, e.value.fingerprint) == (
        "127.0.0.1", sshd.port, "ssh-ed25519", sshd.fingerprint)
    assert sshd.fingerprint in str(e.value)
    assert kh.path.read_text() == ""
    wrong = "SHA256:" + "A" * 43
    with pytest.raises(HostKeyUnknownError, match="not the fingerprint you accepted"):
        connect(loc, auth, kh, accept_host_key=wrong, timeout=10)
    assert kh.path.read_text() == ""                            # nothing trusted on a mismatch
    connect(loc, auth, kh, accept_host_key=sshd.fingerprint, timeout=10).close()
    connect(loc, auth, kh, timeout=10).close()                  # remembered
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519" in kh.path.read_text()


def test_changed_host_key_is_always_refused(private_sshd: Server, data_dir: Path) -> None:
    old = private_sshd.fingerprint
    kh = private_sshd.trust(data_dir)
    private_sshd.new_host_key()
    new = private_sshd.fingerprint
    assert new != old
    loc = SftpLocation.parse(f"{private_sshd.user}@{private_sshd.host}:{private_sshd.port}/")
    for accept in (None, new):                                  # even when the admin names the new key
        with pytest.raises(HostKeyChangedError) as e:
            connect(loc, SftpAuth(key_file=str(private_sshd.key)), kh, accept_host_key=accept, timeout=10)
        assert old in str(e.value) and new in str(e.value) and "CHANGED" in str(e.value)
    assert new not in kh.path.read_text()


# -- the operations: test, add, open --------------------------------------------------------------------------------
def test_test_connection_reports_the_folder(sshd: Server, remote: RemoteFolder, data_dir: Path) -> None:
    key = str(sshd.key)
    with pytest.raises(HostKeyUnknownError):
        ops.test_sftp_connection(data_dir, remote.location, key_file=key)
    out = ops.test_sftp_connection(data_dir, remote.location, key_file=key, accept_host_key=sshd.fingerprint)
    assert "does not exist yet" in out and str(remote.path) in out and sshd.fingerprint in out
    remote.mkdir()
    assert "is empty" in ops.test_sftp_connection(data_dir, remote.location, ssh_password=sshd.password)
    (remote.path / "notes.txt").write_text("x")
    assert "holds no repository" in ops.test_sftp_connection(data_dir, remote.location, key_file=key)
    relative = f"{sshd.user}@{sshd.host}:{sshd.port}/"         # the login folder
    assert "folder /" in ops.test_sftp_connection(data_dir, relative, key_file=key)


@pytest.fixture
def catalog(data_dir: Path):
    with Catalog.open(paths.data_dir(data_dir)) as cat:
        yield cat


def test_add_creates_attaches_and_refuses(sshd: Server, remote: RemoteFolder, data_dir: Path, catalog: Catalog,
                                          memory_keyring) -> None:
    sshd.trust(data_dir)
    nested = sshd.location(remote.path.relative_to(sshd.remote) / "a" / "b")
    entry, created, note = ops.add_sftp(catalog, "off", nested, ssh_password=sshd.password, repo_password="rp",
                                        encrypt=True, throttle_mbps=25)
    assert created and entry.encrypted and entry.kind == "sftp" and (remote.path / "a" / "b" / "config.json").exists()
    assert entry.options == {"block_size": 1 << 20, "compression": 3, "auth": "password", "throttle_mbps": 25.0}
    assert note == "SFTP password and repository password saved in the OS keyring"
    assert memory_keyring.passwords[(secrets.SERVICE, "sftp:off")] == sshd.password
    assert memory_keyring.passwords[(secrets.SERVICE, "repository:off")] == "rp"
    db = catalog.path.read_bytes() + b"".join(p.read_bytes() for p in catalog.path.parent.glob("catalog.db*"))
    assert sshd.password.encode() not in db

    # the same folder again: attached with its password, refused without or with a wrong one
    entry2, created2, _ = ops.add_sftp(catalog, "off2", nested, key_file=str(sshd.key), repo_password="rp")
    assert not created2 and entry2.repo_uid == entry.repo_uid and entry2.options["auth"] == "key"
    with pytest.raises(PasswordRequiredError, match="--repo-password-stdin"):
        ops.add_sftp(catalog, "off3", nested, key_file=str(sshd.key))
    with pytest.raises(WrongPasswordError):
        ops.add_sftp(catalog, "off3", nested, key_file=str(sshd.key), repo_password="nope")
    # a folder with other files is not taken over
    other = remote.path / "other"
    other.mkdir()
    (other / "photo.jpg").write_bytes(b"x")
    with pytest.raises(RepositoryError, match="not empty and not a repository"):
        ops.add_sftp(catalog, "off3", sshd.location(other.relative_to(sshd.remote)), key_file=str(sshd.key))
    assert (other / "photo.jpg").exists() and sorted(p.name for p in other.iterdir()) == ["photo.jpg"]
    with pytest.raises(UsageError, match="exists already"):
        ops.add_sftp(catalog, "off", nested, key_file=str(sshd.key))
    ops.forget_sftp_secrets("off")                              # when the repository is removed
    assert (secrets.SERVICE, "sftp:off") not in memory_keyring.passwords


def test_add_refuses_a_folder_it_cannot_create(sshd: Server, remote: RemoteFolder, data_dir: Path,
                                               catalog: Catalog) -> None:
    sshd.trust(data_dir)
    remote.mkdir()
    os.chmod(remote.path, 0o555)
    try:
        with pytest.raises(UsageError, match="cannot create folder .*permission denied"):
            ops.add_sftp(catalog, "off", sshd.location(remote.path.relative_to(sshd.remote) / "repo"),
                         key_file=str(sshd.key))
    finally:
        os.chmod(remote.path, 0o755)
    assert catalog.list_repositories() == []


def test_opening_uses_the_keyring_and_never_sends_the_repository_password(
        sshd: Server, remote: RemoteFolder, data_dir: Path, catalog: Catalog, memory_keyring,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sshd.trust(data_dir)
    ops.add_sftp(catalog, "off", remote.location, ssh_password=sshd.password, repo_password="rp", encrypt=True)
    entry, repo = ops.open_repository(catalog, "off")           # both secrets from the keyring
    assert repo.encrypted and repo.id == entry.repo_uid
    repo.close()
    # no saved SFTP password: the run's one secret is the repository password and is not sent to the server
    del memory_keyring.passwords[(secrets.SERVICE, "sftp:off")]
    secrets.forget("sftp:off")
    monkeypatch.setenv("BACKUP_CONSOLE_PASSWORD", "rp")
    with pytest.raises(RemoteAuthError, match="SFTP password .* not available.*BACKUP_CONSOLE_SFTP_PASSWORD"):
        ops.open_repository(catalog, "off")
    monkeypatch.setenv("BACKUP_CONSOLE_SFTP_PASSWORD", sshd.password)
    ops.open_repository(catalog, "off")[1].close()
    assert "holds a repository" in ops.test_repository(catalog, "off")


def test_no_usable_keyring_is_explained(sshd: Server, remote: RemoteFolder, data_dir: Path, catalog: Catalog) -> None:
    import keyring
    from keyring.backends import fail

    sshd.trust(data_dir)
    keyring.set_keyring(fail.Keyring())                         # the autouse fixture restores the memory one
    _entry, _created, note = ops.add_sftp(catalog, "off", remote.location, ssh_password=sshd.password)
    assert "no usable keyring (found keyring.backends.fail.Keyring)" in note and "each run" in note
    assert "--password-stdin" in note and "BACKUP_CONSOLE_PASSWORD" in note
