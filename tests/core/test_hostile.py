"""Hostile and damaged repositories (DESIGN §8): everything read from a repository is untrusted. Whatever it holds,
a restore never writes outside its destination, and check / GC / open give a clear ConsoleError (or a logged
error in the restore stats) instead of a crash, a hang or a memory blow-up.

The hostile content is written through the real encoders (codec, PackWriter, write_index, write_point); only the
tree JSON is crafted by hand, because Node/encode_tree would not let us build unsafe names."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from core.helpers import (
    PASSWORD,
    RecordingEvents,
    all_files,
    backup,
    dir_entry,
    file_entry,
    link_entry,
    new_repo,
    open_repo,
    pack_paths,
    random_bytes,
    store_blobs,
    store_data,
    store_tree_bytes,
    tree_json,
    write_file,
    write_point_for,
)

from console.core.engine.check import check_repository
from console.core.engine.gc import collect_garbage
from console.core.engine.restore import restore_point
from console.core.errors import ConsoleError, CorruptDataError, RepositoryError, UsageError
from console.core.repository import codec
from console.core.repository.packfile import DATA, TREE
from console.core.repository.repo import Repository
from console.core.storage.local import LocalStorage

pytestmark = pytest.mark.timeout(30)
MAIN = Path(__file__).resolve().parents[2]
GIB = 1 << 30


@pytest.fixture
def box(tmp_path: Path) -> Path:
    """The restore destination is box/dest; anything appearing in box/ or tmp_path/ besides it is an escape."""
    (tmp_path / "box").mkdir()
    (tmp_path / "outside").mkdir()
    write_file(tmp_path / "outside" / "victim.txt", b"original")
    return tmp_path / "box"


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return new_repo(tmp_path / "repo")


def restore_contained(repo: Repository, doc, box: Path, overwrite: str = "never", dest_name: str = "dest"):
    """Restore into box/<dest_name>; assert nothing was written anywhere else. Returns (stats or error, events)."""
    tmp = box.parent
    before_tmp = set(os.listdir(tmp))
    before_box = set(os.listdir(box)) | {dest_name}
    before_outside = {p: p.read_bytes() for p in (tmp / "outside").rglob("*") if p.is_file()}
    events = RecordingEvents()
    try:
        result = restore_point(repo, doc, str(box / dest_name), overwrite=overwrite, events=events)
    except ConsoleError as e:
        result = e
    assert set(os.listdir(tmp)) == before_tmp, "restore wrote next to the repository / outside the box"
    assert set(os.listdir(box)) <= before_box, "restore wrote beside its destination"
    after_outside = {p: p.read_bytes() for p in (tmp / "outside").rglob("*") if p.is_file()}
    assert after_outside == before_outside, "restore wrote through a link into another folder"
    assert not list((tmp / "repo").rglob("*pwned*"))
    dest = box / dest_name
    if dest.exists():
        assert not [n for n in all_files(dest) if n.endswith(".restoring")], "temporary files left behind"
    return result, events


def point_with_bad_subtree(repo: Repository, bad_entries: list[dict]):
    """root = [good.txt, sub/ -> a tree holding `bad_entries`]."""
    good = store_data(repo, b"good content")
    bad_tree = store_tree_bytes(repo, tree_json(bad_entries))
    root = store_tree_bytes(repo, tree_json([file_entry("good.txt", [good], 12), dir_entry("sub", bad_tree)]))
    return write_point_for(repo, root)


def assert_check_and_gc_refuse(repo: Repository, doc) -> None:
    res = check_repository(repo, read_data=True)
    assert not res.ok and doc.id in res.corrupted
    packs = pack_paths(Path(repo.storage.location))
    with pytest.raises(RepositoryError, match="garbage collection skipped"):
        collect_garbage(repo)
    assert pack_paths(Path(repo.storage.location)) == packs


# -- unsafe names ---------------------------------------------------------------------------------------------


def _unsafe_cases(tmp_path_marker: str) -> list:
    return [
        pytest.param([file_entry("..", [], 0)], id="dotdot"),
        pytest.param([file_entry(".", [], 0)], id="dot"),
        pytest.param([file_entry("", [], 0)], id="empty"),
        pytest.param([file_entry(tmp_path_marker + "/box/pwned-abs", [], 0)], id="absolute"),
        pytest.param([file_entry("/etc/pwned-etc", [], 0)], id="absolute-etc"),
        pytest.param([file_entry("../pwned-rel", [], 0)], id="dotdot-slash"),
        pytest.param([file_entry("a/b", [], 0)], id="slash"),
        pytest.param([file_entry("nul\0pwned", [], 0)], id="nul"),
        pytest.param([{**file_entry("x", [], 0), "name": 7}], id="non-string"),
        pytest.param([file_entry("dup", [], 0), file_entry("dup", [], 0)], id="duplicate"),
        pytest.param([dir_entry("..", b"\0" * 32)], id="dir-dotdot"),
        pytest.param([link_entry("link", "{outside}"), dir_entry("link", b"\0" * 32)], id="symlink-then-dir"),
        pytest.param([{**file_entry("x", [], 0), "type": "fifo"}], id="unknown-type"),
        pytest.param([{**file_entry("x", [], 0), "size": -1}], id="negative-size"),
        pytest.param([{**file_entry("x", [], 0), "blobs": "ab"}], id="blobs-not-list"),
        pytest.param([{**file_entry("x", [], 0), "blobs": ["zz" * 32]}], id="blob-not-hex"),
        pytest.param([{**link_entry("x", "t"), "target": 5}], id="link-target-int"),
    ]


@pytest.mark.parametrize("entries", _unsafe_cases("/tmp"))
def test_unsafe_tree_entries_never_escape(repo: Repository, box: Path, entries: list[dict]) -> None:
    outside = str(box.parent / "outside")
    entries = json.loads(json.dumps(entries).replace("{outside}", outside).replace("/tmp/box", str(box)))
    doc = point_with_bad_subtree(repo, entries)
    stats, events = restore_contained(repo, doc, box)
    assert not isinstance(stats, Exception), stats
    assert stats.errors == 1 and stats.files == 1
    [error] = events.messages("error")
    assert error.startswith("/sub: cannot read folder listing")
    assert (box / "dest" / "good.txt").read_bytes() == b"good content"
    assert os.listdir(box / "dest" / "sub") == []
    assert not os.path.exists("/etc/pwned-etc")
    assert_check_and_gc_refuse(repo, doc)


def test_unsafe_name_in_root_tree(repo: Repository, box: Path) -> None:
    root = store_tree_bytes(repo, tree_json([file_entry("..", [store_data(repo, b"x")], 1)]))
    doc = write_point_for(repo, root)
    stats, events = restore_contained(repo, doc, box)
    assert stats.errors == 1 and stats.files == 0
    assert "unsafe name" in events.messages("error")[0]


def test_setuid_bits_are_not_restored(repo: Repository, box: Path) -> None:
    blob = store_data(repo, b"#!/bin/sh\n")
    root = store_tree_bytes(repo, tree_json([file_entry("suid", [blob], 10, mode=0o6755),
                                             dir_entry("sgid-dir", store_tree_bytes(repo, tree_json([])),
                                                       mode=0o2775)]))
    stats, _ = restore_contained(repo, write_point_for(repo, root), box)
    assert stats.errors == 0
    assert os.stat(box / "dest" / "suid").st_mode & 0o7777 == 0o755
    assert os.stat(box / "dest" / "sgid-dir").st_mode & 0o6000 == 0


def test_size_mismatch_leaves_no_partial_file(repo: Repository, box: Path) -> None:
    blob = store_data(repo, b"12345")
    root = store_tree_bytes(repo, tree_json([file_entry("short", [blob], 10), file_entry("long", [blob, blob], 3)]))
    stats, events = restore_contained(repo, write_point_for(repo, root), box)
    assert stats.errors == 2 and stats.files == 0
    assert all("size mismatch" in m for m in events.messages("error"))
    assert os.listdir(box / "dest") == []


# -- symlink escapes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", ["never", "newer", "always"])
def test_symlink_then_folder_across_two_points(repo: Repository, box: Path, overwrite: str) -> None:
    """Point 1 puts link -> ../outside into the destination; point 2, restored into the same destination, has a
    folder 'link' with a file and a file 'victim-link': neither may land in (or overwrite) ../outside."""
    outside = box.parent / "outside"
    p1 = write_point_for(repo, store_tree_bytes(repo, tree_json([
        link_entry("link", str(outside)), link_entry("victim-link", str(outside / "victim.txt")),
        link_entry("rel", "../../outside")])))
    pwned = store_data(repo, b"pwned")
    inner = store_tree_bytes(repo, tree_json([file_entry("pwned", [pwned], 5), file_entry("victim.txt", [pwned], 5)]))
    late = 1_900_000_000 * 10**9                                   # newer than anything on disk
    p2 = write_point_for(repo, store_tree_bytes(repo, tree_json([
        dir_entry("link", inner, mtime=late), file_entry("victim-link", [pwned], 5, mtime=late),
        dir_entry("rel", inner, mtime=late)])))
    s1, _ = restore_contained(repo, p1, box)
    assert s1.links == 3 and (box / "dest" / "link").is_symlink()
    s2, _ = restore_contained(repo, p2, box, overwrite=overwrite)
    assert not isinstance(s2, Exception)
    assert sorted(os.listdir(outside)) == ["victim.txt"]
    assert (outside / "victim.txt").read_bytes() == b"original"
    if overwrite == "always":       # the links are replaced by real folders / files inside the destination
        assert (box / "dest" / "link").is_dir() and not (box / "dest" / "link").is_symlink()
        assert (box / "dest" / "link" / "pwned").read_bytes() == b"pwned"
        assert (box / "dest" / "victim-link").read_bytes() == b"pwned"
    else:
        assert (box / "dest" / "link").is_symlink()


def test_destination_that_is_a_symlink_is_refused(repo: Repository, box: Path) -> None:
    os.symlink(box.parent / "outside", box / "dest")
    doc = write_point_for(repo, store_tree_bytes(repo, tree_json([file_entry("pwned", [store_data(repo, b"x")], 1)])))
    with pytest.raises(UsageError):
        restore_point(repo, doc, str(box / "dest"))
    assert sorted(os.listdir(box.parent / "outside")) == ["victim.txt"]


# -- trees that reference themselves or fan out ------------------------------------------------------------------


def test_self_referencing_tree_terminates(repo: Repository, box: Path) -> None:
    """A tree cannot contain its own content hash, so a hostile index maps a forged id to a tree naming that id."""
    forged = codec.blob_id(b"forged id")
    data = tree_json([dir_entry("loop", forged), dir_entry("again", forged)])
    store_tree_bytes(repo, data, bid=forged)
    doc = write_point_for(repo, forged)
    stats, events = restore_contained(repo, doc, box)
    assert stats.errors == 1 and "failed verification" in events.messages("error")[0]
    assert_check_and_gc_refuse(repo, doc)


def test_self_referencing_tree_in_subfolder_terminates(repo: Repository, box: Path) -> None:
    forged = codec.blob_id(b"forged id 2")
    store_tree_bytes(repo, tree_json([dir_entry("loop", forged)]), bid=forged)
    root = store_tree_bytes(repo, tree_json([dir_entry("a", forged), dir_entry("b", forged)]))
    doc = write_point_for(repo, root)
    stats, _ = restore_contained(repo, doc, box)
    assert stats.errors == 2
    assert_check_and_gc_refuse(repo, doc)


def test_exponential_fanout_dag_check_and_gc_terminate(repo: Repository) -> None:
    """60 levels, each folder holding the next level twice: 2**60 paths, 61 distinct trees. Check and GC must
    visit each tree once (restoring it for real would legitimately be endless; not attempted)."""
    blobs, tid = [], None
    data = tree_json([file_entry("leaf", [], 0)])
    for level in range(61):
        if level:
            data = tree_json([dir_entry("a", tid), dir_entry("b", tid)])
        tid = codec.blob_id(data)
        blobs.append((tid, TREE, repo.encode_blob(tid, data), len(data)))
    store_blobs(repo, blobs)
    write_point_for(repo, tid)
    res = check_repository(repo, read_data=True)
    assert res.ok, res.errors
    gc = collect_garbage(repo)
    assert gc.packs_deleted == 0 and gc.blobs_kept == 61


# -- sizes that lie ---------------------------------------------------------------------------------------------


def rle_zstd_frame(size: int) -> bytes:
    """A valid zstd frame of `size` zero bytes made of RLE blocks: ~4 bytes per 128 KiB (a decompression bomb)."""
    out = [struct.pack("<IB", 0xFD2FB528, 0xE0), struct.pack("<Q", size)]   # single segment, 8-byte content size
    left = size
    while left:
        n = min(128 << 10, left)
        left -= n
        out.append(((n << 3) | (1 << 1) | (0 if left else 1)).to_bytes(3, "little") + b"\0")
    return b"".join(out)


def bomb_point(repo: Repository, claimed_raw: int, real: int):
    """A file whose single block is a zstd frame of `real` bytes, indexed with raw_length `claimed_raw`."""
    bid = codec.blob_id(b"bomb")
    stored = repo.cipher.seal(bytes((codec.ZSTD,)) + rle_zstd_frame(real), bid)
    store_blobs(repo, [(bid, DATA, stored, claimed_raw)])
    good = store_data(repo, b"fine")
    root = store_tree_bytes(repo, tree_json([file_entry("bomb", [bid], claimed_raw), file_entry("ok", [good], 4)]))
    return write_point_for(repo, root)


def test_blob_claiming_one_gib_raw_length(repo: Repository, box: Path) -> None:
    bid = codec.blob_id(b"small")
    store_blobs(repo, [(bid, DATA, repo.encode_blob(bid, b"small"), GIB)])
    root = store_tree_bytes(repo, tree_json([file_entry("huge", [bid], GIB)]))
    doc = write_point_for(repo, root)
    stats, events = restore_contained(repo, doc, box)
    assert stats.errors == 1 and "impossible size" in events.messages("error")[0]
    assert not (box / "dest" / "huge").exists()
    res = check_repository(repo, read_data=True)
    assert doc.id in res.corrupted


def test_zstd_bomb_with_small_raw_length(repo: Repository, box: Path) -> None:
    doc = bomb_point(repo, claimed_raw=1000, real=GIB)
    stats, events = restore_contained(repo, doc, box)
    assert stats.errors == 1 and stats.files == 1
    assert "impossible size" in events.messages("error")[0]
    res = check_repository(repo, read_data=True)
    assert doc.id in res.corrupted


def test_zstd_bomb_restore_is_bounded(repo: Repository, box: Path) -> None:
    doc = bomb_point(repo, claimed_raw=GIB, real=GIB)
    stats, events = restore_contained(repo, doc, box)
    assert stats.errors == 1 and stats.files == 1
    assert "impossible size" in events.messages("error")[0]


_CHECK_RSS = """
import json, resource, sys
sys.path.insert(0, {main!r})
from console.core.storage.local import LocalStorage
from console.core.repository.repo import Repository
from console.core.engine.check import check_repository
repo = Repository.open(LocalStorage({repo!r}))
res = check_repository(repo, read_data=True)
print(json.dumps({{"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "errors": res.errors,
                  "corrupted": list(res.corrupted)}}))
