"""The machine a measurement ran on: package versions, and how busy other processes kept it."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from importlib import metadata
from pathlib import Path


def versions() -> dict[str, str | None]:
    """Versions of Python and the frameworks, read without importing them (None if absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("numpy", "torch", "jax", "jaxlib", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    out["platform"] = platform.platform()
    out["executable"] = sys.executable
    return out


def _stat(stat: Path) -> tuple[int, int]:
    """Jiffies of all CPUs since boot from /proc/stat's first line: (total, idle)."""
    fields = [int(v) for v in stat.read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return sum(fields[:8]), idle  # user … steal; guest time is already in user


def _own_cpu() -> float:
    """CPU seconds of this process and of its children waited for (the suite and its workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Busy:
    """How busy other processes kept the machine over a span: its CPUs' busy time less our own.

    Started before the suite and read after it (its processes waited for), so it costs no time of
    its own, unlike sleeping a second to sample: /proc/stat counts every process's CPU time, and
    getrusage ours and our children's; the difference is the others'. None off Linux.
    """

    def __init__(self, stat: Path = Path("/proc/stat")) -> None:
        self.stat = stat
        try:
            self.start: tuple[int, int] | None = _stat(stat)
        except (OSError, ValueError, IndexError):
            self.start = None
        self.ours, self.t = _own_cpu(), time.monotonic()

    def others(self) -> float | None:
        """CPUs' worth of work other processes did since the start (0 … CPUs; None when unknown)."""
        try:
            total, idle = _stat(self.stat)
        except (OSError, ValueError, IndexError):
            return None
        wall = time.monotonic() - self.t
        if self.start is None or total <= self.start[0] or wall <= 0:
            return None
        cpus = os.cpu_count() or 1
        busy = cpus * (1 - (idle - self.start[1]) / (total - self.start[0]))
        return max(0.0, busy - (_own_cpu() - self.ours) / wall)
