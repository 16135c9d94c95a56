#!/usr/bin/env python3
"""SFTP benchmark: our copy job to an SFTP repository and our restore from it vs OpenSSH `sftp -b` moving the same
pack bytes, on a real sshd on 127.0.0.1 (tests/sshd.sh), in the same run.

usage: bench/bench_sftp.py [--scale 1.0] [--workdir /tmp/bcbench] [--repeat N] [--keep] [--json] [--cli CMD]

Setup (untimed): the mixed dataset is backed up into a local repository; an SFTP repository is added on the test
server (key login, host key accepted by fingerprint) with a copy job from the backup job.
Timed, alternating the order per repetition, each against OpenSSH `sftp -b` moving the source repository's
data/ folder (the same pack files): `put -r` for the uploads, `get -r` for the downloads:
  copy job  ours `job run COPYJOB` (local -> SFTP: reads and verifies every block, uploads the packs)
  restore   ours `restore POINT --to DIR` of the copied point (reads every block over SFTP, writes the dataset)
  put_file  ours, the storage alone: SftpStorage.put_file of every pack file (what the copy job's uploads cost)
  read      ours, the storage alone: SftpStorage.read_range of every pack in 4 MiB ranges, 2 threads, to files
Throughput is pack bytes per second for both sides (the bytes that cross the SSH connection); ratio = ours MB/s /
OpenSSH MB/s. Goals (the issue's): copy job >= 1.0x sftp put, restore >= 0.8x sftp get, our peak RSS <= 250 MB.
Timings are wall clock per command (process start included), page cache warm, `sync` before each command.
Our restores are verified against the dataset. OpenSSH uses its defaults (chacha20-poly1305 here); ours
negotiates AES-GCM. Needs root (the test server); only the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backup import (  # noqa: E402
    MB,
    REPO_ROOT,
    BenchError,
    ensure_dataset,
    file_hash,
    median,
    our_cli,
    ours_env,
    run,
    sample_files,
    say,
    table,
    tool_version,
    tree_bytes,
    verify,
    warm_cache,
)

SSHD_SH = REPO_ROOT / "tests" / "sshd.sh"
PHASES = (("copy job", "put"), ("restore", "get"), ("put_file", "put"), ("read", "get"))
GOAL_UPLOAD, GOAL_DOWNLOAD, GOAL_RSS_MB = 1.0, 0.8, 250.0


class Server:
    """The test sshd of tests/sshd.sh, in WORKDIR/sshd."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "sshd"
        self.env: dict[str, str] = {}

    def start(self) -> None:
        if os.geteuid() != 0:
            raise BenchError("bench_sftp needs root: tests/sshd.sh starts an sshd with a test account")
        self.dir.parent.chmod(0o755)                  # the test account must reach its remote folder
        p = subprocess.run(["bash", str(SSHD_SH), "start", str(self.dir)], capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError("tests/sshd.sh start failed", p.stderr)
        self.env = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
        fp = subprocess.run(["ssh-keygen", "-lf", self.env["HOSTKEY_PUB"]], capture_output=True, text=True,
                            check=True).stdout.split()[1]
        self.fingerprint = fp
        self.known_hosts = self.dir / "openssh_known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.env['PORT']} "
                                    + " ".join(Path(self.env["HOSTKEY_PUB"]).read_text().split()[:2]) + "\n")

    def stop(self) -> None:
        subprocess.run(["bash", str(SSHD_SH), "stop", str(self.dir)], capture_output=True)

    @property
    def remote(self) -> Path:
        return Path(self.env["REMOTE"])

    def location(self, folder: str) -> str:
        return f"{self.env['USER']}@127.0.0.1:{self.env['PORT']}/{self.remote / folder}"

    def sftp_batch(self, lines: list[str], log_dir: Path, label: str):
        batch = log_dir / f"{label}.batch"
        log_dir.mkdir(parents=True, exist_ok=True)
        batch.write_text("\n".join(lines) + "\n")
        return run(["sftp", "-q", "-b", str(batch), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                    "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "IdentitiesOnly=yes",
                    "-i", self.env["KEY"], "-P", self.env["PORT"], f"{self.env['USER']}@127.0.0.1"],
                   env=dict(os.environ), log_dir=log_dir, label=label, ok=(0,))


