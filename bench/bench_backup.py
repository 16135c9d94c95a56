#!/usr/bin/env python3
"""Backup Copy Console vs restic: first backup, unchanged re-run and restore of the mixed benchmark dataset.

usage: bench/bench_backup.py [--scale 1.0] [--workdir /tmp/bcbench] [--keep] [--repeat N] [--encrypt]
                             [--rss-scales 0.25,1.0] [--json] [--cli CMD] [--verify sample|full]

Both tools run in the same process tree, alternating phase by phase (ours, restic, then restic, ours on the next
repetition), each with a fresh repository, with the dataset in the page cache for both and `sync` before every
timed command. Timings are wall clock of the whole command (process start included, setup not timed); peak RSS
is the child's own ru_maxrss from os.wait4. restic uses its defaults (encryption, cache) with RESTIC_CACHE_DIR
inside the work directory. Ours runs plain unless --encrypt. Tables go to stdout, progress to stderr; the
results are also written to WORKDIR/results.json. Only the standard library is needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
MB = 1_000_000
PHASES = ("first backup", "unchanged re-run", "restore")
GOALS = (  # (label, phase or None for our peak RSS, comparison, target, unit)
    ("first backup speedup", "first backup", ">=", 1.5, "x"),
    ("unchanged re-run speedup", "unchanged re-run", ">=", 1.0, "x"),
    ("restore speedup", "restore", ">=", 1.0, "x"),
    ("our peak RSS", None, "<=", 250.0, " MB"),
)
RESTIC_PASSWORD = "bench-password-not-secret"
OURS_PASSWORD = "bench-password-not-secret"
SETTLE = float(os.environ.get("BENCH_SETTLE", "8"))   # seconds of quiet before each timed command
OK_CODES = (0, 3)  # 3: finished with warnings (both tools); reported, not fatal


class BenchError(Exception):
    """A command failed or the environment is not usable: message (+ the command's stderr)."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------- running commands
@dataclass
class Run:
    cmd: list[str]
    seconds: float
    rss_mb: float
    cpu_s: float        # user + system time of the child (and its waited-for children)
    rc: int
    stdout: str
    stderr: str


def run(cmd: list[str], *, env: dict[str, str], log_dir: Path, label: str, cwd: Path | None = None,
        ok: tuple[int, ...] = OK_CODES) -> Run:
    """Run `cmd` with stdout/stderr to files (no pipe to drain), timed; os.wait4 gives the child's own rusage."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{label}.out", log_dir / f"{label}.err"
    os.sync()  # flush the previous command's writes outside the timing: neither tool pays for the other's
    # ext4 mounted with `discard` (this VM) trims deleted blocks in the background after a delete: file creation
    # then crawls for seconds (measured: 0.6 ms instead of 0.02 ms per file); let it settle before timing
    time.sleep(SETTLE)
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, env=env, cwd=cwd)
        except OSError as e:
            raise BenchError(f"cannot start {shlex.join(cmd)}: {e}") from e
        try:
            _, status, usage = os.wait4(p.pid, 0)
        except BaseException:
            p.kill()
            p.wait()
            raise
        seconds = time.perf_counter() - t0
    p.returncode = rc = os.waitstatus_to_exitcode(status)
    res = Run(cmd, seconds, usage.ru_maxrss * 1024 / MB, usage.ru_utime + usage.ru_stime, rc,  # maxrss: KiB
              out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))
    if rc not in ok:
        raise BenchError(f"command failed (exit {rc}): {shlex.join(cmd)}", res.stderr or res.stdout)
    if rc != 0:
        say(f"  warning: exit {rc} (finished with warnings): {shlex.join(cmd)}\n"
            + indent(tail(res.stderr or res.stdout, 10)))
    return res


def tail(text: str, n: int = 40) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(lines[-n:]) if lines else "(no output)"


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# --------------------------------------------------------------------------------------------------- environment
def ensure_restic() -> str:
    path = shutil.which("restic")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("restic is not installed: apt-get install -y restic")
        def apt(*args: str) -> bool:
            return subprocess.run(["apt-get", *args], stdout=sys.stderr, stderr=sys.stderr).returncode == 0

        if not apt("install", "-y", "restic"):
            apt("update")
            apt("install", "-y", "restic")
        path = shutil.which("restic")
        if path:
            return path
    raise BenchError("restic is not installed: install it with `sudo apt-get install -y restic` "
                     "(or put a restic binary on PATH) and run again")


def tool_version(cmd: list[str], env: dict[str, str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=REPO_ROOT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"cannot run {shlex.join(cmd)}: {e}") from e
    if p.returncode != 0:
        raise BenchError(f"`{shlex.join(cmd)}` failed (exit {p.returncode}): is the CLI installed and working?",
                         p.stderr or p.stdout)
    return (p.stdout.strip() or p.stderr.strip()).splitlines()[0] if (p.stdout or p.stderr) else "?"


def our_cli(arg: str | None) -> list[str]:
    if arg:
        return shlex.split(arg)
    if os.environ.get("BACKUP_CONSOLE_CMD"):
        return shlex.split(os.environ["BACKUP_CONSOLE_CMD"])
    exe = REPO_ROOT / ".venv" / "bin" / "backup-console"
    if exe.exists():
        return [str(exe)]
    py = REPO_ROOT / ".venv" / "bin" / "python"
    return [str(py if py.exists() else sys.executable), "-m", "console"]


def ours_env(encrypt: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("BACKUP_CONSOLE_PASSWORD", None)
    if encrypt:
        env["BACKUP_CONSOLE_PASSWORD"] = OURS_PASSWORD
    # never touch the user's real keyring with bench passwords: the null backend stores nothing, so the
    # password comes from BACKUP_CONSOLE_PASSWORD
    env.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    return env


def restic_env(cache_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")}
    env["RESTIC_PASSWORD"] = RESTIC_PASSWORD
    env["RESTIC_CACHE_DIR"] = str(cache_dir)
    return env


# ------------------------------------------------------------------------------------------------------- dataset
def dataset_script() -> Path:
    env = os.environ.get("BENCH_DATASET_SCRIPT")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "bench" / "make_dataset.py"
    if not path.is_file():
        raise BenchError(f"dataset generator not found at {path} (set BENCH_DATASET_SCRIPT to make_dataset.py)")
    return path


@dataclass
class Listing:
    files: dict[str, int]            # relative path -> size
    mtimes: dict[str, int]           # relative path -> mtime_ns
    dirs: set[str]
    others: dict[str, str] = field(default_factory=dict)   # symlinks and specials: relative path -> kind

    @property
    def bytes(self) -> int:
        return sum(self.files.values())


def list_tree(root: Path) -> Listing:
    files, mtimes, dirs, others = {}, {}, set(), {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for d in list(dirnames):
            rel = os.path.normpath(os.path.join(rel_dir, d))
            if os.path.islink(os.path.join(dirpath, d)):
                others[rel] = "symlink"
                dirnames.remove(d)
            else:
                dirs.add(rel)
        for f in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, f))
            st = os.lstat(os.path.join(dirpath, f))
            if os.path.islink(os.path.join(dirpath, f)):
                others[rel] = "symlink"
            elif not os.path.isfile(os.path.join(dirpath, f)):
                others[rel] = "special"
            else:
                files[rel] = st.st_size
                mtimes[rel] = st.st_mtime_ns
    return Listing(files, mtimes, dirs, others)


def ensure_dataset(workdir: Path, scale: float, name: str) -> tuple[Path, Listing]:
    script = dataset_script()
    digest = hashlib.sha256(script.read_bytes()).hexdigest()
    root, marker = workdir / name, workdir / f"{name}.json"
    try:
        meta = json.loads(marker.read_text())
    except (OSError, ValueError):
        meta = {}
    if root.is_dir() and meta.get("scale") == scale and meta.get("script_sha256") == digest:
        listing = list_tree(root)
        if len(listing.files) == meta.get("files") and listing.bytes == meta.get("bytes"):
            say(f"dataset: reusing {root} (scale {scale:g}, {len(listing.files)} files, {listing.bytes / MB:.1f} MB)")
            return root, listing
    say(f"dataset: generating {root} at scale {scale:g} with {script}")
    marker.unlink(missing_ok=True)
    tmp = workdir / f"{name}.partial"
    for p in (root, tmp):
        if p.exists():
            shutil.rmtree(p)
    p = subprocess.run([sys.executable, str(script), str(tmp), "--scale", str(scale)], capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"dataset generation failed (exit {p.returncode})", p.stderr)
    tmp.rename(root)
    listing = list_tree(root)
    marker.write_text(json.dumps({"scale": scale, "script": str(script), "script_sha256": digest,
                                  "files": len(listing.files), "bytes": listing.bytes}, indent=1) + "\n")
    say(f"dataset: {len(listing.files)} files, {listing.bytes / MB:.1f} MB")
    return root, listing


def warm_cache(root: Path) -> float:
    """Read every file once (like `cat` > /dev/null) so both tools start with the dataset in the page cache."""
    t0, buf = time.perf_counter(), bytearray(1 << 20)
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb", buffering=0) as fh:
                while fh.readinto(buf):
                    pass
    return time.perf_counter() - t0


def tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for f in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


# -------------------------------------------------------------------------------------------------- verification
def sample_files(listing: Listing, full: bool) -> list[str]:
    names = sorted(listing.files)
    if full:
        return names
    chosen = set(names[::10])
    largest: dict[str, str] = {}
    for n in names:  # plus the largest file of every top-level folder
        top = n.split(os.sep, 1)[0]
        if top not in largest or listing.files[n] > listing.files[largest[top]]:
            largest[top] = n
    return sorted(chosen | set(largest.values()))


def file_hash(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def find_restored_root(out: Path, dataset: Path, probe: str) -> tuple[Path, str]:
    """Where the dataset's contents landed under `out`: directly, under its absolute path, or under its name."""
    for root, layout in ((out, "contents directly in target"),
                         (out / str(dataset).lstrip("/"), "absolute source path recreated under target"),
                         (out / dataset.name, "source folder name under target")):
        if (root / probe).is_file():
            return root, layout
    found = sorted(str(p.relative_to(out)) for p in out.iterdir())[:10] if out.is_dir() else []
    raise BenchError(f"restore into {out}: cannot find the dataset's files there (looked for {probe}); "
                     f"top level holds {found}")


def verify(out: Path, dataset: Path, ref: Listing, hashes: dict[str, str], who: str) -> dict:
    probe = max(ref.files, key=lambda n: (ref.files[n], n))
    root, layout = find_restored_root(out, dataset, probe)
    got = list_tree(root)
    problems: list[str] = []
    missing, extra = sorted(set(ref.files) - set(got.files)), sorted(set(got.files) - set(ref.files))
    if missing:
        problems.append(f"{len(missing)} files missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} unexpected files, e.g. {extra[:3]}")
    if ref.dirs != got.dirs:
        problems.append(f"folders differ: missing {sorted(ref.dirs - got.dirs)[:3]}, "
                        f"extra {sorted(got.dirs - ref.dirs)[:3]}")
    if got.others:
        problems.append(f"unexpected symlinks/special files: {sorted(got.others)[:3]}")
    sized = [n for n in ref.files if n in got.files and got.files[n] != ref.files[n]]
    if sized:
        problems.append(f"{len(sized)} files with a wrong size, e.g. {sized[:3]}")
    bad = [n for n, h in hashes.items() if n in got.files and file_hash(root / n) != h]
    if bad:
        problems.append(f"{len(bad)} of {len(hashes)} sampled files with different contents, e.g. {bad[:3]}")
    mtime_off = [n for n in ref.files if n in got.mtimes and abs(got.mtimes[n] - ref.mtimes[n]) >= 1_000_000_000]
    return {"tool": who, "layout": layout, "root": str(root), "files": len(got.files), "bytes": got.bytes,
            "hashed": len(hashes), "ok": not problems, "problems": problems,
            "mtime_not_preserved": len(mtime_off)}


# ------------------------------------------------------------------------------------------------------ the tools
class Ours:
    name = "ours"

    def __init__(self, cli: list[str], env: dict[str, str], base: Path, dataset: Path, encrypt: bool) -> None:
        self.cli, self.env, self.dataset, self.encrypt = cli, env, dataset, encrypt
        self.data_dir, self.repo, self.logs = base / "ours-data", base / "ours-repo", base / "logs"
        self.out = base / "ours-restore"
        # the data dir both ways: global options are given after the command (where every subcommand accepts
        # them) and in BACKUP_CONSOLE_HOME, so a bench run can never touch the user's own catalog
        self.env = {**env, "BACKUP_CONSOLE_HOME": str(self.data_dir)}

    def _run(self, args: list[str], label: str) -> Run:
        return run([*self.cli, *args, "--data-dir", str(self.data_dir)], env=self.env, log_dir=self.logs,
                   label=f"ours-{label}", cwd=REPO_ROOT)

    def setup(self) -> None:
        self._run(["repo", "add-local", "r", str(self.repo), *(["--encrypt"] if self.encrypt else [])], "repo-add")
        self._run(["job", "add-backup", "j", "--repo", "r", "--source", str(self.dataset)], "job-add")
        if not self.data_dir.is_dir() or not any(self.data_dir.iterdir()):
            raise BenchError(f"the catalog did not land in --data-dir {self.data_dir}")

    def backup(self, label: str) -> Run:
        return self._run(["job", "run", "j"], label)

    def points(self) -> list[dict]:
        r = self._run(["points", "list", "--job", "j", "--json"], "points")
        try:
            points = json.loads(r.stdout)
        except ValueError as e:
            raise BenchError(f"`points list --json` did not print JSON: {e}", r.stdout + r.stderr) from e
        if not isinstance(points, list) or not points:
            raise BenchError("`points list --json` listed no restore point after the backups", r.stdout)
        return points

    def restore(self) -> Run:
        newest = max(self.points(), key=lambda p: p["created"])
        return self._run(["restore", str(newest["id"]), "--to", str(self.out)], "restore")


class Restic:
    name = "restic"

    def __init__(self, env: dict[str, str], base: Path, dataset: Path) -> None:
        self.env, self.dataset = env, dataset
        self.repo, self.logs, self.out = base / "restic-repo", base / "logs", base / "restic-restore"
        self.base = ["restic", "-r", str(self.repo)]

    def _run(self, args: list[str], label: str) -> Run:
        return run([*self.base, *args], env=self.env, log_dir=self.logs, label=f"restic-{label}")

    def setup(self) -> None:
        self._run(["init"], "init")

    def backup(self, label: str) -> Run:
        return self._run(["backup", str(self.dataset)], label)

    def restore(self) -> Run:
        return self._run(["restore", "latest", "--target", str(self.out)], "restore")


def rep_cycle(rep: int, base: Path, tools: list, dataset: Path, ref: Listing, hashes: dict[str, str],
              record: dict, verifications: list, keep: bool) -> None:
    """One repetition: fresh repositories, then each phase for each tool in turn (the order given)."""
    say(f"[rep {rep}] order: {' then '.join(t.name for t in tools)}; page cache warm-up "
        f"{warm_cache(dataset):.1f} s")
    for t in tools:
        t.setup()
    for phase in PHASES:
        for t in tools:
            res = t.restore() if phase == "restore" else t.backup("backup-1" if phase == PHASES[0] else "backup-2")
            record[phase][t.name].append({"seconds": res.seconds, "cpu_s": res.cpu_s, "rss_mb": res.rss_mb,
                                          "rc": res.rc})
            say(f"[rep {rep}] {t.name:6s} {phase:16s} {res.seconds:7.2f} s  {ref.bytes / MB / res.seconds:7.1f} MB/s"
                f"  CPU {res.cpu_s:6.2f} s  peak RSS {res.rss_mb:6.1f} MB")
        if phase == PHASES[0]:
            for t in tools:
                record["repo_mb"][t.name].append(tree_bytes(t.repo) / MB)
    for t in tools:
        v = verify(t.out, dataset, ref, hashes, t.name)
        v["rep"] = rep
        verifications.append(v)
        say(f"[rep {rep}] {t.name:6s} restore verified: {'OK' if v['ok'] else 'FAILED: ' + '; '.join(v['problems'])}"
            f" ({v['layout']})")
        if not keep:
            shutil.rmtree(t.out, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- reporting
def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summarize(record: dict, data_bytes: int) -> list[dict]:
    rows = []
    for phase in PHASES:
        o = [r["seconds"] for r in record[phase]["ours"]]
        r = [x["seconds"] for x in record[phase]["restic"]]
        om, rm = median(o), median(r)
        rows.append({
            "phase": phase, "ours_s": om, "restic_s": rm,
            "ours_mb_s": data_bytes / MB / om if om else None, "restic_mb_s": data_bytes / MB / rm if rm else None,
            "speedup": rm / om if om and rm else None,
            # the median of per-repetition ratios: ours and restic of one repetition ran back to back, so this
            # pairs runs that saw the same load on the machine
            "paired_speedup": median([b / a for a, b in zip(o, r, strict=True) if a]),
            "ours_peak_rss_mb": max((x["rss_mb"] for x in record[phase]["ours"]), default=None),
            "restic_peak_rss_mb": max((x["rss_mb"] for x in record[phase]["restic"]), default=None),
            "ours_cpu_s": median([x["cpu_s"] for x in record[phase]["ours"]]),
            "restic_cpu_s": median([x["cpu_s"] for x in record[phase]["restic"]]),
            "ours_runs_s": o, "restic_runs_s": r,
        })
    return rows


def goals(rows: list[dict], rss_scales: list[dict]) -> list[dict]:
    by_phase = {r["phase"]: r for r in rows}
    out = []
    for label, phase, op, target, unit in GOALS:
        if phase:
            value = by_phase[phase]["speedup"]
        else:
            values = [r["ours_peak_rss_mb"] for r in rows] + [v for s in rss_scales for v in s["rss_mb"].values()]
            value = max((v for v in values if v is not None), default=None)
        ok = value is not None and (value >= target if op == ">=" else value <= target)
        out.append({"goal": label, "op": op, "target": target, "unit": unit, "value": value, "pass": ok})
    return out


def fmt(v: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if v is None else f"{v:{spec}}{suffix}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = [h.ljust(widths[0]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(headers)]
    out = ["  ".join(line), "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(out)


def render(res: dict) -> str:
    ds = res["dataset"]
    lines = [f"Backup Copy Console ({res['ours_version']}, {'encrypted' if res['encrypt'] else 'plain'}) vs "
             f"{res['restic_version'].split(' compiled')[0]} (encrypted) -- dataset {ds['bytes'] / MB:.1f} MB in "
             f"{ds['files']} files (scale {res['scale']:g}); median of {res['repeat']} run(s), MB = 10^6 bytes", ""]
    lines.append(table(
        ["phase", "ours s", "restic s", "ours MB/s", "restic MB/s", "speedup", "our peak RSS MB", "paired speedup"],
        [[r["phase"], fmt(r["ours_s"]), fmt(r["restic_s"]), fmt(r["ours_mb_s"], ".1f"), fmt(r["restic_mb_s"], ".1f"),
          fmt(r["speedup"], ".2f", "x"), fmt(r["ours_peak_rss_mb"], ".1f"), fmt(r["paired_speedup"], ".2f", "x")]
         for r in res["phases"]]))
    lines += ["", table(["goal", "target", "measured", "result"],
                        [[g["goal"], f"{g['op']} {g['target']:.1f}{g['unit']}",
                          fmt(g["value"], ".1f" if "MB" in g["unit"] else ".2f", g["unit"]),
                          "PASS" if g["pass"] else "FAIL"]
                         for g in res["goals"]])]
    repo = res["repo_mb"]
    lines += ["", f"repository size after the first backup: ours {fmt(median(repo['ours']), '.1f')} MB, "
                  f"restic {fmt(median(repo['restic']), '.1f')} MB; restic peak RSS: "
              + ", ".join(f"{r['phase']} {fmt(r['restic_peak_rss_mb'], '.0f')} MB" for r in res["phases"])]
    lines.append("speedup = restic s / ours s of the medians (the goals use it); paired speedup = median of the "
                 "per-repetition ratios (runs back to back, same load)")
    lines.append("CPU seconds (user+sys, median; less sensitive to other load than wall clock): " + ", ".join(
        f"{r['phase']} ours {fmt(r['ours_cpu_s'])} / restic {fmt(r['restic_cpu_s'])}" for r in res["phases"]))
    bad = [v for v in res["verification"] if not v["ok"]]
    lines.append("restores verified (file list, sizes, folders, SHA-256 of "
                 f"{res['verification'][0]['hashed'] if res['verification'] else 0} files): "
                 + ("all OK" if not bad else "FAILED -- " + "; ".join(f"{v['tool']} rep {v['rep']}: "
                                                                      + ", ".join(v["problems"]) for v in bad)))
    mt = sorted({(v["tool"], v["mtime_not_preserved"]) for v in res["verification"] if v["mtime_not_preserved"]})
    if mt:
        lines.append("mtimes not preserved by the restore: " + ", ".join(f"{t} {n} files" for t, n in mt))
    if res["rss_scales"]:
        lines += ["", "Our peak RSS by dataset size (one run each):", table(
            ["scale", "dataset MB", "files"] + [f"{p} MB" for p in PHASES],
            [[f"{s['scale']:g}", f"{s['bytes'] / MB:.1f}", str(s["files"])]
             + [fmt(s["rss_mb"].get(p), ".1f") for p in PHASES] for s in res["rss_scales"]])]
    la = res["machine"]
    lines += ["", f"machine: {la['cpus']} CPUs, load average (1 min) {la['load_start']:.2f} at start, "
                  f"{la['load_end']:.2f} at end -- other jobs on the machine make these timings noisy"]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0 = ~522 MB, 5,589 files)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bcbench"), help="default: %(default)s")
    ap.add_argument("--keep", action="store_true", help="keep repositories, restores and logs in WORKDIR/run")
    ap.add_argument("--repeat", type=int, help="runs per measurement (default: 3 below scale 1, else 1)")
    ap.add_argument("--encrypt", action="store_true", help="run ours encrypted (restic always encrypts)")
    ap.add_argument("--rss-scales", default="", help="comma-separated scales, e.g. 0.25,1.0: our peak RSS at each")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of the tables")
    ap.add_argument("--cli", help="our command (default: BACKUP_CONSOLE_CMD, else .venv/bin/backup-console)")
    ap.add_argument("--verify", choices=("sample", "full"), default="sample",
                    help="hash a sample of the restored files (default) or all of them")
    a = ap.parse_args(argv)
    if a.repeat is None:
        a.repeat = 3 if a.scale < 1 else 1
    if a.repeat < 1 or a.scale <= 0:
        ap.error("--repeat and --scale must be positive")
    try:
        a.rss_scales = [float(s) for s in a.rss_scales.split(",") if s.strip()]
    except ValueError:
        ap.error("--rss-scales: comma-separated numbers, e.g. 0.25,1.0")
    return a


def bench(a: argparse.Namespace, run_dir: Path) -> dict:
    ensure_restic()
    cli, oenv = our_cli(a.cli), ours_env(a.encrypt)
    ours_version = tool_version([*cli, "--version"], oenv)
    restic_version = tool_version(["restic", "version"], dict(os.environ))
    load_start = os.getloadavg()[0]
    dataset, ref = ensure_dataset(a.workdir, a.scale, "dataset")
    dataset = Path(os.path.realpath(dataset))
    hashes = {n: file_hash(dataset / n) for n in sample_files(ref, a.verify == "full")}

    record: dict = {p: {"ours": [], "restic": []} for p in PHASES}
    record["repo_mb"] = {"ours": [], "restic": []}
    verifications: list[dict] = []
    for rep in range(1, a.repeat + 1):
        base = run_dir / f"rep-{rep}"
        base.mkdir(parents=True)
        tools = [Ours(cli, oenv, base, dataset, a.encrypt), Restic(restic_env(base / "restic-cache"), base, dataset)]
        if rep % 2 == 0:
            tools.reverse()
        rep_cycle(rep, base, tools, dataset, ref, hashes, record, verifications, a.keep)
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)

    rows = summarize(record, ref.bytes)
    rss_scales = []
    for s in a.rss_scales:
        if s == a.scale:
            rss = {r["phase"]: r["ours_peak_rss_mb"] for r in rows}
            rss_scales.append({"scale": s, "files": len(ref.files), "bytes": ref.bytes, "rss_mb": rss})
            continue
        ds, lst = ensure_dataset(a.workdir, s, f"dataset-{s:g}")
        ds = Path(os.path.realpath(ds))
        base = run_dir / f"rss-{s:g}"
        base.mkdir(parents=True)
        o = Ours(cli, oenv, base, ds, a.encrypt)
        warm_cache(ds)
        o.setup()
        rss = {PHASES[0]: o.backup("backup-1").rss_mb, PHASES[1]: o.backup("backup-2").rss_mb,
               PHASES[2]: o.restore().rss_mb}
        v = verify(o.out, ds, lst, {}, "ours")
        if not v["ok"]:
            v["rep"] = f"rss-{s:g}"
            verifications.append(v)
        say(f"[rss {s:g}] {lst.bytes / MB:.1f} MB: " + ", ".join(f"{p} {m:.1f} MB" for p, m in rss.items()))
        rss_scales.append({"scale": s, "files": len(lst.files), "bytes": lst.bytes, "rss_mb": rss})
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)

    return {
        "scale": a.scale, "repeat": a.repeat, "encrypt": a.encrypt, "ours_cli": cli,
        "ours_version": ours_version, "restic_version": restic_version,
        "dataset": {"path": str(dataset), "files": len(ref.files), "bytes": ref.bytes},
        "phases": rows, "goals": goals(rows, rss_scales), "repo_mb": record["repo_mb"],
        "verification": verifications, "rss_scales": rss_scales, "runs": {p: record[p] for p in PHASES},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_start": load_start,
                    "load_end": os.getloadavg()[0]},
        "notes": ["timings are wall clock per command, sync before each, page cache warm, setup untimed",
                  "restic: defaults, always encrypted, RESTIC_CACHE_DIR inside the work directory",
                  "speedup = restic seconds / ours seconds (> 1: ours is faster)"],
    }


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    a.workdir = a.workdir.resolve()
    a.workdir.mkdir(parents=True, exist_ok=True)
    run_dir = a.workdir / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)          # left over from an earlier --keep run
    try:
        res = bench(a, run_dir)
    except BenchError as e:
        say(f"bench_backup: error: {e}")
        if e.stderr:
            say("--- its output (last 40 lines) ---\n" + tail(e.stderr))
        if not a.keep:
            say("(rerun with --keep to inspect the repositories and logs under " + str(run_dir) + ")")
        return 1
    except KeyboardInterrupt:
        say("bench_backup: interrupted")
        return 130
    finally:
        if not a.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    (a.workdir / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1) if a.json else render(res))
    if a.keep:
        say(f"kept: {run_dir}")
    say(f"results: {a.workdir / 'results.json'}")
    return 0 if all(v["ok"] for v in res["verification"]) else 1


if __name__ == "__main__":
    sys.exit(main())
