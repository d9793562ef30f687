"""One benchmark case, fair by construction: prepare apart, first call apart, check, then rounds.

A ``CaseRunner`` holds one case (backend x N x d x dtype x device x mode) at each of its epoch counts:
prepare (validation, host-to-device copies) -> one untimed first call per count (compile,
first-call cost, timed apart) -> check against the exact float64 iterate -> rounds, each one
whole fit, asked for by the scheduler (``protocol.py``) in whatever order spreads them over time.
``floor.FloorRunner`` does the same for the memory floor. ``record`` hands the rounds to
pytest-benchmark, so its JSON stays the storage. Its order of events is tested with a spy
(tests/suite/test_bench.py).
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import impls
from benchmarks.core import stats
from benchmarks.core.sweep import CHECK_TOL, spec
from benchmarks.suite.harness import Bench, CheckFailed, FitCase, check, device_sync, reference
from benchmarks.suite.memory import Probe, probe_for
from impls import FitResult


@dataclass
class Rounds:
    """Every timed round at one epoch count: the whole call, the loop's own clock, and when."""

    epochs: int
    seconds: list[float] = field(default_factory=list)  # run() and the device sync: what t(E) models
    loop_seconds: list[float] = field(default_factory=list)  # FitResult.seconds, the backend's clock
    at: list[float] = field(default_factory=list)  # start of the round, seconds since the suite began
    passes: list[int] = field(default_factory=list)  # the scheduler's pass each round belongs to

    def add(self, seconds: float, loop: float, at: float, pass_index: int) -> None:
        """Append one round."""
        self.seconds.append(seconds)
        self.loop_seconds.append(loop)
        self.at.append(at)
        self.passes.append(pass_index)

    def as_json(self) -> dict[str, Any]:
        """The rounds as saved under extra_info["samples"]."""
        return {
            "epochs": self.epochs,
            "seconds": self.seconds,
            "loop_seconds": self.loop_seconds,
            "at": self.at,
            "pass": self.passes,
        }


