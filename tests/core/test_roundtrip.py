"""Backup -> restore round trips on real files: every kind of entry and metadata comes back exactly, in plain and
encrypted repositories; incremental runs read only what changed; identical blocks are stored once; restore
options (selected paths, overwrite never / newer / always) do what they say."""

from __future__ import annotations

import ctypes
import os
import socket
import stat
import sys
import threading
from pathlib import Path

import pytest
from core.helpers import (
    BLOCK,
    MIB,
    PASSWORD,
    RecordingEvents,
    all_files,
    backup,
    new_repo,
    open_repo,
    random_bytes,
    repo_files,
    snapshot,
    write_file,
)

from console.core.engine.restore import restore_point
from console.core.errors import PasswordRequiredError, UsageError, WrongPasswordError
from console.core.repository.repo import Repository
from console.core.storage.local import LocalStorage

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="non-UTF-8 names, capabilities: Linux only")

T0 = 1_600_000_000_123_456_789          # ns-precision mtimes (not representable as float seconds)
MARK_NAME = "confidential-Q3-layoffs-plan.txt"
MARK_TEXT = b"PLAINTEXT-MARKER-the-merger-with-initech-closes-friday"
BIG = 2 * BLOCK + 12_345                # more than two blocks: 3 blocks, the last one short
NON_UTF8 = b"latin1-caf\xe9-\xff.bin"


def build_source(src: Path, outside: Path) -> None:
    """The reference source tree (see module docstring); dir mtimes are set last, deepest first."""
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "target.txt").write_bytes(b"outside file, must never be read through a link")
    write_file(src / "big.bin", random_bytes(BIG, 1), 0o640, T0 + 1)
    write_file(src / "empty", b"", 0o600, T0 + 2)
    write_file(src / "sub" / "a.txt", b"alpha\n" * 100, 0o644, T0 + 3)
    write_file(src / "sub" / "deep" / "deeper" / "b.txt", b"beta", 0o755, T0 + 4)
    write_file(src / "sub" / "deep" / "empty-too", b"", 0o600, T0 + 5)
    write_file(src / "Ünïcødé ☃ 日本語.txt", "grüße ☃".encode(), 0o644, T0 + 6)
    write_file(src / "with space.txt", b"space", 0o600, T0 + 7)
    write_file(src / "new\nline.txt", b"newline", 0o640, T0 + 8)
    write_file(src / "-leading-dash", b"dash", 0o755, T0 + 9)
    write_file(src / MARK_NAME, MARK_TEXT * 3, 0o600, T0 + 10)
    raw = os.path.join(os.fsencode(src), NON_UTF8)
    with open(raw, "wb") as f:
        f.write(b"bytes name")
    os.chmod(raw, 0o640)
    os.utime(raw, ns=(T0 + 11, T0 + 11))
    (src / "empty-dir").mkdir()
    (src / "locked-dir").mkdir()
    os.symlink("sub/a.txt", src / "rel-link")
    os.symlink(str(outside / "target.txt"), src / "abs-link")
    os.symlink("does/not/exist", src / "dangling-link")
    os.symlink(str(outside), src / "dir-link-outside")                  # a folder link: stored, not descended
    os.symlink("../../a.txt", src / "sub" / "deep" / "up-link")
    for d, mode, t in [("sub/deep/deeper", 0o750, T0 + 20), ("sub/deep", 0o700, T0 + 21), ("sub", 0o755, T0 + 22),
                       ("empty-dir", 0o700, T0 + 23), ("locked-dir", 0o500, T0 + 24)]:
        os.chmod(src / d, mode)
        os.utime(src / d, ns=(t, t))


@pytest.fixture(params=[None, PASSWORD], ids=["plain", "encrypted"])
def password(request: pytest.FixtureRequest) -> str | None:
    return request.param


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    build_source(src, tmp_path / "outside")
    return src


