#!/usr/bin/env python3
"""One table from every benchmark's results in WORKDIR (written by the bench_*.py scripts of the same run):
operation, our throughput, the peer and its throughput, speedup, our peak RSS, and the GUI's event-loop stall.

usage: bench/report.py [--workdir /tmp/bcbench] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import date
from pathlib import Path

MB = 1_000_000


def _load(workdir: Path, name: str) -> dict | None:
    p = workdir / name
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def _f(v: float | None, spec: str = ".1f", suffix: str = "") -> str:
    return "-" if v is None else f"{v:{spec}}{suffix}"


def rows(workdir: Path) -> list[list[str]]:
    out: list[list[str]] = []
    b = _load(workdir, "results.json")
    if b:
        for r in b["phases"]:
            out.append([f"backup: {r['phase']}", _f(r["ours_mb_s"]), "restic", _f(r["restic_mb_s"]),
                        _f(r["speedup"], ".2f", "x"), _f(r["ours_peak_rss_mb"], ".0f", " MB")])
    c = _load(workdir, "copy-results.json")
    if c:
        for r in c["phases"]:
            mbs = c["dataset_bytes"] / MB / r["ours_s"] if r["phase"] == "full copy" else None
            peer = c["dataset_bytes"] / MB / r["restic_s"] if r["phase"] == "full copy" else None
            out.append([r["phase"], _f(mbs), "restic copy", _f(peer), _f(r["speedup"], ".2f", "x"),
                        _f(r["ours_peak_rss_mb"], ".0f", " MB")])
        worst = max((i["ratio"] for i in c["increments"] if i["ratio"]), default=None)
        out.append(["incremental copy: bytes sent / new unique bytes", _f(worst, ".3f"), "goal", "<= 1.05", "-", "-"])
    p = _load(workdir, "peers-results.json")
    if p:
        for r in p["rows"]:
            out.append([r["ours"], _f(r["ours_mb_s"]), f"{r['peer']} && sync", _f(r["peer_mb_s"]),
                        _f(r["speedup"], ".2f", "x"), _f(r["ours_peak_rss_mb"], ".0f", " MB")])
    s = _load(workdir, "sftp-results.json")
    if s:
        peer = {"copy job": "sftp -b put", "put_file": "sftp -b put", "restore": "sftp -b get", "read": "sftp -b get"}
        for r in s.get("phases", []):
            out.append([f"SFTP {r['phase']}", _f(r["ours_mb_s"]), peer.get(r["phase"], "OpenSSH sftp"),
                        _f(r["openssh_mb_s"]), _f(r["ratio"], ".2f", "x"), _f(r["ours_peak_rss_mb"], ".0f", " MB")])
    g = _load(workdir, "gui-results.json")
    if g:
        for phase in ("backup", "copy"):
            if phase in g:
                out.append([f"GUI event-loop stall during a {g[phase]['mb']:.0f} MB {phase} started in the console",
                            f"{g[phase]['stall_ms']:.0f} ms", "goal", f"<= {g['limit_ms']:.0f} ms", "-", "-"])
        if "points" in g:
            p = g["points"]
            out.append([f"GUI restore-point list of {p['points']:,} points: shown after selecting the backup",
                        f"{p['select_s']:.2f} s", "goal", f"<= {g['open_limit_s']} s", "-", "-"])
            out.append([f"GUI restore-point list of {p['points']:,} points: from starting the console",
                        f"{p['start_s']:.2f} s", "-", "-", "-", f"{g.get('peak_rss_mb', 0):.0f} MB"])
    br = _load(workdir, "browse-results.json")
    if br:
        for key, label in (("open_cold_s", "cold (repository opened, tree decoded)"),
                           ("open_other_point_s", "another point (tree decoded)"),
                           ("open_after_list_s", "newest point after selecting its backup"),
                           ("open_warm_s", "again (cached)")):
            if key in br:
                out.append([f"GUI folder of {br['folder_files']:,} files, {label}", f"{br[key]:.2f} s", "goal",
                            f"<= {br['goal_s']} s", "-", "-"])
        out.append([f"GUI stall while a folder of {br['folder_files']:,} files opens", f"{br['stall_ms']:.0f} ms",
                    "-", "-", "-", "-"])
        for key, stall, label in (("filter_s", "stall_filter_ms", "1 match"),
                                  ("search_all_s", "stall_search_all_ms", f"{br['folder_files']:,} matches")):
            if key in br:
                out.append([f"GUI file search over {br['folder_files']:,} names, {label} shown (GUI stall "
                            f"{br[stall]:.0f} ms)", f"{br[key]:.2f} s", "-", "-", "-", "-"])
    return out


def render(workdir: Path, markdown: bool) -> str:
    headers = ["operation", "ours MB/s", "peer", "peer MB/s", "speedup", "ours peak RSS"]
    body = rows(workdir)
    if not body:
        return f"no benchmark results in {workdir} (run bench/run-all first)"
    head = (f"{date.today().isoformat()} on {platform.node()} ({os.cpu_count()} CPUs, {platform.platform()}), "
            f"load average now {os.getloadavg()[0]:.2f}")
    if markdown:
        lines = [head, "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    lines = [head, "", "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bcbench"))
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args(argv)
    print(render(a.workdir, a.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
