"""Reaching an SFTP server: the location syntax, private keys, one verified and authenticated connection.

Location: `USER@HOST[:PORT]/PATH`, where PATH is relative to the login folder, as with scp
(`backup@nas/backups` is ~backup/backups); a second slash makes it absolute (`backup@nas//srv/backups` is
/srv/backups on the server). `backup@nas/` is the login folder itself; `/~/PATH` is accepted for relative too.
An IPv6 address goes in brackets: `backup@[2001:db8::5]:2222//srv/backups`. A leading `sftp://` is accepted.

Every phase is bounded (TCP connect, SSH handshake, login: `timeout` seconds each) and fails with a message that
says which phase failed. The host key is checked against the console's known_hosts before any secret is sent.
"""

from __future__ import annotations

import errno
import logging
import posixpath
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from console.core.errors import (
    HostKeyUnknownError,
    KeyFileError,
    RemoteAuthError,
    RemoteConnectionError,
    UsageError,
)
from console.core.storage.hostkeys import KnownHosts, fingerprint, normalize_fingerprint

log = logging.getLogger(__name__)

DEFAULT_PORT = 22
CONNECT_TIMEOUT = 15.0
IO_TIMEOUT = 120.0             # no answer at all for this long: the connection is considered dead
WINDOW = 4 << 20               # SSH channel window: bytes in flight per channel
MAX_PACKET = 256 << 10         # largest channel packet we accept (fewer, larger packets for reads)
KEEPALIVE = 30
# AES-GCM needs no separate MAC pass and is accelerated (AES-NI via OpenSSL); fastest in paramiko here
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")
DEFAULT_KEY_FILES = ("id_ed25519", "id_ecdsa", "id_rsa")

_LOCATION = re.compile(r"^(?P<user>[^@\s/]+)@(?P<host>\[[0-9A-Fa-f:.%\w]+\]|[^\s:/@\[\]]+)"
                       r"(?::(?P<port>\d{1,5}))?(?P<path>/.*)$")
_FORM = ("use USER@HOST[:PORT]/PATH, e.g. backup@nas.example.com:2222/backups for a folder in the login folder, "
         "or USER@HOST[:PORT]//PATH for an absolute path, e.g. backup@nas.example.com//srv/backups")


@dataclass(frozen=True)
class SftpLocation:
    user: str
    host: str
    port: int = DEFAULT_PORT
    path: str = ""          # absolute ("/srv/backups") or relative to the login folder ("" = the login folder)

    @classmethod
    def parse(cls, text: str) -> SftpLocation:
        raw = text.strip()
        if raw.lower().startswith("sftp://"):
            raw = raw[7:]
        m = _LOCATION.match(raw)
        if not m or "\0" in raw:
            raise UsageError(f"{text!r} is not an SFTP location: {_FORM}")
        host = m["host"].strip("[]")
        port = int(m["port"]) if m["port"] else DEFAULT_PORT
        if not 1 <= port <= 65535:
            raise UsageError(f"{text!r}: port {port} is out of range (1-65535)")
        path = m["path"]
        relative = not path.startswith("//")
        if path == "/~" or path.startswith("/~/"):
            path = path[2:]
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise UsageError(f"{text!r}: the path must not contain '..'; write the folder's full path")
        path = "/".join(parts)
        return cls(m["user"], host, port, path if relative else "/" + path)

    @property
    def absolute(self) -> bool:
        return self.path.startswith("/")

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port != DEFAULT_PORT else ""
        return f"{self.user}@{host}{port}/{self.path}"

    def remote(self, name: str = "") -> str:
        """The server-side path of `name` inside the repository folder ('.' for the login folder itself)."""
        if not name:
            return self.path or "."
        return posixpath.join(self.path, name) if self.path else name


@dataclass
class SftpAuth:
    """How to log in. Secrets are excluded from repr so they never reach a log line or a traceback."""

    key_file: str | None = None
    key_passphrase: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def method(self) -> str:
        """'key' (a key file), 'password', or 'agent' (ssh-agent and ~/.ssh/id_*, as `ssh` does)."""
        if self.key_file:
            return "key"
        return "password" if self.password is not None else "agent"


# -- private keys ----------------------------------------------------------------------------------------------------
def _read_key(path: Path, passphrase: str | None) -> paramiko.PKey:
    return paramiko.PKey.from_path(path, passphrase.encode() if passphrase is not None else None)


