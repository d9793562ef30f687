"""REPORT.md's "Goals" section: the fast-variant targets read off a saved run, met or missed."""

from __future__ import annotations

from .report_advice import fastest, fmt_n, fmt_t
from .report_data import Run

FLOOR_GOAL = 1.2  # at N = 10⁷: fastest per-pass epoch within this many reads of x and y
SMALL_GOAL_S = 1e-6  # at N = 10²: fastest per-pass epoch under this, in steady state
# The tutorial-style backends, and what limits each where it is slowest relative to the work.
TUTORIAL_STYLE = {
    "torch-autograd": "graph growth: each backward() walks every earlier update",
    "torch-nograd": "Python dispatch at small N; eager temporaries (x·w, r, r², r·x) at large N",
    "jax-grad": "one dispatch of a jitted step from Python per epoch; temporaries XLA keeps per step",
    "numpy-closed": "fresh N-sized temporaries every epoch (r, r·x), each a pass over memory",
}


def goals(run: Run, device: str = "cpu") -> list[str]:
    """The two issue-5 goals and the tutorial-style bottlenecks, with the numbers that show them."""
    lines = ["## Goals of the fast variants", ""]
    rows = []
    for dtype in run.values("dtype"):
        big = fastest(run, device, dtype, 10**7, "nohist")
        fl = run.floor(device, dtype, 10**7)
        if big and fl:
            r = big[0].per_epoch / fl.seconds
            verdict = "met" if r <= FLOOR_GOAL else f"missed by {r / FLOOR_GOAL:.2f}×"
            rows.append(
                f"| N = 10⁷, {dtype}: fastest per-pass ≤ {FLOOR_GOAL}× floor | `{big[0].backend}` "
                f"{fmt_t(big[0].per_epoch)} = {r:.2f}× floor | {verdict} |"
            )
        small = fastest(run, device, dtype, 10**2, "nohist")
        if small:
            f = small[0]
            verdict = "met" if f.per_epoch <= SMALL_GOAL_S else f"missed by {f.per_epoch / SMALL_GOAL_S:.2f}×"
            rows.append(
                f"| N = 10², {dtype}: fastest per-pass ≤ 1 µs per epoch | `{f.backend}` {fmt_t(f.per_epoch)} "
                f"(first result {fmt_t(f.startup)}) | {verdict} |"
            )
    if rows:
        lines += ["| goal | measured | verdict |", "|---|---|---|", *rows, ""]
    lines += [
        "Per epoch here is a whole fit's own clock ÷ its epochs, so at N = 10² it includes the fit's fixed "
        "cost (one call into compiled code, copying results out) spread over the epochs; the marginal cost "
        "of one more epoch is lower. At N = 10⁷ the floor is `numpy.dot(x, y)`, which reads x and y once "
        "with BLAS; a gradient epoch must read them at least once and also combine two reductions.",
        "",
        "**What limits the tutorial-style backends** (no history, "
        f"{run.values('dtype')[-1]}; × floor = time per epoch ÷ one read of x and y):",
        "",
        "| backend | N = 10² per epoch | × floor | N = 10⁷ per epoch | × floor | bottleneck |",
        "|---|---|---|---|---|---|",
    ]
    dtype = run.values("dtype")[-1]
    for name, why in TUTORIAL_STYLE.items():
        cells = []
        for n in (10**2, 10**7):
            fit = run.select(backend=name, device=device, dtype=dtype, n=n, mode="nohist")
            fl = run.floor(device, dtype, n)
            cells += (
                [fmt_t(fit[0].per_epoch), f"{fit[0].per_epoch / fl.seconds:.3g}"]
                if fit and fl
                else ["-", "-"]
            )
        lines.append(f"| `{name}` | {' | '.join(cells)} | {why} |")
    growth = [t for t in run.traces if t.backend == "torch-autograd" and t.device == device]
    if growth and len(growth[0].epoch_s) >= 20:
        e = growth[0].epoch_s
        k = len(e) // 10
        first, last = fmt_t(sum(e[:k]) / k), fmt_t(sum(e[-k:]) / k)
        lines += [
            "",
            f"Graph growth in numbers: `torch-autograd`'s epochs take {first} in the first tenth of a "
            f"{len(e)}-epoch fit at N = {fmt_n(growth[0].n)} and {last} in the last.",
        ]
    return [*lines, ""]
