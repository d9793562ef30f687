"""gdbench compare on synthetic cases, in-process and fast: when a case is flagged, and what it prints.

The end-to-end runs on saved files are in test_bench.py; these pin the rule itself (ratio of the
fastest rounds above the threshold AND a significant one-sided Mann–Whitney test), the epoch count
it compares at, and the table and verdict lines, so that `make mutate` can afford them.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest

from benchmarks.commands import compare
from benchmarks.core import regression
from benchmarks.core.files import UsageError
from benchmarks.core.results import Run
from tests.support.synthetic import fit, run_of

RNG_SEED = 7


def spread(base: float, n: int = 8, seed: int = RNG_SEED) -> list[float]:
    """n rounds at ``base`` seconds plus up to 3 % of noise that only adds time."""
    rng = np.random.default_rng(seed)
    return list(base * (1 + 0.03 * rng.random(n)))


def case(name: str = "a", scale: float = 1.0, n_rounds: int = 8, n: int = 100, seed: int = RNG_SEED):
    """A case timed at 50, 100 and 200 epochs, each count's rounds ``scale`` times a base."""
    samples = {e: [s * scale for s in spread(1e-4 + e * 1e-6, n_rounds, seed + e)] for e in (50, 100, 200)}
    return fit(name, samples, n=n)


def test_an_unchanged_case_is_not_flagged():
    v = regression.judge(case(), case(seed=99), 1.25, 0.01)
    assert 0.95 < v.ratio < 1.05 and not v.big and not v.regression and v.epochs == 200
    assert v.status(1.25, 0.01).startswith("same: ×") and v.note == "" and v.word() == "same"
    same = regression.judge(case(), case(), 1.25, 0.01)  # the very same rounds: no evidence either way
    assert same.ratio == 1.0 and same.p is not None and same.p > 0.1


def test_a_case_slower_past_the_threshold_and_for_sure_is_a_regression():
    old, new = case(), case(scale=1.5, seed=99)
    v = regression.judge(old, new, 1.25, 0.01)
    assert v.big and v.significant and v.regression
    assert v.ratio == pytest.approx(min(new.samples[200]) / min(old.samples[200]))
    assert v.old_min == min(old.samples[200]) and v.new_min == min(new.samples[200])
    assert v.p is not None and v.p < 1e-6
    assert v.status(1.25, 0.01) == f"slower: ×{v.ratio:.3f} > 1.25, p = {v.p:.2g} < 0.01"
    assert v.slower and not v.faster and v.p_faster is not None and v.p_faster > 0.99
    # as big, but the test asked for more certainty than 24 rounds a side can give here
    strict = regression.judge(old, new, 1.25, 1e-12)
    assert strict.big and strict.p is not None and not strict.significant and not strict.regression
    assert strict.status(1.25, 1e-12) == f"same: ×{v.ratio:.3f} > 1.25, p = {v.p:.2g} ≥ 1e-12"
    assert "p = " in v.status(1.25, 0.01) and "< 0.01" in v.status(1.25, 0.01)


def test_alpha_is_a_strict_bar_on_the_p_value():
    old, new = case(), case(scale=1.5, seed=99)
    p = regression.judge(old, new, 1.25, 0.01).p
    assert p is not None
    assert not regression.judge(old, new, 1.25, p).significant  # equal to the bar: not below it
    assert regression.judge(old, new, 1.25, p * 1.001).significant


def test_the_threshold_is_a_strict_bar_on_the_ratio_of_minima():
    old, new = case(), case(scale=1.5, seed=99)
    ratio = regression.judge(old, new, 1.25, 0.01).ratio
    assert not regression.judge(old, new, ratio, 0.01).big  # equal to the bar: not past it
    assert regression.judge(old, new, ratio * 0.999, 0.01).big
    assert "≤" in regression.judge(old, new, 2.0, 0.01).status(2.0, 0.01)


