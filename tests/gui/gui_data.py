"""Real data for the GUI tests, made through the core operations as an admin would (no hand-written rows):
local repositories, a backup job over a small tmp folder, a linked backup copy job, and their runs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from console.core.catalog import Catalog
from console.core.model import Session, SessionStatus
from console.core.operations import jobs, maintenance
from console.core.operations.repositories import add_local


@dataclass
class World:
    data_dir: Path
    source: Path
    other_source: Path
    primary: Path          # repository folders
    offsite: Path


def make_source(folder: Path, files: int = 6, size: int = 20_000, seed: int = 1) -> Path:
    (folder / "docs" / "reports").mkdir(parents=True, exist_ok=True)
    (folder / "photos").mkdir(exist_ok=True)
    for i in range(files):
        sub = ("docs", "docs/reports", "photos")[i % 3]
        (folder / sub / f"file{i}.bin").write_bytes(os.urandom(size) if seed else bytes(size))
    (folder / "readme.txt").write_text("the source folder of the GUI tests\n")
    return folder


def make_big_source(folder: Path, megabytes: int) -> Path:
    """Incompressible files of 4 MB each (the engine takes a while over them: long enough to watch and stop)."""
    make_source(folder, files=3)
    for i in range(max(1, megabytes // 4)):
        (folder / "photos" / f"big{i}.raw").write_bytes(os.urandom(4 << 20))
    return folder


def make_world(tmp_path: Path, data_dir: Path, *, runs: int = 1, copy: bool = True, copy_run: bool = True,
               offsite: bool = True, megabytes: int = 0) -> World:
    """Two repositories (primary, offsite), backup job `docs` (two sources) linked to copy job `docs-offsite`,
    `runs` backup runs (the files change between runs) and one copy run."""
    source = make_big_source(tmp_path / "src", megabytes) if megabytes else make_source(tmp_path / "src")
    other = make_source(tmp_path / "src2", files=3)
    world = World(data_dir, source, other, tmp_path / "repo-primary", tmp_path / "repo-offsite")
    with Catalog.open(data_dir) as cat:
        add_local(cat, "primary", str(world.primary))
        add_local(cat, "offsite", str(world.offsite))
        if offsite:
            repo = cat.get_repository("offsite")
            repo.options = {**repo.options, "offsite": True, "media": "removable disk"}
            cat.update_repository(repo)
        jobs.add_backup_job(cat, "docs", "primary", [str(source), str(other)], retention={"points": 7},
                            schedule="daily 22:00 mon-fri", description="Office documents and photos")
        if copy:
            jobs.add_copy_job(cat, "docs-offsite", "offsite", from_jobs=["docs"], retention={"points": 7},
                              copy_history=True)
        for n in range(runs):
            if n:
                (source / "docs" / f"new{n}.txt").write_text(f"change {n}\n" * 100)
            session = jobs.run_job(cat, "docs", data_dir)
            assert session.status == SessionStatus.SUCCESS, session.error
        if copy and runs and copy_run:
            session = jobs.run_job(cat, "docs-offsite", data_dir)
            assert session.status == SessionStatus.SUCCESS, session.error
    return world


def make_missing_point(world: World) -> str:
    """Delete the newest restore point's manifest of job docs from the primary repository, then rescan: the
    catalog marks it missing. Returns its id."""
    with Catalog.open(world.data_dir) as cat:
        backup = cat.find_backup("primary", "docs")
        assert backup is not None
        point = cat.list_points(backup=backup.id)[-1]
        (world.primary / point.manifest).unlink()
        maintenance.rescan(cat, "primary")
        assert cat.get_point(point.id).state.value == "missing"
    return point.id


def sessions(data_dir: Path) -> list[Session]:
    with Catalog.open(data_dir) as cat:
        return cat.list_sessions()


def answer_dialog(action: Callable[[QWidget], None], timeout: float = 10.0) -> None:
    """Answer the next modal dialog: `action(dialog)` runs once one is open (e.g. click its Yes button)."""
    deadline = time.monotonic() + timeout

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and dialog.isVisible():
            action(dialog)
        elif time.monotonic() < deadline:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)


def open_window(qtbot, data_dir: Path, *, wait: bool = True, **kwargs: object):
    """A shown MainWindow on data_dir (scheduler off unless asked); runs and scheduler are stopped before
    pytest-qt closes it, so no worker outlives the window."""
    from console.gui.main_window import MainWindow

    kwargs.setdefault("start_scheduler", False)
    w = MainWindow(data_dir=data_dir, **kwargs)
    qtbot.addWidget(w, before_close_func=lambda widget: widget.shutdown())
    w.show()
    qtbot.waitExposed(w)
    if wait:
        qtbot.waitUntil(lambda: w.snapshot is not None, timeout=10_000)
    return w



def shown_backups_page(qtbot, data_dir: Path):  # noqa: ANN001 - pytest-qt's fixture
    """A Backups page on screen (offscreen), with the catalog's snapshot and its first backup selected."""
    from console.gui.browser import BackupsPage
    from console.gui.snapshot import load_snapshot

    page = BackupsPage(data_dir)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    qtbot.waitExposed(page)
    with Catalog.open(data_dir) as cat:
        page.set_snapshot(load_snapshot(cat))
    assert page.select_backup(page.snapshot.backups[0].id)
    return page
