"""Where secrets come from: this process (given by --password-stdin or a dialog), the environment
(BACKUP_CONSOLE_PASSWORD, for scripts and tests), or the OS keyring. Never the catalog, logs or argv."""

from __future__ import annotations

import logging
import os

import keyring
import keyring.errors

log = logging.getLogger(__name__)
SERVICE = "backup-console"
ENV = "BACKUP_CONSOLE_PASSWORD"
_session: dict[str, str] = {}


def repo_key(repo_name: str) -> str:
    return f"repository:{repo_name}"


def keyring_status() -> tuple[bool, str]:
    """(usable, backend name). The fail backend and plaintext keyrings count as unusable."""
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    usable = not name.startswith(("keyring.backends.fail", "keyrings.alt"))
    return usable, name


def remember(key: str, secret: str) -> None:
    """Keep a secret for the life of this process (e.g. read once from stdin)."""
    _session[key] = secret


def remember_default(secret: str) -> None:
    """A secret given once for this process (--password-stdin) that answers for every repository."""
    _session["*"] = secret


def forget(key: str) -> None:
    _session.pop(key, None)
    usable, _ = keyring_status()
    if usable:
        try:
            keyring.delete_password(SERVICE, key)
        except keyring.errors.KeyringError:
            pass


def get(key: str) -> str | None:
    if key in _session:
        return _session[key]
    if "*" in _session:
        return _session["*"]
    if os.environ.get(ENV):
        return os.environ[ENV]
    usable, _ = keyring_status()
    if usable:
        try:
            return keyring.get_password(SERVICE, key)
        except keyring.errors.KeyringError as e:
            log.warning("keyring lookup failed: %s", e)
    return None


def get_saved(key: str) -> str | None:
    """The secret kept for exactly `key` (this process, then the OS keyring), without the per-run default
    (--password-stdin / BACKUP_CONSOLE_PASSWORD) that `get` falls back to."""
    if key in _session:
        return _session[key]
    usable, _ = keyring_status()
    if usable:
        try:
            return keyring.get_password(SERVICE, key)
        except keyring.errors.KeyringError as e:
            log.warning("keyring lookup failed: %s", e)
    return None


def store(key: str, secret: str) -> bool:
    """Save in the OS keyring; False (and the secret kept for this process only) when no usable keyring exists."""
    _session[key] = secret
    usable, _ = keyring_status()
    if not usable:
        return False
    try:
        keyring.set_password(SERVICE, key, secret)
        return True
    except keyring.errors.KeyringError as e:
        log.warning("could not store a secret in the keyring: %s", e)
        return False
