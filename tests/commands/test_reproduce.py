"""gdbench reproduce --load: the CPU-bound process that makes a run busy, and its options."""

from __future__ import annotations

import argparse
import subprocess

import pytest

from benchmarks.commands import reproduce


def test_the_load_spins_only_while_its_block_runs(monkeypatch):
    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def spy(*a, **k):
        started.append(real(*a, **k))
        return started[-1]

    monkeypatch.setattr(reproduce.subprocess, "Popen", spy)
    with reproduce.cpu_load(False):
        assert started == []
    with reproduce.cpu_load(True):
        (spin,) = started
        assert spin.poll() is None  # spinning
    assert spin.returncode is not None  # stopped and waited for: nothing left behind


@pytest.mark.parametrize(("argv", "load"), [([], ""), (["--load"], "second"), (["--load", "both"], "both")])
def test_load_names_which_runs_are_busy(argv, load):
    p = argparse.ArgumentParser()
    reproduce.add_arguments(p)
    assert p.parse_args(argv).load == load
