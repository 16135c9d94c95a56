"""Health check and garbage collection on real repositories: damage is found and attributed to the right restore
point, GC frees only what no remaining point references (and refuses to guess), re-indexing recovers packs
that lost their index."""

from __future__ import annotations

import os
from pathlib import Path

import blake3
import pytest
from core.helpers import (
    BACKUP_ID,
    KIB,
    OTHER_BACKUP_ID,
    PASSWORD,
    backup,
    new_repo,
    open_repo,
    pack_paths,
    random_bytes,
    repo_files,
    snapshot,
    write_file,
)

from console.core.engine.check import check_repository
from console.core.engine.gc import collect_garbage
from console.core.engine.references import point_blobs
from console.core.engine.restore import restore_point
from console.core.errors import RepositoryError
from console.core.repository.packfile import pack_name
from console.core.repository.repo import Repository

pytestmark = pytest.mark.timeout(60)


class Two:
    """Two points with disjoint data: A (backup BACKUP_ID) and B (backup OTHER_BACKUP_ID)."""

    def __init__(self, tmp_path: Path, password: str | None, shared: bytes | None = None) -> None:
        self.tmp, self.password = tmp_path, password
        self.repo_dir = tmp_path / "repo"
        self.repo = new_repo(self.repo_dir, password)
        self.src_a, self.src_b = tmp_path / "src-a", tmp_path / "src-b"
        write_file(self.src_a / "a1.bin", random_bytes(700 * KIB, 1))
        write_file(self.src_a / "sub" / "a2.txt", b"A text " * 1000)
        write_file(self.src_b / "b1.bin", random_bytes(500 * KIB, 2))
        write_file(self.src_b / "b2.txt", b"B text " * 1000)
        if shared is not None:
            write_file(self.src_a / "shared.bin", shared)
            write_file(self.src_b / "shared.bin", shared)
        self.a, self.stats_a = backup(self.repo, self.src_a, backup_id=BACKUP_ID)
        self.b, self.stats_b = backup(self.repo, self.src_b, backup_id=OTHER_BACKUP_ID)
        self.name_a, self.name_b = (self.repo.point_name(self.a), self.repo.point_name(self.b))

    def packs_of(self, doc) -> set[bytes]:
        blobs, errors = point_blobs(self.repo, bytes.fromhex(doc.root))
        assert not errors
        return {self.repo.index[b].pack for b in blobs}

    def pack_path(self, pid: bytes) -> Path:
        return self.repo_dir / pack_name(pid)

    def reopen(self) -> Repository:
        self.repo = open_repo(self.repo_dir, self.password)
        return self.repo

    def restores_identically(self, doc, src: Path, dest_name: str) -> bool:
        stats = restore_point(self.repo, doc, str(self.tmp / dest_name))
        return stats.errors == 0 and snapshot(self.tmp / dest_name) == snapshot(src)


@pytest.fixture(params=[None, PASSWORD], ids=["plain", "encrypted"])
def two(tmp_path: Path, request: pytest.FixtureRequest) -> Two:
    return Two(tmp_path, request.param)


@pytest.fixture
def two_plain(tmp_path: Path) -> Two:
    return Two(tmp_path, None)


def only_pack_of(two: Two, doc) -> Path:
    [pid] = two.packs_of(doc)
    return two.pack_path(pid)


# -- check ----------------------------------------------------------------------------------------------------


def test_healthy_repository_checks_clean(two: Two) -> None:
    assert two.packs_of(two.a).isdisjoint(two.packs_of(two.b))
    res = check_repository(two.repo, read_data=True)
    assert res.ok, res.errors
    assert set(res.points) == {two.a.id, two.b.id}
    assert res.packs_total == res.packs_read == 2
    assert res.bytes_read == sum(p.stat().st_size for p in pack_paths(two.repo_dir))
    assert not res.corrupted and not res.damaged_manifests and not res.bad_blobs


