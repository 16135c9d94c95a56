"""`backup-console`: the command line face of the console (CLI.md is the contract). No command opens the GUI."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import signal
import sys
from pathlib import Path

from console import __version__
from console.cli import commands
from console.core.errors import ConsoleError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WARNING = 0, 1, 2, 3
log = logging.getLogger("console")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:   # argparse exits 2 too; keep the message to one clear line
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _common_options(suppress: bool) -> argparse.ArgumentParser:
    """Global options, accepted before and after the command. The copies on subcommands default to SUPPRESS
    so they never overwrite a value given before the command."""
    d = {"default": argparse.SUPPRESS} if suppress else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="where the catalog, logs and known_hosts live "
                                           "(default: $BACKUP_CONSOLE_HOME or the platform's user data dir)", **d)
    common.add_argument("--json", action="store_true", help="print one JSON document", **d)
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logging", **d)
    common.add_argument("--password-stdin", action="store_true",
                        help="read the repository password from the first line of standard input", **d)
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(suppress=False)
    p = _Parser(prog="backup-console", parents=[common],
                description="Backup Copy Console: backup jobs, backup copy jobs and restores (3-2-1 rule). "
                            "Without a command, opens the GUI.")
    p.add_argument("--version", action="version", version=f"backup-console {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.register(sub, _common_options(suppress=True))
    return p


def _setup_logging(args: argparse.Namespace) -> None:
    """Console: warnings (everything with --debug). Log file in the data dir: info and up, for the admin."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if args.debug else logging.INFO)
    term = logging.StreamHandler(sys.stderr)
    term.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # engine messages reach the user through the session events; the terminal only shows them with --debug
    term.setLevel(logging.DEBUG if args.debug else logging.CRITICAL)
    root.addHandler(term)
    try:
        from console.core import paths
        logfile = paths.log_dir(paths.data_dir(args.data_dir)) / "console.log"
        fh = logging.handlers.RotatingFileHandler(logfile, maxBytes=5 << 20, backupCount=3, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        fh.setLevel(logging.INFO)
        root.addHandler(fh)
    except OSError as e:
        print(f"warning: cannot write the log file: {e}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args)
    if args.command is None:
        from console.gui.app import main as gui_main  # Qt is loaded only for the GUI
        return gui_main(data_dir=Path(args.data_dir) if args.data_dir else None)
    signal.signal(signal.SIGTERM, lambda *_: commands.request_stop("stopped by SIGTERM"))
    try:
        if args.password_stdin:
            commands.read_password_stdin()
        return int(args.func(args) or EXIT_OK)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ConsoleError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:
        if args.debug:
            raise
        print(f"error: unexpected {type(e).__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return EXIT_FAILED
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