def test_full_roundtrip_is_exact(tmp_path: Path, source: Path, password: str | None) -> None:
    repo = new_repo(tmp_path / "repo", password)
    before = snapshot(source)
    assert before[b"dir-link-outside"] == ("symlink", os.fsencode(tmp_path / "outside"))
    doc, stats = backup(repo, source)
    assert stats.warnings == 0
    assert stats.files == 11 and stats.files_new == 11
    assert stats.read == stats.processed == sum(len(v[3]) for v in before.values() if v[0] == "file")
    assert doc.type == "full" and doc.files == 11

    # a freshly opened repository (nothing cached) restores the point exactly
    repo2 = open_repo(tmp_path / "repo", password)
    [(name, reread)] = list(repo2.iter_points())
    assert reread == doc
    dest = tmp_path / "dest"
    rstats = restore_point(repo2, reread, str(dest))
    assert rstats.errors == 0 and rstats.skipped == 0
    assert rstats.files == 11 and rstats.links == 5 and rstats.bytes == stats.read
    assert snapshot(dest) == before
    assert snapshot(source) == before                        # the backup changed nothing in the source
    # links were stored as links: nothing of the outside folder was copied anywhere
    assert not (dest / "dir-link-outside").resolve().is_relative_to(dest)
    assert sorted(os.listdir(tmp_path / "outside")) == ["target.txt"]


