"""The verdict of ``gdbench run`` on made-up results: reference, deviation, judgement, closing lines."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import impls
from benchmarks.commands import run
from benchmarks.core import verdict
from benchmarks.core.verdict import Outcome

DATA = impls.make_linear(size=30, seed=5)
X, Y = DATA[0].reshape(-1, 1), DATA[1]
CFG = impls.TrainConfig(epochs=40, tol=1e-3)
F32 = impls.TrainConfig(epochs=40, tol=1e-3, dtype="float32")


def result(losses: list[float], w: float = 0.3, b: float = 0.5, stop: str = "max_epochs",
           history: bool = True) -> impls.FitResult:
    """A fit whose history is ``losses``, with w and b stepping by 0.01 from (w, b) each epoch."""
    n = len(losses)
    ws = w + 0.01 * np.arange(n)
    bs = b + 0.01 * np.arange(n)
    return impls.FitResult(
        w=np.array([ws[-1] if n else w]), b=float(bs[-1]) if n else b, loss=losses[-1] if n else 0.0,
        epochs=n, stop_reason=stop,  # type: ignore[arg-type]
        losses=np.array(losses) if history else None, ws=ws.reshape(-1, 1) if history else None,
        bs=bs if history else None, seconds=0.1,
    )


def test_deviation_is_the_largest_relative_difference_over_history_and_final_values():
    ref = result([4.0, 2.0, 1.0])
    assert verdict.deviation(ref, ref) == 0.0
    got = result([4.0, 2.0, 1.0])
    got.losses = np.array([4.0, 2.5, 1.0])  # 0.5 off where |ref| = 2: relative 0.25
    assert verdict.deviation(got, ref) == pytest.approx(0.25)
    got = result([4.0, 2.0, 1.0])
    got.ws = got.ws + 0.004  # |w| < 1, so absolute: 0.004 (the final w is unchanged)
    assert verdict.deviation(got, ref) == pytest.approx(0.004)
    got = result([4.0, 2.0, 1.0])
    got.bs = got.bs - 0.003
    assert verdict.deviation(got, ref) == pytest.approx(0.003)
    got = result([4.0, 2.0, 1.0])
    got.b += 0.002  # only the final b differs
    assert verdict.deviation(got, ref) == pytest.approx(0.002)
    got = result([4.0, 2.0, 1.0])
    got.w = got.w - 0.005
    assert verdict.deviation(got, ref) == pytest.approx(0.005)
    got = result([4.0, 2.0, 1.0])
    got.loss = 1.5
    assert verdict.deviation(got, ref) == pytest.approx(0.5)


def test_deviation_compares_shared_epochs_only_and_final_values_only_at_the_same_epoch():
    ref = result([4.0, 2.0, 1.0, 0.5])
    short = result([4.0, 2.0, 1.0])  # stopped an epoch earlier: its final values are an update apart
    assert verdict.deviation(short, ref) == 0.0
    assert verdict.deviation(ref, short) == 0.0
    no_history = result([4.0, 2.0, 1.0], history=False)
    assert verdict.deviation(no_history, short) == 0.0  # nothing shared but the final values, which agree
    no_history.b += 0.25
    assert verdict.deviation(no_history, short) == pytest.approx(0.25)
    assert verdict.deviation(no_history, ref) == 0.0  # nothing shared at all: no evidence of a difference


def test_deviation_of_a_non_finite_value_is_infinite_and_quiet():
    ref = result([4.0, 2.0, 1.0])
    got = result([4.0, 2.0, 1.0])
    got.losses = np.array([4.0, math.nan, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's invalid-value and overflow warnings included
        assert verdict.deviation(got, ref) == math.inf
        got = result([4.0, 2.0, 1.0])
        got.w = np.array([math.inf])
        assert verdict.deviation(got, ref) == math.inf
        assert verdict.deviation(got, got) == math.inf  # inf - inf
        got.w, ref.w = np.array([1e308]), np.array([-1e308])  # the difference overflows
        assert verdict.deviation(got, ref) == math.inf


@pytest.mark.parametrize(
    ("got", "status"),
    [
        (result([4.0, 2.0, 1.0]), "ok"),
        (result([4.0, 2.0, 1.0], stop="tol"), "disagrees"),  # the same numbers, another stop
        (result([4.0, 2.0, 1.0 + 1e-10]), "ok"),
        (result([4.0, 2.0, 1.0 + 4e-10]), "disagrees"),
        (result([4.0, 2.0, math.nan]), "disagrees"),
        (result([4.0, 2.0, 1.0], stop="diverged"), "diverged"),
    ],
    ids=["same", "other-stop", "within-tol", "past-tol", "nan", "diverged"],
)
def test_judge_sets_the_status_from_stop_reason_and_deviation(got, status):
    ref = result([4.0, 2.0, 1.0])
    o = Outcome("b", got, {})
    verdict.judge(o, ref, 2e-10)
    assert o.status == status and o.agrees == (status == "ok")
    assert math.isnan(o.deviation) == (status == "diverged")


def test_two_diverging_fits_are_compared_on_their_finite_way_up():
    inf = math.inf
    ref = result([4.0, 8.0, 16.0, inf], stop="diverged")
    for losses, dev in (
        ([4.0, 8.0, 16.0, inf], 0.0),  # the same way up: agrees, even at a tolerance of 0
        ([4.0, 8.0, inf], 0.0),  # overflowed an epoch earlier: the shared finite epochs agree
        ([4.0, 9.0, inf], 0.125),  # 1 off where the reference is 8
        ([4.0, 9.0, 16.0, 32.0, inf], 0.125),  # overflowed later than the reference did
    ):
        o = Outcome("b", result(losses, stop="diverged"), {})
        verdict.judge(o, ref, 0.0)
        assert o.status == "diverged" and o.deviation == pytest.approx(dev, abs=0)
        assert o.agrees == (dev == 0.0)
    # a fit that diverges where the reference converges is wrong, whatever its numbers
    o = Outcome("b", result([4.0, 8.0, inf], stop="diverged"), {})
    verdict.judge(o, result([4.0, 2.0, 1.0]), 1.0)
    assert o.status == "diverged" and not o.agrees and math.isnan(o.deviation)


def test_deviation_skips_a_history_that_was_not_recorded_in_full():
    ref = result([4.0, 2.0, 1.0])
    partial = result([4.0, 3.0, 1.0])
    partial.ws = None  # losses and b recorded, w not: no history to compare, final values only
    assert verdict.deviation(partial, ref) == 0.0
    for d in (1, 3):  # with d weights the empty history has 2 + d columns
        w = np.zeros(d)
        empty = impls.FitResult(
            w=w, b=0.0, loss=1.0, epochs=2, stop_reason="max_epochs",
            losses=None, ws=None, bs=None, seconds=0.1,
        )
        assert verdict.deviation(empty, empty) == 0.0
        assert verdict.deviation(empty, empty, finite=True) == 0.0


def test_judge_passes_a_deviation_exactly_at_the_tolerance():
    ref, got = result([4.0, 2.0, 1.0]), result([4.0, 2.0, 1.0 + 3e-10])
    tol = verdict.deviation(got, ref)
    for t, status in ((tol, "ok"), (np.nextafter(tol, 0), "disagrees")):
        o = Outcome("b", got, {})
        verdict.judge(o, ref, t)
        assert o.status == status and o.deviation == tol


def test_judge_leaves_a_failed_fit_failed():
    o = Outcome("b", None, {}, status="error", error="boom")
    verdict.judge(o, result([1.0]), 1e-10)
    assert (o.status, o.error) == ("error", "boom") and math.isnan(o.deviation)


def outcome(name: str, cfg: impls.TrainConfig) -> Outcome:
    """Backend ``name``'s real fit of (X, Y) under ``cfg``."""
    return Outcome(name, impls.get_backend(name).fit(X, Y, cfg), {})


