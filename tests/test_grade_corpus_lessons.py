"""The grading corpus, part 2: lessons 5 and 6 (whole lesson notebooks), the time limits and
the grader's memory. A module apart from test_grade_corpus.py (the lesson-1 corpus batch)
so that the two run side by side under pytest-xdist (``--dist loadscope``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_grade_corpus import (  # noqa: E402
    LIMITS,
    ROOT,
    _needs_isolation,
    _params,
    _selected,
    corpus,
)

from normcourse.grade import Limits, grade_many, grade_submission  # noqa: E402

pytestmark = pytest.mark.slow


def _assert_graded_as(r, case, lesson: str, max_score: float) -> None:
    """A whole-lesson corpus case: graded as its lesson, with its score, statuses, messages."""
    assert r.graded, r.error
    assert r.lesson == lesson
    got = {e.id: e.status for e in r.exercises}
    assert (r.score, r.max_score) == (case.score, max_score), (got, r.notes)
    for ex_id, status in case.statuses.items():
        assert got[ex_id] == status, (ex_id, r.exercises)
    for ex_id, text in case.messages.items():
        ex = next(e for e in r.exercises if e.id == ex_id)
        said = " | ".join([ex.summary] + [c["message"] for c in ex.cases])
        assert text in said, said


# --------------------------------------------------------------------------- lesson 5


def _graded(folder: Path, request, cases, write) -> dict:
    """The collected ``cases``, written by ``write(folder)`` and graded in one batch."""
    names = {c.name for c in _selected(request, cases)} & set(write(folder))
    results = grade_many([folder / f"{n}.ipynb" for n in sorted(names)], LIMITS, jobs=2)
    return {Path(r.submission).stem: r for r in results}


@pytest.fixture(scope="module")
def graded_l5(tmp_path_factory, request):
    return _graded(tmp_path_factory.mktemp("corpus_l5"), request, corpus.L5_CASES,
                   corpus.write_l5)


@pytest.mark.parametrize("case", _params(corpus.L5_CASES))
def test_lesson5_corpus_grade(case, graded_l5):
    _needs_isolation(case)
    _assert_graded_as(graded_l5[case.name], case, corpus.L5_LESSON, corpus.L5_MAX)


# --------------------------------------------------------------------------- lesson 6


@pytest.fixture(scope="module")
def graded_l6(tmp_path_factory, request):
    return _graded(tmp_path_factory.mktemp("corpus_l6"), request, corpus.L6_CASES,
                   corpus.write_l6)


@pytest.mark.parametrize("case", _params(corpus.L6_CASES))
def test_lesson6_corpus_grade(case, graded_l6):
    _assert_graded_as(graded_l6[case.name], case, corpus.L6_LESSON, corpus.L6_MAX)


def test_lesson6_imports_and_reveal_cells_run_in_the_sandbox(graded_l6):
    """``check`` and ``reveal`` do nothing in the grader's kernel, and raise nothing: no cell
    of the solutions is reported as using the course's functions."""
    notes = graded_l6["l6_solution"].notes
    assert not any("course's own functions" in n for n in notes), notes


# --------------------------------------------------------------------------- real notebooks


def _notebooks(folder):
    return sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))


def test_every_lesson_notebook_has_exercise_specs():
    """A lesson whose specs disappeared must fail here, not be skipped."""
    from helpers.exercises import LESSONS

    assert [p.stem for p in _notebooks("solutions")] == list(LESSONS)


def test_total_time_limit_keeps_the_points_earned_before(tmp_path):
    nb = corpus.solution_notebook()
    nb = corpus._insert_after(nb, "ex1_gradient_test", "import time\ntime.sleep(3)")
    nb = corpus._insert_after(nb, "ex1_gradient_test", "import time\ntime.sleep(3)")
    path = tmp_path / "slow.ipynb"
    path.write_bytes(corpus._dump(nb))
    r = grade_submission(path, Limits(timeout=8, cell_timeout=20))  # cells: 6 s
    assert r.graded
    got = {e.id: e.status for e in r.exercises}
    assert got["ex1_gradient"] == "passed" and r.score == 2, (got, r.notes)
    assert any("time limit" in n for n in r.notes), r.notes


SLOW_FIRST_CALL = '''import time as _time
_called = set()

def _slow_once(name):
    if name not in _called:
        _called.add(name)
        _time.sleep(4)
'''


