"""The pure logic under every command: what a saved run holds and what may be concluded from it.

``results`` (saved runs as records), ``stats`` (estimates, intervals, ties, the resolved rule),
``ranking`` (fastest per regime), ``costmodel`` (choose's prediction), ``regression`` (compare's
rule), ``verdict`` (do the backends agree), ``oracle`` and ``problems`` (gradient checks),
``sweep`` (what the suite measures), ``scaling`` (the many-machine model), ``fmt`` and ``files``.
No plotting, no test runner, no framework: only ``impls`` and NumPy.
"""
