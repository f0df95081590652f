"""Skipping the course cells no grade depends on (normcourse/grading/skipping.py, flow.py).

Unit tests of the analysis on small notebooks built here, then the equivalence on the
real lessons: every solution and every handout grades to the same points and verdicts
with skipping and with ``--run-all-cells`` (lesson 1 by default, every
lesson in ``-m full``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from normcourse.grade import Limits, grade_many
from normcourse.grading import flow, skipping
from normcourse.grading.load import Cell, Submission, load

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
IMPORTS = "import numpy as np\nimport matplotlib.pyplot as plt"


@functools.cache
def handout_plans() -> dict:
    """lesson -> (its handout, loaded; the plan for it): read once for the tests below."""
    out = {}
    for lesson in LESSONS:
        sub = load(ROOT / "lessons" / f"{lesson}.ipynb")
        out[lesson] = (sub, skipping.plan(sub))
    return out


def _sub(cells, course_extra=()):
    """A submission of (source, kind) cells, kind "course", "exercise", "check" or "own";
    the course's cells are the "course" ones and ``course_extra`` (a cell later edited)."""
    nb = {"cells": []}
    for _, kind in cells:
        meta = {}
        if kind in ("exercise", "check"):
            meta = {"nbgrader": {"grade_id": f"x_{len(nb['cells'])}",
                                 "solution": kind == "exercise", "grade": kind == "check"}}
        nb["cells"].append({"cell_type": "code", "metadata": meta})
    code = [src for src, _ in cells]
    sub = Submission(Path("x.ipynb"), "00_x", code, nb,
                     [Cell("ok", flow=flow.statements(src)) for src in code])
    course = frozenset(skipping._digest(src) for src, kind in cells if kind == "course")
    return sub, course | {skipping._digest(src) for src in course_extra}


def _plan(cells, course_extra=()):
    return skipping.plan(*_sub(cells, course_extra))


def test_the_facts_of_a_statement():
    (s,) = flow.statements("x = np.mean(y, axis=0)")
    assert s["binds"] == ["x"] and s["loads"] == ["np", "y"]  # "mean" is an attribute
    assert not s["effect"] and not s["dynamic"]
    (d,) = flow.statements("def f(a, eps=1e-5):\n    return a / SCALE + eps")
    assert d["binds"] == ["f"] and d["loads"] == ["SCALE"] and d["pure"]
    assert not flow.statements("def f(a, seen=[]):\n    return a")[0]["pure"]
    assert flow.statements("np.random.seed(0)")[0]["effect"]
    assert not flow.statements("rng = np.random.default_rng(0)")[0]["effect"]


def test_course_cells_no_check_needs_are_skipped_import_by_import():
    plan = _plan([(IMPORTS, "course"), ("X = np.ones(3)\nplt.plot(X)", "course"),
                  ("def f(a):\n    return np.sum(a)", "exercise"), ('check("x", f)', "check")])
    assert plan[1] == ""  # the demo: skipped
    assert plan[0].strip() == "import numpy as np"  # pyplot is not needed


def test_a_cell_a_check_needs_is_kept():
    plan = _plan([(IMPORTS, "course"), ("SCALE = 2.0", "course"),
                  ("SCALES = [SCALE]", "course"), ("SCALES.append(3.0)", "course"),
                  ("TOTAL = sum(SCALES)", "course"), ("OTHER = np.ones(2) * 3", "course"),
                  ("def f(a):\n    return a * SCALES[-1]", "exercise"),
                  ('check("x", f)', "check")])
    assert 1 not in plan and 2 not in plan  # bind what f reads
    assert 3 not in plan and 4 not in plan  # may change it (a method called on it, a call)
    assert plan[5] == ""  # neither


def test_a_statement_before_a_kept_one_in_its_cell_runs_too():
    """It may raise (a course function hidden while grading), and so stop the cell before
    the kept statement, as when every cell runs; an import does not."""
    plan = _plan([(IMPORTS + "\nfast = np.ones(2)\nslow = sum(range(9))\nSCALE = 2.0\n"
                   "late = 1", "course"), ("def f(a):\n    return a * SCALE", "exercise")])
    assert plan[0].split("\n") == ["import numpy as np", "fast = np.ones(2)",
                                    "slow = sum(range(9))", "SCALE = 2.0"]


