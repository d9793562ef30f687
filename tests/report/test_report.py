"""gdbench report: REPORT.md opens with the answer, says only what its runs measured, keeps its rules.

Made from tests/data/bench_v2.json (a trimmed quick run) and, in-process and without figures, from
the committed reference run (results/): what each says is checked against the rankings themselves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from benchmarks.core.fmt import fmt_n
from benchmarks.core.ranking import FIT_EPOCHS, main_dtype, rank
from benchmarks.core.results import Run, load
from benchmarks.core.scaling import read as read_scaling
from benchmarks.report import build, markdown, reproducibility, scope
from benchmarks.report.sections import Paragraph, plain
from tests.support.cli import gdbench
from tests.support.runs import FIXTURE, REFERENCE, RESULTS, scaled

SCALING = RESULTS / "scaling" / "scaling.json"
MODES = (("nohist", "te"), ("nohist", "fit"), ("history", "te"), ("history", "fit"))


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The report of the fixture, made in a fresh process: (directory, its last output line)."""
    out = tmp_path_factory.mktemp("report")
    code = (
        "import sys; from benchmarks.commands import main; "
        f"rc = main(['report', {str(FIXTURE)!r}, '--out', {str(out)!r}]); "
        "print(rc, sorted(m for m in ('torch', 'jax', 'pytest_benchmark') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out, done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module", params=["fixture", "reference"])
def report_md(request: pytest.FixtureRequest) -> tuple[Run, str]:
    """A run and its REPORT.md, built in-process without drawing (the reference with its scaling section)."""
    run = load([FIXTURE if request.param == "fixture" else REFERENCE])
    borrowed = None
    if request.param == "reference":
        borrowed = (SCALING, read_scaling(SCALING), Path("figures/scaling.png"))
    return run, markdown.render(build.assemble(run, [], borrowed, []))


