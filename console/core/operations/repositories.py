"""Adding, opening and removing configured repositories (catalog entry + storage + keys)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from console.core import paths, secrets
from console.core.catalog import Catalog
from console.core.errors import PasswordRequiredError, RemoteAuthError, RepositoryError, UsageError
from console.core.model import Repository as RepoConfigEntry
from console.core.repository.repo import Repository
from console.core.storage.base import Storage
from console.core.storage.local import LocalStorage
from console.core.storage.throttle import ThrottledStorage, TokenBucket

if TYPE_CHECKING:   # paramiko is imported only when an SFTP repository is used
    from console.core.storage.sftp import SftpAuth, SftpLocation, SftpStorage

log = logging.getLogger(__name__)
SFTP_ENV = "BACKUP_CONSOLE_SFTP_PASSWORD"   # the SSH secret (password or key passphrase) for scripts


def make_storage(entry: RepoConfigEntry, data_dir: str | os.PathLike[str] | None = None) -> Storage:
    """The storage of a configured repository. `data_dir` (where known_hosts lives) matters for SFTP; without it
    the default data dir is used ($BACKUP_CONSOLE_HOME or the platform's)."""
    throttle = TokenBucket.from_mbps(entry.options.get("throttle_mbps"))
    if entry.kind == "local":
        storage: Storage = LocalStorage(entry.location)
        return ThrottledStorage(storage, throttle) if throttle else storage
    if entry.kind == "sftp":
        return _sftp_storage(entry, paths.data_dir(data_dir), throttle)
    raise RepositoryError(f"repository {entry.name}: storage kind {entry.kind!r} is not available in this version")


def password_source(entry: RepoConfigEntry):
    return lambda: secrets.get(secrets.repo_key(entry.name))


def open_repository(catalog: Catalog, name: str) -> tuple[RepoConfigEntry, Repository]:
    entry = catalog.get_repository(name)
    if entry.kind == "local" and not os.path.isdir(entry.location):
        raise RepositoryError(f"repository {name}: folder {entry.location} does not exist (deleted, moved or not "
                              "mounted?); mount it again, or remove the repository from the configuration")
    storage = make_storage(entry, catalog.path.parent)
    try:
        repo = Repository.open(storage, password_source(entry))
    except BaseException:
        storage.close()
        raise
    if entry.repo_uid and repo.id != entry.repo_uid:
        repo.close()
        raise RepositoryError(f"repository {name}: {entry.location} now holds a different repository "
                              f"(id {repo.id[:8]}, expected {entry.repo_uid[:8]}); check the path")
    return entry, repo


def add_local(catalog: Catalog, name: str, path: str, password: str | None = None, block_size: int = 1 << 20,
              compression: int = 3) -> tuple[RepoConfigEntry, bool, str]:
    """Create (empty folder) or attach (existing repository) a local repository.

    Returns (entry, created, note) where note tells where the password is kept when encrypted."""
    if not name or not name.strip():
        raise UsageError("a repository needs a name")
    if any(r.name == name for r in catalog.list_repositories()):
        raise UsageError(f"a repository named {name!r} exists already")
    root = Path(path).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create repository folder {root}: {e.strerror}") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UsageError(f"repository folder {root} is not writable by this user")
    storage = LocalStorage(root)
    created = not storage.exists("config.json")
    if created:
        repo = Repository.init(storage, password, block_size, compression)
    else:
        repo = Repository.open(storage, lambda: password)
    entry = RepoConfigEntry(name=name, kind="local", location=str(root), repo_uid=repo.id,
                            encrypted=repo.encrypted,
                            options={"block_size": repo.config.block_size, "compression": repo.config.compression})
    entry = catalog.add_repository(entry)
    note = ""
    if repo.encrypted and password:
        if secrets.store(secrets.repo_key(name), password):
            note = "password saved in the OS keyring"
        else:
            _, backend = secrets.keyring_status()
            note = (f"no usable keyring ({backend}): give the password on each run "
                    "(--password-stdin or BACKUP_CONSOLE_PASSWORD)")
    repo.close()
    return entry, created, note


# -- SFTP -------------------------------------------------------------------------------------------------------------
def sftp_password_key(repo_name: str) -> str:
    return f"sftp:{repo_name}"


def sftp_passphrase_key(repo_name: str) -> str:
    return f"sftp-passphrase:{repo_name}"


def remove_repository(catalog: Catalog, name: str) -> RepoConfigEntry:
    """Remove a repository from the configuration (its files stay) and forget every secret kept for it."""
    entry = catalog.get_repository(name)
    catalog.delete_repository(entry.name)
    secrets.forget(secrets.repo_key(entry.name))
    forget_sftp_secrets(entry.name)
    return entry


def forget_sftp_secrets(repo_name: str) -> None:
    """Drop a removed repository's SFTP password and key passphrase from the keyring (and this process)."""
    secrets.forget(sftp_password_key(repo_name))
    secrets.forget(sftp_passphrase_key(repo_name))


def _ssh_secret(key: str, generic_ok: bool) -> str | None:
    """The SSH secret saved for this repository (this process or the keyring), else BACKUP_CONSOLE_SFTP_PASSWORD,
    else — only when `generic_ok` — the one secret of this run (--password-stdin, BACKUP_CONSOLE_PASSWORD).

    The generic secret is never used for an encrypted repository: it is then the repository password, which must
    not be sent to the SSH server."""
    found = secrets.get_saved(key)
    if found:
        return found
    if os.environ.get(SFTP_ENV):
        return os.environ[SFTP_ENV]
    if generic_ok:
        return secrets.get(key)
    return None


def sftp_auth_for(entry: RepoConfigEntry) -> SftpAuth:
    """How to log in for a configured SFTP repository: key file (+ passphrase if the key is encrypted), password,
    or ssh-agent / ~/.ssh keys. Secrets come from the keyring or this run; a missing one is a clear error."""
    from console.core.storage.sftp_connect import SftpAuth, key_is_encrypted

    opts = entry.options
    generic_ok = not entry.encrypted
    hint = (f"save it in the keyring (add the repository again, or Test connection in the GUI), or give it with "
            f"{SFTP_ENV}" + ("" if entry.encrypted else " / --password-stdin / BACKUP_CONSOLE_PASSWORD"))
    key_file = opts.get("key_file")
    if key_file:
        passphrase = None
        if key_is_encrypted(key_file):
            passphrase = _ssh_secret(sftp_passphrase_key(entry.name), generic_ok)
            if not passphrase:
                raise RemoteAuthError(f"repository {entry.name}: the passphrase of key file {key_file} is not "
                                      f"available; {hint}")
        return SftpAuth(key_file=key_file, key_passphrase=passphrase)
    password = _ssh_secret(sftp_password_key(entry.name), generic_ok)
    if opts.get("auth") == "password" and not password:
        raise RemoteAuthError(f"repository {entry.name}: the SFTP password of {entry.location} is not available; "
                              f"{hint}")
    return SftpAuth(password=password) if password and opts.get("auth") != "agent" else SftpAuth()


def _sftp_storage(entry: RepoConfigEntry, data_dir: Path, throttle: TokenBucket | None) -> SftpStorage:
    from console.core.storage.hostkeys import KnownHosts
    from console.core.storage.sftp import SftpLocation, SftpStorage

    return SftpStorage(SftpLocation.parse(entry.location), sftp_auth_for(entry),
                       KnownHosts(paths.known_hosts_path(data_dir)), throttle=throttle)


def _new_sftp_storage(data_dir: str | os.PathLike[str], location: str, key_file: str | None,
                      key_passphrase: str | None, ssh_password: str | None, accept_host_key: str | None,
                      throttle_mbps: float | None = None) -> tuple[SftpLocation, SftpAuth, SftpStorage]:
    from console.core.storage.hostkeys import KnownHosts
    from console.core.storage.sftp import SftpAuth, SftpLocation, SftpStorage

    loc = SftpLocation.parse(location)
    if key_file:
        key_file = str(Path(key_file).expanduser().absolute())
    if throttle_mbps is not None and not throttle_mbps > 0:
        raise UsageError("--throttle is in MB/s and must be more than 0")
    auth = SftpAuth(key_file=key_file, key_passphrase=key_passphrase or None,
                    password=None if key_file else ssh_password)
    storage = SftpStorage(loc, auth, KnownHosts(paths.known_hosts_path(paths.data_dir(data_dir))),
                          accept_host_key=accept_host_key, throttle=TokenBucket.from_mbps(throttle_mbps))
    return loc, auth, storage


_STATES = {"missing": "does not exist yet (it will be created)", "empty": "is empty (a new repository goes there)",
           "repository": "holds a repository", "other": "is not empty and holds no repository (choose an empty "
                                                        "folder)"}


def test_sftp_connection(data_dir: str | os.PathLike[str], location: str, *, key_file: str | None = None,
                         key_passphrase: str | None = None, ssh_password: str | None = None,
                         accept_host_key: str | None = None) -> str:
    """Connect, verify the host key (accepting `accept_host_key` if it is the one presented), log in and look at
    the folder; a one-line summary, or a ConsoleError saying what failed (HostKeyUnknownError carries the key)."""
    loc, _auth, storage = _new_sftp_storage(data_dir, location, key_file, key_passphrase, ssh_password,
                                            accept_host_key)
    with storage:
        info = storage.connect()
        state = storage.root_state()
        folder = storage.resolved_root()
    return f"connected to {loc.user}@{loc.address} ({info}); folder {folder} {_STATES[state]}"


def test_repository(catalog: Catalog, name: str, accept_host_key: str | None = None) -> str:
    """Reach a configured repository and say what is there (for SFTP: connect, verify the host key — accepting
    `accept_host_key` if it is the key presented — and log in with the saved secrets)."""
    entry = catalog.get_repository(name)
    if entry.kind == "sftp":
        from console.core.storage.hostkeys import KnownHosts
        from console.core.storage.sftp import SftpLocation, SftpStorage

        loc = SftpLocation.parse(entry.location)
        storage = SftpStorage(loc, sftp_auth_for(entry), KnownHosts(paths.known_hosts_path(catalog.path.parent)),
                              accept_host_key=accept_host_key)
        with storage:
            info = storage.connect()
            state, folder = storage.root_state(), storage.resolved_root()
        return f"repository {name}: connected to {loc.user}@{loc.address} ({info}); folder {folder} {_STATES[state]}"
    with make_storage(entry, catalog.path.parent) as storage:
        found = storage.exists("config.json")
    return f"repository {name}: {entry.location} " + ("holds a repository" if found else "holds no repository")


def add_sftp(catalog: Catalog, name: str, location: str, *, key_file: str | None = None,
             key_passphrase: str | None = None, ssh_password: str | None = None, repo_password: str | None = None,
             accept_host_key: str | None = None, block_size: int = 1 << 20, compression: int = 3,
             throttle_mbps: float | None = None, encrypt: bool | None = None) -> tuple[RepoConfigEntry, bool, str]:
    """Create (missing or empty folder) or attach (existing repository) a repository on an SFTP server.

    A new repository is encrypted when `repo_password` is given (or `encrypt` is True); an existing one is opened
    with `repo_password`. Secrets go to the keyring, never to the catalog. Returns (entry, created, note)."""
    if not name or not name.strip():
        raise UsageError("a repository needs a name")
    if any(r.name == name for r in catalog.list_repositories()):
        raise UsageError(f"a repository named {name!r} exists already")
    if encrypt and not repo_password:
        raise UsageError("an encrypted repository needs a password")
    loc, auth, storage = _new_sftp_storage(catalog.path.parent, location, key_file, key_passphrase, ssh_password,
                                           accept_host_key, throttle_mbps)
    with storage:
        storage.connect()
        storage.ensure_root()
        created = not storage.exists("config.json")
        if created:
            repo = Repository.init(storage, repo_password if encrypt is not False else None, block_size,
                                   compression)
        else:
            try:
                repo = Repository.open(storage, lambda: repo_password)
            except PasswordRequiredError:
                raise PasswordRequiredError(
                    f"{storage.location} holds an encrypted repository: give its password (--repo-password-stdin "
                    "or BACKUP_CONSOLE_PASSWORD)") from None
        encrypted = repo.encrypted
        options: dict = {"block_size": repo.config.block_size, "compression": repo.config.compression,
                         "auth": auth.method}
        if auth.key_file:
            options["key_file"] = auth.key_file
        if throttle_mbps:
            options["throttle_mbps"] = float(throttle_mbps)
        entry = catalog.add_repository(RepoConfigEntry(name=name, kind="sftp", location=str(loc),
                                                       repo_uid=repo.id, encrypted=encrypted, options=options))
    saved: list[str] = []
    unsaved: list[str] = []
    for key, secret, label in ((sftp_password_key(name), auth.password, "SFTP password"),
                               (sftp_passphrase_key(name), auth.key_passphrase if auth.key_file else None,
                                "key passphrase"),
                               (secrets.repo_key(name), repo_password if encrypted else None, "repository password")):
        if secret:
            (saved if secrets.store(key, secret) else unsaved).append(label)
    note = f"{' and '.join(saved)} saved in the OS keyring" if saved else ""
    if unsaved:
        _, backend = secrets.keyring_status()
        how = "--password-stdin or BACKUP_CONSOLE_PASSWORD"
        if encrypted and unsaved != ["repository password"]:
            how = f"the repository password with {how}, the SFTP secret with {SFTP_ENV}"
        note = (f"no usable keyring (found {backend}): the {' and the '.join(unsaved)} must be given on each run "
                f"({how})")
    return entry, created, note