def key_is_encrypted(path: str | Path) -> bool:
    """True when the key file needs a passphrase (raises KeyFileError when it is not a readable key)."""
    try:
        _read_key(Path(path).expanduser(), None)
    except TypeError:            # paramiko/cryptography: "password-protected, but password was not provided"
        return True
    except (OSError, ValueError, paramiko.SSHException) as e:
        raise _key_error(Path(path), e) from None
    return False


def load_private_key(path: str | Path, passphrase: str | None = None) -> paramiko.PKey:
    p = Path(path).expanduser()
    try:
        return _read_key(p, None)
    except TypeError:
        pass                     # encrypted: needs the passphrase
    except (OSError, ValueError, paramiko.SSHException) as e:
        raise _key_error(p, e) from None
    if not passphrase:
        raise KeyFileError(f"key file {p} is protected by a passphrase: give it (--password-stdin, the keyring, "
                           "or BACKUP_CONSOLE_SFTP_PASSWORD)")
    try:
        return _read_key(p, passphrase)
    except (ValueError, TypeError, paramiko.SSHException):
        raise KeyFileError(f"wrong passphrase for key file {p}") from None


def _key_error(path: Path, e: Exception) -> KeyFileError:
    if isinstance(e, FileNotFoundError):
        return KeyFileError(f"key file {path} does not exist")
    if isinstance(e, PermissionError):
        return KeyFileError(f"key file {path} cannot be read: permission denied")
    if isinstance(e, IsADirectoryError):
        return KeyFileError(f"key file {path} is a folder, not a private key")
    if isinstance(e, OSError):
        return KeyFileError(f"key file {path} cannot be read: {e.strerror or e}")
    return KeyFileError(f"{path} is not a private key the console can use (OpenSSH or PEM format expected; "
                        "give the private key, not the .pub file)")


def _default_keys() -> list[paramiko.PKey]:
    """ssh-agent's keys, then unencrypted ~/.ssh/id_* keys: what `ssh` would try without -i."""
    keys: list[paramiko.PKey] = []
    try:
        keys.extend(paramiko.Agent().get_keys())
    except (paramiko.SSHException, OSError) as e:
        log.debug("ssh-agent not usable: %s", e)
    for name in DEFAULT_KEY_FILES:
        p = Path.home() / ".ssh" / name
        if p.is_file():
            try:
                keys.append(_read_key(p, None))
            except (TypeError, OSError, ValueError, paramiko.SSHException) as e:
                log.debug("skipping %s: %s", p, type(e).__name__)
    return keys


# -- one connection --------------------------------------------------------------------------------------------------
@dataclass
class Connection:
    transport: paramiko.Transport
    sftp: paramiko.SFTPClient
    server: str             # the server's SSH version string
    host_key: str           # "ssh-ed25519 SHA256:..."
    cipher: str

    def alive(self) -> bool:
        return self.transport.is_active() and not self.sftp.sock.closed

    def close(self) -> None:
        try:
            self.sftp.close()
        except Exception:   # already broken: closing is best effort
            pass
        self.transport.close()


