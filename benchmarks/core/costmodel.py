"""The cost model behind `gdbench choose`: a job's time per backend, with its interval, from saved runs.

A job is K fits of E epochs at (N, d) in one new process (``Job``). Its time per backend is the
one-time cost that process pays once (import, compile or load the compiled code, the first fit's
extra work) plus K times one fit: prepare plus t₀ + E·tₑ. Every saved case has t₀ and tₑ with
intervals (benchmarks/core/stats.py); each is carried to (N, d) by benchmarks/core/interp.py along
the work the backend's complexity names: N·d per epoch for a per-pass backend; for numpy-moments a
QR, N·d·min(N, d), once per fit, then d² per epoch.

The one-time part comes from the run's fresh-process measurement (``Run.startup``: the compile
cache filled, the point; empty, the interval's top) when the run has one; older runs only have the
first fit in the suite's own process, frameworks already imported (``Fit.one_time``), and say so.

``recommended`` picks the fastest, or a tie when the leaders' noise intervals overlap. A prediction
beyond what was measured (N above the sweep, d above the measured d's, or d > 1 on a run measured at
d = 1 only) is shown with its widened interval but never recommended; when nothing else is left,
there is no recommendation and choose gives the command that measures the job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from benchmarks.core import interp, memory, stats
from benchmarks.core.files import UsageError
from benchmarks.core.results import Fit, Run

FRESH = "fresh process"  # one-time part measured in a new process (Run.startup)
WARM_ONLY = "fresh process, cache filled only"  # the same, its empty-cache cost not measured (quick)
SUITE = "suite's first fit"  # older runs: the first fit in the suite's process, no import counted


@dataclass(frozen=True)
class Job:
    """What the user runs: ``fits`` fits of ``epochs`` epochs on N points of d features, in one process."""

    n: int
    d: int
    epochs: int
    dtype: str = "float64"
    device: str = "cpu"
    mode: str = "nohist"
    fits: int = 1


@dataclass(frozen=True)
class Prediction:
    """One backend's predicted time for the job: once + fits × one fit, each part with its interval."""

    backend: str
    seconds: float
    low: float
    high: float
    one_time: float  # what the new process pays once
    one_time_low: float
    one_time_high: float
    fit_seconds: float  # one fit: prepare + t₀ + E·tₑ
    fit_low: float
    fit_high: float
    one_time_source: str = FRESH  # FRESH, WARM_ONLY or SUITE
    extrapolated: list[str] = field(default_factory=list)  # why a number lies outside the runs
    beyond: bool = False  # beyond what was measured: shown, never recommended
    kind: str = "per-pass"
    # The interval with the one-time part at its estimate: the fits' noise and the range between
    # measured sizes only. Ties are called on it (see ``recommended``).
    noise_low: float = math.nan
    noise_high: float = math.nan
    ruled_out: str = ""  # why it cannot run here (memory), or ""
    peak_bytes: int | None = None  # predicted peak memory of the job, when known
    t0: float = 0.0  # the fixed cost per fit and the cost per epoch at (N, d): points
    te: float = 0.0


def _point(i: stats.Interval) -> float:
    """A cost's point for interpolation: its estimate, or the middle of 0…high when that is not above 0.

    Taken as 0, one size's unresolved cost pulled the log-log line to nothing at the sizes around it
    (a tₑ of 6·10⁻¹¹ s at N = 3,000 between 5.5 µs at 10² and an unresolved one at 10⁴).
    """
    return i.value if i.value > 0 else max(i.high, 0.0) / 2


def _fit_part(fits: list[Fit], job: Job) -> tuple[float, float, float, float, float]:
    """One fit at the job's (N, d): (point, low, high, t₀, tₑ), prepare included in the first three."""
    per_pass = fits[0].kind != "algorithmic"
    work = {"t0": interp.PER_PASS if per_pass else interp.QR_PASS}
    work["te"] = interp.PER_PASS if per_pass else interp.SMALL_EPOCH
    keys = ("t0", "te", "t0_lo", "te_lo", "t0_hi", "te_hi")
    q: dict[str, dict[tuple[int, int], float]] = {k: {} for k in keys}
    prep: dict[tuple[int, int], float] = {}
    for f in fits:
        key, c = (f.n, f.d), f.cost
        known = c.te.resolved  # an unresolved tₑ is anywhere from 0 to its upper end
        q["t0"][key], q["t0_lo"][key], q["t0_hi"][key] = _point(c.t0), c.t0.low, c.t0.high
        q["te"][key] = _point(c.te)
        q["te_lo"][key], q["te_hi"][key] = (c.te.low if known else 0.0), c.te.high
        prep[(f.n * f.d, 1)] = f.prepare_s  # a copy of the data: its cost follows the values, N·d
    n, d, e = job.n, job.d, job.epochs
    t0, _, _ = interp.at(q["t0"], n, d, work["t0"])
    te, _, _ = interp.at(q["te"], n, d, work["te"])
    t0_lo, t0_hi = interp.at(q["t0_lo"], n, d, work["t0"])[1], interp.at(q["t0_hi"], n, d, work["t0"])[2]
    te_lo, te_hi = interp.at(q["te_lo"], n, d, work["te"])[1], interp.at(q["te_hi"], n, d, work["te"])[2]
    p = interp.at(prep, n * d, 1, interp.PER_PASS)[0]  # one observation per case: no interval of its own
    t0, te = min(max(t0, t0_lo), t0_hi), min(max(te, te_lo), te_hi)
    return p + t0 + e * te, p + t0_lo + e * te_lo, p + t0_hi + e * te_hi, t0, te