def test_a_slow_period_moves_the_rounds_but_not_the_minima_and_is_not_flagged():
    old = case()
    samples = {e: list(r) for e, r in old.samples.items()}
    for e in samples:  # half the rounds of each count stretched 1.2-2.7x, the fastest kept
        samples[e] = sorted(samples[e])
        samples[e][4:] = [s * k for s, k in zip(samples[e][4:], (1.2, 1.8, 2.2, 2.7), strict=True)]
    v = regression.judge(old, fit("a", samples), 1.25, 0.01)
    assert v.ratio == pytest.approx(1.0, abs=0.05) and not v.regression


def test_too_few_rounds_give_no_p_value_and_no_flag():
    old, new = case(n_rounds=1), case(scale=2.0, n_rounds=1, seed=99)  # 3 a side over 3 counts
    v = regression.judge(old, new, 1.25, 0.01)
    assert v.big and v.p is None and not v.significant and not v.regression
    assert "too few rounds for a test" in v.status(1.25, 0.01)


def test_the_test_pools_every_common_epoch_count():
    # two rounds per count: 2 a side at one count could never reach p < 0.01, 6 a side pooled can
    old, new = case(n_rounds=2), case(scale=2.0, n_rounds=2, seed=99)
    v = regression.judge(old, new, 1.25, 0.01)
    assert v.p is not None and v.p < 0.01 and v.regression


def test_a_faster_case_says_so():
    v = regression.judge(case(scale=2.0), case(seed=99), 1.25, 0.01)
    assert v.ratio < 0.8 and not v.regression and v.faster and v.big_faster and v.significant_faster
    assert v.status(1.25, 0.01) == f"faster: ×{v.ratio:.3f} < 1/1.25, p = {v.p_faster:.2g} < 0.01"
    # exactly 1/threshold faster is not "faster" yet (0.5 and 2 are exact in binary)
    half = regression.judge(case(scale=2.0, n_rounds=1), case(seed=99, n_rounds=1), 2.0, 0.01)
    exact = regression.Verdict("a", 200, 2.0, 1.0, 0.5, None, big=False, significant=False)
    assert exact.status(2.0, 0.01) == "same: ×0.500 ≥ 1/2, too few rounds for a test"
    assert half.p_faster is None and not half.faster  # 3 rounds a side: no test, no word


def test_only_a_significant_change_gets_a_word():
    old, new = case(), case(scale=0.6, n_rounds=8, seed=99)
    v = regression.judge(old, new, 1.25, 0.01)
    assert v.faster and v.word() == "faster"
    p = v.p_faster
    assert p is not None
    unsure = regression.judge(old, new, 1.25, p)  # equal to the bar: not below it
    assert unsure.big_faster and not unsure.significant_faster and unsure.word() == "same"
    assert unsure.status(1.25, p).startswith("same: ×0.") and f"p = {p:.2g} ≥ " in unsure.status(1.25, p)
    assert regression.judge(old, new, 1.25, p * 1.001).faster
    small = regression.judge(old, case(scale=0.9, seed=99), 1.25, 0.01)  # significant, not big
    assert small.significant_faster and not small.big_faster and small.word() == "same"
    assert small.status(1.25, 0.01).startswith("same: ×0.") and "≥ 1/1.25" in small.status(1.25, 0.01)


def test_an_uncertain_flag_is_shown_but_is_no_regression():
    flag = regression.judge(case(), case(scale=2.0, seed=99), 1.25, 0.01)
    slower = dataclasses.replace(flag, uncertain=True)
    assert slower.slower and not slower.regression and slower.word() == "slower (uncertain)"
    assert slower.status(1.25, 0.01).startswith("slower (uncertain): ×")
    faster = dataclasses.replace(regression.judge(case(scale=2.0), case(seed=99), 1.25, 0.01), uncertain=True)
    assert faster.word() == "faster (uncertain)"
    same = dataclasses.replace(regression.judge(case(), case(seed=99), 1.25, 0.01), uncertain=True)
    assert same.word() == "same"
    old, new = run_of(case("a")), run_of(case("a", scale=2.0, seed=99))
    flagged = regression.compare(old, new, 1.25, uncertain=True)
    assert [v.uncertain for v in flagged] == [True] and not flagged[0].regression
    assert regression.compare(old, new, 1.25)[0].regression