"""


def test_zstd_bomb_check_read_data_is_bounded(repo: Repository, tmp_path: Path) -> None:
    doc = bomb_point(repo, claimed_raw=GIB, real=GIB)
    out = subprocess.run([sys.executable, "-c", _CHECK_RSS.format(main=str(MAIN), repo=str(tmp_path / "repo"))],
                         capture_output=True, text=True, timeout=25)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert doc.id in report["corrupted"]
    assert report["rss_mib"] < 400, f"check used {report['rss_mib']} MiB for a 32 KiB pack"


# -- damaged packs, index files, config, manifests ---------------------------------------------------------------


def test_truncated_pack(tmp_path: Path, box: Path) -> None:
    src = tmp_path / "src"
    write_file(src / "a.bin", random_bytes(300_000, 1))
    repo = new_repo(tmp_path / "repo")
    doc, _ = backup(repo, src)
    write_file(src / "b.bin", random_bytes(300_000, 2))
    doc2, _ = backup(repo, src, previous=doc)
    packs = sorted(pack_paths(tmp_path / "repo"), key=lambda p: p.stat().st_mtime_ns)
    assert len(packs) == 2
    with open(packs[1], "r+b") as f:                      # the pack of b.bin and the second root tree
        f.truncate(1000)
    repo = open_repo(tmp_path / "repo")
    stats, events = restore_contained(repo, doc, box)       # point 1 does not use that pack
    assert stats.errors == 0 and (box / "dest" / "a.bin").read_bytes() == random_bytes(300_000, 1)
    stats, events = restore_contained(repo, doc2, box, dest_name="dest2")
    assert stats.errors >= 1 and "truncated" in events.messages("error")[0]
    assert not (box / "dest2" / "b.bin").exists()
    res = check_repository(repo)
    assert any("truncated" in e for e in res.errors)
    assert doc2.id in res.corrupted and doc.id not in res.corrupted
    # recover_unindexed_packs and GC survive a pack whose trailer is gone
    (tmp_path / "repo" / "index").rename(tmp_path / "index-moved")
    (tmp_path / "repo" / "index").mkdir()
    repo = open_repo(tmp_path / "repo")
    assert repo.recover_unindexed_packs() == 1


def test_garbage_unindexed_pack_is_ignored(repo: Repository, tmp_path: Path) -> None:
    for i, data in enumerate([b"", b"x" * 100, random_bytes(5000, 3) + struct.pack("<I4s", 4000, b"BCP1"),
                              random_bytes(100, 4) + struct.pack("<I4s", 0xFFFFFFFF, b"BCP1")]):
        write_file(tmp_path / "repo" / "data" / "ab" / (f"{i:02x}" * 32), data)
    write_file(tmp_path / "repo" / "data" / "ab" / "not-a-pack", b"junk")
    assert repo.recover_unindexed_packs() == 0
    res = check_repository(repo, read_data=True)
    assert res.errors == ["unexpected file data/ab/not-a-pack in data/"]


@pytest.mark.parametrize("config", [
    pytest.param(os.urandom(300), id="random-bytes"),
    pytest.param(b"", id="empty"),
    pytest.param(b"[]", id="json-list"),
    pytest.param(b'{"format": "restic"}', id="other-format"),
    pytest.param(b'{"format": "backup-console-repository", "version": "1"}', id="version-string"),
    pytest.param(b'{"format": "backup-console-repository", "version": 1}', id="missing-fields"),
    pytest.param(b'{"format": "backup-console-repository", "version": 1, "id": "x", "block_size": 12345, '
                 b'"compression": 3}', id="odd-block-size"),
    pytest.param(b'{"format": "backup-console-repository", "version": 1, "id": "x", "block_size": 262144, '
                 b'"compression": 3, "pack_size": 1}', id="tiny-pack-size"),
    pytest.param(b'{"format": "backup-console-repository", "version": 1, "id": "x", "block_size": 262144, '
                 b'"compression": 3, "encryption": {"cipher": "rot13"}}', id="unknown-cipher"),
    pytest.param(b'{"format": "backup-console-repository", "version": 1, "id": "x", "block_size": 262144, '
                 b'"compression": 3, "encryption": {"cipher": "aes-256-gcm", "kdf": "scrypt", "n": 3, "r": 8, '
                 b'"p": 1, "salt": "", "key": ""}}', id="scrypt-n-not-power-of-two"),
    pytest.param(b'{"format": "backup-console-repository", "version": 1, "id": "x", "block_size": 262144, '
                 b'"compression": 3, "encryption": "aes"}', id="encryption-not-object"),
    pytest.param(b'{"format": "backup-console-repository", "version": 1, "id": "x", "block_size": Infinity, '
                 b'"compression": 3}', id="infinity"),
    pytest.param(b"[" * 100_000, id="deep-nesting"),
])
def test_garbage_config(tmp_path: Path, config: bytes) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "config.json").write_bytes(config)
    with pytest.raises(RepositoryError) as e:
        Repository.open(LocalStorage(tmp_path / "repo"), lambda: PASSWORD)
    assert str(tmp_path / "repo") in str(e.value) or "encryption settings" in str(e.value)


def test_hostile_scrypt_parameters_are_refused() -> None:
    from console.core.repository.crypto import KeyEnvelope
    with pytest.raises(CorruptDataError):
        KeyEnvelope.from_dict({"cipher": "aes-256-gcm", "kdf": "scrypt", "n": 1 << 20, "r": 32, "p": 16,
                               "salt": "AAAA", "key": "AAAA"})


def test_newer_format_version(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    cfg = json.loads((tmp_path / "repo" / "config.json").read_bytes())
    cfg["version"] = 99
    (tmp_path / "repo" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(RepositoryError, match=r"version 99, newer than this console understands"):
        Repository.open(repo.storage)
    with pytest.raises(RepositoryError, match="upgrade Backup Copy Console"):
        Repository.open(LocalStorage(tmp_path / "repo"))


def test_missing_and_foreign_config(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RepositoryError, match="holds no repository"):
        Repository.open(LocalStorage(tmp_path / "empty"))
    write_file(tmp_path / "other" / "somefile", b"x")
    with pytest.raises(RepositoryError, match="no config.json"):
        Repository.open(LocalStorage(tmp_path / "other"))
    with pytest.raises(RepositoryError, match="not empty"):
        Repository.init(LocalStorage(tmp_path / "other"))


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])
@pytest.mark.parametrize("content", [
    pytest.param(lambda: os.urandom(2000), id="random"),
    pytest.param(lambda: b"", id="empty"),
    pytest.param(lambda: b"\x00BCI1" + b"\xff" * 36, id="raw-truncated-entry"),
    pytest.param(lambda: b"\x00BCI1" + b"\x11" * 32 + struct.pack("<I", 0xFFFFFFFF), id="raw-huge-count"),
    pytest.param(lambda: b"\x00BCI1" + b"\x11" * 32 + struct.pack("<I", 1) + b"\x22" * 32 + b"\x07" + b"\0" * 12,
                 id="raw-bad-type"),
])
def test_random_index_file(tmp_path: Path, password: str | None, content) -> None:
    repo = new_repo(tmp_path / "repo", password)
    src = tmp_path / "src"
    write_file(src / "f", b"data")
    backup(repo, src)
    write_file(tmp_path / "repo" / "index" / ("ee" * 32), content())
    reopened = open_repo(tmp_path / "repo", password)  # a damaged index file is skipped and named, not fatal
    assert reopened.damaged_index == ["index/" + "ee" * 32]
    res = check_repository(reopened)
    assert [e for e in res.errors if "index file" in e and "damaged" in e]
    reopened.recover_unindexed_packs()                 # what every writer does first: the damaged file goes
    assert not (tmp_path / "repo" / "index" / ("ee" * 32)).exists()
    assert check_repository(open_repo(tmp_path / "repo", password), read_data=True).ok


@pytest.mark.parametrize("manifest", [
    pytest.param(b"not json", id="garbage"),
    pytest.param(b"{}", id="empty-object"),
    pytest.param(json.dumps({"id": "0000000000000000", "backup": "0123456789abcdef", "object": "/x",
                             "created": "2024-01-01T00:00:00+00:00", "type": "full", "root": "ab" * 32}).encode(),
                 id="id-does-not-match-name"),
    pytest.param(json.dumps({"id": "1111111111111111", "backup": "0123456789abcdef", "object": "/x",
                             "created": "yesterday", "type": "full", "root": "ab" * 32}).encode(), id="bad-time"),
    pytest.param(json.dumps({"id": "1111111111111111", "backup": "0123456789abcdef", "object": "/x",
                             "created": "2024-01-01T00:00:00+00:00", "type": "full", "root": "../../etc"}).encode(),
                 id="bad-root"),
    pytest.param(b'{"id":"1111111111111111","backup":"0123456789abcdef","object":"/x","created":'
                 b'"2024-01-01T00:00:00+00:00","type":"full","root":"' + b"ab" * 32 + b'","files":Infinity}',
                 id="infinity"),
    pytest.param(b"[" * 100_000, id="deep-nesting"),
])
def test_damaged_manifest_is_reported_not_fatal(repo: Repository, tmp_path: Path, manifest: bytes) -> None:
    src = tmp_path / "src"
    write_file(src / "f", b"data")
    good, _ = backup(repo, src)
    name = "backups/0123456789abcdef/obj/20240101T000000000000Z_1111111111111111.point"
    repo.storage.write(name, repo.seal_doc(manifest, b"manifest"))
    listed = dict(repo.iter_points())
    assert isinstance(listed[name], CorruptDataError)
    res = check_repository(repo)
    assert res.damaged_manifests == [name] and good.id in res.points
    with pytest.raises(RepositoryError, match="garbage collection skipped"):
        collect_garbage(repo)


def test_deeply_nested_json_tree(repo: Repository, box: Path) -> None:
    bad = store_tree_bytes(repo, b'{"v":1,"nodes":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    root = store_tree_bytes(repo, tree_json([dir_entry("sub", bad)]))
    doc = write_point_for(repo, root)
    stats, events = restore_contained(repo, doc, box)
    assert stats.errors == 1


def test_deep_tree_chain_restore(repo: Repository, box: Path) -> None:
    blobs, data = [], tree_json([])
    tid = codec.blob_id(data)
    blobs.append((tid, TREE, repo.encode_blob(tid, data), len(data)))
    for _ in range(1500):
        data = tree_json([dir_entry("d", tid)])
        tid = codec.blob_id(data)
        blobs.append((tid, TREE, repo.encode_blob(tid, data), len(data)))
    store_blobs(repo, blobs)
    doc = write_point_for(repo, tid)
    assert check_repository(repo, read_data=True).ok          # check and GC are iterative: fine
    assert collect_garbage(repo).packs_deleted == 0
    stats, _ = restore_contained(repo, doc, box)
    assert not isinstance(stats, BaseException)


def test_index_pointing_past_pack_end(repo: Repository, box: Path) -> None:
    good = store_data(repo, b"real data")
    loc = repo.index[good]
    lying = codec.blob_id(b"lying")
    from console.core.repository.packfile import BlobLocation
    repo.write_index({loc.pack: [(lying, BlobLocation(loc.pack, DATA, loc.offset + 10**6, 100, 100))]})
    repo = open_repo(Path(repo.storage.location))
    root = store_tree_bytes(repo, tree_json([file_entry("lie", [lying], 100), file_entry("ok", [good], 9)]))
    doc = write_point_for(repo, root)
    stats, events = restore_contained(repo, doc, box)
    assert stats.errors == 1 and stats.files == 1 and "truncated" in events.messages("error")[0]
    res = check_repository(repo, read_data=True)
    assert doc.id in res.corrupted


def test_vanished_repository_folder_gives_a_repository_error(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    import shutil

    shutil.rmtree(tmp_path / "repo")
    with pytest.raises(RepositoryError):
        repo.storage.write("index/" + "ab" * 32, b"x")
