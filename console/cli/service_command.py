"""`backup-console service [--tick SECONDS] [--once]`: the headless scheduler in the foreground.

Prints one line per started / finished run (one JSON object per line with --json), logs to <log dir>/service.log,
and exits 0 on SIGTERM / SIGINT after stopping the running session cleanly. `--once` plans and runs one tick, then
exits with the worst result of what it ran (0 success or nothing due, 3 warning, 1 failed).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime
from typing import Any

from console.cli.output import iso, print_json
from console.core import paths
from console.core.errors import UsageError
from console.core.model import SessionStatus
from console.core.operations.service import Service, ServiceEvent

MIN_TICK = 0.1


def _event_doc(e: ServiceEvent) -> dict[str, Any]:
    doc: dict[str, Any] = {"event": e.event, "time": iso(datetime.now().astimezone()), "job": e.action.job,
                           "action": e.action.kind, "reason": e.action.reason}
    if e.session is not None:
        doc |= {"session": e.session.id, "status": e.session.status.value, "error": e.session.error}
    if e.message:
        doc["message"] = e.message
    return doc


def _event_line(e: ServiceEvent) -> str:
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    what = "health check of " if e.action.kind == "health_check" else ""
    if e.event == "started":
        return f"{stamp} started {what}{e.action.job}: {e.action.reason}"
    if e.event == "finished" and e.session is not None:
        error = f" — {e.session.error}" if e.session.error else ""
        return f"{stamp} finished {what}{e.action.job}: {e.session.status.value}{error} (session {e.session.id})"
    return f"{stamp} skipped {what}{e.action.job}: {e.message}"


def service(args: argparse.Namespace) -> int:
    if args.tick < MIN_TICK:
        raise UsageError(f"--tick must be at least {MIN_TICK} seconds")
    as_json = bool(getattr(args, "json", False))

    def report(e: ServiceEvent) -> None:
        if as_json and args.once:
            return                       # --once --json prints one document at the end
        print(json.dumps(_event_doc(e), default=str) if as_json else _event_line(e), flush=True)

    with Service(paths.data_dir(args.data_dir), tick=args.tick, report=report) as svc:
        if args.once:
            svc.tick_once()
            statuses = [s.status for _, s in svc.results if s is not None]
            if as_json:
                print_json([{"job": a.job, "action": a.kind, "reason": a.reason,
                             "session": s.id if s else None, "status": s.status.value if s else "skipped"}
                            for a, s in svc.results])
            if SessionStatus.FAILED in statuses:
                return 1
            return 3 if SessionStatus.WARNING in statuses else 0
        stop = threading.Event()

        def on_signal(signum: int, _frame: object) -> None:
            # Only set the event: run_forever wakes up, cancels the running session and waits for it to end
            # (taking the service's lock here could deadlock with the interrupted main thread).
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
        if not as_json:
            print(f"service running (tick {args.tick:g} s); stop with Ctrl+C or SIGTERM", flush=True)
        svc.run_forever(stop)
        if not as_json:
            print("service stopped", flush=True)
    sys.stdout.flush()
    return 0


def register_service(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `service` command to the CLI's subcommands."""
    help = "run the scheduler headless in the foreground: scheduled jobs, immediate/periodic copies, health checks"
    p = sub.add_parser("service", parents=[common], help=help, description=help)
    p.add_argument("--tick", type=float, default=30.0, metavar="SECONDS",
                   help="how often the scheduler plans (default 30)")
    p.add_argument("--once", action="store_true", help="plan and run one tick, then exit (for scripts)")
    p.set_defaults(func=service)
