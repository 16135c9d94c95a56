"""Printing for the CLI: JSON documents, aligned tables, sizes, and a progress bar for terminals."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from console.core.engine.events import Events, Progress
from console.core.units import human_duration, human_size  # noqa: F401 - the CLI's names


def iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


def local_time(t: datetime | None) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def print_json(doc: Any) -> None:
    json.dump(doc, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str = "(none)") -> None:
    if not rows:
        print(empty)
        return
    cells = [[str(c) for c in headers]] + [[("-" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


class TerminalEvents(Events):
    """Progress bar on a terminal (bytes, rate, ETA); plain lines otherwise. Warnings and errors to stderr."""

    def __init__(self, quiet: bool = False) -> None:
        self.tty = sys.stderr.isatty()
        self.quiet = quiet
        self._last_line = 0.0
        self._drawn = False

    def log(self, level: str, message: str, object: str | None = None) -> None:
        if self.quiet and level == "info":
            return
        if level in ("warning", "error"):
            self._clear()
            print(f"{level}: {message}", file=sys.stderr)

    def object_status(self, name: str, status: str, detail: str = "") -> None:
        if not self.quiet and status not in ("running",):
            self._clear()
            print(f"{name}: {status}{' — ' + detail if detail else ''}", file=sys.stderr)

    def progress(self, p: Progress) -> None:
        if self.quiet:
            return
        done = p.fraction
        pct = f"{100 * done:5.1f}%" if done is not None else "  ...  "
        eta = p.eta
        text = (f"{pct} {human_size(p.bytes_done)}"
                + (f" / {human_size(p.bytes_total)}" if p.bytes_total else "")
                + f"  {human_size(p.rate)}/s  {p.files_done} files"
                + (f"  ETA {human_duration(eta)}" if eta is not None else ""))
        if self.tty:
            width = shutil.get_terminal_size((80, 20)).columns
            bar_w = max(10, width - len(text) - 4)
            filled = int(bar_w * done) if done is not None else 0
            line = f"[{'#' * min(filled, bar_w)}{'.' * (bar_w - min(filled, bar_w))}] {text}"
            sys.stderr.write("\r" + line[:width - 1])
            sys.stderr.flush()
            self._drawn = True
        elif time.monotonic() - self._last_line > 5:
            self._last_line = time.monotonic()
            print(f"{p.phase}: {text}", file=sys.stderr)

    def _clear(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\033[K")
            self._drawn = False

    def done(self) -> None:
        self._clear()


def print_repository_added(args: argparse.Namespace, entry: Any, created: bool, note: str) -> int:
    """What `repo add-local` and `repo add-sftp` print."""
    if args.json:
        print_json({"name": entry.name, "kind": entry.kind, "location": entry.location, "created": created,
                    "encrypted": entry.encrypted, "id": entry.repo_uid, "note": note})
    else:
        print(f"{'created' if created else 'added existing'} repository {entry.name} at {entry.location}"
              f"{' (encrypted)' if entry.encrypted else ''}")
        if note:
            print(note)
    return 0
