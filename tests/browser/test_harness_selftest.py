"""The harness checks itself: notebooks broken on purpose must be reported.

Each broken notebook (tests/browser/selftest_notebooks.py) differs from a healthy one in
ways a learner would notice; the harness must report exactly those, and nothing for the
healthy one.
"""

from __future__ import annotations

import pytest
from lab_driver import image_problems, run_problems, slider_problems, widget_problems

# the harness proves it can fail: -m full (before changing tests/browser; CI's time budget)
pytestmark = [pytest.mark.browser, pytest.mark.full]


def _run(open_notebook, name):
    nb = open_notebook(f"_selftest/{name}.ipynb")
    nb.run_all(timeout=180)
    return nb, nb.cells()


def test_healthy_notebook_passes(open_notebook):
    nb, cells = _run(open_notebook, "healthy_lesson")
    assert run_problems(cells, "lesson") == []
    assert widget_problems(cells) == []
    assert image_problems(cells) == []
    assert any("last cell reached" in c.get("text", "") for c in cells)  # helpers imported
    sliders = nb.exercise_sliders()
    assert [(r.value_before, r.value_after, r.changed) for r in sliders] == [
        ("1", "2", True), ("1.00", "1.50", True)], sliders
    assert slider_problems(sliders) == []
    # the same notebook judged as a solution: the "not done yet" verdict is an error there
    as_solution = run_problems(cells, "solution")
    assert len(as_solution) == 1 and "NotDoneYet" in as_solution[0], as_solution


def test_sliders_that_change_nothing_are_reported(open_notebook):
    nb, cells = _run(open_notebook, "broken_sliders")
    assert run_problems(cells, "solution") == []
    assert widget_problems(cells) == []
    problems = slider_problems(nb.exercise_sliders(settle_timeout=2))
    assert len(problems) == 2, problems
    assert "slider 0 (freq)" in problems[0] and "did not update" in problems[0]  # Image
    assert "slider 1 (scale)" in problems[1] and "did not update" in problems[1]  # Output


def test_model_not_found_is_reported(open_notebook):
    _nb, cells = _run(open_notebook, "model_not_found")
    problems = widget_problems(cells)
    assert problems and all("cell 4 " in p for p in problems), problems
    assert any("Error displaying widget" in p for p in problems), problems


def test_errors_and_unfinished_cells_are_reported(open_notebook):
    _nb, cells = _run(open_notebook, "broken_run")
    problems = run_problems(cells, "lesson")
    assert len(problems) == 3, problems
    assert "ValueError: bad check" in problems[0]  # tagged: Run All went on
    assert "RuntimeError: stops here" in problems[1]  # untagged: Run All stopped
    assert "did not finish" in problems[2] and "last cell reached" in problems[2]


def test_broken_stored_figure_is_reported(open_notebook):
    nb = open_notebook("_selftest/stored_figures.ipynb")
    nb.wait_widgets_rendered()
    problems = image_problems(nb.cells())
    assert len(problems) == 1 and "cell 2 " in problems[0], problems
    assert "did not load" in problems[0]


def test_breaking_a_course_widget_is_reported(lab, open_notebook):
    """The same on a real course notebook: a temporary copy of solutions/00_start_here
    whose demo widget shows only its slider (the figure it drives is never displayed)."""
    import nbformat

    source = lab.root_dir / "solutions" / "00_start_here.ipynb"
    if not source.exists():
        pytest.skip("no solutions/00_start_here.ipynb")
    nb = nbformat.read(source, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip().endswith(
        "demo_widget()")]
    if not cells:
        pytest.skip("solutions/00_start_here.ipynb has no cell ending with demo_widget()")
    cells[0].source = cells[0].source.rstrip().removesuffix("demo_widget()") + (
        "demo_widget().widget.children[0]  # only the slider: its figure is never displayed")
    nbformat.write(nb, lab.root_dir / "_selftest" / "course_figure_not_displayed.ipynb")
    broken, cells = _run(open_notebook, "course_figure_not_displayed")
    assert run_problems(cells, "solution") == []
    problems = slider_problems(broken.exercise_sliders(settle_timeout=2))
    assert len(problems) == 1 and "did not update" in problems[0], problems
