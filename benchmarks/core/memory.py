"""How much memory a job needs, how much this machine has free, and the check that refuses a misfit.

A job's peak is predicted from each backend's own allocations, not measured (a measurement of a
job that does not fit is the thing to avoid). It is the sum of four parts:

- **base**: the process with the backend's framework imported and its first (small) fit done;
  measured once per framework with ``benchmarks/suite/memory.py``'s method and rounded up.
- **data**: x and y as ``gdbench`` hands them over, float64, N·(d + 1) values.
- **prepared**: the backend's own copies of the data, at the peak of ``prepare`` (a cast to the
  working dtype, a framework's buffer, padding), and what it keeps beside them (a residual buffer).
- **fit**: what one fit allocates above that: per-epoch temporaries (N-vectors: residual, squares,
  autograd's saved tensors), numpy-moments' QR workspace O(min(N, block)·d + d²), the history
  (per epoch: a loss, w, b, a time, in Python objects, then as arrays), and torch-autograd's graph,
  one link longer each epoch.

The fit part is checked against the peak the suite measures (``mem_peak_bytes``: resident memory
above the prepared fit's, the same quantity) in the committed reference run: the prediction is
never below a measured peak and, where a peak is large enough to matter, within ``MARGIN``× of it
(tests/core/test_memory.py). A job is refused when its prediction exceeds what is available.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.core.files import UsageError
from benchmarks.core.fmt import fmt_bytes, fmt_n

MIB = 2**20
MARGIN = 2.5  # the predicted fit part stays within this factor of a measured peak of ≥ 32 MiB
MOMENTS_BLOCK = 1 << 14  # rows numpy-moments factors at a time (impls/numpy_moments.py BLOCK)
HISTORY_ROW = 256  # bytes per epoch of history beyond its 8·d of w: Python floats, list slots, arrays
GRAPH_LINK = 1024  # bytes per epoch of torch-autograd's chain: a SubBackward and a MulBackward node
# glibc serves a block below this from its heap once a freed one raised the mmap threshold, and the
# heap keeps what it grew to while small objects pin its top. So a fresh process's first fits of
# torch or JAX hold ~20 N-vectors of that size, and torch-autograd's, whose graph adds small nodes
# every epoch, ~1.5 more per epoch (measured here, docs/measurement.md#memory); above it, not.
MMAP_MAX = 32 * MIB
GRAPH_HEAP = 1.5  # N-vectors per epoch torch-autograd's first fit keeps when they are below MMAP_MAX


@dataclass(frozen=True)
class Spec:
    """What one backend allocates, in units of the job's arrays."""

    framework: str  # what a process that runs it has loaded
    base: int  # bytes of a process with the framework loaded and a small fit done
    copies: float  # copies of x and y (N·(d + 1) values of the working dtype) at prepare's peak
    vectors: float  # N-vectors of the working dtype a fit allocates above the prepared state
    heap: float = 0.0  # N-vectors a fresh process holds instead when they are below MMAP_MAX (below)
    shares: bool = False  # float64 data on the CPU are used as they are, not copied (as_tensor, require)
    graph: bool = False  # torch-autograd: the graph grows by a link per epoch
    moments: bool = False  # numpy-moments: a blocked QR instead of per-epoch temporaries