CHILD = """
import os, sys, threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from console.core.storage.hostkeys import KnownHosts
from console.core.storage.sftp import SftpAuth, SftpLocation, SftpStorage
mode, location, key, known_hosts, local = sys.argv[1:6]
st = SftpStorage(SftpLocation.parse(location), SftpAuth(key_file=key), KnownHosts(known_hosts))
local = Path(local)
if mode == "put":
    st.ensure_root()
    for p in sorted(q for q in local.rglob("*") if q.is_file()):
        spooled = st.spool_dir() / p.name
        os.link(p, spooled)                        # put_file consumes its file: give it a link
        st.put_file(f"data/{p.relative_to(local)}", spooled)
    st.flush()
else:
    def fetch(name):
        out = local / name
        out.parent.mkdir(parents=True, exist_ok=True)
        size, off = st.size(name), 0
        with open(out, "wb") as f:
            while off < size:
                data = st.read_range(name, off, 4 << 20)
                f.write(data)
                off += len(data)
    with ThreadPoolExecutor(2) as ex:
        list(ex.map(fetch, st.list("data")))
st.close()
"""


class Ours:
    def __init__(self, cli: list[str], env: dict[str, str], base: Path, dataset: Path, server: Server,
                 rep: int) -> None:
        self.cli, self.base, self.dataset, self.server = cli, base, dataset, server
        self.data_dir, self.logs = base / "ours-data", base / "logs"
        self.env = {**env, "BACKUP_CONSOLE_HOME": str(self.data_dir)}
        self.folder = f"ours-{rep}"
        self.out = base / "ours-restore"

    def _run(self, args: list[str], label: str):
        return run([*self.cli, *args, "--data-dir", str(self.data_dir)], env=self.env, log_dir=self.logs,
                   label=f"ours-{label}", cwd=REPO_ROOT)

    def _json(self, args: list[str], label: str):
        r = self._run([*args, "--json"], label)
        try:
            return r, json.loads(r.stdout)
        except ValueError as e:
            raise BenchError(f"{args}: no JSON output", r.stdout + r.stderr) from e

    def setup(self) -> Path:
        """Local repository with the dataset backed up; SFTP repository and copy job. Returns the local data/."""
        local = self.base / "ours-local"
        self._run(["repo", "add-local", "local", str(local)], "add-local")
        self._run(["job", "add-backup", "j", "--repo", "local", "--source", str(self.dataset)], "add-job")
        self._run(["job", "run", "j", "--no-copy"], "backup")
        self._run(["repo", "add-sftp", "off", self.server.location(self.folder), "--key", self.server.env["KEY"],
                   "--accept-host-key", self.server.fingerprint], "add-sftp")
        self._run(["job", "add-copy", "c", "--target", "off", "--from-job", "j"], "add-copy")
        return local / "data"

    def upload(self):
        r, doc = self._json(["job", "run", "c"], "copy")
        if doc.get("status") != "success":
            raise BenchError(f"our copy ended {doc.get('status')}: {doc.get('error')}", r.stderr)
        return r, doc

    def transfer(self, mode: str, folder: str, local: Path):
        """The storage alone (no engine): put_file every pack of `local`, or read every pack into `local`."""
        py = self.cli[0] if self.cli[0].endswith("python") else str(REPO_ROOT / ".venv" / "bin" / "python")
        return run([py, "-c", CHILD, mode, self.server.location(folder), self.server.env["KEY"],
                    str(self.data_dir / "known_hosts"), str(local)], env=self.env, log_dir=self.logs,
                   label=f"ours-raw-{mode}", cwd=REPO_ROOT)

    def download(self):
        _, points = self._json(["points", "list", "--job", "c"], "points")
        if len(points) != 1:
            raise BenchError(f"expected one copied point, found {len(points)}")
        return self._run(["restore", points[0]["id"], "--to", str(self.out)], "restore")


def openssh_transfer(server: Server, direction: str, local_data: Path, remote: Path, base: Path,
                     nbytes: int) -> float:
    """`sftp -b` put -r of the local packs to `remote`, or get -r of them back (checked, then removed)."""
    if direction == "put":
        shutil.rmtree(remote, ignore_errors=True)
        return server.sftp_batch([f"put -r {local_data} {remote}"], base / "logs", "openssh-put").seconds
    out = base / "openssh-get"
    shutil.rmtree(out, ignore_errors=True)
    r = server.sftp_batch([f"get -r {remote} {out}"], base / "logs", "openssh-get")
    if tree_bytes(out) != nbytes:
        raise BenchError("sftp get brought back a different number of bytes")
    shutil.rmtree(out, ignore_errors=True)
    return r.seconds


