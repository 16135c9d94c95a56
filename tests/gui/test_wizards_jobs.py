"""The backup job and backup copy job wizards driven page by page (offscreen) against a real catalog, plus the
shared pieces: GFS dialog, retention editor and preview, copy window grid."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QDialog, QWizard

from console.core.catalog import Catalog
from console.core.engine.retention import PointRef, RetentionPolicy, evaluate
from console.core.model import Job, JobKind
from console.core.operations.repositories import add_local
from console.core.scheduling.specs import parse_window
from console.gui.wizards import backup_job, copy_job
from console.gui.wizards.backup_job import BackupJobWizard
from console.gui.wizards.copy_job import JOB, REPOSITORY, CopyJobWizard
from console.gui.wizards.widgets import GfsDialog, RetentionEditor, RetentionPreview, WindowEditor, simulate_retention

GFS = {"weekly": {"keep": 4, "day": "sunday"}, "monthly": {"keep": 12, "week": "last"}}


@pytest.fixture
def setup(data_dir: Path, tmp_path: Path) -> dict[str, Path]:
    """Three local repositories, two source folders, a backup job and a backup copy job."""
    folders = {name: tmp_path / "data" / name for name in ("documents", "projects", "mail")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    with Catalog.open(data_dir) as catalog:
        for name in ("Primary", "Secondary", "Offsite"):
            add_local(catalog, name, str(tmp_path / "repos" / name))
        catalog.add_job(Job(name="Mail", kind=JobKind.BACKUP, repository="Primary", sources=[str(folders["mail"])],
                            retention={"points": 7}, schedule={"spec": "daily 21:00"}))
        catalog.add_job(Job(name="Existing copy", kind=JobKind.COPY, repository="Offsite", retention={"points": 7},
                            options={"mode": "immediate", "interval": 86400}))
        catalog.add_job(Job(name="Copy into primary", kind=JobKind.COPY, repository="Primary",
                            retention={"points": 7}, options={"mode": "immediate", "interval": 86400}))
    return folders


def catalog_of(data_dir: Path) -> Catalog:
    return Catalog.open(data_dir)


def show(qtbot, wizard: QWizard) -> QWizard:
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def finish(wizard: QWizard) -> None:
    wizard.button(QWizard.WizardButton.FinishButton).click()


# ---------------------------------------------------------------------------------------------- backup job


def drive_backup_job(wizard: BackupJobWizard, folders: dict[str, Path]) -> None:
    wizard.name_page.name.setText("Documents")
    wizard.name_page.description.setText("Office documents")
    wizard.next()
    wizard.sources_page.folders.add_folder(str(folders["documents"]))
    wizard.sources_page.folders.add_folder(str(folders["projects"]))
    wizard.next()
    storage = wizard.storage_page
    storage.repository.setCurrentIndex(storage.repository.findData("Secondary"))
    storage.retention.count.setValue(14)
    storage.retention.unit.setCurrentIndex(storage.retention.unit.findData("days"))
    storage.retention.set_gfs(GFS)
    wizard.next()
    wizard.secondary_page.set_checked({"Existing copy"})
    wizard.next()
    schedule = wizard.schedule_page
    schedule.daily.setChecked(True)
    for day in (5, 6):                         # not on Saturday and Sunday
        schedule.days[day].setChecked(False)
    wizard.next()


def test_new_backup_job_end_to_end(qtbot, data_dir: Path, setup) -> None:
    wizard = show(qtbot, BackupJobWizard(data_dir))
    drive_backup_job(wizard, setup)
    assert wizard.currentId() == backup_job.PAGE_SUMMARY
    rows = dict(wizard.summary_page.summary.rows)
    assert rows["Schedule"] == "daily 22:00 mon-fri"
    assert rows["Secondary destinations"] == "Existing copy"
    assert rows["Retention"] == "14 days; GFS: 4 weekly (Sunday), 12 monthly (last week)"
    wizard.summary_page.run_now.setChecked(True)
    finish(wizard)

    assert wizard.result() == QDialog.DialogCode.Accepted
    assert (wizard.saved_name, wizard.run_now) == ("Documents", True)
    with catalog_of(data_dir) as catalog:
        job = catalog.get_job("Documents")
        assert job.kind == JobKind.BACKUP and job.repository == "Secondary"
        assert job.description == "Office documents"
        assert job.sources == [str(setup["documents"]), str(setup["projects"])]
        assert RetentionPolicy.from_dict(job.retention) == RetentionPolicy.from_dict({"days": 14, "gfs": GFS})
        assert job.schedule == {"spec": "daily 22:00 mon-fri"}
        assert catalog.linked_copy_jobs("Documents") == ["Existing copy"]


def test_backup_job_refusals(qtbot, data_dir: Path, setup, tmp_path: Path) -> None:
    wizard = show(qtbot, BackupJobWizard(data_dir))
    name = wizard.name_page
    wizard.next()
    assert name.error.message == "Enter a name for the job."
    name.name.setText("Mail")
    wizard.next()
    assert name.error.message == "A job named 'Mail' exists already: choose another name."
    assert name.invalid is name.name
    name.name.setText("Documents")
    assert name.error.isHidden()                # editing the field takes the stale message away
    wizard.next()

    sources = wizard.sources_page
    wizard.next()
    assert wizard.currentId() == backup_job.PAGE_SOURCES
    assert sources.error.message == "Add at least one folder to protect (Add folder…)."
    sources.folders.add_folder(str(tmp_path / "gone"))
    wizard.next()
    assert sources.error.message == f"The folder {tmp_path / 'gone'} does not exist: remove it or choose another."
    sources.folders.list.setCurrentRow(0)
    sources.folders.remove_selected()
    sources.folders.add_folder(str(tmp_path))   # holds the repositories: refused on the storage page
    wizard.next()

    storage = wizard.storage_page
    storage.repository.setCurrentIndex(storage.repository.findData("Primary"))
    wizard.next()
    assert "is inside the source" in storage.error.message
    wizard.back()
    sources.folders.set_folders([str(setup["documents"])])
    wizard.next()
    storage.retention.count.setValue(1)
    wizard.next()
    assert storage.error.message == "Retention must keep at least 2 restore points (got 1)"
    storage.retention.unit.setCurrentIndex(storage.retention.unit.findData("days"))
    wizard.next()
    assert storage.error.message == "Retention must keep at least 2 days (got 1)"
    storage.retention.count.setValue(2)
    storage.retention.set_gfs({})
    storage.retention.gfs_check.setChecked(True)        # archival on, but no tier chosen
    wizard.next()
    assert "no weekly, monthly or yearly tier is chosen" in storage.error.message
    storage.retention.gfs_check.setChecked(False)
    wizard.next()

    secondary = wizard.secondary_page
    secondary.set_checked({"Copy into primary"})        # copies into the job's own repository
    wizard.next()
    assert "a copy in the same place protects nothing" in secondary.error.message
    secondary.set_checked(set())
    wizard.next()

    schedule = wizard.schedule_page
    for box in schedule.days:
        box.setChecked(False)
    wizard.next()
    assert schedule.error.message == "Tick at least one weekday for the daily run, or choose another schedule."
    schedule.after.setChecked(True)
    schedule.after_job.setCurrentIndex(schedule.after_job.findData("Mail"))
    wizard.next()
    assert wizard.currentId() == backup_job.PAGE_SUMMARY
    finish(wizard)
    with catalog_of(data_dir) as catalog:
        job = catalog.get_job("Documents")
        assert job.schedule == {"spec": "after Mail"} and job.retention == {"days": 2, "min_points": 3}
        assert catalog.linked_copy_jobs("Documents") == []


def test_backup_job_back_keeps_values_and_cancel_saves_nothing(qtbot, data_dir: Path, setup) -> None:
    wizard = show(qtbot, BackupJobWizard(data_dir))
    drive_backup_job(wizard, setup)
    for _ in range(5):
        wizard.back()
    assert wizard.currentId() == backup_job.PAGE_NAME
    assert wizard.name_page.name.text() == "Documents"
    for _ in range(5):
        wizard.next()
    assert wizard.currentId() == backup_job.PAGE_SUMMARY
    assert wizard.sources_page.folders.folders() == [str(setup["documents"]), str(setup["projects"])]
    assert wizard.storage_page.repository.currentData() == "Secondary"
    assert wizard.storage_page.retention.policy_dict()["days"] == 14
    assert wizard.secondary_page.checked() == ["Existing copy"]
    assert wizard.schedule_page.spec() == "daily 22:00 mon-fri"
    wizard.reject()
    assert wizard.result() == QDialog.DialogCode.Rejected
    with catalog_of(data_dir) as catalog:
        assert [j.name for j in catalog.list_jobs(JobKind.BACKUP)] == ["Mail"]
        assert catalog.linked_backup_jobs("Existing copy") == []


def test_edit_backup_job_prefills_and_saves(qtbot, data_dir: Path, setup) -> None:
    with catalog_of(data_dir) as catalog:
        catalog.link_jobs("Mail", "Existing copy")
        job = catalog.get_job("Mail")
    wizard = show(qtbot, BackupJobWizard(data_dir, existing=job))
    assert wizard.windowTitle() == "Edit backup job — Mail"
    assert wizard.name_page.name.text() == "Mail" and wizard.name_page.name.isReadOnly()
    wizard.next()
    assert wizard.sources_page.folders.folders() == [str(setup["mail"])]
    wizard.sources_page.folders.add_folder(str(setup["projects"]))
    wizard.next()
    assert wizard.storage_page.repository.currentData() == "Primary"
    assert wizard.storage_page.retention.policy_dict() == {"points": 7, "min_points": 3}
    wizard.storage_page.retention.count.setValue(10)
    wizard.next()
    assert wizard.secondary_page.checked() == ["Existing copy"]
    wizard.secondary_page.set_checked(set())            # unlink
    wizard.next()
    assert wizard.schedule_page.spec() == "daily 21:00"
    wizard.schedule_page.every.setChecked(True)
    wizard.schedule_page.every_count.setValue(6)
    wizard.next()
    finish(wizard)
    assert wizard.result() == QDialog.DialogCode.Accepted and wizard.saved_name == "Mail" and not wizard.run_now
    with catalog_of(data_dir) as catalog:
        saved = catalog.get_job("Mail")
        assert saved.id == job.id
        assert saved.sources == [str(setup["mail"]), str(setup["projects"])]
        assert saved.retention["points"] == 10 and saved.schedule == {"spec": "every 6h"}
        assert catalog.linked_copy_jobs("Mail") == []


def test_edit_backup_job_cancel_changes_nothing(qtbot, data_dir: Path, setup) -> None:
    with catalog_of(data_dir) as catalog:
        before = catalog.get_job("Mail")
    wizard = show(qtbot, BackupJobWizard(data_dir, existing=before))
    wizard.name_page.description.setText("changed")
    wizard.next()
    wizard.sources_page.folders.set_folders([])
    wizard.reject()
    with catalog_of(data_dir) as catalog:
        assert catalog.get_job("Mail") == before


def test_clone_backup_job(qtbot, data_dir: Path, setup) -> None:
    with catalog_of(data_dir) as catalog:
        catalog.link_jobs("Mail", "Existing copy")
        original = catalog.get_job("Mail")
    wizard = show(qtbot, BackupJobWizard(data_dir, existing=original, clone=True))
    assert wizard.windowTitle() == "Clone backup job — Mail"
    assert wizard.name_page.name.text() == "Mail (copy)" and not wizard.name_page.name.isReadOnly()
    for _ in range(5):
        wizard.next()
    assert wizard.currentId() == backup_job.PAGE_SUMMARY
    finish(wizard)
    assert wizard.saved_name == "Mail (copy)"
    with catalog_of(data_dir) as catalog:
        clone = catalog.get_job("Mail (copy)")
        assert clone.id != original.id
        assert (clone.sources, clone.repository, clone.schedule) == (
            original.sources, original.repository, original.schedule)
        assert RetentionPolicy.from_dict(clone.retention) == RetentionPolicy.from_dict(original.retention)
        assert catalog.linked_copy_jobs("Mail (copy)") == ["Existing copy"]
        assert catalog.get_job("Mail") == original


def test_backup_job_with_no_copy_jobs_and_no_repositories(qtbot, data_dir: Path, tmp_path: Path) -> None:
    wizard = show(qtbot, BackupJobWizard(data_dir))
    wizard.name_page.name.setText("First")
    wizard.next()
    wizard.sources_page.folders.add_folder(str(tmp_path))
    wizard.next()
    assert wizard.storage_page.repository.count() == 0 and not wizard.storage_page.none_yet.isHidden()
    wizard.next()
    assert wizard.storage_page.error.message.startswith("Choose the repository for the restore points")


# ---------------------------------------------------------------------------------------------- copy job


def drive_copy_job(wizard: CopyJobWizard) -> None:
    wizard.name_page.name.setText("Off-site copy")
    wizard.name_page.description.setText("Archive at the branch office")
    wizard.name_page.periodic.setChecked(True)
    wizard.name_page.interval.setValue(12)
    wizard.next()
    wizard.sources_page.add_source(JOB, "Mail")
    wizard.sources_page.add_source(REPOSITORY, "Secondary")
    wizard.next()
    target = wizard.target_page
    target.repository.setCurrentIndex(target.repository.findData("Offsite"))
    target.retention.count.setValue(10)
    target.retention.set_gfs(GFS)
    wizard.next()
    wizard.next()                                      # preview
    advanced = wizard.advanced_page
    advanced.health.frequency.setCurrentIndex(advanced.health.frequency.findData("weekly"))
    advanced.health.weekday.setCurrentIndex(advanced.health.weekday.findData("saturday"))
    advanced.process_latest.setChecked(True)
    wizard.next()
    window = wizard.window_page
    window.limited.setChecked(True)
    window.editor.grid.set_grid(parse_window("mon-fri 20-06; sat,sun 0-24").as_lists())
    wizard.next()


def test_new_copy_job_end_to_end(qtbot, data_dir: Path, setup) -> None:
    wizard = show(qtbot, CopyJobWizard(data_dir))
    drive_copy_job(wizard)
    assert wizard.currentId() == copy_job.PAGE_SUMMARY
    rows = dict(wizard.summary_page.summary.rows)
    assert rows["Mode"] == "periodic: the latest restore point every 12h"
    assert rows["Sources"] == "job Mail\nrepository Secondary (all its backup jobs)"
    assert rows["Copy window"] == ("Copying allowed — Mon: 20:00–24:00; Tue–Fri: 00:00–06:00, 20:00–24:00; "
                                   "Sat, Sun: all day")
    finish(wizard)

    assert wizard.result() == QDialog.DialogCode.Accepted
    assert (wizard.saved_name, wizard.run_now) == ("Off-site copy", False)
    with catalog_of(data_dir) as catalog:
        job = catalog.get_job("Off-site copy")
        assert job.kind == JobKind.COPY and job.repository == "Offsite"
        assert job.description == "Archive at the branch office"
        assert catalog.linked_backup_jobs("Off-site copy") == ["Mail"]
        assert job.sources == ["repo:Secondary"]
        assert RetentionPolicy.from_dict(job.retention) == RetentionPolicy.from_dict({"points": 10, "gfs": GFS})
        options = job.options
        assert options["mode"] == "periodic" and options["interval"] == 12 * 3600
        assert parse_window(options["window"]) == parse_window("mon-fri 20-06; sat,sun 0-24")
        assert options["health_check"] == "weekly saturday 05:00"
        assert options["process_latest"] is True and options["copy_history"] is False


def test_copy_job_refusals(qtbot, data_dir: Path, setup) -> None:
    wizard = show(qtbot, CopyJobWizard(data_dir))
    name = wizard.name_page
    name.name.setText("Existing copy")
    wizard.next()
    assert name.error.message == "A job named 'Existing copy' exists already: choose another name."
    name.name.setText("New copy")
    name.periodic.setChecked(True)
    name.interval.setValue(2)
    name.interval_unit.setCurrentIndex(name.interval_unit.findData("m"))
    wizard.next()
    assert name.error.message == "The copy interval must be between 5 minutes and 31 days."
    name.interval_unit.setCurrentIndex(name.interval_unit.findData("h"))
    wizard.next()

    sources = wizard.sources_page
    wizard.next()
    assert sources.error.message == "Add at least one source: a backup job or a repository (Add ▾)."
    sources.add_source(JOB, "Mail")                    # Mail writes to Primary
    sources.add_source(REPOSITORY, "Secondary")
    assert not sources.add_source(JOB, "Mail")         # listed once
    wizard.next()

    target = wizard.target_page
    target.repository.setCurrentIndex(target.repository.findData("Primary"))
    wizard.next()
    assert target.error.message.startswith("'Primary' holds the backups of the source job 'Mail'")
    target.repository.setCurrentIndex(target.repository.findData("Secondary"))
    wizard.next()
    assert target.error.message.startswith("'Secondary' is a source repository of this job")
    target.repository.setCurrentIndex(target.repository.findData("Offsite"))
    target.retention.count.setValue(1)
    wizard.next()
    assert target.error.message == "Retention must keep at least 2 restore points (got 1)"
    target.retention.count.setValue(3)
    wizard.next()
    wizard.next()
    wizard.next()

    window = wizard.window_page
    window.limited.setChecked(True)
    window.editor.deny_all.click()
    wizard.next()
    assert window.error.message.startswith("The copy window allows no hour at all")
    window.editor.allow_all.click()
    wizard.next()
    assert wizard.currentId() == copy_job.PAGE_SUMMARY
    finish(wizard)
    with catalog_of(data_dir) as catalog:
        assert catalog.get_job("New copy").options["window"] is None      # every hour allowed: no window


def test_copy_job_sources_from_pickers(qtbot, data_dir: Path, setup) -> None:
    wizard = show(qtbot, CopyJobWizard(data_dir))
    wizard.name_page.name.setText("Picked")
    wizard.next()
    page = wizard.sources_page

    def choose(names: set[str]) -> None:
        assert page.picker is not None
        page.picker.set_checked(names)
        page.picker.accept()

    QTimer.singleShot(0, lambda: choose({"Mail"}))
    page.add_jobs_action.trigger()
    QTimer.singleShot(0, lambda: choose({"Offsite"}))
    page.add_repos_action.trigger()
    assert page.sources() == [(JOB, "Mail"), (REPOSITORY, "Offsite")]
    picker = page.job_picker()                          # what is listed already is not offered again
    assert picker.list.count() == 0
    picker = page.repository_picker()
    assert {picker.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(picker.list.count())} == {
        "Primary", "Secondary"}
    page.list.setCurrentRow(1)
    page.remove_selected()
    assert page.sources() == [(JOB, "Mail")]


def test_copy_job_back_keeps_values_and_cancel_saves_nothing(qtbot, data_dir: Path, setup) -> None:
    wizard = show(qtbot, CopyJobWizard(data_dir))
    drive_copy_job(wizard)
    for _ in range(6):
        wizard.back()
    assert wizard.currentId() == copy_job.PAGE_NAME
    assert wizard.name_page.periodic.isChecked() and wizard.name_page.interval_text() == "12h"
    for _ in range(6):
        wizard.next()
    assert wizard.currentId() == copy_job.PAGE_SUMMARY
    assert wizard.sources_page.sources() == [(JOB, "Mail"), (REPOSITORY, "Secondary")]
    assert wizard.target_page.repository.currentData() == "Offsite"
    assert wizard.advanced_page.health.spec() == "weekly saturday 05:00"
    assert wizard.window_page.spec() == "mon-fri 20-06; sat,sun 00-24"
    wizard.reject()
    with catalog_of(data_dir) as catalog:
        assert [j.name for j in catalog.list_jobs(JobKind.COPY)] == ["Copy into primary", "Existing copy"]
        assert catalog.linked_copy_jobs("Mail") == []


def test_edit_copy_job_prefills_and_saves(qtbot, data_dir: Path, setup) -> None:
    with catalog_of(data_dir) as catalog:
        job = catalog.get_job("Existing copy")
        job.sources = ["repo:Secondary"]
        job.retention = {"days": 30, "gfs": {"yearly": {"keep": 3, "month": "march"}}}
        job.options = {"mode": "periodic", "interval": 2 * 86400, "window": "daily 22-06",
                       "health_check": "never", "process_latest": True}
        catalog.update_job(job)
        catalog.link_jobs("Mail", "Existing copy")
        job = catalog.get_job("Existing copy")
    wizard = show(qtbot, CopyJobWizard(data_dir, existing=job))
    assert wizard.name_page.name.isReadOnly()
    assert wizard.name_page.periodic.isChecked() and wizard.name_page.interval_text() == "2d"
    wizard.next()
    assert wizard.sources_page.sources() == [(JOB, "Mail"), (REPOSITORY, "Secondary")]
    wizard.sources_page.list.setCurrentRow(0)
    wizard.sources_page.remove_selected()              # unlink Mail
    wizard.next()
    assert wizard.target_page.repository.currentData() == "Offsite"
    assert wizard.target_page.retention.policy_dict()["gfs"] == {"yearly": {"keep": 3, "month": "march"}}
    wizard.next()
    wizard.next()
    assert not wizard.advanced_page.health.enabled.isChecked()
    assert wizard.advanced_page.process_latest.isChecked()
    wizard.next()
    assert wizard.window_page.limited.isChecked() and wizard.window_page.spec() == "daily 22-06"
    wizard.window_page.any_time.setChecked(True)
    wizard.next()
    finish(wizard)
    assert wizard.result() == QDialog.DialogCode.Accepted
    with catalog_of(data_dir) as catalog:
        saved = catalog.get_job("Existing copy")
        assert saved.id == job.id and saved.sources == ["repo:Secondary"]
        assert catalog.linked_backup_jobs("Existing copy") == []
        assert saved.options["window"] is None and saved.options["health_check"] == "never"
        assert saved.options["interval"] == 2 * 86400
        assert saved.retention["days"] == 30


def test_clone_copy_job(qtbot, data_dir: Path, setup) -> None:
    with catalog_of(data_dir) as catalog:
        catalog.link_jobs("Mail", "Existing copy")
        original = catalog.get_job("Existing copy")
    wizard = show(qtbot, CopyJobWizard(data_dir, existing=original, clone=True))
    assert wizard.name_page.name.text() == "Existing copy (copy)"
    for _ in range(6):
        wizard.next()
    assert wizard.currentId() == copy_job.PAGE_SUMMARY
    finish(wizard)
    with catalog_of(data_dir) as catalog:
        clone = catalog.get_job("Existing copy (copy)")
        assert clone.repository == "Offsite" and clone.kind == JobKind.COPY
        assert catalog.linked_backup_jobs("Existing copy (copy)") == ["Mail"]
        assert catalog.linked_backup_jobs("Existing copy") == ["Mail"]


def test_wrong_kind_is_refused(data_dir: Path, setup) -> None:
    with catalog_of(data_dir) as catalog:
        copy, backup = catalog.get_job("Existing copy"), catalog.get_job("Mail")
    with pytest.raises(Exception, match="backup copy job wizard"):
        BackupJobWizard(data_dir, existing=copy)
    with pytest.raises(Exception, match="backup job wizard"):
        CopyJobWizard(data_dir, existing=backup)


# ---------------------------------------------------------------------------------------------- shared pieces


def test_gfs_dialog_round_trip(qtbot) -> None:
    dialog = GfsDialog({"monthly": {"keep": 6, "week": "second"}, "yearly": {"keep": 2, "month": "december"}})
    qtbot.addWidget(dialog)
    assert not dialog.weekly.isChecked() and not dialog.weekly_keep.isEnabled()
    assert dialog.monthly_week.currentData() == "second" and dialog.yearly_month.currentData() == "december"
    dialog.weekly.setChecked(True)
    dialog.weekly_keep.setValue(8)
    dialog.weekly_day.setCurrentIndex(dialog.weekly_day.findData("friday"))
    dialog.yearly.setChecked(False)
    assert dialog.gfs() == {"weekly": {"keep": 8, "day": "friday"}, "monthly": {"keep": 6, "week": "second"}}


def test_retention_editor_uses_the_gfs_dialog(qtbot) -> None:
    editor = RetentionEditor()
    qtbot.addWidget(editor)
    assert editor.policy_dict() == {"points": 7, "min_points": 3}

    def configure() -> None:
        dialog = editor.findChild(GfsDialog)
        dialog.yearly.setChecked(True)
        dialog.yearly_month.setCurrentIndex(dialog.yearly_month.findData("june"))
        dialog.buttons.accepted.emit()

    editor.gfs_check.setChecked(True)
    QTimer.singleShot(0, configure)
    editor.gfs_button.click()
    assert editor.policy_dict()["gfs"] == {"weekly": {"keep": 4, "day": "sunday"},
                                           "yearly": {"keep": 5, "month": "june"}}
    assert "5 yearly (June)" in editor.gfs_label.text()


def test_simulated_retention_matches_the_engine() -> None:
    start = date(2026, 1, 1)
    days = simulate_retention({"points": 7}, start, days=60)
    assert [d.day for d in days if d.keep] == [start + timedelta(days=n) for n in range(53, 60)]
    assert all(d.reasons == ["short-term"] for d in days if d.keep)
    assert days[0].deleted_on == start + timedelta(days=7)        # the 8th run deletes the first point

    policy = {"days": 7, "gfs": {"weekly": {"keep": 4, "day": "sunday"}}}
    days = simulate_retention(policy, start, days=90)
    kept = [d for d in days if d.keep]
    assert sum(1 for d in kept if "short-term" in d.reasons) == 8   # today + 7 previous days
    weekly = [d.day for d in kept if "W" in d.reasons]
    assert len(weekly) == 4 and all(d.weekday() == 6 for d in weekly)
    # The same chain, evaluated once by the engine on the last day, keeps the same points.
    tz = datetime.now().astimezone().tzinfo
    chain = [PointRef(str(i), datetime.combine(d.day, datetime.min.time(), tz).replace(hour=22))
             for i, d in enumerate(days) if d.keep]
    last = datetime.combine(days[-1].day, datetime.min.time(), tz).replace(hour=22, minute=5)
    assert all(decision.keep for decision in evaluate(RetentionPolicy.from_dict(policy), chain, last, tz))


def test_retention_preview_widget(qtbot) -> None:
    preview = RetentionPreview(start=lambda: date(2026, 3, 1), days=120)
    qtbot.addWidget(preview)
    with qtbot.waitSignal(preview.updated, timeout=20_000):
        preview.set_policy({"points": 5, "gfs": {"monthly": {"keep": 2, "week": "first"}}})
    assert len(preview.result) == 120
    assert sum(d.keep for d in preview.result) == 5 + 2
    assert "7 restore points are kept" in preview.summary.text()
    assert preview.calendar.day_at(QPoint(0, 0)) is None
    cell = preview.calendar._cell(date(2026, 3, 1)).center()
    assert preview.calendar.day_at(cell).day == date(2026, 3, 1)
    with qtbot.waitSignal(preview.updated, timeout=20_000):
        preview.set_policy(None)
    assert preview.result == [] and "Fix the retention settings" in preview.summary.text()


def test_window_grid_click_drag_keyboard(qtbot) -> None:
    editor = WindowEditor()
    qtbot.addWidget(editor)
    editor.show()
    grid = editor.grid
    assert grid.grid() == [[True] * 24 for _ in range(7)]
    assert editor.description.text() == "Copying is allowed at any time."
    # Drag across Monday 08:00-11:00: the first cell decides (allowed -> denied) for the whole drag.
    start, end = grid.cell_rect(0, 8).center(), grid.cell_rect(0, 11).center()
    qtbot.mousePress(grid, Qt.MouseButton.LeftButton, pos=start)
    for hour in range(9, 12):
        qtbot.mouseMove(grid, grid.cell_rect(0, hour).center())
    qtbot.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=end)
    assert [h for h in range(24) if not grid.grid()[0][h]] == [8, 9, 10, 11]
    assert editor.description.text().startswith("Copying allowed — Mon: 00:00–08:00, 12:00–24:00")
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(0, 9).center())
    assert grid.grid()[0][9]
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Down)               # cursor from Monday 09 to Tuesday 09
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert not grid.grid()[1][9]
    editor.deny_all.click()
    assert not any(any(row) for row in grid.grid())
    assert "no copy would ever run" in editor.description.text()
    editor.allow_all.click()
    assert all(all(row) for row in grid.grid())
