"""The pytest-benchmark suite behind ``gdbench bench``: everything that measures.

Its test module is named ``bench_*.py`` so the repository's ordinary ``pytest`` run (testpaths =
tests) never collects it; ``gdbench bench`` passes the file to pytest explicitly. ``machine``
records what the run ran on; ``scaling`` times the all-reduce for ``gdbench scaling``.
"""
