"""What a report may claim: when and where its run was made, what the run did not measure, and
where each borrowed section comes from.

A run covers some sizes, dtypes, devices and backends of the suite; everything else is listed as
not measured, with the reason where the run recorded one. A section read from another file (the
scaling measurement) carries that file's name, date and machine, so no reader takes it for this run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.core import sweep as cases
from benchmarks.core.fmt import fmt_n
from benchmarks.core.machines import match, same_machine, this_machine
from benchmarks.core.results import Run
from benchmarks.report.sections import (
    Block,
    Bullets,
    Code,
    Paragraph,
    Section,
    Table,
    Text,
    cell,
    em,
    strong,
    text,
)


def registered() -> list[str]:
    """Every registered backend's name."""
    import impls  # the registry only: listing names imports no framework

    return list(impls.backend_names())


def _when(run: Run) -> str:
    return f"{str(run.metas[0].get('datetime', ''))[:16].replace('T', ' ')} UTC"


def provenance(run: Run) -> list[Block]:
    """When, where and how long; then what the reader must know first (a busy machine, a quick run)."""
    m, meta = run.machines[0], run.metas[0]
    g, cpu = m.get("gdbench", {}), m.get("cpu", {})
    wall = meta.get("wall_seconds")
    proto = meta.get("protocol") or {}
    parts = (f"{wall / 60:.1f} min" if wall else "", f"{proto.get('passes')} passes" if proto else "")
    how = "; ".join(x for x in parts if x)
    out: list[Block] = [
        Paragraph(
            text(
                f"Measured {_when(run)} by ",
                Code("gdbench bench"),
                f" ({how}) " if how else " ",
                f"on {run.machine.describe()}, GPU: {g.get('gpu') or 'none'}; versions and method below.",
            )
        )
    ]
    here = this_machine()
    if same_machine(run.machine, here) is False:  # the reader's numbers may be another machine's
        differ = "; ".join(match(run.machine, here, {}, {}).differences)
        out.append(
            Paragraph(
                text(strong("Another machine"), f": this report was made on {here.describe()} ({differ}); ",
                     "the times are the measuring machine's and need not hold here."),
                note=True,
            )
        )  # fmt: skip
    if run.plugins():  # ranked like the built-ins, but the reader should know whose code they are
        found = enumerate(run.plugins().items())
        mine = [text("; " if i else "", Code(n), f" from {src}") for i, (n, src) in found]
        lead = text(strong("Plugins"), " (the user's own backends, ranked as gdbench's): ")
        out.append(Paragraph(text(lead, *mine, ".")))
    busy, load, cpus = meta.get("busy_before"), meta.get("load_before"), cpu.get("count") or 1
    during = meta.get("busy_during")
    if during is not None:  # other processes' CPU time over the whole run (benchmarks/suite/machine.py)
        said = f"other processes kept {during:.2f} of {cpus} CPU(s) busy on average during the run"
        flagged = during > 0.25 * cpus
    elif busy is not None:  # older runs: measured over a second before the run
        said = f"other processes kept {busy:.2f} of {cpus} CPU(s) busy in the second before the run"
        flagged = busy > 0.25 * cpus
    else:
        said = f"load average {load or 0:.2f} on {cpus} CPU(s) when the run started"
        flagged = load is not None and load > 0.25 * cpus
    if flagged:
        out.append(
            Paragraph(
                text(strong("Busy machine"), f": {said}. Timings stretch, worst for multi-threaded steps; ",
                     "prefer a run on a quiet machine."),
                note=True,
            )
        )  # fmt: skip
    if meta.get("quick"):
        sizes = ", ".join(fmt_n(n) for n in run.values("n"))
        out.append(
            Paragraph(
                text(strong("Quick run"), f": N = {sizes} and {', '.join(run.values('dtype'))} only, for ",
                     "checking the machinery and a first look (see Not measured)."),
                note=True,
            )
        )  # fmt: skip
    return out


def not_measured(run: Run) -> list[Text]:
    """One line per part of the suite this run did not measure, and why where it is known."""
    meta = run.metas[0]
    quick = bool(meta.get("quick"))
    lines: list[Text] = []
    for what, suite, ran in (
        ("sizes", cases.SIZES, run.values("n")),
        ("dtypes", cases.DTYPES, run.values("dtype")),
        ("devices", ("cpu", "cuda"), run.values("device")),
        ("modes", ("nohist", "history"), run.values("mode")),
    ):
        left = [v for v in suite if v not in ran]
        if left:
            shown = ", ".join(f"N = {fmt_n(v)}" if isinstance(v, int) else str(v) for v in left)
            why = " (a --quick run)" if quick and what in ("sizes", "dtypes") else ""
            if what == "devices" and "cuda" in left and not run.machines[0].get("gdbench", {}).get("gpu"):
                why = " (no GPU on this machine)"
            lines.append((f"{what.capitalize()} not run: {shown}{why}.",))
    done = set(run.backends())
    selected = set(cases.expand(list(meta.get("backends", []))))
    for base in registered():
        variants = cases.expand([base])
        missing = [v for v in variants if v not in done]
        if not missing:
            continue
        sizes = cases.spec(missing[0]).sizes
        if base in run.unavailable or missing[0] in run.unavailable:
            why = f"unavailable here: {run.unavailable.get(base) or run.unavailable.get(missing[0])}"
        elif selected and not set(missing) & selected:
            why = "not selected (--backends)"
        elif sizes and not set(sizes) & set(run.values("n")):
            why = f"runs only at {', '.join(f'N = {fmt_n(n)}' for n in sizes)}, none of this run's sizes"
        else:
            why = "no result in this run"
        lines.append(text(Code(base if len(missing) == len(variants) else ", ".join(missing)), f": {why}."))
    for fail in run.failed:
        said = f" failed ({fail.get('when')}), its numbers left out: {fail.get('message')}"
        lines.append(text(Code(str(fail.get("case"))), said))
    return lines


def section(run: Run) -> Section:
    """The "Not measured" section."""
    lines = not_measured(run) or [("Nothing: every registered backend ran every case of the suite.",)]
    return Section(("Not measured",), (Bullets(tuple(lines)),))


def machine(run: Run) -> Section:
    """Machine, threads and versions, as the run recorded them."""
    m, g = run.machines[0], run.machines[0].get("gdbench", {})
    cpu = m.get("cpu", {})
    rows = [
        ("measured", _when(run)),
        ("from", ", ".join(p.name for p in run.sources)),
        ("CPU", f"{cpu.get('brand_raw', m.get('processor', '?'))}, {cpu.get('count', '?')} CPU(s)"),
        ("threads per framework", str(g.get("threads", "?"))),
        ("GPU", str(g.get("gpu") or "none")),
        *((k, str(v)) for k, v in g.get("versions", {}).items() if k != "executable"),
    ]
    table = Table(("", "value"), tuple((cell(k), cell(v)) for k, v in rows))
    return Section(("Machine and versions",), (table,))


def source(path: Path, data: dict[str, Any]) -> Text:
    """Where a borrowed section comes from: its file, date and machine, and that it is not this run."""
    m = data.get("machine", {})
    when = str(data.get("created", "?"))[:16].replace("T", " ")
    machine = f"{data.get('cores', '?')} cores, {m.get('platform', '?')}, torch {m.get('torch', '?')}"
    return (
        em("Source: ", Code(f"{path.parent.name}/{path.name}"), ", written by ", Code("gdbench scaling"),
           f" on {when} UTC ({machine}): a separate measurement, not part of this run."),
    )  # fmt: skip
