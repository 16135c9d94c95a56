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