def test_report_renders_markdown_and_figures_from_saved_json_alone(fixture_report):
    out, last = fixture_report
    assert last == "0 []"  # it succeeded without importing a framework: nothing can have been timed
    text = (out / "REPORT.md").read_text()
    headings = re.findall(r"^(#{2,3} .+)$", text, flags=re.M)
    assert headings[:2] == ["## Recommendation per regime", "## Distance from the limit"]
    for heading in ("## Figures", "## Beyond one machine", "## Not measured", "## How this was measured"):
        assert heading in headings
    assert "### Measured apart, and the model beyond it" in headings and "## Reproducibility" not in headings
    assert "*Source: `scaling/scaling.json`" in text and "Measured here" not in text  # not this run's
    assert "grows its graph" in text and "Algorithmic floor" in text and "Estimator: the minimum" in text
    assert "`jax-sharded`: unavailable here" in text and "made-up failure" in text
    assert "Sizes not run: N = 10³, N = 10⁵, N = 10⁶, N = 10⁷" in text and "Nothing:" not in text
    pngs = sorted(p.name for p in (out / "figures").iterdir())
    assert pngs == ["growth_cpu.png", "per_epoch_cpu.png", "ratio_to_floor_cpu.png", "scaling.png"]
    assert all(f"](figures/{p})" in text for p in pngs)
    assert all((out / "figures" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert "Plotly.newPlot" in (out / "report.html").read_text()


def test_report_md_opens_with_the_pick_the_rankings_make_most_often(report_md):
    run, text = report_md
    lines = text.splitlines()
    regimes = [
        rank(run, "cpu", dtype, n, mode, by=by)
        for dtype in run.values("dtype")
        for n in run.values("n")
        for mode, by in MODES
    ]
    leads = Counter(b for r in regimes for b in r.names())  # recommended, alone or in a tie
    alone = Counter(r.names()[0] for r in regimes if not r.tie)
    best = max(leads, key=lambda b: (leads[b], alone[b]))
    share = "all" if alone[best] == len(regimes) else f"{alone[best]} of"
    assert lines[0].startswith("# gdbench") and lines[2].startswith(f"**On cpu, use `{best}`.**")
    assert f"fastest per-pass backend in {share} {len(regimes)} regimes measured" in lines[2]
    tied = sum(best in r.names() and r.tie for r in regimes)
    if tied:  # each partner in a tie with the regimes they share, which add up
        said = lines[4].split("Tied within noise with ")[1].split(". ")[0]
        assert sum(int(k) for k in re.findall(r"; (\d+) regimes?\)", said)) == tied
    else:
        assert "Tied within noise" not in text


def test_the_answer_and_its_table_fit_on_a_first_screen(report_md):
    _, text = report_md
    lines = text.splitlines()
    start = lines.index("## Recommendation per regime")
    end = next(i for i in range(start + 4, len(lines)) if not lines[i].startswith("|"))
    assert [ln for ln in lines[:start] if ln.startswith("#")] == [lines[0]]  # nothing comes before it
    assert end <= 45  # the statement, the regime table: one screen of a terminal or a code host
    assert lines[end:].index("## Distance from the limit") < 8  # then the distance from the limit


def test_the_regime_table_names_each_regimes_pick_as_the_ranking_does(report_md):
    run, text = report_md
    table = text.split("## Recommendation per regime")[1].split("\n\n")[2].splitlines()
    head = [c.strip() for c in table[0].strip("|").split("|")]
    assert head[2:] == ["no history, by tₑ", f"no history, one {FIT_EPOCHS}-epoch fit",
                        "with history, by tₑ", f"with history, one {FIT_EPOCHS}-epoch fit"]  # fmt: skip
    rows = [[c.strip() for c in row.strip("|").split("|")] for row in table[2:]]
    assert len(rows) == len(run.values("dtype")) * len(run.values("n"))
    assert rows[0][0] == main_dtype(run)  # the dtype the advice is written for, first
    sizes = {fmt_n(n): n for n in run.values("n")}
    for row in rows:
        n = sizes[row[1]]
        for (mode, by), said in zip(MODES, row[2:], strict=True):
            r = rank(run, "cpu", row[0], n, mode, by=by)
            if r.tie:
                assert said == "tie: " + " and ".join(f"`{b}`" for b in sorted(r.names()))
            else:
                assert said == f"`{r.fits[0].backend}` ×{r.ratios[1].value:.3g}"


def test_no_bullet_or_paragraph_is_longer_than_300_characters(report_md):
    _, text = report_md
    long = [ln[:80] for ln in text.splitlines() if not ln.startswith("|") and len(ln) > 300]
    assert long == []


def test_per_case_tables_live_in_the_page_only(fixture_report):
    out, _ = fixture_report
    text, page = (out / "REPORT.md").read_text(), (out / "report.html").read_text()
    assert "Results by case" not in text and "t₀ (95 % interval)" not in text
    assert (
        "Every backend against the floor" not in text and "<h3>Every backend against the floor</h3>" in page
    )
    assert "<h2>Results by case</h2>" in page and page.count("<th>t₀ (95 % interval)</th>") == 2 * 2 * 2


def test_the_busy_banner_trusts_the_second_before_the_run_over_the_lagging_load_average():
    run = load([FIXTURE])
    meta = run.metas[0]

    def banner() -> list[str]:
        return [plain(p.text) for p in scope.provenance(run) if isinstance(p, Paragraph) and p.note]

    meta.update(load_before=1.9, busy_before=0.05)  # the previous run's load still in the average
    assert not any("Busy machine" in b for b in banner())
    meta.update(load_before=0.1, busy_before=1.2)
    assert any("other processes kept 1.20 of" in b for b in banner())
    meta.update(busy_during=0.9)  # measured over the whole run: it decides
    assert any("0.90 of 2 CPU(s) busy on average during the run" in b for b in banner())
    meta.update(busy_during=0.1)
    assert not any("Busy machine" in b for b in banner())
    meta.pop("busy_during")
    meta.pop("busy_before")  # older files: the load average
    meta.update(load_before=1.9)
    assert any("load average 1.90" in b for b in banner())


def test_the_report_names_the_machine_and_warns_when_it_is_not_this_one():
    from benchmarks.core.machines import this_machine

    run = load([FIXTURE])

    def said() -> list[str]:
        return [plain(p.text) for p in scope.provenance(run) if isinstance(p, Paragraph)]

    assert "memory not recorded" in said()[0] and not any("Another machine" in p for p in said())
    run.machines[0] = {**run.machines[0], "gdbench": {"machine": this_machine().to_json()}}
    assert this_machine().describe() in said()[0] and not any("Another machine" in p for p in said())
    run.machines[0]["gdbench"]["machine"] = {**this_machine().to_json(), "cpu": "AMD EPYC 7B13"}
    notes = [p for p in said() if p.startswith("Another machine")]
    assert len(notes) == 1 and "(CPU AMD EPYC 7B13 vs " in notes[0]


def test_report_against_an_earlier_run_adds_a_reproducibility_section(tmp_path, undrawn):
    rc, _, err = gdbench("report", str(FIXTURE), "--out", str(tmp_path), "--against", str(FIXTURE))
    assert rc == 0, err
    text = (tmp_path / "REPORT.md").read_text()
    assert "## Reproducibility" in text and "**Verdict:** recommendations the same (" in text
    assert "fastest ÷ floor within ±15%; compare flags nothing." in text and "Regimes that differ" not in text


def test_reproducibility_says_when_two_runs_do_not_agree(tmp_path):
    slower = scaled(tmp_path, 1.5, only="test_fit[cpu-float64-N1e2-nohist-numpy-closed]")
    said, ok = reproducibility.agreement(load([slower]), load([FIXTURE]))
    text = markdown.section(said)
    assert not ok and "compare flags 1 case(s)." in text and "numpy-closed cpu float64" in text
    busy = load([slower])
    busy.metas[0]["busy_during"] = 1.5
    said, ok = reproducibility.agreement(busy, load([FIXTURE]))
    text = markdown.section(said)
    assert not ok and "compare flags 1 case(s), each uncertain: the later run was busy (" in text
    assert reproducibility.agreement(load([FIXTURE]), load([FIXTURE]))[1]


def test_reproducibility_says_same_machine_and_code_only_when_the_records_say_so():
    from benchmarks.core.machines import this_machine

    new, old = load([FIXTURE]), load([FIXTURE])  # saved before machine records
    said = markdown.section(reproducibility.agreement(new, old)[0])
    assert "machine unknown" in said and "the same machine" not in said
    for run in (new, old):
        run.machines[0] = {**run.machines[0], "gdbench": {"machine": this_machine().to_json()}}
        run.metas[0]["commit"] = {"id": "abc", "dirty": False}
    said = markdown.section(reproducibility.agreement(new, old)[0])
    assert ": the same code, the same machine, one after the other." in said
    new.metas[0]["commit"] = {"id": "def", "dirty": False}
    new.machines[0] = {"gdbench": {"machine": {**this_machine().to_json(), "cpu": "AMD EPYC"}}}
    said = markdown.section(reproducibility.agreement(new, old)[0])
    assert "different code" in said and "different machines (CPU AMD EPYC vs" in said
    assert "the same machine" not in said


def test_reproducibility_tells_a_tie_that_holds_the_other_runs_pick_from_a_contradiction(monkeypatch):
    picks = {
        "new": {"a": ("x",), "b": ("x",), "c": ("x",)},
        "old": {"a": ("x",), "b": ("x", "y"), "c": ("y",)},
    }
    monkeypatch.setattr(reproducibility, "recommendations", lambda run: picks[run.sources[0].name])
    new, old = load([FIXTURE]), load([FIXTURE])
    new.sources, old.sources = [Path("new")], [Path("old")]
    said, ok = reproducibility.agreement(new, old)
    text = markdown.section(said)
    rows = {
        ln.split(" | ")[0].strip("| "): ln for ln in text.splitlines() if ln.startswith("| ") and "`" in ln
    }

    assert not ok and "recommendations DIFFER (1 of 3 regimes the same)" in text
    assert "a" not in rows  # the same in both: counted, not listed
    assert rows["b"].endswith("| differs: a tie in one run, one of its backends in the other |")
    assert rows["c"].endswith("| differs |")


def test_report_shows_choose_validation_found_beside_the_run(tmp_path, undrawn):
    row = {"backend": "jax-fused", "seconds": 1.0, "low": 0.9, "high": 1.2, "first_result_seconds": 0.5}
    jobs = [
        {
            "n": 3000,
            "epochs": 300,
            "dtype": "float64",
            "recommended": ["jax-fused"],
            "rows": [{**row, "extrapolated": [], "measured": 1.1, "inside": True, "kind": "per-pass"}],
            "fastest_measured": "jax-fused",
            "recommended_vs_fastest": 1.0,
        }
    ]
    run = tmp_path / "run.json"
    run.write_text(FIXTURE.read_text())
    validation = {"datetime": "2026-11-30T20:00:00", "runs": ["run.json"], "repeats": 2, "jobs": jobs}
    (tmp_path / "choose-validation.json").write_text(json.dumps({**validation, "versions": {}}))
    assert gdbench("report", str(run))[0] == 0
    text = (tmp_path / "REPORT.md").read_text()
    assert "## Predictions checked" in text and "fastest measured in 1 of 1 jobs" in text
    assert "| N = 3,000, 300 epochs, float64 | `jax-fused` | 1 s (900 ms–1.2 s) | 1.1 s | yes |" in text


def test_report_regenerates_its_own_report_but_not_one_of_other_runs(fixture_report, tmp_path, undrawn):
    assert gdbench("report", str(FIXTURE), "--out", str(fixture_report[0]))[0] == 0
    (tmp_path / "REPORT.md").write_text("# an earlier report\n")
    rc, _, err = gdbench("report", str(FIXTURE), "--out", str(tmp_path))
    assert rc == 2 and "--force" in err
    assert (tmp_path / "REPORT.md").read_text() == "# an earlier report\n"
    assert gdbench("report", str(FIXTURE), "--out", str(tmp_path), "--force")[0] == 0
    assert (tmp_path / "REPORT.md").read_text().splitlines()[0] == build.marker([FIXTURE])


def test_the_lead_claims_no_single_pick_when_every_regime_is_a_tie():
    from benchmarks.report import answer, markdown
    from tests.support.synthetic import fit, rounds, run_of

    same = rounds(1e-4, 1e-6, np.random.default_rng(0))
    blocks = answer.lead(run_of(fit("a", same), fit("b", same)))
    lead = " ".join(line for b in blocks for line in markdown.block(b, 2))
    assert "no backend is the fastest alone" in lead and "alone in none" in lead and "use `" not in lead

