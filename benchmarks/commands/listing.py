"""List every registered backend: available or why not, framework version, devices it can use."""

from __future__ import annotations

import argparse
import json
from typing import Any

import impls
from benchmarks.core.fmt import aligned


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench list``."""
    p.add_argument("--json", action="store_true", help="print the same as JSON")


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


def main(args: argparse.Namespace) -> int:
    """Print one line per backend."""
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
