"""Our solution notebooks are valid nbgrader source notebooks (checked with nbgrader itself).

In a temporary nbgrader course folder:

- ``nbgrader generate_assignment`` accepts every solutions/*.ipynb and its
  student version has the same cells as ``normcourse build``'s lesson (after
  dropping what nbgrader adds: checksums, cell_type, deletable/editable flags
  and fresh cell ids);
- ``nbgrader autograde`` gives every solution full points, and the untouched start-here
  lesson zero on every autograded cell (the default run autogrades conftest.CI_LESSONS,
  ``pytest -m full`` every lesson).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from normcourse.build import lesson_from_solution

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("nbgrader", path=str(BIN)) is None,
                                 reason="nbgrader is not installed (pip install -e '.[test]')")]


def _nbgrader(course: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    p = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, text=True,
                       capture_output=True, timeout=timeout)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "ERROR" not in p.stderr, p.stderr[-3000:]
    return p


@pytest.fixture(scope="module")
def course(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("nbgrader_course")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'normalization-course'\n"
        "c.ExecutePreprocessor.timeout = 600\n")
    wanted = {str(getattr(item, "callspec", None) and item.callspec.params.get("solution"))
              for item in request.session.items}  # the lessons this run tests
    for sol in [s for s in SOLUTIONS if str(s) in wanted]:
        (root / "source" / sol.stem).mkdir(parents=True)
        shutil.copy(sol, root / "source" / sol.stem / sol.name)
    # nbgrader's own generate_assignment, for every lesson in one process (one start-up)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic
    names = sorted(p.name for p in (root / "source").iterdir())
    p = subprocess.run([sys.executable, "-c", GENERATE, *names], cwd=root,
                       env=env, text=True, capture_output=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return root


GENERATE = """
import sys
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

config = Config()
config.CourseDirectory.root = "."
api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
for name in sys.argv[1:]:
    result = api.generate_assignment(name, force=True)
    assert result["success"], (name, result.get("error"), result.get("log", "")[-3000:])
    assert "ERROR" not in result.get("log", ""), result["log"][-3000:]
"""


def _normalised(nb) -> list:
    cells = []
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.items() if k not in ("deletable", "editable")}
        if "nbgrader" in meta:
            meta["nbgrader"] = {k: v for k, v in meta["nbgrader"].items()
                                if k not in ("checksum", "cell_type")}
        cells.append((cell.cell_type, cell.source, meta, cell.get("outputs", []),
                      cell.get("execution_count")))
    return cells


@pytest.mark.per_lesson
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_generate_assignment_matches_our_lesson(course, solution):
    released = nbformat.read(course / "release" / solution.stem / solution.name, as_version=4)
    ours = lesson_from_solution(nbformat.read(solution, as_version=4), solution.name)
    assert _normalised(released) == _normalised(ours)


def _cell_scores(course: Path, assignment: str, notebook: str, student: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(notebook, assignment, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades}


#: the untouched lesson autograded alongside its solution: one is enough to show that
#: nbgrader scores a raising check cell zero (every lesson's unsolved checks raise the same
#: NotDoneYet, as the wheel test and the browser test see when they run every lesson)
UNTOUCHED = {"00_start_here"}


@pytest.mark.per_lesson(ci=("00_start_here",))  # the lesson with a handout scored zero too
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_autograde_full_points_for_solution_zero_for_lesson(course, solution):
    lesson = ROOT / "lessons" / solution.name
    untouched = lesson if lesson.exists() else course / "release" / solution.stem / solution.name
    students = [("solution", solution)]
    if solution.stem in UNTOUCHED:
        students.append(("untouched", untouched))
    for student, nb in students:
        dest = course / "submitted" / student / solution.stem
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(nb, dest / solution.name)
    _nbgrader(course, "autograde", solution.stem, "--create", "--force")
    full = _cell_scores(course, solution.stem, solution.stem, "solution")
    assert full, "no autograded cells"
    assert all(score == top for score, top in full.values()), full
    if solution.stem in UNTOUCHED:
        zero = _cell_scores(course, solution.stem, solution.stem, "untouched")
        assert zero.keys() == full.keys()
        assert all(score == 0 for score, _ in zero.values()), zero
