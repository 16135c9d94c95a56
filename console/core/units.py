"""How sizes, rates, durations and times read to an admin: one convention for the CLI and the GUI.

Sizes are decimal (1 MB = 10^6 bytes), as disks and the benchmark reports count them."""

from __future__ import annotations

DASH = "—"


def human_size(n: float | None, empty: str = DASH) -> str:
    if n is None:
        return empty
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def human_rate(bytes_per_second: float | None, empty: str = DASH) -> str:
    return empty if not bytes_per_second else f"{human_size(bytes_per_second)}/s"


def human_duration(seconds: float | None, empty: str = DASH) -> str:
    if seconds is None:
        return empty
    if seconds < 1:
        return "< 1 s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def plural(n: int, word: str, many: str | None = None) -> str:
    """A count with its noun in agreement: "1 backup", "0 backups", "1,200 restore points".

    `word` is the singular; `many` is the plural when adding "s" is wrong ("repositories")."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"
