"""What the suite measures: sizes, the fixed work per size, threads, and per-backend bench settings."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["per-pass", "algorithmic"]


@dataclass(frozen=True)
class BenchSpec:
    """How the suite runs one backend; a backend missing from SPECS gets these defaults."""

    # "per-pass": every epoch reads the data. "algorithmic": per-epoch cost independent of N, reported
    # apart as the algorithmic floor, never ranked against the per-pass backends.
    kind: Kind = "per-pass"
    options: Mapping[str, Any] = field(default_factory=dict)  # impls.get_backend(name, **options)
    trace: bool = False  # also time every epoch of one fit (needs the backend's make_step)
    base: str | None = None  # a bench variant of this registered backend (e.g. one world size)
    sizes: tuple[int, ...] | None = None  # only these N (None: every selected size)
    wide: bool = True  # also benched at d > 1 (False: at d = 1 only)
    # At d > 1, only where N·d² stays within this (None: no limit): a bound on the cost of a fit
    # whose one pass is a QR, O(N·d²), which every round of every epoch count pays again.
    max_nd2: int | None = None

    def runs_at(self, n: int, d: int = 1) -> bool:
        """Whether this backend has a case at size n with d features."""
        if self.sizes is not None and n not in self.sizes:
            return False
        if d == 1:
            return True
        return self.wide and (self.max_nd2 is None or n * d * d <= self.max_nd2)


DIST_SIZES = (10**6, 10**7)  # data-parallel backends: only where a shard is worth an all-reduce

# The one place for per-backend bench settings. The data-parallel backends are benched as variants,
# one per world size, at DIST_SIZES only; naming the backend selects all of its variants.
SPECS: dict[str, BenchSpec] = {
    "torch-autograd": BenchSpec(trace=True),  # the tutorial's pattern: per-epoch time grows with the epoch
    "torch-nograd": BenchSpec(trace=True),  # the idiomatic fix, traced beside it for contrast
    # 10⁹: a QR of 10³ x 10³ here, ~0.1-0.3 s a fit; 10⁴ x 10³ took ~3 s, x3 epoch counts per round.
    "numpy-moments": BenchSpec(kind="algorithmic", max_nd2=10**9),
    **{
        f"{base}-{p}": BenchSpec(base=base, options={option: p}, sizes=DIST_SIZES, wide=False)
        for base, option in (("torch-ddp", "world_size"), ("jax-sharded", "devices"))
        for p in (1, 2)
    },
}


def spec(name: str) -> BenchSpec:
    """The bench settings of backend ``name``."""
    return SPECS.get(name, BenchSpec())


def expand(names: list[str]) -> list[str]:
    """Replace each backend that has bench variants by its variants, keeping the order."""
    out: list[str] = []
    for name in names:
        variants = [v for v, s in SPECS.items() if s.base == name]
        out.extend(variants or [name])
    return out


SIZES = (10**2, 10**3, 10**4, 10**5, 10**6, 10**7)  # a decade apart: `choose` interpolates between them
QUICK_SIZES = (10**2, 10**4)
DTYPES = ("float32", "float64")
QUICK_DTYPES = ("float64",)
MODES = ("nohist", "history")  # history: the tutorial's per-epoch read of loss, w and b
# The sweep's own d > 1 cases (unless --modes or --dtypes ask otherwise): without history, as
# recording w costs O(d) an epoch, small beside an epoch's O(N·d) (numpy-moments': O(d²)) and
# measured at d = 1; in float64 only, the tutorial's dtype and choose's default. Each would double
# their cost, which the full run's budget cannot hold (docs/measurement.md, "More than one feature").
WIDE_MODES = ("nohist",)
WIDE_DTYPES = ("float64",)
FEATURES = (1, 10, 100, 1000)  # d: features; `choose` interpolates between them as between sizes
QUICK_FEATURES = (1, 10)
# The sweep's own grid has a d > 1 case at N only where N·d is at most this: no x larger than the
# d = 1 sweep's largest (80 MB in float64 at N = 10⁷), which is what the suite already keeps in
# memory. It still reaches past the caches (~10-40 ms an epoch there), where cost is a memory read.
MAX_ELEMENTS = 10**7
QUICK_MAX_ELEMENTS = 10**3  # quick: d = 10 at N = 10² only, so tests and choose --measure see d > 1
LR = 0.1  # the tutorial's; x ~ U[0, 1) keeps every size stable at this rate
SEED = 0
# Allowed max|θ - θ_ref| / max(1, |θ_ref|) after the fixed epochs. float32 gradients summed over
# 10⁷ terms in BLAS order carry ~1e-3 (torch, measured here); a wrong update is off by far more.
CHECK_TOL = {"float64": 1e-8, "float32": 5e-3}


def learning_rate(d: int) -> float:
    """The rate at d features: LR / d, which keeps gradient descent stable at every d.

    With x ~ U[0, 1) the loss's Hessian has its largest eigenvalue near d/2 + 2, and gradient
    descent diverges from lr = 4/(d + 4) on; LR / d stays below that at every d (LR at d = 1).
    """
    return LR / d


def shapes(sizes: Sequence[int], features: Sequence[int], cap: int | None) -> list[tuple[int, int]]:
    """(N, d) of a grid: every size at d = 1; at d > 1 the sizes where N·d <= cap (None: every size)."""
    return [
        (n, d)
        for n in sorted(set(sizes))
        for d in sorted(set(features))
        if d == 1 or cap is None or n * d <= cap
    ]


def grid_shapes(sizes: Sequence[int], features: Sequence[int], quick: bool) -> list[tuple[int, int]]:
    """The (N, d) a bench runs, from the sizes and features asked for (empty: the sweep's own).

    Without sizes: the sweep's sizes, and d > 1 only where N·d fits the cap. With sizes: exactly
    those, at d = 1, or at every d asked for (the user picked each N and d: no cap).
    """
    if sizes:
        return shapes(sizes, features or (1,), None)
    if quick:
        return shapes(QUICK_SIZES, features or QUICK_FEATURES, QUICK_MAX_ELEMENTS)
    return shapes(SIZES, features or FEATURES, MAX_ELEMENTS)


def epoch_counts(n: int, d: int = 1) -> tuple[int, ...]:
    """Epoch counts every backend is timed at, at N = n with d features; t(E) = t0 + E·te is fitted."""
    # By N·d, the values an epoch reads: a per-pass epoch's cost grows with it, so the same counts
    # resolve te at N = 10⁴ and d = 1 as at N = 10² and d = 100 (numpy-moments' one pass grows
    # as N·d², its epochs as d²: t0/te ~ N still). Three counts, so the line has a residual to
    # check; a 4x span, so that at small N, where a fit's
    # fixed cost t0 (~60-150 µs for a call into compiled code) dwarfs one epoch (~1 µs), the
    # 150-epoch difference still resolves te to a few percent. torch-autograd's epochs cost O(k) each
    # (graph growth), which keeps the counts modest; quick and full runs share them.
    if n * d <= 10**4:
        return (50, 100, 200)
    if n * d <= 10**6:
        return (5, 10, 20)
    return (1, 2, 4)  # N = 10⁷: an eager float64 epoch reads ~1 GB; 0.1-1 s each here


@dataclass(frozen=True)
class Policy:
    """How many rounds the scheduler spends, and where it stops (benchmarks/suite/protocol.py)."""

    min_passes: int  # every case gets at least this many rounds at each epoch count
    max_passes: int  # and at most this many
    target: float  # a case is done once its te interval (95 %) is narrower than this fraction of te
    budget_s: float  # no new pass starts that would end past this many seconds of the session
    keep_bytes: int  # a group whose prepared fits would hold more than this re-prepares each visit
    visit_s: float = 0.05  # rounds of a cheap case repeat within a visit up to about this long
    # The one-time cost of a fresh process (benchmarks/suite/startup.py): processes per backend, at
    # most; whether with empty compile caches too (torch-compile's cold compile alone takes ~40 s);
    # and the seconds after which no further round starts (the first always runs whole).
    startup_rounds: int = 1
    startup_cold: bool = False
    startup_s: float = 0.0


def policy(quick: bool = False) -> Policy:
    """The quick run stays within a minute on 2 cores, the full sweep within 15 minutes."""
    # Three passes give three rounds per count, nine a case: enough for compare's Mann-Whitney test
    # (which pools the counts) to reach p < 0.01; more passes follow while the budget allows.
    if quick:
        return Policy(min_passes=3, max_passes=12, target=0.05, budget_s=45.0, keep_bytes=4 << 30)
    return Policy(
        min_passes=3,
        max_passes=25,
        target=0.04,
        budget_s=10 * 60.0,
        keep_bytes=4 << 30,
        startup_rounds=3,
        startup_cold=True,
        startup_s=150.0,
    )


@dataclass(frozen=True)
class Work:
    """Epochs and rounds of the per-epoch trace."""

    epochs: int
    rounds: int


# The trace runs at a small N whatever sizes are selected: there an epoch is all dispatch, so graph
# growth shows plainly, and hundreds of epochs stay cheap even for a backend whose epochs grow.
TRACE_N = 100


def trace_work(quick: bool = False) -> Work:
    """Epochs and rounds of the per-epoch trace of the traced backends."""
    return Work(100, 1) if quick else Work(500, 3)


def floor_iterations(n: int) -> int:
    """Reads of x and y per floor round: enough that a round lasts well above the timer's resolution."""
    return max(1, 10**6 // n)


def size_label(n: int) -> str:
    """10000 -> "1e4"; sizes that are not powers of ten stay as digits."""
    s = str(n)
    return f"1e{len(s) - 1}" if s.startswith("1") and set(s[1:]) <= {"0"} and n >= 100 else s


def parse_size(text: str) -> int:
    """Parse "100", "1e4" or "10**6" as a positive int; ValueError otherwise."""
    t = text.strip()
    if "**" in t:
        base, exp = t.split("**", 1)
        value = int(base) ** int(exp)
    elif "e" in t.lower():
        mant, exp = t.lower().split("e", 1)
        value = round(float(mant) * 10 ** int(exp))
    else:
        value = int(t)
    if value < 1:
        raise ValueError(f"size must be >= 1, got {text!r}")
    return value


# Environment variables that size the thread pools of OpenMP, BLAS and friends. They are read when a
# library loads, so the runner sets them before numpy, torch or jax are imported.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"


def usable_cpus() -> list[int]:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def default_threads() -> int:
    """One thread per usable CPU."""
    return len(usable_cpus())


def thread_env(threads: int, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with every framework told to use ``threads`` threads (OPENBLAS_CORETYPE left alone)."""
    env = dict(base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    flags = env.get("XLA_FLAGS", "")
    if threads == 1 and XLA_ONE_THREAD not in flags:  # XLA has no N-thread flag; affinity caps N > 1
        env["XLA_FLAGS"] = f"{flags} {XLA_ONE_THREAD}".strip()
    env["GDBENCH_THREADS"] = str(threads)
    return env