class CaseRunner:
    """One case at each of its epoch counts: prepared, checked, then timed a round at a time."""

    # Before every round (untimed): a full collection, so each round starts with the same garbage,
    # none. Cheap in the suite, which freezes the frameworks' objects out of the collector's view.
    collect = staticmethod(gc.collect)

    def __init__(
        self,
        backend: impls.Backend,
        case: FitCase,
        x: np.ndarray,
        y: np.ndarray,
        zero: float,
        visit_s: float = 0.0,
    ) -> None:
        self.backend, self.case, self.x, self.y, self.zero = backend, case, x, y, zero
        self.visit_s = visit_s  # seconds of rounds a visit aims at (0: one round per count)
        self.label = case.label
        self.rounds = {e: Rounds(e) for e in case.counts}
        self.refs = {e: reference(x, y, case.config(e)) for e in case.counts}
        self.sync = device_sync(case.device)
        self.probe: Probe | None = probe_for(case.device, getattr(backend, "framework", ""))
        self._runs: dict[int, Callable[[], FitResult]] = {}
        self.first: FitResult | None = None
        self.first_s = self.prepare_s = 0.0
        self.check_err = 0.0
        self.peaks: list[int] = []
        self.comm: list[float] = []  # all-reduce seconds per epoch inside the largest count's rounds
        self.last: dict[int, FitResult] = {}
        self.error: str | None = None  # why this case's numbers do not count

    @property
    def prepared(self) -> bool:
        """Whether every epoch count has a prepared fit in memory."""
        return len(self._runs) == len(self.case.counts)

    def prepare(self) -> None:
        """Prepare and check each epoch count not in memory; the first time, time the largest apart."""
        for e in sorted(self.case.counts, reverse=True):  # largest first: its first call is "first result"
            if e in self._runs:
                continue
            cfg = self.case.config(e)
            gc.disable()  # as in a round: a collection of the whole heap is not the backend's cost
            try:
                start = time.perf_counter()
                run = self.backend.prepare(self.x, self.y, cfg)  # validation, host-to-device copies
                self.sync()
                prepare_s = time.perf_counter() - start
                start = time.perf_counter()
                res = run()  # compile or first-call cost: never a timed round
                self.sync()
                first_s = time.perf_counter() - start
            finally:
                gc.enable()
            self.check_err = max(self.check_err, check(res, self.refs[e], cfg))  # before any round
            if self.first is None:
                self.first, self.first_s, self.prepare_s = res, first_s, prepare_s
            self._runs[e] = run

    def release(self) -> None:
        """Drop the prepared fits (and their copies of the data); the next visit prepares again."""
        self._runs.clear()
        gc.collect()

    def visit(self, order: list[int], pass_index: int) -> None:
        """Time rounds at each epoch count, in ``order``; a failure marks the case, never the sweep.

        One round per count, repeated (the same order again) as often as fits in ``visit_s`` given
        the fastest round-set so far: a cheap case gets many rounds a visit, a costly one one.
        """
        if self.error is not None:
            return
        try:
            self.prepare()
            for _ in range(repeats(self.visit_s, self._set_seconds())):
                for e in order:
                    self._round(e, pass_index)
            if self.probe is not None and not self.peaks:
                self._probe_memory()
        except Exception as exc:  # a broken backend is reported with its case
            self.error = f"{type(exc).__name__}: {exc}"
            self.release()

    def _set_seconds(self) -> float:
        """The fastest round at each count, added up: what one more round-set costs (inf before any)."""
        if self.n_rounds() == 0:
            return float("inf")
        return sum(min(r.seconds) for r in self.rounds.values())

    def _probe_memory(self) -> None:
        """Peak memory of one more, untimed fit of the largest count, after the visit's rounds.

        Never around a timed round: resetting the peak (writing /proc/self/clear_refs, walking
        the worker processes) slowed the round after it by 10-900 µs, only at the largest count,
        which biased tₑ upwards wherever a fit takes microseconds.
        """
        assert self.probe is not None
        e = self.case.counts[-1]
        self.collect()
        self.sync()
        self.probe.reset()
        res = self._runs[e]()
        self.sync()
        self.peaks.append(self.probe.peak())
        self.last[e] = res

    def _round(self, e: int, pass_index: int) -> None:
        run = self._runs[e]
        self.collect()
        self.sync()
        gc.disable()  # as timeit does: a collection (of the whole process's heap) is not the fit's cost
        try:
            start = time.perf_counter()
            res = run()
            self.sync()
            seconds = time.perf_counter() - start
        finally:
            gc.enable()
        self.rounds[e].add(seconds, res.seconds, start - self.zero, pass_index)
        comm = res.info.get("allreduce_seconds")
        if e == self.case.counts[-1] and isinstance(comm, (int, float)):
            self.comm.append(float(comm) / e)
        self.last[e] = res

    def finish(self) -> None:
        """Check the last round of every count: a backend right only on its first call does not count."""
        if self.error is not None:
            return
        try:
            for e, res in self.last.items():
                check(res, self.refs[e], self.case.config(e))
        except CheckFailed as exc:
            self.error = f"CheckFailed: {exc}"

    def n_rounds(self) -> int:
        """Rounds at the epoch count with the fewest."""
        return min(len(r.seconds) for r in self.rounds.values())

    def cost(self) -> stats.Cost:
        """t0 and te from the rounds so far."""
        return stats.fit_cost({e: r.seconds for e, r in self.rounds.items()})

    def precision(self) -> float:
        """Relative width of te's interval (inf before two counts have rounds)."""
        if self.n_rounds() < 2:
            return float("inf")
        return self.cost().te.rel_width()

    def info(self) -> dict[str, Any]:
        """Everything pytest-benchmark's extra_info keeps for this case."""
        case, backend = self.case, self.backend
        version = getattr(backend, "version", None)
        cost = self.cost()
        top = self.rounds[case.counts[-1]]
        q1, med, q3 = stats.median_quartiles([s / case.counts[-1] for s in top.seconds])
        out: dict[str, Any] = {
            "kind": "fit",
            "backend": case.backend,
            "backend_kind": spec(case.backend).kind,
            "options": dict(spec(case.backend).options),
            "framework": getattr(backend, "framework", ""),
            "version": version() if callable(version) else "",
            "n": case.n,
            "d": case.d,
            "lr": case.config(case.counts[-1]).lr,
            "dtype": case.dtype,
            "device": case.device,
            "mode": case.mode,
            "epochs": case.counts[-1],
            "epoch_counts": list(case.counts),
            "rounds": len(top.seconds),
            "samples": [r.as_json() for r in self.rounds.values()],
            "estimator": "min",
            "t0_s": cost.t0.as_list(),
            "te_s": cost.te.as_list(),
            "fit_residual": cost.residual,
            "per_epoch_median_s": med,  # whole fit at the largest count ÷ its epochs (schema 1's measure)
            "per_epoch_q1_s": q1,
            "per_epoch_q3_s": q3,
            "prepare_s": self.prepare_s,
            "first_call_s": self.first_s,
            "first_call_loop_s": self.first.seconds if self.first is not None else None,
            "check_err": self.check_err,
            "check_tol": CHECK_TOL[case.dtype],
            "data_bytes": case.data_bytes,
            "fit_info": {
                k: v
                for k, v in (self.first.info if self.first is not None else {}).items()
                if isinstance(v, (int, float, str, bool))
            },
            "mem_peak_bytes": max(self.peaks) if self.peaks else None,
            "mem_method": self.probe.method if self.probe is not None else None,
        }
        if self.comm and len(self.comm) == len(top.seconds):  # compute = the rest of the loop's time
            out["allreduce_per_epoch_median_s"] = stats.median_quartiles(self.comm)[1]
        return out


