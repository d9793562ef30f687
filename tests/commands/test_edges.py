"""gdbench at its edges, run as a user runs it: a subprocess per command, stdout and stderr apart.

Bad folders, interrupted runs, closed pipes, diverging fits, progress on a terminal and the small
things a user notices; every run is small and bounded in time.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import shlex
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

import impls
from benchmarks.commands import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("gdbench")  # installed by pip install -e .
GDBENCH = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "benchmarks"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
# One backend, many epochs: long enough to act on while it trains, cut short by the test.
LONG = ["--backends", "numpy-closed", "--size", "1e4", "--tol", "0", "--epochs", "1000000"]
NO_GPU = not any("cuda" in impls.get_backend(n).devices() for n in impls.available_backends())


def gdbench(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the console script and wait for it."""
    return subprocess.run([*GDBENCH, *argv], capture_output=True, text=True, env=ENV, timeout=timeout)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single ``gdbench: error:`` line of a refused command (exit 2, nothing on stdout)."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdbench: error: "), done.stderr
    return lines[0]


def writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (permissions alone do not tell, for root)."""
    try:
        (folder / ".probe").touch()
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


def unwritable(tmp_path: Path) -> Path:
    """A folder that cannot be written here: read-only by mode, or /sys where root ignores modes."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not writable(folder):
        return folder / "out"
    if Path("/sys").is_dir() and not writable(Path("/sys")):
        return Path("/sys/gdbench-out")
    pytest.skip("no folder here that this user cannot write")


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        (["run"], "under-a-file"),
        (["run"], "read-only"),
        (["run"], "empty"),
        (["bench", "--quick"], "read-only"),
        (["bench", "--quick"], "empty"),
        (["report", "--out"], "under-a-file"),
    ],
)
def test_a_bad_output_folder_is_refused_before_any_work(tmp_path, command, kind):
    (tmp_path / "file").write_text("not a folder")
    out = "" if kind == "empty" else str(tmp_path / "file" / "out")
    if kind == "read-only":
        out = str(unwritable(tmp_path))
    argv = [*command, out] if command[-1] == "--out" else [*command, "--out", out]
    start = time.monotonic()
    line = one_error_line(gdbench(*argv))
    assert time.monotonic() - start < 60  # refused, not trained first (a run imports torch and JAX)
    want = {"under-a-file": "is a file", "read-only": "cannot be written", "empty": "empty path"}[kind]
    assert "--out" in line and want in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "file",
        *(["read-only"] if kind == "read-only" else []),
    ]


def test_scaling_refuses_a_bad_output_folder_before_timing(tmp_path):
    (tmp_path / "file").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "scaling", "--out", str(tmp_path / "file" / "x")],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"gdbench: error: --out {tmp_path / 'file' / 'x'} cannot be made: "
        f"{tmp_path / 'file'} is a file"
    ]


def test_a_folder_lost_during_the_run_still_prints_the_results(tmp_path):
    out = tmp_path / "gone" / "out"  # writable when checked; a file takes its parent's place meanwhile
    proc = subprocess.Popen(
        [*GDBENCH, "run", *LONG[:-1], "20000", "--out", str(out)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    header = proc.stderr.readline()
    assert header.startswith("gdbench run: 1 backend(s), 10000 points"), header
    (tmp_path / "gone").write_text("in the way")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stdout + stderr
    assert "numpy-closed" in stdout and "verdict: every backend agrees (1 of 1)" in stdout  # shown anyway
    assert (
        stderr.strip().splitlines()[-1].startswith(f"gdbench: error: could not save the results in {out}: ")
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["bench", "--quick", "--backends", "torch-ddp"],
            ["no case to run at N = 1e2, 1e4", "torch-ddp only at N = 1e6, 1e7"],
        ),
        (
            ["bench", "--sizes", "1e2", "--backends", "jax-sharded,torch-ddp"],
            ["jax-sharded only", "torch-ddp only"],
        ),
        (["run", "--size", "1e400"], ["--size", "e.g. 100, 1e6, 10**6", "1e400"]),
    ],
)
def test_bad_selections_are_one_line_before_any_work(argv, words):
    line = one_error_line(gdbench(*argv))
    assert all(w in line for w in words), line


