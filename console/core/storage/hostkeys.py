"""SSH host keys the console trusts: its own known_hosts file in the data dir (OpenSSH format).

An unknown key is refused with its type and SHA256 fingerprint until the admin accepts exactly that fingerprint;
a key that differs from the accepted one is always refused (never replaced automatically).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
from pathlib import Path

import paramiko

from console.core.errors import HostKeyChangedError, HostKeyUnknownError, UsageError

log = logging.getLogger(__name__)
_write_lock = threading.Lock()


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint: 'SHA256:' + unpadded base64 of the SHA-256 of the key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def public_key(line: str) -> paramiko.PKey:
    """A key from OpenSSH public key text ('ssh-ed25519 AAAA... comment'), e.g. a server's host_key.pub."""
    fields = line.split()
    try:
        return paramiko.PKey.from_type_string(fields[0], base64.b64decode(fields[1]))
    except (IndexError, ValueError, paramiko.SSHException) as e:
        raise UsageError(f"not an OpenSSH public key ({type(e).__name__})") from None


def normalize_fingerprint(text: str) -> str:
    """Accept 'SHA256:abc', 'sha256:abc' or 'abc' (as pasted from `ssh-keygen -lf`, with or without padding)."""
    fp = text.strip()
    if fp[:7].lower() == "sha256:":
        fp = fp[7:]
    fp = fp.rstrip("=")
    try:
        raw = base64.b64decode(fp + "=" * (-len(fp) % 4), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UsageError(f"{text!r} is not an SSH host key fingerprint (expected SHA256: followed by 43 characters, "
                         "as shown in the connection message)")
    return "SHA256:" + fp


def host_entry(host: str, port: int) -> str:
    """The name OpenSSH uses in known_hosts: 'host' on port 22, '[host]:port' otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


class KnownHosts:
    """The console's known_hosts. Read on every check, so a key accepted by another process counts at once."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _load(self) -> paramiko.HostKeys:
        keys = paramiko.HostKeys()
        if self.path.exists():
            try:
                keys.load(str(self.path))
            except (OSError, paramiko.SSHException) as e:
                raise UsageError(f"cannot read the console's known_hosts file {self.path}: {e}") from None
        return keys

    def known(self, host: str, port: int) -> dict[str, paramiko.PKey]:
        """Key type -> key accepted for this host and port."""
        return dict(self._load().lookup(host_entry(host, port)) or {})

    def verify(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Return when `key` is the accepted key of host:port; raise HostKeyUnknownError or HostKeyChangedError."""
        known = self.known(host, port)
        fp = fingerprint(key)
        if not known:
            raise HostKeyUnknownError(host, port, key.get_name(), fp)
        same = known.get(key.get_name())
        if same is not None and same.asbytes() == key.asbytes():
            return
        # a different key of the same type, or a type we never accepted for a host we know: both are refused,
        # because a man in the middle would simply offer another key type
        raise HostKeyChangedError(host, port, key.get_name(), fp,
                                  [f"{t} {fingerprint(k)}" for t, k in sorted(known.items())], str(self.path))

    def accept(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Trust `key` for host:port (appended to the file, which stays private: 0600)."""
        line = f"{host_entry(host, port)} {key.get_name()} {key.get_base64()}\n"
        with _write_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                if os.fstat(fd).st_size:
                    with open(self.path, "rb") as f:
                        f.seek(-1, os.SEEK_END)
                        if f.read(1) != b"\n":
                            line = "\n" + line
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        log.info("accepted SSH host key of %s:%s: %s %s", host, port, key.get_name(), fingerprint(key))

    def forget(self, host: str, port: int) -> int:
        """Remove every key of host:port (after a deliberate server reinstall); returns how many were removed."""
        entry = host_entry(host, port)
        with _write_lock:
            if not self.path.exists():
                return 0
            keys = self._load()
            lines = self.path.read_text().splitlines(keepends=True)
            kept, removed = [], 0
            for line in lines:
                fields = line.split()
                names = fields[0].split(",") if fields and not line.lstrip().startswith("#") else []
                hashed = [n for n in names if n.startswith("|1|")]
                if entry in names or any(keys.hash_host(entry, n) == n for n in hashed):
                    removed += 1
                    continue
                kept.append(line)
            tmp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.writelines(kept)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        return removed
