"""Deleting backups (from disk, or from the configuration only) and removing missing restore points."""

from __future__ import annotations

import logging

from console.core.catalog import Catalog
from console.core.engine.events import CancelToken, Events
from console.core.engine.gc import collect_garbage
from console.core.errors import ConsoleError, RepositoryError, UsageError
from console.core.model import Backup, PointState, Session
from console.core.operations.repositories import open_repository
from console.core.operations.retention import retention_doc_name
from console.core.operations.sessions import SessionRecorder, run_session
from console.core.repository.locks import EXCLUSIVE
from console.core.units import plural

log = logging.getLogger(__name__)
LOCK_WAIT = 600.0


def describe_backup(catalog: Catalog, backup: Backup) -> str:
    points = catalog.list_points(backup=backup.id)
    gfs = sum(1 for p in points if p.gfs)
    return (f"backup {backup.id} of job '{backup.job}' in repository '{backup.repository}': "
            f"{plural(len(points), 'restore point')}{f', {gfs} with GFS flags' if gfs else ''}")


def delete_backup(catalog: Catalog, backup_id: str, *, from_disk: bool, keep_gfs: bool = False,
                  events: Events | None = None, cancel: CancelToken | None = None) -> Session:
    """from_disk: delete the points' files (all, or all but GFS-flagged ones) and free their space, then forget them.
    Otherwise: forget the backup in the catalog only; its files stay and `repo rescan` imports them again."""
    backup = catalog.get_backup(backup_id)
    if keep_gfs and not from_disk:
        raise UsageError("--keep-gfs goes with --from-disk")

    def body(rec: SessionRecorder) -> None:
        points = catalog.list_points(backup=backup.id)
        if not from_disk:
            catalog.delete_backup(backup.id)
            rec.log("info", f"removed backup {backup.id} ({plural(len(points), 'restore point')}) from the "
                            f"configuration; its files stay in {backup.repository} (repo rescan imports them again)")
            rec.stats.update(points_removed=len(points), points_kept=0, from_disk=False)
            return
        try:
            _, repo = open_repository(catalog, backup.repository)
        except RepositoryError as e:
            raise RepositoryError(f"{e} — to forget the backup without touching its files, use "
                                  "--from-configuration") from None
        with repo, repo.lock(EXCLUSIVE, f"delete backup {backup.id}", timeout=LOCK_WAIT):
            on_disk = {}
            for name, doc in repo.iter_points(backup.id):
                if not isinstance(doc, Exception):
                    on_disk[doc.id] = name
            kept = [p for p in points if keep_gfs and p.gfs and p.state != PointState.MISSING]
            kept_ids = {p.id for p in kept}
            removed = 0
            for p in points:
                if p.id in kept_ids:
                    continue
                name = on_disk.pop(p.id, None) or p.manifest
                if name:
                    repo.delete_point(name)
                catalog.delete_point(p.id)
                removed += 1
            if not keep_gfs:
                for name in on_disk.values():          # points on disk the catalog did not know
                    repo.delete_point(name)
                    removed += 1
            if not kept:
                repo.storage.delete(retention_doc_name(backup.id))
                repo.storage.delete(f"backups/{backup.id}/backup.json")
                catalog.delete_backup(backup.id)
            stats = collect_garbage(repo, rec, cancel)
        rec.log("info", f"deleted {plural(removed, 'restore point')} of backup {backup.id} from {backup.repository}"
                        + (f"; kept {plural(len(kept), 'GFS point')}" if kept else "")
                        + f"; {stats.bytes_freed} bytes freed")
        rec.stats.update(points_removed=removed, points_kept=len(kept), bytes_freed=stats.bytes_freed,
                         from_disk=True)

    session, _ = run_session(catalog, backup.job, "delete", body, events, cancel)
    return session


def remove_missing_points(catalog: Catalog, backup_id: str, *, from_disk: bool, events: Events | None = None,
                          cancel: CancelToken | None = None) -> Session:
    """Forget the backup's *missing* points (only those); from_disk also deletes whatever is left of them."""
    backup = catalog.get_backup(backup_id)
    missing = catalog.list_points(backup=backup.id, state=PointState.MISSING)

    def body(rec: SessionRecorder) -> None:
        if not missing:
            rec.log("info", f"backup {backup.id} has no missing restore points")
            rec.stats.update(points_removed=0)
            return
        if from_disk:
            try:
                _, repo = open_repository(catalog, backup.repository)
            except RepositoryError as e:
                raise RepositoryError(f"{e} — to forget the missing points without touching the repository, use "
                                      "--forget") from None
            with repo, repo.lock(EXCLUSIVE, f"remove missing points of {backup.id}", timeout=LOCK_WAIT):
                for p in missing:
                    if p.manifest and repo.storage.exists(p.manifest):
                        repo.delete_point(p.manifest)
                    catalog.delete_point(p.id)
                try:
                    collect_garbage(repo, rec, cancel)
                except ConsoleError as e:   # the points are gone either way; space comes back with the next GC
                    rec.log("warning", f"space not reclaimed yet: {e}")
        else:
            for p in missing:
                catalog.delete_point(p.id)
        for p in missing:
            rec.log("info", f"removed missing restore point {p.id} of {p.created:%Y-%m-%d %H:%M}", p.object)
        rec.stats.update(points_removed=len(missing), from_disk=from_disk)

    session, _ = run_session(catalog, backup.job, "remove-missing", body, events, cancel)
    return session
