"""Errors the core raises. Each carries a message written for an admin: what went wrong and what to do.

The CLI maps `UsageError` to exit code 2 and every other `ConsoleError` to exit code 1; anything else is a bug.
"""


class ConsoleError(Exception):
    """An expected failure with a message meant for the user (no traceback needed)."""


class UsageError(ConsoleError):
    """Bad input from the user: a wrong name, a value out of range, a missing folder (exit code 2)."""


class NotFoundError(UsageError):
    """A named object (repository, job, backup, point, session) does not exist."""


class AlreadyExistsError(UsageError):
    """An object with that name exists already."""


class RepositoryError(ConsoleError):
    """The repository cannot be used: missing, not a repository, newer format, unreadable."""


class CorruptDataError(RepositoryError):
    """Data read from a repository failed verification or could not be parsed."""


class WrongPasswordError(RepositoryError):
    """The password does not unlock the repository key."""


class PasswordRequiredError(RepositoryError):
    """The repository is encrypted and no password was found (keyring, stdin or environment)."""


class LockedError(ConsoleError):
    """Another session holds a conflicting lock (same job running, repository busy, GC running)."""


class CancelledError(ConsoleError):
    """The operation was stopped on request (Stop button, SIGTERM, copy window closed)."""


# -- remote repositories (SFTP) ---------------------------------------------------------------------------------------
class RemoteError(ConsoleError):
    """A remote repository's server cannot be used. Deliberately not a RepositoryError: a network outage says
    nothing about the repository's contents (rescan must not mark restore points missing because of it)."""


class RemoteConnectionError(RemoteError):
    """The server is unreachable, refused the connection, did not answer in time, or the connection dropped."""


class RemoteAuthError(RemoteError):
    """The server refused the login (wrong user, key or password), or the secret needed to log in is missing."""


class KeyFileError(UsageError):
    """An SSH private key file is missing, unreadable, not a key, or its passphrase is missing or wrong."""


class HostKeyError(RemoteError):
    """The server's SSH host key is not the one the console knows (base of the two cases below)."""


class HostKeyUnknownError(HostKeyError):
    """The server's host key is not in the console's known_hosts yet: the admin compares and accepts it once."""

    def __init__(self, host: str, port: int, key_type: str, fingerprint: str, message: str = "") -> None:
        self.host, self.port, self.key_type, self.fingerprint = host, port, key_type, fingerprint
        super().__init__(message or (
            f"the SSH host key of {host}:{port} is not known yet: {key_type} {fingerprint}; compare it with the "
            f"server's own fingerprint and accept it if they match"))


class HostKeyChangedError(HostKeyError):
    """The server presents a different host key than the one accepted before: refused, never auto-accepted."""

    def __init__(self, host: str, port: int, key_type: str, fingerprint: str, known: list[str],
                 known_hosts: str = "") -> None:
        self.host, self.port, self.key_type, self.fingerprint, self.known = host, port, key_type, fingerprint, known
        self.new_fingerprint = fingerprint                      # names the GUI's host key dialog reads
        self.old_fingerprint = ", ".join(known)
        where = f" in {known_hosts}" if known_hosts else ""
        super().__init__(
            f"WARNING: the SSH host key of {host}:{port} has CHANGED: known {', '.join(known)}, now presented "
            f"{key_type} {fingerprint}. Someone may be intercepting the connection, or the server was reinstalled. "
            f"Connection refused; if the change is expected, remove the old key of {host}:{port}{where} and "
            f"accept the new one")