def _busy(run: Run, cores: int, **meta: float) -> Run:
    run.machines = [{"cpu": {"count": cores}}]
    run.metas = [dict(meta)]
    return run


def test_a_busy_run_or_another_machine_is_a_caution():
    quiet = _busy(run_of(case("a")), 2, busy_during=0.5)  # exactly a quarter of 4 CPUs: not busy
    assert regression.cautions(quiet, _busy(run_of(case("a")), 2, busy_during=0.1)) == []
    four = _busy(run_of(case("a")), 4, busy_during=1.0)  # a quarter of 4 CPUs: not busy yet
    assert regression.cautions(four, four) == []
    said = regression.cautions(_busy(run_of(case("a")), 2, busy_during=0.51), quiet)
    assert said == ["the earlier run was busy (other processes kept 0.51 of 2 CPU(s) busy)"]
    assert regression.cautions(quiet, _busy(run_of(case("a")), 2, busy_before=0.9)) == [
        "the later run was busy (other processes kept 0.90 of 2 CPU(s) busy)"  # older runs: before
    ]
    during = _busy(run_of(case("a")), 2, busy_before=0.9, busy_during=0.1)  # during decides
    assert regression.cautions(quiet, during) == [] and regression.busy({}) is None
    epyc = _busy(run_of(case("a")), 2)
    epyc.machines = [{"cpu": {"count": 2, "brand_raw": "AMD EPYC"}}]
    xeon = _busy(run_of(case("a")), 2)
    xeon.machines = [{"cpu": {"count": 2, "brand_raw": "Intel Xeon"}}]
    assert regression.cautions(xeon, epyc) == ["different machines (CPU Intel Xeon vs AMD EPYC)"]
    assert regression.cautions(xeon, xeon) == []  # no record: machine unknown, not a difference


def test_the_epoch_count_compared_is_the_largest_both_runs_timed_with_rounds():
    old = case()
    longer = dataclasses.replace(case(seed=99), samples={**case(seed=99).samples, 400: [1.0] * 8})
    assert regression.judge(old, longer, 1.25, 0.01).epochs == 200  # 400 is in the new run only
    gap = dataclasses.replace(old, samples={**old.samples, 200: []})
    v = regression.judge(gap, case(seed=99), 1.25, 0.01)
    assert v.epochs == 100 and v.old_min == min(old.samples[100])


def test_runs_with_other_epoch_counts_compare_per_epoch_at_their_largest():
    old = case()
    new = fit("a", {e: [s * 2 for s in spread(1e-4 + e * 2e-6)] for e in (5, 10, 20)})
    v = regression.judge(old, new, 1.25, 0.01)
    assert v.epochs == 0 and v.note == "epoch counts differ: per epoch at each run's largest count"
    assert v.old_min == pytest.approx(min(old.samples[200]) / 200)
    assert v.new_min == pytest.approx(min(new.samples[20]) / 20)
    assert v.ratio == pytest.approx(v.new_min / v.old_min)


def test_a_case_without_rounds_is_a_usage_error():
    empty = dataclasses.replace(case(), samples={5: []})
    with pytest.raises(UsageError, match=r"^a cpu float64 N=10² nohist: a run has no rounds for this case$"):
        regression.judge(case(), empty, 1.25, 0.01)


def test_compare_matches_cases_by_key_and_puts_the_slowest_change_first():
    old = run_of(case("a"), case("b"), case("c", n=1000))
    new = run_of(case("a", scale=1.4, seed=98), case("b", scale=3.0, seed=99), case("d"))
    verdicts = regression.compare(old, new, 1.25)
    assert [v.case.split()[0] for v in verdicts] == ["b", "a"]  # c and d are in one run only
    assert verdicts[0].case == "b cpu float64 N=10² nohist" and all(v.regression for v in verdicts)


