"""The repository wizard driven page by page (offscreen): real catalog, real repositories on disk and on a real
OpenSSH server on 127.0.0.1 (tests/sshd.sh), in-memory keyring."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QWizard

from console.core import secrets
from console.core.catalog import Catalog
from console.core.operations import repositories as repo_ops
from console.core.operations.repositories import add_local
from console.core.repository.repo import Repository
from console.core.storage.local import LocalStorage
from console.gui.wizards.repository import (
    PAGE_ENCRYPTION,
    PAGE_LOCAL,
    PAGE_NAME,
    PAGE_SFTP,
    PAGE_SUMMARY,
    RepositoryWizard,
    sftp_location,
)
from console.gui.wizards.widgets import HostKeyDialog

PASSWORD = "correct horse battery"
WAIT_MS = 20_000          # background work: folder probe, scrypt key derivation (seconds on a loaded machine)


def make_wizard(qtbot, data_dir: Path, existing=None) -> RepositoryWizard:
    wizard = RepositoryWizard(data_dir, existing=existing)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def go_to_encryption(qtbot, wizard: RepositoryWizard, name: str, folder: Path) -> None:
    wizard.name_page.name.setText(name)
    wizard.next()
    assert wizard.currentId() == PAGE_LOCAL
    wizard.local_page.path.setText(str(folder))
    wizard.next()                                   # probes the folder in the background, then moves on
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_ENCRYPTION, timeout=WAIT_MS)


def finish(qtbot, wizard: RepositoryWizard) -> None:
    with qtbot.waitSignal(wizard.finished, timeout=WAIT_MS):
        wizard.button(QWizard.WizardButton.FinishButton).click()


def repositories(data_dir: Path) -> dict[str, object]:
    with Catalog.open(data_dir) as catalog:
        return {r.name: r for r in catalog.list_repositories()}


def test_new_encrypted_local_repository(qtbot, data_dir: Path, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, data_dir)
    assert wizard.currentId() == PAGE_NAME
    go_to_encryption(qtbot, wizard, "Local disk", tmp_path / "repo")
    page = wizard.encryption_page
    assert page.mode == "new" and not page.encrypt.isChecked()      # local default: no encryption
    page.encrypt.setChecked(True)
    page.password.setText(PASSWORD)
    page.repeat.setText(PASSWORD + "x")
    wizard.next()
    assert wizard.currentId() == PAGE_ENCRYPTION
    assert page.error.message == "The two passwords differ: type the same password twice."
    assert page.invalid is page.repeat
    page.repeat.setText(PASSWORD)
    page.block_size.setCurrentIndex(page.block_size.findData(4 << 20))
    wizard.next()
    assert wizard.currentId() == PAGE_SUMMARY
    rows = dict(wizard.summary_page.summary.rows)
    assert rows["Action"] == "create a new repository"
    assert rows["Encryption"].startswith("AES-256-GCM")

    finish(qtbot, wizard)

    assert wizard.result() == QDialog.DialogCode.Accepted
    assert (wizard.saved_name, wizard.run_now, wizard.created) == ("Local disk", False, True)
    entry = repositories(data_dir)["Local disk"]
    assert entry.kind == "local" and entry.location == str(tmp_path / "repo") and entry.encrypted
    assert entry.options["block_size"] == 4 << 20
    assert secrets.get(secrets.repo_key("Local disk")) == PASSWORD
    repo = Repository.open(LocalStorage(tmp_path / "repo"), lambda: PASSWORD)
    assert repo.id == entry.repo_uid and repo.encrypted and repo.config.block_size == 4 << 20
    repo.close()


def test_name_and_folder_refusals(qtbot, data_dir: Path, tmp_path: Path) -> None:
    with Catalog.open(data_dir) as catalog:
        add_local(catalog, "Taken", str(tmp_path / "taken"))
    wizard = make_wizard(qtbot, data_dir)
    wizard.next()
    assert wizard.currentId() == PAGE_NAME
    assert wizard.name_page.error.message == "Enter a name for the repository."
    wizard.name_page.name.setText("Taken")
    wizard.next()
    assert wizard.name_page.error.message == "A repository named 'Taken' exists already: choose another name."
    wizard.name_page.name.setText("Second")
    wizard.next()
    assert wizard.currentId() == PAGE_LOCAL and wizard.name_page.error.isHidden()

    page = wizard.local_page
    wizard.next()
    assert page.error.message == "Choose the folder for the repository."
    page.path.setText("relative/folder")
    wizard.next()
    assert "full path" in page.error.message
    page.path.setText(str(tmp_path / "taken"))
    wizard.next()
    assert page.error.message == "This folder is already the repository 'Taken'."
    cluttered = tmp_path / "cluttered"
    cluttered.mkdir()
    (cluttered / "notes.txt").write_text("not a repository")
    page.path.setText(str(cluttered))
    wizard.next()                               # refused by the background probe
    qtbot.waitUntil(lambda: not page.checking and not page.error.isHidden(), timeout=WAIT_MS)
    assert wizard.currentId() == PAGE_LOCAL
    assert "is not empty and holds no repository" in page.error.message
    assert repositories(data_dir).keys() == {"Taken"}


def test_password_rules(qtbot, data_dir: Path, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, data_dir)
    go_to_encryption(qtbot, wizard, "Encrypted", tmp_path / "repo")
    page = wizard.encryption_page
    page.encrypt.setChecked(True)
    wizard.next()
    assert page.error.message == "Enter a password for the encryption, or clear the Encrypt checkbox."
    page.password.setText("short")
    page.repeat.setText("short")
    wizard.next()
    assert page.error.message == "Use a password of at least 8 characters."
    page.encrypt.setChecked(False)              # no encryption: no password needed
    wizard.next()
    assert wizard.currentId() == PAGE_SUMMARY
    assert dict(wizard.summary_page.summary.rows)["Encryption"] == "none"


def test_back_keeps_values_and_cancel_saves_nothing(qtbot, data_dir: Path, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, data_dir)
    go_to_encryption(qtbot, wizard, "Kept", tmp_path / "repo")
    wizard.encryption_page.encrypt.setChecked(True)
    wizard.encryption_page.password.setText(PASSWORD)
    wizard.back()
    wizard.back()
    assert wizard.currentId() == PAGE_NAME
    assert wizard.name_page.name.text() == "Kept"
    wizard.next()
    assert wizard.local_page.path.text() == str(tmp_path / "repo")
    wizard.next()                               # same folder: no second probe needed
    assert wizard.currentId() == PAGE_ENCRYPTION
    assert wizard.encryption_page.encrypt.isChecked()
    assert wizard.encryption_page.password.text() == PASSWORD

    wizard.reject()
    assert wizard.result() == QDialog.DialogCode.Rejected
    assert repositories(data_dir) == {}
    assert not (tmp_path / "repo").exists()
    assert secrets.get(secrets.repo_key("Kept")) is None


def test_cancel_while_the_folder_is_probed(qtbot, data_dir: Path, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, data_dir)
    wizard.name_page.name.setText("Cancelled")
    wizard.next()
    wizard.local_page.path.setText(str(tmp_path / "repo"))
    wizard.next()
    assert wizard.local_page.checking and not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.reject()
    qtbot.waitUntil(lambda: not wizard.local_page.checking, timeout=WAIT_MS)
    assert wizard.currentId() == -1                   # the late result does not move a cancelled wizard on
    assert wizard.local_page.checked_key is None
    assert repositories(data_dir) == {} and not (tmp_path / "repo").exists()


def test_attach_existing_encrypted_repository(qtbot, data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "existing"
    folder.mkdir()
    Repository.init(LocalStorage(folder), PASSWORD, block_size=512 << 10).close()
    wizard = make_wizard(qtbot, data_dir)
    go_to_encryption(qtbot, wizard, "Found", folder)
    assert "holds a repository" in wizard.local_page.found.text()
    page = wizard.encryption_page
    assert page.mode == "attach-encrypted"
    assert not page.password.isHidden() and page.repeat.isHidden()     # its password once, no repeat
    assert not page.block_size.isEnabled() and page.block_size.currentData() == 512 << 10
    wizard.next()
    assert page.error.message == "Enter the password of the encrypted repository."
    page.password.setText("wrong password")
    wizard.next()
    assert dict(wizard.summary_page.summary.rows)["Action"] == "attach the repository it holds"

    wizard.button(QWizard.WizardButton.FinishButton).click()      # the key derivation fails in the background
    qtbot.waitUntil(lambda: not wizard.saving, timeout=WAIT_MS)
    assert wizard.isVisible() or wizard.result() != QDialog.DialogCode.Accepted
    assert "password" in wizard.summary_page.error.message.lower()
    assert repositories(data_dir) == {}

    wizard.back()
    page.password.setText(PASSWORD)
    wizard.next()
    finish(qtbot, wizard)
    assert wizard.result() == QDialog.DialogCode.Accepted and not wizard.created
    assert repositories(data_dir)["Found"].encrypted


def test_edit_points_the_repository_at_its_new_folder(qtbot, data_dir: Path, tmp_path: Path) -> None:
    with Catalog.open(data_dir) as catalog:
        add_local(catalog, "Moved", str(tmp_path / "old"))
        add_local(catalog, "Other", str(tmp_path / "other"))
        entry = catalog.get_repository("Moved")
    shutil.move(tmp_path / "old", tmp_path / "new")

    wizard = make_wizard(qtbot, data_dir, existing=entry)
    assert wizard.windowTitle() == "Edit repository"
    assert wizard.name_page.name.text() == "Moved" and wizard.name_page.name.isReadOnly()
    assert not wizard.name_page.sftp.isEnabled()
    wizard.next()
    assert wizard.local_page.path.text() == str(tmp_path / "old")
    wizard.local_page.path.setText(str(tmp_path / "other"))      # another repository: refused
    wizard.next()
    qtbot.waitUntil(lambda: not wizard.local_page.checking and not wizard.local_page.error.isHidden(),
                    timeout=WAIT_MS)
    assert wizard.local_page.error.message.startswith("This folder is already the repository 'Other'")
    wizard.local_page.path.setText(str(tmp_path / "new"))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_ENCRYPTION, timeout=WAIT_MS)
    assert wizard.encryption_page.mode == "edit" and not wizard.encryption_page.block_size.isEnabled()
    wizard.next()
    assert dict(wizard.summary_page.summary.rows)["Local folder"] == str(tmp_path / "new")
    finish(qtbot, wizard)

    assert wizard.result() == QDialog.DialogCode.Accepted and wizard.saved_name == "Moved"
    updated = repositories(data_dir)["Moved"]
    assert updated.location == str(tmp_path / "new") and updated.id == entry.id
    assert updated.repo_uid == entry.repo_uid


def test_edit_refuses_a_folder_without_the_repository(qtbot, data_dir: Path, tmp_path: Path) -> None:
    with Catalog.open(data_dir) as catalog:
        entry, _, _ = add_local(catalog, "Kept", str(tmp_path / "kept"))
    wizard = make_wizard(qtbot, data_dir, existing=entry)
    wizard.next()
    wizard.local_page.path.setText(str(tmp_path / "empty"))
    wizard.next()
    qtbot.waitUntil(lambda: not wizard.local_page.checking and not wizard.local_page.error.isHidden(),
                    timeout=WAIT_MS)
    assert wizard.local_page.error.message.startswith("This folder holds no repository")
    wizard.reject()
    assert repositories(data_dir)["Kept"].location == str(tmp_path / "kept")


def test_sftp_page_validation(qtbot, data_dir: Path, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, data_dir)
    wizard.name_page.name.setText("Off-site")
    wizard.name_page.sftp.setChecked(True)
    wizard.next()
    assert wizard.currentId() == PAGE_SFTP
    page = wizard.sftp_page
    expectations = [
        (lambda: None, "Enter the SFTP server's host name or address.", page.host),
        (lambda: page.host.setText("backup@host"), "'backup@host' is not a host name", page.host),
        (lambda: (page.host.setText("backup.example.org"), page.port.setText("70000")),
         "The port must be a number from 1 to 65535, not '70000'.", page.port),
        (lambda: page.port.setText("2222"), "Enter the user name to log in with.", page.user),
        (lambda: page.user.setText("backup"), "Choose the private key file, or log in with a password.",
         page.key_file),
        (lambda: page.key_file.setText(str(tmp_path / "missing_key")), "does not exist", page.key_file),
        (lambda: page.use_password.setChecked(True), "Enter the SSH password, or log in with a key file.",
         page.password),
        (lambda: page.password.setText("ssh secret"), "Enter the folder on the server", page.path),
    ]
    for change, message, field in expectations:
        change()
        wizard.next()
        assert wizard.currentId() == PAGE_SFTP
        assert message in page.error.message
        assert page.invalid is field
    page.path.setText("backups/office")
    assert page.request().location == sftp_location("backup", "backup.example.org", 2222, "backups/office")
    assert page.request().location == "backup@backup.example.org:2222/backups/office"
    assert page.request().ssh_password == "ssh secret" and page.request().key_file is None


def test_host_key_dialog_unknown_key() -> None:
    dialog = HostKeyDialog("[sftp.example.org]:2222", "ssh-ed25519", "SHA256:abcDEF123")
    texts = "\n".join(label.text() for label in dialog.findChildren(type(dialog.fingerprint_label)))
    assert "[sftp.example.org]:2222 is not known yet" in texts
    assert "ssh-ed25519" in texts and "SHA256:abcDEF123" in texts
    assert dialog.reject_button.isDefault() and not dialog.accept_button.isDefault()
    dialog.accept_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    dialog = HostKeyDialog("[sftp.example.org]:2222", "ssh-ed25519", "SHA256:abcDEF123")
    dialog.reject_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_host_key_dialog_changed_key_only_refuses() -> None:
    dialog = HostKeyDialog("[sftp.example.org]:2222", fingerprint="SHA256:new", old_fingerprint="SHA256:old",
                           known_hosts="/home/admin/known_hosts")
    texts = "\n".join(label.text() for label in dialog.findChildren(type(dialog.fingerprint_label)))
    assert dialog.changed_key
    assert "has changed" in texts and "SHA256:old" in texts and "SHA256:new" in texts
    assert "/home/admin/known_hosts" in texts
    assert not hasattr(dialog, "accept_button")
    assert [b.text() for b in dialog.buttons.buttons()] == ["Close"]


# ---------------------------------------------------------------------------------------------- SFTP end to end

SSHD_SCRIPT = Path(__file__).resolve().parents[1] / "sshd.sh"


def start_sshd(base: Path) -> dict[str, str]:
    result = subprocess.run([str(SSHD_SCRIPT), "start", str(base)], capture_output=True, text=True, timeout=600)
    if result.returncode == 77:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


@pytest.fixture
def sshd() -> Iterator[dict[str, str]]:
    """A real OpenSSH server on 127.0.0.1 (tests/sshd.sh) with its own host key, for this test only."""
    if os.geteuid() != 0 or not SSHD_SCRIPT.exists():
        pytest.skip("the test sshd needs root and tests/sshd.sh")
    base = Path(tempfile.mkdtemp(prefix="bc-gui-sshd-", dir="/tmp"))
    os.chmod(base, 0o755)                         # the test account must reach its remote folder
    try:
        server = start_sshd(base)
        server["DIR"] = str(base)
        yield server
    finally:
        subprocess.run([str(SSHD_SCRIPT), "stop", str(base)], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def host_fingerprint(server: dict[str, str]) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", server["HOSTKEY_PUB"]], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]                  # "256 SHA256:... comment (ED25519)"


def answer_host_key(wizard: RepositoryWizard, button: str) -> None:
    """Click `button` ("accept", "reject", "close") of the host key dialog once it is shown (it is modal)."""
    tries = [0]

    def poll() -> None:
        tries[0] += 1
        if not shiboken6.isValid(wizard):
            return
        dialog = wizard.host_key_dialog
        if dialog is not None and dialog.isVisible():
            if button == "close":
                dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()
            else:
                getattr(dialog, f"{button}_button").click()
        elif tries[0] < 1500:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)


def sftp_wizard(qtbot, data_dir: Path, server: dict[str, str], folder: str, *, password: bool = False):
    wizard = make_wizard(qtbot, data_dir)
    wizard.name_page.name.setText("Off-site")
    wizard.name_page.sftp.setChecked(True)
    wizard.next()
    page = wizard.sftp_page
    page.host.setText(server["HOST"])
    page.port.setText(server["PORT"])
    page.user.setText(server["USER"])
    if password:
        page.use_password.setChecked(True)
        page.password.setText(server["PASSWORD"])
    else:
        page.key_file.setText(server["KEY"])
    page.path.setText(folder)
    return wizard, page


def test_sftp_unknown_host_key_accepted_then_repository_created(qtbot, data_dir: Path, sshd) -> None:
    folder = f"{sshd['REMOTE']}/office"
    wizard, page = sftp_wizard(qtbot, data_dir, sshd, folder)
    assert page.request().location == f"{sshd['USER']}@127.0.0.1:{sshd['PORT']}/{folder}"   # //abs: absolute
    answer_host_key(wizard, "accept")
    wizard.next()                                  # test connection → unknown key → accepted → tested again
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_ENCRYPTION, timeout=WAIT_MS)
    dialog = wizard.host_key_dialog
    assert dialog is not None and not dialog.changed_key
    assert dialog.fingerprint_label.text() == host_fingerprint(sshd)
    assert page.accepted_fingerprint == host_fingerprint(sshd)
    assert page.result.text().startswith("✔ connected to")

    encryption = wizard.encryption_page
    assert encryption.mode == "new" and encryption.encrypt.isChecked()       # off-site: encrypted by default
    encryption.password.setText(PASSWORD)
    encryption.repeat.setText(PASSWORD)
    wizard.next()
    assert dict(wizard.summary_page.summary.rows)["Log in with"] == f"key {sshd['KEY']}"
    finish(qtbot, wizard)

    assert wizard.result() == QDialog.DialogCode.Accepted and wizard.created
    entry = repositories(data_dir)["Off-site"]
    assert entry.kind == "sftp" and entry.encrypted and entry.options["key_file"] == sshd["KEY"]
    assert (Path(folder) / "config.json").is_file()
    assert secrets.get(secrets.repo_key("Off-site")) == PASSWORD
    assert host_fingerprint(sshd).removeprefix("SHA256:") not in (data_dir / "catalog.db").read_bytes().decode(
        "latin-1")


def test_sftp_rejected_host_key_stays_on_the_page(qtbot, data_dir: Path, sshd) -> None:
    wizard, page = sftp_wizard(qtbot, data_dir, sshd, "office")
    answer_host_key(wizard, "reject")
    wizard.next()
    qtbot.waitUntil(lambda: not page.checking and not page.error.isHidden(), timeout=WAIT_MS)
    assert wizard.currentId() == PAGE_SFTP
    assert page.error.message == "The host key was rejected: the console does not connect to this server."
    assert page.accepted_fingerprint is None
    assert repositories(data_dir) == {}


def test_sftp_password_login_and_changed_host_key(qtbot, data_dir: Path, sshd) -> None:
    wizard, page = sftp_wizard(qtbot, data_dir, sshd, "office", password=True)
    answer_host_key(wizard, "accept")
    page.test_button.click()                       # Test connection: verifies, stays on the page
    qtbot.waitUntil(lambda: not page.checking and page.result.text().startswith("✔"), timeout=WAIT_MS)
    assert wizard.currentId() == PAGE_SFTP
    assert "does not exist yet" in page.result.text()
    old = host_fingerprint(sshd)

    # The server gets a new host key: the console refuses, names both fingerprints, offers no way to accept.
    for key in Path(sshd["DIR"]).glob("host_key*"):
        key.unlink()
    subprocess.run([str(SSHD_SCRIPT), "restart", sshd["DIR"]], capture_output=True, check=True, timeout=120)
    new = host_fingerprint(sshd)
    assert new != old
    answer_host_key(wizard, "close")
    page.path.setText("office2")                   # new inputs: tested again
    page.test_button.click()
    qtbot.waitUntil(lambda: not page.checking and not page.error.isHidden(), timeout=WAIT_MS)
    dialog = wizard.host_key_dialog
    assert dialog is not None and dialog.changed_key
    assert dialog.old_label.text() == f"ssh-ed25519 {old}" and dialog.fingerprint_label.text() == f"ssh-ed25519 {new}"
    assert "has changed: connection refused" in page.error.message
    wizard.next()                                  # Next tries again and is refused again
    answer_host_key(wizard, "close")
    qtbot.waitUntil(lambda: not page.checking, timeout=WAIT_MS)
    assert wizard.currentId() == PAGE_SFTP


def test_sftp_wrong_password_is_reported_inline(qtbot, data_dir: Path, sshd) -> None:
    wizard, page = sftp_wizard(qtbot, data_dir, sshd, "office", password=True)
    page.password.setText("not the password")
    answer_host_key(wizard, "accept")
    wizard.next()
    qtbot.waitUntil(lambda: not page.checking and not page.error.isHidden(), timeout=WAIT_MS)
    assert wizard.currentId() == PAGE_SFTP
    assert "password" in page.error.message.lower()


def test_sftp_edit_switches_to_password_login(qtbot, data_dir: Path, sshd) -> None:
    folder = f"{sshd['REMOTE']}/office"
    location = sftp_location(sshd["USER"], sshd["HOST"], int(sshd["PORT"]), folder)
    with Catalog.open(data_dir) as catalog:
        entry, created, _ = repo_ops.add_sftp(catalog, "Off-site", location, key_file=sshd["KEY"],
                                              accept_host_key=host_fingerprint(sshd))
    assert created and entry.options["auth"] == "key"
    wizard = make_wizard(qtbot, data_dir, existing=entry)
    wizard.next()
    page = wizard.sftp_page
    assert (page.host.text(), page.port.text(), page.user.text(), page.path.text()) == (
        sshd["HOST"], sshd["PORT"], sshd["USER"], folder)
    assert page.use_key.isChecked() and page.key_file.text() == sshd["KEY"]
    page.use_password.setChecked(True)
    page.password.setText("not the password")
    wizard.next()                                  # the known host key: no dialog; the login fails
    qtbot.waitUntil(lambda: not page.checking and not page.error.isHidden(), timeout=WAIT_MS)
    assert wizard.currentId() == PAGE_SFTP and wizard.host_key_dialog is None
    assert secrets.get(repo_ops.sftp_password_key("Off-site")) is None
    page.password.setText(sshd["PASSWORD"])
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_ENCRYPTION, timeout=WAIT_MS)
    wizard.next()
    finish(qtbot, wizard)
    assert wizard.result() == QDialog.DialogCode.Accepted
    saved = repositories(data_dir)["Off-site"]
    assert saved.options["auth"] == "password" and "key_file" not in saved.options
    assert saved.location == location and saved.repo_uid == entry.repo_uid
    assert secrets.get(repo_ops.sftp_password_key("Off-site")) == sshd["PASSWORD"]
