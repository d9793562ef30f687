"""Whether a case got slower between two runs: by enough and for sure (asv's ``compare``).

A case (backend, N, dtype, device, mode) regressed only when both hold:
- **big enough**: NEW/OLD of the fastest round at the largest epoch count both runs timed passes
  the threshold; the minimum, because noise only adds time;
- **significant**: a one-sided Mann–Whitney U test on the two runs' rounds says the new ones are
  slower, p < alpha. The rounds of every epoch count both runs timed are pooled, each divided by
  the old run's fastest at that count. With too few rounds (fewer than five a side) no p-value can
  get that low, and the case is reported as such, never flagged.
A slow period on a shared machine stretches some rounds of a run: the test may then find the
rounds different, but the minima stay put, so nothing is flagged; a real change moves both.
Whole rounds are compared, not tₑ, so whether a tₑ was resolved does not enter.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.core import stats
from benchmarks.core.files import UsageError
from benchmarks.core.fmt import fmt_n
from benchmarks.core.results import Fit, Run

DEFAULT_THRESHOLD = 1.25


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

    @property
    def regression(self) -> bool:
        """Slower past the threshold and significantly so."""
        return self.big and self.significant

    def status(self, threshold: float, alpha: float) -> str:
        """What the two tests said, in words."""
        size = f"×{self.ratio:.3f} {'>' if self.big else '≤'} {threshold:g}"
        if self.p is None:
            test = "too few rounds for a test"
        else:
            test = f"p = {self.p:.2g} {'<' if self.significant else '≥'} {alpha:g}"
        head = "REGRESSION" if self.regression else ("faster" if self.ratio < 1 / threshold else "ok")
        return f"{head}: {size}, {test}" + (f" ({self.note})" if self.note else "")


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
    if stats.min_p_value(len(b), len(a)) < alpha:
        p = stats.mann_whitney_greater(b, a)[1]
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
    )


def compare(old: Run, new: Run, threshold: float, alpha: float = stats.ALPHA) -> list[Verdict]:
    """Every common case's verdict, slowest change first."""
    olds = {f.key: f for f in old.fits}
    out = [judge(olds[f.key], f, threshold, alpha) for f in new.fits if f.key in olds]
    return sorted(out, key=lambda v: v.ratio, reverse=True)
