"""SftpStorage against a real OpenSSH server: the storage contract, concurrency, dropped connections, refusals."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sftp.sftp_helpers import FakeClock, RemoteFolder, Server, make_storage

from console.core.errors import RemoteConnectionError, RepositoryError
from console.core.storage.sftp import SftpAuth, SftpLocation, SftpStorage
from console.core.storage.sftp_connect import connect
from console.core.storage.throttle import TokenBucket

MB = 1 << 20


def test_the_storage_contract(storage: SftpStorage, remote: RemoteFolder) -> None:
    assert storage.is_empty() and storage.list("") == [] and storage.list("data") == []
    storage.write("config.json", b"{}")
    storage.write("index/ab", b"i" * 100_000)
    storage.write("config.json", b'{"v": 2}')                   # replacing is atomic too
    assert storage.read("config.json") == b'{"v": 2}' and storage.read("index/ab") == b"i" * 100_000
    assert storage.exists("index/ab") and not storage.exists("index/cd")
    assert storage.size("index/ab") == 100_000
    assert storage.read("index/ab") == (remote.path / "index" / "ab").read_bytes()

    data = os.urandom(5 * MB + 123)
    spooled = storage.spool_dir() / "pack.tmp"
    assert not str(spooled).startswith(str(remote.path))       # packs are assembled locally
    spooled.write_bytes(data)
    storage.put_file("data/0f/0fab", spooled)                   # queued: uploaded in the background
    storage.flush()
    assert not spooled.exists()                                 # consumed
    assert (remote.path / "data" / "0f" / "0fab").read_bytes() == data
    assert storage.read_range("data/0f/0fab", 0, 10) == data[:10]
    assert storage.read_range("data/0f/0fab", 3 * MB + 7, 2 * MB) == data[3 * MB + 7:5 * MB + 7]
    assert storage.read_range("data/0f/0fab", len(data) - 5, 100) == data[-5:]   # short at the end of file
    assert storage.read_range("data/0f/0fab", len(data) + 5, 100) == b""

    assert storage.create_exclusive("locks/x", b"mine")
    assert not storage.create_exclusive("locks/x", b"theirs")
    assert storage.read("locks/x") == b"mine"
    assert sorted(storage.list("")) == ["config.json", "data/0f/0fab", "index/ab", "locks/x"]
    assert storage.list("data") == ["data/0f/0fab"] and storage.list("nothing") == []
    assert remote.files(under="tmp") == {}                       # no temporary file left behind

    storage.delete("data/0f/0fab")
    storage.delete("data/0f/0fab")                              # absent: not an error
    storage.remove_empty_dirs("data")
    assert not (remote.path / "data").exists()
    spooled = storage.spool_dir() / "again"
    spooled.write_bytes(b"again")
    storage.put_file("data/0f/0fab", spooled)                   # its folder was removed: created again
    storage.write("index/cd", b"names the pack")                # a write waits for the uploads queued before it
    assert (remote.path / "data" / "0f" / "0fab").read_bytes() == b"again"
    assert storage.read("data/0f/0fab") == b"again"
    with pytest.raises(RepositoryError, match="missing"):
        storage.read("nope")
    with pytest.raises(RepositoryError, match="missing"):
        storage.size("nope")
    with pytest.raises(RepositoryError, match="missing"):
        storage.read_range("data/00/nope", 0, 1)
    with pytest.raises(RepositoryError, match="invalid storage name"):
        storage.read("../etc/passwd")


def test_spool_folder_goes_away_with_the_storage(sshd: Server, remote: RemoteFolder, data_dir: Path) -> None:
    st = make_storage(sshd, remote.mkdir(), data_dir)
    spool = st.spool_dir()
    (spool / "leftover").write_bytes(b"x")
    st.close()
    assert not spool.exists()


class CountingStorage(SftpStorage):
    """Counts the connections the pool opens and the most in use at once."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.opened = 0
        self.peak = 0

    def _new_channel(self):
        self.opened += 1
        self.peak = max(self.peak, self._open)
        return super()._new_channel()


