"""Which machine a run came from, and whether two runs share machine and code.

A run records the machine it ran on (``machine_info["gdbench"]["machine"]``, written by the suite):
CPU model, cores, memory, OS and library versions. Two records are the **same machine** when CPU
model, cores, memory (within ``MEMORY_SLACK``) and OS (system and architecture) agree; differing
versions (Python, numpy, the frameworks, the kernel) are the same machine with different
software, said apart. A run saved before records existed has only pytest-benchmark's
``machine_info`` (CPU model and cores, no memory): it can be a *different* machine when what it has
differs, but never the *same* one: its machine is "unknown".

Code: pytest-benchmark's ``commit_info``. Two runs share code when both name the same commit and
neither had uncommitted changes.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("numpy", "torch", "jax", "jaxlib", "numba", "matplotlib")
MEMORY_SLACK = 0.02  # a VM's reported total moves by a few MB between boots: not another machine


@dataclass(frozen=True)
class Machine:
    """A run's machine: what decides speed (hardware, OS) and the software it ran."""

    cpu: str | None
    cores: int | None
    memory_bytes: int | None
    os: str | None  # system and architecture, e.g. "Linux x86_64"
    versions: dict[str, str | None] = field(default_factory=dict)  # python, kernel, packages
    recorded: bool = True  # False: pieced together from a run saved before records existed

    def describe(self) -> str:
        """One line: 'Intel(R) Xeon(R) Processor, 2 cores, 23.5 GiB, Linux x86_64'."""
        mem = f"{self.memory_bytes / 2**30:.1f} GiB" if self.memory_bytes else "memory not recorded"
        return f"{self.cpu or 'CPU unknown'}, {self.cores or '?'} cores, {mem}, {self.os or 'OS unknown'}"

    def to_json(self) -> dict[str, Any]:
        """The record as the suite saves it."""
        return {
            "cpu": self.cpu,
            "cores": self.cores,
            "memory_bytes": self.memory_bytes,
            "os": self.os,
            "versions": dict(self.versions),
        }


@dataclass(frozen=True)
class Match:
    """Whether two runs share machine and code: True, False, or None for unknown."""

    machine: bool | None
    software: bool | None  # versions equal (meaningful on the same machine)
    code: bool | None
    differences: tuple[str, ...] = ()  # what differs, in words

    def machine_words(self) -> str:
        """'the same machine', 'different machines (…)' or 'machine unknown (…)'."""
        if self.machine is None:
            return "machine unknown (a run without a machine record)"
        if not self.machine:
            return "different machines (" + "; ".join(self.differences) + ")"
        if self.software is False:
            return "the same machine, different software (" + "; ".join(self.differences) + ")"
        return "the same machine"

    def code_words(self) -> str:
        """'the same code (commit abc1234)', 'different code' or 'code unknown (…)'."""
        if self.code is None:
            return "code unknown (no commit recorded, or uncommitted changes)"
        return "the same code" if self.code else "different code (different commits)"


def versions() -> dict[str, str | None]:
    """Versions of Python, the kernel and the frameworks, read without importing them (None if absent)."""
    out: dict[str, str | None] = {"python": platform.python_version(), "kernel": platform.release()}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The CPU's model name (Linux's /proc/cpuinfo, else what platform says; None when neither knows)."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def memory_bytes() -> int | None:
    """Physical memory of this machine in bytes (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def this_machine() -> Machine:
    """The record of the machine this process runs on."""
    return Machine(
        cpu_model(), os.cpu_count(), memory_bytes(), f"{platform.system()} {platform.machine()}", versions()
    )


def from_info(info: dict[str, Any]) -> Machine:
    """A run's machine from its ``machine_info``: the record, else what pytest-benchmark saved."""
    mine: dict[str, Any] = info["gdbench"] if isinstance(info.get("gdbench"), dict) else {}
    rec = mine.get("machine")
    if isinstance(rec, dict):
        return Machine(
            rec.get("cpu"),
            rec.get("cores"),
            rec.get("memory_bytes"),
            rec.get("os"),
            dict(rec.get("versions") or {}),
        )
    cpu: dict[str, Any] = info["cpu"] if isinstance(info.get("cpu"), dict) else {}
    system, arch = info.get("system"), info.get("machine")
    old = dict(mine.get("versions") or {})
    old.pop("platform", None), old.pop("executable", None)
    return Machine(
        cpu.get("brand_raw") or info.get("processor") or None,
        cpu.get("count"),
        None,
        f"{system} {arch}" if system and arch else None,
        {**old, "kernel": info.get("release")},
        recorded=False,
    )


def _hardware(a: Machine, b: Machine) -> list[str]:
    """What differs between two machines' hardware and OS, where both say."""
    out = []
    if a.cpu and b.cpu and a.cpu != b.cpu:
        out.append(f"CPU {a.cpu} vs {b.cpu}")
    if a.cores and b.cores and a.cores != b.cores:
        out.append(f"{a.cores} vs {b.cores} cores")
    ma, mb = a.memory_bytes or 0, b.memory_bytes or 0
    if ma and mb and abs(ma - mb) > MEMORY_SLACK * max(ma, mb):
        out.append(f"memory {ma / 2**30:.1f} vs {mb / 2**30:.1f} GiB")
    if a.os and b.os and a.os != b.os:
        out.append(f"{a.os} vs {b.os}")
    return out


def _software(a: Machine, b: Machine) -> list[str]:
    """Versions both records give that differ."""
    keys = [k for k in a.versions if k in b.versions and a.versions[k] != b.versions[k]]
    return [f"{k} {a.versions[k] or 'absent'} vs {b.versions[k] or 'absent'}" for k in keys]


def same_machine(a: Machine, b: Machine) -> bool | None:
    """True when both records agree on CPU, cores, memory and OS; None when one is no full record."""
    if _hardware(a, b):
        return False
    complete = all(m.recorded and m.cpu and m.cores and m.memory_bytes and m.os for m in (a, b))
    return True if complete else None


def same_code(a: dict[str, Any], b: dict[str, Any]) -> bool | None:
    """Whether two ``commit_info``s name the same clean commit; None when either cannot tell."""
    ids = [c.get("id") for c in (a, b)]
    real = [i for i in ids if i and i not in ("unknown", "unversioned")]
    if len(real) == 2 and ids[0] != ids[1]:
        return False
    if len(real) < 2 or a.get("dirty") or b.get("dirty"):
        return None
    return True


def match(a: Machine, b: Machine, code_a: dict[str, Any], code_b: dict[str, Any]) -> Match:
    """Whether two runs share machine, software and code."""
    same = same_machine(a, b)
    hw, sw = _hardware(a, b), _software(a, b)
    software = None if same is None else not sw
    return Match(same, software, same_code(code_a, code_b), tuple(hw if same is False else sw))
