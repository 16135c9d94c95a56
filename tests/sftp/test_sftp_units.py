"""The parts of SFTP support that need no server: location syntax, host key bookkeeping, the throttle."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko
import pytest
from sftp.sftp_helpers import FakeClock

from console.core.errors import HostKeyChangedError, HostKeyUnknownError, UsageError
from console.core.storage.hostkeys import KnownHosts, fingerprint, host_entry, normalize_fingerprint, public_key
from console.core.storage.local import LocalStorage
from console.core.storage.sftp_connect import SftpAuth, SftpLocation
from console.core.storage.throttle import ThrottledStorage, TokenBucket


# -- location ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, user, host, port, path, shown", [
    ("backup@nas/backups", "backup", "nas", 22, "backups", "backup@nas/backups"),
    ("backup@nas:2222/backups/daily/", "backup", "nas", 2222, "backups/daily", "backup@nas:2222/backups/daily"),
    ("backup@nas//srv/backups", "backup", "nas", 22, "/srv/backups", "backup@nas//srv/backups"),
    ("sftp://backup@nas.example.com:22//srv/b", "backup", "nas.example.com", 22, "/srv/b",
     "backup@nas.example.com//srv/b"),
    ("backup@nas/", "backup", "nas", 22, "", "backup@nas/"),
    ("backup@nas/~/backups", "backup", "nas", 22, "backups", "backup@nas/backups"),
    ("backup@[2001:db8::5]:2222//srv", "backup", "2001:db8::5", 2222, "/srv", "backup@[2001:db8::5]:2222//srv"),
    ("a.b-c@10.0.0.7/./x//y", "a.b-c", "10.0.0.7", 22, "x/y", "a.b-c@10.0.0.7/x/y"),
])
def test_location_parses_and_prints_back(text: str, user: str, host: str, port: int, path: str, shown: str) -> None:
    loc = SftpLocation.parse(text)
    assert (loc.user, loc.host, loc.port, loc.path) == (user, host, port, path)
    assert str(loc) == shown
    assert SftpLocation.parse(str(loc)) == loc          # the catalog stores str(loc): it must parse back


def test_location_remote_paths() -> None:
    assert SftpLocation.parse("u@h//srv/r").remote("data/ab/cd") == "/srv/r/data/ab/cd"
    assert SftpLocation.parse("u@h/r").remote("config.json") == "r/config.json"
    assert SftpLocation.parse("u@h/").remote("config.json") == "config.json"
    assert SftpLocation.parse("u@h/").remote() == "."


@pytest.mark.parametrize("text", ["nas/backups", "backup@nas", "backup@nas:22", "@nas/x", "backup@/x",
                                  "backup@nas:0/x", "backup@nas:70000/x", "backup@nas/a/../b", "backup@na s/x",
                                  "backup@nas:port/x", ""])
def test_bad_locations_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(UsageError) as e:
        SftpLocation.parse(text)
    assert "USER@HOST" in str(e.value) or "port" in str(e.value) or ".." in str(e.value)


def test_auth_never_shows_secrets() -> None:
    auth = SftpAuth(key_file="/k", key_passphrase="pass-phrase-123", password="pw-456")
    assert "pass-phrase-123" not in repr(auth) and "pw-456" not in repr(auth)
    assert SftpAuth(password="x").method == "password" and SftpAuth().method == "agent"


# -- host keys ----------------------------------------------------------------------------------------------------
@pytest.fixture
def host_keys(tmp_path: Path) -> tuple[paramiko.PKey, paramiko.PKey, Path]:
    out = []
    for name in ("a", "b"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
        out.append(public_key((tmp_path / f"{name}.pub").read_text()))
    return out[0], out[1], tmp_path


def test_fingerprint_is_the_one_openssh_shows(host_keys) -> None:
    a, _b, d = host_keys
    shown = subprocess.run(["ssh-keygen", "-lf", str(d / "a.pub")], capture_output=True, text=True,
                           check=True).stdout.split()[1]
    assert fingerprint(a) == shown and shown.startswith("SHA256:") and not shown.endswith("=")
    assert normalize_fingerprint(shown[7:]) == shown
    assert normalize_fingerprint("sha256:" + shown[7:] + "=") == shown
    for bad in ("SHA256:abc", "MD5:12:34", "", "SHA256:" + "!" * 43):
        with pytest.raises(UsageError):
            normalize_fingerprint(bad)


def test_unknown_key_then_accepted_then_changed(host_keys, tmp_path: Path) -> None:
    a, b, _ = host_keys
    kh = KnownHosts(tmp_path / "known_hosts")
    with pytest.raises(HostKeyUnknownError) as e:
        kh.verify("nas", 2222, a)
    assert (e.value.host, e.value.port, e.value.key_type, e.value.fingerprint) == ("nas", 2222, "ssh-ed25519",
                                                                                fingerprint(a))
    assert fingerprint(a) in str(e.value) and "ssh-ed25519" in str(e.value)
    kh.accept("nas", 2222, a)
    kh.verify("nas", 2222, a)
    assert (tmp_path / "known_hosts").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "known_hosts").read_text().startswith("[nas]:2222 ssh-ed25519 ")
    with pytest.raises(HostKeyUnknownError):            # another port is another host
        kh.verify("nas", 22, a)
    with pytest.raises(HostKeyChangedError) as c:
        kh.verify("nas", 2222, b)
    msg = str(c.value)
    assert fingerprint(a) in msg and fingerprint(b) in msg and "CHANGED" in msg and str(kh.path) in msg
    assert c.value.new_fingerprint == fingerprint(b) and fingerprint(a) in c.value.old_fingerprint
    assert kh.forget("nas", 2222) == 1
    with pytest.raises(HostKeyUnknownError):
        kh.verify("nas", 2222, b)


def test_a_different_key_type_for_a_known_host_counts_as_changed(host_keys, tmp_path: Path) -> None:
    a, _b, d = host_keys
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(d / "r")], check=True)
    rsa = public_key((d / "r.pub").read_text())
    kh = KnownHosts(tmp_path / "known_hosts")
    kh.accept("nas", 22, a)
    with pytest.raises(HostKeyChangedError):
        kh.verify("nas", 22, rsa)


def test_hashed_entries_from_openssh_are_understood(host_keys, tmp_path: Path) -> None:
    a, _b, _ = host_keys
    path = tmp_path / "known_hosts"
    hashed = paramiko.HostKeys.hash_host(host_entry("nas", 2222))
    path.write_text(f"# copied from ~/.ssh/known_hosts\n{hashed} {a.get_name()} {a.get_base64()}")
    kh = KnownHosts(path)
    kh.verify("nas", 2222, a)
    kh.accept("other", 22, a)                           # appended on a new line despite the missing newline
    kh.verify("other", 22, a)
    assert kh.forget("nas", 2222) == 1
    assert "# copied" in path.read_text()
    with pytest.raises(HostKeyUnknownError):
        kh.verify("nas", 2222, a)


# -- throttle -------------------------------------------------------------------------------------------------------
def test_token_bucket_holds_the_rate_after_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1_000_000, burst=250_000, clock=clock, sleep=clock.sleep)
    assert bucket.consume(250_000) == 0                 # the burst is free
    for _ in range(40):
        bucket.consume(100_000)                         # 4 MB at 1 MB/s: 4 s
    assert clock.slept == pytest.approx(4.0)
    clock.now += 10                                     # idle time refills only up to the burst
    assert bucket.consume(250_000) == 0
    assert bucket.consume(1_000_000) == pytest.approx(1.0)


def test_token_bucket_charges_a_big_request_as_debt() -> None:
    clock = FakeClock()
    bucket = TokenBucket.from_mbps(2, clock=clock, sleep=clock.sleep)
    assert bucket is not None and bucket.rate == 2_000_000
    bucket.consume(int(bucket.burst))
    assert bucket.consume(16_000_000) == pytest.approx(8.0)
    assert TokenBucket.from_mbps(None) is None and TokenBucket.from_mbps(0) is None
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_throttled_local_storage_is_charged_for_every_byte(tmp_path: Path) -> None:
    clock = FakeClock()
    bucket = TokenBucket(1_000_000, burst=1, clock=clock, sleep=clock.sleep)
    st = ThrottledStorage(LocalStorage(tmp_path), bucket)
    st.write("a/b", b"x" * 500_000)
    assert st.read("a/b") == b"x" * 500_000
    assert st.read_range("a/b", 0, 250_000) == b"x" * 250_000
    spooled = st.spool_dir() / "p"
    spooled.write_bytes(b"y" * 250_000)
    st.put_file("data/p", spooled)
    assert clock.slept == pytest.approx(1.5, abs=1e-5) and st.size("data/p") == 250_000
    assert sorted(st.list("")) == ["a/b", "data/p"] and st.location == str(tmp_path)