def _main(old: Run, new: Run, monkeypatch: pytest.MonkeyPatch, **opts: float) -> tuple[int, str]:
    runs = {"old.json": old, "new.json": new}
    monkeypatch.setattr(compare, "load", lambda paths: runs[str(paths[0])])
    args = argparse.Namespace(old=Path("old.json"), new=Path("new.json"), threshold=1.25, alpha=0.01)
    for k, v in opts.items():
        setattr(args, k, v)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = compare.main(args)
    return rc, out.getvalue()


def test_main_prints_a_row_per_case_and_exits_1_on_a_regression(monkeypatch):
    old = run_of(case("a"), case("b"), case("gone"))
    new = run_of(case("a", scale=2.0, seed=99), case("b", seed=99), case("added"))
    rc, out = _main(old, new, monkeypatch)
    said, lines = out.splitlines()[:3], out.splitlines()[3:]
    assert said == [
        "old: old.json (date unknown, commit ?)",
        "new: new.json (date unknown, commit ?)",
        "runs: code unknown (no commit recorded, or uncommitted changes), machine unknown (a run without a "
        "machine record)",
    ]
    assert rc == 1
    assert lines[0].split() == ["case", "epochs", "old", "min", "new", "min", "verdict"]
    assert lines[1].startswith("a cpu float64 N=10² nohist  200 ") and " slower: " in lines[1]
    assert lines[2].startswith("b cpu float64 N=10² nohist  200 ") and " same: " in lines[2]
    assert "2 case(s) in only one run, not compared: added cpu float64 N=10² nohist, gone" in out
    assert lines[-1] == "gdbench compare: 2 case(s) compared, 1 regression(s) (×1.25 and p < 0.01)"


def test_main_exits_0_without_a_regression_and_counts_untested_cases(monkeypatch):
    old, new = run_of(case("a", n_rounds=1)), run_of(case("a", scale=2.0, n_rounds=1, seed=99))
    rc, out = _main(old, new, monkeypatch, threshold=1.5, alpha=0.05)
    assert rc == 0
    assert out.splitlines()[-1] == (
        "gdbench compare: 1 case(s) compared, no regression (×1.5 and p < 0.05); "
        "1 case(s) had too few rounds for the test"
    )


def test_main_lists_at_most_five_cases_found_in_one_run_only(monkeypatch):
    old = run_of(case("a"), *(case(f"x{i}") for i in range(6)))
    rc, out = _main(old, run_of(case("a", seed=99)), monkeypatch)
    listed = next(line for line in out.splitlines() if "only one run" in line)
    assert rc == 0 and listed.startswith("6 case(s)") and listed.endswith(" ...") and listed.count("x") == 5


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"threshold": 0.9}, "--threshold must be a ratio >= 1, got 0.9"),
        ({"threshold": float("nan")}, "--threshold must be a ratio >= 1"),
        ({"threshold": float("inf")}, "--threshold must be a ratio >= 1"),
        ({"alpha": 0.0}, "--alpha must be a probability between 0 and 1, got 0.0"),
        ({"alpha": 1.0}, "--alpha must be a probability"),
    ],
)
def test_main_refuses_bad_options(opts, message, monkeypatch):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        _main(run_of(case()), run_of(case()), monkeypatch, **opts)


def test_main_refuses_runs_with_nothing_in_common(monkeypatch):
    with pytest.raises(UsageError, match="have no case in common"):
        _main(run_of(case("a")), run_of(case("b")), monkeypatch)


def test_main_accepts_a_threshold_of_exactly_one_and_the_same_rounds_pass_it(monkeypatch):
    rc, out = _main(run_of(case()), run_of(case()), monkeypatch, threshold=1.0)
    assert rc == 0 and "×1.000 ≤ 1" in out


