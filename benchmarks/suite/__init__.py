"""The pytest-benchmark suite behind ``gdbench bench``.

Its test module is named ``bench_*.py`` so the repository's ordinary ``pytest`` run (testpaths =
tests) never collects it; ``gdbench bench`` passes the file to pytest explicitly.
"""
