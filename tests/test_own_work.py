"""One own-work verdict: the learner's check, the grader's analysis of the source and the
grader's kernel-side second line agree on which code is the course's own (issue 17).

:func:`helpers.answers.guard.course_function` decides, for all three: the learner's check
asks it about every function entered (``guard.watching``); the grader asks it about every
code object compiled from the submission's cells (:mod:`normcourse.grading.scan`, then
:func:`normcourse.grading.code.course_copy` follows names), and, in the kernel, about what the
graded function reaches (:func:`normcourse.grading.inkernel.course_reached`).
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import helpers.answers.l03 as course3
from helpers.answers import guard
from helpers.exercises import evaluate, lesson_exercises
from normcourse.grading import code, inkernel, load, scan

ROOT = Path(__file__).resolve().parents[1]
COPY = inspect.getsource(course3.batchnorm_forward)
HONEST = '''def batchnorm_forward(X, gamma, beta, eps=1e-5):
    """Mine."""
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (X, x_hat, mean, var, gamma, eps)
'''
INDENTED = "\n".join("    " + line for line in COPY.splitlines())
USED = "batchnorm_forward"
#: name -> (cells, what the learner's check says, the grader's source analysis, its kernel side)
NOTEBOOKS = {
    "honest": ([HONEST], "", "", ""),
    "pasted": ([COPY], USED, USED, USED),
    "pasted_in_a_block": (["if True:\n" + INDENTED], USED, USED, USED),
    "nested_in_its_own": (["def batchnorm_forward(X, gamma, beta, eps=1e-5):\n" + INDENTED
                           + "\n    return batchnorm_forward(X, gamma, beta, eps)\n"],
                          USED, USED, USED),
    "kept_in_a_dict": ([COPY, "_kept = {'f': batchnorm_forward}",
                        "def batchnorm_forward(X, gamma, beta, eps=1e-5):\n"
                        "    return _kept['f'](X, gamma, beta, eps)"], USED, USED, USED),
    "method_of_a_class": (["class _K:\n" + INDENTED.replace("    def ", "    @staticmethod\n"
                                                          "    def ", 1),
                           "def batchnorm_forward(X, gamma, beta, eps=1e-5):\n"
                           "    return _K.batchnorm_forward(X, gamma, beta, eps)"],
                          USED, USED, USED),
    "partial_of_a_copy": ([COPY, "import functools\n_f = functools.partial(batchnorm_forward)",
                           "def batchnorm_forward(X, gamma, beta, eps=1e-5):\n"
                           "    return _f(X, gamma, beta, eps)"], USED, USED, USED),
    "callable_instance": (["class _C:\n" + INDENTED.replace("def batchnorm_forward(",
                                                             "def __call__(self, ", 1),
                           "batchnorm_forward = _C()"], "", "", ""),
    "held_by_an_instance": ([COPY, "class _C:\n    pass\n_c = _C()\n_c.f = batchnorm_forward",
                             "def batchnorm_forward(X, gamma, beta, eps=1e-5):\n"
                             "    return _c.f(X, gamma, beta, eps)"], USED, USED, USED),
    # found by attack: an object that raises when looked at stopped the kernel side's search
    # before it reached the exec'd copy; a metaclass lying about __module__ hid an instance
    "exec_behind_traps": ([f"_ns = {{'np': np}}\nexec({COPY!r}, _ns)",
                           "class _Raise:\n    @property\n    def __class__(self):\n"
                           "        raise RuntimeError('no')\n"
                           "    def __getattribute__(self, name):\n        raise RuntimeError(name)",
                           "class _Meta(type):\n    def __getattribute__(cls, name):\n"
                           "        if name == '__module__':\n            return 'numpy'\n"
                           "        return super().__getattribute__(name)",
                           "class _Holder(metaclass=_Meta):\n    pass",
                           "_h = _Holder()\n_h.f = _ns['batchnorm_forward']",
                           "_stuff = [_h, _Raise()]",
                           "def batchnorm_forward(X, gamma, beta, eps=1e-5):\n"
                           "    return _stuff[0].f(X, gamma, beta, eps)"], USED, "", USED),
    # found by attack: an exec'd copy called through a name built at run time was reached by
    # no name; a copy keeps the course function's name, and the kernel side looks for one
    # named like the exercise's function anywhere in the namespace
    "exec_called_by_a_built_name": ([f"_ns = {{'np': np}}\nexec({COPY!r}, _ns)\n"
                                     "_store = {'k': _ns}",
                                     "def batchnorm_forward(X, gamma, beta, eps=1e-5):\n"
                                     "    return globals()['_st' + 'ore']['k']"
                                     "['batchnorm' + '_forward'](X, gamma, beta, eps)"],
                                    USED, "", USED),
    # the course's own function kept for a demonstration, not used by the learner's own
    "course_function_kept_for_a_demo": (["from helpers.answers.l03 import batchnorm_forward "
                                         "as course_bn", HONEST], "", "", ""),
    # limits, written down in docs/teachers.md: exec of a string is seen at run time only;
    # a copy with one name or constant changed is the learner's own to all three
    "exec_of_a_string": ([f"_ns = {{'np': np}}\nexec({COPY!r}, _ns)\n"
                          "batchnorm_forward = _ns['batchnorm_forward']"], USED, "", USED),
    "one_name_changed": ([COPY.replace("x_hat", "xh")], "", "", ""),
}


def _static(cells: list[str], function: str) -> str:
    """The grader's verdict from the source, with the child's analysis run in-process."""
    table = guard.course_table()
    facts = [scan.analyse(src, table) for src in cells]
    copies = any(f.get("copies") for f in facts)
    analysed = [load.Cell(f["status"], f.get("message", ""), f.get("defines", []),
                          scan.bindings(src, table) if copies and f["status"] == "ok" else [])
                for src, f in zip(cells, facts, strict=True)]
    sub = load.Submission(Path("x.ipynb"), "03_batch_norm", cells, {"cells": []}, analysed)
    return code.course_copy(sub, function)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_check_and_the_grader_agree(name):
    cells, check_says, source_says, kernel_says = NOTEBOOKS[name]
    namespace = {"np": np, "__name__": "__main__"}
    for cell in cells:
        exec(compile(cell, "<cell>", "exec"), namespace)
    fn = namespace["batchnorm_forward"]
    report = evaluate("ex3_bn_forward", fn, own_work=True)
    said = report.results[0].message if report.status == "failed" else ""
    assert said == (guard.REASON.format(name=check_says) if check_says else ""), said
    assert _static(cells, "batchnorm_forward") == source_says
    assert inkernel.course_reached(fn, namespace, guard, guard.course_table(),
                                   "batchnorm_forward") == kernel_says


def test_a_function_that_only_uses_the_course_tools_is_not_flagged_by_reach():
    """The kernel side stops at imported modules: helpers.core's tools are not copies."""
    from helpers.core import linreg

    namespace = {"np": np, "linreg": linreg, "__name__": "__main__"}
    exec("def f(X):\n    return linreg.hessian_eigenvalues(X)", namespace)
    assert inkernel.course_reached(namespace["f"], namespace, guard, guard.course_table()) == ""