def test_big_file_is_split_into_blocks(tmp_path: Path, source: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    doc, _ = backup(repo, source)
    nodes = {n.name: n for n in repo.load_tree(bytes.fromhex(doc.root))}
    big = nodes["big.bin"]
    assert big.size == BIG and len(big.blobs) == 3
    assert [repo.index[b].raw_length for b in big.blobs] == [BLOCK, BLOCK, BIG - 2 * BLOCK]
    assert list(nodes["empty"].blobs) == [] and nodes["empty"].size == 0
    assert nodes[os.fsdecode(NON_UTF8)].type == "file"
    assert nodes["dangling-link"].type == "symlink" and nodes["dangling-link"].target == "does/not/exist"


def test_deeply_nested_source_roundtrips(tmp_path: Path) -> None:
    """300 nested folders (a path of ~1 KiB, nothing unusual for node_modules-like trees)."""
    src = tmp_path / "src"
    d = src
    for i in range(300):
        d = d / f"d{i % 10}"
    write_file(d / "leaf.txt", b"leaf", 0o644, T0)
    repo = new_repo(tmp_path / "repo")
    doc, stats = backup(repo, src)
    assert stats.dirs == 300 and stats.warnings == 0
    rstats = restore_point(repo, doc, str(tmp_path / "dest"))
    assert rstats.errors == 0 and rstats.dirs == 300
    assert snapshot(tmp_path / "dest") == snapshot(src)


def test_very_deeply_nested_source_roundtrips(tmp_path: Path) -> None:
    src = tmp_path / "src"
    fd = os.open(tmp_path, os.O_RDONLY)
    os.mkdir("src", dir_fd=fd)
    for _ in range(601):                      # ~1.2 KiB path: well inside PATH_MAX
        nfd = os.open("src" if _ == 0 else "d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
        if _ < 600:
            os.mkdir("d", dir_fd=fd)
    os.close(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)
    repo = new_repo(tmp_path / "repo")
    doc, stats = backup(repo, src)
    assert stats.dirs == 600 and stats.files == 1
    rstats = restore_point(repo, doc, str(tmp_path / "dest"))
    assert rstats.errors == 0 and rstats.dirs == 600 and rstats.files == 1


def test_long_multibyte_name_roundtrips(tmp_path: Path) -> None:
    src = tmp_path / "src"
    name = "日本語のファイル名" * 9 + "ab"                  # 83 chars, 245 bytes in UTF-8 (limit 255)
    assert len(name.encode()) <= 255
    write_file(src / name, b"x", 0o644, T0)
    repo = new_repo(tmp_path / "repo")
    doc, _ = backup(repo, src)
    rstats = restore_point(repo, doc, str(tmp_path / "dest"))
    assert rstats.errors == 0
    assert snapshot(tmp_path / "dest") == snapshot(src)


# -- encryption -------------------------------------------------------------------------------------------------


def test_encrypted_repository_needs_the_right_password(tmp_path: Path, source: Path) -> None:
    repo = new_repo(tmp_path / "repo", PASSWORD)
    backup(repo, source)
    storage = LocalStorage(tmp_path / "repo")
    with pytest.raises(WrongPasswordError):
        Repository.open(storage, lambda: "not the password")
    with pytest.raises(PasswordRequiredError):
        Repository.open(storage)
    with pytest.raises(PasswordRequiredError):
        Repository.open(storage, lambda: None)
    with pytest.raises(PasswordRequiredError):
        Repository.open(storage, lambda: "")
    assert Repository.open(storage, lambda: PASSWORD).encrypted
    # the password is never written anywhere in the repository
    for p in repo_files(tmp_path / "repo", ""):
        assert PASSWORD.encode() not in p.read_bytes()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain-control", "encrypted"])
def test_encrypted_repository_reveals_no_plaintext(tmp_path: Path, source: Path, encrypted: bool) -> None:
    """compression=0 so that the plain control run proves the markers WOULD be visible without encryption."""
    repo = new_repo(tmp_path / "repo", PASSWORD if encrypted else None, compression=0)
    backup(repo, source)
    needles = [MARK_NAME.encode(), MARK_TEXT, "日本語".encode(), b"deep/deeper", str(source).encode(),
               b"does/not/exist"]
    blobs = {prefix: b"".join(p.read_bytes() for p in repo_files(tmp_path / "repo", prefix))
             for prefix in ("index", "data", "backups")}
    assert blobs["index"] and blobs["data"] and blobs["backups"]
    names = "\n".join(str(p.relative_to(tmp_path / "repo")) for p in repo_files(tmp_path / "repo", ""))
    if not encrypted:
        assert MARK_NAME.encode() in blobs["data"] and MARK_TEXT in blobs["data"]
        return
    for where, data in blobs.items():
        for needle in needles:
            assert needle not in data, f"{needle!r} readable in {where}/"
    assert "src" not in names and "job" not in names            # object folder names are keyed hashes
    assert [p for p in repo_files(tmp_path / "repo", "backups") if p.suffix == ".point"]


# -- incremental runs ---------------------------------------------------------------------------------------------


def test_incremental_reads_only_changed_files(tmp_path: Path, source: Path, password: str | None) -> None:
    repo = new_repo(tmp_path / "repo", password)
    doc1, s1 = backup(repo, source)

    doc2, s2 = backup(repo, source, previous=doc1)
    assert doc2.type == "increment"
    assert s2.read == 0 and s2.files_unchanged == 11 and s2.files_changed == 0 and s2.files_new == 0
    assert s2.new_raw == 0 and s2.stored == 0                    # identical trees: nothing at all is stored
    assert s2.processed == s1.processed
    assert doc2.root == doc1.root

    # size change, same-size content change with a new mtime, and a new file
    write_file(source / "sub" / "a.txt", b"alpha\n" * 101, mtime_ns=T0 + 3)          # size differs, mtime same
    write_file(source / "with space.txt", b"SPACE", mtime_ns=T0 + 999)               # same size, new mtime
    write_file(source / "brand-new.txt", b"fresh", 0o644, T0 + 50)
    os.utime(source / "sub", ns=(T0 + 22, T0 + 22))
    doc3, s3 = backup(repo, source, previous=doc2)
    assert s3.read == len(b"alpha\n") * 101 + len(b"SPACE") + len(b"fresh")
    assert s3.files_changed == 2 and s3.files_new == 1 and s3.files_unchanged == 9
    assert 0 < s3.stored < 64 * 1024                             # the changed files + a few trees, not the data
    assert s3.new_raw < 64 * 1024
    restore_point(repo, doc3, str(tmp_path / "dest3"))
    assert snapshot(tmp_path / "dest3") == snapshot(source)
    # the earlier point still restores its own (older) content
    restore_point(repo, doc1, str(tmp_path / "dest1"))
    assert (tmp_path / "dest1" / "sub" / "a.txt").read_bytes() == b"alpha\n" * 100
    assert (tmp_path / "dest1" / "with space.txt").read_bytes() == b"space"
    assert not (tmp_path / "dest1" / "brand-new.txt").exists()


def test_incremental_detects_mtime_only_change_and_active_full_rereads(tmp_path: Path, source: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    doc1, _ = backup(repo, source)
    os.utime(source / "big.bin", ns=(T0 + 77, T0 + 77))          # same size, same content, new mtime
    doc2, s2 = backup(repo, source, previous=doc1)
    assert s2.read == BIG and s2.files_changed == 1
    assert s2.new_raw < 4096                                     # content blocks dedup; only trees are new
    doc3, s3 = backup(repo, source, previous=doc2, active_full=True)
    assert doc3.type == "full" and s3.read == s3.processed and s3.files_unchanged == 0


def test_identical_files_are_stored_once(tmp_path: Path) -> None:
    src = tmp_path / "src"
    content = random_bytes(MIB, 7)
    write_file(src / "one.bin", content)
    write_file(src / "two.bin", content)
    write_file(src / "nested" / "three.bin", content)
    repo = new_repo(tmp_path / "repo")
    doc, stats = backup(repo, src)
    assert stats.read == 3 * MIB
    assert MIB <= stats.new_raw < MIB + 8 * 1024                 # one copy of the data + two small trees
    assert stats.stored < MIB * 1.05
    assert sum(p.stat().st_size for p in repo_files(tmp_path / "repo", "data")) < MIB * 1.05
    restore_point(repo, doc, str(tmp_path / "dest"))
    assert snapshot(tmp_path / "dest") == snapshot(src)


# -- unreadable source files -------------------------------------------------------------------------------------

_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_dac_override_in_this_thread() -> None:
    """As root, chmod 000 does not stop reading: root has CAP_DAC_OVERRIDE. Linux capabilities are per thread, so
    this thread (and the pool threads it starts) drops the DAC capabilities from its effective set; the uid stays 0,
    so the root-owned repository stays writable by its owner bits while a mode-000 file really cannot be opened."""
    libc = ctypes.CDLL(None, use_errno=True)
    hdr, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(hdr), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    data[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(hdr), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def _in_thread(fn, *args, **kwargs):
    out: dict = {}

    def run() -> None:
        try:
            if os.geteuid() == 0:
                _drop_dac_override_in_this_thread()
            out["result"] = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["result"]


def test_unreadable_file_is_skipped_with_a_warning(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_file(src / "ok.txt", b"fine", 0o644, T0)
    write_file(src / "secret.txt", b"cannot read me", 0o000, T0)
    write_file(src / "sub" / "also-ok.txt", b"fine too", 0o644, T0)
    os.mkfifo(src / "a-fifo")                                    # special files are noted, not read (no hang)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / "a-socket"))

    def can_open() -> bool:
        try:
            os.close(os.open(src / "secret.txt", os.O_RDONLY))
            return True
        except PermissionError:
            return False

    if _in_thread(can_open):
        pytest.skip("cannot make a file unreadable here (no way to drop CAP_DAC_OVERRIDE)")
    repo = new_repo(tmp_path / "repo")
    events = RecordingEvents()
    doc, stats = _in_thread(backup, repo, src, events=events)
    sock.close()
    assert stats.warnings == 1
    [warning] = events.messages("warning")
    assert "secret.txt" in warning and "skipped" in warning
    assert any("a-fifo" in m for m in events.messages("info"))
    assert stats.files == 2
    names = {n.name for n in repo.load_tree(bytes.fromhex(doc.root))}
    assert names == {"ok.txt", "sub"}
    restore_point(repo, doc, str(tmp_path / "dest"))
    assert all_files(tmp_path / "dest") == {"ok.txt", "sub", "sub/also-ok.txt"}


# -- restore options --------------------------------------------------------------------------------------------


def test_restore_selected_paths_only(tmp_path: Path, source: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    doc, _ = backup(repo, source)
    dest = tmp_path / "dest"
    rstats = restore_point(repo, doc, str(dest), paths=["sub/a.txt"])
    assert rstats.files == 1 and rstats.errors == 0
    assert all_files(dest) == {"sub", "sub/a.txt"}
    assert (dest / "sub" / "a.txt").read_bytes() == (source / "sub" / "a.txt").read_bytes()
    assert (dest / "sub" / "a.txt").stat().st_mtime_ns == T0 + 3

    dest2 = tmp_path / "dest2"
    restore_point(repo, doc, str(dest2), paths=["/sub/deep/", "rel-link", os.fsdecode(NON_UTF8)])
    assert all_files(dest2) == {"sub", "sub/deep", "sub/deep/deeper", "sub/deep/deeper/b.txt", "sub/deep/empty-too",
                                "sub/deep/up-link", "rel-link", os.fsdecode(NON_UTF8)}
    full = snapshot(source)
    got = snapshot(dest2)
    for key in (b"sub/deep", b"sub/deep/deeper", b"sub/deep/deeper/b.txt", b"rel-link", NON_UTF8):
        assert got[key] == full[key]

    with pytest.raises(UsageError):
        restore_point(repo, doc, str(tmp_path / "dest3"), paths=["no/such/file"])
    with pytest.raises(UsageError):
        restore_point(repo, doc, str(tmp_path / "dest4"), paths=["sub/../../etc"])


@pytest.mark.parametrize("mode", ["never", "newer", "always"])
def test_restore_overwrite_modes(tmp_path: Path, mode: str) -> None:
    src = tmp_path / "src"
    write_file(src / "older-in-dest.txt", b"from backup 1", 0o644, T0)
    write_file(src / "newer-in-dest.txt", b"from backup 2", 0o644, T0)
    write_file(src / "absent.txt", b"from backup 3", 0o644, T0)
    write_file(src / "link", b"", 0o644, T0)
    repo = new_repo(tmp_path / "repo")
    doc, _ = backup(repo, src)

    dest = tmp_path / "dest"
    write_file(dest / "older-in-dest.txt", b"local edit (old)", 0o600, T0 - 10**9)
    write_file(dest / "newer-in-dest.txt", b"local edit (new)", 0o600, T0 + 10**9)
    outside = write_file(tmp_path / "outside.txt", b"must stay", 0o644)
    os.symlink(outside, dest / "link")                           # an existing link is replaced, never written through
    os.utime(dest / "link", ns=(T0 - 10**9, T0 - 10**9), follow_symlinks=False)
    rstats = restore_point(repo, doc, str(dest), overwrite=mode)

    expect_old = b"from backup 1" if mode in ("newer", "always") else b"local edit (old)"
    expect_new = b"from backup 2" if mode == "always" else b"local edit (new)"
    assert (dest / "older-in-dest.txt").read_bytes() == expect_old
    assert (dest / "newer-in-dest.txt").read_bytes() == expect_new
    assert (dest / "absent.txt").read_bytes() == b"from backup 3"
    assert outside.read_bytes() == b"must stay"
    if mode == "never":
        assert rstats.skipped == 3 and rstats.files == 1
        assert (dest / "link").is_symlink()
    else:
        assert not (dest / "link").is_symlink() and (dest / "link").read_bytes() == b""
    if mode == "newer":
        assert rstats.skipped == 1 and rstats.files == 3
    if mode == "always":
        assert rstats.skipped == 0 and rstats.files == 4
        assert stat.S_IMODE((dest / "newer-in-dest.txt").stat().st_mode) == 0o644
    assert not [n for n in os.listdir(dest) if n.endswith(".restoring")]

    with pytest.raises(UsageError):
        restore_point(repo, doc, str(dest), overwrite="sometimes")
