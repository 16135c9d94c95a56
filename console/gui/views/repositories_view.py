"""Backup Infrastructure > Repositories: where backups are stored."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from console.core.units import plural
from console.gui.formatting import human_size
from console.gui.models.repositories import KIND_LABELS, repositories_model
from console.gui.snapshot import RepositoryRow
from console.gui.views.record_page import RecordPage
from console.gui.views.widgets import EmptyState


def describe_repository(r: RepositoryRow) -> str:
    repo = r.repo
    lines = [f"<b>{escape(r.name)}</b>: {KIND_LABELS.get(repo.kind, repo.kind)} at {escape(repo.location)}"
             + (" (encrypted, password in the keyring)" if repo.encrypted else " (not encrypted)"),
             f"{plural(r.backups, 'backup')}, {plural(r.points, 'restore point')}, {human_size(r.stored)} stored. "
             f"Media: {escape(r.media)}; {'off-site' if r.offsite else 'on-site'}."]
    if r.missing:
        are = "is" if r.missing == 1 else "are"
        lines.append(f"<span style='color:#C62828'>{plural(r.missing, 'restore point')} {are} missing: rescan the "
                     f"repository, then remove the missing points from the backup's menu.</span>")
    return "<br>".join(lines)


class RepositoriesPage(RecordPage):
    def __init__(self, add_repository: Callable[[], None]) -> None:
        empty = EmptyState("No repositories yet. A repository is where restore points are stored: a local "
                           "folder (e.g. a second disk) or a folder on a server over SFTP.",
                           [("Add Repository…", "repository", add_repository)], icon="repository")
        super().__init__("Repositories", "Where backups are stored. Keep at least one repository off-site "
                         "(3-2-1 rule). Right-click for rescan, health check, edit and remove.",
                         repositories_model(), "Filter repositories", empty)
        self.describe = describe_repository
        self.set_noun("repository", "repositories")
