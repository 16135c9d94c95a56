"""Adding, opening and removing configured repositories (catalog entry + storage + keys)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from console.core import secrets
from console.core.catalog import Catalog
from console.core.errors import RepositoryError, UsageError
from console.core.model import Repository as RepoConfigEntry
from console.core.repository.repo import Repository
from console.core.storage.base import Storage
from console.core.storage.local import LocalStorage

log = logging.getLogger(__name__)


def make_storage(entry: RepoConfigEntry) -> Storage:
    if entry.kind == "local":
        return LocalStorage(entry.location)
    raise RepositoryError(f"repository {entry.name}: storage kind {entry.kind!r} is not available in this version")


def password_source(entry: RepoConfigEntry):
    return lambda: secrets.get(secrets.repo_key(entry.name))


def open_repository(catalog: Catalog, name: str) -> tuple[RepoConfigEntry, Repository]:
    entry = catalog.get_repository(name)
    if entry.kind == "local" and not os.path.isdir(entry.location):
        raise RepositoryError(f"repository {name}: folder {entry.location} does not exist (deleted, moved or not "
                              "mounted?); mount it again, or remove the repository from the configuration")
    repo = Repository.open(make_storage(entry), password_source(entry))
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