@pytest.mark.skipif(not NO_GPU, reason="a CUDA device is present")
def test_cuda_without_a_gpu_is_one_short_line():
    bench = one_error_line(gdbench("bench", "--quick", "--devices", "cuda", "--backends", "numpy-closed"))
    assert "--devices cuda: no selected backend can use a CUDA device here (usable: cpu)" in bench
    run = one_error_line(gdbench("run", "--device", "cuda"))
    n = len(impls.available_backends())
    assert (
        run == f"gdbench: error: no backend can run here: all {n} backends: "
        "device 'cuda' is not usable here (usable: cpu)"
    )


def test_sizes_as_in_bench_auto_names_its_device_and_an_underdetermined_fit_says_so(tmp_path):
    argv = ["run", "--backends", "numpy-closed", "--epochs", "5", "--out", str(tmp_path)]
    done = gdbench(*argv, "--size", "1e3", "--device", "auto")
    assert done.returncode == 0 and "note: underdetermined" not in done.stdout
    header = done.stderr.splitlines()[0]
    assert " 1000 points," in header and header.endswith("float64 on cpu (auto)")
    assert json.loads((tmp_path / "run.json").read_text())["data"]["size"] == 1000
    done = gdbench(*argv, "--size", "1")
    assert "note: underdetermined: 1 point(s) with rank 1 for 2 parameters" in done.stdout


