"""How this was measured: the protocol in a few bullets, filled in from the run's own settings.

The protocol at length, with its reasons, is docs/measurement.md.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from benchmarks.core import stats
from benchmarks.core.fmt import fmt_bytes, fmt_n, fmt_t
from benchmarks.core.results import Run
from benchmarks.core.sweep import policy
from benchmarks.report.sections import Bullets, Code, Em, Paragraph, Section, Text, strong, text


def counts(epoch_counts: dict[str, list[int]]) -> str:
    """Epoch counts per N, runs of sizes with the same counts merged: "N = 10²–10⁴: 50, 100, 200; …"."""
    groups: list[tuple[list[int], list[int]]] = []
    for n, c in sorted(((int(n), list(c)) for n, c in epoch_counts.items())):
        if groups and groups[-1][1] == c:
            groups[-1][0].append(n)
        else:
            groups.append(([n], c))
    return "; ".join(
        f"N = {fmt_n(ns[0])}" + (f"–{fmt_n(ns[-1])}" if len(ns) > 1 else "") + ": " + ", ".join(map(str, c))
        for ns, c in groups
    )


def section(run: Run) -> Section:
    """The section for ``run``."""
    meta: dict[str, Any] = run.metas[0]
    g = run.machines[0].get("gdbench", {})
    proto = meta.get("protocol") or {}
    pol = proto.get("policy") or asdict(policy(bool(meta.get("quick"))))
    tol = ", ".join(f"{v:g} in {k}" for k, v in sorted(meta.get("check_tol", {}).items(), reverse=True))
    threads = [k.split("_")[0] for k, v in g.get("env", {}).items() if v]
    tw = meta.get("trace_work", {})
    this = f" This run: {proto.get('passes')} passes in {proto.get('seconds', 0):.0f} s"
    this += f" (stopped by {proto.get('stopped')})."
    trace_n = fmt_n(run.traces[0].n) if run.traces else "?"
    items: list[Text] = [
        text(strong("Two costs per case."), " t(E) = t₀ + E·tₑ, the line through each epoch count's fastest "
             f"round. Every backend runs the same counts ({counts(meta.get('epoch_counts', {}))}), tol = 0, "
             f"lr = {meta.get('lr')}, the tutorial's data"
             + (f"; at d > 1 features, the counts of N·d and lr = {meta.get('lr')} / d."
                if meta.get("epoch_counts_d") else ".")),
        text(strong("Rounds spread over time."), " Each pass visits every (device, N, dtype) group once, its "
             "floor and cases in a fresh random order, one round per epoch count; a slow period stretches a "
             "few rounds of many cases, not all of one." + (this if proto else "")),
        text(strong("Sized by precision."), f" After {pol['min_passes']} passes a case whose tₑ interval is "
             f"narrower than {pol['target']:.0%} of tₑ leaves the rotation; the others get more passes, up "
             f"to {pol['max_passes']}, within {pol['budget_s']:.0f} s."),
        text(strong("Estimator: the minimum."), " Noise only adds time, so the fastest round is the least "
             "biased estimate (Chen & Revels 2016; Julia's BenchmarkTools); medians and IQRs are kept "
             "beside it."),
        text(strong("Intervals and ties."), f" 95 % bootstrap intervals ({stats.BOOT} resamples of each "
             "count's rounds, seeded). Two backends are told apart only when their tₑ ratio's interval lies "
             f"wholly above 1 + {stats.RESOLUTION:g}; otherwise both are named: a tie."),
        text(strong("No impossible number."), " t₀, tₑ ≥ 0: least squares under that constraint, in "
             "every bootstrap replicate too; intervals end at 0. A time not told from 0 is written ≤ its "
             f"upper end, a one-time cost below {fmt_t(stats.TICK)} as below the clock, an unbounded ratio "
             "“unresolved”."),
        text(strong("Timed region."), " One whole call of the prepared fit, until device work is done; ",
             Code("prepare"), " (validation, copies) and a garbage collection come before, untimed. Groups "
             f"holding more than {fmt_bytes(int(pol['keep_bytes']))} re-prepare on every visit."),
        text(strong("Compile and first call apart."), " Each framework is warmed up once per process; each "
             "case's first call per epoch count (which compiles) is shown with prepare as ",
             Em(("first result",)), ", never in t₀ or tₑ."),
        text(strong("Checked before counted."), " The first and last result at every epoch count must match "
             f"the exact float64 iterate within {tol} (max |θ − θ_ref| / max(1, |θ_ref|)), or the case is "
             "failed and left out."),
        text(strong("Threads."), f" {g.get('threads', '?')} for every framework ({', '.join(threads)} "
             "thread variables; torch follows OMP_NUM_THREADS; XLA is held by CPU affinity)."),
        text(strong("Memory floor."), " One read of x and y (", Code("numpy.dot(x, y)"), "; on CUDA ",
             Code("torch.dot"), "), timed in the same passes as its N and dtype; the fastest round."),
        text(strong("Peak memory beyond the data."), " CPU: the peak resident size (VmHWM) during one more "
             "untimed fit, above its level at a reset just before, summed over workers. CUDA: ",
             Code("torch.cuda.max_memory_allocated"), " above its level at reset. n/a: no honest measure."),
        text(strong("Epoch trace."), f" {tw.get('epochs')} epochs with history at N = {trace_n}, a clock "
             f"stamp as each starts (median of {tw.get('rounds')} fits)."),
        text(strong("Comparing runs."), " ", Code("gdbench compare"), " flags a case only when NEW/OLD of "
             "the fastest rounds passes its threshold and a one-sided Mann–Whitney test gives "
             f"p < {stats.ALPHA:g}."),
    ]  # fmt: skip
    more = Paragraph(("The protocol at length, with its reasons: docs/measurement.md in the repository.",))
    return Section(("How this was measured",), (Bullets(tuple(items)), more))
