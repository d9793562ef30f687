"""``gdbench check``: the term-scaled tolerance, the hard families, slips it must catch, ``--data FILE``."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest

import impls
from benchmarks.commands import check
from benchmarks.core import oracle, problems
from tests.support.cli import gdbench
from tests.support.fakes import Slipped

SLIPS = [s for s in Slipped.SLIPS if s != "none"]


@contextlib.contextmanager
def slipped(*slips: str):
    """Register one ``Slipped`` backend per slip, named ``slip-<slip>``, for the block only."""
    for s in slips:
        impls.register_backend(f"slip-{s}", lambda s=s, **o: Slipped(f"slip-{s}", s))
    try:
        yield [f"slip-{s}" for s in slips]
    finally:
        for s in slips:
            impls.unregister_backend(f"slip-{s}")


@pytest.fixture(scope="module")
def judges() -> dict[str, check.Judge]:
    """The oracle's answers for each family, computed once."""
    out = {"seeded": check.Judge(problems.seeded(4, 3))}
    for family in problems.FAMILIES[1:]:
        out[family] = check.Judge(problems.hard((family,)))
    return out


@pytest.mark.parametrize("family", problems.FAMILIES)
def test_every_family_passes_the_faithful_formula_and_catches_every_slip(judges, family):
    with slipped("none", *SLIPS) as names:
        rows = {r["backend"]: r for r in (judges[family].verify(n) for n in names)}
    assert rows["slip-none"]["ok"], rows["slip-none"]
    for s in SLIPS:
        if s == "moments" and family not in ("polynomial", "square"):
            continue  # on well-conditioned data the cancelling loss is within rounding: not a slip there
        assert not rows[f"slip-{s}"]["ok"], (s, rows[f"slip-{s}"])
        assert rows[f"slip-{s}"]["worst"]["ratio"] > 10, (s, rows[f"slip-{s}"])


def test_the_cancelling_moments_loss_is_caught_going_negative():
    # At an exact fit the moments form wᵀCw - 2wᵀc + var(y) + e² is 0 up to its rounding, and on
    # the hard families the sign of that rounding depends on the BLAS kernel and summation order.
    # Here it is fixed by design: x sums to 0 and y = 5·x, so every sum and mean of the slip is an
    # exact small integer in any order and only the divisions by n = 3 and the products with w
    # round, each correctly rounded in IEEE-754: the loss is the same negative number everywhere.
    x, w = np.array([[-3.0], [-1.0], [4.0]]), np.array([5.0])
    y = 5.0 * x[:, 0]
    loss = Slipped("slip-moments", "moments").loss_and_grad(w, 0.0, x, y)[0]
    cxx, cxy, var_y = 26 / 3, 130 / 3, 650 / 3  # Σx², Σxy and Σy² over n, each rounded once
    assert loss == (5.0 * (5.0 * cxx) - 10.0 * cxy) + var_y < 0  # the slip's operations, in its order
    judge = check.Judge([problems.Case("exact", "y = 5x at the exact fit", w, 0.0, x, y)])
    assert judge.wants[0][0] == 0.0  # the oracle's loss: every residual is exactly 0
    with slipped("moments"):
        row = judge.verify("slip-moments")
    assert not row["ok"] and row["worst"]["where"] == "y = 5x at the exact fit: negative loss", row
    assert row["worst"]["ratio"] == float("inf")


def test_numpy_moments_loss_is_never_negative_at_a_polynomial_optimum():
    """The issue's case: features t..t^(m-1) at the least-squares optimum, where L = wᵀCw - ... went < 0."""
    be = impls.get_backend("numpy-moments")
    for c in problems.polynomial(32, 200, 0) + problems.polynomial(64, 400, 1):
        loss, gw, gb = be.loss_and_grad(c.w, c.b, c.x, c.y)
        got, want = np.r_[loss, gw, gb], oracle.exact(c.w, c.b, c.x, c.y)
        assert loss >= 0
        assert np.all(oracle.excess(got, want, oracle.tolerance(c.w, c.b, c.x, c.y)) <= 1), c.label