def test_reference_is_numpy_closed_by_name_whatever_the_order():
    ref = outcome("numpy-closed", CFG)
    other = Outcome("numpy-moments", result([9.0]), {})
    assert run.reference([other, ref], X, Y, CFG) is ref.result
    assert run.reference([ref, other], X, Y, CFG) is ref.result


def test_reference_is_run_in_float64_on_the_cpu_when_not_reusable():
    fresh = impls.get_backend("numpy-closed").fit(X, Y, CFG)
    for outcomes, cfg in (
        ([Outcome("numpy-moments", result([9.0]), {})], CFG),  # not in the run
        ([Outcome("numpy-closed", None, {}, status="error")], CFG),  # in it, but failed
        ([], impls.TrainConfig(epochs=40, tol=1e-3, device="cuda")),  # a run on a GPU: its reference is not
        ([outcome("numpy-closed", F32)], F32),  # in it, in float32
    ):
        got = run.reference(outcomes, X, Y, cfg)
        assert got.dtype == "float64" and got.device == "cpu" and got.backend == "numpy-closed"
        np.testing.assert_array_equal(got.losses, fresh.losses)


def test_reference_that_diverges_raises_no_warning():
    cfg = impls.TrainConfig(lr=50.0, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run.reference([], X, Y, cfg)
    assert got.stop_reason == "diverged"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_verdict_zero_only_when_every_backend_agrees(capsys, dtype):
    cfg = impls.TrainConfig(lr=0.5, dtype=dtype)
    ok = [Outcome("a", None, {}, agrees=True), Outcome("b", None, {}, agrees=True)]
    assert verdict.verdict(ok, cfg) == 0
    out = capsys.readouterr().out.splitlines()
    tol = verdict.TOLERANCE[dtype]
    assert out[0] == (
        f"tolerance ({dtype}): |value - numpy-closed float64| <= {tol:g} x max(1, |value|) for w, b "
        "and the loss at every shared epoch (float64: 1e-10, float32: 0.0001)"
    )
    assert out[1:] == ["verdict: every backend agrees (2 of 2)"]


def test_verdict_names_every_backend_that_diverged_disagrees_or_failed(capsys):
    outcomes = [
        Outcome("a", None, {}, agrees=True),
        Outcome("b", None, {}, status="diverged"),
        Outcome("c", None, {}, status="disagrees", deviation=0.0123),
        Outcome("d", None, {}, status="error", error="RuntimeError: boom"),
        Outcome("e", None, {}, status="diverged"),
        Outcome("f", None, {}, status="disagrees", deviation=2.0),
        Outcome("g", None, {}, status="error", error="ValueError: bad"),
    ]
    assert verdict.verdict(outcomes, impls.TrainConfig(lr=50.0)) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        "diverged: b, e (lr=50); try a smaller --lr",
        "disagree with numpy-closed: c (by 0.012), f (by 2)",
        "failed: d: RuntimeError: boom; g: ValueError: bad",
        "verdict: the backends do NOT agree (6 of 7 diverged, disagree or failed)",
    ]
    for status in ("diverged", "disagrees", "error"):
        assert verdict.verdict([Outcome("a", None, {}), Outcome("x", None, {}, status=status)], CFG) == 1


