"""Every command of the console as a QAction: toolbar, menus and context menus share them, and they enable
themselves from what is selected. Handlers call core operations off the GUI thread (or start runs through the
Runner) and ask for a refresh when the catalog changed."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QInputDialog, QMenu, QWidget

from console.core.catalog import Catalog
from console.core.errors import ConsoleError
from console.core.model import Job, JobKind, PointState
from console.core.operations.repositories import remove_repository
from console.core.units import plural
from console.gui.catalog_access import with_catalog
from console.gui.dialogs import PropertiesDialog, confirm, show_error, show_info
from console.gui.formatting import human_size, local_time
from console.gui.models.backups import ObjectRow
from console.gui.models.repositories import KIND_LABELS
from console.gui.resources import resource_icon
from console.gui.runner import Run
from console.gui.snapshot import BackupRow, JobRow, PointRow, RepositoryRow

if TYPE_CHECKING:
    from console.gui.main_window import MainWindow

log = logging.getLogger(__name__)


@dataclass
class Selection:
    """What the current page has selected (at most one thing of each kind)."""

    page: str = "home"
    job: JobRow | None = None
    backup: BackupRow | None = None
    object: str | None = None
    point: PointRow | None = None
    paths: list[str] = field(default_factory=list)
    repository: RepositoryRow | None = None
    session: Any = None


class Actions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window

        def act(name: str, text: str, icon: str | None, slot: Callable[[], None], tip: str = "",
                shortcut: str | QKeySequence.StandardKey | None = None) -> QAction:
            action = QAction(resource_icon(icon) if icon else resource_icon("properties"), text, window)
            action.setObjectName(name)
            if tip:
                action.setToolTip(tip)
                action.setStatusTip(tip)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False: self._guard(slot))
            setattr(self, name, action)
            return action

        act("new_repository", "New Repository…", "repository", self.do_new_repository,
            "Add a repository: a local folder or a folder on a server over SFTP", "Ctrl+Shift+R")
        act("new_backup_job", "New Backup Job…", "job", self.do_new_backup_job,
            "Create a backup job that protects folders", QKeySequence.StandardKey.New)
        act("new_copy_job", "New Backup Copy Job…", "copy-job", self.do_new_copy_job,
            "Create a backup copy job that copies restore points to another repository", "Ctrl+Shift+N")
        act("start", "Start", "start", self.do_start, "Run the selected job now", "Ctrl+R")
        act("stop", "Stop", "stop", self.do_stop, "Stop the selected run (finished restore points are kept)",
            "Ctrl+.")
        act("active_full", "Active Full", "active-full", self.do_active_full,
            "Run the backup job reading every file again (no change detection)")
        act("sync_now", "Sync Now", "sync", self.do_sync_now,
            "Copy new restore points now, even outside the copy window")
        act("copy_all", "Copy All Restore Points Now", "sync", self.do_copy_all,
            "Copy every restore point of the sources not copied yet, not only the newest")
        act("health_check", "Health Check", "check", self.do_health_check,
            "Verify the copies of this backup copy job by reading them back")
        act("edit", "Edit…", "edit", self.do_edit, "Change the selected job or repository", "Ctrl+E")
        act("toggle_enabled", "Disable", "disable", self.do_toggle_enabled,
            "A disabled job is not run by the scheduler (you can still start it by hand)")
        act("clone", "Clone…", "clone", self.do_clone, "Create a new job with the same settings")
        act("delete_job", "Delete Job…", "delete", self.do_delete_job,
            "Delete the selected job (its backups stay and are listed as orphaned)", QKeySequence.StandardKey.Delete)
        act("show_session", "Show Session", "history", self.do_show_session,
            "Statistics, objects and log of the selected run", "Ctrl+L")
        act("restore", "Restore…", "restore", self.do_restore, "Restore files from the selected restore point",
            "Ctrl+Shift+O")
        act("browse", "Browse Files", "browse", self.do_browse, "Show the files of the selected restore point")
        act("properties", "Properties", "properties", self.do_properties, "Details of the selected item", "Alt+Return")
        act("delete_from_disk", "Delete from Disk…", "delete", self.do_delete_from_disk,
            "Delete the backup's files from the repository and forget it")
        act("remove_from_config", "Remove from Configuration…", "delete", self.do_remove_from_config,
            "Forget the backup in the console; its files stay in the repository (a rescan imports them again)")
        act("forget_missing", "Forget Missing Restore Points…", "point-missing", self.do_forget_missing,
            "Remove restore points the repository no longer has from the console")
        act("remove_missing_disk", "Remove Missing Restore Points from Disk…", "point-missing",
            self.do_remove_missing_from_disk, "Also delete whatever is left of the missing restore points")
        act("rescan", "Rescan", "rescan", self.do_rescan,
            "Read the repository again: import backups it holds, mark points that are gone as missing")
        act("check_repo", "Check", "check", self.do_check_repository,
            "Verify the repository's structure and index (quick)")
        act("verify_repo", "Verify All Data", "check", self.do_verify_repository,
            "Read, decrypt and re-hash every block of the repository (slow)")
        act("remove_repo", "Remove Repository…", "delete", self.do_remove_repository,
            "Forget the repository in the console; its files stay where they are")
        act("offsite", "Off-site Location", "offsite", self.do_toggle_offsite,
            "Mark the repository as being at another location (counts for the 3-2-1 rule)")
        self.offsite.setCheckable(True)
        act("refresh", "Refresh", "refresh", self.w.refresh, "Read the catalog again", QKeySequence.StandardKey.Refresh)
        self.remove_missing_menu = QMenu("Remove Missing Restore Points", window)
        self.remove_missing_menu.setIcon(resource_icon("point-missing"))
        self.remove_missing_menu.addAction(self.forget_missing)
        self.remove_missing_menu.addAction(self.remove_missing_disk)
        self.selection = Selection()

    # -- plumbing --------------------------------------------------------------------------------------------
    def _guard(self, slot: Callable[[], None]) -> None:
        try:
            slot()
        except ConsoleError as e:
            show_error(self.w, "Cannot do that", e)

    def _background(self, title: str, fn: Callable[..., Any], *args: Any, done: str = "",
                    after: Callable[[Any], None] | None = None) -> None:
        """Run fn(catalog, *args) off the GUI thread; then refresh, say `done` in the status bar, or show the error."""
        self.w.busy(f"{title}…")

        def on_done(result: Any) -> None:
            self.w.busy("")
            if done:
                self.w.statusBar().showMessage(done, 8000)
            # `after` runs once the views show the new catalog state (it may select what was just made)
            self.w.refresh(after=(lambda: after(result)) if after is not None else None)

        def on_error(error: BaseException) -> None:
            self.w.busy("")
            show_error(self.w, title, error)
            self.w.refresh()

        with_catalog(self.w.data_dir, fn, *args, on_done=on_done, on_error=on_error, owner=self.w)

    @property
    def snapshot(self) -> Any:
        return self.w.snapshot

    def _job(self) -> JobRow:
        if self.selection.job is None:
            raise ConsoleError("select a job first")
        return self.selection.job

    # -- enabling ---------------------------------------------------------------------------------------------
    def update(self, selection: Selection) -> None:
        self.selection = s = selection
        runner = self.w.runner
        has_repo = bool(self.snapshot and self.snapshot.repositories)
        self.new_backup_job.setEnabled(has_repo)
        self.new_copy_job.setEnabled(has_repo)
        for action in (self.new_backup_job, self.new_copy_job):
            action.setToolTip(action.statusTip() if has_repo else "Add a repository first")

        job = s.job
        run = runner.job_run(job.name) if job else None
        is_backup = job is not None and job.job.kind == JobKind.BACKUP
        is_copy = job is not None and job.job.kind == JobKind.COPY
        self.start.setEnabled(job is not None and run is None)
        session_run = self._session_run()
        self.stop.setEnabled((run is not None and run.status == "running") or
                             (session_run is not None and session_run.status == "running"))
        self.active_full.setEnabled(is_backup and run is None)
        self.sync_now.setEnabled(is_copy and run is None)
        self.copy_all.setEnabled(is_copy and run is None)
        self.health_check.setEnabled(is_copy and run is None)
        self.clone.setEnabled(job is not None)
        self.delete_job.setEnabled(job is not None and run is None)
        self.toggle_enabled.setEnabled(job is not None)
        enabled = job is None or job.job.enabled
        self.toggle_enabled.setText("Disable" if enabled else "Enable")
        self.toggle_enabled.setIcon(resource_icon("disable" if enabled else "enable"))
        self.show_session.setEnabled((job is not None and (job.last_session is not None or
                                                           runner.latest_for_job(job.name) is not None))
                                     or s.session is not None)
        repo = s.repository
        self.edit.setEnabled(job is not None or repo is not None)
        point = s.point
        usable_point = point is not None and point.point.state != PointState.MISSING
        self.restore.setEnabled(usable_point or (s.backup is not None and self._newest_point(s.backup) is not None))
        self.browse.setEnabled(usable_point)
        self.properties.setEnabled(point is not None or s.backup is not None or repo is not None)
        backup = s.backup
        self.delete_from_disk.setEnabled(backup is not None)
        self.remove_from_config.setEnabled(backup is not None)
        has_missing = backup is not None and backup.missing > 0
        self.forget_missing.setEnabled(has_missing)
        self.remove_missing_disk.setEnabled(has_missing)
        self.remove_missing_menu.setEnabled(has_missing)
        self.rescan.setEnabled(repo is not None or backup is not None)
        self.check_repo.setEnabled(repo is not None and runner.get(f"check:{repo.name}") is None)
        self.verify_repo.setEnabled(repo is not None and runner.get(f"check:{repo.name}") is None)
        self.remove_repo.setEnabled(repo is not None)
        self.offsite.setEnabled(repo is not None)
        self.offsite.setChecked(bool(repo and repo.offsite))

    def _session_run(self) -> Run | None:
        s = self.selection.session
        if s is None or s.status.finished:
            return None
        return self.w.runner.job_run(s.job)

    def _newest_point(self, backup: BackupRow) -> PointRow | None:
        rows = self.snapshot.points.get(backup.id, []) if self.snapshot else []
        obj = self.selection.object
        return next((r for r in rows if r.point.state != PointState.MISSING and (obj is None or r.point.object == obj)),
                    None)

    # -- context menus ----------------------------------------------------------------------------------------
    def menu_for(self, kind: str) -> QMenu:
        menu = QMenu(self.w)
        add = menu.addAction
        if kind == "job":
            job = self.selection.job
            add(self.start)
            add(self.stop)
            if job is not None and job.job.kind == JobKind.BACKUP:
                add(self.active_full)
            else:
                add(self.sync_now)
                add(self.copy_all)
                add(self.health_check)
            menu.addSeparator()
            add(self.show_session)
            add(self.edit)
            add(self.toggle_enabled)
            add(self.clone)
            menu.addSeparator()
            add(self.delete_job)
        elif kind == "backup":
            add(self.restore)
            add(self.properties)
            menu.addSeparator()
            add(self.rescan)
            if self.selection.backup is not None and self.selection.backup.missing:
                menu.addMenu(self.remove_missing_menu)
            menu.addSeparator()
            add(self.delete_from_disk)
            add(self.remove_from_config)
        elif kind == "point":
            add(self.restore)
            add(self.browse)
            add(self.properties)
        elif kind == "file":
            restore_selected = menu.addAction(resource_icon("restore"), "Restore Selected…")
            restore_selected.triggered.connect(lambda: self._guard(lambda: self.do_restore(paths=self.selection.paths)))
            restore_selected.setEnabled(bool(self.selection.paths))
            add(self.restore)
        elif kind == "repository":
            add(self.rescan)
            add(self.check_repo)
            add(self.verify_repo)
            menu.addSeparator()
            add(self.edit)
            add(self.offsite)
            add(self.properties)
            menu.addSeparator()
            add(self.remove_repo)
        elif kind == "session":
            add(self.show_session)
            add(self.stop)
        return menu

    def popup(self, kind: str, pos: QPoint) -> QMenu:
        menu = self.menu_for(kind)
        menu.popup(pos)
        return menu

    # -- wizards (another module; imported when used) -----------------------------------------------------------
    def _wizard(self, module: str, cls: str, existing: Any = None) -> None:
        try:
            wizard_type = getattr(importlib.import_module(f"console.gui.wizards.{module}"), cls)
        except (ImportError, AttributeError) as e:
            log.warning("wizard %s.%s not available: %s", module, cls, e)
            show_info(self.w, "Not available", "This wizard is not part of this version yet.")
            return
        wizard = wizard_type(self.w.data_dir, parent=self.w, existing=existing)
        if wizard.exec() != QDialog.DialogCode.Accepted:
            return
        name = getattr(wizard, "saved_name", "")
        self.w.statusBar().showMessage(f"Saved {name}" if name else "Saved", 8000)
        if getattr(wizard, "run_now", False) and name:
            self.w.refresh(after=lambda: self.start_by_name(name))
        else:
            self.w.refresh()

    def do_new_repository(self) -> None:
        self._wizard("repository", "RepositoryWizard")

    def do_new_backup_job(self) -> None:
        self._wizard("backup_job", "BackupJobWizard")

    def do_new_copy_job(self) -> None:
        self._wizard("copy_job", "CopyJobWizard")

    def do_edit(self) -> None:
        s = self.selection
        if s.job is not None:
            module, cls = (("backup_job", "BackupJobWizard") if s.job.job.kind == JobKind.BACKUP
                           else ("copy_job", "CopyJobWizard"))
            self._wizard(module, cls, existing=s.job.job)
        elif s.repository is not None:
            self._wizard("repository", "RepositoryWizard", existing=s.repository.repo)

    # -- jobs ----------------------------------------------------------------------------------------------
    def start_by_name(self, name: str, **options: Any) -> Run | None:
        row = self.snapshot.job(name) if self.snapshot else None
        if row is None:
            show_error(self.w, "Cannot start", f"there is no job named {name!r} any more")
            return None
        try:
            run = self.w.runner.start_job(name, row.job.kind, sources=len(row.job.sources), defer=True, **options)
        except ConsoleError as e:
            show_error(self.w, f"Cannot start {name}", e)
            return None
        # the window first, then the engine: its busy start-up would otherwise slow the first paint
        self.w.open_run(run).when_painted(run.begin)
        return run

    def do_start(self) -> None:
        self.start_by_name(self._job().name)

    def do_active_full(self) -> None:
        self.start_by_name(self._job().name, active_full=True)

    def do_sync_now(self) -> None:
        self.start_by_name(self._job().name, ignore_window=True)

    def do_copy_all(self) -> None:
        self.start_by_name(self._job().name, ignore_window=True, sync_all=True)

    def do_health_check(self) -> None:
        name = self._job().name
        try:
            run = self.w.runner.start_health_check(name)
        except ConsoleError as e:
            show_error(self.w, f"Cannot check {name}", e)
            return
        self.w.open_run(run)

    def do_stop(self) -> None:
        s = self.selection
        run = self.w.runner.job_run(s.job.name) if s.job else self._session_run()
        if run is not None:
            run.stop()
            self.w.statusBar().showMessage(f"Stopping {run.title}…", 8000)

    def do_show_session(self) -> None:
        s = self.selection
        if s.session is not None:
            self.w.open_session(s.session)
            return
        job = self._job()
        run = self.w.runner.latest_for_job(job.name)
        if run is not None and (run.running or job.last_session is None or
                                (run.session is not None and run.session.id >= job.last_session.id)):
            self.w.open_run(run)
        elif job.last_session is not None:
            self.w.open_session(job.last_session)

    def do_toggle_enabled(self) -> None:
        job = self._job().job
        enable = not job.enabled

        def work(catalog: Catalog, name: str) -> None:
            fresh = catalog.get_job(name)
            fresh.enabled = enable
            catalog.update_job(fresh)

        self._background("Change job", work, job.name,
                         done=f"Job {job.name} {'enabled' if enable else 'disabled: the scheduler skips it'}")

    def do_clone(self) -> None:
        job = self._job().job
        existing = {j.name for j in self.snapshot.jobs} if self.snapshot else set()
        suggestion = f"{job.name} (copy)"
        n = 2
        while suggestion in existing:
            suggestion = f"{job.name} (copy {n})"
            n += 1
        name, ok = QInputDialog.getText(self.w, "Clone job", f"Name of the new job (a copy of {job.name}):",
                                        text=suggestion)
        if not ok or not name.strip():
            return

        def work(catalog: Catalog, src: str, new: str) -> Job:
            from console.core.operations.jobs import clone_job
            return clone_job(catalog, src, new)

        self._background("Clone job", work, job.name, name.strip(), done=f"Created job {name.strip()}",
                         after=lambda j: self.w.select_job(j.name))

    def do_delete_job(self) -> None:
        row = self._job()
        job = row.job
        backups = [b for b in (self.snapshot.backups if self.snapshot else []) if b.backup.job == job.name]
        items = [f"Job {job.name} ({'backup' if job.kind == JobKind.BACKUP else 'backup copy'} job)"]
        if row.linked:
            items.append(f"Its links to {', '.join(row.linked)}")
        note = ("Its backups stay in their repositories and are listed under Backups > Orphaned "
                f"({plural(len(backups), 'backup')}, {plural(sum(b.points for b in backups), 'restore point')}); "
                "delete them "
                "there when you no longer need them.")
        yes, _ = confirm(self.w, "Delete job", f"Delete the job {job.name}?", items, note, yes_text="Delete Job")
        if not yes:
            return

        def work(catalog: Catalog, name: str) -> None:
            catalog.delete_job(name)          # links go with it; backups stay (orphaned)

        self._background("Delete job", work, job.name, done=f"Deleted job {job.name}; its backups are orphaned")

    # -- backups and points ----------------------------------------------------------------------------------
    def _backup(self) -> BackupRow:
        if self.selection.backup is None:
            raise ConsoleError("select a backup first")
        return self.selection.backup

    def do_restore(self, paths: list[str] | None = None) -> None:
        s = self.selection
        point = s.point if s.point is not None and s.point.point.state != PointState.MISSING else None
        if point is None and s.backup is not None:
            point = self._newest_point(s.backup)
        if point is None:
            raise ConsoleError("select a restore point (or a backup with usable restore points) first")
        self.w.open_restore(point.point.id, paths or [])

    def do_browse(self) -> None:
        self.w.focus_files()

    def do_properties(self) -> None:
        s = self.selection
        if s.point is not None and s.page == "backups" and self.w.focus_is_points():
            self._point_properties(s.point)
        elif s.backup is not None and s.page == "backups":
            self._backup_properties(s.backup)
        elif s.point is not None:
            self._point_properties(s.point)
        elif s.repository is not None:
            self._repository_properties(s.repository)

    def _point_properties(self, row: PointRow) -> None:
        p = row.point
        backup = self.snapshot.backup(p.backup) if self.snapshot else None
        rows = [("Restore point", p.id), ("Created", local_time(p.created, seconds=True)),
                ("Object", p.object), ("Job", backup.backup.job if backup else ""),
                ("Repository", backup.backup.repository if backup else ""), ("Backup", p.backup),
                ("Type", "Full (all data read)" if p.type.value == "full" else "Increment (changed data read)"),
                ("State", p.state.value), ("GFS flags", ", ".join(p.gfs) or "none"),
                ("Data size", human_size(p.data_size)), ("Stored by this point", human_size(p.stored_size)),
                ("Files", f"{p.files:,}"), ("Copied from", row.source_label or "— (made by a backup job)"),
                ("Manifest", p.manifest)]
        PropertiesDialog(f"Restore point {local_time(p.created)}", rows, self.w).exec()

    def _backup_properties(self, b: BackupRow) -> None:
        rows = [("Backup", b.id), ("Job", b.backup.job + (" (deleted: orphaned)" if b.orphaned else "")),
                ("Type", "Backup copy" if b.backup.kind == JobKind.COPY else "Backup"),
                ("Repository", b.backup.repository), ("Created", local_time(b.backup.created)),
                ("Objects", "\n".join(b.objects) or "none"), ("Restore points", str(b.points)),
                ("Missing", str(b.missing)), ("Corrupted", str(b.corrupted)), ("With GFS flags", str(b.gfs)),
                ("Stored", human_size(b.stored)), ("Newest point", local_time(b.newest)),
                ("Copied from", b.source_label or "—")]
        PropertiesDialog(f"Backup of {b.backup.job}", rows, self.w).exec()

    def _repository_properties(self, r: RepositoryRow) -> None:
        repo = r.repo
        block = repo.options.get("block_size")
        rows = [("Name", repo.name), ("Type", KIND_LABELS.get(repo.kind, repo.kind)), ("Location", repo.location),
                ("Repository id", repo.repo_uid), ("Encrypted", "yes (password in the keyring)" if repo.encrypted
                                                   else "no"),
                ("Block size", human_size(block) if isinstance(block, int) else "—"),
                ("Compression level", str(repo.options.get("compression", "—"))),
                ("Media", r.media), ("Off-site", "yes" if r.offsite else "no"), ("Backups", str(r.backups)),
                ("Restore points", str(r.points)), ("Stored", human_size(r.stored)),
                ("Used by jobs", ", ".join(r.jobs) or "none"), ("Added", local_time(repo.created))]
        PropertiesDialog(f"Repository {repo.name}", rows, self.w).exec()

    def _point_lines(self, b: BackupRow, only_missing: bool = False) -> list[str]:
        rows = self.snapshot.points.get(b.id, []) if self.snapshot else []
        out = []
        for r in rows:
            p = r.point
            if only_missing and p.state != PointState.MISSING:
                continue
            gfs = f" [{' '.join(p.gfs)}]" if p.gfs else ""
            out.append(f"{local_time(p.created)}  {p.object}  ({p.type.value}, {p.state.value}){gfs}")
        return out

    def do_delete_from_disk(self) -> None:
        b = self._backup()
        gfs = b.gfs
        yes, remove_gfs = confirm(
            self.w, "Delete backup from disk",
            f"Delete the backup of {b.backup.job} from repository {b.backup.repository}?",
            self._point_lines(b),
            note=f"{_count(b.points, 'restore point')} {'is' if b.points == 1 else 'are'} deleted from the "
                 "repository's disk and the space is freed. This cannot be undone.",
            yes_text="Delete from Disk",
            checkbox=f"Also delete the {_count(gfs, 'GFS (archive) restore point')}" if gfs else None,
            checkbox_tip="Unticked, restore points kept for weekly/monthly/yearly archival stay")
        if not yes:
            return
        keep_gfs = bool(gfs) and not remove_gfs

        def work(catalog: Catalog, backup_id: str, keep: bool) -> Any:
            from console.core.operations.backups import delete_backup
            return delete_backup(catalog, backup_id, from_disk=True, keep_gfs=keep)

        self._background("Delete backup", work, b.id, keep_gfs, after=self._session_result)

    def do_remove_from_config(self) -> None:
        b = self._backup()
        yes, _ = confirm(
            self.w, "Remove backup from configuration",
            f"Remove the backup of {b.backup.job} in {b.backup.repository} from the configuration?",
            [f"Backup {b.id} with {plural(b.points, 'restore point')} (catalog entries only)"],
            note="The files stay in the repository; a rescan of the repository imports them again.",
            yes_text="Remove from Configuration", destructive=False)
        if not yes:
            return

        def work(catalog: Catalog, backup_id: str) -> Any:
            from console.core.operations.backups import delete_backup
            return delete_backup(catalog, backup_id, from_disk=False)

        self._background("Remove backup", work, b.id, after=self._session_result)

    def _remove_missing(self, from_disk: bool) -> None:
        b = self._backup()
        if not b.missing:
            raise ConsoleError("this backup has no missing restore points")
        what = "Remove from disk" if from_disk else "Forget"
        note = ("They are removed from the console and whatever is left of them in the repository is deleted."
                if from_disk else "They are removed from the console only; the repository is not touched.")
        yes, _ = confirm(self.w, "Remove missing restore points",
                         f"{what} the {plural(b.missing, 'missing restore point')} of {b.backup.job}?",
                         self._point_lines(b, only_missing=True), note=note,
                         yes_text=f"{what}")
        if not yes:
            return

        def work(catalog: Catalog, backup_id: str) -> Any:
            from console.core.operations.backups import remove_missing_points
            return remove_missing_points(catalog, backup_id, from_disk=from_disk)

        self._background("Remove missing restore points", work, b.id, after=self._session_result)

    def do_forget_missing(self) -> None:
        self._remove_missing(False)

    def do_remove_missing_from_disk(self) -> None:
        self._remove_missing(True)

    def _session_result(self, session: Any) -> None:
        if session is None:
            return
        if session.status.value == "failed":
            show_error(self.w, "Failed", session.error or "the operation failed (see the session log)")
        else:
            last = session.log[-1].message if session.log else session.status.value
            self.w.statusBar().showMessage(last, 10000)

    # -- repositories ---------------------------------------------------------------------------------------
    def _repository_name(self) -> str:
        s = self.selection
        if s.repository is not None:
            return s.repository.name
        if s.backup is not None:
            return s.backup.backup.repository
        raise ConsoleError("select a repository first")

    def do_rescan(self) -> None:
        name = self._repository_name()
        try:
            run = self.w.runner.start_rescan(name)
        except ConsoleError as e:
            show_error(self.w, "Cannot rescan", e)
            return
        self.w.statusBar().showMessage(f"Rescanning {name}…")
        run.ended.connect(self._rescan_done)       # a method: disconnected by Qt if the window goes first

    def _rescan_done(self, run: Run) -> None:
        res = run.result
        if run.status == "failed":
            show_error(self.w, f"Rescan of {run.job}", run.error or "the rescan failed")
        elif res is not None:
            self.w.statusBar().showMessage(
                f"Rescan of {run.job}: {plural(res.backups_imported, 'backup')} and "
                f"{plural(res.points_imported, 'restore point')} imported, {res.points_missing} missing, "
                f"{res.points_back} back", 12000)

    def do_check_repository(self) -> None:
        self._check(False)

    def do_verify_repository(self) -> None:
        self._check(True)

    def _check(self, read_data: bool) -> None:
        name = self._repository_name()
        try:
            run = self.w.runner.start_check(name, read_data)
        except ConsoleError as e:
            show_error(self.w, "Cannot check", e)
            return
        self.w.open_run(run)

    def do_remove_repository(self) -> None:
        r = self.selection.repository
        if r is None:
            raise ConsoleError("select a repository first")
        if r.jobs:
            which, them = ("job", "that job or point it") if len(r.jobs) == 1 else ("jobs", "those jobs or point them")
            raise ConsoleError(f"repository {r.name} is used by {which} {', '.join(r.jobs)}: delete {them} at "
                               "another repository first")
        items = [f"Repository {r.name} ({r.repo.location})"]
        if r.backups:
            items.append(f"{plural(r.backups, 'backup')} with {plural(r.points, 'restore point')} "
                         "(catalog entries only)")
        yes, _ = confirm(self.w, "Remove repository", f"Remove the repository {r.name} from the configuration?",
                         items, note="Its files stay where they are; add it again and rescan to use them.",
                         yes_text="Remove Repository")
        if not yes:
            return

        def work(catalog: Catalog, name: str) -> None:
            remove_repository(catalog, name)        # the catalog entry and every secret kept for it

        self._background("Remove repository", work, r.name, done=f"Removed repository {r.name}")

    def do_toggle_offsite(self) -> None:
        r = self.selection.repository
        if r is None:
            return
        offsite = not r.offsite

        def work(catalog: Catalog, name: str) -> None:
            repo = catalog.get_repository(name)
            repo.options = {**repo.options, "offsite": offsite}
            catalog.update_repository(repo)

        self._background("Change repository", work, r.name,
                         done=f"Repository {r.name} is now {'off-site' if offsite else 'on-site'}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def menu_actions(menu: QMenu) -> dict[str, QAction]:
    """Text → action of a menu (tests and the main window's keyboard handling use it)."""
    return {a.text(): a for a in menu.actions() if not a.isSeparator()}


__all__ = ["Actions", "Selection", "menu_actions", "ObjectRow", "QWidget"]
