"""The harness checks itself: notebooks broken on purpose must be reported.

Each broken notebook (tests/browser/selftest_notebooks.py) differs from a healthy one in
one way a learner would notice; the harness must report exactly that, and report
nothing for the healthy one.
"""

from __future__ import annotations

import pytest
from lab_driver import image_problems, run_problems, slider_problems, widget_problems

pytestmark = pytest.mark.browser


def _run(open_notebook, name):
    nb = open_notebook(f"_selftest/{name}.ipynb")
    nb.run_all(timeout=180)
    return nb, nb.cells()


def test_healthy_lesson_passes(open_notebook):
    nb, cells = _run(open_notebook, "healthy_lesson")
    assert run_problems(cells, "lesson") == []
    assert widget_problems(cells) == []
    assert image_problems(cells) == []
    sliders = nb.exercise_sliders()
    assert [r.changed for r in sliders] == [True, True], sliders
    assert slider_problems(sliders) == []
    # the same notebook judged as a solution: the verdict is an error there
    as_solution = run_problems(cells, "solution")
    assert len(as_solution) == 1 and "NotDoneYet" in as_solution[0], as_solution


def test_healthy_solution_passes(open_notebook):
    nb, cells = _run(open_notebook, "healthy_solution")
    assert run_problems(cells, "solution") == []
    assert widget_problems(cells) == []
    assert slider_problems(nb.exercise_sliders()) == []


def test_image_never_updated_is_reported(open_notebook):
    nb, cells = _run(open_notebook, "image_never_updated")
    assert run_problems(cells, "solution") == []
    problems = slider_problems(nb.exercise_sliders())
    assert len(problems) == 1 and "slider 0 (freq)" in problems[0], problems
    assert "did not update" in problems[0]


def test_output_not_displayed_is_reported(open_notebook):
    nb, cells = _run(open_notebook, "output_not_displayed")
    problems = slider_problems(nb.exercise_sliders())
    assert len(problems) == 1 and "slider 1 (scale)" in problems[0], problems


def test_model_not_found_is_reported(open_notebook):
    _nb, cells = _run(open_notebook, "model_not_found")
    problems = widget_problems(cells)
    assert problems and all("cell 4" in p for p in problems), problems
    assert any("Error displaying widget" in p for p in problems), problems


def test_run_all_stopping_halfway_is_reported(open_notebook):
    _nb, cells = _run(open_notebook, "stops_halfway")
    problems = run_problems(cells, "lesson")
    assert any("ValueError: oops" in p for p in problems), problems
    assert any("did not finish" in p and "last cell reached" in p for p in problems), problems


def test_lesson_with_a_real_error_is_reported(open_notebook):
    _nb, cells = _run(open_notebook, "lesson_wrong_error")
    problems = run_problems(cells, "lesson")
    assert len(problems) == 1 and "ValueError: bad check" in problems[0], problems


@pytest.mark.parametrize("name, broken", [("stored_figure_ok", False),
                                          ("stored_figure_broken", True)])
def test_stored_figure_check(open_notebook, name, broken):
    nb = open_notebook(f"_selftest/{name}.ipynb")
    nb.wait_widgets_rendered()
    problems = image_problems(nb.cells())
    assert bool(problems) == broken, problems
