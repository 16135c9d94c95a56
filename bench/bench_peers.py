#!/usr/bin/env python3
"""Transport limits: our first backup and our restore of the shared dataset next to `cp -a` and `rsync -a` of the
same files (what a plain copy costs on this disk), in the same run. Writes WORKDIR/peers-results.json.

A backup does more than a copy (hashing, dedup, compression, packs), so a ratio near 1 means the engine runs at
the speed of the disk; > 1 means it is faster than copying the files one by one (few large pack files).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backup import (  # noqa: E402
    MB,
    REPO_ROOT,
    BenchError,
    ensure_dataset,
    median,
    our_cli,
    ours_env,
    run,
    say,
    table,
    warm_cache,
)


def bench(a: argparse.Namespace) -> dict:
    cli, env = our_cli(a.cli), ours_env(False)
    dataset, listing = ensure_dataset(a.workdir, a.scale, "dataset")
    base = a.workdir / "peers-run"
    rows: dict[str, list[dict]] = {k: [] for k in ("ours backup", "ours restore", "cp -a", "rsync -a")}
    for rep in range(a.repeat):
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        logs = base / "logs"
        warm_cache(dataset)
        home = base / "home"
        oenv = {**env, "BACKUP_CONSOLE_HOME": str(home)}
        run([*cli, "repo", "add-local", "r", str(base / "repo")], env=oenv, log_dir=logs, label="add", cwd=REPO_ROOT)
        run([*cli, "job", "add-backup", "j", "--repo", "r", "--source", str(dataset)], env=oenv, log_dir=logs,
            label="job", cwd=REPO_ROOT)
        r = run([*cli, "job", "run", "j"], env=oenv, log_dir=logs, label=f"backup-{rep}", cwd=REPO_ROOT)
        rows["ours backup"].append({"s": r.seconds, "rss": r.rss_mb})
        pts = json.loads(run([*cli, "points", "list", "--json"], env=oenv, log_dir=logs, label="pts",
                             cwd=REPO_ROOT).stdout)
        r = run([*cli, "restore", pts[0]["id"], "--to", str(base / "restored")], env=oenv, log_dir=logs,
                label=f"restore-{rep}", cwd=REPO_ROOT)
        rows["ours restore"].append({"s": r.seconds, "rss": r.rss_mb})
        # a backup fsyncs what it wrote before it reports success: the copies are timed until `sync` returns too
        r = run(["sh", "-c", 'cp -a "$0" "$1" && sync', str(dataset), str(base / "cp")], env=env, log_dir=logs,
                label=f"cp-{rep}")
        rows["cp -a"].append({"s": r.seconds, "rss": r.rss_mb})
        if shutil.which("rsync"):
            r = run(["sh", "-c", 'rsync -a "$0/" "$1" && sync', str(dataset), str(base / "rsync")], env=env,
                    log_dir=logs, label=f"rsync-{rep}")
            rows["rsync -a"].append({"s": r.seconds, "rss": r.rss_mb})
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)
    med = {k: median([x["s"] for x in v]) for k, v in rows.items() if v}
    out = []
    for ours in ("ours backup", "ours restore"):
        for peer in ("cp -a", "rsync -a"):
            if med.get(peer) and med.get(ours):
                out.append({"ours": ours, "peer": peer, "ours_s": med[ours], "peer_s": med[peer],
                            "ours_mb_s": listing.bytes / MB / med[ours], "peer_mb_s": listing.bytes / MB / med[peer],
                            "speedup": med[peer] / med[ours],
                            "ours_peak_rss_mb": max(x["rss"] for x in rows[ours])})
    return {"scale": a.scale, "bytes": listing.bytes, "files": len(listing.files), "repeat": a.repeat, "rows": out}


def render(res: dict) -> str:
    head = f"ours vs plain copies: {res['bytes'] / MB:.0f} MB in {res['files']} files, median of {res['repeat']}"
    return head + "\n\n" + table(
        ["ours", "peer", "ours MB/s", "peer MB/s", "speedup", "ours peak RSS"],
        [[r["ours"], r["peer"], f"{r['ours_mb_s']:.0f}", f"{r['peer_mb_s']:.0f}", f"{r['speedup']:.2f}x",
          f"{r['ours_peak_rss_mb']:.0f} MB"] for r in res["rows"]])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bcbench"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--cli")
    a = ap.parse_args(argv)
    a.workdir = a.workdir.resolve()
    a.workdir.mkdir(parents=True, exist_ok=True)
    try:
        res = bench(a)
    except BenchError as e:
        say(f"bench_peers: error: {e}\n{e.stderr[-3000:]}")
        return 1
    (a.workdir / "peers-results.json").write_text(json.dumps(res, indent=1) + "\n")
    print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