def _tcp_connect(loc: SftpLocation, timeout: float) -> socket.socket:
    where = loc.address
    try:
        sock = socket.create_connection((loc.host, loc.port), timeout=timeout)
    except socket.gaierror as e:
        raise RemoteConnectionError(f"cannot resolve host name {loc.host} ({e.strerror}); check the name "
                                    "and the DNS settings") from None
    except ConnectionRefusedError:
        raise RemoteConnectionError(f"connection to {where} refused: no SSH server listens there (wrong port, or "
                                    "the server is down)") from None
    except TimeoutError:
        raise RemoteConnectionError(f"no answer from {where} within {timeout:g} s (host down, or a firewall drops "
                                    "the connection)") from None
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
            raise RemoteConnectionError(f"host {loc.host} is unreachable ({e.strerror}); check the network, "
                                        "VPN or route") from None
        raise RemoteConnectionError(f"cannot connect to {where}: {e.strerror or e}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # small requests must not wait for delayed ACKs
    return sock


def connect(loc: SftpLocation, auth: SftpAuth, known_hosts: KnownHosts, accept_host_key: str | None = None,
            timeout: float = CONNECT_TIMEOUT, io_timeout: float = IO_TIMEOUT) -> Connection:
    """One verified, authenticated SFTP session. `accept_host_key` (a SHA256 fingerprint) trusts an unknown host
    key if and only if the server presents exactly that key."""
    accept = normalize_fingerprint(accept_host_key) if accept_host_key else None
    sock = _tcp_connect(loc, timeout)
    t = paramiko.Transport(sock, default_window_size=WINDOW, default_max_packet_size=MAX_PACKET)
    try:
        t.banner_timeout = t.handshake_timeout = t.auth_timeout = timeout
        sec = t.get_security_options()
        sec.ciphers = tuple(c for c in PREFERRED_CIPHERS if c in sec.ciphers) + tuple(
            c for c in sec.ciphers if c not in PREFERRED_CIPHERS)
        known = known_hosts.known(loc.host, loc.port)
        if known:   # ask for the key type we accepted, so a server with several keys shows the one we know
            sec.key_types = tuple(k for k in sec.key_types if k in known) + tuple(
                k for k in sec.key_types if k not in known)
        try:
            t.start_client(timeout=timeout)
            if not (t.is_active() and t.initial_kex_done):    # start_client returns quietly on its timeout
                raise paramiko.SSHException("no SSH greeting")
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise RemoteConnectionError(
                f"{loc.address} accepted the connection but the SSH handshake failed within {timeout:g} s ({e}); "
                "is it an SSH server?") from None
        key = t.get_remote_server_key()
        _verify_host_key(loc, key, known_hosts, accept)
        _authenticate(t, loc, auth)
        try:
            sftp = paramiko.SFTPClient.from_transport(t, window_size=WINDOW, max_packet_size=MAX_PACKET)
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise RemoteConnectionError(f"{loc.address} does not offer SFTP to {loc.user} ({e}); the server needs "
                                        "'Subsystem sftp' in its sshd_config") from None
        if sftp is None:
            raise RemoteConnectionError(f"{loc.address} does not offer SFTP to {loc.user}")
        sftp.get_channel().settimeout(io_timeout)
        t.set_keepalive(KEEPALIVE)
        return Connection(t, sftp, t.remote_version, f"{key.get_name()} {fingerprint(key)}", t.local_cipher)
    except BaseException:
        t.close()
        raise


def _verify_host_key(loc: SftpLocation, key: paramiko.PKey, known_hosts: KnownHosts, accept: str | None) -> None:
    try:
        known_hosts.verify(loc.host, loc.port, key)
    except HostKeyUnknownError as e:
        if accept is None:
            raise
        if accept != e.fingerprint:
            raise HostKeyUnknownError(
                e.host, e.port, e.key_type, e.fingerprint,
                f"the SSH host key of {loc.address} is {e.key_type} {e.fingerprint}, not the fingerprint you "
                f"accepted ({accept}); not connecting: check which server answers at this address") from None
        known_hosts.accept(loc.host, loc.port, key)


def _authenticate(t: paramiko.Transport, loc: SftpLocation, auth: SftpAuth) -> None:
    who = f"{loc.user} at {loc.address}"
    try:
        if auth.method == "key":
            assert auth.key_file
            t.auth_publickey(loc.user, load_private_key(auth.key_file, auth.key_passphrase))
        elif auth.method == "password":
            t.auth_password(loc.user, auth.password or "")
        else:
            keys = _default_keys()
            if not keys:
                raise RemoteAuthError(f"no way to log in as {who}: give a key file (--key) or a password "
                                      "(--password-stdin); no ssh-agent or ~/.ssh/id_* key was found")
            for k in keys:
                try:
                    t.auth_publickey(loc.user, k)
                    break
                except paramiko.BadAuthenticationType:
                    raise
                except paramiko.AuthenticationException:
                    continue
            else:
                raise paramiko.AuthenticationException()
    except paramiko.BadAuthenticationType as e:
        method = "password" if auth.method == "password" else "key"
        raise RemoteAuthError(f"{loc.address} does not accept {method} login for {loc.user} (it accepts: "
                              f"{', '.join(e.allowed_types) or 'nothing'})") from None
    except paramiko.AuthenticationException:
        if auth.method == "key":
            raise RemoteAuthError(f"login refused for {who} with key {auth.key_file}: wrong user name, or the "
                                  "key's .pub is not in that user's authorized_keys") from None
        if auth.method == "password":
            raise RemoteAuthError(f"login refused for {who}: wrong user name or password") from None
        raise RemoteAuthError(f"login refused for {who} with the ssh-agent and ~/.ssh keys: wrong user name, or "
                              "no key is authorized; give a key file (--key) or a password") from None
    except (paramiko.SSHException, EOFError, OSError) as e:
        raise RemoteConnectionError(f"the connection to {loc.address} failed during login ({e})") from None
