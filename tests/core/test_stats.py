"""The statistics behind rankings and regressions, on synthetic timings whose truth is known."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

from benchmarks.core import stats
from benchmarks.core.ranking import rank
from benchmarks.core.regression import judge
from tests.support.synthetic import COUNTS, fit, rounds, run_of


def coverage(check: Callable[[np.random.Generator], bool], trials: int = 60) -> float:
    """Fraction of seeded trials for which ``check`` holds."""
    return float(np.mean([check(np.random.default_rng(seed)) for seed in range(trials)]))


# --- t0 and te


def test_a_noise_free_line_is_recovered_exactly():
    samples = {e: [1e-4 + e * 2e-6] * 5 for e in COUNTS}
    cost = stats.fit_cost(samples)
    assert cost.t0.value == pytest.approx(1e-4, rel=1e-9) and cost.te.value == pytest.approx(2e-6, rel=1e-9)
    assert cost.residual < 1e-9 and cost.te.low == pytest.approx(cost.te.high, rel=1e-9)
    assert cost.predict(500).value == pytest.approx(1e-4 + 500 * 2e-6, rel=1e-9)


@pytest.mark.parametrize(("t0", "te"), [(1e-4, 1e-6), (5e-5, 2e-5), (1e-3, 1e-3)])
def test_known_t0_and_te_lie_within_their_intervals_despite_slow_periods(t0, te):
    def covered(rng: np.random.Generator) -> bool:
        cost = stats.fit_cost(rounds(t0, te, rng))
        return cost.te.low <= te <= cost.te.high and cost.t0.low <= t0 <= cost.t0.high

    assert coverage(covered) >= 0.8


def test_the_minimum_sees_through_slow_periods_where_the_median_does_not():
    rng = np.random.default_rng(1)
    samples = rounds(1e-4, 1e-6, rng, n=10, slow=0.5)
    cost = stats.fit_cost(samples)
    medians = [float(np.median(samples[e])) for e in COUNTS]
    te_median = stats.line(COUNTS, medians)[1]
    assert abs(cost.te.value / 1e-6 - 1) < 0.1
    assert abs(te_median / 1e-6 - 1) > abs(cost.te.value / 1e-6 - 1)


def test_a_growing_epoch_cost_shows_in_the_residual():
    quadratic = {e: [1e-4 + 1e-8 * e * e] * 5 for e in COUNTS}  # the tutorial's graph growth
    assert stats.fit_cost(quadratic).residual > 0.05


def test_one_epoch_count_is_not_enough_for_a_line():
    with pytest.raises(ValueError, match="two or more"):
        stats.fit_cost({100: [1.0, 1.1]})


# --- ties and rankings


def test_two_equal_backends_are_declared_a_tie():
    def tied(rng: np.random.Generator) -> bool:
        a, b = fit("a", rounds(1e-4, 1e-6, rng)), fit("b", rounds(1e-4, 1e-6, rng))
        r = rank(run_of(a, b), "cpu", "float64", 100, "nohist")
        return r.tie and set(r.names()) == {"a", "b"}

    assert coverage(tied) >= 0.95


def test_a_backend_1_5x_slower_is_told_apart():
    def apart(rng: np.random.Generator) -> bool:
        a, b = fit("a", rounds(1e-4, 1e-6, rng)), fit("b", rounds(1e-4, 1.5e-6, rng))
        r = rank(run_of(b, a), "cpu", "float64", 100, "nohist")
        return not r.tie and r.names() == ("a",) and r.ratios[1].low > 1

    assert coverage(apart) >= 0.9


def test_a_ratio_interval_holds_the_true_ratio():
    def covered(rng: np.random.Generator) -> bool:
        a, b = stats.fit_cost(rounds(1e-4, 1e-6, rng)), stats.fit_cost(rounds(1e-4, 3e-6, rng))
        return stats.ratio(b.te.value, a.te.value, b.boot_te, a.boot_te).low <= 3 <= stats.ratio(
            b.te.value, a.te.value, b.boot_te, a.boot_te
        ).high

    assert coverage(covered) >= 0.8


def test_an_unresolved_cost_has_an_unbounded_ratio_and_ranks_last():
    assert stats.ratio(1.0, -1.0, np.ones(3), -np.ones(3)) == stats.Interval(math.inf, 0.0, math.inf)
    flat = {e: [1e-4] * 5 for e in COUNTS}  # te = 0: the epochs cost nothing the rounds could see
    slow = {e: [1e-4 + e * 1e-3] * 5 for e in COUNTS}
    r = rank(run_of(fit("flat", flat), fit("slow", slow)), "cpu", "float64", 100, "nohist")
    assert [f.backend for f in r.fits] == ["slow", "flat"] and r.ratios[1] == stats.UNBOUNDED


def _with_te(cost: stats.Cost, te: float) -> stats.Cost:
    """``cost`` with its tₑ, interval and replicates moved so that the point value is ``te``."""
    shift = te - cost.te.value
    moved = stats.Interval(te, cost.te.low + shift, cost.te.high + shift, cost.te.zero)
    return dataclasses.replace(cost, te=moved, boot_te=cost.boot_te + shift)


@pytest.mark.parametrize("spread", [0.0, 0.02], ids=["identical rounds", "2% spread"])
def test_whether_te_is_resolved_does_not_depend_on_the_sign_of_a_rounding_error(spread):
    # The same rounds, with the line's slope where rounding puts it on one CPU or another.
    rng = np.random.default_rng(5)
    flat = {e: list(1e-4 * (1 + spread * rng.random(5))) for e in COUNTS}
    slow = fit("slow", {e: [1e-4 + e * 1e-3] * 5 for e in COUNTS})
    base = stats.fit_cost(flat)
    verdicts = set()
    for te in (1e-23, 0.0, -1e-23):
        cost = _with_te(base, te)
        f = dataclasses.replace(fit("flat", flat), cost=cost, per_epoch=te)
        r = rank(run_of(f, slow), "cpu", "float64", 100, "nohist")
        verdicts.add((cost.te.resolved, f.resolved, tuple(x.backend for x in r.fits), r.ratios[1]))
    assert verdicts == {(False, False, ("slow", "flat"), stats.UNBOUNDED)}


def test_a_te_is_resolved_once_its_epochs_add_more_than_rounding_to_a_fit():
    # A millionth of a fit across the epoch counts is far beyond rounding and resolved; a tₑ of 1e-23
    # s on rounds of 0.1 ms is not, whatever its interval says.
    steep = stats.fit_cost({e: [1e-4 + e * 1e-12] * 5 for e in COUNTS})
    assert steep.te.resolved and steep.te.zero < 1e-12
    assert not stats.Interval(1e-23, 1e-23, 1e-23, steep.te.zero).resolved
    assert not stats.Interval(1e-6, 0.0, 2e-6).resolved and stats.Interval(1e-6, 1e-9, 2e-6).resolved


# --- compare's test


def test_mann_whitney_matches_the_exact_and_normal_distributions():
    scipy_stats = pytest.importorskip("scipy.stats", reason="scipy is the reference here")
    rng = np.random.default_rng(3)
    for n1, n2 in ((5, 5), (7, 4), (20, 25)):
        x, y = rng.normal(1.1, 1, n1), rng.normal(1, 1, n2)
        method = "exact" if n1 * n2 <= 400 else "asymptotic"
        ref = scipy_stats.mannwhitneyu(x, y, alternative="greater", method=method)
        u, p = stats.mann_whitney_greater(x, y)
        assert u == ref.statistic and p == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    tied = [1.0, 1.0, 2.0, 3.0, 3.0, 3.0]
    ref = scipy_stats.mannwhitneyu(tied, [1.0, 2.0, 2.0, 2.0], alternative="greater", method="asymptotic")
    assert stats.mann_whitney_greater(tied, [1.0, 2.0, 2.0, 2.0])[1] == pytest.approx(ref.pvalue)


def test_five_rounds_a_side_are_the_fewest_that_can_reach_p_below_alpha():
    assert stats.min_p_value(4, 4) > stats.ALPHA > stats.min_p_value(5, 5)


def test_compare_rejects_a_pure_noise_difference():
    def quiet(rng: np.random.Generator) -> bool:
        old, new = fit("a", rounds(1e-4, 1e-6, rng)), fit("a", rounds(1e-4, 1e-6, rng))
        return not judge(old, new, threshold=1.25, alpha=stats.ALPHA).regression

    assert coverage(quiet) >= 0.95


def test_compare_accepts_a_real_1_5x_slowdown():
    def flagged(rng: np.random.Generator) -> bool:
        old, new = fit("a", rounds(1e-4, 1e-6, rng)), fit("a", rounds(1.5e-4, 1.5e-6, rng))
        v = judge(old, new, threshold=1.25, alpha=stats.ALPHA)
        return v.regression and v.big and v.significant

    assert coverage(flagged) >= 0.9


def test_compare_does_not_flag_a_slow_period_that_left_some_rounds_untouched():
    rng = np.random.default_rng(7)
    old = fit("a", rounds(1e-4, 1e-6, rng, slow=0.0))
    new = fit("a", rounds(1e-4, 1e-6, rng, slow=0.8))  # most rounds stretched, the fastest not
    v = judge(old, new, threshold=1.25, alpha=stats.ALPHA)
    assert v.significant and not v.big and not v.regression


def test_compare_never_flags_with_too_few_rounds_for_the_test():
    rng = np.random.default_rng(2)
    old, new = fit("a", rounds(1e-4, 1e-6, rng, n=1)), fit("a", rounds(2e-4, 2e-6, rng, n=1))
    v = judge(old, new, threshold=1.25, alpha=stats.ALPHA)
    assert v.big and v.p is None and not v.regression


def test_a_ratio_whose_numerator_replicates_reach_zero_is_unresolved_but_keeps_its_upper_end():
    boot_num = np.array([-1.0, 2.0, 3.0, 4.0] * 25)  # a resolved-looking point, some replicates ≤ 0
    r = stats.ratio(2.5, 1.0, boot_num, np.full(100, 1.0))
    assert not r.resolved and math.isfinite(r.high) and r.high >= 4.0
    assert stats.ratio(2.5, 1.0, np.full(100, 2.5), np.array([1.0] * 99 + [-1.0])) == stats.Interval(
        2.5, 0.0, math.inf
    )  # a denominator that may be zero leaves it unbounded


def test_an_unresolved_time_is_written_as_its_upper_end_never_as_a_negative_time():
    from benchmarks.core.fmt import fmt_t, fmt_t_ci

    assert fmt_t_ci(stats.Interval(-2.3e-4, -7.28e-4, 2.69e-4)) == f"≤ {fmt_t(2.69e-4)} (unresolved)"
    assert fmt_t_ci(stats.Interval(-8.0e-5, -1.2e-4, -6.61e-5)) == "≈ 0 (unresolved)"  # never "≤ -66.1 µs"
    resolved = stats.Interval(3.5e-6, 3.4e-6, 3.7e-6)
    assert fmt_t_ci(resolved) == f"{fmt_t(3.5e-6)} ({fmt_t(3.4e-6)}–{fmt_t(3.7e-6)})"


# --- no impossible number (fmt's rule)


def test_a_line_noise_would_take_below_zero_is_fitted_with_t0_and_te_never_negative():
    # Rounds whose free line crosses zero: t0 = -1e-4 from noise at the small count.
    samples = {1: [0.8e-3] * 5, 2: [2.4e-3] * 5, 4: [4.4e-3] * 5}
    t0_free = np.polyfit([1, 2, 4], [0.8e-3, 2.4e-3, 4.4e-3], 1)[1]
    assert t0_free < 0
    cost = stats.fit_cost(samples)
    assert cost.t0.value == 0.0 and cost.te.value > 0
    assert cost.t0.low == 0.0 and not cost.t0.resolved
    assert (cost.boot_t0 >= 0).all() and (cost.boot_te >= 0).all()
    assert cost.predict(0).low >= 0


def test_a_flat_line_gets_te_zero_not_a_negative_slope():
    t0, te = stats.line([50, 100, 200], [1e-4, 1e-4 - 1e-9, 1e-4 - 2e-9])
    assert te == 0.0 and t0 == pytest.approx(1e-4 - 1e-9)


def test_every_interval_of_a_time_or_ratio_ends_at_zero_or_above():
    boot = np.array([-3.0, -1.0, 0.5, 1.0] * 25)
    assert stats._interval(0.1, boot).low == 0.0


def test_an_unbounded_ratio_is_written_unresolved_with_its_reason():
    from benchmarks.core.fmt import fmt_ci, fmt_ratio

    assert fmt_ci(stats.UNBOUNDED) == "unresolved (a cost not told from zero)"
    assert fmt_ratio(stats.Interval(2.0, 0.0, math.inf), "tₑ not measured") == "unresolved (tₑ not measured)"
    assert fmt_ratio(stats.Interval(2.0, 0.0, 24.6)) == "≤ 24.6"
    assert fmt_ratio(stats.Interval(2.0, 1.5, 2.5)) == "2"


def test_a_one_time_cost_below_the_clock_is_written_as_such():
    from benchmarks.core.fmt import fmt_t_bound, fmt_t_ci

    for tiny in (1.21e-9, 0.0, -3e-6):
        assert fmt_t_bound(stats.once(tiny)) == "< 1 µs (below the clock's resolution)"
        assert fmt_t_ci(stats.once(tiny)) == "< 1 µs (below the clock's resolution)"
    assert fmt_t_bound(stats.once(0.59)) == "590 ms"