def bench(a: argparse.Namespace) -> dict:
    cli, oenv = our_cli(a.cli), ours_env(False)
    version = tool_version([*cli, "--version"], oenv)
    openssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    load_start = os.getloadavg()[0]
    # the full-scale dataset is shared with the other benchmarks; other scales get their own folder
    dataset, ref = ensure_dataset(a.workdir, a.scale, "dataset" if a.scale == 1.0 else f"dataset-{a.scale:g}")
    dataset = Path(os.path.realpath(dataset))
    hashes = {n: file_hash(dataset / n) for n in sample_files(ref, False)}
    server = Server(a.workdir)
    server.start()
    runs: dict[str, dict[str, list]] = {p: {"ours_s": [], "openssh_s": [], "rss": [], "cpu": []} for p, _ in PHASES}
    pack_bytes: list[int] = []
    sent: list[int] = []
    verifications = []
    try:
        for rep in range(1, a.repeat + 1):
            base = a.workdir / "sftp-run" / f"rep-{rep}"
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir(parents=True)
            folders = (f"ours-{rep}", f"raw-{rep}", f"openssh-{rep}")
            for d in folders:
                shutil.rmtree(server.remote / d, ignore_errors=True)
            warm_cache(dataset)
            ours = Ours(cli, oenv, base, dataset, server, rep)
            local_data = ours.setup()
            nbytes = tree_bytes(local_data)
            pack_bytes.append(nbytes)
            say(f"[rep {rep}] {nbytes / MB:.1f} MB of pack bytes in "
                f"{sum(1 for p in local_data.rglob('*') if p.is_file())} files")
            remote_put = server.remote / f"openssh-{rep}"
            peer_s: dict[str, float] = {}

            order = ["ours", "openssh"] if rep % 2 else ["openssh", "ours"]
            for phase, peer in PHASES:
                for tool in order:
                    say(f"[rep {rep}] {phase}: {tool}")
                    if tool == "openssh":
                        # one OpenSSH run per direction and repetition serves both of our phases of that direction
                        if peer not in peer_s:
                            peer_s[peer] = openssh_transfer(server, peer, local_data, remote_put, base, nbytes)
                        runs[phase]["openssh_s"].append(peer_s[peer])
                        continue
                    if phase == "copy job":
                        r, doc = ours.upload()
                        sent.append(doc.get("transferred") or 0)
                    elif phase == "restore":
                        r = ours.download()
                        v = verify(ours.out, dataset, ref, hashes, "ours")
                        v["rep"] = rep
                        verifications.append(v)
                        shutil.rmtree(ours.out, ignore_errors=True)
                    elif phase == "put_file":
                        r = ours.transfer("put", f"raw-{rep}", local_data)
                    else:
                        out = base / "ours-read"
                        r = ours.transfer("get", f"raw-{rep}", out)
                        if tree_bytes(out / "data") != nbytes:
                            raise BenchError("our read brought back a different number of bytes")
                        shutil.rmtree(out, ignore_errors=True)
                    runs[phase]["ours_s"].append(r.seconds)
                    runs[phase]["rss"].append(r.rss_mb)
                    runs[phase]["cpu"].append(r.cpu_s)
            if not a.keep:
                shutil.rmtree(base, ignore_errors=True)
                for d in folders:
                    shutil.rmtree(server.remote / d, ignore_errors=True)
    finally:
        server.stop()
    nbytes = int(median([float(b) for b in pack_bytes]) or 0)
    phases = []
    for name, r in runs.items():
        o, s = median(r["ours_s"]), median(r["openssh_s"])
        phases.append({"phase": name, "ours_s": o, "openssh_s": s,
                       "ours_mb_s": nbytes / MB / o if o else None, "openssh_mb_s": nbytes / MB / s if s else None,
                       "ratio": s / o if o and s else None,
                       "ours_peak_rss_mb": max(r["rss"]) if r["rss"] else None,
                       "ours_cpu_s": median(r["cpu"]), "runs": r})
    peak = max((p["ours_peak_rss_mb"] or 0) for p in phases)
    by = {p["phase"]: p for p in phases}
    goals = [{"goal": f"copy job to SFTP >= {GOAL_UPLOAD}x OpenSSH sftp put", "value": by["copy job"]["ratio"],
              "ok": (by["copy job"]["ratio"] or 0) >= GOAL_UPLOAD},
             {"goal": f"restore from SFTP >= {GOAL_DOWNLOAD}x OpenSSH sftp get", "value": by["restore"]["ratio"],
              "ok": (by["restore"]["ratio"] or 0) >= GOAL_DOWNLOAD},
             {"goal": f"our peak RSS <= {GOAL_RSS_MB:.0f} MB", "value": peak, "ok": peak <= GOAL_RSS_MB}]
    return {"scale": a.scale, "repeat": a.repeat, "versions": {"ours": version, "openssh": openssh},
            "dataset_bytes": ref.bytes, "pack_bytes": nbytes, "copy_sent_bytes": sent, "phases": phases,
            "goals": goals, "verification": verifications,
            "machine": {"cpus": os.cpu_count(), "load_start": load_start, "load_end": os.getloadavg()[0]}}


