"""Peak memory beyond the data: how much a fit allocates on top of what is resident before it starts.

CPU (Linux): writing "5" to /proc/self/clear_refs resets the process's peak resident size (VmHWM)
to the current one, so after a fit VmHWM minus the resident size at the reset is the fit's own
peak: temporaries, history, autograd graph. The data were placed by prepare and are already in
the baseline. Worker processes (data-parallel backends) are included: each process's own peak
above its size at the reset, summed, which is an upper bound when their peaks do not coincide.
Memory an allocator kept from an earlier round and reuses is not counted again. Resolution: a page.
CUDA (torch backends): torch.cuda.max_memory_allocated after reset_peak_memory_stats, the same way.
Elsewhere there is no honest per-fit peak (ru_maxrss only grows), so none is reported.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Protocol


class Probe(Protocol):
    """Measures the peak memory above the level at the last reset."""

    method: str

    def reset(self) -> None:
        """Start a new peak from the current level."""
        ...

    def peak(self) -> int:
        """Bytes above the level at reset, at the highest point since."""
        ...


def _status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _descendants(pid: int | str) -> list[int]:
    """Child processes, recursively: the worker processes of data-parallel backends."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += [int(child), *_descendants(child)]
    return out


class RssPeak:
    """Peak resident memory above the size at reset, summed over this process and its descendants."""

    method = "rss-hwm"

    def __init__(self) -> None:
        self.base: dict[int | str, int] = {}

    def reset(self) -> None:
        """Reset every process's VmHWM to its resident size and remember those sizes."""
        self.base = {}
        pids: list[int | str] = ["self", *_descendants("self")]
        for pid in pids:
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                self.base[pid] = _status_kib(pid, "VmRSS")
            except (OSError, KeyError):
                if pid == "self":
                    raise
                # A worker that exited meanwhile, or one we may not reset: left out.

    def peak(self) -> int:
        """Bytes of VmHWM above the resident size at reset, summed over the processes seen then."""
        total = 0
        for pid, base in self.base.items():
            with contextlib.suppress(OSError, KeyError):  # a process that exited since the reset
                total += max(0, _status_kib(pid, "VmHWM") - base)
        return total * 1024


class CudaPeak:
    """Peak bytes torch's CUDA allocator handed out above what it held at reset."""

    method = "cuda-max-allocated"

    def __init__(self) -> None:
        self.base = 0

    def reset(self) -> None:
        """Reset torch's peak counter and remember the bytes allocated now."""
        torch = sys.modules["torch"]
        torch.cuda.reset_peak_memory_stats()
        self.base = int(torch.cuda.memory_allocated())

    def peak(self) -> int:
        """Bytes of the peak above the level at reset."""
        return max(0, int(sys.modules["torch"].cuda.max_memory_allocated()) - self.base)


def rss_supported() -> bool:
    """Whether this process can reset and read its peak resident size."""
    try:
        RssPeak().reset()
        return True
    except (OSError, KeyError, ValueError):
        return False


def probe_for(device: str, framework: str) -> Probe | None:
    """The honest probe for a backend on ``device``, or None when there is none."""
    if device == "cpu":
        return RssPeak() if rss_supported() else None
    if device == "cuda" and framework == "torch" and "torch" in sys.modules:
        return CudaPeak()
    return None  # JAX on a GPU: its peak counter cannot be reset