def test_a_closed_pipe_ends_quietly(tmp_path):
    proc = subprocess.Popen(
        [*GDBENCH, "run", "--backends", "numpy-closed", "--epochs", "5", "--out", str(tmp_path)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # as `| head` does once it has its lines: every write now fails
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 141 and b"Traceback" not in stderr and b"Exception ignored" not in stderr, (
        stderr
    )
    assert (tmp_path / "run.json").exists()  # saved before anything was printed


def test_a_reader_that_leaves_after_the_last_write_leaves_the_status_alone(tmp_path):
    """As `seq 10 | head -3` exits 0: the table is one write, done before head leaves (docs: 141 or not)."""
    run = [*GDBENCH, "run", "--backends", "numpy-closed", "--epochs", "5", "--out", str(tmp_path)]
    line = " ".join(shlex.quote(a) for a in run) + " 2>/dev/null | head -3; echo status ${PIPESTATUS[0]}"
    buffered = {k: v for k, v in ENV.items() if k != "PYTHONUNBUFFERED"}  # else a write per line
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=buffered, timeout=120)
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and lines[0].startswith("backend ") and lines[-1] == "status 0", done.stdout


def test_ctrl_c_exits_130_with_one_line_and_writes_nothing(tmp_path):
    proc = subprocess.Popen(
        [*GDBENCH, "run", *LONG, "--out", str(tmp_path / "out")],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    seen = ""
    while "training ..." not in seen:  # the progress line, written before the fit starts
        char = proc.stderr.read(1)
        assert char, seen
        seen += char
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal sends Ctrl-C to the whole group
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and stdout == ""
    assert (seen + stderr).strip().splitlines()[-2:] == [
        "  numpy-closed     training ... interrupted",
        "gdbench: interrupted",
    ]
    assert "Traceback" not in stderr and "\r" not in seen + stderr  # and no progress bar off a terminal
    assert not (tmp_path / "out").exists()


def test_diverging_backends_agree_in_diverging_and_the_figure_keeps_its_room(tmp_path):
    names = ("numpy-closed", "numpy-buffered", "numpy-moments")  # no framework to import: a quick test
    done = gdbench("run", "--lr", "50", "--backends", ",".join(names), "--out", str(tmp_path))
    assert done.returncode == 1
    rows = [r for r in done.stdout.splitlines() if r.split(" ")[0] in names]
    assert len(rows) == 3 and all(" diverged " in r and r.endswith(" yes") for r in rows), done.stdout
    assert done.stdout.strip().splitlines()[-1] == (
        "verdict: every backend diverged at lr=50, as the numpy-closed float64 reference does after 73 "
        "epoch(s), and they agree in doing so (3 of 3)"
    )
    assert "NOT agree" not in done.stdout


def test_data_figure_leaves_the_plot_its_room_however_many_backends_fail(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from benchmarks.report import tutorial as figures

    run = json.loads((ROOT / "results" / "tutorial" / "run.json").read_text())
    many = [
        {**run["results"][0], "backend": f"backend-with-a-long-name-{i}", "stop_reason": "diverged"}
        for i in range(40)
    ]
    for results in (many, [*many[:1], {**run["results"][0]}]):
        fig = figures.data_figure({**run, "results": results})
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        ax = fig.axes[0]
        assert ax.get_position().height > 0.6 and ax.get_position().width > 0.7  # not squeezed
        title = ax.title.get_window_extent(canvas.get_renderer())
        assert title.x0 >= 0 and title.x1 <= fig.bbox.width  # not cut


def test_progress_is_shown_on_a_terminal(tmp_path):
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(
        [*GDBENCH, "run", *LONG[:-1], "15000", "--out", str(tmp_path)],
        env=ENV,
        stdin=child,
        stdout=child,
        stderr=child,
    )
    os.close(child)
    seen = b""
    try:
        while chunk := os.read(main, 1 << 16):
            seen += chunk
    except OSError:  # EIO once the child has gone and the terminal is closed
        pass
    os.close(main)
    assert proc.wait(timeout=120) == 0
    text = seen.decode()
    frames = re.findall(
        r"numpy-closed +\d+%\|.*?\| (\d+)/15000 epochs(?:, loss ([\d.e+-]+))? \[([^\]]*)\]", text
    )
    assert frames and any(int(n) > 0 and loss for n, loss, _ in frames), text[:2000]
    assert all("elapsed" in when and "left" in when for *_, when in frames)
    assert "numpy-closed     training ... 15000 epochs, max_epochs" in text  # the plain line stays


def test_help_says_each_default_once_and_that_w_takes_a_list():
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subs.choices) == set(COMMANDS)
    for parser in subs.choices.values():  # what `gdbench COMMAND --help` prints, without a process each
        options = re.split(r"\n  (?=-)", parser.format_help().split("options:", 1)[1])
        for option in options:
            assert option.count("default") <= 1, option
    run_help = " ".join(gdbench("run", "--help").stdout.split())
    assert "comma-separated values, one per feature" in run_help and "(default: results/run)" in run_help
    assert "(default: results/bench)" in " ".join(gdbench("bench", "--help").stdout.split())


def test_bench_names_the_file_it_saved_in_its_own_folder(tmp_path):
    done = gdbench(
        "bench",
        "--quick",
        "--backends",
        "numpy-closed",
        "--modes",
        "nohist",
        "--out",
        str(tmp_path),
        "--name",
        "b.json",
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    said = re.findall(r"saved (\S+)", done.stdout + done.stderr)
    assert said == [str(tmp_path / "b.json")] and ".partial" not in done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]
    # its own output: stages, passes and the summary, not pytest's (--verbose shows that)
    assert "PASSED" not in done.stdout + done.stderr and "fastest per regime" in done.stdout
    assert "gdbench bench: pass 3 [" in done.stderr, done.stderr


def test_a_fit_result_prints_in_one_line():
    x, y = impls.make_linear(size=2000)
    res = impls.get_backend("numpy-closed").fit(x, y, impls.TrainConfig(tol=0, epochs=3000))
    text = repr(res)
    assert "\n" not in text and len(text) < 300 and "history=3000 epochs" in text
    assert text.startswith("FitResult(backend='numpy-closed', w=[") and "stop_reason='max_epochs'" in text


@pytest.mark.skipif(not NO_GPU, reason="a CUDA device is present")
def test_without_a_gpu_the_cuda_cases_are_deselected_in_one_line():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/impls/test_contract.py",
            "-k",
            "cuda",
            "-p",
            "no:cacheprovider",
            "-ra",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode in (0, 5), done.stdout
    assert not re.search("SKIPPED.*cuda", done.stdout), done.stdout
    assert re.search(r"^\d+ cuda case\(s\) deselected: no CUDA device here$", done.stdout, re.M), done.stdout


def test_readme_and_tutorial_figures_cover_every_backend():
    readme = (ROOT / "README.md").read_text()
    n = len(impls.backend_names())
    assert f"verdict: every backend agrees ({n} of {n})" in readme
    assert f"({n} rows, one per backend)" in readme
    assert all(f"| `{name}` |" in readme for name in impls.backend_names())  # the backends table
    run = json.loads((ROOT / "results" / "tutorial" / "run.json").read_text())
    assert [r["backend"] for r in run["results"]] == impls.backend_names()  # the figures are drawn from it
    lines = readme.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("backend         w"))
    table = lines[start : next(i for i in range(start, len(lines)) if lines[i].startswith("θ*"))]
    for r in run["results"]:  # the README's rows (in the tutorial's table) are this run's
        row = next((line for line in table if line.startswith(r["backend"] + " ")), None)
        assert row is None or row.split()[1:3] == [f"{r['w'][0]:.6g}", f"{r['b']:.6g}"], row
        assert row is None or row.split()[6] == f"{r['seconds']:.3f}", row