# Bases measured here (RSS after import and a fit at N = 100, Python 3.11, torch 2.13 CPU), rounded
# up; copies and vectors read from each backend's _prepare and step, and checked against the
# reference run's peaks (vectors at N = 10⁷, where a vector is 40-80 MB and nothing else shows).
NUMPY_BASE, TORCH_BASE, JAX_BASE = 64 * MIB, 320 * MIB, 320 * MIB
# copies: numpy's astype; jax's astype (device_put takes it as is on the CPU); jax-sharded's pad too;
# torch-ddp's parent cast and its workers' shards. vectors: x·w + b - y (numpy elides one temporary);
# torch's x@w, +b, -y, **2, saved r and its gradient; MSELoss's fused backward; XLA's residual.
SPECS: dict[str, Spec] = {
    "numpy-closed": Spec("numpy", NUMPY_BASE, 1, 2),
    "numpy-buffered": Spec("numpy", NUMPY_BASE, 1.5, 0.5),  # and its residual buffer r
    "numpy-moments": Spec("numpy", NUMPY_BASE, 1, 0, moments=True),
    "numba-fused": Spec("numba", 192 * MIB, 1, 0.5, shares=True),
    "torch-nograd": Spec("torch", TORCH_BASE, 1, 6, heap=24, shares=True),
    "torch-autograd": Spec("torch", TORCH_BASE, 1, 6, heap=24, shares=True, graph=True),
    "torch-optim": Spec("torch", TORCH_BASE, 1, 4, heap=24, shares=True),
    "torch-compile": Spec("torch-compile", 512 * MIB, 1, 1, heap=12, shares=True),
    "jax-grad": Spec("jax", JAX_BASE, 1, 2, heap=12),
    "jax-fused": Spec("jax", JAX_BASE, 1, 2, heap=12),
    "jax-sharded": Spec("jax", JAX_BASE, 2, 2, heap=12),
    "torch-ddp": Spec("torch", TORCH_BASE, 2, 3, heap=24),
}
PLUGIN = Spec("numpy", NUMPY_BASE, 1, 3)  # a user's backend: a cast copy and a few N-vector temporaries


@dataclass(frozen=True)
class Need:
    """A job's predicted peak in bytes, by part (see the module docstring)."""

    base: int
    data: int
    prepared: int
    fit: int

    @property
    def total(self) -> int:
        """Bytes at the job's peak."""
        return self.base + self.data + self.prepared + self.fit


def spec(backend: str) -> tuple[Spec, int]:
    """The Spec of a backend name (``torch-ddp-2`` is torch-ddp with 2 workers) and its workers."""
    if backend in SPECS:
        return SPECS[backend], 2 if backend in ("torch-ddp", "jax-sharded") else 1
    stem, _, count = backend.rpartition("-")
    if stem in SPECS and count.isdigit():
        return SPECS[stem], int(count)
    return PLUGIN, 1


def predict(
    backend: str,
    n: int,
    d: int = 1,
    dtype: str = "float64",
    epochs: int = 0,
    history: bool = False,
    workers: int | None = None,
) -> Need:
    """The predicted peak of one fit of ``epochs`` epochs of ``backend`` on N × d data."""
    s, parts = spec(backend)
    parts = workers or parts
    item = np.dtype(dtype).itemsize
    values = n * (d + 1)
    vector = n * item
    small = vector < MMAP_MAX
    fit = int(max(s.vectors, s.heap if small else 0) * vector)
    if s.moments:  # the stacked block, numpy.linalg.qr's copies of it, and the d × d factors
        rows = min(n, MOMENTS_BLOCK) + min(n, d + 1) + 1
        fit = 3 * rows * (d + 1) * 8 + 3 * (d + 1) ** 2 * 8  # 70 MB measured at N = 10⁴, d = 300
    if history:  # run_epochs' lists, then FitResult's float64 arrays (or a fused loop's buffers)
        fit += epochs * (2 * 8 * d + HISTORY_ROW)
    if s.graph:
        fit += epochs * (GRAPH_LINK + 2 * d * item + (int(GRAPH_HEAP * vector) if small else 0))
    workers_base = s.base * (parts - 1) if backend.startswith("torch-ddp") else 0
    copies = 0 if s.shares and dtype == "float64" else s.copies
    return Need(s.base + workers_base, values * 8, int(copies * values * item), fit)


