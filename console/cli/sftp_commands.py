"""`repo add-sftp` and `repo test`: SFTP repositories from the command line.

Secrets never travel as arguments. One standard input carries them in this order:
  line 1 (with --password-stdin): the SSH secret — the SFTP password, or the key passphrase with --key;
  next line (with --repo-password-stdin): the repository password.
Without --repo-password-stdin the repository password comes from BACKUP_CONSOLE_PASSWORD; without
--password-stdin the SSH secret comes from BACKUP_CONSOLE_SFTP_PASSWORD (or is not needed: a key without
passphrase, or the ssh-agent).
"""

from __future__ import annotations

import argparse
import os
import sys

from console.cli.output import print_json
from console.core import paths, secrets
from console.core.catalog import Catalog
from console.core.errors import HostKeyUnknownError, UsageError
from console.core.model import BLOCK_SIZES, COMPRESSION_LEVELS
from console.core.operations.repositories import SFTP_ENV, add_sftp, test_repository

REPO_ENV = "BACKUP_CONSOLE_PASSWORD"

EPILOG = f"""\
PATH is relative to the login folder (backup@nas/backups); start it with a second slash for an absolute path
(backup@nas//srv/backups).

Secrets are never arguments. With --password-stdin the first line of standard input is the SSH secret (the SFTP
password, or with --key the key's passphrase); with --repo-password-stdin the next line is the repository
password, else it comes from {REPO_ENV}. {SFTP_ENV} can hold the SSH secret
instead of standard input. Without --key and without a password, the ssh-agent and ~/.ssh/id_* keys are tried.
Secrets are saved in the OS keyring; without a usable keyring they are asked for on each run (--password-stdin,
{REPO_ENV}, and {SFTP_ENV} for the SSH secret of an encrypted repository).

An unknown server is refused with its host key fingerprint (exit 1): compare it with the server's own
(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there), then run the command again with
--accept-host-key SHA256:... . A changed host key is always refused.
"""


def add_sftp_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("name")
    p.add_argument("location", metavar="USER@HOST[:PORT]/PATH")
    p.add_argument("--key", metavar="FILE", help="private key file (OpenSSH or PEM format) to log in with")
    p.add_argument("--accept-host-key", metavar="SHA256:FINGERPRINT",
                   help="trust the server's host key if it has exactly this fingerprint (first connection only)")
    p.add_argument("--encrypt", action="store_true", help="AES-256 encryption of a new repository; the password "
                                                          f"comes from --repo-password-stdin or {REPO_ENV}")
    p.add_argument("--repo-password-stdin", action="store_true",
                   help="read the repository password from the next line of standard input")
    p.add_argument("--block-size", choices=list(BLOCK_SIZES), default="1M")
    p.add_argument("--compression", choices=list(COMPRESSION_LEVELS), default="default")
    p.add_argument("--throttle", type=float, metavar="MBPS", help="bandwidth limit in MB/s (1 MB = 10^6 bytes)")


def add_test_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("--accept-host-key", metavar="SHA256:FINGERPRINT",
                   help="trust the server's host key if it is not known yet and has exactly this fingerprint")


def _with_accept_hint(e: HostKeyUnknownError) -> HostKeyUnknownError:
    return HostKeyUnknownError(
        e.host, e.port, e.key_type, e.fingerprint,
        f"the SSH host key of {e.host}:{e.port} is not known yet: {e.key_type} {e.fingerprint}; compare it with the "
        f"server's own (ssh-keygen -lf on the server) and, if they match, run the command again with "
        f"--accept-host-key {e.fingerprint}")


def _ssh_secret(args: argparse.Namespace) -> str | None:
    if args.password_stdin:          # main() has read line 1 already (the one secret of --password-stdin)
        return secrets.get("*new*")
    return os.environ.get(SFTP_ENV) or None


def _repo_password(args: argparse.Namespace) -> str | None:
    if args.repo_password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            where = "line 2 (line 1 is the SSH secret)" if args.password_stdin else "line 1"
            raise UsageError(f"--repo-password-stdin: no repository password on standard input ({where})")
        return line
    return os.environ.get(REPO_ENV) or None


def repo_add_sftp(args: argparse.Namespace) -> int:
    ssh_secret = _ssh_secret(args)
    repo_password = _repo_password(args)
    if args.encrypt and not repo_password:
        raise UsageError(f"--encrypt needs a repository password: pipe it with --repo-password-stdin or set "
                         f"{REPO_ENV}")
    if args.throttle is not None and not args.throttle > 0:
        raise UsageError("--throttle is in MB/s and must be more than 0")
    with Catalog.open(paths.data_dir(args.data_dir)) as cat:
        try:
            entry, created, note = add_sftp(
                cat, args.name, args.location, key_file=args.key,
                key_passphrase=ssh_secret if args.key else None, ssh_password=None if args.key else ssh_secret,
                repo_password=repo_password, accept_host_key=args.accept_host_key,
                block_size=BLOCK_SIZES[args.block_size], compression=COMPRESSION_LEVELS[args.compression],
                throttle_mbps=args.throttle, encrypt=args.encrypt)
        except HostKeyUnknownError as e:
            raise _with_accept_hint(e) from None
    from console.cli.commands import print_repository_added  # commands imports this module
    return print_repository_added(args, entry, created, note)


def repo_test(args: argparse.Namespace) -> int:
    with Catalog.open(paths.data_dir(args.data_dir)) as cat:
        try:
            summary = test_repository(cat, args.name, args.accept_host_key)
        except HostKeyUnknownError as e:
            raise _with_accept_hint(e) from None
    if args.json:
        print_json({"name": args.name, "ok": True, "summary": summary})
    else:
        print(summary)
    return 0
