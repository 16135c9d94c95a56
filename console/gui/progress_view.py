"""The session view: live progress of a running job/restore/check, and the same layout for finished sessions.

Top: status, an overall bar and the figures (processed / read / transferred, rate, ETA, elapsed, bottleneck) next
to a small rate graph. Below: the objects with their own status and progress, and the log (filter by level).
Stop asks the engine to stop through the run's CancelToken; the view then shows "Stopping…" until it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.model import LogLine, Session
from console.gui.formatting import (
    KIND_LABELS,
    STATUS_ICONS,
    STATUS_LABELS,
    human_duration,
    human_rate,
    human_size,
    local_time,
)
from console.gui.models.progress import log_model, objects_model
from console.gui.models.table import FilterProxy
from console.gui.resources import resource_icon
from console.gui.runner import Run
from console.gui.views.widgets import ProgressDelegate, SearchBox, setup_table

LEVELS = [("All messages", ("info", "warning", "error")), ("Warnings and errors", ("warning", "error")),
          ("Errors only", ("error",))]
STAGE_LABELS = {"source": "Source", "transform": "Compression / encryption", "target": "Target",
                "network": "Network"}


def bottleneck_text(busy: dict[str, float], name: str = "") -> str:
    """'Target — busy 85% (source 40%, compression / encryption 20%)': the stage that limits the speed first."""
    if not busy and not name:
        return "—"
    top = name or max(busy, key=lambda k: busy[k])
    label = STAGE_LABELS.get(top, top.capitalize())
    if top not in busy:
        return label
    others = ", ".join(f"{STAGE_LABELS.get(k, k).lower()} {v:.0%}"
                       for k, v in sorted(busy.items(), key=lambda kv: -kv[1]) if k != top)
    return f"{label} — busy {busy[top]:.0%}" + (f" ({others})" if others else "")


class RateGraph(QWidget):
    """Transfer rate over the run, drawn with QPainter (QtCharts is not in PySide6-Essentials)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples: Sequence[tuple[float, float]] = []
        self.message = "No rate history"
        self.setMinimumSize(QSize(240, 110))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Processing rate while this console watched the run")

    def set_samples(self, samples: Sequence[tuple[float, float]], message: str = "No rate history") -> None:
        self.samples, self.message = samples, message
        self.update()

    def paintEvent(self, _event: Any) -> None:
        p = QPainter(self)
        try:
            self._paint(p)
        finally:
            p.end()          # explicitly: a traceback or sampler holding the frame must not keep it active

    def _paint(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        area = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.fillRect(area, pal.color(QPalette.ColorRole.Base))
        p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        p.drawRect(area)
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * 0.85)
        p.setFont(small)
        muted = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if len(self.samples) < 2:
            p.setPen(muted)
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, self.message)
            return
        plot = area.adjusted(6, 18, -6, -6)
        t0, t1 = self.samples[0][0], self.samples[-1][0]
        peak = max(r for _, r in self.samples) or 1.0
        span = max(t1 - t0, 1e-6)

        def point(t: float, r: float) -> QPointF:
            x = plot.left() + (t - t0) / span * plot.width()
            return QPointF(x, plot.bottom() - r / (peak * 1.1) * plot.height())

        line = QPainterPath(point(*self.samples[0]))
        for t, r in self.samples[1:]:
            line.lineTo(point(t, r))
        fill = QPainterPath(line)
        fill.lineTo(QPointF(plot.right(), plot.bottom()))
        fill.lineTo(QPointF(plot.left(), plot.bottom()))
        fill.closeSubpath()
        accent = QColor("#1565C0")
        shade = QColor(accent)
        shade.setAlpha(50)
        p.fillPath(fill, shade)
        p.setPen(QPen(accent, 1.6))
        p.drawPath(line)
        p.setPen(muted)
        p.drawText(area.adjusted(6, 2, -6, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                   f"peak {human_rate(peak)}")
        p.drawText(area.adjusted(6, 2, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                   f"now {human_rate(self.samples[-1][1])}")


class ProgressView(QWidget):
    """Shows one run live (`show_run`) or one finished session from the catalog (`show_session`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run: Run | None = None
        self.session: Session | None = None
        self._log_lines: list[LogLine] = []

        self.icon = QLabel()
        self.icon.setFixedSize(28, 28)
        self.title = QLabel()
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.status = QLabel()
        self.stop_button = QPushButton(resource_icon("stop"), "Stop")
        self.stop_button.setToolTip("Stop this run: what is finished stays, the rest is not written")
        self.stop_button.clicked.connect(self._stop)
        head = QHBoxLayout()
        head.addWidget(self.icon)
        head.addWidget(self.title, 1)
        head.addWidget(self.status)
        head.addWidget(self.stop_button)

        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setMinimumHeight(22)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setVisible(False)

        self.fields: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        layout_spec = [("Started", "Processed"), ("Elapsed", "Read"), ("Time left", "Transferred"),
                       ("Files", "Rate"), ("Bottleneck", None)]
        for row, pair in enumerate(layout_spec):
            for col, name in enumerate(pair):
                if name is None:
                    continue
                caption = QLabel(f"{name}:")
                caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                value = QLabel("—")
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.fields[name] = value
                self.captions[name] = caption
                if name == "Bottleneck":
                    grid.addWidget(caption, row, 0)
                    grid.addWidget(value, row, 1, 1, 3)
                else:
                    grid.addWidget(caption, row, col * 2)
                    grid.addWidget(value, row, col * 2 + 1)
        self.fields["Bottleneck"].setWordWrap(True)
        self._tips = {"Processed": "Source data covered by the run (unchanged files included)",
                      "Read": "Data actually read (changed or new)", "Transferred": "Bytes written to the target",
                      "Bottleneck": "The busiest stage: what limits the speed"}
        for name, tip in self._tips.items():
            self.fields[name].setToolTip(tip)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.graph = RateGraph()
        figures = QHBoxLayout()
        figures.addLayout(grid, 3)
        figures.addWidget(self.graph, 2)

        self.objects = objects_model()
        self.objects_view = QTableView()
        self.objects_view.setModel(self.objects)
        setup_table(self.objects_view, self.objects.columns, sortable=False)
        self.objects_view.setItemDelegateForColumn(2, ProgressDelegate(self.objects_view))

        self.log = log_model()
        self.log_proxy = FilterProxy(self)
        self.log_proxy.setSourceModel(self.log)
        self.log_view = QTableView()
        self.log_view.setModel(self.log_proxy)
        setup_table(self.log_view, self.log.columns, sortable=False)
        self.log_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.level = QComboBox()
        for label, _levels in LEVELS:
            self.level.addItem(label)
        self.level.setToolTip("Which log messages to show")
        self.level.currentIndexChanged.connect(self._apply_level)
        self.log_search = SearchBox("Filter the log")
        self.log_search.textChanged.connect(self.log_proxy.set_text)
        self.log_count = QLabel()
        log_bar = QHBoxLayout()
        log_title = QLabel("<b>Log</b>")
        log_bar.addWidget(log_title)
        log_bar.addWidget(self.log_count)
        log_bar.addStretch(1)
        log_bar.addWidget(self.level)
        log_bar.addWidget(self.log_search)
        log_box = QWidget()
        log_layout = QVBoxLayout(log_box)
        log_layout.setContentsMargins(0, 0, 0, 0)
        log_layout.addLayout(log_bar)
        log_layout.addWidget(self.log_view)
        objects_box = QWidget()
        objects_layout = QVBoxLayout(objects_box)
        objects_layout.setContentsMargins(0, 0, 0, 0)
        objects_layout.addWidget(QLabel("<b>Objects</b>"))
        objects_layout.addWidget(self.objects_view)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(objects_box)
        split.addWidget(log_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.bar)
        layout.addWidget(self.result)
        layout.addLayout(figures)
        layout.addWidget(line)
        layout.addWidget(split, 1)

        self._clock = QTimer(self)
        self._clock.setInterval(500)
        self._clock.timeout.connect(self._tick)
        self._apply_level()

    # -- binding ---------------------------------------------------------------------------------------------
    def _unbind(self) -> None:
        if self.run is not None:
            for signal, slot in ((self.run.updated, self._refresh), (self.run.logged, self._add_log),
                                 (self.run.finished, self._on_finished)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self.run = None
        self._clock.stop()

    def show_run(self, run: Run) -> None:
        """Follow a run live (it may have finished already: then its final session is shown)."""
        self._unbind()
        self.run, self.session = run, run.session
        self._log_lines = []
        self.log.set_records([])
        self._add_log(list(run.log_lines))
        if run.running:
            run.updated.connect(self._refresh)
            run.logged.connect(self._add_log)
            run.finished.connect(self._on_finished)
            self._clock.start()
        self._refresh()

    def show_session(self, session: Session) -> None:
        """A finished (or running elsewhere) session as the catalog recorded it."""
        self._unbind()
        self.session = session
        self.log.set_records([])
        self._log_lines = []
        self._add_log(list(session.log))
        self._refresh()

    def _on_finished(self, session: Session | None) -> None:
        # the run's last `updated` (just before) has shown its final state already (see _refresh)
        self.session = session
        self._clock.stop()

    def _stop(self) -> None:
        if self.run is not None:
            self.run.stop()

    def _tick(self) -> None:
        if self.run is not None:
            self.fields["Elapsed"].setText(human_duration(self.run.elapsed))

    # -- log ---------------------------------------------------------------------------------------------------
    def _add_log(self, lines: list[LogLine]) -> None:
        self._log_lines.extend(lines)
        at_bottom = self.log_view.verticalScrollBar().value() >= self.log_view.verticalScrollBar().maximum() - 2
        self.log.append_records(lines)
        if at_bottom and lines:
            self.log_view.scrollToBottom()
        self._count_log()

    def _apply_level(self) -> None:
        levels = LEVELS[self.level.currentIndex()][1]
        self.log_proxy.set_predicate(lambda ln: ln.level in levels)
        self._count_log()

    def _count_log(self) -> None:
        warnings = sum(ln.level == "warning" for ln in self._log_lines)
        errors = sum(ln.level == "error" for ln in self._log_lines)
        parts = [f"{len(self._log_lines)} message{'s' if len(self._log_lines) != 1 else ''}"]
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        if errors:
            parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        self.log_count.setText("(" + ", ".join(parts) + ")")

    # -- figures -----------------------------------------------------------------------------------------------
    def _set_status(self, status: str, title: str) -> None:
        self.title.setText(title)
        self.status.setText(f"<b>{STATUS_LABELS.get(status, status.capitalize())}</b>")
        icon = resource_icon(STATUS_ICONS.get(status, "status-running"))
        self.icon.setPixmap(icon.pixmap(QSize(24, 24)))

    def _set_bar(self, value: int | None, text: str) -> None:
        """value None: busy indicator. QProgressBar.setValue repaints at once (synchronously, several ms a
        time); with updates paused it only schedules a paint with the rest of the window."""
        bar = self.bar
        bar.setUpdatesEnabled(False)
        try:
            if value is None:
                bar.setRange(0, 0)
            else:
                bar.setRange(0, 1000)
                bar.setValue(value)
                bar.setFormat(text)
        finally:
            bar.setUpdatesEnabled(True)

    def _refresh(self) -> None:
        run = self.run
        session = self.session or (run.session if run is not None else None)   # a run that has just ended
        if run is not None and run.running:
            self._refresh_live(run)
        elif session is not None:
            self._refresh_session(session, run)
        elif run is not None:          # ended without a session (refused before it started)
            self._set_status("failed", run.title)
            self._set_bar(0, "Did not start")
            self.result.setText(f"<span style='color:#C62828'><b>{escape(run.error or 'failed')}</b></span>")
            self.result.setVisible(True)
            self.stop_button.setVisible(False)

    def _refresh_live(self, run: Run) -> None:
        stats = run.stats
        self._set_status(run.status, run.title)
        self.stop_button.setVisible(True)
        self.stop_button.setEnabled(run.status == "running")
        fraction = stats.fraction()
        if fraction is None:
            self._set_bar(None, "")                      # busy indicator until the size is known
        else:
            self._set_bar(int(fraction * 1000), f"{fraction:.0%}" + (" — stopping…" if run.status == "stopping"
                                                                      else ""))
        rate = run.rate or run.average_rate
        eta = stats.eta(rate)
        f = self.fields
        self.captions["Time left"].setText("Time left:")
        self.result.setVisible(False)
        f["Started"].setText(local_time(run.started, seconds=True))
        f["Elapsed"].setText(human_duration(run.elapsed))
        f["Time left"].setText(human_duration(eta) if eta is not None else "estimating…")
        f["Processed"].setText(human_size(stats.processed))
        f["Read"].setText(human_size(stats.read))
        f["Transferred"].setText(human_size(stats.transferred))
        f["Files"].setText(f"{stats.files:,}")
        f["Rate"].setText(f"{human_rate(rate)} (average {human_rate(run.average_rate)})")
        name, busy = stats.bottleneck()
        f["Bottleneck"].setText(bottleneck_text(busy, name))
        self.graph.set_samples(list(run.samples), "Waiting for data…")
        self.objects.set_records(list(stats.objects.values()))

    def _refresh_session(self, s: Session, run: Run | None) -> None:
        st = s.stats or {}
        title = f"{KIND_LABELS.get(s.kind, s.kind)}: {s.job}"
        self._set_status(s.status.value, title)
        self.stop_button.setVisible(run is not None and run.running)
        done = s.status.value in ("success", "warning")
        self._set_bar(1000 if done else 0, {"success": "Finished", "warning": "Finished with warnings",
                                            "failed": "Failed", "stopped": "Stopped"}.get(
                                                s.status.value, "Running (in another process)"))
        f = self.fields
        f["Started"].setText(local_time(s.started, seconds=True))
        duration = st.get("duration")
        if duration is None and s.ended:
            duration = (s.ended - s.started).total_seconds()
        f["Elapsed"].setText(human_duration(duration))
        self.captions["Time left"].setText("Ended:")
        f["Time left"].setText(local_time(s.ended, seconds=True) if s.ended else "—")
        f["Processed"].setText(human_size(st.get("processed")) if "processed" in st else "—")
        f["Read"].setText(human_size(st.get("read")) if "read" in st else "—")
        f["Transferred"].setText(human_size(st.get("transferred")) if "transferred" in st else "—")
        files = st.get("files")
        f["Files"].setText(f"{files:,}" if isinstance(files, int) else "—")
        f["Rate"].setText(human_rate(st.get("rate")))
        busy = st.get("busy") if isinstance(st.get("busy"), dict) else {}
        f["Bottleneck"].setText(bottleneck_text(busy, st.get("bottleneck") or ""))
        warnings = sum(ln.level == "warning" for ln in self._log_lines)
        if s.error:
            colour = "#C62828" if s.status.value == "failed" else "#8A5A00"
            self.result.setText(f"<span style='color:{colour}'><b>{escape(s.error)}</b></span>")
            self.result.setVisible(True)
        elif s.status.value == "warning":
            self.result.setText(f"<span style='color:#8A5A00'>Finished with {warnings} warning"
                                f"{'s' if warnings != 1 else ''}: see the log below.</span>")
            self.result.setVisible(True)
        else:
            self.result.setVisible(False)
        if run is not None and run.samples:
            self.graph.set_samples(list(run.samples))
        else:
            self.graph.set_samples([], "The rate graph is drawn while\nthis console watches a run")
        if run is not None and run.stats.objects:
            # the run we watched knows each object's bytes; the session has the final word on status
            for o in s.objects:
                state = run.stats.object(o.name)
                state.status, state.detail = o.status, o.detail
            self.objects.set_records(list(run.stats.objects.values()))
        else:
            self.objects.set_records(list(s.objects))


class SessionWindow(QDialog):
    """A non-modal window around a ProgressView: opened for each run and from the session history."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.setModal(False)
        self.view = ProgressView()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(900, 640)
        self._painted = False
        self._after_paint: list[Callable[[], None]] = []

    def when_painted(self, callback: Callable[[], None]) -> None:
        """Call `callback` from the event loop once this window has been painted (soon, if it has been)."""
        if self._painted:
            QTimer.singleShot(0, callback)
        else:
            self._after_paint.append(callback)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            callbacks, self._after_paint = self._after_paint, []
            for callback in callbacks:
                QTimer.singleShot(0, callback)          # after this frame: its children paint in this pass

    def show_run(self, run: Run) -> None:
        self.setWindowTitle(f"{run.title} — Backup Copy Console")
        self.view.show_run(run)

    def show_session(self, session: Session) -> None:
        self.setWindowTitle(f"Session {session.id}: {session.job} — Backup Copy Console")
        self.view.show_session(session)
