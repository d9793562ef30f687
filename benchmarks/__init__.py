"""gdbench above the backends, in layers, each a package importing only those below it.

- ``commands``: one module per ``gdbench X`` (argparse and printing); nothing imports them.
- ``report``: renders saved runs (Markdown, HTML, figures); ``suite``: measures (pytest-benchmark).
  The two never import each other.
- ``core``: the pure logic both share: the results model, statistics, the cost model, verdicts,
  the gradient oracle and problems, the scaling model. It imports only ``impls``.

``make lint`` checks this with import-linter (pyproject.toml, [tool.importlinter]).
"""
