"""The New / Edit repository wizard: a local folder or an SFTP server, encryption, storage optimisation.

Pages: name and type → local folder | SFTP server → encryption and storage → summary. Everything slow (probing a
folder, testing an SFTP connection, creating the repository with its scrypt key derivation) runs off the GUI thread.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from console.core import secrets
from console.core.catalog import Catalog
from console.core.errors import (
    ConsoleError,
    HostKeyChangedError,
    HostKeyUnknownError,
    RepositoryError,
    UsageError,
)
from console.core.model import BLOCK_SIZES, COMPRESSION_LEVELS, DEFAULT_BLOCK_SIZE
from console.core.model import Repository as RepositoryEntry
from console.core.operations import repositories as repo_ops
from console.core.paths import known_hosts_path
from console.core.storage.base import Storage
from console.gui.background import run_in_background
from console.gui.wizards.widgets import (
    RETRY,
    BackgroundCheck,
    ConsoleWizard,
    HostKeyDialog,
    Problem,
    SummaryView,
    ValidatedPage,
    buddy_label,
    combo_select,
    hint,
    set_buttons_enabled,
)

log = logging.getLogger(__name__)

PAGE_NAME, PAGE_LOCAL, PAGE_SFTP, PAGE_ENCRYPTION, PAGE_SUMMARY = range(5)
DEFAULT_SFTP_PORT = 22
BLOCK_SIZE_LABELS = {
    "4M": "4 MB — large files, fastest (video, images, archives)",
    "1M": "1 MB — recommended for most data",
    "512K": "512 KB — smaller changes deduplicate better",
    "256K": "256 KB — databases and files changed in small places",
}
COMPRESSION_LABELS = {"none": "None", "fast": "Fast", "default": "Default (recommended)", "high": "High (slower)"}


# ---------------------------------------------------------------------------------------------- background work


@dataclass(frozen=True)
class LocalProbe:
    """What a local folder holds: nothing yet (a new repository is created there) or a repository."""

    path: str
    existing: bool = False
    encrypted: bool = False
    repo_uid: str = ""
    block_size: int = DEFAULT_BLOCK_SIZE
    compression: int = 3


def probe_local_folder(path: str) -> LocalProbe:
    """Runs in a worker: can the folder become (or does it hold) a repository? Raises UsageError if not."""
    root = Path(path).expanduser()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file: choose a folder")
    config = root / "config.json"
    if not config.exists():
        if root.is_dir() and any(root.iterdir()):
            raise UsageError(f"{root} is not empty and holds no repository: choose an empty or a new folder")
        ancestor = root
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise UsageError(f"{ancestor} is not writable by this user: choose another folder")
        return LocalProbe(str(root))
    from console.core.repository.repo import RepoConfig

    cfg = RepoConfig.from_bytes(config.read_bytes(), str(root))
    return LocalProbe(str(root), existing=True, encrypted=cfg.encryption is not None, repo_uid=cfg.id,
                      block_size=cfg.block_size, compression=cfg.compression)


@dataclass(frozen=True)
class SftpRequest:
    location: str
    key_file: str | None
    key_passphrase: str | None
    ssh_password: str | None
    accept_host_key: str | None
    stored_for: str | None = None     # edit: a repository whose saved secrets fill the fields left empty

    def with_stored_secrets(self) -> SftpRequest:
        """Runs in a worker (the keyring may block): empty secret fields of an edited repository mean "keep"."""
        if self.stored_for is None:
            return self
        if self.key_file:
            passphrase = self.key_passphrase or secrets.get(repo_ops.sftp_passphrase_key(self.stored_for))
            return replace(self, key_passphrase=passphrase)
        return replace(self, ssh_password=self.ssh_password or secrets.get(repo_ops.sftp_password_key(self.stored_for)))


def sftp_location(user: str, host: str, port: int, path: str) -> str:
    """USER@HOST[:PORT]/PATH as the core parses it (SftpLocation): a folder typed with a leading / is absolute and
    written with a double slash (user@host//srv/backups), any other is relative to the login folder."""
    parts = [p for p in path.strip().split("/") if p not in ("", ".")]
    folder = ("/" if path.strip().startswith("/") else "") + "/".join(parts)
    host_text = f"[{host}]" if ":" in host else host
    port_text = f":{port}" if port != DEFAULT_SFTP_PORT else ""
    return f"{user}@{host_text}{port_text}/{folder}"


def split_sftp_location(location: str) -> tuple[str, str, int, str]:
    """(user, host, port, folder as typed in the wizard) of a stored location."""
    from console.core.storage.sftp_connect import SftpLocation

    loc = SftpLocation.parse(location)
    return loc.user, loc.host, loc.port, loc.path


def test_sftp(data_dir: Path, request: SftpRequest) -> str:
    """Runs in a worker: connect, verify the host key, log in, look at the folder; the core says what it found."""
    request = request.with_stored_secrets()
    return repo_ops.test_sftp_connection(data_dir, request.location, key_file=request.key_file,
                                         key_passphrase=request.key_passphrase, ssh_password=request.ssh_password,
                                         accept_host_key=request.accept_host_key)


@dataclass(frozen=True)
class RepositoryRequest:
    name: str
    kind: str                    # "local" | "sftp"
    path: str = ""               # local
    sftp: SftpRequest | None = None
    password: str | None = None  # None: not encrypted (new) / keep the stored one (edit)
    block_size: int = DEFAULT_BLOCK_SIZE
    compression: int = 3


@dataclass(frozen=True)
class RepositoryResult:
    name: str
    created: bool
    note: str


def create_repository(data_dir: Path, request: RepositoryRequest) -> RepositoryResult:
    """Runs in a worker (with its own catalog connection): create or attach the repository."""
    with Catalog.open(data_dir) as catalog:
        if request.kind == "local":
            entry, created, note = repo_ops.add_local(catalog, request.name, request.path, request.password,
                                                      request.block_size, request.compression)
        else:
            assert request.sftp is not None
            s = request.sftp
            entry, created, note = repo_ops.add_sftp(catalog, request.name, s.location, key_file=s.key_file,
                                            key_passphrase=s.key_passphrase, ssh_password=s.ssh_password,
                                            repo_password=request.password, accept_host_key=s.accept_host_key,
                                            block_size=request.block_size, compression=request.compression)
    return RepositoryResult(entry.name, created, note)


def _edited_sftp_storage(data_dir: Path, request: SftpRequest) -> Storage:
    """The storage at the edited SFTP location, logging in with the edited secrets (nothing is stored yet)."""
    from console.core.storage.hostkeys import KnownHosts
    from console.core.storage.sftp import SftpAuth, SftpLocation, SftpStorage

    auth = SftpAuth(key_file=request.key_file, key_passphrase=request.key_passphrase,
                    password=None if request.key_file else request.ssh_password)
    return SftpStorage(SftpLocation.parse(request.location), auth, KnownHosts(known_hosts_path(data_dir)),
                       accept_host_key=request.accept_host_key)


def update_repository(data_dir: Path, repo_id: str, request: RepositoryRequest) -> RepositoryResult:
    """Runs in a worker: point an existing repository entry at its (maybe moved) location and new login, after
    checking that the location holds the same repository and that the password opens it; only then store the
    secrets, so a failed edit changes nothing."""
    from console.core.repository.repo import Repository

    with Catalog.open(data_dir) as catalog:
        entry = catalog.get_repository_by_id(repo_id)
        sftp = request.sftp.with_stored_secrets() if request.sftp is not None else None
        if sftp is None:
            changed = replace(entry, location=str(Path(request.path).expanduser().absolute()))
            storage = repo_ops.make_storage(changed, data_dir)
        else:
            options = {k: v for k, v in entry.options.items() if k != "key_file"}
            options["auth"] = "key" if sftp.key_file else "password"
            if sftp.key_file:
                options["key_file"] = sftp.key_file
            changed = replace(entry, location=sftp.location, options=options)
            storage = _edited_sftp_storage(data_dir, sftp)
        password = request.password or secrets.get(secrets.repo_key(entry.name))
        try:
            repo = Repository.open(storage, lambda: password)
        except BaseException:
            storage.close()
            raise
        try:
            if entry.repo_uid and repo.id != entry.repo_uid:
                raise RepositoryError(f"{changed.location} holds a different repository (id {repo.id[:8]}, expected "
                                      f"{entry.repo_uid[:8]}): choose the folder of '{entry.name}'")
        finally:
            repo.close()
        catalog.update_repository(changed)
        kept: list[bool] = []
        if sftp is not None and sftp.ssh_password and not sftp.key_file:
            kept.append(secrets.store(repo_ops.sftp_password_key(entry.name), sftp.ssh_password))
        if sftp is not None and sftp.key_file and sftp.key_passphrase:
            kept.append(secrets.store(repo_ops.sftp_passphrase_key(entry.name), sftp.key_passphrase))
        if request.password:
            kept.append(secrets.store(secrets.repo_key(entry.name), request.password))
    note = ("" if not kept else "secrets saved in the OS keyring" if all(kept)
            else "no usable keyring: the secrets are asked for on each run")
    return RepositoryResult(entry.name, False, note)


def keyring_note() -> str:
    usable, backend = secrets.keyring_status()
    if usable:
        return "The password is stored in the OS keyring, never in the console's catalog."
    return (f"No usable OS keyring was found ({backend}): the password is kept for this session only and asked "
            f"for again on each run.")


# ---------------------------------------------------------------------------------------------- pages


class NamePage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Repository", "Name the repository and choose where it keeps the backups.")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Local disk, NAS, Off-site SFTP")
        self.name.setAccessibleName("Repository name")
        self.local = QRadioButton("&Local folder or mounted drive")
        self.sftp = QRadioButton("&SFTP server (an off-site copy over SSH)")
        self.local.setChecked(True)
        self.kind = QButtonGroup(self)
        self.kind.addButton(self.local)
        self.kind.addButton(self.sftp)
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        self.body.addLayout(form)
        self.body.addSpacing(12)
        self.body.addWidget(QLabel("Type:"))
        self.body.addWidget(self.local)
        self.body.addWidget(hint("A disk in this computer, a USB drive or a mounted network share."))
        self.body.addWidget(self.sftp)
        self.body.addWidget(hint("A folder on another computer reachable over SSH: keeps one copy off-site, as the "
                                 "3-2-1 rule asks."))
        self.finish_layout()

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return PAGE_SFTP if self.sftp.isChecked() else PAGE_LOCAL

    def problem(self) -> Problem:
        name = self.name.text().strip()
        if not name:
            return "Enter a name for the repository.", self.name
        wizard = self.wizard()
        assert isinstance(wizard, RepositoryWizard)
        if wizard.existing is None and name in {r.name for r in wizard.catalog.list_repositories()}:
            return f"A repository named '{name}' exists already: choose another name.", self.name
        return None


class LocalPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Local folder", "The folder that holds the repository. An empty or new folder becomes a new "
                                         "repository; a folder that holds one already is attached as it is.")
        self.path = QLineEdit()
        self.path.setPlaceholderText("/media/backup/repository")
        self.path.setAccessibleName("Repository folder")
        self.browse = QPushButton("&Browse…")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow(buddy_label("&Folder:", self.path), row)
        self.body.addLayout(form)
        self.body.addWidget(hint("Tip: a different disk from the data you protect — a repository on the same disk "
                                 "does not survive that disk."))
        self.found = QLabel()
        self.found.setWordWrap(True)
        self.body.addWidget(self.found)
        self.finish_layout()
        self.path.textChanged.connect(lambda: self.found.clear())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the repository folder", self.path.text() or "")
        if folder:
            self.path.setText(folder)

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return PAGE_ENCRYPTION

    def folder(self) -> str:
        return str(Path(self.path.text().strip()).expanduser())

    def problem(self) -> Problem:
        text = self.path.text().strip()
        if not text:
            return "Choose the folder for the repository.", self.path
        if not Path(text).expanduser().is_absolute():
            return f"Give the full path of the folder (starting with /), not '{text}'.", self.path
        wizard = self.wizard()
        assert isinstance(wizard, RepositoryWizard)
        wanted = str(Path(text).expanduser().absolute())
        for repo in wizard.catalog.list_repositories():
            if repo.kind == "local" and repo.location == wanted and (wizard.existing is None
                                                                     or repo.id != wizard.existing.id):
                return f"This folder is already the repository '{repo.name}'.", self.path
        return None

    def background_check(self) -> BackgroundCheck:
        folder = self.folder()
        return BackgroundCheck(folder, "Looking at the folder…", probe_local_folder, (folder,))

    def check_done(self, result: Any) -> Problem:
        assert isinstance(result, LocalProbe)
        wizard = self.wizard()
        assert isinstance(wizard, RepositoryWizard)
        if wizard.existing is not None:
            if not result.existing:
                return "This folder holds no repository: choose the folder the repository was moved to.", self.path
            if wizard.existing.repo_uid and result.repo_uid != wizard.existing.repo_uid:
                return (f"This folder holds a different repository (id {result.repo_uid[:8]}), not "
                        f"'{wizard.existing.name}'.")
        elif result.existing and any(r.repo_uid == result.repo_uid for r in wizard.catalog.list_repositories()):
            return "This repository is configured already (under another name or path)."
        self.found.setText("This folder holds a repository: it is attached, and a rescan imports its backups."
                           if result.existing else "A new repository is created in this folder.")
        return None

    def probe(self) -> LocalProbe | None:
        return self.check_result if isinstance(self.check_result, LocalProbe) else None


class SftpPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("SFTP server", "Where the repository lives on the server and how the console logs in.")
        self.host = QLineEdit()
        self.host.setPlaceholderText("backup.example.org")
        self.port = QLineEdit(str(DEFAULT_SFTP_PORT))
        self.port.setMaximumWidth(80)
        self.port.setAccessibleName("SSH port")
        self.user = QLineEdit()
        self.user.setPlaceholderText("backup")
        self.use_key = QRadioButton("Private &key file")
        self.use_password = QRadioButton("&Password")
        self.use_key.setChecked(True)
        self.auth = QButtonGroup(self)
        self.auth.addButton(self.use_key)
        self.auth.addButton(self.use_password)
        self.key_file = QLineEdit()
        self.key_file.setPlaceholderText(str(Path.home() / ".ssh" / "id_ed25519"))
        self.key_browse = QPushButton("Browse…")
        self.key_browse.clicked.connect(self._browse_key)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("only if the key is protected by one")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.path = QLineEdit()
        self.path.setPlaceholderText("backups/repository  or  /srv/backups/repository")
        self.test_button = QPushButton("&Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.accepted_fingerprint: str | None = None

        host_row = QHBoxLayout()
        host_row.addWidget(self.host, 1)
        host_row.addWidget(QLabel("Port:"))
        host_row.addWidget(self.port)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_file, 1)
        key_row.addWidget(self.key_browse)
        form = QFormLayout()
        form.addRow(buddy_label("&Host:", self.host), host_row)
        form.addRow("&User:", self.user)
        form.addRow("Log in with:", self.use_key)
        form.addRow(buddy_label("Key &file:", self.key_file), key_row)
        form.addRow("Key passphrase:", self.passphrase)
        form.addRow("", self.use_password)
        form.addRow("SSH password:", self.password)
        form.addRow("&Folder:", self.path)
        self.body.addLayout(form)
        self.body.addWidget(hint("A folder path without a leading / is relative to the user's home folder on the "
                                 "server. The folder is created if it does not exist. Passwords and passphrases "
                                 "go to the OS keyring."))
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result, 1)
        self.body.addLayout(test_row)
        self.finish_layout()
        self.use_key.toggled.connect(self._auth_changed)
        self._auth_changed()
        for field_ in (self.host, self.port, self.user, self.key_file, self.passphrase, self.password, self.path):
            field_.textChanged.connect(lambda: self.result.clear())

    def _auth_changed(self) -> None:
        key = self.use_key.isChecked()
        for w in (self.key_file, self.key_browse, self.passphrase):
            w.setEnabled(key)
        self.password.setEnabled(not key)

    def _browse_key(self) -> None:
        start = self.key_file.text() or str(Path.home() / ".ssh")
        path, _ = QFileDialog.getOpenFileName(self, "Choose the private key", start)
        if path:
            self.key_file.setText(path)

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return PAGE_ENCRYPTION

    def port_number(self) -> int | None:
        text = self.port.text().strip()
        return int(text) if text.isdigit() and 1 <= int(text) <= 65535 else None

    def problem(self) -> Problem:
        host = self.host.text().strip()
        if not host:
            return "Enter the SFTP server's host name or address.", self.host
        if any(c.isspace() for c in host) or "@" in host or "/" in host:
            return (f"'{host}' is not a host name: enter only the name or address (user and folder have their own "
                    f"fields)."), self.host
        if self.port_number() is None:
            return f"The port must be a number from 1 to 65535, not '{self.port.text().strip()}'.", self.port
        user = self.user.text().strip()
        if not user:
            return "Enter the user name to log in with.", self.user
        if any(c.isspace() for c in user) or "@" in user:
            return f"'{user}' is not a valid user name.", self.user
        if self.use_key.isChecked():
            key = self.key_file.text().strip()
            if not key:
                return "Choose the private key file, or log in with a password.", self.key_file
            if not Path(key).expanduser().is_file():
                return f"The key file {key} does not exist.", self.key_file
        elif not self.password.text() and getattr(self.wizard(), "existing", None) is None:
            return "Enter the SSH password, or log in with a key file.", self.password
        if not self.path.text().strip():
            return "Enter the folder on the server that holds (or will hold) the repository.", self.path
        return None

    def request(self) -> SftpRequest:
        key = self.use_key.isChecked()
        wizard = self.wizard()
        return SftpRequest(
            location=sftp_location(self.user.text().strip(), self.host.text().strip(), self.port_number() or 22,
                                   self.path.text().strip()),
            key_file=str(Path(self.key_file.text().strip()).expanduser()) if key else None,
            key_passphrase=(self.passphrase.text() or None) if key else None,
            ssh_password=None if key else (self.password.text() or None),
            accept_host_key=self.accepted_fingerprint,
            stored_for=wizard.existing.name if isinstance(wizard, RepositoryWizard) and wizard.existing else None)

    def background_check(self) -> BackgroundCheck | None:
        request = self.request()
        wizard = self.wizard()
        assert isinstance(wizard, RepositoryWizard)
        return BackgroundCheck(request, f"Connecting to {self.host.text().strip()}…", test_sftp,
                               (wizard.data_dir, request))

    def test_connection(self) -> None:
        problem = self._sync_problem()
        if problem:
            self.show_problem(problem)
            return
        check = self.background_check()
        assert check is not None
        self.run_check(check, advance=False)

    def busy_changed(self, busy: bool) -> None:
        self.test_button.setEnabled(not busy)

    def check_done(self, result: Any) -> Problem:
        self.result.setText(f"✔ {result}" if result else "✔ Connected.")
        self.result.setStyleSheet("color: #2e7d32;")
        return None

    def check_failed(self, error: BaseException) -> object:
        self.result.clear()
        wizard = self.wizard()
        assert isinstance(wizard, RepositoryWizard)
        if isinstance(error, HostKeyUnknownError):
            dialog = HostKeyDialog(_address(error.host, error.port), error.key_type, error.fingerprint, parent=self)
            wizard.host_key_dialog = dialog
            if dialog.exec() == HostKeyDialog.DialogCode.Accepted:
                self.accepted_fingerprint = error.fingerprint
                return RETRY
            return "The host key was rejected: the console does not connect to this server."
        if isinstance(error, HostKeyChangedError):
            dialog = HostKeyDialog(_address(error.host, error.port), error.key_type, error.new_fingerprint,
                                   old_fingerprint=error.old_fingerprint or "?",
                                   known_hosts=str(known_hosts_path(wizard.data_dir)), parent=self)
            wizard.host_key_dialog = dialog
            dialog.exec()
            return (f"The host key of {_address(error.host, error.port)} has changed: connection refused "
                    f"(see the warning).")
        return super().check_failed(error)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class EncryptionPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Encryption and storage", "Protect the backups with a password and choose how data is "
                                                   "stored.")
        self.situation = QLabel()
        self.situation.setWordWrap(True)
        self.encrypt = QCheckBox("&Encrypt the repository (AES-256-GCM)")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Repository password")
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setAccessibleName("Repeat the repository password")
        self.repeat_label = QLabel("&Repeat:")
        self.repeat_label.setBuddy(self.repeat)
        self.password_label = QLabel("&Password:")
        self.password_label.setBuddy(self.password)
        self.warning = hint("Keep this password safe: without it nobody — not even you — can restore these "
                            "backups.")
        self.keyring = hint(keyring_note())
        self.block_size = QComboBox()
        for key, label in BLOCK_SIZE_LABELS.items():
            self.block_size.addItem(label, BLOCK_SIZES[key])
        combo_select(self.block_size, DEFAULT_BLOCK_SIZE)
        self.compression = QComboBox()
        for key, label in COMPRESSION_LABELS.items():
            self.compression.addItem(label, COMPRESSION_LEVELS[key])
        combo_select(self.compression, COMPRESSION_LEVELS["default"])
        self.fixed = hint("Block size and compression are fixed when a repository is created.")

        form = QFormLayout()
        form.addRow(self.password_label, self.password)
        form.addRow(self.repeat_label, self.repeat)
        storage = QFormLayout()
        storage.addRow("&Block size:", self.block_size)
        storage.addRow("&Compression:", self.compression)
        self.body.addWidget(self.situation)
        self.body.addWidget(self.encrypt)
        self.body.addLayout(form)
        self.body.addWidget(self.warning)
        self.body.addWidget(self.keyring)
        self.body.addSpacing(12)
        self.body.addLayout(storage)
        self.body.addWidget(self.fixed)
        self.finish_layout()
        self.encrypt.toggled.connect(self._update)
        self.mode = "new"     # "new" | "attach-plain" | "attach-encrypted" | "edit"

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return PAGE_SUMMARY

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        wizard = self.wizard()
        assert isinstance(wizard, RepositoryWizard)
        probe = wizard.local_page.probe() if wizard.is_local() else None
        old_mode = self.mode
        if wizard.existing is not None:
            self.mode = "edit"
            self.situation.setText("Enter the password only to replace the one the console has stored for this "
                                   "repository; leave it empty to keep it." if wizard.existing.encrypted
                                   else "This repository is not encrypted.")
        elif probe is not None and probe.existing:
            self.mode = "attach-encrypted" if probe.encrypted else "attach-plain"
            self.situation.setText("The folder holds an encrypted repository: enter its password." if probe.encrypted
                                   else "The folder holds a repository without encryption; it is attached as it is.")
            combo_select(self.block_size, probe.block_size)
            combo_select(self.compression, probe.compression)
        else:
            self.mode = "new"
            self.situation.setText("" if wizard.is_local() else
                                   "If the folder on the server holds a repository already, it is attached: enter "
                                   "its password if it is encrypted.")
            if old_mode != "new" or not wizard.encryption_default_set:
                self.encrypt.setChecked(not wizard.is_local())   # off-site data leaves your hands: encrypt
                wizard.encryption_default_set = True
        self.situation.setVisible(bool(self.situation.text()))
        self._update()

    def _update(self) -> None:
        new = self.mode == "new"
        wizard = self.wizard()
        existing_encrypted = self.mode == "attach-encrypted" or (
            self.mode == "edit" and wizard is not None and getattr(wizard, "existing", None) is not None
            and wizard.existing.encrypted)
        self.encrypt.setVisible(new)
        asks_password = (new and self.encrypt.isChecked()) or existing_encrypted
        for w in (self.password, self.password_label):
            w.setVisible(asks_password)
        for w in (self.repeat, self.repeat_label, self.warning):
            w.setVisible(new and self.encrypt.isChecked())
        self.keyring.setVisible(asks_password)
        self.block_size.setEnabled(new)
        self.compression.setEnabled(new)
        self.fixed.setVisible(not new)

    def repository_password(self) -> str | None:
        if self.mode == "new":
            return self.password.text() if self.encrypt.isChecked() else None
        if self.mode in ("attach-encrypted", "edit"):
            return self.password.text() or None
        return None

    def problem(self) -> Problem:
        if self.mode == "new" and self.encrypt.isChecked():
            if not self.password.text():
                return "Enter a password for the encryption, or clear the Encrypt checkbox.", self.password
            if len(self.password.text()) < 8:
                return "Use a password of at least 8 characters.", self.password
            if self.password.text() != self.repeat.text():
                return "The two passwords differ: type the same password twice.", self.repeat
        if self.mode == "attach-encrypted" and not self.password.text():
            return "Enter the password of the encrypted repository.", self.password
        return None


