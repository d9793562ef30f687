"""A run's machine record, and whether two runs share machine, software and code."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.core import machines
from benchmarks.core.machines import Machine, from_info, match, same_code, same_machine

XEON = Machine("Intel Xeon", 2, 24 * 2**30, "Linux x86_64", {"python": "3.11.7", "numpy": "2.4"})


def other(**changes: object) -> Machine:
    """XEON with some fields changed."""
    return Machine(**{**XEON.to_json(), **changes})  # type: ignore[arg-type]


def test_a_record_survives_the_json_and_describes_itself():
    assert from_info({"gdbench": {"machine": XEON.to_json()}}) == XEON
    assert XEON.describe() == "Intel Xeon, 2 cores, 24.0 GiB, Linux x86_64"


def test_this_machine_has_a_full_record():
    here = machines.this_machine()
    assert here.recorded and here.cores and here.os and here.versions["python"]
    assert same_machine(here, from_info({"gdbench": {"machine": here.to_json()}})) is True


@pytest.mark.parametrize(
    "changed",
    [
        {"cpu": "AMD EPYC"},
        {"cores": 4},
        {"memory_bytes": 32 * 2**30},
        {"os": "Darwin arm64"},
    ],
)
def test_hardware_or_os_that_differs_is_another_machine(changed):
    m = match(XEON, other(**changed), {}, {})
    assert m.machine is False and same_machine(other(**changed), XEON) is False
    assert m.machine_words().startswith("different machines (") and m.differences


def test_a_few_megabytes_of_memory_are_the_same_machine():
    assert same_machine(XEON, other(memory_bytes=XEON.memory_bytes - 2**20)) is True  # type: ignore[operator]


def test_other_versions_are_the_same_machine_with_different_software():
    m = match(XEON, other(versions={"python": "3.11.7", "numpy": "2.5"}), {}, {})
    assert (m.machine, m.software) == (True, False)
    assert m.machine_words() == "the same machine, different software (numpy 2.4 vs 2.5)"
    assert match(XEON, XEON, {}, {}).machine_words() == "the same machine"


OLD_INFO = {"system": "Linux", "machine": "x86_64", "cpu": {"brand_raw": "Intel Xeon", "count": 2}}


def test_a_run_without_a_record_is_never_the_same_machine_but_may_be_another():
    old = from_info(OLD_INFO)
    assert not old.recorded and old.cpu == "Intel Xeon" and old.memory_bytes is None
    assert same_machine(old, XEON) is None and same_machine(old, old) is None
    assert match(old, XEON, {}, {}).machine_words().startswith("machine unknown")
    assert same_machine(from_info({**OLD_INFO, "cpu": {"brand_raw": "AMD EPYC", "count": 2}}), XEON) is False
    assert from_info({}).describe() == "CPU unknown, ? cores, memory not recorded, OS unknown"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ({"id": "abc", "dirty": False}, {"id": "abc", "dirty": False}, True),
        ({"id": "abc", "dirty": False}, {"id": "def", "dirty": False}, False),
        ({"id": "abc", "dirty": True}, {"id": "def", "dirty": False}, False),  # other commits: differ
        ({"id": "abc", "dirty": True}, {"id": "abc", "dirty": False}, None),  # edits nobody saw
        ({"id": "unversioned"}, {"id": "unversioned"}, None),
        ({}, {"id": "abc"}, None),
    ],
)
def test_code_is_the_same_only_for_one_clean_commit(a, b, same):
    assert same_code(a, b) is same


def test_the_words_for_code():
    assert match(XEON, XEON, {"id": "a"}, {"id": "a"}).code_words() == "the same code"
    assert match(XEON, XEON, {"id": "a"}, {"id": "b"}).code_words().startswith("different code")
    assert match(XEON, XEON, {}, {}).code_words().startswith("code unknown")


def test_the_cpu_model_comes_from_proc_cpuinfo(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n")
    assert machines.cpu_model(info) == "AMD EPYC 7B13"


def test_a_saved_run_gives_its_machine_and_commit():
    from benchmarks.core.results import load
    from tests.support.runs import REFERENCE

    run = load([REFERENCE])  # saved before records: CPU and cores known, memory not
    assert run.machine.cpu and not run.machine.recorded and same_machine(run.machine, run.machine) is None
    assert len(run.commit["id"]) == 40 and run.commit["dirty"] is False