def test_dynamic_access_in_a_cell_that_runs_skips_nothing():
    base = [(IMPORTS, "course"), ("X = np.ones(3)", "course"),
            ("def f(a):\n    return a", "exercise")]
    assert _plan(base)[1] == ""
    for own in ('print(globals()["X"])', "name = 'X'\nv = getattr(np, name)",
                "exec('print(X)')", "%timeit f(1)", "from numpy import *",
                "import sys\nsys.modules['__main__'].X"):
        assert _plan([*base, (own, "own")]) == {}, own


def test_frames_reached_through_a_module_attribute_are_dynamic_and_np_stack_is_not():
    base = [(IMPORTS, "course"), ("X = np.ones(3)", "course"),
            ("def f(a):\n    return a", "exercise")]
    assert _plan([*base, ("Y = np.stack([np.ones(2)] * 2)", "own")])[1] == ""  # arrays
    for own in ("frames = np.inspect.stack()", "from numpy import inspect",
                "import traceback\nf = next(traceback.walk_stack(None))[0]",
                "t = x.traceback.walk_stack(None)", "g = (i for i in [1])\nc = g.cr_frame"):
        assert _plan([*base, (own, "own")]) == {}, own


def test_seed_is_an_effect_on_a_module_not_on_a_computed_value():
    for call in ("np.random.seed(0)", "seed(0)", "random.seed(0)", "rs.seed(1)"):
        assert flow.statements(call)[0]["effect"], call
    assert not flow.statements("r = runs[0.1].seed(0)")[0]["effect"]  # one seed's run


def test_every_lesson_skips_at_least_a_quarter_of_its_cells():
    """A course cell the analysis cannot follow (``globals()``, a call it takes for a global
    effect) makes the grader run every cell of every submission of its lesson: lessons 2
    and 5 did so unnoticed (``np.stack`` read as ``inspect.stack``, ``run.seed(0)`` as
    ``np.random.seed``) until this test."""
    for lesson, (sub, plan) in handout_plans().items():
        skipped, _ = skipping.summary(sub, plan)
        assert skipped >= len(sub.code_cells) // 4, (lesson, skipped, len(sub.code_cells))


def test_a_learner_edited_course_cell_is_not_a_course_cell_and_runs():
    original = "X = np.ones(3)"
    plan = _plan([(IMPORTS, "course"), (original + "  # edited", "own"),
                  ("def f(a):\n    return a", "exercise")], course_extra=[original])
    assert 1 not in plan  # runs as written
    assert plan[0].strip() == "import numpy as np"  # and what it reads runs before it


def test_global_effects_always_run():
    plan = _plan([(IMPORTS, "course"), ("np.random.seed(0)", "course"),
                  ('plt.rcParams["figure.dpi"] = 80', "course"), ("np.x_flag = 1", "course"),
                  ("v = np.random.normal()", "course"), ("w = np.zeros(2)", "course"),
                  ("def f(a):\n    return a", "exercise")])
    assert set(plan) == {5}


def test_the_course_style_is_no_effect_a_grade_needs():
    """``use_course_style()`` changes rcParams through a call, which only figures read: a
    graded kernel that skips it (and its import) never imports matplotlib (0.3 CPU s of
    about 1.2 per submission of lesson 0)."""
    plan = _plan([("import numpy as np\nfrom helpers.plots.style import use_course_style\n"
                   "use_course_style()", "course"), ("def f(a):\n    return np.sum(a)", "exercise")])
    assert plan[0].strip() == "import numpy as np"
    for lesson, (sub, plan) in handout_plans().items():
        kept = "\n".join(plan.get(i, src) for i, src in enumerate(sub.code_cells))
        assert "use_course_style()" not in kept and "matplotlib" not in kept, lesson


def test_a_function_with_state_keeps_the_demos_that_call_it():
    demo = ("out = f(np.ones(2))", "course")
    pure = ("def f(a):\n    return a", "exercise")
    assert _plan([(IMPORTS, "course"), pure, demo])[2] == ""
    for stateful in ("def f(a, seen=[]):\n    seen.append(1)\n    return a * len(seen)",
                     "CALLS = []\ndef f(a):\n    CALLS.append(1)\n    return a * len(CALLS)",
                     "def f(a):\n    global N\n    N = 1\n    return a"):
        assert 2 not in _plan([(IMPORTS, "course"), (stateful, "exercise"), demo]), stateful


