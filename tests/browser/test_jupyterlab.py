"""Every lesson notebook run, and every solution opened, in a real JupyterLab in headless Chromium.

What a learner sees, which nbval cannot: Run All of a lesson reaches the last cell, errors are only
the lessons' one-line "not done yet" verdicts, every widget renders (no "Error
displaying widget"), each slider moved with the keyboard changes the figure it drives,
and a solution opened without running shows its stored figures (and, trusted, its stored
widgets). The solutions are not run here: nbval runs each of them once and compares
every output with the stored one. A full-notebook
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


def _stored_problems(cells) -> list[str]:
    problems = image_problems(cells)
    code = [c for c in cells if c["type"] == "code" and c["source"].strip()]
    if any(c["execution_count"] is None for c in code):
        problems.append("the solution is stored with unexecuted code cells (run "
                        "`normcourse execute` on it)")
    plotting = [c for c in code if "plt.show()" in c["source"]]
    stored = sum(1 for c in cells for im in c.get("images", []))
    if plotting and not stored:
        problems.append(f"{len(plotting)} plotting cell(s) but no stored figure")
    return problems


@pytest.mark.parametrize("path", _params(SOLUTIONS, "solutions"))
def test_stored_figures_visible(path, open_notebook, screenshots):
    """A reader browsing a freshly cloned solution (not run, not trusted) sees every
    stored figure; widgets show their plain-text fallback (listed as notes)."""
    stem = path.replace("/", "__").removesuffix(".ipynb")
    nb = open_notebook(path)
    nb.wait_widgets_rendered()
    cells = nb.cells()
    nb.screenshot_full(screenshots / f"{stem}__stored.png")
    problems = _stored_problems(cells)
    for c in cells:
        for text in ("Error displaying widget", "model not found"):
            if c["type"] == "code" and text in c["text"]:
                problems.append(f"cell {c['index']} shows {text!r}")
    for note in image_notes(cells):
        print(f"{path} (stored, untrusted): note: {note}")
    assert not problems, _report(path, problems, nb)


@pytest.mark.parametrize("path", _params(SOLUTIONS, "solutions"))
def test_stored_widgets_visible_when_trusted(path, lab, open_notebook, screenshots):
    """Trusted (File > Trust Notebook), not run: the widgets come back from the widget
    state saved by ``normcourse execute``, with their figures."""
    stem = path.replace("/", "__").removesuffix(".ipynb")
    trusted = f"_trusted/{path}"
    target = lab.root_dir / trusted
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((lab.root_dir / path).read_bytes())
    lab.trust(trusted)
    nb = open_notebook(trusted)
    nb.wait_widgets_rendered()
    cells = nb.cells()
    nb.screenshot_full(screenshots / f"{stem}__stored_trusted.png")
    problems = _stored_problems(cells) + widget_problems(cells)
    for note in image_notes(cells):
        print(f"{path} (stored, trusted): note: {note}")
    assert not problems, _report(path, problems, nb)
