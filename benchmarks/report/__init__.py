"""Renders saved runs: REPORT.md, report.html and figures; nothing is timed again.

One pipeline, ``build.write``: each section is built once as data (``sections.py``) by the module
named after it (``answer``, ``limit``, ``cases``, ``reproducibility``, ``validation``, ``scaling``,
``scope``, ``method``), then rendered twice, by ``markdown.py`` and ``html.py``. Each figure is
defined once (``figures.py``) and drawn by ``png.py`` (matplotlib) and ``interactive.py`` (Plotly,
its basic bundle in ``vendor/``). ``tutorial.py`` draws ``gdbench run``'s figures.

Reads ``benchmarks.core`` (the results model, rankings, statistics); never imports ``suite`` or a
command. Importing this package imports none of its modules, so ``gdbench --help`` stays fast.
"""
