"""Big decoded structures stay out of the garbage collector's way: collection pauses while a tree or an index is
built (and resumes after, also when pauses overlap), and decoded tree entries and index locations are never
tracked, so later collections do not walk 100,000s of them while holding the GIL."""

from __future__ import annotations

import gc

from console.core.gc_pause import paused_gc
from console.core.repository.packfile import BlobLocation, decode_index, encode_index
from console.core.repository.tree import Node, decode_tree, encode_tree


def test_collection_pauses_and_resumes_once_the_last_overlapping_pause_ends() -> None:
    assert gc.isenabled()
    outer = paused_gc()
    outer.__enter__()
    assert not gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()                  # the outer pause is still on
    outer.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_decoded_trees_and_index_locations_are_not_tracked() -> None:
    nodes = [Node(name=f"f{i}", type="file", mode=0o644, mtime=i, size=1, blobs=[bytes([i]) * 32]) for i in range(3)]
    nodes.append(Node(name="sub", type="dir", mode=0o755, tree=bytes(32)))
    decoded = decode_tree(encode_tree(nodes))
    assert [n.name for n in decoded] == ["f0", "f1", "f2", "sub"]
    assert not any(gc.is_tracked(n) for n in decoded)
    gc.collect()                                # tuples of bytes leave the tracked set at their first collection
    assert not any(gc.is_tracked(n.blobs) for n in decoded)
    assert decoded[1].blobs == (bytes([1]) * 32,)
    entries = decode_index(encode_index({b"p" * 32: [(b"a" * 32, BlobLocation(b"p" * 32, 0, 0, 10, 20))]}))
    assert entries == [(b"a" * 32, BlobLocation(b"p" * 32, 0, 0, 10, 20))]
    assert not gc.is_tracked(entries[0][1])