class SummaryPage(ValidatedPage):
    def __init__(self) -> None:
        super().__init__("Summary", "Check the settings, then click Finish.")
        self.summary = SummaryView()
        self.body.addWidget(self.summary)
        self.finish_layout()

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        wizard = self.wizard()
        assert isinstance(wizard, RepositoryWizard)
        self.summary.set_rows(wizard.summary_rows())


# ---------------------------------------------------------------------------------------------- the wizard


class RepositoryWizard(ConsoleWizard):
    """New repository, or Edit of `existing` (name, type, block size and compression are then fixed)."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None,
                 existing: RepositoryEntry | None = None) -> None:
        super().__init__(data_dir, parent)
        self.existing = existing
        self.note = ""                           # keyring note of the last save, for the caller's status bar
        self.created = False
        self.encryption_default_set = False
        self.host_key_dialog: HostKeyDialog | None = None   # the last one shown (tests and screenshots)
        self.saving = False
        self.setWindowTitle("Edit repository" if existing else "New repository")
        self.name_page, self.local_page, self.sftp_page = NamePage(), LocalPage(), SftpPage()
        self.encryption_page, self.summary_page = EncryptionPage(), SummaryPage()
        for page_id, page in ((PAGE_NAME, self.name_page), (PAGE_LOCAL, self.local_page), (PAGE_SFTP, self.sftp_page),
                              (PAGE_ENCRYPTION, self.encryption_page), (PAGE_SUMMARY, self.summary_page)):
            self.setPage(page_id, page)
        self.setStartId(PAGE_NAME)
        if existing is not None:
            self._prefill(existing)

    def _prefill(self, entry: RepositoryEntry) -> None:
        self.name_page.name.setText(entry.name)
        self.name_page.name.setReadOnly(True)
        self.name_page.name.setToolTip("A repository's name is fixed: jobs and stored passwords refer to it.")
        (self.name_page.sftp if entry.kind == "sftp" else self.name_page.local).setChecked(True)
        self.name_page.local.setEnabled(False)
        self.name_page.sftp.setEnabled(False)
        combo_select(self.encryption_page.block_size, entry.options.get("block_size", DEFAULT_BLOCK_SIZE))
        combo_select(self.encryption_page.compression, entry.options.get("compression", 3))
        if entry.kind == "local":
            self.local_page.path.setText(entry.location)
            return
        user, host, port, path = split_sftp_location(entry.location)
        page = self.sftp_page
        page.user.setText(user)
        page.host.setText(host)
        page.port.setText(str(port))
        page.path.setText(path)
        key_file = entry.options.get("key_file")
        page.key_file.setText(key_file or "")
        (page.use_key if key_file else page.use_password).setChecked(True)

    def is_local(self) -> bool:
        return not self.name_page.sftp.isChecked()

    def request(self) -> RepositoryRequest:
        page = self.encryption_page
        return RepositoryRequest(
            name=self.name_page.name.text().strip(), kind="local" if self.is_local() else "sftp",
            path=self.local_page.folder() if self.is_local() else "",
            sftp=None if self.is_local() else self.sftp_page.request(),
            password=page.repository_password(), block_size=int(page.block_size.currentData()),
            compression=int(page.compression.currentData()))

    def summary_rows(self) -> list[tuple[str, str]]:
        r = self.request()
        page = self.encryption_page
        rows = [("Name", r.name)]
        if r.kind == "local":
            probe = self.local_page.probe()
            action = "attach the repository it holds" if probe and probe.existing else "create a new repository"
            rows.append(("Local folder", r.path))
            if self.existing is None:
                rows.append(("Action", action))
        else:
            assert r.sftp is not None
            rows.append(("SFTP location", r.sftp.location))
            rows.append(("Log in with", f"key {r.sftp.key_file}" if r.sftp.key_file else "password"))
        if page.mode == "new":
            rows.append(("Encryption", "AES-256-GCM, password stored in the keyring" if r.password else "none"))
        elif page.mode == "edit":
            rows.append(("Stored password", "replaced" if r.password else "unchanged"))
        else:
            rows.append(("Encryption", "yes" if page.mode == "attach-encrypted" else "none"))
        rows.append(("Block size", page.block_size.currentText().split(" — ")[0]))
        rows.append(("Compression", page.compression.currentText()))
        return rows

    def accept(self) -> None:
        """Finish: create (or update) the repository in a worker — key derivation takes a second or two."""
        if self.saving or not self.validateCurrentPage():
            return
        self.saving = True
        page = self.summary_page
        page.error.clear_error()
        page.busy.start("Updating the repository…" if self.existing else "Creating the repository…")
        set_buttons_enabled(self, False)
        request = self.request()
        if self.existing is not None:
            fn, args = update_repository, (self.data_dir, self.existing.id, request)
        else:
            fn, args = create_repository, (self.data_dir, request)

        def done(result: RepositoryResult) -> None:
            self.saving = False
            page.busy.stop()
            set_buttons_enabled(self, True)
            self.note, self.created = result.note, result.created
            log.info("repository %s saved (%s)", result.name, "created" if result.created else "attached/updated")
            self.finish_saved(result.name)

        def failed(error: BaseException) -> None:
            self.saving = False
            page.busy.stop()
            set_buttons_enabled(self, True)
            message = str(error) if isinstance(error, ConsoleError) else f"unexpected error: {error}"
            page.error.show_error(message)

        run_in_background(fn, *args, on_done=lambda r: _alive(self) and done(r),
                          on_error=lambda e: _alive(self) and failed(e))

    def reject(self) -> None:
        if self.saving:          # the repository is being written: closing now would leave the admin guessing
            return
        super().reject()


def _alive(widget: QWidget) -> bool:
    return shiboken6.isValid(widget)

