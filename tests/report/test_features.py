"""The report at d > 1: one section of tₑ against d at one N; every other table stays at d = 1."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from benchmarks.core.ranking import rank
from benchmarks.report import features, markdown
from benchmarks.report import html as page
from benchmarks.report.sections import Report
from tests.support.cli import gdbench
from tests.support.runs import FIXTURE
from tests.support.synthetic import fit, rounds, run_of


def _run(with_wide: bool = True):
    """a and b at d = 1 (N = 10², 10³); at d = 10, 100: a at both N, b at N = 10² only, c faster than both."""
    rng = np.random.default_rng(3)
    fits = [fit(b, rounds(1e-4, te, rng), n=n) for b, te in (("a", 1e-6), ("b", 2e-6)) for n in (100, 1000)]
    if with_wide:
        fits += [fit("a", rounds(1e-4, 1e-6 * d, rng), n=n, d=d) for d in (10, 100) for n in (100, 1000)]
        fits += [fit("b", rounds(1e-4, 2e-6 * d, rng), n=100, d=d) for d in (10, 100)]
        fits += [fit("c", rounds(1e-5, 1e-8, rng), n=n, d=10) for n in (100, 1000)]
    return run_of(*fits)


def test_the_section_holds_te_per_backend_and_d_at_the_largest_n_measured_at_every_d():
    run = _run()
    assert features.common_size(run, "cpu", "float64") == 1000
    s = features.section(run)
    assert s is not None
    table = s.blocks[1]
    assert table.head == ("backend", "tₑ at d = 1", "tₑ at d = 10", "tₑ at d = 100", "× from d = 1 to 100")
    rows = {row[0].text[0].text: [markdown.inline(c.text) for c in row[1:]] for row in table.rows}
    assert set(rows) == {"a", "b", "c"}  # b: at d = 1 only, at that N; c: at d = 10 only
    assert rows["b"][1:] == ["-", "-", "-"] and rows["c"][0] == "-" and rows["c"][2] == "-"
    growth = float(rows["a"][3].lstrip("×"))
    assert 50 < growth < 200  # te ×100 from d = 1 to 100, within the noise rounds() adds


def test_a_run_at_one_d_has_no_such_section_and_old_runs_report_as_before():
    assert features.section(_run(with_wide=False)) is None


def test_the_per_regime_ranking_never_sees_a_case_at_another_d():
    run = _run()
    ranked = rank(run, "cpu", "float64", 100, "nohist")
    assert {f.backend for f in ranked.fits} == {"a", "b"} and all(f.d == 1 for f in ranked.fits)


def test_both_renderers_show_the_section(tmp_path: Path):
    run = _run()
    run.metas[0]["lr"] = 0.1
    s = features.section(run)
    assert s is not None
    doc = Report("t", (), (s,))
    md, html = markdown.render(doc), page.render(doc, tmp_path)
    for out in (md, html):
        assert "Cost against the number of features" in out and "lr = 0.1 / d" in out
        assert "tₑ at d = 100" in out and "× from d = 1 to 100" in out


def test_the_growth_is_left_out_when_either_end_is_unresolved():
    run = _run()
    a100 = next(f for f in run.fits if (f.backend, f.n, f.d) == ("a", 1000, 100))
    flat = {e: [1e-4] * 8 for e in a100.samples}  # no time per epoch at all: te unresolved
    run.fits[run.fits.index(a100)] = dataclasses.replace(fit("a", flat, n=1000, d=100))
    row = next(r for r in features.section(run).blocks[1].rows if r[0].text[0].text == "a")
    te = markdown.inline(row[3].text)  # identical rounds: tₑ = 0 exactly (fitted ≥ 0), so "≈ 0"
    assert (te == "≈ 0" or te.startswith("≤ ")) and markdown.inline(row[4].text) == "-"


def test_a_run_without_d_1_is_refused_in_one_line_and_nothing_is_written(tmp_path: Path):
    data = json.loads(FIXTURE.read_text())
    for b in data["benchmarks"]:
        b["extra_info"]["d"] = 10
    wide = tmp_path / "wide.json"
    wide.write_text(json.dumps(data))
    out = tmp_path / "out"
    rc, _, err = gdbench("report", str(wide), "--out", str(out))
    assert rc == 2 and "no case at d = 1" in err and "(only d = 10)" in err
    assert len(err.strip().splitlines()) == 1 and not (out.exists() and list(out.iterdir()))