MAX_REPEATS = 8  # rounds per count in one visit: the rest of a case's rounds come from other passes


def repeats(visit_s: float, set_seconds: float) -> int:
    """How many round-sets fit in ``visit_s`` when one costs ``set_seconds`` (1 to MAX_REPEATS)."""
    if visit_s <= 0 or not set_seconds < float("inf") or set_seconds <= 0:
        return 1
    return max(1, min(MAX_REPEATS, int(visit_s / set_seconds)))


# The stamps perf_counter_replay reads back: two per round (0, then the round's seconds).
_STAMPS: deque[float] = deque()


def perf_counter_replay() -> float:
    """pytest-benchmark's timer in the fit and floor tests: the next stamp ``record`` queued.

    The scheduler has timed the rounds already, with ``time.perf_counter``. Each is queued as a
    start of 0 and an end of its seconds, so pytest-benchmark's ``end - start`` is those seconds,
    bit for bit. The tests name this timer in their ``benchmark`` marker (a public option).
    """
    if not _STAMPS:
        raise RuntimeError("perf_counter_replay read with no round queued: only runners.record queues them")
    return _STAMPS.popleft()


def record(bench: Bench, seconds: list[float]) -> None:
    """Hand rounds timed by the scheduler to pytest-benchmark, so its stats and JSON hold them.

    pytest-benchmark times one test at a time; the suite interleaves every backend's rounds, so it
    measures first, then replays the rounds through ``pedantic`` (its public API), whose timer,
    ``perf_counter_replay``, reads each round's seconds back instead of timing the no-op target.
    """
    if getattr(bench, "disabled", False):
        bench.has_error = True
        raise RuntimeError(
            "pytest-benchmark is disabled here (--benchmark-disable, or inside a pytest-xdist worker): "
            "it would save none of the rounds"
        )
    _STAMPS.clear()
    for s in seconds:
        _STAMPS.extend((0.0, s))
    try:
        bench.pedantic(_nothing, rounds=len(seconds), iterations=1)
        unread = len(_STAMPS) // 2
    finally:
        _STAMPS.clear()
    if unread:
        bench.has_error = True  # pedantic timed _nothing with another timer: keep that out of the JSON
        raise RuntimeError(
            f"pytest-benchmark read {len(seconds) - unread} of {len(seconds)} rounds: the test needs "
            "@pytest.mark.benchmark(timer=runners.perf_counter_replay)"
        )


def _nothing() -> None:
    """The target ``record`` hands to ``pedantic``: the work was done, and timed, before."""
