"""The repositories table."""

from __future__ import annotations

from console.gui.formatting import human_size
from console.gui.models.table import Column, RecordTableModel
from console.gui.resources import resource_icon

KIND_LABELS = {"local": "Local folder", "sftp": "SFTP server", "s3": "Object storage"}


def repositories_model() -> RecordTableModel:
    columns = [
        Column("Name", lambda r: r.name, icon=lambda r: resource_icon("repository"), width=130),
        Column("Type", lambda r: KIND_LABELS.get(r.repo.kind, r.repo.kind), width=100),
        Column("Location", lambda r: r.repo.location, width=220),
        Column("Media", lambda r: r.media, header_tip="The kind of media, for the 3-2-1 rule", width=110),
        Column("Off-site", lambda r: "Yes" if r.offsite else "No", icon=lambda r: resource_icon("offsite")
               if r.offsite else None, header_tip="Whether the repository is at another location (3-2-1 rule)",
               width=70),
        Column("Encrypted", lambda r: "Yes" if r.repo.encrypted else "No", width=75),
        Column("Backups", lambda r: str(r.backups), sort=lambda r: r.backups, right=True, width=65),
        Column("Restore points", lambda r: str(r.points), sort=lambda r: r.points, right=True, width=95),
        Column("Missing", lambda r: str(r.missing) if r.missing else "—", sort=lambda r: r.missing, right=True,
               header_tip="Restore points the catalog knows but the repository no longer has", width=65),
        Column("Stored", lambda r: human_size(r.stored), sort=lambda r: r.stored, right=True, width=80),
        Column("Used by jobs", lambda r: ", ".join(r.jobs) or "—", width=150),
    ]
    return RecordTableModel(columns, key=lambda r: r.name)
