#!/usr/bin/env python3
"""Backup copy benchmark: our copy job vs `restic copy`, between two local repositories, in the same run.

Both tools first back up the shared dataset (untimed), then:
  full copy         ours `job run COPYJOB` (first run, the latest point)  vs  `restic copy --from-repo A` into B
                    (B made with `init --from-repo A --copy-chunker-params`, so both dedup the same way)
  incremental copy  after adding ~5 % new data and backing up again (untimed): the next copy of each tool
Reported: seconds, speedup (restic / ours), our peak RSS, and how many bytes our incremental copy sent compared
with the new unique bytes the new point stored in the source (goal: <= 1.05).

Timings are wall clock per command (the CLI's start-up included), page cache warm, `sync` before each command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backup import (  # noqa: E402
    MB,
    REPO_ROOT,
    RESTIC_PASSWORD,
    BenchError,
    ensure_dataset,
    ensure_restic,
    median,
    our_cli,
    ours_env,
    restic_env,
    run,
    say,
    table,
    tool_version,
    warm_cache,
)

GOAL_SPEEDUP = 2.0
GOAL_INCREMENT = 1.05
GOAL_RSS_MB = 250.0


def add_new_data(dataset: Path, fraction: float, seed: int) -> int:
    """Write new incompressible-ish files worth `fraction` of the dataset; returns the bytes added."""
    total = sum(p.stat().st_size for p in dataset.rglob("*") if p.is_file())
    want = int(total * fraction)
    d = dataset / f"new-{seed}"
    d.mkdir(exist_ok=True)
    rnd = __import__("random").Random(seed)
    n = 0
    i = 0
    while n < want:
        size = min(want - n, 3 * MB)
        (d / f"n{i}.bin").write_bytes(rnd.randbytes(size // 2) + bytes(size - size // 2))
        n += size
        i += 1
    return n


class OursCopy:
    def __init__(self, cli: list[str], env: dict[str, str], base: Path, dataset: Path, encrypt: bool) -> None:
        self.cli, self.base, self.dataset = cli, base, dataset
        self.data_dir, self.logs = base / "ours-data", base / "logs"
        self.env = {**env, "BACKUP_CONSOLE_HOME": str(self.data_dir)}
        self.encrypt = encrypt

    def _run(self, args: list[str], label: str):
        return run([*self.cli, *args, "--data-dir", str(self.data_dir)], env=self.env, log_dir=self.logs,
                   label=f"ours-{label}", cwd=REPO_ROOT)

    def _json(self, args: list[str], label: str):
        r = self._run([*args, "--json"], label)
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise BenchError(f"{args}: no JSON output", r.stdout + r.stderr) from e

    def setup(self) -> None:
        enc = ["--encrypt"] if self.encrypt else []
        self._run(["repo", "add-local", "src", str(self.base / "ours-src"), *enc], "add-src")
        self._run(["repo", "add-local", "dst", str(self.base / "ours-dst"), *enc], "add-dst")
        self._run(["job", "add-backup", "j", "--repo", "src", "--source", str(self.dataset)], "add-job")
        self._run(["job", "add-copy", "c", "--target", "dst", "--from-job", "j"], "add-copy")

    def backup(self, label: str) -> None:
        self._run(["job", "run", "j", "--no-copy"], label)

    def copy(self, label: str):
        r = self._run(["job", "run", "c", "--json"], label)
        return r, json.loads(r.stdout)

    def newest_stored(self) -> int:
        pts = self._json(["points", "list", "--job", "j"], "points")
        return max(pts, key=lambda p: p["created"])["stored_size"]


class ResticCopy:
    def __init__(self, env: dict[str, str], base: Path, dataset: Path) -> None:
        self.env, self.dataset, self.logs = env, dataset, base / "logs"
        self.a, self.b = base / "restic-a", base / "restic-b"
        self.env_copy = {**env, "RESTIC_FROM_PASSWORD": RESTIC_PASSWORD, "RESTIC_FROM_REPOSITORY": str(self.a)}
        self.last = None

    def _run(self, repo: Path, args: list[str], label: str, env: dict | None = None):
        return run(["restic", "-r", str(repo), *args], env=env or self.env, log_dir=self.logs,
                   label=f"restic-{label}")

    def setup(self) -> None:
        self._run(self.a, ["init"], "init-a")
        self._run(self.b, ["init", "--copy-chunker-params"], "init-b", self.env_copy)

    def backup(self, label: str) -> None:
        self._run(self.a, ["backup", str(self.dataset)], label)

    def copy(self, label: str):
        return self._run(self.b, ["copy"], label, self.env_copy)


def bench(a: argparse.Namespace) -> dict:
    ensure_restic()
    cli, oenv = our_cli(a.cli), ours_env(a.encrypt)
    versions = {"ours": tool_version([*cli, "--version"], oenv), "restic": tool_version(["restic", "version"],
                                                                                          dict(os.environ))}
    load_start = os.getloadavg()[0]
    rows: dict[str, dict[str, list]] = {"full copy": {"ours": [], "restic": [], "rss": []},
                                        "incremental copy": {"ours": [], "restic": [], "rss": []}}
    increments = []
    for rep in range(1, a.repeat + 1):
        base = a.workdir / "copy-run" / f"rep-{rep}"
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        # a private dataset per repetition: the incremental phase adds files to it
        src_ds, _ = ensure_dataset(a.workdir, a.scale, "dataset")
        dataset = base / "dataset"
        shutil.copytree(src_ds, dataset, symlinks=True)
        warm_cache(dataset)
        ours = OursCopy(cli, oenv, base, dataset, a.encrypt)
        restic = ResticCopy(restic_env(base / "restic-cache"), base, dataset)
        ours.setup()
        restic.setup()
        ours.backup("backup-1")
        restic.backup("backup-1")
        say(f"[rep {rep}] full copy")
        order = [ours, restic] if rep % 2 else [restic, ours]
        for tool in order:
            if tool is ours:
                r, doc = ours.copy("copy-1")
                rows["full copy"]["ours"].append(r.seconds)
                rows["full copy"]["rss"].append(r.rss_mb)
                if doc["status"] != "success":
                    raise BenchError(f"our copy ended {doc['status']}", r.stdout + r.stderr)
            else:
                rows["full copy"]["restic"].append(restic.copy("copy-1").seconds)
        added = add_new_data(dataset, 0.05, rep)
        ours.backup("backup-2")
        restic.backup("backup-2")
        say(f"[rep {rep}] incremental copy ({added / MB:.1f} MB new)")
        for tool in order:
            if tool is ours:
                r, doc = ours.copy("copy-2")
                rows["incremental copy"]["ours"].append(r.seconds)
                rows["incremental copy"]["rss"].append(r.rss_mb)
                new_unique = ours.newest_stored()
                increments.append({"sent": doc["transferred"], "new_unique": new_unique,
                                   "ratio": round(doc["transferred"] / new_unique, 4) if new_unique else None})
            else:
                rows["incremental copy"]["restic"].append(restic.copy("copy-2").seconds)
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)
    data_bytes = sum(p.stat().st_size for p in ensure_dataset(a.workdir, a.scale, "dataset")[0].rglob("*")
                     if p.is_file())
    phases = []
    for name, r in rows.items():
        o, t = median(r["ours"]), median(r["restic"])
        phases.append({"phase": name, "ours_s": o, "restic_s": t, "speedup": t / o if o and t else None,
                       "ours_mb_s": data_bytes / MB / o if o and name == "full copy" else None,
                       "ours_peak_rss_mb": max(r["rss"]) if r["rss"] else None, "runs": r})
    worst_ratio = max((i["ratio"] or 0) for i in increments) if increments else None
    goals = [
        {"goal": f"full copy >= {GOAL_SPEEDUP}x restic copy", "value": phases[0]["speedup"],
         "ok": (phases[0]["speedup"] or 0) >= GOAL_SPEEDUP},
        {"goal": f"incremental copy sends <= {GOAL_INCREMENT}x its new unique bytes", "value": worst_ratio,
         "ok": worst_ratio is not None and worst_ratio <= GOAL_INCREMENT},
        {"goal": f"peak RSS <= {GOAL_RSS_MB:.0f} MB", "value": max(p["ours_peak_rss_mb"] or 0 for p in phases),
         "ok": max(p["ours_peak_rss_mb"] or 0 for p in phases) <= GOAL_RSS_MB},
    ]
    return {"scale": a.scale, "repeat": a.repeat, "encrypt": a.encrypt, "versions": versions,
            "dataset_bytes": data_bytes, "phases": phases, "increments": increments, "goals": goals,
            "machine": {"cpus": os.cpu_count(), "load_start": load_start, "load_end": os.getloadavg()[0]}}


def render(res: dict) -> str:
    lines = [f"copy benchmark: dataset {res['dataset_bytes'] / MB:.0f} MB (scale {res['scale']}), "
             f"{res['repeat']} run(s), median; ours {'encrypted' if res['encrypt'] else 'plain'}, restic encrypted; "
             f"load {res['machine']['load_start']:.1f} -> {res['machine']['load_end']:.1f}", ""]
    rows = [[p["phase"], f"{p['ours_s']:.2f} s", f"{p['restic_s']:.2f} s", f"{p['speedup']:.2f}x",
             f"{p['ours_peak_rss_mb']:.0f} MB"] for p in res["phases"]]
    lines.append(table(["phase", "ours", "restic copy", "speedup", "ours peak RSS"], rows))
    lines.append("")
    for i in res["increments"]:
        lines.append(f"incremental copy sent {i['sent'] / MB:.2f} MB for {i['new_unique'] / MB:.2f} MB of new "
                     f"unique stored bytes: {i['ratio']}x")
    lines.append("")
    lines.append(table(["goal", "value", "met"], [[g["goal"], f"{g['value']:.3g}" if g["value"] is not None else "-",
                                                   "yes" if g["ok"] else "NO"] for g in res["goals"]]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bcbench"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--encrypt", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--cli")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    a.workdir = a.workdir.resolve()
    a.workdir.mkdir(parents=True, exist_ok=True)
    try:
        res = bench(a)
    except BenchError as e:
        say(f"bench_copy: error: {e}")
        if e.stderr:
            say(e.stderr[-4000:])
        return 1
    (a.workdir / "copy-results.json").write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1) if a.json else render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
