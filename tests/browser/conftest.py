"""Fixtures for the browser tests: one JupyterLab server and one Chromium per session.

The server's root is a temporary copy of solutions/ and lessons/ (plus the harness's
self-test notebooks under ``_selftest/``), so a run never modifies the committed
notebooks. Everything skips with a one-line reason when Playwright or Chromium is
missing. The server and the browser are stopped at the end of the session even when
tests fail (fixture finalizers, plus an atexit hook in ``lab_driver``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lab_driver import (  # noqa: E402
    SCREENSHOTS,
    TIMINGS,
    Browser,
    LabServer,
    missing_requirement,
    stage_root,
)
from selftest_notebooks import write_all  # noqa: E402


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("JupyterLab in Chromium: Run All -> last cell finished")
        for path, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
        terminalreporter.write_line(f"screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def browser_available():
    reason = missing_requirement()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    stage_root(root)
    write_all(root / "_selftest")
    return root


@pytest.fixture(scope="session")
def lab(browser_available, lab_root):
    server = LabServer(lab_root)
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"could not start JupyterLab: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab_browser(browser_available):
    browser = Browser()
    try:
        browser.start()
    except Exception as exc:  # noqa: BLE001 (report the launch error in one line)
        pytest.fail(f"could not launch Chromium headless: {exc}", pytrace=False)
    yield browser
    browser.stop()


@pytest.fixture
def open_notebook(lab, lab_browser):
    """open_notebook("solutions/01_x.ipynb") -> LabNotebook; closed (kernel too) after."""
    opened = []

    def _open(path: str):
        nb = lab_browser.open_notebook(lab, path)
        opened.append(nb)
        return nb

    yield _open
    for nb in opened:
        nb.close()
    lab.shutdown_kernels()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
