"""Which blobs a restore point references: its trees and the data blocks they list.

Shared subtrees are visited once (memo), which also makes a hostile tree that references itself harmless.
"""

from __future__ import annotations

from collections.abc import Callable

from console.core.engine.events import CancelToken
from console.core.repository.repo import Repository
from console.core.repository.tree import DIR, FILE


def mark_point(repo: Repository, root: bytes, used: set[bytes], visited: set[bytes],
               on_tree_error: Callable[[bytes, Exception], None], cancel: CancelToken | None = None) -> None:
    """Add every blob reachable from tree `root` to `used`; trees already in `visited` are skipped."""
    stack = [root]
    while stack:
        tid = stack.pop()
        if tid in visited:
            continue
        visited.add(tid)
        used.add(tid)
        if cancel is not None:
            cancel.check()
        try:
            nodes = repo.load_tree(tid)
        except Exception as e:
            on_tree_error(tid, e)
            continue
        for n in nodes:
            if n.type == FILE:
                used.update(n.blobs)
            elif n.type == DIR and n.tree is not None:
                stack.append(n.tree)


def point_blobs(repo: Repository, root: bytes) -> tuple[set[bytes], list[str]]:
    """(all blobs of one point, errors met while reading its trees)."""
    used: set[bytes] = set()
    errors: list[str] = []
    mark_point(repo, root, used, set(), lambda tid, e: errors.append(f"tree {tid.hex()[:16]}: {e}"))
    return used, errors