def test_main_passes_alpha_on_to_the_test(monkeypatch):
    old, new = run_of(case("a")), run_of(case("a", scale=2.0, seed=99))
    assert _main(old, new, monkeypatch)[0] == 1
    rc, out = _main(old, new, monkeypatch, alpha=1e-12)  # more certainty than 24 rounds a side give
    assert rc == 0 and "≥ 1e-12" in out and "no regression (×1.25 and p < 1e-12)" in out


def test_main_labels_a_comparison_per_epoch_and_pads_no_line(monkeypatch):
    other_counts = fit("a", {e: spread(1e-4 + e * 1e-6) for e in (5, 10, 20)})
    rc, out = _main(run_of(case("a")), run_of(other_counts), monkeypatch)
    row = out.splitlines()[4]  # 4x the old per-epoch time at 20 epochs against 200: flagged
    assert rc == 1 and " slower: " in row
    assert row.startswith("a cpu float64 N=10² nohist  per epoch  ") and "epoch counts differ" in row
    assert all(line == line.rstrip() for line in out.splitlines())


def test_main_says_why_its_flags_are_uncertain_and_exits_0_on_them(monkeypatch):
    old = _busy(run_of(case("a"), case("b")), 2, busy_during=1.5)
    new = _busy(run_of(case("a", scale=2.0, seed=99), case("b", seed=99)), 2, busy_during=0.0)
    new.metas[0]["commit"] = old.metas[0]["commit"] = {"id": "abc", "dirty": False}
    rc, out = _main(old, new, monkeypatch)
    lines = out.splitlines()
    assert rc == 0 and lines[2].startswith("runs: the same code, machine unknown")
    assert lines[3] == (
        "caution: the earlier run was busy (other processes kept 1.50 of 2 CPU(s) busy): a flag may be "
        "the machine's doing, so each is uncertain"
    )
    assert " slower (uncertain): ×" in lines[5] and " same: " in lines[6]
    assert lines[-1] == (
        "gdbench compare: 2 case(s) compared, no regression (×1.25 and p < 0.01); 1 uncertain slower "
        "case(s): compare runs from one quiet machine to tell"
    )
    assert "caution" not in _main(new, new, monkeypatch)[1]


def test_main_lists_five_cases_found_in_one_run_only_without_an_ellipsis(monkeypatch):
    old = run_of(case("a"), *(case(f"x{i}") for i in range(5)))
    rc, out = _main(old, run_of(case("a", seed=99)), monkeypatch)
    listed = next(line for line in out.splitlines() if "only one run" in line)
    assert rc == 0 and listed.startswith("5 case(s)") and listed.endswith("x4 cpu float64 N=10² nohist")


def test_the_cli_options_default_to_the_documented_rule():
    parser = argparse.ArgumentParser()
    compare.add_arguments(parser)
    args = parser.parse_args(["old.json", "new.json"])
    assert (args.old, args.new) == (Path("old.json"), Path("new.json"))
    assert args.threshold == regression.DEFAULT_THRESHOLD == 1.25 and args.alpha == 0.01
    args = parser.parse_args(["a", "b", "--threshold", "1.5", "--alpha", "0.05"])
    assert (args.threshold, args.alpha) == (1.5, 0.05)
    text = " ".join(parser.format_help().split())  # each help text whole, between its neighbours
    assert " old the earlier run's JSON new the later run's JSON " in text
    assert " THRESHOLD a slowdown counts when NEW/OLD of the fastest rounds exceeds this ratio --alpha " in (
        text
    )
    assert text.endswith(" ALPHA and when the Mann-Whitney test's one-sided p-value is below this")


def test_cases_that_differ_only_in_d_are_never_compared_and_their_names_say_d():
    wide = dataclasses.replace(case("a", scale=3.0, seed=99), d=100)
    assert regression.case_name(wide) == "a cpu float64 N=10² d=100 nohist"
    assert regression.case_name(case("a")) == "a cpu float64 N=10² nohist"  # d = 1 reads as before
    verdicts = regression.compare(run_of(case("a")), run_of(case("a", seed=98), wide), 1.25)
    assert [v.case for v in verdicts] == ["a cpu float64 N=10² nohist"]
