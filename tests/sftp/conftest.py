"""Fixtures for the SFTP tests: a real OpenSSH sshd on 127.0.0.1 (tests/sshd.sh) started once per session,
private servers for tests that kill, restart or re-key their server, and a fresh remote folder per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sftp.sftp_helpers import RemoteFolder, Server, dispose, make_storage, new_folder, new_server

from console.core import secrets
from console.core.storage.sftp import SftpStorage


@pytest.fixture(autouse=True)
def forget_process_secrets() -> Iterator[None]:
    """Secrets remembered for the process (no keyring, --password-stdin) must not leak from one test to the next."""
    secrets._session.clear()
    yield
    secrets._session.clear()


@pytest.fixture(scope="session")
def sshd() -> Iterator[Server]:
    """The shared server. Tests must not kill, restart or re-key it (use `private_sshd` for that)."""
    server = new_server()
    try:
        yield server.start()
    finally:
        dispose(server)


@pytest.fixture
def private_sshd() -> Iterator[Server]:
    """A server of this test alone: it may be killed, restarted or given a new host key."""
    server = new_server()
    try:
        yield server.start()
    finally:
        dispose(server)


@pytest.fixture
def remote(sshd: Server, request: pytest.FixtureRequest) -> RemoteFolder:
    """A fresh, not yet existing folder on the shared server (its parent belongs to the test account)."""
    return new_folder(sshd, request.node.name)


@pytest.fixture
def private_remote(private_sshd: Server, request: pytest.FixtureRequest) -> RemoteFolder:
    return new_folder(private_sshd, request.node.name)


@pytest.fixture
def storage(sshd: Server, remote: RemoteFolder, data_dir: Path) -> Iterator[SftpStorage]:
    """A storage on a fresh, existing remote folder, host key trusted, key login."""
    remote.mkdir()
    st = make_storage(sshd, remote, data_dir)
    try:
        yield st
    finally:
        st.close()