def peak_bytes(backend: str, n: int, d: int = 1, dtype: str = "float64", **job: int | bool) -> int:
    """Bytes at the peak of one fit of ``backend``: the sum of ``predict``'s parts."""
    return predict(backend, n, d, dtype, **job).total  # type: ignore[arg-type]


def together(
    backends: Sequence[str],
    n: int,
    d: int = 1,
    dtype: str = "float64",
    epochs: int = 0,
    history: bool = False,
    copies: float = 0.0,
    generate: bool = False,
) -> Need:
    """One process fitting each backend in turn on the same data, as ``run`` and ``check`` do.

    Every framework stays loaded, every fit's history is kept (as float64 arrays) until the end,
    and the largest backend's copies and temporaries come on top; ``copies``: the command's own
    float64 copies of the data (a least-squares solve, the oracle's products); ``generate``: the
    data are drawn in this process (``impls.make_linear``: three N-vectors beside x while y forms).
    """
    needs = [predict(b, n, d, dtype, epochs, history) for b in backends] or [predict("numpy-closed", n, d)]
    bases: dict[str, int] = {}  # per framework loaded, the largest (torch-ddp's workers load it again)
    for b, need in zip(backends, needs, strict=False):
        bases[spec(b)[0].framework] = max(bases.get(spec(b)[0].framework, 0), need.base)
    base = NUMPY_BASE + sum(b - NUMPY_BASE for b in bases.values())
    kept = len(needs) * epochs * (d + 2) * 8 if history else 0
    own = max(need.prepared + need.fit for need in needs)
    if generate:  # before any fit, so it is the peak only when it is larger
        own = max(own, 3 * n * 8)
    values = n * (d + 1)
    return Need(base, values * 8, int(copies * values * 8) + kept, own)


@dataclass(frozen=True)
class Available:
    """Memory this process may still take, and where that figure comes from."""

    bytes: int
    source: str


def available() -> Available | None:
    """Free memory: Linux's MemAvailable, capped by a cgroup limit; else free physical pages; else None.

    MemAvailable counts what the kernel can hand out without swapping (page cache included), which
    is what a job can take. In a container the cgroup's limit minus its usage may be lower. Off
    Linux, sysconf's available physical pages where the OS has them (not on macOS): None then, and
    jobs are not refused.
    """
    found: list[Available] = []
    meminfo = _meminfo_kib("MemAvailable")
    if meminfo is not None:
        found.append(Available(meminfo * 1024, "MemAvailable in /proc/meminfo"))
    limit = _cgroup_room()
    if limit is not None:
        found.append(Available(limit, "this cgroup's memory.max less its memory.current"))
    if not found:
        try:
            pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            found.append(Available(int(pages), "free physical pages (sysconf)"))
        except (AttributeError, ValueError, OSError):
            return None
    return min(found, key=lambda a: a.bytes)


def _meminfo_kib(field: str) -> int | None:
    """A field of /proc/meminfo in KiB, None where there is none."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """Bytes the cgroup v2 limit leaves (memory.max - memory.current), None when unlimited or absent."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def job_label(backend: str, n: int, d: int, dtype: str) -> str:
    """E.g. ``numpy-closed at N = 10⁹, d = 1, float64``."""
    return f"{backend} at N = {fmt_n(n)}, d = {d}, {dtype}"


def shortfall(need: int, free: Available | None) -> str | None:
    """Why a job of ``need`` bytes does not fit, or None when it does (or nothing is known)."""
    if free is None or need <= free.bytes:
        return None
    return f"needs about {fmt_bytes(need)} of memory; {fmt_bytes(free.bytes)} is available ({free.source})"


def require(
    need: int, what: str, free: Available | None = None, hint: str = "use a smaller --size or fewer features"
) -> None:
    """UsageError, one line naming need and available, when ``what`` cannot fit; ``free`` defaults to now."""
    why = shortfall(need, free if free is not None else available())
    if why is not None:
        raise UsageError(f"{what} {why}" + (f"; {hint}" if hint else ""))
