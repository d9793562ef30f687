"""Renders saved runs: REPORT.md, report.html and figures; nothing is timed again.

Reads ``benchmarks.core`` (the results model, rankings, statistics); never imports ``suite`` or a
command. Importing this package imports none of its modules, so ``gdbench --help`` stays fast.
"""