def test_verdict_when_every_backend_diverges_as_the_reference_does(capsys):
    inf = math.inf
    ref = result([4.0, 8.0, inf], stop="diverged")
    cfg = impls.TrainConfig(lr=50.0)
    both = [Outcome(n, None, {}, status="diverged", agrees=True) for n in ("a", "b")]
    assert verdict.verdict(both, cfg, ref) == 1  # agreeing, but no fit converged
    assert capsys.readouterr().out.splitlines()[1:] == [
        "diverged: all 2 backends (lr=50); try a smaller --lr",
        "verdict: every backend diverged at lr=50, as the numpy-closed float64 reference does after "
        "3 epoch(s), and they agree in doing so (2 of 2)",
    ]
    alone = [Outcome("a", None, {}, status="diverged", agrees=True)]
    assert verdict.verdict(alone, cfg, ref) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "diverged: a (lr=50); try a smaller --lr" and "(1 of 1)" in out[2]
    for outcomes in (
        [*both[:1], Outcome("c", None, {}, status="disagrees", deviation=1.0)],  # one disagrees
        [*both[:1], Outcome("c", None, {}, agrees=True)],  # one converged: not all diverged
    ):
        assert verdict.verdict(outcomes, cfg, ref) == 1
        assert capsys.readouterr().out.splitlines()[-1].startswith("verdict: the backends do NOT agree")
    for other in (None, result([4.0, 2.0, 1.0])):  # no reference, or one that converged
        assert verdict.verdict(both, cfg, other) == 1
        assert "do NOT agree (0 of 2" in capsys.readouterr().out.splitlines()[-1]
