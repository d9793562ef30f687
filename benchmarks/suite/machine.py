"""The machine a measurement ran on: package versions, and how busy other processes kept it."""

from __future__ import annotations

import os
import platform
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


def cpu_busy(seconds: float, stat: Path = Path("/proc/stat")) -> float | None:
    """CPUs' worth of work other processes did while this one slept ``seconds`` (None off Linux)."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in stat.read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
        return sum(fields[:8]), idle  # user … steal; guest time is already in user

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    cpus = os.cpu_count() or 1
    return cpus * (1 - (idle1 - idle0) / (total1 - total0)) if total1 > total0 else None
