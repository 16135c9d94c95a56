"""The CLI commands: argument parsing glue over console.core.operations (no engine logic here)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from console.cli import sftp_commands
from console.cli.output import (
    TerminalEvents,
    human_duration,
    human_size,
    iso,
    local_time,
    print_json,
    print_repository_added,
    print_table,
)
from console.cli.service_command import register_service
from console.core import paths, secrets
from console.core.catalog import Catalog
from console.core.engine.events import CancelToken
from console.core.engine.retention import PointRef, RetentionPolicy, evaluate, parse_retention_args
from console.core.errors import ConsoleError, UsageError
from console.core.model import BLOCK_SIZES, COMPRESSION_LEVELS, Job, JobKind, PointState, Session, SessionStatus
from console.core.operations import jobs, maintenance
from console.core.operations.backups import delete_backup, describe_backup, remove_missing_points
from console.core.operations.repositories import add_local, remove_repository
from console.core.units import plural

_cancel = CancelToken()


def request_stop(reason: str) -> None:
    _cancel.cancel(reason)


def read_password_stdin() -> None:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError("--password-stdin: no password on standard input")
    secrets.remember_default(line)


def _catalog(args: argparse.Namespace) -> Catalog:
    return Catalog.open(paths.data_dir(args.data_dir))


def _exit_for(session: Session) -> int:
    return {SessionStatus.SUCCESS: 0, SessionStatus.WARNING: 3}.get(session.status, 1)


# -- repositories ----------------------------------------------------------------------------------------------
def repo_add_local(args: argparse.Namespace) -> int:
    password = None
    if args.encrypt:
        password = secrets.get("*new*")
        if not password:
            raise UsageError("--encrypt needs a password: pipe it with --password-stdin or set "
                             "BACKUP_CONSOLE_PASSWORD")
    with _catalog(args) as cat:
        entry, created, note = add_local(cat, args.name, args.path, password, BLOCK_SIZES[args.block_size],
                                         COMPRESSION_LEVELS[args.compression])
    return print_repository_added(args, entry, created, note)


def _repo_json(cat: Catalog, r: Any) -> dict:
    backups = cat.list_backups(repository=r.name)
    points = cat.list_points(repository=r.name)
    return {"name": r.name, "kind": r.kind, "location": r.location, "encrypted": r.encrypted, "id": r.repo_uid,
            "backups": len(backups), "points": len(points),
            "block_size": r.options.get("block_size"), "compression": r.options.get("compression")}


def repo_list(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        docs = [_repo_json(cat, r) for r in cat.list_repositories()]
    if args.json:
        print_json(docs)
    else:
        print_table(["NAME", "KIND", "LOCATION", "ENCRYPTED", "BACKUPS", "POINTS"],
                    [[d["name"], d["kind"], d["location"], "yes" if d["encrypted"] else "no", d["backups"],
                      d["points"]] for d in docs],
                    empty="no repositories yet: add one with `backup-console repo add-local NAME PATH`")
    return 0


def repo_remove(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        entry = remove_repository(cat, args.name)
    if args.json:
        print_json({"name": entry.name, "removed": True})
    else:
        print(f"repository {entry.name} removed from the configuration; its files stay in {entry.location} "
              "(add it again and rescan to use them)")
    return 0


def _session_done(args: argparse.Namespace, session: Session, summary: str) -> int:
    if args.json:
        print_json(_session_json(session, with_log=False))
    else:
        print(f"{summary}: {session.status.value}" + (f" — {session.error}" if session.error else ""))
    return _exit_for(session)


def repo_rescan(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        session, res = maintenance.rescan(cat, args.name, TerminalEvents(quiet=args.json))
    if res and not args.json:
        print(f"imported {plural(res.backups_imported, 'backup')} and {plural(res.points_imported, 'restore point')}; "
              f"{res.points_missing} missing, {res.points_back} back")
    return _session_done(args, session, f"rescan of {args.name}")


def repo_check(args: argparse.Namespace) -> int:
    if args.subset is not None and not args.read_data:
        raise UsageError("--subset goes with --read-data")
    with _catalog(args) as cat:
        session = maintenance.check(cat, args.name, args.read_data, args.subset or 100.0,
                                    TerminalEvents(quiet=args.json), _cancel)
    if not args.json and session.status == SessionStatus.SUCCESS:
        st = session.stats
        print(f"{plural(st.get('points', 0), 'restore point')} checked, {plural(st.get('packs_read', 0), 'pack')} read "
              f"({human_size(st.get('read', 0))}): no problems")
    return _session_done(args, session, f"check of {args.name}")


def repo_gc(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        session = maintenance.gc(cat, args.name, TerminalEvents(quiet=args.json), _cancel)
    if not args.json and session.status == SessionStatus.SUCCESS:
        st = session.stats
        print(f"removed {plural(st.get('packs_deleted', 0), 'pack')}, repacked {st.get('packs_repacked', 0)}, "
              f"freed {human_size(st.get('bytes_freed', 0))}")
    return _session_done(args, session, f"GC of {args.name}")


# -- jobs ---------------------------------------------------------------------------------------------------------
def _retention_from_args(args: argparse.Namespace) -> RetentionPolicy:
    return parse_retention_args(args.retention_days, args.retention_points, args.gfs_weekly, args.gfs_monthly,
                                args.gfs_yearly)


def job_add_backup(args: argparse.Namespace) -> int:
    policy = _retention_from_args(args)
    sources = []
    for src in args.source:
        p = Path(src).expanduser().absolute()
        if not p.is_dir():
            raise UsageError(f"source folder {p} does not exist" if not p.exists() else f"source {p} is not a folder")
        sources.append(str(p))
    with _catalog(args) as cat:
        job = jobs.add_backup_job(cat, args.name, args.repo, sources, retention=policy.to_dict(),
                                  schedule=args.schedule, description=args.description or "",
                                  copy_jobs=args.copy_job or [])
        doc = _job_json(cat, job)
    if args.json:
        print_json(doc)
    else:
        print(f"backup job {job.name}: {plural(len(sources), 'source')} → {job.repository}; "
              f"retention {policy.describe()}"
              + (f"; copied by {', '.join(doc['linked'])}" if doc["linked"] else ""))
    return 0


def job_add_copy(args: argparse.Namespace) -> int:
    policy = _retention_from_args(args)
    with _catalog(args) as cat:
        job = jobs.add_copy_job(cat, args.name, args.target, from_jobs=args.from_job or [],
                                from_repos=args.from_repo or [], mode=args.mode, interval=args.interval,
                                retention=policy.to_dict(), window=args.window, copy_history=args.copy_history,
                                process_latest=args.process_latest,
                                health_check=None if args.health_check == "never" else args.health_check,
                                description=args.description or "", encrypt=args.encrypt)
        doc = _job_json(cat, job)
    if args.json:
        print_json(doc)
    else:
        print(f"backup copy job {job.name} ({job.options['mode']}): {', '.join(doc['sources'])} → {job.repository}; "
              f"retention {policy.describe()}")
    return 0


def job_link(args: argparse.Namespace, unlink: bool = False) -> int:
    with _catalog(args) as cat:
        if unlink:
            cat.get_job(args.backup_job), cat.get_job(args.copy_job)
            cat.unlink_jobs(args.backup_job, args.copy_job)
        else:
            jobs.link(cat, args.backup_job, args.copy_job)
    if args.json:
        print_json({"backup_job": args.backup_job, "copy_job": args.copy_job, "linked": not unlink})
    else:
        print(f"{args.backup_job} {'unlinked from' if unlink else 'linked to'} {args.copy_job}")
    return 0


def job_clone(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        job = jobs.clone_job(cat, args.name, args.new_name)
        doc = _job_json(cat, job)
    if args.json:
        print_json(doc)
    else:
        print(f"job {args.name} cloned as {job.name}")
    return 0


def _job_json(cat: Catalog, job: Job) -> dict:
    linked = cat.linked_copy_jobs(job.name) if job.kind == JobKind.BACKUP else cat.linked_backup_jobs(job.name)
    sources = job.sources if job.kind == JobKind.BACKUP else linked + job.sources
    doc = {"name": job.name, "kind": job.kind.value, "enabled": job.enabled, "description": job.description,
           "sources": sources, "linked": linked, "mode": job.options.get("mode"), "options": job.options,
           "retention": job.retention, "schedule": job.schedule,
           "last_result": job.last_result, "next_run": iso(job.next_run)}
    doc["repository" if job.kind == JobKind.BACKUP else "target"] = job.repository
    return doc


def job_list(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        docs = [_job_json(cat, j) for j in cat.list_jobs()]
    if args.json:
        print_json(docs)
    else:
        print_table(["NAME", "KIND", "ENABLED", "REPOSITORY", "SOURCES", "LINKED", "LAST RESULT"],
                    [[d["name"], d["kind"], "yes" if d["enabled"] else "no", d.get("repository") or d.get("target"),
                      len(d["sources"]), ", ".join(d["linked"]) or "-", d["last_result"] or "never run"]
                     for d in docs],
                    empty="no jobs yet: add one with `backup-console job add-backup NAME --repo REPO --source DIR`")
    return 0


def job_show(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        job = cat.get_job(args.name)
        doc = _job_json(cat, job)
        doc["sessions"] = [_session_json(s, with_log=False) for s in cat.list_sessions(job=job.name, limit=5)]
    if args.json:
        print_json(doc)
        return 0
    print(f"{job.kind.value} job {job.name}{'' if job.enabled else ' (disabled)'}")
    if job.description:
        print(f"  description: {job.description}")
    print(f"  repository:  {job.repository}")
    for s in job.sources:
        print(f"  source:      {s}")
    print(f"  retention:   {RetentionPolicy.from_dict(job.retention).describe()}")
    print(f"  linked:      {', '.join(doc['linked']) or '-'}")
    print(f"  last result: {job.last_result or 'never run'}")
    for s in doc["sessions"]:
        print(f"  session {s['id']}: {s['status']} {s['started']}")
    return 0


def _print_session(job: str, session: Session) -> None:
    st = session.stats
    verb = "copied" if session.kind == "copy" else "stored"
    print(f"job {job}: {session.status.value}"
          + (f" — {session.error}" if session.error else "")
          + (f" — {human_size(st.get('processed'))} processed, {human_size(st.get('read'))} read, "
             f"{human_size(st.get('transferred'))} {verb} in {human_duration(st.get('duration'))}"
             f" ({human_size(st.get('rate'))}/s)" if "processed" in st else "")
          + (f", bottleneck: {st['bottleneck']}" if st.get("bottleneck") else ""))


def job_run(args: argparse.Namespace) -> int:
    data_dir = paths.data_dir(args.data_dir)
    events = TerminalEvents(quiet=args.json)
    sessions: list[Session] = []
    with _catalog(args) as cat:
        job = cat.get_job(args.name)
        if job.kind == JobKind.COPY and args.active_full:
            raise UsageError("--active-full is for backup jobs")
        if job.kind == JobKind.BACKUP and (args.copy_history or args.ignore_window):
            raise UsageError("--copy-history and --ignore-window are for backup copy jobs")
        session = jobs.run_job(cat, job.name, data_dir, events, _cancel, active_full=args.active_full,
                               sync_all=args.copy_history, ignore_window=args.ignore_window)
        events.done()
        sessions.append(cat.get_session(session.id))
        # immediate copy: a linked copy job follows its backup job's new points right away
        if job.kind == JobKind.BACKUP and not args.no_copy and session.status in (SessionStatus.SUCCESS,
                                                                                  SessionStatus.WARNING):
            for name in jobs.immediate_copy_jobs(cat, job.name):
                if not jobs.pending_points(cat, name):
                    continue
                if not args.json:
                    _print_session(job.name, sessions[0])
                    print(f"immediate copy: running {name}")
                try:
                    s = jobs.run_job(cat, name, data_dir, events, _cancel)
                except ConsoleError as e:     # outside its window, or running elsewhere: the service catches up
                    print(f"immediate copy {name} not started: {e}", file=sys.stderr)
                    continue
                events.done()
                sessions.append(cat.get_session(s.id))
    if args.json:
        docs = [_session_json(s, with_log=False) for s in sessions]
        print_json(docs[0] if len(docs) == 1 else docs[0] | {"copies": docs[1:]})
    else:
        for i, s in enumerate(sessions):
            if i or len(sessions) == 1:
                _print_session(s.job, s)
    codes = {_exit_for(s) for s in sessions}
    return 1 if 1 in codes else 3 if 3 in codes else 0


def job_health_check(args: argparse.Namespace) -> int:
    events = TerminalEvents(quiet=args.json)
    with _catalog(args) as cat:
        session = jobs.run_health_check(cat, args.name, paths.data_dir(args.data_dir), events, _cancel, args.scope)
        events.done()
        session = cat.get_session(session.id)
    checked = plural(session.stats.get("points", 0), "point")
    return _session_done(args, session, f"health check of {args.name} ({checked})")


def _set_enabled(args: argparse.Namespace, enabled: bool) -> int:
    with _catalog(args) as cat:
        job = cat.get_job(args.name)
        job.enabled = enabled
        cat.update_job(job)
    if not args.json:
        print(f"job {job.name} {'enabled' if enabled else 'disabled'}")
    else:
        print_json({"name": job.name, "enabled": enabled})
    return 0


def job_delete(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        job = cat.get_job(args.name)
        owned = [b for b in cat.list_backups() if b.job == job.name]
        if args.delete_backups and owned and not _confirm(
                args, f"delete job {job.name} and {plural(len(owned), 'backup')} from disk: "
                      + "; ".join(describe_backup(cat, b) for b in owned)):
            return 1
        cat.delete_job(args.name)
        failed = 0
        for b in owned if args.delete_backups else []:
            s = delete_backup(cat, b.id, from_disk=True, cancel=_cancel)
            if s.status != SessionStatus.SUCCESS:
                failed += 1
                print(f"backup {b.id}: {s.error}", file=sys.stderr)
    if args.json:
        print_json({"name": args.name, "deleted": True, "backups_deleted": len(owned) - failed
                    if args.delete_backups else 0})
    elif args.delete_backups:
        print(f"job {args.name} deleted with {len(owned) - failed} of {plural(len(owned), 'backup')}")
    else:
        print(f"job {args.name} deleted; its backups stay (listed as orphaned in `backups list`)")
    return 1 if failed else 0


def _confirm(args: argparse.Namespace, what: str) -> bool:
    """Destructive commands say exactly what goes and default to No; --yes answers for scripts."""
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{what}. Add --yes to confirm (no terminal to ask on)")
    answer = input(f"{what}.\nProceed? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        print("nothing deleted")
        return False
    return True


def backups_delete(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        backup = cat.get_backup(args.backup)
        what = describe_backup(cat, backup)
        if args.from_disk:
            what = (f"delete {what} from disk" + (" (GFS points are kept)" if args.keep_gfs else "")
                    + "; their space is freed")
        else:
            what = f"remove {what} from the configuration (files stay; `repo rescan` imports them again)"
        if not _confirm(args, what):
            return 1
        session = delete_backup(cat, backup.id, from_disk=args.from_disk, keep_gfs=args.keep_gfs, cancel=_cancel)
    st = session.stats
    return _session_done(args, session, f"backup {backup.id}: {plural(st.get('points_removed', 0), 'point')} removed"
                         + (f", {plural(st['points_kept'], 'GFS point')} kept" if st.get("points_kept") else "")
                         + (f", {human_size(st['bytes_freed'])} freed" if st.get("bytes_freed") else ""))


def points_remove_missing(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        backup = cat.get_backup(args.backup)
        missing = cat.list_points(backup=backup.id, state=PointState.MISSING)
        if not missing:
            if args.json:
                print_json({"backup": backup.id, "removed": 0})
            else:
                print(f"backup {backup.id} has no missing restore points; nothing to do")
            return 0
        how = "remove from disk (whatever is left of them)" if args.from_disk else "forget (catalog only)"
        listed = ", ".join(f"{p.id} ({local_time(p.created)})" for p in missing[:10])
        if not _confirm(args, f"{how} {plural(len(missing), 'missing restore point')} of backup {backup.id}: {listed}"
                              + (" …" if len(missing) > 10 else "")):
            return 1
        session = remove_missing_points(cat, backup.id, from_disk=args.from_disk, cancel=_cancel)
    return _session_done(args, session, f"backup {backup.id}: "
                                        f"{plural(session.stats.get('points_removed', 0), 'missing point')} removed")


# -- backups, points, browse, restore -------------------------------------------------------------------------------
def backups_list(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        docs = []
        for b in cat.list_backups():
            pts = cat.list_points(backup=b.id)
            docs.append({"id": b.id, "job": b.job, "kind": b.kind.value, "repository": b.repository,
                         "objects": len({p.object for p in pts}), "points": len(pts),
                         "source_backup": b.source_backup, "orphaned": cat.is_orphaned(b),
                         "missing": sum(p.state == PointState.MISSING for p in pts)})
    if args.json:
        print_json(docs)
    else:
        print_table(["ID", "JOB", "KIND", "REPOSITORY", "OBJECTS", "POINTS", "NOTE"],
                    [[d["id"], d["job"], d["kind"], d["repository"], d["objects"], d["points"],
                      "orphaned" if d["orphaned"] else (f"{d['missing']} missing" if d["missing"] else "")]
                     for d in docs])
    return 0


def points_list(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        backups = {b.id: b for b in cat.list_backups()}
        pts = cat.list_points(backup=cat.get_backup(args.backup).id if args.backup else None, job=args.job,
                              state=PointState(args.state) if args.state else None)
        docs = [{"id": p.id, "backup": p.backup, "job": backups[p.backup].job if p.backup in backups else None,
                 "object": p.object, "repository": backups[p.backup].repository if p.backup in backups else None,
                 "created": iso(p.created), "type": p.type.value, "state": p.state.value, "gfs": p.gfs,
                 "data_size": p.data_size, "stored_size": p.stored_size, "files": p.files,
                 "source_point": p.source_point} for p in pts]
    if args.json:
        print_json(docs)
    else:
        print_table(["ID", "CREATED", "JOB", "OBJECT", "TYPE", "STATE", "GFS", "SIZE", "STORED"],
                    [[d["id"], local_time(p.created), d["job"], d["object"], d["type"], d["state"],
                      "".join(d["gfs"]) or "-", human_size(d["data_size"]), human_size(d["stored_size"])]
                     for d, p in zip(docs, pts, strict=True)])
    return 0


def browse(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        point, nodes = maintenance.browse(cat, args.point, args.path or "")
    docs = [{"name": n.name, "type": n.type, "size": n.size if n.type == "file" else None, "mode": oct(n.mode),
             "mtime": iso(datetime.fromtimestamp(n.mtime / 1e9).astimezone()), "target": n.target} for n in nodes]
    if args.json:
        print_json(docs)
    else:
        print_table(["TYPE", "MODE", "SIZE", "MODIFIED", "NAME"],
                    [[d["type"], d["mode"], human_size(d["size"]) if d["size"] is not None else "",
                      local_time(datetime.fromtimestamp(n.mtime / 1e9).astimezone()),
                      d["name"] + ("/" if n.type == "dir" else f" -> {n.target}" if n.type == "symlink" else "")]
                     for d, n in zip(docs, nodes, strict=True)], empty="(empty folder)")
    return 0


def restore(args: argparse.Namespace) -> int:
    events = TerminalEvents(quiet=args.json)
    with _catalog(args) as cat:
        session, stats = maintenance.restore(cat, args.point, args.to, args.path, args.overwrite, events, _cancel)
        events.done()
    if args.json:
        print_json(_session_json(session, with_log=False))
    elif stats is not None:
        print(f"restored {plural(stats.files, 'file')}, {plural(stats.dirs, 'folder')}, {plural(stats.links, 'link')}, "
              f"{human_size(stats.bytes)} to {args.to} in {human_duration(stats.duration)}"
              + (f"; {plural(stats.skipped, 'existing item')} kept" if stats.skipped else ""))
    else:
        print(f"restore: {session.status.value} — {session.error}")
    return _exit_for(session)


# -- retention ------------------------------------------------------------------------------------------------------
def retention_preview(args: argparse.Namespace) -> int:
    now = datetime.fromisoformat(args.now) if args.now else datetime.now().astimezone()
    if now.tzinfo is None:
        now = now.astimezone()
    if args.job:
        with _catalog(args) as cat:
            job = cat.get_job(args.job)
            policy = RetentionPolicy.from_dict(job.retention)
            pts = [p for p in cat.list_points(job=job.name) if p.state == PointState.OK]
            refs = [PointRef(p.id, p.created, frozenset(p.gfs)) for p in pts]
    else:
        if not (args.policy and args.points):
            raise UsageError("give --job JOB, or both --policy FILE and --points FILE")
        policy = RetentionPolicy.from_dict(_load_json(args.policy, dict))
        refs = []
        for d in _load_json(args.points, list):
            try:
                created = datetime.fromisoformat(str(d["created"]).replace("Z", "+00:00"))
                refs.append(PointRef(str(d["id"]), created if created.tzinfo else created.astimezone(),
                                     frozenset(d.get("gfs", []))))
            except (KeyError, TypeError, ValueError) as e:
                raise UsageError(f"{args.points}: each point needs an id and an ISO 8601 created time ({e})") from None
    decisions = evaluate(policy, refs, now)
    docs = [{"id": d.id, "created": d.created.isoformat(), "keep": d.keep, "reasons": d.reasons,
             "gfs_expires": {k: v.isoformat() for k, v in d.gfs_expires.items()}} for d in decisions]
    if args.json:
        print_json(docs)
    else:
        print(f"policy: {policy.describe()}")
        print_table(["ID", "CREATED", "DECISION", "REASONS"],
                    [[d["id"], d["created"], "keep" if d["keep"] else "delete", ", ".join(d["reasons"]) or "-"]
                     for d in docs], empty="(no restore points)")
    return 0


def _load_json(path: str, kind: type) -> Any:
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except ValueError as e:
        raise UsageError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(doc, kind):
        raise UsageError(f"{path} must hold a JSON {'object' if kind is dict else 'list'}")
    return doc


# -- sessions -------------------------------------------------------------------------------------------------------
def _session_json(s: Session, with_log: bool = True) -> dict:
    st = s.stats or {}
    doc = {"id": s.id, "job": s.job, "kind": s.kind, "status": s.status.value, "started": iso(s.started),
           "ended": iso(s.ended), "processed": st.get("processed", 0), "read": st.get("read", 0),
           "transferred": st.get("transferred", 0), "rate": st.get("rate", 0),
           "bottleneck": st.get("bottleneck"), "duration": st.get("duration"), "error": s.error,
           "stats": st, "objects": [{"name": o.name, "status": o.status, "detail": o.detail} for o in s.objects]}
    if with_log:
        doc["log"] = [{"time": iso(ln.time), "level": ln.level, "message": ln.message, "object": ln.object}
                      for ln in s.log]
    return doc


def sessions_list(args: argparse.Namespace) -> int:
    with _catalog(args) as cat:
        ss = cat.list_sessions(job=args.job, limit=args.limit)
    if args.json:
        print_json([_session_json(s, with_log=False) for s in ss])
    else:
        print_table(["ID", "JOB", "KIND", "STATUS", "STARTED", "DURATION", "PROCESSED"],
                    [[s.id, s.job, s.kind, s.status.value, local_time(s.started),
                      human_duration(s.stats.get("duration")), human_size(s.stats.get("processed"))] for s in ss],
                    empty="no sessions yet")
    return 0


def sessions_show(args: argparse.Namespace) -> int:
    try:
        sid = int(args.session)
    except ValueError:
        raise UsageError(f"session ids are numbers (see `sessions list`), not {args.session!r}") from None
    with _catalog(args) as cat:
        s = cat.get_session(sid)
    doc = _session_json(s)
    if args.json:
        print_json(doc)
        return 0
    print(f"session {s.id}: {s.kind} of {s.job} — {s.status.value}")
    print(f"  started {local_time(s.started)}, ended {local_time(s.ended)}")
    for key in ("processed", "read", "transferred"):
        print(f"  {key:12} {human_size(doc[key])}")
    print(f"  {'rate':12} {human_size(doc['rate'])}/s   bottleneck: {doc['bottleneck'] or '-'}")
    if s.error:
        print(f"  error: {s.error}")
    for o in s.objects:
        print(f"  object {o.name}: {o.status} {o.detail}")
    for ln in s.log:
        print(f"  {local_time(ln.time)} {ln.level:7} {ln.message}")
    return 0


# -- demo -----------------------------------------------------------------------------------------------------------
def demo(args: argparse.Namespace) -> int:
    from console.core.operations.demo import create_demo
    data_dir = paths.data_dir(args.data_dir)
    folder = Path(args.dir) if args.dir else data_dir / "demo"
    events = TerminalEvents(quiet=args.json)
    with _catalog(args) as cat:
        d = create_demo(cat, data_dir, folder, events)
        events.done()
    if args.json:
        print_json({"folder": str(d.folder), "sources": str(d.sources),
                    "sessions": [_session_json(s, with_log=False) for s in d.sessions]})
    else:
        print(f"demo created in {d.folder}:")
        print("  repositories demo-primary and demo-offsite, backup job demo-backup (sample data in "
              f"{d.sources}), backup copy job demo-offsite-copy linked to it")
        for s in d.sessions:
            _print_session(s.job, s)
        print("next: `backup-console points list`, `backup-console browse POINT`, or `backup-console` for the GUI")
    return max((_exit_for(s) for s in d.sessions), default=0)


# -- parser ---------------------------------------------------------------------------------------------------------
def _add_retention_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--retention-days", type=int, metavar="N", help="keep restore points of the last N days (+ today)")
    g.add_argument("--retention-points", type=int, metavar="N", help="keep the last N restore points (default 7)")
    p.add_argument("--gfs-weekly", metavar="N:WEEKDAY", help="keep weekly full points for N weeks, e.g. 4:sunday")
    p.add_argument("--gfs-monthly", metavar="N:WEEK", help="keep monthly points for N months, e.g. 12:last")
    p.add_argument("--gfs-yearly", metavar="N:MONTH", help="keep yearly points for N years, e.g. 5:january")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    def cmd(parent: Any, name: str, func: Any, help: str) -> argparse.ArgumentParser:
        p = parent.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(func=func)
        return p

    def group(name: str, help: str) -> Any:
        p = sub.add_parser(name, help=help, description=help)
        g = p.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True, parser_class=type(p))
        return g

    repo = group("repo", "repositories: where backups are stored")
    p = cmd(repo, "add-local", repo_add_local, "add a repository in a local folder (created if empty)")
    p.add_argument("name")
    p.add_argument("path")
    p.add_argument("--encrypt", action="store_true", help="AES-256 encryption; the password comes from "
                                                          "--password-stdin or BACKUP_CONSOLE_PASSWORD")
    p.add_argument("--block-size", choices=list(BLOCK_SIZES), default="1M")
    p.add_argument("--compression", choices=list(COMPRESSION_LEVELS), default="default")
    p = cmd(repo, "add-sftp", sftp_commands.repo_add_sftp, "add a repository on an SFTP server (created if empty)")
    sftp_commands.add_sftp_arguments(p)
    p = cmd(repo, "test", sftp_commands.repo_test, "connect to a repository and report what is there")
    sftp_commands.add_test_arguments(p)
    cmd(repo, "list", repo_list, "list repositories")
    cmd(repo, "rescan", repo_rescan, "rebuild the catalog's view of a repository from its files").add_argument("name")
    p = cmd(repo, "check", repo_check, "verify a repository's structure (and data)")
    p.add_argument("name")
    p.add_argument("--read-data", action="store_true", help="read, decrypt and re-hash every block")
    p.add_argument("--subset", type=float, metavar="PCT", help="with --read-data: only PCT percent of the packs")
    cmd(repo, "remove", repo_remove, "remove a repository from the configuration (files stay)").add_argument("name")
    cmd(repo, "gc", repo_gc, "reclaim space no restore point uses").add_argument("name")

    job = group("job", "backup jobs and backup copy jobs")
    p = cmd(job, "add-backup", job_add_backup, "create a backup job")
    p.add_argument("name")
    p.add_argument("--repo", required=True)
    p.add_argument("--source", action="append", required=True, metavar="PATH", help="a folder to protect (repeat)")
    p.add_argument("--description")
    p.add_argument("--schedule", metavar="SPEC", help="e.g. 'daily 22:00 mon-fri' or 'every 4h'")
    p.add_argument("--copy-job", action="append", metavar="COPYJOB", help="link to a backup copy job (repeat)")
    _add_retention_args(p)
    p = cmd(job, "add-copy", job_add_copy, "create a backup copy job (copies backups to another repository)")
    p.add_argument("name")
    p.add_argument("--target", required=True, metavar="REPO", help="the repository the copies go to")
    p.add_argument("--from-job", action="append", metavar="JOB", help="copy this backup job's backups (repeat)")
    p.add_argument("--from-repo", action="append", metavar="REPO",
                   help="copy every backup job's backups in this repository, now and later (repeat)")
    p.add_argument("--mode", choices=jobs.MODES, default="immediate",
                   help="immediate: copy each new restore point as it appears; periodic: every --interval")
    p.add_argument("--interval", default="24h", help="periodic mode: how often, e.g. 24h, 4h, 30m")
    p.add_argument("--window", metavar="SPEC", help="allowed hours, e.g. 'mon-fri 20-06; sat,sun 0-24'")
    p.add_argument("--copy-history", action="store_true", help="first run copies every existing point, not only "
                                                               "the latest")
    p.add_argument("--process-latest", action="store_true",
                   help="periodic mode: copy the most recent point at once instead of waiting for a new one")
    p.add_argument("--health-check", default=jobs.DEFAULT_HEALTH_CHECK, metavar="SPEC",
                   help="when to verify the copies (default 'monthly last sunday 05:00'; 'never')")
    p.add_argument("--encrypt", action="store_true", help="require the target repository to be encrypted")
    p.add_argument("--description")
    _add_retention_args(p)
    for name, unlink in (("link", False), ("unlink", True)):
        p = cmd(job, name, lambda a, u=unlink: job_link(a, u),
                f"{name} a backup job {'from' if unlink else 'to'} a backup copy job")
        p.add_argument("backup_job", metavar="BACKUPJOB")
        p.add_argument("copy_job", metavar="COPYJOB")
    p = cmd(job, "clone", job_clone, "copy a job's settings under a new name")
    p.add_argument("name")
    p.add_argument("new_name")
    p = cmd(job, "health-check", job_health_check, "verify a backup copy job's copies now")
    p.add_argument("name")
    p.add_argument("--scope", choices=["newest", "all", "sample"], help="default: the job's setting (newest)")
    cmd(job, "list", job_list, "list jobs")
    cmd(job, "show", job_show, "show one job").add_argument("name")
    p = cmd(job, "run", job_run, "run a job now and wait for its session to end")
    p.add_argument("name")
    p.add_argument("--active-full", action="store_true", help="read every file again (no change detection)")
    p.add_argument("--copy-history", action="store_true", help="copy job: copy every point not yet copied")
    p.add_argument("--ignore-window", action="store_true", help="copy job: run outside the copy window")
    p.add_argument("--no-copy", action="store_true", help="backup job: do not run linked immediate copy jobs after")
    cmd(job, "enable", lambda a: _set_enabled(a, True), "enable a job").add_argument("name")
    cmd(job, "disable", lambda a: _set_enabled(a, False), "disable a job").add_argument("name")
    p = cmd(job, "delete", job_delete, "delete a job (its backups stay unless --delete-backups)")
    p.add_argument("name")
    p.add_argument("--delete-backups", action="store_true", help="also delete the job's backups from disk")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    backups = group("backups", "backups: all restore points of a job in a repository")
    cmd(backups, "list", backups_list, "list backups")
    p = cmd(backups, "delete", backups_delete, "delete a backup from disk, or remove it from the configuration")
    p.add_argument("backup")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--from-disk", action="store_true", help="delete its files and free the space")
    g.add_argument("--from-configuration", action="store_true", help="forget it; files stay (rescan imports them)")
    p.add_argument("--keep-gfs", action="store_true", help="with --from-disk: keep points that have GFS flags")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    points = group("points", "restore points")
    p = cmd(points, "list", points_list, "list restore points")
    p.add_argument("--backup")
    p.add_argument("--job")
    p.add_argument("--state", choices=[s.value for s in PointState])
    p = cmd(points, "remove-missing", points_remove_missing, "remove a backup's missing restore points")
    p.add_argument("backup")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--forget", action="store_true", help="remove them from the catalog only")
    g.add_argument("--from-disk", action="store_true", help="also delete whatever is left of them")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = cmd(sub, "browse", browse, "list a folder inside a restore point")
    p.add_argument("point")
    p.add_argument("path", nargs="?")
    p = cmd(sub, "restore", restore, "restore a restore point (or some of its paths) to a folder")
    p.add_argument("point")
    p.add_argument("--to", required=True, metavar="DIR")
    p.add_argument("--path", action="append", metavar="P", help="restore only this path (repeat)")
    p.add_argument("--overwrite", choices=["never", "newer", "always"], default="never")

    p = cmd(sub, "demo", demo, "create sample data, 2 repositories, a backup job and a linked copy job; run them")
    p.add_argument("--dir", metavar="DIR", help="where the sample data and repositories go (default: DATA_DIR/demo)")

    retention = group("retention", "retention policies")
    p = cmd(retention, "preview", retention_preview, "show which restore points a policy keeps and why")
    p.add_argument("--job")
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--points", metavar="FILE")
    p.add_argument("--now", metavar="ISO8601")

    sessions = group("sessions", "job sessions (history)")
    p = cmd(sessions, "list", sessions_list, "list sessions, newest first")
    p.add_argument("--job")
    p.add_argument("--limit", type=int, default=50)
    cmd(sessions, "show", sessions_show, "show one session with its log").add_argument("session")

    register_service(sub, common)


__all__ = ["ConsoleError", "register", "request_stop"]
