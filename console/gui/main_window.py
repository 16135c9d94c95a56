"""The console's main window. A placeholder for now: navigation tree, empty-state panel and status bar."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QIcon, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

WINDOW_TITLE = "Backup Copy Console"
DEFAULT_SIZE = QSize(1100, 700)
ROW_HEIGHT = 26  # navigation rows, the same with and without an icon
EMPTY_STATE_TEXT = "No repositories yet — add a repository, then create your first backup job"

# (label, icon name in resources/icons, children)
NAVIGATION: list[tuple[str, str | None, list]] = [
    ("Home", None, [
        ("Jobs", "job", [
            ("Backup", "job", []),
            ("Backup Copy", "copy-job", []),
        ]),
        ("Backups", "repository", [
            ("Disk", "repository", []),
            ("Disk (Copy)", "copy-job", []),
            ("Orphaned", "point-missing", []),
        ]),
    ]),
    ("Backup Infrastructure", None, [
        ("Repositories", "repository", []),
    ]),
    ("History", None, [
        ("Sessions", "restore", []),
    ]),
]


def resources_dir() -> Path:
    """The resources/ folder (icons, desktop entry): the checkout's, else the copy installer/install.sh puts
    into the venv. It may be absent (e.g. a plain `pip install`): callers then go without icons."""
    checkout = Path(__file__).resolve().parents[2] / "resources"
    installed = Path(sys.prefix) / "share" / "backup-console" / "resources"
    return next((path for path in (checkout, installed) if (path / "backup-console.svg").is_file()), checkout)


def resource_icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg, or an empty icon when it is not there."""
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


class MainWindow(QMainWindow):
    """Top-level window: navigation on the left, the selected view (for now an empty state) on the right."""

    def __init__(self, data_dir: Path | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.setWindowTitle(WINDOW_TITLE)
        self.resize(DEFAULT_SIZE)

        self.navigation = self._build_navigation()
        self.section_title = QLabel()
        self.section_title.setObjectName("sectionTitle")
        title_font = QFont(self.section_title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.4)
        title_font.setBold(True)
        self.section_title.setFont(title_font)
        self.empty_state = self._build_empty_state()

        content = QFrame()
        content.setObjectName("content")
        content.setFrameShape(QFrame.Shape.StyledPanel)
        content.setBackgroundRole(QPalette.ColorRole.Base)
        content.setAutoFillBackground(True)
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(20, 14, 20, 14)
        content_layout.addWidget(self.section_title)
        content_layout.addWidget(self.empty_state, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.navigation)
        splitter.addWidget(content)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, DEFAULT_SIZE.width() - 260])
        self.setCentralWidget(splitter)

        self.navigation.currentItemChanged.connect(self._on_navigation_changed)
        self._on_navigation_changed(self.navigation.currentItem())
        self.statusBar().showMessage("Ready")

    def _on_navigation_changed(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        self.section_title.setText(item.text(0) if item is not None else "")

    def _build_navigation(self) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setObjectName("navigation")
        tree.setHeaderHidden(True)
        tree.setColumnCount(1)
        tree.setIconSize(QSize(18, 18))
        tree.setMinimumWidth(200)

        def add(parent: QTreeWidget | QTreeWidgetItem, label: str, icon: str | None, children: list) -> None:
            item = QTreeWidgetItem(parent, [label])
            font = item.font(0)
            font.setBold(isinstance(parent, QTreeWidget))  # top-level sections in bold
            item.setFont(0, font)
            if icon:
                item.setIcon(0, resource_icon(icon))
            # an explicit size hint (a valid QSize) keeps rows with and without an icon the same height
            width = QFontMetrics(font).horizontalAdvance(label) + tree.iconSize().width() + 16
            item.setSizeHint(0, QSize(width, ROW_HEIGHT))
            for child in children:
                add(item, *child)

        for node in NAVIGATION:
            add(tree, *node)
        tree.expandAll()
        tree.setCurrentItem(tree.topLevelItem(0))
        return tree

    def _build_empty_state(self) -> QWidget:
        panel = QFrame()
        panel.setObjectName("emptyState")

        icon = QLabel()
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        app_svg = resources_dir() / "backup-console.svg"
        if app_svg.is_file():
            icon.setPixmap(QIcon(str(app_svg)).pixmap(QSize(96, 96)))

        message = QLabel(EMPTY_STATE_TEXT)
        message.setObjectName("emptyStateMessage")
        message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        message.setWordWrap(True)
        font = QFont(message.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        message.setFont(font)

        self.add_repository_button = QPushButton(resource_icon("repository"), "Add Repository…")
        self.new_backup_job_button = QPushButton(resource_icon("job"), "New Backup Job…")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.add_repository_button, self.new_backup_job_button):
            button.setEnabled(False)
            button.setToolTip("Not available yet")
            buttons.addWidget(button)
        buttons.addStretch(1)

        layout = QVBoxLayout(panel)
        layout.setContentsMargins(28, 0, 28, 28)
        layout.setSpacing(16)
        layout.addStretch(1)
        layout.addWidget(icon)
        layout.addWidget(message)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return panel