def test_flipped_byte_is_found_and_attributed(two: Two) -> None:
    pack = only_pack_of(two, two.a)
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0x01
    pack.write_bytes(bytes(data))
    assert check_repository(two.repo, read_data=False).ok          # structure is intact: only reading finds it
    res = check_repository(two.repo, read_data=True)
    assert not res.ok
    assert set(res.corrupted) == {two.a.id}
    assert len(res.bad_blobs) == 1
    assert any("is damaged" in e for e in res.errors)
    assert two.restores_identically(two.b, two.src_b, "dest-b")
    # restoring A reports the damaged file and restores the rest
    stats = restore_point(two.repo, two.a, str(two.tmp / "dest-a"))
    assert stats.errors == 1
    assert (two.tmp / "dest-a" / "sub" / "a2.txt").read_bytes() == b"A text " * 1000


def test_damage_outside_blocks_is_reported(two_plain: Two) -> None:
    """A byte of the trailer changed: every block still decodes, but the pack no longer matches its name."""
    two = two_plain
    pack = only_pack_of(two, two.a)
    data = bytearray(pack.read_bytes())
    data[-9] ^= 0x01                    # last byte of the (plain, zstd-compressed or raw) trailer
    pack.write_bytes(bytes(data))
    res = check_repository(two.repo, read_data=True)
    assert any("does not match its checksum" in e or "is damaged" in e for e in res.errors)


def test_deleted_pack_is_found_by_structural_check(two: Two) -> None:
    only_pack_of(two, two.a).unlink()
    res = check_repository(two.repo, read_data=False)
    assert any("is missing" in e for e in res.errors)
    assert set(res.corrupted) == {two.a.id}
    assert res.points.keys() == {two.a.id, two.b.id}
    assert two.restores_identically(two.b, two.src_b, "dest-b")