def render(res: dict) -> str:
    lines = [f"SFTP benchmark on 127.0.0.1: {res['versions']['ours']} vs {res['versions']['openssh']}; dataset "
             f"{res['dataset_bytes'] / MB:.0f} MB (scale {res['scale']:g}) = {res['pack_bytes'] / MB:.0f} MB of pack "
             f"bytes; median of {res['repeat']} run(s); MB = 10^6 bytes; load {res['machine']['load_start']:.1f} -> "
             f"{res['machine']['load_end']:.1f} on {res['machine']['cpus']} CPUs", ""]
    lines.append(table(["phase", "ours s", "OpenSSH s", "ours MB/s", "OpenSSH MB/s", "ratio", "our peak RSS",
                        "our CPU s"],
                       [[p["phase"], f"{p['ours_s']:.2f}", f"{p['openssh_s']:.2f}", f"{p['ours_mb_s']:.1f}",
                         f"{p['openssh_mb_s']:.1f}", f"{p['ratio']:.2f}x", f"{p['ours_peak_rss_mb']:.0f} MB",
                         f"{p['ours_cpu_s']:.1f}"] for p in res["phases"]]))
    lines += ["", table(["goal", "value", "met"],
                        [[g["goal"], f"{g['value']:.2f}" if g["value"] is not None else "-", "yes" if g["ok"] else "NO"]
                         for g in res["goals"]])]
    bad = [v for v in res["verification"] if not v["ok"]]
    lines.append("")
    lines.append("our restores verified against the dataset: " + ("all OK" if not bad else "FAILED -- " + "; ".join(
        f"rep {v['rep']}: " + ", ".join(v["problems"]) for v in bad)))
    lines.append("copy job: reads the local packs, verifies every block, uploads packs (fsync on the server before "
                 "each rename); restore: reads every block over SFTP, verifies it, writes the dataset's files;")
    lines.append("put_file / read: the SFTP storage alone on the same pack files; OpenSSH: `sftp -b` put -r / get -r "
                 "of the same pack files (no fsync). Every timing includes the process start.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0 = ~522 MB)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bcbench"))
    ap.add_argument("--repeat", type=int, help="runs per measurement (default: 3 below scale 1, else 1)")
    ap.add_argument("--keep", action="store_true", help="keep repositories, restores and logs")
    ap.add_argument("--cli", help="our command (default: BACKUP_CONSOLE_CMD, else .venv/bin/backup-console)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.repeat is None:
        a.repeat = 3 if a.scale < 1 else 1
    if a.repeat < 1 or a.scale <= 0:
        ap.error("--repeat and --scale must be positive")
    a.workdir = a.workdir.resolve()
    a.workdir.mkdir(parents=True, exist_ok=True)
    try:
        res = bench(a)
    except BenchError as e:
        say(f"bench_sftp: error: {e}")
        if e.stderr:
            say(e.stderr[-4000:])
        return 1
    (a.workdir / "sftp-results.json").write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1) if a.json else render(res))
    return 0 if all(g["ok"] for g in res["goals"]) and not any(not v["ok"] for v in res["verification"]) else 1


if __name__ == "__main__":
    sys.exit(main())
