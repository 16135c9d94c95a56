"""Files that change or vanish while a backup reads them: the point records what was read, the session warns,
nothing else is affected, and the next run picks up the new state."""

from __future__ import annotations

from pathlib import Path

from core.helpers import BACKUP_ID, RecordingEvents, new_repo, random_bytes
from core.helpers import backup as plain_backup

from console.core.engine.backup import backup_object
from console.core.engine.events import CancelToken
from console.core.engine.pipeline import BoundedPool
from console.core.engine.restore import restore_point
from console.core.repository.repo import PackWriter


class MutatingToken(CancelToken):
    """The engine checks its token before every block it reads: mutate the source at the 3rd check."""

    def __init__(self, mutate) -> None:
        super().__init__()
        self.calls, self.mutate = 0, mutate

    def check(self) -> None:
        self.calls += 1
        if self.calls == 3:
            self.mutate()
        super().check()


def test_growing_and_vanishing_files_warn_and_keep_what_was_read(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    grow, gone, stable = src / "a_grow.bin", src / "z_gone.txt", src / "m_stable.txt"
    grow.write_bytes(random_bytes(3 * 256 * 1024, 1))          # several blocks: checks happen while it is read
    gone.write_text("about to vanish")
    stable.write_text("stays as it is")

    def mutate() -> None:
        with open(grow, "ab") as f:
            f.write(b"appended while reading" * 1000)
        gone.unlink()

    repo = new_repo(tmp_path / "repo")
    events = RecordingEvents()
    with BoundedPool() as pool:
        doc, stats = backup_object(repo, PackWriter(repo), pool, str(src), BACKUP_ID, "job", None, events,
                                   MutatingToken(mutate))
    warnings = events.messages("warning")
    assert any("a_grow.bin changed while it was read" in w for w in warnings), warnings
    assert any("z_gone.txt" in w for w in warnings), warnings
    assert stats.warnings >= 2
    out = tmp_path / "out"
    restore_point(repo, doc, str(out))
    assert (out / "m_stable.txt").read_text() == "stays as it is"
    assert not (out / "z_gone.txt").exists()
    restored = (out / "a_grow.bin").read_bytes()
    assert grow.read_bytes().startswith(restored) and len(restored) >= 3 * 256 * 1024   # what was read, whole
    doc2, stats2 = plain_backup(repo, src, previous=doc)            # the next run sees the new state, no warning
    assert stats2.warnings == 0
    restore_point(repo, doc2, str(tmp_path / "out2"))
    assert (tmp_path / "out2" / "a_grow.bin").read_bytes() == grow.read_bytes()