def startup(run: Run, backend: str) -> tuple[stats.Interval, stats.Interval] | None:
    """(cold, warm) fresh-process one-time cost of ``backend``, when the run measured it.

    A backend without a compile cache starts cold in every process: its one measurement is both.
    """
    got = run.startup.get(backend)
    if got is None or (got.cold is None and got.warm is None):
        return None
    cold, warm = got.cold or got.warm, got.warm or got.cold
    assert cold is not None and warm is not None
    return cold, warm


def _once_fallback(fits: list[Fit], others: list[Fit], job: Job) -> tuple[float, float, float]:
    """(point, 0, high) of the one-time part from the suite's first fits (older runs).

    One observation per case, depending on what the process had compiled before (a kernel for the
    dtype, a parallel variant met first at some size), so it is taken from every case of this
    backend on the device: the point interpolated between the smallest seen at the sizes around N;
    the interval from 0 (all compiled already) to the largest seen up to the size above N. Outside
    the sizes, the nearest size's: a compilation does not grow with N.
    """
    seen = [(f.n, max(0.0, f.one_time - f.prepare_s)) for f in [*fits, *others]]
    sizes = sorted({f.n for f in fits})
    point = interp.flat({float(s): min(t for m, t in seen if m == s) for s in sizes}, job.n)[0]
    above = next((s for s in sizes if s >= job.n), sizes[-1])
    return point, 0.0, max([point, *(t for m, t in seen if m <= above)])


def predict(fits: list[Fit], job: Job, others: list[Fit] | None = None, run: Run | None = None) -> Prediction:
    """One backend's prediction from its cases (one dtype, device and mode; any N and d)."""
    name, kind = fits[0].backend, fits[0].kind
    fit, fit_lo, fit_hi, t0, te = _fit_part(fits, job)
    fresh = startup(run, name) if run is not None else None
    if fresh is not None:  # the point: the cache filled (a script run before); the top: a first run ever
        cold, warm = fresh
        once, once_lo, once_hi = max(warm.value, 0.0), max(warm.low, 0.0), max(cold.high, warm.high, 0.0)
        source = WARM_ONLY if run is not None and run.startup[name].cold is None else FRESH
    else:
        once, once_lo, once_hi = _once_fallback(fits, others or [], job)
        source = SUITE
    beyond, below = interp.coverage({(f.n, f.d) for f in fits}, job.n, job.d)
    k = job.fits
    return Prediction(
        name,
        once + k * fit,
        once_lo + k * fit_lo,
        once_hi + k * fit_hi,
        once,
        once_lo,
        once_hi,
        fit,
        fit_lo,
        fit_hi,
        source,
        [*beyond, *below],
        bool(beyond),
        kind,
        once + k * fit_lo,
        once + k * fit_hi,
        t0=t0,
        te=te,
    )


def predictions(run: Run, job: Job, free: memory.Available | None = None) -> list[Prediction]:
    """Every backend's prediction, fastest first; those whose peak memory exceeds ``free`` last, ruled out.

    UsageError when no run measured the job's dtype and device. ``free`` None: nothing ruled out.
    """
    fits = run.select(d=None, dtype=job.dtype, device=job.device, mode=job.mode)
    if not fits:
        raise UsageError(
            f"no saved run measured {job.dtype} on {job.device}; measure it with: "
            f"gdbench bench --dtypes {job.dtype} --devices {job.device}"
        )
    by_backend: dict[str, list[Fit]] = {}
    for f in fits:
        by_backend.setdefault(f.backend, []).append(f)
    preds = []
    for name, fs in by_backend.items():
        others = run.select(d=None, backend=name, device=job.device)
        p = predict(sorted(fs, key=lambda f: (f.d, f.n)), job, others, run)
        peak = peak_bytes(name, job)
        preds.append(replace(p, peak_bytes=peak, ruled_out=memory.shortfall(peak, free) or ""))
    return sorted(preds, key=lambda p: (bool(p.ruled_out), p.seconds))


def peak_bytes(backend: str, job: Job) -> int:
    """The job's predicted peak memory with ``backend`` (benchmarks/core/memory.py)."""
    return memory.peak_bytes(
        backend, job.n, job.d, job.dtype, epochs=job.epochs, history=job.mode == "history"
    )


def candidates(preds: list[Prediction]) -> list[Prediction]:
    """The predictions a recommendation may rest on: within what was measured, and fitting in memory.

    Those inside the measured sizes when any are; else those below them (bounded by the smallest
    size's cost); never one beyond (N above the sweep, d above the measured d's) or ruled out.
    """
    usable = [p for p in preds if not p.beyond and not p.ruled_out]
    inside = [p for p in usable if not p.extrapolated]
    return inside or usable


def recommended(preds: list[Prediction]) -> list[str]:
    """The fastest candidate, or every one whose noise interval overlaps the fastest's (a tie); [] if none.

    Ties are called on the noise interval: what the rounds cannot tell apart, with each one-time
    part at its estimate. The full interval also spans one-time costs from a filled compile cache
    to an empty one, and a minimum over a few fresh processes has a bootstrap interval reaching
    down to nothing; on that, a job of 5 ms would tie with one of 5 s whenever either might
    compile. A prediction outside the measured sizes (a data-parallel variant measured only at
    N ≥ 10⁶, asked about N = 300) is shown, flagged, but never recommended over one inside them.
    """
    pool = candidates(preds)
    if not pool:
        return []
    best = pool[0]
    return [p.backend for p in pool if p is best or p.noise_low <= best.noise_high]
