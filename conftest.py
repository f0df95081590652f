"""Collect notebooks for nbval: solutions/ strictly (outputs compared), lessons/ laxly.

The README's single ``pytest`` command passes ``--nbval`` and collects ``solutions/``
(``testpaths``): their stored outputs are compared. ``pytest lessons/`` runs the
learner notebooks in lax mode (no stored outputs); the test suite runs them from a
wheel install instead (tests/test_wheel.py). Notebooks elsewhere (e.g. the grading
corpus under tests/) are never run by nbval.
"""

import os
from pathlib import Path

import pytest

from normcourse.execute import REPRODUCIBLE_ENV

ROOT = Path(__file__).parent
os.environ.update(REPRODUCIBLE_ENV)  # the kernels nbval starts compute as the stored outputs did


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    result = yield
    if file_path.suffix != ".ipynb":
        return result
    rel = Path(file_path).resolve().relative_to(ROOT) if ROOT in Path(file_path).resolve().parents else None
    top = rel.parts[0] if rel and len(rel.parts) > 1 else None
    kept = []
    for node in result or []:
        if type(node).__name__ != "IPyNbFile":
            kept.append(node)
        elif top == "solutions":
            node.add_marker(pytest.mark.slow)  # executing a lesson is not inner-loop work
            kept.append(node)
        elif top == "lessons":
            node.compare_outputs = False
            node.add_marker(pytest.mark.slow)
            kept.append(node)
    return kept


#: the lessons whose whole-notebook checks (browser Run All, nbgrader, wheel runs) the
#: default run repeats; every lesson gets them in ``pytest -m full`` (CONTRIBUTING.md).
#: Every lesson is executed in the default run anyway: nbval re-runs each solution.
CI_LESSONS = ("00_start_here",)
OPT_IN = ("exhaustive", "full")  # markers that run only when named in -m


def _lesson_of(item) -> str | None:
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        name = Path(str(value)).stem
        if name[:2].isdigit() and name[2:3] == "_":
            return name
    return None


def pytest_collection_modifyitems(config, items):
    """A ``per_lesson`` test is ``full`` for the lessons outside CI_LESSONS (or outside its
    own ``per_lesson(ci=(...))``). ``exhaustive``
    (10,000 seeds per exercise) and ``full`` tests run only when asked for by name in ``-m``
    (e.g. ``pytest -m full``): another ``-m`` expression leaves them out."""
    for item in items:
        per_lesson = item.get_closest_marker("per_lesson")
        if per_lesson and _lesson_of(item) not in per_lesson.kwargs.get("ci", CI_LESSONS):
            item.add_marker(pytest.mark.full)
    asked = config.getoption("markexpr") or ""
    dropped = [i for i in items if any(i.get_closest_marker(m) and m not in asked
                                       for m in OPT_IN)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = {id(i) for i in dropped}
        items[:] = [i for i in items if id(i) not in gone]