def test_one_deadline_covers_the_cells_and_the_function_calls(tmp_path):
    """Each function sleeps 4 s on its first call: under --timeout 12 the grader stops
    calling them at 12 s (not 12 s + 4 x the per-call limit): the call running then is
    cut, and each exercise after it says it was not reached."""
    nb = corpus._drop_checks(corpus.solution_notebook())
    nb.cells.insert(2, corpus.new_code_cell(SLOW_FIRST_CALL))
    for ex_id, (fn, src) in corpus.SOLUTIONS.items():
        cell = nb.cells[corpus._cell_index(nb, ex_id)]
        cell.source = src.replace("    ### BEGIN SOLUTION\n",
                                  f"    ### BEGIN SOLUTION\n    _slow_once({fn!r})\n")
    path = tmp_path / "slow_calls.ipynb"
    path.write_bytes(corpus._dump(nb))
    r = grade_submission(path, Limits(timeout=12, cell_timeout=20))
    assert r.graded, r.error
    assert r.seconds < 12 + 5 + 4, r.seconds  # the deadline, the grace of an interrupt, slack
    said = [e.summary + " ".join(c["message"] for c in e.cases) for e in r.exercises]
    cut = [i for i, s in enumerate(said) if "before the submission's 12 s time limit" in s]
    assert r.exercises[0].status == "passed" and len(cut) == 1, said
    after = r.exercises[cut[0] + 1:]
    assert after and all(e.status == "error" and "not graded: the submission reached its 12 s "
                         "time limit" in e.summary for e in after), said


# --------------------------------------------------------------------------- grader memory

GRADE_AND_MEASURE = r'''
import json, re, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))
from normcourse.grade import Limits, grade_submission
r = grade_submission(sys.argv[1], Limits(timeout=120, cell_timeout=20))
with open("/proc/self/status") as f:  # this process's peak (ru_maxrss counts the parent's too)
    peak = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
print(json.dumps({"graded": r.graded, "error": r.error, "score": r.score, "notes": r.notes,
                  "rss_mb": peak}))
'''


def test_a_44_mb_code_cell_leaves_the_grader_small(tmp_path):
    """Found by attack: the solution plus one 44 MB cell `x = [1,1,...]` drove the grader to
    20.8 GB (ast.parse in its own process, once per exercise). Now the cell is reported, not
    parsed, and not run; the grader (held here to 4 GB of address space, so that the old code
    fails instead of filling the machine) stays under 500 MB. Figures: bench_grade.py."""
    import json
    import subprocess

    nb = corpus._insert_after(corpus.solution_notebook(), "ex1_predict_scale_test",
                              "x = [" + "1," * 22_000_000 + "]")
    path = tmp_path / "big.ipynb"
    path.write_bytes(corpus._dump(nb))
    assert path.stat().st_size > 44_000_000
    p = subprocess.run([sys.executable, "-c", GRADE_AND_MEASURE, str(path)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["graded"] and r["score"] == corpus.MAX, r
    assert any("code cell 14 was not run: its code is 44,000,006 characters long" in n
               for n in r["notes"]), r["notes"]
    assert r["rss_mb"] < 500, r


# --------------------------------------------------------------------------- lesson 3


@pytest.fixture(scope="module")
def graded_l3(tmp_path_factory, request):
    return _graded(tmp_path_factory.mktemp("corpus_l3"), request, corpus.L3_CASES,
                   corpus.write_l3)


@pytest.mark.parametrize("case", _params(corpus.L3_CASES))
def test_lesson3_corpus_grade(case, graded_l3):
    from helpers.exercises import lesson_exercises
    _assert_graded_as(graded_l3[case.name], case, corpus.L3_LESSON,
                      sum(e.points for e in lesson_exercises(corpus.L3_LESSON)))


@pytest.mark.full  # as the l3 cases it reads (outside CI_CASES)
def test_lesson3_interpretation_is_in_the_grades_and_the_feedback(graded_l3):
    """The written interpretation is kept as the learner wrote it (issue 19, item 2)."""
    from normcourse.grading.report import feedback_markdown
    r = graded_l3["l3_solution"]
    ex = next(e for e in r.exercises if e.id == "ex3_interpret_gap")
    assert ex.text == corpus.L3_TEXT and ex.points == 0
    assert corpus.L3_TEXT in feedback_markdown(r)