def test_tolerance_is_the_rounding_bound_of_the_terms():
    x, y = np.array([[1.0, -2.0], [3.0, 0.5]]), np.array([0.25, -1.0])
    w, b = np.array([2.0, 1.0]), -0.5
    t = np.array([0.25 + 0.5 + 2 + 2, 1 + 0.5 + 6 + 0.5])  # |y| + |b| + Σ|x·w|
    r = np.abs(x @ w + b - y)
    g = oracle.gamma(2, 2)
    assert g == pytest.approx(6 * 2.0**-53)
    want = 2 * g * np.r_[np.sum(t * (2 * r + g * t)) / 2, t @ np.abs(x), np.sum(t)]
    np.testing.assert_allclose(oracle.tolerance(w, b, x, y), want, rtol=1e-15)


def test_check_exits_1_on_a_broken_backend_and_names_it():
    with slipped("factor2", "sign_db"):
        rc, stdout, _ = gdbench("check", "--backends", "numpy-closed,slip-factor2,slip-sign_db")
    assert rc == 1, stdout
    rows = {line.split()[0]: line for line in stdout.splitlines() if line.strip()}
    assert rows["numpy-closed"].endswith(" ok")
    assert rows["slip-factor2"].endswith(" FAIL") and rows["slip-sign_db"].endswith(" FAIL")
    assert "dL/db" in rows["slip-sign_db"]
    assert stdout.strip().splitlines()[-1] == "verdict: FAILED: slip-factor2, slip-sign_db"
    assert f"tolerance: {check.TOLERANCE}\n" in stdout and len(check.TOLERANCE) < 160


def _table(path: Path, kind: str, x: np.ndarray, y: np.ndarray) -> Path:
    """Write (x, y) as the --data formats say."""
    if kind == "npy":
        np.save(path, np.c_[x, y])
    elif kind == "npz":
        np.savez(path, x=x, y=y)
    else:
        lines = ["a,b,target"] + [",".join(repr(float(v)) for v in row) for row in np.c_[x, y]]
        path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind", ["npy", "npz", "csv"])
def test_check_data_file_at_its_optimum(tmp_path, kind):
    rng = np.random.default_rng(3)
    t = np.linspace(-1, 1, 41)
    x = np.c_[t**5, 1e4 * t**7]
    y = np.cos(2 * t) + 0.01 * rng.normal(size=t.size)
    path = _table(tmp_path / f"mine.{kind}", kind, x, y)
    both = "numpy-closed,numpy-moments"
    rc, stdout, stderr = gdbench("check", "--backends", both, "--data", str(path), "--json")
    assert rc == 0, stdout + stderr
    report = json.loads(stdout)
    assert report["families"] == {"data": 4} and report["ok"]
    cases = problems.from_file(str(path))
    np.testing.assert_array_equal(cases[0].x, x)
    assert [c.label for c in cases][-1] == f"mine.{kind} at the optimum"
    np.testing.assert_allclose(cases[-1].w, np.linalg.lstsq(np.c_[x, np.ones(41)], y, rcond=None)[0][:2])
    with slipped("sign_db"):
        rc, _, _ = gdbench("check", "--backends", "slip-sign_db", "--data", str(path))
    assert rc == 1


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.npy", None, ["no such file"]),
        ("data.txt", b"1,2\n", ["unknown format '.txt'", ".npy, .npz or .csv"]),
        ("one.csv", b"1\n2\n3\n", ["at least 2 columns", "(3, 1)"]),
        ("ragged.csv", b"1,2\n3,4,5\n", ["different numbers of columns"]),
        ("words.csv", b"x,y\n1,2\nthree,4\n", ["not a number", "three"]),
        ("nan.csv", b"1,2\nnan,4\n", ["non-finite"]),
        ("empty.csv", b"", ["at least 2 columns"]),
        ("junk.npy", b"not an array", ["cannot read it"]),
        ("junk.npz", b"PK\x03\x04 broken", ["cannot read it"]),
    ],
)
def test_bad_data_files_are_one_line_exit_2(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    rc, stdout, stderr = gdbench("check", "--backends", "numpy-closed", "--data", str(path))
    assert rc == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("gdbench: error: --data ")
    assert all(w in stderr for w in words), stderr


def test_npz_without_x_and_y_names_what_it_found(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, a=np.ones((3, 2)), b=np.ones(3))
    rc, _, stderr = gdbench("check", "--data", str(path))
    assert rc == 2 and "arrays named x and y, found a, b" in stderr


def test_unknown_family_is_a_usage_error():
    rc, _, stderr = gdbench("check", "--families", "seeded,weird")
    assert rc == 2 and "unknown family 'weird'" in stderr and "polynomial" in stderr
