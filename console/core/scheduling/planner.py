"""The scheduler's decisions: given the time, the jobs and what happened so far, which runs are due now.

Pure functions over plain data (no catalog, no clock, no I/O), so every rule is tested with a fake clock. The service
(console/core/operations/service.py) and the GUI fill `PlannerState` from the catalog and execute the actions.

Rules:
* Backup jobs run by their schedule (`daily`, `every`, `after JOB`; `manual` / none never run by themselves). A job
  that has never run is measured from its creation (`every` jobs run right away), and a run missed while no
  scheduler was running is made up once when one comes back.
* Copy jobs: immediate mode runs while points are pending; periodic mode every `interval` seconds since its last start
  (the first run right away with `process_latest`, else one interval after creation). No copy run and no health check
  starts outside the copy window. The health check follows its own schedule (default: last Sunday of the month).
* Disabled jobs never run; a running job is never started again.
* A failed run is retried up to 3 times, 5, 15 and 45 minutes after the previous attempt ended; then the job waits
  for its next regular time. A success resets the count (it counts consecutive failed runs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from console.core.errors import UsageError
from console.core.model import Job, JobKind, SessionStatus
from console.core.scheduling.specs import (
    DEFAULT_HEALTH_CHECK,
    CopyWindow,
    format_interval,
    parse_health_check,
    parse_schedule,
    parse_window,
)

log = logging.getLogger(__name__)

RETRY_BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=45))
MAX_RETRIES = len(RETRY_BACKOFF)
DEFAULT_COPY_INTERVAL = 24 * 3600            # seconds, as stored in Job.options["interval"]
OK_RESULTS = (SessionStatus.SUCCESS.value, SessionStatus.WARNING.value)

ActionKind = Literal["run", "health_check"]


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    job: str
    reason: str


@dataclass
class JobState:
    """What the scheduler knows about one job's past runs (filled from the catalog's sessions)."""

    last_start: datetime | None = None        # latest backup/copy run (health checks are separate)
    last_end: datetime | None = None
    last_result: str | None = None            # SessionStatus value of that run, None while it runs / never ran
    attempts: int = 0                         # consecutive failed runs, newest first
    running: bool = False                     # a run or health check of the job is active (any process)
    pending: bool = False                     # copy jobs: restore points are waiting to be copied
    last_health_check: datetime | None = None  # start of the latest health-check session


@dataclass
class PlannerState:
    jobs: dict[str, JobState] = field(default_factory=dict)
    since: datetime | None = None             # when the scheduler started: the base for jobs with no creation time

    def of(self, name: str) -> JobState:
        return self.jobs.get(name) or JobState()


@dataclass(frozen=True)
class Due:
    """When a job next wants to start (`at`, None = not by itself) and what it would do."""

    at: datetime | None
    kind: ActionKind = "run"
    reason: str = ""


NEVER = Due(None)


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def _local(dt: datetime, now: datetime) -> datetime:
    """`dt` in the time zone of `now`, so wall-clock schedules are evaluated in the scheduler's local time."""
    return dt.astimezone(now.tzinfo)


def _base(job: Job, state: PlannerState, now: datetime) -> datetime:
    return _local(job.created or state.since or now, now)


def _window(job: Job) -> CopyWindow | None:
    spec = job.options.get("window")
    return parse_window(spec) if spec else None


def _retry(js: JobState) -> Due | None:
    """The retry of a failed run, while retries remain (a new series starts after each regular attempt)."""
    if js.last_result != SessionStatus.FAILED.value or js.last_end is None or js.attempts <= 0:
        return None
    retry = js.attempts % (MAX_RETRIES + 1)     # 1 → first retry next; 0 → retries used up
    if retry == 0:
        return None
    return Due(js.last_end + RETRY_BACKOFF[retry - 1], "run", f"retry {retry} of {MAX_RETRIES} after a failed run")


def _retries_exhausted(js: JobState) -> bool:
    return js.last_result == SessionStatus.FAILED.value and js.attempts > 0 and js.attempts % (MAX_RETRIES + 1) == 0


def _backup_due(now: datetime, job: Job, state: PlannerState) -> Due:
    spec = (job.schedule or {}).get("spec")
    if not spec:
        return NEVER
    schedule = parse_schedule(spec)
    if schedule.kind == "manual":
        return NEVER
    js = state.of(job.name)
    retry = _retry(js)
    if retry is not None:
        return retry
    if schedule.kind == "after":
        upstream = state.of(schedule.after_job or "")
        mine = js.last_start or _base(job, state, now)
        if upstream.last_end is not None and upstream.last_result in OK_RESULTS and upstream.last_end > mine:
            return Due(upstream.last_end, "run", f"after {schedule.after_job} finished")
        return NEVER
    if schedule.kind == "every" and js.last_start is None:
        return Due(_base(job, state, now), "run", f"first run ({schedule.to_spec()})")
    at = schedule.next_run(_local(js.last_start or _base(job, state, now), now))
    return Due(at, "run", f"scheduled ({schedule.to_spec()})")


