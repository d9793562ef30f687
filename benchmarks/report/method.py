"""REPORT.md's "How this was measured": the protocol in words, filled in from the run's own settings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from benchmarks.core import stats
from benchmarks.core.fmt import fmt_bytes, fmt_n
from benchmarks.core.results import Run
from benchmarks.core.sweep import policy

METHOD = """## How this was measured

- **Two costs per case.** A fit of E epochs costs t(E) = t₀ + E·tₑ: t₀ is the fixed cost of one
  fit (entering compiled code, allocating, copying results out), tₑ the marginal cost of one more
  epoch. Every backend is timed at the same epoch counts ({counts}), tol = 0 so every fit makes
  exactly that many updates, lr = {lr}, the tutorial's data (x ~ U[0, 1), y = 0.3x + 0.5 + noise),
  one seed. t₀ and tₑ are the least-squares line through the fastest round at each count; the
  line's residual is kept as a sanity check. Ratios to the memory floor use tₑ; a fit's predicted
  time is t₀ + E·tₑ.
- **Rounds spread over time.** The scheduler makes passes over the whole sweep; in each pass it
  visits every (device, N, dtype) group once, its floor and all its cases (both modes) in a fresh
  random order, one round per epoch count (repeated within the visit for a cheap case, up to 8;
  the collector off inside a round, as in timeit). A slow period on a shared machine (seconds long) thus
  stretches a few rounds of many cases instead of every round of a few. {passes}
- **Sized by precision.** After {min_passes} passes a case whose tₑ interval is narrower than
  {target:.0%} of tₑ leaves the rotation; the others get more passes, up to {max_passes}, while the
  next pass still ends within {budget:.0f} s of the session's start.
- **Estimator: the minimum.** Noise only ever adds time, so the fastest round is the least biased
  estimate of what the code costs (Chen & Revels 2016, "Robust benchmarking in noisy environments";
  Julia's BenchmarkTools judges by the minimum too). Medians and IQRs are shown beside it.
- **Intervals and ties.** 95 % bootstrap intervals over rounds ({boot} resamples, fixed seed): each
  count's rounds are resampled, the minima taken and the line refitted. A ratio's interval
  resamples both sides. Two backends are told apart only when the interval of their tₑ ratio lies
  wholly above {resolution}; otherwise the report names both: a tie within noise.
- **Timed region.** `backend.prepare(x, y, cfg)` validates and copies the data to the device
  outside timing; an untimed garbage collection precedes each round (objects alive after the
  warm-up are frozen out of it). A round is one whole call of the prepared fit, until device work
  is done (`block_until_ready` for JAX, `torch.cuda.synchronize()` for CUDA). Groups that would
  hold more than {keep} of prepared data (N = 10⁷) re-prepare, untimed, on every visit.
- **Compile and first call apart.** Every framework is warmed up once per process on a size no case
  uses; each case's first call at each epoch count (which compiles its shape) is timed on its own
  and shown, with prepare, as *first result*, never in t₀ or tₑ.
- **Checked before counted.** The first and the last result at every epoch count must match the
  exact float64 iterate after the same epochs (from the data's moments) within {tol}
  (max |θ − θ_ref| / max(1, |θ_ref|)); a case that does not is failed and left out.
- **Threads.** {threads} for every framework: {env}; torch.set_num_threads follows OMP_NUM_THREADS;
  XLA has no thread-count flag, so fewer threads than CPUs are enforced with CPU affinity.
- **Memory floor.** One read of x and y (`numpy.dot(x, y)`; on CUDA `torch.dot` + synchronize),
  timed in the same passes as the fits of its N and dtype; the fastest round.
- **Peak memory beyond the data.** CPU: the peak resident size during one more fit at the largest
  epoch count, untimed, after the case's first visit (Linux VmHWM, reset through
  /proc/<pid>/clear_refs before that fit: never before a timed round, which the reset slowed by
  10–900 µs) minus the size at that reset, which already holds the data; summed over the
  process and its workers (data-parallel backends), an upper bound when their peaks do not
  coincide. Memory an allocator reuses from an earlier round is not seen again; resolution one
  page. CUDA (torch):
  `torch.cuda.max_memory_allocated` above the level at reset. n/a: no honest measure there.
- **Time per epoch against the epoch index.** impls has no per-epoch hook, so each traced backend's
  own epoch function (`make_step`) is driven through the shared loop (`impls.trainer.run_epochs`)
  with a clock stamp as each epoch starts: {trace_epochs} epochs with history at N = {trace_n},
  median over {trace_rounds} fit(s).
- **Comparing runs.** `gdbench compare` flags a case only when NEW/OLD of the fastest rounds passes
  its threshold and a one-sided Mann–Whitney test on both runs' rounds gives p < 0.01.
"""


def method(run: Run) -> list[str]:
    """The section's lines for ``run``."""
    meta: dict[str, Any] = run.metas[0]
    g = run.machines[0].get("gdbench", {})
    proto = meta.get("protocol") or {}
    pol = proto.get("policy") or asdict(policy(bool(meta.get("quick"))))
    counts = "; ".join(
        f"N = {fmt_n(int(n))}: {', '.join(map(str, c))}" for n, c in meta.get("epoch_counts", {}).items()
    )
    passes = f"This run: {proto['passes']} passes in {proto['seconds']:.0f} s, stopped by {proto['stopped']}."
    tw = meta.get("trace_work", {})
    env = ", ".join(f"{k}={v}" for k, v in g.get("env", {}).items() if v)
    text = METHOD.format(
        counts=counts,
        lr=meta.get("lr"),
        passes=passes,
        min_passes=pol["min_passes"],
        max_passes=pol["max_passes"],
        target=pol["target"],
        budget=pol["budget_s"],
        keep=fmt_bytes(int(pol["keep_bytes"])),
        boot=stats.BOOT,
        resolution=f"1 + {stats.RESOLUTION:g}",
        tol=", ".join(f"{v:g} in {k}" for k, v in sorted(meta.get("check_tol", {}).items(), reverse=True)),
        threads=g.get("threads", "?"),
        env=env,
        trace_epochs=tw.get("epochs"),
        trace_n=run.traces[0].n if run.traces else "?",
        trace_rounds=tw.get("rounds"),
    )
    return text.splitlines()
