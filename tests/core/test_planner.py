"""The planner's rules, table-driven with a fake clock (no sleeping): schedules, `after`, immediate and periodic copy,
copy windows, health checks, retries with back-off, disabled and running jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.core.model import Job, JobKind
from console.core.scheduling.planner import Action, JobState, PlannerState, next_runs, plan

BERLIN = ZoneInfo("Europe/Berlin")
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
T0 = datetime(2024, 1, 10, 12, 0, tzinfo=BERLIN)          # a Wednesday
CREATED = datetime(2024, 1, 1, 9, 0, tzinfo=BERLIN)


def backup(schedule: str | None, name: str = "B", enabled: bool = True, created: datetime = CREATED) -> Job:
    return Job(name=name, kind=JobKind.BACKUP, repository="r1", enabled=enabled, created=created,
               schedule={"spec": schedule} if schedule else None)


def copy(name: str = "C", created: datetime = CREATED, **options: Any) -> Job:
    options.setdefault("mode", "immediate")
    options.setdefault("health_check", "never")
    return Job(name=name, kind=JobKind.COPY, repository="r2", created=created, options=options)


def failed(end: datetime, attempts: int) -> JobState:
    return JobState(last_start=end - MIN, last_end=end, last_result="failed", attempts=attempts)


def done(start: datetime, result: str = "success", **kw: Any) -> JobState:
    return JobState(last_start=start, last_end=start + MIN, last_result=result, **kw)


@dataclass
class Case:
    id: str
    now: datetime
    jobs: list[Job]
    states: dict[str, JobState] = field(default_factory=dict)
    expected: list[tuple[str, str]] = field(default_factory=list)      # (kind, job) in order
    reason: str | None = None                                          # a word the first action's reason contains


CASES = [
    # --- backup jobs: schedules -----------------------------------------------------------------------------------
    Case("no schedule never runs", T0, [backup(None)]),
    Case("manual never runs", T0, [backup("manual")], {"B": done(T0 - 30 * DAY)}),
    Case("every: first run right away", T0, [backup("every 5m")], expected=[("run", "B")], reason="first"),
    Case("every: not yet", T0, [backup("every 4h")], {"B": done(T0 - 4 * HOUR + MIN)}),
    Case("every: due", T0, [backup("every 4h")], {"B": done(T0 - 4 * HOUR)}, [("run", "B")], "every 4h"),
    Case("daily: created today, before the time", datetime(2024, 1, 10, 21, 59, tzinfo=BERLIN),
         [backup("daily 22:00", created=T0)]),
    Case("daily: created today, at the time", datetime(2024, 1, 10, 22, 0, tzinfo=BERLIN),
         [backup("daily 22:00", created=T0)], expected=[("run", "B")], reason="daily 22:00"),
    Case("daily: ran yesterday, not yet", datetime(2024, 1, 11, 21, 59, tzinfo=BERLIN), [backup("daily 22:00")],
         {"B": done(datetime(2024, 1, 10, 22, 0, tzinfo=BERLIN))}),
    # the last start comes from the catalog in UTC; the time of day is evaluated in local time (22:00 Berlin)
    Case("daily: UTC last start, local evaluation", datetime(2024, 1, 11, 21, 59, tzinfo=BERLIN),
         [backup("daily 22:00")], {"B": done(datetime(2024, 1, 10, 21, 0, tzinfo=UTC))}),
    Case("daily: UTC last start, due at local 22:00", datetime(2024, 1, 11, 22, 0, tzinfo=BERLIN),
         [backup("daily 22:00")], {"B": done(datetime(2024, 1, 10, 21, 0, tzinfo=UTC))}, [("run", "B")]),
    Case("daily weekdays: not on Saturday", datetime(2024, 1, 13, 22, 0, tzinfo=BERLIN),
         [backup("daily 22:00 mon-fri")], {"B": done(datetime(2024, 1, 12, 22, 0, tzinfo=BERLIN))}),
    Case("daily weekdays: Monday", datetime(2024, 1, 15, 22, 0, tzinfo=BERLIN),
         [backup("daily 22:00 mon-fri")], {"B": done(datetime(2024, 1, 12, 22, 0, tzinfo=BERLIN))}, [("run", "B")]),
    Case("daily: missed run is made up once", datetime(2024, 1, 14, 8, 0, tzinfo=BERLIN), [backup("daily 22:00")],
         {"B": done(datetime(2024, 1, 10, 22, 0, tzinfo=BERLIN))}, [("run", "B")]),
    Case("daily across spring forward: 02:30 runs at 03:30 CEST", datetime(2024, 3, 31, 3, 29, tzinfo=BERLIN),
         [backup("daily 02:30")], {"B": done(datetime(2024, 3, 30, 2, 30, tzinfo=BERLIN))}),
    Case("daily across spring forward: due at 03:30 CEST", datetime(2024, 3, 31, 3, 30, tzinfo=BERLIN),
         [backup("daily 02:30")], {"B": done(datetime(2024, 3, 30, 2, 30, tzinfo=BERLIN))}, [("run", "B")]),
    # --- after JOB --------------------------------------------------------------------------------------------------
    Case("after: upstream finished later", T0, [backup("after A")],
         {"A": done(T0 - 10 * MIN), "B": done(T0 - DAY)}, [("run", "B")], "after A"),
    Case("after: upstream warning counts", T0, [backup("after A")],
         {"A": done(T0 - 10 * MIN, "warning"), "B": done(T0 - DAY)}, [("run", "B")]),
    Case("after: upstream failed", T0, [backup("after A")], {"A": done(T0 - 10 * MIN, "failed"), "B": done(T0 - DAY)}),
    Case("after: upstream finished before my last start", T0, [backup("after A")],
         {"A": done(T0 - 2 * HOUR), "B": done(T0 - HOUR)}),
    Case("after: never ran, upstream ran after my creation", T0, [backup("after A", created=T0 - HOUR)],
         {"A": done(T0 - 10 * MIN)}, [("run", "B")]),
    Case("after: never ran, upstream ran before my creation", T0, [backup("after A", created=T0 - HOUR)],
         {"A": done(T0 - 2 * HOUR)}),
    Case("after: upstream never ran", T0, [backup("after A")]),
    # --- disabled, running ------------------------------------------------------------------------------------------
    Case("disabled never runs", T0, [backup("every 5m", enabled=False)]),
    Case("running is not started again", T0, [backup("every 5m")],
         {"B": JobState(last_start=T0 - HOUR, running=True)}),
    Case("disabled copy with pending points", T0,
         [Job(name="C", kind=JobKind.COPY, repository="r2", enabled=False, options={"mode": "immediate"})],
         {"C": JobState(pending=True)}),
    # --- retries ------------------------------------------------------------------------------------------------------
    Case("retry 1 not before 5 min", T0, [backup("daily 22:00")], {"B": failed(T0 - 4 * MIN, 1)}),
    Case("retry 1 after 5 min", T0, [backup("daily 22:00")], {"B": failed(T0 - 5 * MIN, 1)}, [("run", "B")],
         "retry 1 of 3"),
    Case("retry 2 not before 15 min", T0, [backup("daily 22:00")], {"B": failed(T0 - 14 * MIN, 2)}),
    Case("retry 2 after 15 min", T0, [backup("daily 22:00")], {"B": failed(T0 - 15 * MIN, 2)}, [("run", "B")],
         "retry 2 of 3"),
    Case("retry 3 not before 45 min", T0, [backup("daily 22:00")], {"B": failed(T0 - 44 * MIN, 3)}),
    Case("retry 3 after 45 min", T0, [backup("daily 22:00")], {"B": failed(T0 - 45 * MIN, 3)}, [("run", "B")],
         "retry 3 of 3"),
    Case("retries used up: waits for the regular time", datetime(2024, 1, 11, 21, 59, tzinfo=BERLIN),
         [backup("daily 22:00")], {"B": failed(datetime(2024, 1, 10, 23, 30, tzinfo=BERLIN), 4)}),
    Case("retries used up: regular time", datetime(2024, 1, 11, 22, 0, tzinfo=BERLIN),
         [backup("daily 22:00")], {"B": failed(datetime(2024, 1, 10, 23, 30, tzinfo=BERLIN), 4)}, [("run", "B")],
         "scheduled"),
    Case("a failed regular run after used-up retries retries again", T0, [backup("daily 22:00")],
         {"B": failed(T0 - 5 * MIN, 5)}, [("run", "B")], "retry 1 of 3"),
    Case("back-off holds a frequent job too", T0, [backup("every 5m")], {"B": failed(T0 - 10 * MIN, 2)}),
    Case("manual jobs are not retried", T0, [backup("manual")], {"B": failed(T0 - HOUR, 1)}),
    Case("success resets: regular schedule", T0, [backup("every 4h")], {"B": done(T0 - HOUR, attempts=0)}),
    # --- immediate copy -----------------------------------------------------------------------------------------------
    Case("immediate: pending points", T0, [copy()], {"C": JobState(pending=True)}, [("run", "C")], "pending"),
    Case("immediate: nothing pending", T0, [copy()], {"C": done(T0 - DAY)}),
    Case("immediate: outside the window", datetime(2024, 1, 10, 12, 0, tzinfo=BERLIN), [copy(window="mon-fri 20-06")],
         {"C": JobState(pending=True)}),
    Case("immediate: inside the window across midnight", datetime(2024, 1, 11, 5, 59, tzinfo=BERLIN),
         [copy(window="mon-fri 20-06")], {"C": JobState(pending=True)}, [("run", "C")]),
    Case("immediate: window closed at 06:00", datetime(2024, 1, 11, 6, 0, tzinfo=BERLIN),
         [copy(window="mon-fri 20-06")], {"C": JobState(pending=True)}),
    Case("immediate: stopped run waits a little", T0, [copy()],
         {"C": JobState(last_start=T0 - HOUR, last_end=T0 - MIN, last_result="stopped", pending=True)}),
    Case("immediate: stopped run resumes", T0, [copy()],
         {"C": JobState(last_start=T0 - HOUR, last_end=T0 - 5 * MIN, last_result="stopped", pending=True)},
         [("run", "C")]),
    Case("immediate: failed run is retried with back-off", T0, [copy()],
         {"C": JobState(last_start=T0 - 5 * MIN, last_end=T0 - 4 * MIN, last_result="failed", attempts=1,
                        pending=True)}),
    Case("immediate: retries used up wait for the interval", T0, [copy(interval=6 * 3600)],
         {"C": JobState(last_start=T0 - 5 * HOUR, last_end=T0 - 5 * HOUR, last_result="failed", attempts=4,
                        pending=True)}),
    Case("immediate: retries used up, interval passed", T0, [copy(interval=6 * 3600)],
         {"C": JobState(last_start=T0 - 6 * HOUR, last_end=T0 - 6 * HOUR, last_result="failed", attempts=4,
                        pending=True)}, [("run", "C")]),
    # --- periodic copy ------------------------------------------------------------------------------------------------
    Case("periodic: first run with process_latest", T0, [copy(mode="periodic", interval=86400, process_latest=True,
                                                              created=T0 - MIN)], expected=[("run", "C")]),
    Case("periodic: first run waits one interval", T0, [copy(mode="periodic", interval=86400, created=T0 - HOUR)]),
    Case("periodic: first run after one interval", T0, [copy(mode="periodic", interval=86400, created=T0 - DAY)],
         expected=[("run", "C")], reason="first periodic"),
    Case("periodic: not yet", T0, [copy(mode="periodic", interval=86400)], {"C": done(T0 - DAY + MIN)}),
    Case("periodic: interval since last start", T0, [copy(mode="periodic", interval=86400)],
         {"C": done(T0 - DAY)}, [("run", "C")], "every 1d"),
    Case("periodic: pending points do not matter", T0, [copy(mode="periodic", interval=4 * 3600)],
         {"C": done(T0 - HOUR, pending=True)}),
    Case("periodic: due but outside the window", T0, [copy(mode="periodic", interval=3600, window="sat,sun 0-24")],
         {"C": done(T0 - DAY)}),
    Case("periodic: window opens", datetime(2024, 1, 13, 0, 0, tzinfo=BERLIN),
         [copy(mode="periodic", interval=3600, window="sat,sun 0-24")], {"C": done(T0 - DAY)}, [("run", "C")]),
    Case("periodic: failed run retried", T0, [copy(mode="periodic", interval=86400)],
         {"C": failed(T0 - 15 * MIN, 2)}, [("run", "C")], "retry 2"),
    # --- health check -------------------------------------------------------------------------------------------------
    Case("health check: last Sunday of the month", datetime(2024, 3, 31, 5, 0, tzinfo=BERLIN),
         [copy(health_check=None)], {"C": done(datetime(2024, 3, 30, 1, 0, tzinfo=BERLIN))},
         [("health_check", "C")], "monthly last sunday 05:00"),
    Case("health check: not before its time", datetime(2024, 3, 31, 4, 59, tzinfo=BERLIN),
         [copy(health_check=None)], {"C": done(datetime(2024, 3, 30, 1, 0, tzinfo=BERLIN),
                                                last_health_check=datetime(2024, 2, 25, 5, 0, tzinfo=BERLIN))}),
    Case("health check: done this month", datetime(2024, 4, 1, 5, 0, tzinfo=BERLIN),
         [copy(health_check=None)], {"C": done(datetime(2024, 3, 30, 1, 0, tzinfo=BERLIN),
                                                last_health_check=datetime(2024, 3, 31, 5, 0, tzinfo=BERLIN))}),
    Case("health check: weekly", datetime(2024, 1, 14, 3, 0, tzinfo=BERLIN), [copy(health_check="weekly sun 03:00")],
         {"C": done(T0, last_health_check=datetime(2024, 1, 7, 3, 0, tzinfo=BERLIN))}, [("health_check", "C")]),
    Case("health check: never", datetime(2024, 3, 31, 5, 0, tzinfo=BERLIN), [copy(health_check="never")],
         {"C": done(T0)}),
    Case("health check: outside the window", datetime(2024, 3, 31, 5, 0, tzinfo=BERLIN),
         [copy(health_check=None, window="mon-fri 20-06")], {"C": done(T0)}),
    Case("health check: waits while the job runs", datetime(2024, 3, 31, 5, 0, tzinfo=BERLIN),
         [copy(health_check=None)], {"C": JobState(last_start=T0, running=True)}),
    Case("health check and copy due: copy first", datetime(2024, 3, 31, 5, 0, tzinfo=BERLIN),
         [copy(health_check=None)], {"C": done(T0, pending=True)}, [("run", "C")]),
    # --- several jobs -------------------------------------------------------------------------------------------------
    Case("earliest due first, one action per job", T0,
         [backup("every 4h", name="late"), backup("every 4h", name="early"), backup("every 4h", name="idle"),
          copy(name="copy")],
         {"late": done(T0 - 4 * HOUR - MIN), "early": done(T0 - 5 * HOUR), "idle": done(T0 - HOUR),
          "copy": JobState(pending=True)},
         [("run", "early"), ("run", "late"), ("run", "copy")]),
    Case("a bad spec skips only that job", T0, [backup("sometimes", name="bad"), backup("every 5m", name="good")],
         expected=[("run", "good")]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan(case: Case) -> None:
    actions = plan(case.now, case.jobs, PlannerState(jobs=case.states))
    assert [(a.kind, a.job) for a in actions] == case.expected
    assert all(isinstance(a, Action) and a.reason for a in actions)
    if case.reason:
        assert case.reason in actions[0].reason


def test_plan_for_a_job_created_without_a_time_uses_the_scheduler_start() -> None:
    job = Job(name="B", kind=JobKind.BACKUP, repository="r1", schedule={"spec": "daily 22:00"})
    state = PlannerState(since=datetime(2024, 1, 10, 8, 0, tzinfo=BERLIN))
    assert plan(datetime(2024, 1, 10, 21, 59, tzinfo=BERLIN), [job], state) == []
    assert plan(datetime(2024, 1, 10, 22, 0, tzinfo=BERLIN), [job], state) == [Action("run", "B", "scheduled "
                                                                                     "(daily 22:00)")]


def test_fake_clock_walks_a_schedule() -> None:
    """Step a fake clock through two days; record each start as the service would: exactly the scheduled times."""
    job = backup("daily 22:00 mon-fri", created=datetime(2024, 1, 11, 8, 0, tzinfo=BERLIN))   # Thursday
    state = PlannerState()
    now = datetime(2024, 1, 11, 8, 0, tzinfo=BERLIN)
    starts = []
    while now < datetime(2024, 1, 16, 0, 0, tzinfo=BERLIN):
        if plan(now, [job], state):
            starts.append(now)
            state.jobs["B"] = done(now)
        now += 10 * MIN
    assert starts == [datetime(2024, 1, d, 22, 0, tzinfo=BERLIN) for d in (11, 12, 15)]


def test_fake_clock_walks_retries() -> None:
    """A job that keeps failing: regular run, 3 retries at 5/15/45 minutes, then the next day."""
    job = backup("daily 22:00", created=datetime(2024, 1, 10, 8, 0, tzinfo=BERLIN))
    state = PlannerState()
    now = datetime(2024, 1, 10, 21, 0, tzinfo=BERLIN)
    starts = []
    attempts = 0
    while now < datetime(2024, 1, 11, 23, 0, tzinfo=BERLIN):
        if plan(now, [job], state):
            starts.append(now)
            attempts += 1
            state.jobs["B"] = JobState(last_start=now, last_end=now, last_result="failed", attempts=attempts)
        now += MIN
    first = datetime(2024, 1, 10, 22, 0, tzinfo=BERLIN)
    assert starts == [first, first + 5 * MIN, first + 20 * MIN, first + 65 * MIN, first + DAY, first + DAY + 5 * MIN,
                      first + DAY + 20 * MIN, first + DAY + 65 * MIN][:len(starts)]
    assert len(starts) == 7      # the second day's third retry (23:05) is after the loop ends


def test_next_runs() -> None:
    jobs = [backup("daily 22:00", name="daily"), backup("manual", name="manual"), backup("every 4h", name="every"),
            copy(name="periodic", mode="periodic", interval=3600, window="sat,sun 0-24"),
            copy(name="immediate"), copy(name="pending")]
    state = PlannerState(jobs={"daily": done(datetime(2024, 1, 9, 22, 0, tzinfo=BERLIN)),
                               "every": done(T0 - 5 * HOUR), "periodic": done(T0 - DAY),
                               "pending": JobState(pending=True)})
    got = next_runs(T0, jobs, state)
    assert got == {"daily": datetime(2024, 1, 10, 22, 0, tzinfo=BERLIN), "manual": None, "every": T0,
                   "periodic": datetime(2024, 1, 13, 0, 0, tzinfo=BERLIN), "immediate": None, "pending": T0}