def _copy_run_due(now: datetime, job: Job, state: PlannerState) -> Due:
    js = state.of(job.name)
    interval = timedelta(seconds=int(job.options.get("interval") or DEFAULT_COPY_INTERVAL))
    if job.options.get("mode", "immediate") == "periodic":
        retry = _retry(js)
        if retry is not None:
            return retry
        if js.last_start is not None:
            return Due(js.last_start + interval, "run", f"periodic copy (every {format_interval(interval)})")
        if job.options.get("process_latest"):
            return Due(_base(job, state, now), "run", "first periodic copy (process the latest point)")
        return Due(_base(job, state, now) + interval, "run", f"first periodic copy (after {format_interval(interval)})")
    # immediate
    if not js.pending:
        return NEVER
    retry = _retry(js)
    if retry is not None:
        return retry
    if _retries_exhausted(js) and js.last_start is not None:
        # Given up on the new points for now: try again after the interval (or when a linked job's run triggers it).
        return Due(js.last_start + interval, "run", "restore points pending (retries used up)")
    if js.last_result not in (None, SessionStatus.SUCCESS.value) and js.last_end is not None:
        # The last run left points behind (warning, stopped): no tight loop, wait the first back-off step.
        return Due(js.last_end + RETRY_BACKOFF[0], "run", "restore points pending")
    return Due(now, "run", "restore points pending")


def _health_check_due(now: datetime, job: Job, state: PlannerState) -> Due:
    spec = job.options.get("health_check") or DEFAULT_HEALTH_CHECK
    check = parse_health_check(spec)
    js = state.of(job.name)
    at = check.next_run(_local(js.last_health_check or _base(job, state, now), now))
    return Due(at, "health_check", f"health check ({check.to_spec()})") if at else NEVER


def _in_window(due: Due, window: CopyWindow | None, now: datetime) -> Due:
    """Move a due time into the copy window (the next moment it is open)."""
    if due.at is None or window is None:
        return due
    start = window.next_start(_local(max(due.at, now, key=_utc), now))
    return Due(start, due.kind, due.reason) if start else NEVER


def next_due(now: datetime, job: Job, state: PlannerState) -> Due:
    """When `job` next wants to start, ignoring only whether it is running right now. Raises UsageError for a
    schedule, window or health-check spec that does not parse."""
    if not job.enabled:
        return NEVER
    if job.kind == JobKind.BACKUP:
        return _backup_due(now, job, state)
    window = _window(job)
    run = _in_window(_copy_run_due(now, job, state), window, now)
    check = _in_window(_health_check_due(now, job, state), window, now)
    candidates = [d for d in (run, check) if d.at is not None]
    if not candidates:
        return NEVER
    # The copy run goes first when both are due; the health check follows on the next plan.
    due_now = [d for d in candidates if _utc(d.at) <= _utc(now)]        # type: ignore[arg-type]
    if due_now:
        return due_now[0]
    return min(candidates, key=lambda d: _utc(d.at))                    # type: ignore[arg-type]


def plan(now: datetime, jobs: list[Job], state: PlannerState) -> list[Action]:
    """The actions due at `now`, at most one per job, earliest due first. A job whose spec does not parse is
    skipped (and logged), so one bad job never stops the others."""
    due: list[tuple[datetime, str, Action]] = []
    for job in jobs:
        if not job.enabled or state.of(job.name).running:
            continue
        try:
            d = next_due(now, job, state)
        except UsageError as e:
            log.warning("job %s is not scheduled: %s", job.name, e)
            continue
        if d.at is not None and _utc(d.at) <= _utc(now):
            due.append((_utc(d.at), job.name, Action(d.kind, job.name, d.reason)))
    due.sort(key=lambda item: (item[0], item[1]))
    return [action for _, _, action in due]


def next_runs(now: datetime, jobs: list[Job], state: PlannerState) -> dict[str, datetime | None]:
    """Each job's next automatic start (for `Job.next_run`): due times in the past are shown as `now`."""
    out: dict[str, datetime | None] = {}
    for job in jobs:
        try:
            d = next_due(now, job, state)
        except UsageError:
            out[job.name] = None
            continue
        out[job.name] = None if d.at is None else max(d.at, now, key=_utc)
    return out