def test_no_handout_skips_nothing(tmp_path):
    sub = load(ROOT / "solutions" / f"{LESSONS[0]}.ipynb")
    assert skipping.plan(sub, frozenset()) == {}
    assert skipping.course_cells("no_such_lesson") == frozenset()


def _verdicts(r) -> dict:
    assert r.graded, r.error
    return {"score": (r.score, r.max_score),
            **{e.id: (e.points, e.status, e.summary,
                      [(c["passed"], c.get("mistake"), c["message"]) for c in e.cases])
               for e in r.exercises}}


@pytest.mark.slow
@pytest.mark.per_lesson(ci=tuple(LESSONS[:1]))  # CI: lesson 00 (suite budget); -m full: all
@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_and_handout_grade_the_same_with_and_without_skipping(lesson):
    paths = [ROOT / "solutions" / f"{lesson}.ipynb", ROOT / "lessons" / f"{lesson}.ipynb"]
    assert any(skipping.plan(load(p)) for p in paths)  # something is skipped
    skipped = grade_many(paths, Limits(), jobs=2, seed=3)
    full = grade_many(paths, Limits(run_all_cells=True), jobs=2, seed=3)
    for a, b in zip(skipped, full, strict=True):
        assert _verdicts(a) == _verdicts(b), a.submission


@pytest.mark.full  # 6 gradings of a small lesson: about 30 s on a busy machine
def test_kernels_started_ahead_grade_the_same_and_leave_nothing(tmp_path):
    """--kernels-ahead (grading/ahead.py): each submission still gets a new kernel; the
    spare never taken is closed."""
    from normcourse.grading import session

    paths = []
    for i in range(3):
        p = tmp_path / f"s{i}" / f"{LESSONS[0]}.ipynb"
        p.parent.mkdir()
        p.write_bytes((ROOT / ("solutions" if i % 2 else "lessons") / p.name).read_bytes())
        paths.append(p)
    ahead = grade_many(paths, Limits(), jobs=1, seed=3, ahead=1)
    plain = grade_many(paths, Limits(), jobs=1, seed=3)
    assert [_verdicts(r) for r in ahead] == [_verdicts(r) for r in plain]
    assert not session._LIVE  # every kernel closed, the spare too


@pytest.mark.full  # starts a sandboxed kernel: a few seconds
def test_a_spare_kernel_is_alive_when_taken_in_the_sandbox():
    """Found by attack: bwrap's --die-with-parent follows the *thread* that started the
    kernel, so a spare whose starter thread returned was dead (exit -9) when taken, and
    --kernels-ahead never handed one out. The starter now lives as long as its kernel."""
    import time

    from normcourse.grading import ahead

    spares = ahead.Spares(Limits(), 1)  # the default isolation (bwrap where it exists)
    try:
        deadline = time.monotonic() + 60
        while spares.ready.empty() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # the starter thread has long finished starting it
        kernel = spares.ready.get_nowait()
        assert kernel.alive(), f"spare dead when taken (exit code {kernel.proc.poll()})"
        ahead._discard(kernel)
    finally:
        spares.close()


def test_no_more_spares_start_than_submissions_will_take(monkeypatch):
    """--kernels-ahead N starts at most as many spares as there are submissions beyond
    --jobs (those start their own kernels while the spares start): grading one notebook
    starts none, and a spare taken is replaced only while submissions are left."""
    from normcourse.grading import ahead

    started = []
    monkeypatch.setattr(ahead.Spares, "_starter", lambda self: started.append(1))
    for n, wanted, expected in ((2, None, 2), (2, 5, 2), (2, 1, 1), (2, 0, 0), (2, -1, 0)):
        started.clear()
        spares = ahead.Spares(Limits(), n, wanted)
        for t in spares.threads:
            t.join()
        assert len(started) == expected, (n, wanted)
        spares.ready.put(type("Ready", (), {"alive": lambda self: True})())
        assert spares.take() is not None  # a replacement starts only while spares are wanted
        for t in spares.threads:
            t.join()
        left = expected + 1 if wanted is None or wanted > n else expected
        assert len(started) == left, (n, wanted)
        spares.close()
