"""report.html as headless Chromium shows it: a PNG for the README, and the browser the tests drive.

Playwright drives the system's Chromium (Debian's ``chromium`` package), never a browser it would
download: set GDBENCH_CHROMIUM to use another executable.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks.core.files import UsageError, atomic_write_bytes

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def browser(purpose: str = "--screenshot") -> str:
    """Path of a Chromium executable Playwright can launch; UsageError saying what ``purpose`` lacks."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise UsageError(f"{purpose}: playwright is not installed (pip install -e '.[dev]')") from None
    found = os.environ.get("GDBENCH_CHROMIUM") or next(filter(None, map(shutil.which, CANDIDATES)), None)
    if not found:
        raise UsageError(f"{purpose}: no Chromium found (apt-get install chromium, or set GDBENCH_CHROMIUM)")
    return found


def screenshot(page_path: Path, png: Path, width: int = 1280, height: int = 1100) -> Path:
    """Open ``page_path`` offline in headless Chromium and save its view selectors and figures as ``png``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser(), args=["--no-sandbox"])
        try:
            page = b.new_page(viewport={"width": width, "height": height})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(page_path.resolve().as_uri())
            page.wait_for_selector(".view:not([hidden]) .js-plotly-plot .main-svg")
            top = page.eval_on_selector(".controls", "c => c.getBoundingClientRect().top + window.scrollY")
            # from the view selectors down: the figures a reader comes for, not the text above them
            data = page.screenshot(
                full_page=True, clip={"x": 0, "y": top - 8, "width": width, "height": height}
            )
        finally:
            b.close()
    atomic_write_bytes(png, data)
    return png
