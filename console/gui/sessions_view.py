"""History > Sessions and Home > Last 24 hours: every run with filters; a double-click opens the same detail
view as live progress (statistics, objects, log)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from console.core.model import Session
from console.gui.formatting import KIND_LABELS, STATUS_LABELS, now_utc
from console.gui.models.sessions import sessions_model
from console.gui.views.record_page import RecordPage
from console.gui.views.widgets import EmptyState

PERIODS = [("Last 24 hours", timedelta(hours=24)), ("Last 7 days", timedelta(days=7)),
           ("Last 30 days", timedelta(days=30)), ("Any time", None)]
STATUSES = ["running", "success", "warning", "failed", "stopped"]
ALL = "All"


class SessionsPage(RecordPage):
    def __init__(self) -> None:
        empty = EmptyState("No sessions match. Every job run, restore, rescan and health check is listed here "
                           "with its statistics and log.", icon="history")
        super().__init__("Sessions", "Every run of a job, restore, rescan and health check. Double-click one to "
                         "see its statistics, objects and log.", sessions_model(), "Filter sessions", empty)
        self.set_noun("session", "sessions")
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)      # newest first
        self.now = now_utc
        self.status = self._combo("Status", [(ALL, None)] + [(STATUS_LABELS[s], s) for s in STATUSES])
        self.kind = self._combo("Type", [(ALL, None)] + [(label, kind) for kind, label in KIND_LABELS.items()])
        self.job = self._combo("Job", [("All jobs", None)])
        self.period = self._combo("Period", [(label, delta) for label, delta in PERIODS])
        self.period.setCurrentIndex(len(PERIODS) - 1)
        for combo in (self.status, self.kind, self.job, self.period):
            combo.currentIndexChanged.connect(self._apply)
        self._apply()

    def _combo(self, caption: str, items: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox()
        for label, value in items:
            combo.addItem(label, value)
        combo.setToolTip(f"Show only sessions of this {caption.lower()}")
        self.toolbar_row.insertWidget(self.toolbar_row.count() - 1, QLabel(f"{caption}:"))
        self.toolbar_row.insertWidget(self.toolbar_row.count() - 1, combo)
        return combo

    def set_sessions(self, sessions: list[Session], job_names: list[str]) -> None:
        current = self.job.currentData()
        wanted = [None, *sorted(set(job_names) | {s.job for s in sessions})]
        have = [self.job.itemData(i) for i in range(self.job.count())]
        if wanted != have:
            self.job.blockSignals(True)
            self.job.clear()
            for name in wanted:
                self.job.addItem("All jobs" if name is None else name, name)
            self.job.setCurrentIndex(max(0, self.job.findData(current)) if current is not None else 0)
            self.job.blockSignals(False)
        self.set_records(sessions)
        self._apply()

    def show_filter(self, status: str | None = None, last_24_hours: bool = False, job: str | None = None) -> None:
        """What a navigation item asks for: Last 24 hours > Failed is (failed, True)."""
        for combo in (self.status, self.kind, self.job, self.period):
            combo.blockSignals(True)
        self.status.setCurrentIndex(max(0, self.status.findData(status)) if status else 0)
        self.kind.setCurrentIndex(0)
        self.job.setCurrentIndex(max(0, self.job.findData(job)) if job else 0)
        self.period.setCurrentIndex(0 if last_24_hours else len(PERIODS) - 1)
        for combo in (self.status, self.kind, self.job, self.period):
            combo.blockSignals(False)
        if last_24_hours:
            label = STATUS_LABELS.get(status or "", "")
            self.title.setText(f"Last 24 hours{': ' + label if label else ''}")
        else:
            self.title.setText("Sessions")
        self._apply()

    def _apply(self) -> None:
        status, kind, job = self.status.currentData(), self.kind.currentData(), self.job.currentData()
        delta: timedelta | None = self.period.currentData()
        since: datetime | None = self.now() - delta if delta is not None else None

        def keep(s: Session) -> bool:
            if status == "running":
                if s.status.finished:
                    return False
            elif status is not None and s.status.value != status:
                return False
            if kind is not None and s.kind != kind:
                return False
            if job is not None and s.job != job:
                return False
            # a running session is always "recent"
            return since is None or s.started >= since or not s.status.finished

        self.set_predicate(keep)
