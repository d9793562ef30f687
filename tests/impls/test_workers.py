"""The data-parallel backends' worker processes, as a user's script meets them (subprocesses).

A script without a main guard gets one error naming the fix; an interrupted or killed script
leaves no worker, forkserver or resource tracker behind. Every run here is bounded in time, and
whatever a failed test leaves is killed by pid before it ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.support.processes import tagged

ROOT = Path(__file__).resolve().parents[2]
UNGUARDED = """
    import impls
    x, y = impls.make_linear(size=200)
    print(impls.get_backend({spec}).fit(x, y).w)
"""
# A fit that never ends; it says where it is so the test can interrupt it at a chosen moment.
LONG = """
    import impls
    if __name__ == "__main__":
        x, y = impls.make_linear(size=20000)
        be = impls.get_backend("torch-ddp", world_size=2)
        print("preparing", flush=True)
        run = be.prepare(x, y, impls.TrainConfig(epochs=10**7, tol=0, record_history=False))
        print("prepared", flush=True)
        while True:
            run()
"""


def script(tmp_path: Path, text: str, **env: str) -> subprocess.Popen[str]:
    """Start ``text`` as a user's script, in its own session (so a signal reaches its whole group)."""
    path = tmp_path / "user_script.py"
    path.write_text(textwrap.dedent(text))
    return subprocess.Popen(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.parametrize(
    "spec", ['"torch-ddp", world_size=2', '"jax-sharded", devices=2'], ids=["torch-ddp", "jax-sharded"]
)
def test_a_script_without_main_guard_gets_one_error_naming_the_fix(tmp_path, spec):
    proc = script(tmp_path, UNGUARDED.format(spec=spec))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("impls._dist.MainGuardError: ") and "user_script.py" in last
    assert 'if __name__ == "__main__":' in last and "line 4" in last
    assert "bootstrapping phase" not in err and err.count("Traceback") == 1


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find the processes")
@pytest.mark.parametrize(
    ("how", "mark", "delay"),
    [("SIGINT", "preparing", 0.0), ("SIGINT", "prepared", 0.3), ("SIGKILL", "prepared", 0.3)],
    ids=["ctrl-c-during-start-up", "ctrl-c-during-the-fit", "parent-killed-during-the-fit"],
)
def test_no_process_outlives_an_interrupted_or_killed_script(tmp_path, how, mark, delay):
    """Ctrl-C goes to the whole process group, as a terminal sends it; SIGKILL to the script alone."""
    tag = f"GDBENCH_TEST_TAG={uuid.uuid4().hex}"
    proc = script(tmp_path, LONG, GDBENCH_TEST_TAG=tag.split("=")[1])
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while (line := proc.stdout.readline().strip()) != mark:
            assert line != "" or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, f"no {mark!r} line within 120 s"
        time.sleep(delay)
        if how == "SIGINT":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.kill()
        proc.wait(timeout=60)
        end = time.monotonic() + 15  # workers notice within a collective; the helpers follow them
        while (left := tagged(tag)) and time.monotonic() < end:
            time.sleep(0.2)
        assert left == [], f"still running after the script exited: {left}"
    finally:
        for pid in [proc.pid, *tagged(tag)]:  # ours alone: they carry this test's tag
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=30)
