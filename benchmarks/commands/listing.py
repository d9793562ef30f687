"""List every registered backend: available or why not, framework version, devices it can use.

``--runs`` lists the saved runs instead, found as choose and report find them (benchmarks/core/paths.py):
number, date, commit, label, and whether each came from this machine.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import impls
from benchmarks.core import paths
from benchmarks.core.files import UsageError
from benchmarks.core.fmt import aligned
from benchmarks.core.machines import from_info, same_machine, this_machine
from benchmarks.core.results import read_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench list``."""
    p.add_argument("--json", action="store_true", help="print the same as JSON")
    p.add_argument(
        "--runs", action="store_true", help="list the saved runs instead: where, when, commit, which machine"
    )


def describe(name: str) -> dict[str, Any]:
    """What this machine offers for backend ``name``; building it is the only honest test."""
    try:
        be = impls.get_backend(name)
    except impls.BackendUnavailable as e:
        return {
            "backend": name,
            "plugin": impls.plugin_source(name),
            "available": False,
            "reason": str(e),
            "framework": None,
            "version": None,
            "devices": [],
        }
    # Plugins need only satisfy the Backend Protocol; BackendBase adds these three.
    return {
        "backend": name,
        "plugin": impls.plugin_source(name),
        "available": True,
        "reason": None,
        "framework": getattr(be, "framework", None),
        "version": str(be.version()) if hasattr(be, "version") else None,
        "devices": list(be.devices()) if hasattr(be, "devices") else ["cpu"],
    }


def runs() -> list[dict[str, Any]]:
    """Every saved run where choose and report look, oldest first, with its machine and commit."""
    out = []
    for path in [p for root in paths.roots() for p in paths.saved_runs(root)]:
        try:
            data = read_json(path)
        except UsageError:
            continue
        same = same_machine(from_info(data.get("machine_info", {})), this_machine())
        commit = data.get("commit_info", {})
        out.append(
            {
                "path": str(path),
                "date": paths.stamp(path),
                "commit": commit.get("id"),
                "dirty": bool(commit.get("dirty")),
                "label": paths.label(path),
                "this_machine": same,
            }
        )
    return out


def main(args: argparse.Namespace) -> int:
    """Print one line per backend (or per saved run)."""
    if getattr(args, "runs", False):
        return _runs(args.json)
    rows = [describe(n) for n in impls.backend_names()]
    if args.json:
        print(json.dumps({"backends": rows}, indent=2))
        return 0
    table = [["backend", "status", "framework", "version", "devices"]]
    for r in rows:
        status = "available" if r["available"] else "unavailable"
        table.append(
            [
                impls.shown(r["backend"]),
                status,
                r["framework"] or "-",
                r["version"] or "-",
                ", ".join(r["devices"]) or "-",
            ]
        )
    print("\n".join(aligned(table, rule=True)))
    for r in rows:
        if not r["available"]:
            print(f"{r['backend']}: unavailable: {r['reason']}")
    if not any("cuda" in r["devices"] for r in rows):
        print("no backend sees a CUDA device here, so --device cuda is refused and auto means cpu")
    return 0


def _runs(as_json: bool) -> int:
    """Print the saved runs."""
    found = runs()
    if as_json:
        print(json.dumps({"runs": found}, indent=2))
        return 0
    words = {True: "this machine", False: "another machine", None: "unknown machine"}
    table = [["run", "date (UTC)", "commit", "label", "machine"]]
    for r in found:
        when = str(r["date"] or "?").replace("_", " ")
        commit = str(r["commit"] or "?")[:10] + ("+" if r["dirty"] else "")
        table.append([r["path"], when, commit, r["label"] or "full", words[r["this_machine"]]])
    print("\n".join(aligned(table, rule=True)) if found else "no saved run where gdbench looks")
    return 0
