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


def pytest_collection_modifyitems(config, items):
    """``exhaustive`` tests (10,000 seeds per exercise) run only when asked for by name in
    ``-m`` (e.g. ``pytest -m exhaustive``): another ``-m`` expression leaves them out."""
    if "exhaustive" in (config.getoption("markexpr") or ""):
        return
    dropped = [i for i in items if i.get_closest_marker("exhaustive")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if not i.get_closest_marker("exhaustive")]