def test_concurrent_callers_share_a_bounded_pool(sshd: Server, remote: RemoteFolder, data_dir: Path) -> None:
    remote.mkdir()
    st = CountingStorage(SftpLocation.parse(remote.location), SftpAuth(key_file=str(sshd.key)),
                         sshd.trust(data_dir), channels=3)
    blobs = {f"data/{i:02x}/{i:064x}": os.urandom(200_000 + i) for i in range(24)}
    errors: list[BaseException] = []

    def worker(names: list[str]) -> None:
        try:
            for n in names:
                st.write(n, blobs[n])
                assert st.read_range(n, 1000, 5000) == blobs[n][1000:6000]
        except BaseException as e:
            errors.append(e)

    names = sorted(blobs)
    threads = [threading.Thread(target=worker, args=(names[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert st.opened >= 2 and st.peak <= 3                     # parallel, but never more than the pool allows
    assert {n: st.read(n) for n in names} == blobs
    assert sorted(st.list("data")) == names
    st.close()


def test_a_dropped_connection_is_reestablished_and_the_operation_retried(
        private_sshd: Server, private_remote: RemoteFolder, data_dir: Path) -> None:
    private_remote.mkdir()
    st = make_storage(private_sshd, private_remote, data_dir, retry_delays=(0.05, 0.1))
    st.write("a", b"1")
    private_sshd.drop_sessions()                               # the idle connection in the pool is now dead
    assert st.read("a") == b"1"
    assert st.reconnects == 1

    # a drop in the middle of an upload: the retry sends the file again, the result is whole and in place once
    data = os.urandom(24 * MB)
    clock = threading.Event()

    def slow(n: int) -> float:                                 # a real (slow) throttle so the drop lands mid-upload
        if st.bytes_sent > 4 * MB and not clock.is_set():
            clock.set()
        time.sleep(n / (40 * MB))
        return 0.0

    st.throttle = type("Slow", (), {"consume": staticmethod(slow)})()
    spooled = st.spool_dir() / "p"
    spooled.write_bytes(data)
    t = threading.Thread(target=lambda: (st.put_file("data/aa/big", spooled), st.flush()))
    t.start()
    assert clock.wait(30)
    private_sshd.drop_sessions()
    t.join(60)
    assert not t.is_alive()
    assert (private_remote.path / "data" / "aa" / "big").read_bytes() == data
    assert st.reconnects == 2 and st.bytes_sent > len(data)
    st.close()


def test_a_server_that_stays_down_fails_the_operation_in_bounded_time(
        private_sshd: Server, private_remote: RemoteFolder, data_dir: Path) -> None:
    private_remote.mkdir()
    st = make_storage(private_sshd, private_remote, data_dir, retry_delays=(0.05, 0.1))
    st.write("a", b"1")
    private_sshd.kill()
    t0 = time.monotonic()
    with pytest.raises(RemoteConnectionError) as e:
        st.read("a")
    assert time.monotonic() - t0 < 10
    msg = str(e.value)
    assert "lost" in msg and "re-established" in msg and "refused" in msg and "\n" not in msg
    private_sshd.restart()                                     # back: the same storage works again
    assert st.read("a") == b"1"
    st.close()


# -- connecting: refused, timeout, not an SSH server ------------------------------------------------------------
@pytest.fixture
def silent_port() -> Iterator[socket.socket]:
    """A TCP port that accepts one connection into its backlog and never speaks; later SYNs are dropped."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    yield srv
    srv.close()


def _loc(port: int, user: str = "nobody") -> SftpLocation:
    return SftpLocation.parse(f"{user}@127.0.0.1:{port}/x")


def test_connection_refused_says_so(sshd: Server, data_dir: Path) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                                   # nothing listens there now
    with pytest.raises(RemoteConnectionError, match=rf"connection to 127.0.0.1:{port} refused"):
        connect(_loc(port), SftpAuth(password="x"), sshd.trust(data_dir), timeout=2)


def test_silent_server_and_connect_timeout_are_bounded(silent_port: socket.socket, sshd: Server,
                                                       data_dir: Path) -> None:
    port = silent_port.getsockname()[1]
    kh = sshd.trust(data_dir)
    t0 = time.monotonic()
    with pytest.raises(RemoteConnectionError, match="accepted the connection but the SSH handshake failed within 1"):
        connect(_loc(port), SftpAuth(password="x"), kh, timeout=1)   # lands in the backlog: TCP works, no banner
    assert time.monotonic() - t0 < 5
    blocker = socket.socket()                                   # make sure the backlog is full: SYNs are dropped
    blocker.settimeout(0.5)
    try:
        blocker.connect(("127.0.0.1", port))
    except OSError:
        pass
    t0 = time.monotonic()
    with pytest.raises(RemoteConnectionError, match=r"no answer from 127.0.0.1:\d+ within 1 s"):
        connect(_loc(port), SftpAuth(password="x"), kh, timeout=1)
    assert time.monotonic() - t0 < 5
    blocker.close()


# -- refusals from the server -------------------------------------------------------------------------------------
def test_permission_denied_is_reported_and_nothing_is_left(storage: SftpStorage, remote: RemoteFolder) -> None:
    storage.write("config.json", b"{}")
    os.chmod(remote.path, 0o555)                                # the test account may read, not write
    try:
        with pytest.raises(RepositoryError, match="permission denied") as e:
            storage.write("index/ab", b"x")
        assert "\n" not in str(e.value)
        assert storage.read("config.json") == b"{}"            # reading still works
    finally:
        os.chmod(remote.path, 0o755)
    storage.write("index/ab", b"x")                             # and the same storage works afterwards


@pytest.fixture
def small_disk(sshd: Server, remote: RemoteFolder) -> Iterator[RemoteFolder]:
    remote.path.mkdir(parents=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(remote.path)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    sshd.chown(remote.path)
    yield remote
    subprocess.run(["umount", "-l", str(remote.path)], check=False)


def test_a_full_remote_disk_fails_the_upload_cleanly(small_disk: RemoteFolder, sshd: Server, data_dir: Path) -> None:
    st = make_storage(sshd, small_disk, data_dir)
    st.write("config.json", b"{}")
    spooled = st.spool_dir() / "big"
    spooled.write_bytes(os.urandom(8 * MB))
    st.put_file("data/ab/big", spooled)                         # queued; the failure surfaces at the next call
    with pytest.raises(RepositoryError) as e:
        st.write("index/00", b"an index must not follow a pack that failed")
    assert not st.exists("index/00")
    assert "disk is full" in str(e.value) and str(sshd.port) in str(e.value)
    assert not st.exists("data/ab/big")                        # nothing under the final name
    assert small_disk.files(under="tmp") == {}                  # the partial upload was removed
    assert spooled.exists()                                     # the local pack is kept for a retry
    with pytest.raises(RepositoryError, match="disk is full"):  # for good: no later write may name the pack
        st.write("backups/x.point", b"a manifest")
    st.delete("config.json")                                    # deleting (a lock, say) still works
    st.close()
    st = make_storage(sshd, small_disk, data_dir)               # the next session: space is there, uploads work
    spooled = st.spool_dir() / "small"
    spooled.write_bytes(os.urandom(2 * MB))
    st.put_file("data/ab/small", spooled)
    assert st.size("data/ab/small") == 2 * MB
    st.close()


def test_the_throttle_is_charged_for_every_byte(sshd: Server, remote: RemoteFolder, data_dir: Path) -> None:
    clock = FakeClock()
    bucket = TokenBucket(10 * MB, burst=MB, clock=clock, sleep=clock.sleep)
    st = make_storage(sshd, remote.mkdir(), data_dir, throttle=bucket)
    spooled = st.spool_dir() / "p"
    spooled.write_bytes(os.urandom(21 * MB))
    st.put_file("data/aa/p", spooled)
    st.flush()
    assert clock.slept == pytest.approx(2.0, abs=0.01)         # 21 MB at 10 MB/s after a 1 MB burst
    st.read_range("data/aa/p", 0, 10 * MB)
    assert clock.slept == pytest.approx(3.0, abs=0.01)
    st.close()