def test_truncated_pack_is_found_by_structural_check(two: Two) -> None:
    pack = only_pack_of(two, two.a)
    os.truncate(pack, pack.stat().st_size // 2)
    res = check_repository(two.repo, read_data=False)
    assert any("is truncated" in e for e in res.errors)
    assert set(res.corrupted) == {two.a.id}
    res = check_repository(two.repo, read_data=True)
    assert set(res.corrupted) == {two.a.id}


def _index_file_of(two: Two, doc) -> Path:
    from console.core.repository.packfile import decode_index
    pid = next(iter(two.packs_of(doc)))
    return next(p for p in repo_files(two.repo_dir, "index")
                if any(loc.pack == pid for _, loc in decode_index(two.repo.open_doc(p.read_bytes(), b"index"))))


def test_damaged_index_file(two: Two) -> None:
    assert len(repo_files(two.repo_dir, "index")) == 2
    idx_a = _index_file_of(two, two.a)
    data = bytearray(idx_a.read_bytes())
    data[len(data) // 2] ^= 0xFF
    idx_a.write_bytes(bytes(data))
    res = check_repository(two.repo, read_data=True)
    assert set(res.corrupted) == {two.a.id}                  # whatever the flip hit, A's data is not reachable
    if two.password:                                          # authenticated: the file itself is named
        assert any(f"index file index/{idx_a.name} is damaged" in e for e in res.errors)
    _assert_self_heals(two, idx_a)


def _assert_self_heals(two: Two, idx: Path) -> None:
    """The next writer re-indexes the packs from their trailers and drops the damaged file: nothing is lost."""
    two.reopen()
    assert two.repo.damaged_index == [f"index/{idx.name}"]
    two.repo.recover_unindexed_packs()
    # gone, or (plain repositories) rebuilt byte for byte under the same name
    assert not idx.exists() or blake3.blake3(idx.read_bytes()).hexdigest() == idx.name
    res = check_repository(two.reopen(), read_data=True)
    assert res.ok, res.errors
    assert not res.corrupted


def test_truncated_index_file(two: Two) -> None:
    idx_a = _index_file_of(two, two.a)
    os.truncate(idx_a, idx_a.stat().st_size - 7)
    res = check_repository(two.repo, read_data=True)
    assert any(f"index file index/{idx_a.name} is damaged" in e for e in res.errors)
    assert set(res.corrupted) == {two.a.id}
    _assert_self_heals(two, idx_a)


def test_plain_index_byte_flip_names_the_file(two_plain: Two) -> None:
    """Plain index files have no authentication: the file's name (the BLAKE3 of its bytes) and zstd's frame
    checksum tell it was damaged, wherever the flip lands."""
    two = two_plain
    idx_a = _index_file_of(two, two.a)
    data = bytearray(idx_a.read_bytes())
    assert data[:1] == b"\x01"                               # documents are zstd frames with a checksum
    data[len(data) // 2] ^= 0x01
    idx_a.write_bytes(bytes(data))
    res = check_repository(two.repo, read_data=True)
    assert set(res.corrupted) == {two.a.id}                 # the consequence is found...
    assert any(f"index file index/{idx_a.name}" in e for e in res.errors)   # ...and the damaged file named


def test_damaged_manifest_is_listed(two: Two) -> None:
    path = two.repo_dir / two.name_a
    data = path.read_bytes()
    # cut in half: a plain manifest has no checksum (a flipped byte inside its zstd frame can go unnoticed)
    path.write_bytes(data[: len(data) // 2])
    res = check_repository(two.repo, read_data=True)
    assert res.damaged_manifests == [two.name_a]
    assert set(res.points) == {two.b.id} and not res.corrupted
    assert any(two.name_a in e for e in res.errors)


def test_missing_tree_is_reported(two_plain: Two) -> None:
    """A point whose root tree's pack is gone is corrupted even in the structural check (no crash)."""
    two = two_plain
    for pid in two.packs_of(two.a):
        two.pack_path(pid).unlink()
    two.reopen()
    res = check_repository(two.repo)
    assert two.a.id in res.corrupted and two.b.id not in res.corrupted


# -- garbage collection ----------------------------------------------------------------------------------------


def test_gc_frees_packs_of_a_deleted_point(two: Two) -> None:
    pack_a, pack_b = only_pack_of(two, two.a), only_pack_of(two, two.b)
    size_a = pack_a.stat().st_size
    assert collect_garbage(two.repo).packs_deleted == 0            # nothing to collect yet
    two.repo.delete_point(two.name_a)
    stats = collect_garbage(two.repo)
    assert stats.packs_deleted == 1 and stats.packs_repacked == 0
    assert stats.bytes_freed == size_a > 0
    assert not pack_a.exists() and pack_b.exists()
    assert not (two.repo_dir / "backups" / BACKUP_ID).exists()      # emptied folders are tidied
    two.reopen()
    assert two.restores_identically(two.b, two.src_b, "dest-b")
    res = check_repository(two.repo, read_data=True)
    assert res.ok and set(res.points) == {two.b.id}
    assert collect_garbage(two.repo).packs_deleted == 0             # idempotent


def test_gc_repacks_a_mostly_garbage_pack(tmp_path: Path) -> None:
    shared = random_bytes(200 * KIB, 9)                          # < 50 % of A's pack: A's pack gets repacked
    two = Two(tmp_path, PASSWORD, shared=shared)
    pack_a = only_pack_of(two, two.a)
    assert bytes.fromhex(pack_a.name) in two.packs_of(two.b)      # B re-uses A's copy of shared.bin
    assert two.stats_b.new_raw < 600 * KIB                        # ...and did not store it again
    two.repo.delete_point(two.name_a)
    stats = collect_garbage(two.repo)
    assert stats.packs_repacked == 1 and stats.packs_deleted == 1
    assert not pack_a.exists()
    assert stats.bytes_freed > 700 * KIB
    two.reopen()
    assert bytes.fromhex(pack_a.name) not in two.packs_of(two.b)
    assert two.restores_identically(two.b, two.src_b, "dest-b")
    assert check_repository(two.repo, read_data=True).ok


def test_gc_with_small_packs_keeps_shared_ones(tmp_path: Path) -> None:
    """Many 1 MiB packs (PackWriter target): only packs with no live blob go, mixed ones are kept or repacked."""
    repo = new_repo(tmp_path / "repo", block_size=256 * KIB)
    src = tmp_path / "src"
    for i in range(6):
        write_file(src / f"f{i}.bin", random_bytes(700 * KIB, 100 + i))
    p1, _ = backup(repo, src, target_size=1 << 20)
    for i in range(3):                                            # point 2 keeps half of the files, adds one
        (src / f"f{i}.bin").unlink()
    write_file(src / "g.bin", random_bytes(300 * KIB, 200))
    p2, _ = backup(repo, src, previous=p1, target_size=1 << 20)
    packs_before = len(pack_paths(tmp_path / "repo"))
    assert packs_before >= 5
    repo.delete_point(repo.point_name(p1))
    stats = collect_garbage(repo)
    assert stats.packs_deleted >= 1 and stats.bytes_freed >= 1 << 20
    repo = open_repo(tmp_path / "repo")
    assert restore_point(repo, p2, str(tmp_path / "dest")).errors == 0
    assert snapshot(tmp_path / "dest") == snapshot(src)
    res = check_repository(repo, read_data=True)
    assert res.ok, res.errors
    after = sum(p.stat().st_size for p in pack_paths(tmp_path / "repo"))
    live = (3 * 700 + 300) * KIB
    assert live <= after < live + 600 * KIB                       # at most some garbage in packs worth keeping
    assert collect_garbage(repo).packs_deleted == 0


def test_gc_refuses_when_a_manifest_is_unreadable(two: Two) -> None:
    two.repo.delete_point(two.name_a)
    (two.repo_dir / two.name_b).write_bytes(b"garbage")
    packs = pack_paths(two.repo_dir)
    indexes = repo_files(two.repo_dir, "index")
    with pytest.raises(RepositoryError, match="garbage collection skipped"):
        collect_garbage(two.repo)
    assert pack_paths(two.repo_dir) == packs
    assert repo_files(two.repo_dir, "index") == indexes


def test_gc_refuses_when_a_tree_is_unreadable(two_plain: Two) -> None:
    two = two_plain
    write_file(two.src_b / "extra.txt", b"more")
    b2, _ = backup(two.repo, two.src_b, previous=two.b, backup_id=OTHER_BACKUP_ID)
    new_packs = two.packs_of(b2) - two.packs_of(two.b)
    assert len(new_packs) == 1
    two.pack_path(next(iter(new_packs))).unlink()                  # b2's new root tree is gone
    two.repo.delete_point(two.name_a)
    two.reopen()                                                   # no trees cached from the backup
    packs = pack_paths(two.repo_dir)
    with pytest.raises(RepositoryError, match="garbage collection skipped"):
        collect_garbage(two.repo)
    assert pack_paths(two.repo_dir) == packs


def test_gc_removes_leftover_temporary_files(two_plain: Two) -> None:
    two = two_plain
    write_file(two.repo_dir / "tmp" / "pack-deadbeef.tmp", b"half a pack")
    collect_garbage(two.repo)
    assert not repo_files(two.repo_dir, "tmp")


# -- re-indexing packs that lost their index -------------------------------------------------------------------


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])
def test_recover_unindexed_packs(tmp_path: Path, password: str | None) -> None:
    repo = new_repo(tmp_path / "repo", password)
    src = tmp_path / "src"
    write_file(src / "a.bin", random_bytes(900 * KIB, 5))
    write_file(src / "b.txt", b"text " * 5000)
    doc, s1 = backup(repo, src, target_size=1 << 20)
    for p in repo_files(tmp_path / "repo", "index"):                # as if the session died before its index
        p.unlink()
    repo = open_repo(tmp_path / "repo", password)
    assert not repo.index
    n = repo.recover_unindexed_packs()
    assert n == len(pack_paths(tmp_path / "repo")) >= 1
    assert repo.recover_unindexed_packs() == 0                      # now indexed
    doc2, s2 = backup(repo, src)
    assert s2.new_raw == 0 and s2.stored == 0
    assert doc2.root == doc.root
    repo = open_repo(tmp_path / "repo", password)                   # the recovered index was written to disk
    assert restore_point(repo, doc, str(tmp_path / "dest")).errors == 0
    assert snapshot(tmp_path / "dest") == snapshot(src)
    assert check_repository(repo, read_data=True).ok


def test_duplicate_blobs_after_lost_index_are_collected(tmp_path: Path) -> None:
    """Index lost, the next run stores everything again (duplicates), then the old packs are re-indexed: GC keeps
    one copy of each blob and both points still restore."""
    # encrypted: fresh nonces make the second pack differ from the first (a plain re-run may produce a
    # byte-identical pack, i.e. the very same file name, when the pool happens to append blocks in the same order)
    repo = new_repo(tmp_path / "repo", PASSWORD)
    src = tmp_path / "src"
    write_file(src / "a.bin", random_bytes(600 * KIB, 6))
    doc1, _ = backup(repo, src)
    for p in repo_files(tmp_path / "repo", "index"):
        p.unlink()
    repo = open_repo(tmp_path / "repo", PASSWORD)
    doc2, s2 = backup(repo, src)
    assert s2.new_raw >= 600 * KIB                                  # nothing known: stored again
    assert len(pack_paths(tmp_path / "repo")) == 2
    stats = collect_garbage(repo)                                   # re-indexes the first pack, then drops a copy
    assert stats.packs_deleted == 1 and stats.bytes_freed > 600 * KIB
    assert len(pack_paths(tmp_path / "repo")) == 1
    repo = open_repo(tmp_path / "repo", PASSWORD)
    for i, doc in enumerate((doc1, doc2)):
        assert restore_point(repo, doc, str(tmp_path / f"dest{i}")).errors == 0
        assert snapshot(tmp_path / f"dest{i}") == snapshot(src)
    assert check_repository(repo, read_data=True).ok


def test_gc_never_deletes_a_used_block_after_index_damage(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    src = tmp_path / "src"
    write_file(src / "a.bin", random_bytes(200 * KIB, 1))
    doc, _ = backup(repo, src)
    [idx] = repo_files(tmp_path / "repo", "index")
    data = bytearray(idx.read_bytes())
    data[len(data) // 2] ^= 0x04                                   # somewhere in its entries
    idx.write_bytes(bytes(data))
    repo = open_repo(tmp_path / "repo")
    try:
        collect_garbage(repo)
    except RepositoryError:
        pass                                                       # refusing is fine too
    for p in repo_files(tmp_path / "repo", "index"):               # rebuild the index from the packs
        p.unlink()
    repo = open_repo(tmp_path / "repo")
    repo.recover_unindexed_packs()
    assert restore_point(repo, doc, str(tmp_path / "dest")).errors == 0
    assert snapshot(tmp_path / "dest") == snapshot(src)


@pytest.mark.parametrize("merge_slice", [1, 2, 16_384])
def test_index_refuses_an_unknown_blob_type_and_keeps_the_first_location_of_a_block(tmp_path: Path, monkeypatch,
                                                                                   merge_slice: int) -> None:
    """decode_index checks every entry's type at once; load_index merges the files so that the first location of a
    block (file order, then entry order) wins, as a block stored twice by two writers must resolve the same way
    every time."""
    from console.core.errors import CorruptDataError
    from console.core.repository.packfile import DATA, TREE, BlobLocation, decode_index, encode_index

    bid, other = b"\x01" * 32, b"\x02" * 32
    first, second, third = BlobLocation(b"\xa1" * 32, DATA, 0, 10, 20), BlobLocation(b"\xa2" * 32, DATA, 5, 10, 20), \
        BlobLocation(b"\xa3" * 32, TREE, 9, 10, 20)
    data = encode_index({first.pack: [(bid, first)], second.pack: [(bid, second), (other, second)]})
    assert decode_index(data) == [(bid, first), (bid, second), (other, second)]
    bad = encode_index({first.pack: [(bid, first), (other, BlobLocation(first.pack, 7, 0, 1, 1))]})
    with pytest.raises(CorruptDataError, match="unknown blob type"):
        decode_index(bad)

    from console.core.repository import repo as repo_module
    monkeypatch.setattr(repo_module, "MERGE_SLICE", merge_slice)     # merged a slice at a time: the same answer
    repo = new_repo(tmp_path / "r")
    later = repo.write_index({third.pack: [(other, third), (bid, third)]})
    earlier = repo.write_index({first.pack: [(bid, first)], second.pack: [(bid, second), (other, second)]})
    assert later and earlier
    repo.load_index()
    names = sorted([later, earlier])
    by_file = {later: {other: third, bid: third}, earlier: {bid: first, other: second}}
    expected = by_file[names[1]] | by_file[names[0]]                  # the first file's locations win
    assert {k: repo.index[k] for k in (bid, other)} == expected
