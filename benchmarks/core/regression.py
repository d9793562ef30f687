"""Whether a case got slower between two runs: by enough and for sure (asv's ``compare``).

A case (backend, N, dtype, device, mode) regressed only when both hold:
- **big enough**: NEW/OLD of the fastest round at the largest epoch count both runs timed passes
  the threshold; the minimum, because noise only adds time;
- **significant**: a one-sided Mann–Whitney U test on the two runs' rounds says the new ones are
  slower, p < alpha. The rounds of every epoch count both runs timed are pooled, each divided by
  the old run's fastest at that count. With too few rounds (fewer than five a side) no p-value can
  get that low, and the case is reported as such, never flagged.
"faster" is the mirror: OLD/NEW past the threshold and the other one-sided test below alpha.
Only those two get a word; every other case is "same".

A slow period on a shared machine stretches some rounds of a run: the test may then find the
rounds different, but the minima stay put, so nothing is flagged; a real change moves both.
A run that was busy throughout (another process on its CPUs), or two runs from different machines,
move the minima too, and every round with them: no threshold or alpha tells that from a change of
code (docs/measurement.md, "compare on a busy machine"). Then each flag is marked **uncertain**
(``cautions`` says why): shown, but not a regression.
Whole rounds are compared, not tₑ, so whether a tₑ was resolved does not enter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from benchmarks.core import machines, stats
from benchmarks.core.files import UsageError
from benchmarks.core.fmt import fmt_n
from benchmarks.core.results import Fit, Run

DEFAULT_THRESHOLD = 1.25
BUSY = 0.25  # a run was busy when other processes kept more than this share of its CPUs busy


@dataclass(frozen=True)
class Verdict:
    """One case's comparison."""

    case: str
    epochs: int  # the count whose minima give the ratio (0: per epoch, the runs' counts differ)
    old_min: float
    new_min: float
    ratio: float
    p: float | None  # None: too few rounds for the test to reach alpha
    big: bool
    significant: bool
    note: str = ""
    p_faster: float | None = None  # the mirror test: the new rounds tend to be faster
    big_faster: bool = False  # OLD/NEW past the threshold
    significant_faster: bool = False
    uncertain: bool = False  # a busy run or another machine: a flag says nothing of the code

    @property
    def slower(self) -> bool:
        """Slower past the threshold and significantly so."""
        return self.big and self.significant

    @property
    def faster(self) -> bool:
        """Faster past the threshold and significantly so."""
        return self.big_faster and self.significant_faster

    @property
    def regression(self) -> bool:
        """Slower for sure, on runs that can tell: neither busy, one machine."""
        return self.slower and not self.uncertain

    def word(self) -> str:
        """"slower", "faster" or "same"; "(uncertain)" after a word the conditions cannot back."""
        said = "slower" if self.slower else "faster" if self.faster else "same"
        return f"{said} (uncertain)" if self.uncertain and said != "same" else said

    def status(self, threshold: float, alpha: float) -> str:
        """The word, then what the two tests said: the ratio against the bar, the p-value against alpha."""
        if self.ratio >= 1:
            size = f"×{self.ratio:.3f} {'>' if self.big else '≤'} {threshold:g}"
            p, sig = self.p, self.significant
        else:  # judged against 1/threshold, by the mirror test
            size = f"×{self.ratio:.3f} {'<' if self.big_faster else '≥'} 1/{threshold:g}"
            p, sig = self.p_faster, self.significant_faster
        test = "too few rounds for a test" if p is None else f"p = {p:.2g} {'<' if sig else '≥'} {alpha:g}"
        return f"{self.word()}: {size}, {test}" + (f" ({self.note})" if self.note else "")


def case_name(f: Fit) -> str:
    """One case in words: backend, device, dtype, N, d (when above 1) and mode."""
    return f"{f.backend} {f.device} {f.dtype} N={fmt_n(f.n)}{f' d={f.d}' if f.d > 1 else ''} {f.mode}"


def judge(old: Fit, new: Fit, threshold: float, alpha: float) -> Verdict:
    """Compare one case's rounds at the largest epoch count both runs timed."""
    common = [e for e in sorted(set(old.samples) & set(new.samples)) if old.samples[e] and new.samples[e]]
    note = ""
    if common:
        e = common[-1]
        ratio = min(new.samples[e]) / min(old.samples[e])
        # The test pools every common epoch count, each count's rounds of both runs divided by the
        # old run's fastest there: the same constant on both sides, so under no change both pools
        # come from one distribution, and three counts give the test three times the rounds.
        a = [s / min(old.samples[c]) for c in common for s in old.samples[c]]
        b = [s / min(old.samples[c]) for c in common for s in new.samples[c]]
    else:  # different epoch counts: compare seconds per epoch at each run's largest count
        eo, en = max(old.samples), max(new.samples)
        a = [s / eo for s in old.samples[eo]]
        b = [s / en for s in new.samples[en]]
        e, note = 0, "epoch counts differ: per epoch at each run's largest count"
        if not a or not b:
            raise UsageError(f"{case_name(new)}: a run has no rounds for this case")
        ratio = min(b) / min(a)
    p: float | None = None
    p_faster: float | None = None
    if stats.min_p_value(len(b), len(a)) < alpha:
        p, p_faster = stats.mann_whitney_greater(b, a)[1], stats.mann_whitney_greater(a, b)[1]
    return Verdict(
        case_name(new),
        e,
        min(old.samples[e]) if e else min(a),
        min(new.samples[e]) if e else min(b),
        ratio,
        p,
        big=ratio > threshold,
        significant=p is not None and p < alpha,
        note=note,
        p_faster=p_faster,
        big_faster=ratio * threshold < 1,
        significant_faster=p_faster is not None and p_faster < alpha,
    )


def compare(
    old: Run, new: Run, threshold: float, alpha: float = stats.ALPHA, uncertain: bool = False
) -> list[Verdict]:
    """Every common case's verdict, slowest change first; each flag marked uncertain when asked."""
    olds = {f.key: f for f in old.fits}
    out = [judge(olds[f.key], f, threshold, alpha) for f in new.fits if f.key in olds]
    out = [replace(v, uncertain=uncertain) for v in out]
    return sorted(out, key=lambda v: v.ratio, reverse=True)


def busy(meta: dict[str, Any]) -> float | None:
    """CPUs' worth of other processes' work during a run (before it, in runs saved before that)."""
    value = meta.get("busy_during", meta.get("busy_before"))
    return float(value) if value is not None else None


def cautions(old: Run, new: Run) -> list[str]:
    """Why flags between these runs say nothing of the code: a busy run, another machine."""
    out = []
    for which, run in (("earlier", old), ("later", new)):
        cpus = run.machine.cores or 1
        others = busy(run.metas[0]) if run.metas else None
        if others is not None and others > BUSY * cpus:
            out.append(f"the {which} run was busy (other processes kept {others:.2f} of {cpus} CPU(s) busy)")
    if machines.same_machine(old.machine, new.machine) is False:
        out.append(machines.match(old.machine, new.machine, {}, {}).machine_words())
    return out
