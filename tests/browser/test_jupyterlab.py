"""Every lesson notebook run, and every solution opened, in a real JupyterLab in headless Chromium.

What a learner sees, which nbval cannot: Run All of a lesson reaches the last cell, errors are only
the lessons' one-line "not done yet" verdicts, every widget renders (no "Error
displaying widget"), each slider moved with the keyboard changes the figure it drives,
and a solution opened without running shows its stored figures (and, trusted, its stored
widgets: tests/browser/test_stored_views.py, a module of its own so that pytest-xdist
can run it beside this one). The solutions are not run here: nbval runs each of them
once and compares every output with the stored one. A full-notebook
screenshot of each run goes to artifacts/screenshots/ (look at them).

Run alone: ``pytest tests/browser`` (or ``pytest -m browser``; ``-m "not browser"`` skips it).
"""

from __future__ import annotations

import pytest
from lab_driver import (
    REPO,
    RUN_TIMEOUT,
    TIMINGS,
    image_notes,
    image_problems,
    run_problems,
    slider_problems,
    widget_problems,
)

pytestmark = pytest.mark.browser

SOLUTIONS = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "solutions").glob("*.ipynb"))
LESSONS = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "lessons").glob("*.ipynb"))


def _params(paths, what):
    return [pytest.param(p, id=p) for p in paths] or [
        pytest.param(None, id=f"no-{what}", marks=pytest.mark.skip(reason=f"no {what} yet"))]


def _report(path, problems, nb) -> str:
    lines = [f"{path}: {len(problems)} problem(s) a learner would see:"]
    lines += [f"  - {p}" for p in problems]
    if nb.page_errors:
        lines.append("  page errors: " + "; ".join(nb.page_errors[:5]))
    widget_console = [m for m in nb.console if "widget" in m.lower()]
    if widget_console:
        lines.append("  widget console errors: " + "; ".join(m[:200] for m in widget_console[:5]))
    return "\n".join(lines)


@pytest.mark.per_lesson
@pytest.mark.parametrize("path", _params(LESSONS, "lessons"))
def test_run_all(path, open_notebook, screenshots, record_property):
    kind = "solution" if path.startswith("solutions/") else "lesson"
    stem = path.replace("/", "__").removesuffix(".ipynb")
    nb = open_notebook(path)
    seconds = nb.run_all(timeout=RUN_TIMEOUT)
    record_property("run_all_seconds", round(seconds, 2))
    TIMINGS.append((path, seconds))
    print(f"{path}: Run All -> last cell finished in {seconds:.1f} s")
    cells = nb.cells()
    nb.screenshot_full(screenshots / f"{stem}.png")
    problems = run_problems(cells, kind) + widget_problems(cells) + image_problems(cells)
    sliders = nb.exercise_sliders()
    for r in sliders:
        (screenshots / f"{stem}__slider{r.index}_before.png").write_bytes(r.before_png)
        (screenshots / f"{stem}__slider{r.index}_after.png").write_bytes(r.after_png)
    problems += slider_problems(sliders)
    for note in image_notes(cells):
        print(f"{path}: note: {note}")
    assert not problems, _report(path, problems, nb)
