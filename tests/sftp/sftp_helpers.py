"""Shared helpers of the SFTP tests: a real OpenSSH sshd on 127.0.0.1 driven by tests/sshd.sh, remote folders,
storages on them, and a fake clock for the throttle. Imported as `sftp.sftp_helpers` (tests/ is on sys.path)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest

from console.core import paths
from console.core.storage.hostkeys import KnownHosts, fingerprint, public_key
from console.core.storage.sftp import SftpAuth, SftpLocation, SftpStorage

SSHD_SH = Path(__file__).resolve().parents[1] / "sshd.sh"
MIB = 1 << 20


@dataclass
class Server:
    dir: Path
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    key: Path = Path()
    remote: Path = Path()

    def _sh(self, command: str) -> subprocess.CompletedProcess:
        r = subprocess.run(["bash", str(SSHD_SH), command, str(self.dir)], capture_output=True, text=True,
                           timeout=120)
        if command in ("start", "restart"):
            if r.returncode == 77:
                pytest.skip(f"tests/sshd.sh: {r.stderr.strip()}")
            assert r.returncode == 0, f"sshd.sh {command} failed:\n{r.stdout}\n{r.stderr}"
            env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
            self.host, self.port, self.user = env["HOST"], int(env["PORT"]), env["USER"]
            self.password, self.key, self.remote = env["PASSWORD"], Path(env["KEY"]), Path(env["REMOTE"])
        return r

    def start(self) -> Server:
        self._sh("start")
        return self

    def stop(self) -> None:
        self._sh("stop")

    def kill(self) -> None:
        """SIGKILL the server and its sessions: connections drop and new ones are refused."""
        self._sh("kill")

    def restart(self) -> None:
        self._sh("restart")

    def drop_sessions(self) -> None:
        """SIGKILL the open sessions only: clients see their connections drop, reconnecting works."""
        self._sh("drop")

    def new_host_key(self) -> None:
        """Restart with a freshly generated host key (a reinstalled server, or a man in the middle)."""
        for p in self.dir.glob("host_key*"):
            p.unlink()
        self.restart()

    @property
    def host_key(self) -> paramiko.PKey:
        return public_key((self.dir / "host_key.pub").read_text())

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    def location(self, folder: str | Path) -> str:
        """USER@HOST:PORT//ABSOLUTE for `folder` below the test account's remote folder."""
        return f"{self.user}@{self.host}:{self.port}/{self.remote / folder}"

    def trust(self, data_dir: Path) -> KnownHosts:
        """Accept this server's host key in the console's known_hosts of `data_dir`."""
        kh = KnownHosts(paths.known_hosts_path(data_dir))
        if not kh.known(self.host, self.port):
            kh.accept(self.host, self.port, self.host_key)
        return kh

    def chown(self, path: Path) -> None:
        shutil.chown(path, self.user, self.user)

    def authorize(self, pub: Path) -> None:
        """Add a public key to the test account's authorized_keys."""
        with open(self.dir / "authorized_keys" / self.user, "a") as f:
            f.write(pub.read_text())


def new_server() -> Server:
    # not under pytest's tmp dir: that is 0700 root, and the test account must reach its remote folder
    d = Path(tempfile.mkdtemp(prefix="bc-sshd-", dir="/tmp"))
    os.chmod(d, 0o755)
    return Server(d)


def dispose(server: Server) -> None:
    try:
        server.kill()
    finally:
        shutil.rmtree(server.dir, ignore_errors=True)


@dataclass
class RemoteFolder:
    server: Server
    path: Path          # the folder as seen on this machine (the server is local)
    location: str       # USER@HOST:PORT//PATH

    def mkdir(self) -> RemoteFolder:
        self.path.mkdir(parents=True, exist_ok=True)
        self.server.chown(self.path)
        return self

    def files(self, under: str = "") -> dict[str, int]:
        """Relative name -> size of every file below the folder (what the server holds)."""
        base = self.path / under if under else self.path
        return {str(p.relative_to(self.path)): p.stat().st_size for p in base.rglob("*") if p.is_file()}


def new_folder(server: Server, test_name: str) -> RemoteFolder:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", test_name)[:60] + "-" + uuid.uuid4().hex[:6]
    return RemoteFolder(server, server.remote / name, server.location(name))


def make_storage(server: Server, folder: RemoteFolder, data_dir: Path, **kw) -> SftpStorage:
    """An SftpStorage on `folder`, logging in with the test key, the host key already trusted."""
    kh = server.trust(data_dir)
    return SftpStorage(SftpLocation.parse(folder.location), SftpAuth(key_file=str(server.key)), kh, **kw)


def ssh_keygen(path: Path, passphrase: str = "", kind: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-f", str(path)], check=True)
    return path


class FakeClock:
    """time.monotonic + time.sleep for a TokenBucket: sleeping advances the clock and is summed."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept += s
        self.now += s


# -- for the CLI tests ------------------------------------------------------------------------------------------
def source_tree(tmp_path: Path, random_mib: int = 1) -> Path:
    """Folders, text, incompressible data, an empty file and a symlink."""
    src = tmp_path / "src"
    (src / "docs").mkdir(parents=True)
    (src / "docs" / "report.txt").write_text("quarterly numbers\n" * 3000)
    (src / "data.bin").write_bytes(os.urandom(random_mib * MIB))
    (src / "empty").write_bytes(b"")
    os.symlink("docs/report.txt", src / "link")
    return src


def add_sftp_cli(cli, server: Server, folder: RemoteFolder, name: str = "off", *extra: str) -> dict:
    """`repo add-sftp` with the test key, accepting the server's host key; the JSON answer."""
    return cli.json("repo", "add-sftp", name, folder.location, "--key", str(server.key), "--accept-host-key",
                    server.fingerprint, *extra)


def pack_sizes(folder: RemoteFolder) -> dict[str, int]:
    """Pack file -> size in a repository folder on the server."""
    return folder.files(under="data")
