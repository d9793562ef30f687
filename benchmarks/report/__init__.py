"""``gdbench report``: saved runs in, REPORT.md, report.html and figures out; nothing is timed again.

Three layers, each importing only the one before it:

- reading: ``data`` (a saved run as a ``Run`` of ``Fit``, ``Floor`` and ``Trace`` records);
- analysis and advice: ``advice`` (rankings, ties, ratios to the memory floor), ``recommend``
  and ``why`` (the recommendation in words), ``limit``, ``repro`` (two runs compared), ``scope``
  (what a run did not measure, and where a borrowed section comes from);
- renderers: ``markdown`` (REPORT.md, with ``method`` and ``fmt``), ``html`` (report.html, Plotly),
  ``figures`` (matplotlib PNGs), ``screenshot`` (the page in headless Chromium).

``command`` is the thin sub-command that ties them together. Importing this package imports none
of them, so ``gdbench --help`` stays fast.
"""