LESSON_MODULES = sorted(p.stem for p in Path(guard.__file__).parent.glob("l[0-9][0-9].py"))


def test_fingerprints_are_the_same_in_every_process():
    """The grader computes the course's fingerprints, its analysis child and the kernel
    compare with them: string hashing (PYTHONHASHSEED) must not change them."""
    table = guard.course_table()
    assert sorted(table.values()) == sorted(
        n for m in LESSON_MODULES for n, f in vars(
            __import__(f"helpers.answers.{m}", fromlist=["x"])).items()
        if inspect.isfunction(f) and f.__module__.endswith(m) and not n.startswith("_"))
    other = subprocess.run(
        [sys.executable, "-c", "import json; from helpers.answers import guard; "
         "print(json.dumps(guard.course_table()))"], capture_output=True, text=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin"}, cwd=ROOT, check=True)
    assert json.loads(other.stdout) == table


@pytest.mark.parametrize("kind", ["solutions", "lessons"])
def test_no_notebook_of_the_course_holds_a_copy(kind):
    """Honest work keeps its points: the solutions' functions (and the lessons' stubs, whose
    docstrings the learner keeps) are not the course's."""
    for path in sorted((ROOT / kind).glob("[0-9][0-9]_*.ipynb")):
        sub = load.load(path)
        assert all(cell.status == "ok" for cell in sub.cells), path
        flagged = {ex.id: code.course_copy(sub, ex.function)
                   for ex in lesson_exercises(sub.lesson)}
        assert not any(flagged.values()), (path.name, flagged)


@pytest.mark.parametrize("magic", ["%%capture\n", "%%time\n!true\n", "%%capture\n%%time\n%ls\n"])
def test_a_copy_under_cell_magics_is_seen(magic):
    """IPython runs a %%time or %%capture body as a cell of its own, magics and all."""
    assert _static([magic + COPY], "batchnorm_forward") == USED
    assert _static([magic + HONEST], "batchnorm_forward") == ""
