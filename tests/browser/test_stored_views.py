"""Every solution opened in JupyterLab without running it, as a reader of a fresh clone would.

Untrusted, each stored figure shows and widgets show their plain-text fallback; trusted
(File > Trust Notebook), the widgets come back from the widget state saved by
``normcourse execute``. A module apart from test_jupyterlab.py (which runs the lessons), so
that the two run side by side under pytest-xdist (``--dist loadscope``).
"""

from __future__ import annotations

import pytest
from lab_driver import image_notes, image_problems, widget_problems
from test_jupyterlab import SOLUTIONS, _params, _report

# the stored views of every solution: -m full (the default run opens lesson 00 in
# test_jupyterlab.py's Run All; CI's time budget)
pytestmark = [pytest.mark.browser, pytest.mark.full]


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


@pytest.mark.per_lesson
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


@pytest.mark.per_lesson
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
