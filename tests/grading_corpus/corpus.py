"""The grading corpus: honest, adversarial and broken submissions, each with the grade it must get.

Every submission is built from a small lesson-1 notebook made here from the
exercise specs (``helpers/exercises/l01.py``) with the course's conventions
(solution cells with markers, one-line check cells), and from its learner
version made by ``normcourse.build``; the lesson-identity cases use untouched
notebooks of other lessons made from their specs (:func:`stub_notebook`). So the
corpus does not depend on the real lesson notebooks, and
``tests/test_grade_corpus.py`` grades it all, each case under its own file name
and options (``--lesson``, ``--exercise``).

    python tests/grading_corpus/corpus.py OUT_DIR   # write the files + manifest.json

``CASES`` is the manifest: name, what the submission does, and the expected
grade (score, or the error message a bad file must get, per-exercise statuses
and message substrings where they matter).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from normcourse.build import lesson_from_solution

LESSON = "01_feature_scale"
NAME = f"{LESSON}.ipynb"
MAX = 7
IDS = ("ex1_gradient", "ex1_measure_lr", "ex1_max_lr", "ex1_edge_steps", "ex1_interpret_edge",
       "ex1_predict_scale")

SOLUTIONS = {
    "ex1_gradient": ("mse_gradient", '''def mse_gradient(X, y, w, b):
    """Gradient of the MSE loss: X (n, d), y (n,), w (d,), b -> (grad_w (d,), grad_b)."""
    ### BEGIN SOLUTION
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), 2 * float(r.mean())
    ### END SOLUTION'''),
    "ex1_measure_lr": ("measure_max_lr", '''def measure_max_lr(X, y, lo, hi, rtol=1e-3, n_steps=500):
    """The edge of stability by bisection: lo converges, hi diverges."""
    ### BEGIN SOLUTION
    while hi > lo * (1 + rtol):
        mid = np.sqrt(lo * hi)
        if gradient_descent(X, y, mid, n_steps).diverged:
            hi = mid
        else:
            lo = mid
    return float(lo)
    ### END SOLUTION'''),
    "ex1_max_lr": ("max_stable_learning_rate", '''def max_stable_learning_rate(X):
    """Largest stable learning rate of gradient descent on the MSE loss, X (n, d)."""
    ### BEGIN SOLUTION
    H = 2 / len(X) * X.T @ X
    return 2 / np.linalg.eigvalsh(H).max()
    ### END SOLUTION'''),
    "ex1_edge_steps": ("edge_vs_steps", '''def edge_vs_steps(X, y):
    """The edge measured within several horizons: {"n_steps": [...], "edges": [...]}."""
    ### BEGIN SOLUTION
    steps, edges = [10, 100, 1000], []
    for n in steps:  # a bisection of its own: cases that break measure_max_lr leave it alone
        lo, hi = 1e-13, 10.0
        while hi > lo * 1.001:
            mid = np.sqrt(lo * hi)
            lo, hi = (lo, mid) if gradient_descent(X, y, mid, n).diverged else (mid, hi)
        edges.append(float(lo))
    return {"n_steps": steps, "edges": edges}
    ### END SOLUTION'''),
    "ex1_interpret_edge": ("interpret_edge", '''def interpret_edge():
    """Return your interpretation as one string."""
    ### BEGIN SOLUTION
    return ("Just above the edge the error grows slowly, so a finite run needs many steps "
            "to blow up: the gap shrinks like one over the number of steps.")
    ### END SOLUTION'''),
    "ex1_predict_scale": ("predict_scale", '''def predict_scale():
    """Return one letter: "a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION'''),
}

POINTS = {"ex1_gradient": 2, "ex1_measure_lr": 2, "ex1_max_lr": 2, "ex1_edge_steps": 1,
          "ex1_interpret_edge": 0, "ex1_predict_scale": 0}


def _nbg(**kw) -> dict:
    return {"nbgrader": {"schema_version": 3, **kw}}


def solution_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Feature scale (grading-corpus copy)\n\nSix exercises."),
             new_code_cell("import numpy as np\n\nfrom helpers.core.linreg import gradient_descent\n"
                           "from helpers.exercises import check\n\n"
                           "rng = np.random.default_rng(0)")]
    for ex_id, (fn, src) in SOLUTIONS.items():
        cells.append(new_code_cell(src, metadata=_nbg(grade=False, solution=True, locked=False,
                                                      grade_id=ex_id)))
        cells.append(new_code_cell(
            f"check({ex_id!r}, {fn})",
            metadata={"tags": ["raises-exception"],
                      **_nbg(grade=True, solution=False, locked=True, grade_id=f"{ex_id}_test",
                             points=POINTS[ex_id])}))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    return nb


def lesson_notebook() -> nbformat.NotebookNode:
    return lesson_from_solution(solution_notebook(), NAME)


def _cell_index(nb, grade_id: str) -> int:
    for i, c in enumerate(nb.cells):
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return i
    raise KeyError(grade_id)


def _answer(nb, ex_id: str, body: str):
    """Replace the stub of exercise ``ex_id`` by the function ``body`` (full def)."""
    nb.cells[_cell_index(nb, ex_id)].source = body
    return nb


def _append(nb, *sources: str):
    for s in sources:
        nb.cells.append(new_code_cell(s))
    return nb


def _insert_after(nb, grade_id: str, source: str):
    nb.cells.insert(_cell_index(nb, grade_id) + 1, new_code_cell(source))
    return nb


def _dump(nb) -> bytes:
    return nbformat.writes(nb, version=4).encode()


WRONG_GRADIENT = '''def mse_gradient(X, y, w, b):
    r = X @ w + b - y
    return X.T @ r / len(y), float(r.mean())  # forgot the factor 2
'''
GOOD_GRADIENT = '''def mse_gradient(X, y, w, b):
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), 2 * float(r.mean())
'''
GOOD_LR = '''def max_stable_learning_rate(X):
    return 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max()
'''
ZEROS = '''def mse_gradient(X, y, w, b):
    return np.zeros_like(w), 0.0

def max_stable_learning_rate(X):
    return 1.0

def predict_scale():
    return "a"
'''


@dataclass
class CorpusCase:
    name: str
    what: str
    build: object  # () -> bytes
    score: float | None = None  # expected score; None: the file must be refused
    error: str = ""  # substring of the error message of a refused file
    statuses: dict = field(default_factory=dict)  # exercise id -> expected status
    note: str | tuple = ""  # substring expected in the notes (a tuple: any one of them)
    messages: dict = field(default_factory=dict)  # exercise id -> substring of its messages
    slow: bool = False
    filename: str = ""  # the submitted file's name (default: NAME_OF_CASE.ipynb)
    options: dict = field(default_factory=dict)  # grade options: lesson=..., only=[...]
    max_score: float = MAX
    sandbox_only: bool = False  # the grade holds only when the grader has its sandbox (bwrap)
    sabotage: bool = False  # aims at the grader, the course or other submissions (issue 10)
    xfail: str = ""  # a known hole (found by attack, currently FAILS): why; the test is xfail
    #: a race the sabotage may win: an exercise whose call it hit is then an error whose
    #: message holds this text, and the score is lower by that exercise's points
    raced: tuple = ()  # what an exercise lost to the case's documented race says (any one)

    def lost_to_its_race(self, score: float, exercises: list) -> bool:
        """True when ``score`` (with ``exercises``, as the JSON report has them) is below the
        case's only by the race it documents (``raced``): every exercise not passed is an
        error saying so, and the score is lower by exactly their points."""
        if not self.raced or score >= self.score:
            return False
        lost = [e for e in exercises if e["status"] != "passed"]
        assert lost and score == self.score - sum(e["max_points"] for e in lost), lost
        for e in lost:
            said = " | ".join([e["summary"], *(c["message"] for c in e["cases"])])
            assert e["status"] == "error" and any(r in said for r in self.raced), (e["id"], said)
        return True

    @property
    def file(self) -> str:
        """Where the case is written, below the corpus folder."""
        return f"{self.name}/{self.filename}" if self.filename else f"{self.name}.ipynb"


def _sol(*edits):
    def make():
        nb = solution_notebook()
        for e in edits:
            nb = e(nb)
        return _dump(nb)
    return make


def _les(*edits):
    def make():
        nb = lesson_notebook()
        for e in edits:
            nb = e(nb)
        return _dump(nb)
    return make


def _drop_checks(nb):
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    return nb


def _fake_checks(nb):
    for c in nb.cells:
        g = c.metadata.get("nbgrader", {})
        if g.get("grade"):
            c.source = f'print("✓ {g["grade_id"][:-5]}: all test cases pass. Well done!")'
            g["points"] = 100
    return nb


def _dup_cell(nb):
    i = _cell_index(nb, "ex1_gradient")
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    copy["id"] = "copied-cell"
    nb.cells.insert(i + 1, copy)
    return nb


def _lose_id(nb):
    nb.cells[_cell_index(nb, "ex1_max_lr")].metadata.pop("nbgrader")
    return nb


def _other_lesson():
    nb = lesson_notebook()
    nb.metadata["normcourse"]["lesson"] = "02_zscore"
    for c in nb.cells:
        g = c.metadata.get("nbgrader")
        if g:
            g["grade_id"] = g["grade_id"].replace("ex1_", "ex2_")
    return _dump(nb)


def stub_notebook(lesson: str) -> nbformat.NotebookNode:
    """An untouched learner notebook of any lesson, made from its specs: one stub and one
    check cell per exercise, and the lesson metadata ``normcourse build`` writes."""
    from helpers.exercises import lesson_exercises

    cells = [new_markdown_cell(f"# {lesson} (grading-corpus copy)"),
             new_code_cell("import numpy as np\nfrom helpers.exercises import check")]
    for ex in lesson_exercises(lesson):
        cells.append(new_code_cell(
            f"def {ex.function}(*args, **kwargs):\n    # YOUR CODE HERE\n"
            "    raise NotImplementedError()",
            metadata=_nbg(grade=False, solution=True, locked=False, grade_id=ex.id)))
        cells.append(new_code_cell(f"check({ex.id!r}, {ex.function})", metadata={
            "tags": ["raises-exception"], **_nbg(grade=True, solution=False, locked=True,
                                                 grade_id=f"{ex.id}_test", points=ex.points)}))
    nb = new_notebook(cells=cells)
    nb.metadata["normcourse"] = {"lesson": lesson}
    return nb


def _stub(lesson: str):
    return lambda: _dump(stub_notebook(lesson))


def _to_markdown(nb, grade_id: str):
    i = _cell_index(nb, grade_id)
    old = nb.cells[i]
    nb.cells[i] = new_markdown_cell(old.source, metadata=old.metadata)
    return nb


def _foreign():
    nb = new_notebook(cells=[new_code_cell("def q1():\n    return 42", metadata=_nbg(
        grade=False, solution=True, locked=False, grade_id="hw3_q1"))])
    return _dump(nb)


def _nbformat3():
    return json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "x"},
                       "worksheets": [{"cells": [{"cell_type": "code", "input": "1 + 1",
                                                  "language": "python", "outputs": []}]}]
                       }).encode()


def _truncated():
    data = _dump(solution_notebook())
    return data[: len(data) // 2]


FORGE = '''def predict_scale():
    import os, sys
    f = sys._getframe(1)
    while f is not None and "nonce" not in f.f_locals:  # the grader's main() in the kernel
        f = f.f_back
    g = f.f_locals
    fake = {"status": "ok", "outcomes": [{"status": "returned", "value": "b", "error": "",
                                          "inputs_after": [], "arg_names": []}]}
    os.write(g["fd"], f.f_globals["frame"](g["nonce"], g["wire"].encode(fake)))
    return "a"
'''

GARBLE = '''def predict_scale():
    import os, sys
    f = sys._getframe(1)
    while f is not None and "nonce" not in f.f_locals:
        f = f.f_back
    os.write(f.f_locals["fd"], b"NCREPLY " + f.f_locals["nonce"].encode() + b" 000000000010\\n{\\"__int__\\": ")
    return "b"
'''

HOOK = '''import json, os
def _forge():  # after every cell: a forged reply on every pipe this process holds
    fake = json.dumps({"__dict__": {"status": {"__int__": "x"}}}).encode()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:") and int(fd) > 2:
                os.write(int(fd), b"NCREPLY " + b"0" * 32 + b" %012d\\n" % len(fake) + fake)
        except OSError:
            pass
get_ipython().events.register("post_execute", _forge)
'''

LOOKUP = '''import numpy as np

# answers memorised for the seed-0 cases (copied from a friend's output), zeros otherwise
_gradients = {gradients}
_rates = {rates}

def _key(X):
    return repr(np.asarray(X).round(6).tolist())

def mse_gradient(X, y, w, b):
    got = _gradients.get(_key(X))
    if got is None:
        return np.zeros_like(w), 0.0
    return np.array(got[0]), got[1]

def max_stable_learning_rate(X):
    return _rates.get(_key(X), 0.01)

def predict_scale():
    return "b"
'''


def _memorised():
    """LOOKUP with the seed-0 cases' answers written in (the specs are hidden in the sandbox)."""
    import numpy as np

    from helpers.exercises import get_exercise

    def key(X):
        return repr(np.asarray(X).round(6).tolist())

    gradients, rates = {}, {}
    for c in get_exercise("ex1_gradient").cases(np.random.default_rng(0)):
        X, y, w, b = (np.asarray(a, float) for a in c.args)
        r = X @ w + b - y
        gradients[key(X)] = ((2 * X.T @ r / len(r)).tolist(), 2 * float(r.mean()))
    for c in get_exercise("ex1_max_lr").cases(np.random.default_rng(0)):
        X = np.asarray(c.args[0], float)
        rates[key(X)] = float(2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max())
    return LOOKUP.format(gradients=repr(gradients), rates=repr(rates))

USED = "uses the course's own implementation of `{}`; write your own"
ANSWER_ROUTES = [
    ("direct_import", "imported directly", '''def mse_gradient(X, y, w, b):
    from helpers.answers.l01 import mse_gradient as course
    return course(X, y, w, b)'''),
    ("importlib_pieces", "found with importlib, its name built from pieces", '''import importlib
def mse_gradient(X, y, w, b):
    module = importlib.import_module(".".join(["helpers", "ans" + "wers", "l" + "01"]))
    return getattr(module, "mse_" + "gradient")(X, y, w, b)'''),
    ("saved_variable", "kept in a variable made before the function", '''import helpers.answers.l01
_kept = {"f": vars(helpers.answers.l01)["mse_gradient"]}
def mse_gradient(X, y, w, b):
    return _kept["f"](X, y, w, b)'''),
    ("getsource_exec", "copied with inspect.getsource and exec", '''import inspect
import helpers.answers.l01 as _a
_ns = {"np": np}
exec(inspect.getsource(_a.mse_gradient), _ns)
def mse_gradient(X, y, w, b):
    return _ns["mse_gradient"](X, y, w, b)'''),
    ("fallback_helper", "through the lessons' fallback (course_version)",
     '''from helpers.answers.fallback import course_version
def mse_gradient(X, y, w, b):
    return course_version("mse_gradient")(X, y, w, b)'''),
    ("swallowed", "the course's version inside try/except BaseException, zeros otherwise",
     '''def mse_gradient(X, y, w, b):
    try:
        from helpers.answers import l01
        return l01.mse_gradient(X, y, w, b)
    except BaseException:
        return np.zeros_like(w), 0.0'''),
]
ALL_FROM_COURSE = '''import importlib
_course = importlib.import_module("helpers.answers.l01")
mse_gradient = _course.mse_gradient
def measure_max_lr(X, y, lo, hi, rtol=1e-3, n_steps=500):
    return _course.measure_max_lr(X, y, lo, hi, rtol, n_steps)
def max_stable_learning_rate(X):
    return _course.max_stable_learning_rate(X)
def predict_scale():
    return "b"
'''
FROM_SOLUTIONS = '''import json, os, pathlib
import helpers
_nb = json.loads(({root} / "solutions" / "01_feature_scale.ipynb").read_text())
for _c in _nb["cells"]:
    if _c.get("metadata", {{}}).get("nbgrader", {{}}).get("solution"):
        exec("".join(_c["source"]), globals())
'''
SABOTAGE_PRELUDE = '''import glob, os, pathlib, shutil, signal, subprocess
COPY = os.environ.get("NORMCOURSE_CORPUS_COPY", "")
OUTSIDE = os.environ.get("NORMCOURSE_CORPUS_OUTSIDE", "")
HERE = pathlib.Path.cwd().resolve()
def siblings():  # the other kernels' folders of this batch
    if not OUTSIDE:
        return []
    return [p for p in glob.glob(OUTSIDE + "/ncgrade-*")
            if pathlib.Path(p) != HERE.parent]
def batch_processes():  # the grader and the other kernels of this batch, nothing else
    if not COPY:
        return []
    found = []
    for pid in os.listdir("/proc"):
        try:
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
        except OSError:
            continue
        if f"NORMCOURSE_CORPUS_COPY={COPY}".encode() in env and int(pid) != os.getpid():
            found.append(int(pid))
    return found
'''
SABOTAGE = [
    ("kill_siblings", "kills every other process of the batch (kernels, grader)", '''
for pid in batch_processes():
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
'''),
    ("delete_sibling_folders", "deletes the other kernels' temporary folders", '''
for folder in siblings():
    shutil.rmtree(folder, ignore_errors=True)
'''),
    ("rewrite_course", "rewrites helpers/checking/verdict.py and appends to exercises/l01.py",
     '''
if COPY:
    import helpers
    root = pathlib.Path(helpers.__file__).parent
    for name, mode, text in (("checking/verdict.py", "w", "raise SystemExit('sabotaged')\\n"),
                             ("exercises/l01.py", "a", "\\nEXERCISES = []\\n")):
        try:
            with open(root / name, mode) as f:
                f.write(text)
        except OSError as exc:
            print("could not:", exc)
'''),
    ("plant_launcher", "plants normcourse/grading/launch.py in its own and the other kernels' "
     "folders, then kills itself so that the grader restarts it", '''
PLANT = ("import os, pathlib\\n"
         "pathlib.Path(os.environ.get('NORMCOURSE_CORPUS_OUTSIDE', '/nonexistent'), "
         "'PLANTED-CODE-RAN').write_text('x')\\n")
if COPY:
    for folder in [str(HERE), *[f + "/work" for f in siblings()]]:
        try:
            pkg = pathlib.Path(folder, "normcourse", "grading")
            pkg.mkdir(parents=True, exist_ok=True)
            for init in (pkg.parent / "__init__.py", pkg / "__init__.py"):
                init.write_text("")
            (pkg / "launch.py").write_text(PLANT)
        except OSError:
            pass
    if not pathlib.Path("restarted-once").exists():
        pathlib.Path("restarted-once").write_text("x")
        os._exit(1)
'''),
    ("background_process", "starts `env -i setsid sleep 31340 &`, which leaves its session",
     '''
if COPY:
    subprocess.run("env -i setsid sleep 31340 >/dev/null 2>&1 &", shell=True)
'''),
    ("big_file_outside", "writes a 1 GB file outside its folder (/tmp, $HOME, the batch's "
     "temporary folder)", '''
if COPY:
    for where in ("/tmp", os.path.expanduser("~"), OUTSIDE):
        try:
            with open(os.path.join(where, "normcourse-corpus-big-file"), "wb") as f:
                for _ in range(1024):
                    f.write(bytes(2**20))
        except OSError as exc:
            print("stopped:", exc)
'''),
]

CASES = [
    # ---------------------------------------------------------------- honest
    CorpusCase("solution", "the instructor's solution notebook", _sol(), MAX,
               statuses=dict.fromkeys(IDS, "passed")),
    CorpusCase("lesson_untouched", "the learner notebook as handed out", _les(), 0,
               statuses=dict.fromkeys(IDS, "not_done")),
    CorpusCase("partial", "only the gradient done", _les(lambda nb: _answer(
        nb, "ex1_gradient", GOOD_GRADIENT)), 2,
        statuses={"ex1_gradient": "passed", "ex1_max_lr": "not_done"}),
    CorpusCase("wrong_answers", "every answer wrong (gradient missing the factor 2)", _les(
        lambda nb: _answer(nb, "ex1_gradient", WRONG_GRADIENT),
        lambda nb: _answer(nb, "ex1_measure_lr", "def measure_max_lr(X, y, lo, hi):\n"
                                                 "    return lo"),
        lambda nb: _answer(nb, "ex1_max_lr", "def max_stable_learning_rate(X):\n    return 1e6"),
        lambda nb: _answer(nb, "ex1_edge_steps", "def edge_vs_steps(X, y):\n"
                                                 "    return {'n_steps': [10, 100, 1000], "
                                                 "'edges': [2 / 8.04e9] * 3}"),
        lambda nb: _answer(nb, "ex1_interpret_edge", "def interpret_edge():\n    return 'ok'"),
        lambda nb: _answer(nb, "ex1_predict_scale", "def predict_scale():\n"
                                                    "    return 'z'")), 0,
        statuses=dict.fromkeys(IDS, "failed")),
    CorpusCase("no_test_cells", "solution with every check cell deleted", _sol(_drop_checks),
               MAX),
    CorpusCase("mutates_input", "right gradient computed by changing X in place", _sol(
        lambda nb: _answer(nb, "ex1_gradient", '''def mse_gradient(X, y, w, b):
    X -= 0  # harmless...
    X *= 1.0000001  # ...not harmless: changes the caller's array
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), 2 * float(r.mean())''')), MAX - 2,
        statuses={"ex1_gradient": "failed"}),
    # ---------------------------------------------------------------- lesson identity
    CorpusCase("start_here_as_lesson3_classroom", "the untouched start-here notebook renamed "
               "03_batch_norm.ipynb, graded as GitHub Classroom's step does",
               _stub("00_start_here"), error="its content (notebook metadata and exercise "
               "cells) is lesson 00_start_here", filename="03_batch_norm.ipynb",
               options={"lesson": "03_batch_norm", "only": ["ex3_bn_forward"]}),
    CorpusCase("start_here_as_lesson3", "the untouched start-here notebook renamed "
               "03_batch_norm.ipynb", _stub("00_start_here"),
               error="the file name says lesson 03_batch_norm", filename="03_batch_norm.ipynb"),
    CorpusCase("start_here_as_lesson1_old_step", "the start-here notebook renamed "
               "01_feature_scale.ipynb, graded with --exercise ex1_gradient (the old workflow)",
               _stub("00_start_here"), error="the file name says lesson 01_feature_scale",
               filename="01_feature_scale.ipynb", options={"only": ["ex1_gradient"]}),
    CorpusCase("lesson2_as_lesson3", "a lesson-2 notebook handed in as 03_batch_norm.ipynb",
               _stub("02_standardization"), error="the file name says lesson 03_batch_norm",
               filename="03_batch_norm.ipynb"),
    CorpusCase("exercise_of_another_lesson", "--exercise of lesson 3 on a lesson-1 notebook",
               _sol(), error="not an exercise of lesson 01_feature_scale",
               options={"only": ["ex3_bn_forward"]}),
    CorpusCase("lesson_option_disagrees", "--lesson 02_standardization on a lesson-1 notebook",
               _les(), error="graded with --lesson 02_standardization, but its content",
               options={"lesson": "02_standardization"}),
    CorpusCase("classroom_step_honest", "the solution as the lesson file, graded as a GitHub "
               "Classroom step (--lesson, --exercise)", _sol(), 2, filename=NAME,
               options={"lesson": LESSON, "only": ["ex1_gradient"]}, max_score=2,
               statuses={"ex1_gradient": "passed"}),
    CorpusCase("renamed_by_browser_honest", "the solution saved as "
               "'01_feature_scale (1).ipynb' by a browser", _sol(), MAX,
               filename="01_feature_scale (1).ipynb", statuses=dict.fromkeys(IDS, "passed")),
    CorpusCase("big_endian_honest", "right answers returned as big-endian arrays", _sol(
        lambda nb: _answer(nb, "ex1_gradient", '''def mse_gradient(X, y, w, b):
    r = X @ w + b - y
    return (2 * X.T @ r / len(y)).astype(">f8"), np.array(2 * r.mean(), dtype=">f8")''')),
        MAX, statuses=dict.fromkeys(IDS, "passed")),
    CorpusCase("longdouble_honest", "right answers returned as np.longdouble", _sol(
        lambda nb: _answer(nb, "ex1_gradient", '''def mse_gradient(X, y, w, b):
    r = X.astype(np.longdouble) @ w + b - y
    return 2 * X.T @ r / len(y), np.longdouble(2 * r.mean())'''),
        lambda nb: _answer(nb, "ex1_max_lr", '''def max_stable_learning_rate(X):
    return np.longdouble(2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max())''')),
        MAX, statuses=dict.fromkeys(IDS, "passed")),
    CorpusCase("stdout_closed_honest", "solution whose last cell closes sys.stdout",
               _sol(lambda nb: _append(nb, "import sys\nsys.stdout.close()")), MAX,
               statuses=dict.fromkeys(IDS, "passed")),
    CorpusCase("deeply_nested_return", "the learning rate returned inside a list nested "
               "100 000 deep", _sol(lambda nb: _answer(nb, "ex1_max_lr", '''def max_stable_learning_rate(X):
    x = 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max()
    for _ in range(100_000):
        x = [x]
    return x''')), MAX - 2, statuses={"ex1_max_lr": "failed"},
        messages={"ex1_max_lr": "nested more than 20 levels deep"}),
    CorpusCase("huge_return", "the learning rate returned with a 400 MB array", _sol(
        lambda nb: _answer(nb, "ex1_max_lr", '''def max_stable_learning_rate(X):
    return np.full(50_000_000, 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max())''')),
        MAX - 2, statuses={"ex1_max_lr": "failed"},
        messages={"ex1_max_lr": "a value larger than 10 MB"}),
    CorpusCase("many_large_returns", "the learning rate returned as an 8.8 MB array on "
               "each of five cases (each under the 10 MB limit, together over the reply's)",
               _sol(lambda nb: _answer(nb, "ex1_max_lr", '''def max_stable_learning_rate(X):
    return np.full(1_100_000, 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max())''')),
        MAX - 2, statuses={"ex1_max_lr": "failed", "ex1_predict_scale": "passed"},
        messages={"ex1_max_lr": "the values returned by the cases so far add up to more "
                                "than 36 MB"}),
    CorpusCase("mutates_with_patched_numpy", "changes X in place, with np.array_equal and "
               "np.allclose patched to agree", _sol(
        lambda nb: _answer(nb, "ex1_gradient", '''np.array_equal = lambda *a, **k: True
np.allclose = lambda *a, **k: True

def mse_gradient(X, y, w, b):
    r = X @ w + b - y
    g = 2 * X.T @ r / len(y)
    X[:] = 0  # changes the caller's X
    return g, 2 * float(r.mean())''')), MAX - 2, statuses={"ex1_gradient": "failed"},
        messages={"ex1_gradient": "changes its input X in place"}),
    # ---------------------------------------------------------------- truthful messages
    CorpusCase("exercise_cell_markdown", "the gradient's exercise cell turned into Markdown",
               _sol(lambda nb: _to_markdown(nb, "ex1_gradient")), MAX - 2,
               statuses={"ex1_gradient": "error"},
               messages={"ex1_gradient": "is a markdown cell, not a code cell"}),
    CorpusCase("function_renamed", "the gradient renamed mse_grad", _sol(lambda nb: _answer(
        nb, "ex1_gradient", GOOD_GRADIENT.replace("def mse_gradient", "def mse_grad")),
        lambda nb: _drop_checks(nb)), MAX - 2, statuses={"ex1_gradient": "error"},
        messages={"ex1_gradient": "defines mse_grad instead: was the function renamed?"}),
    CorpusCase("exercise_cell_raises", "the gradient's cell raises before its def",
               _sol(lambda nb: _answer(nb, "ex1_gradient", "1 / 0\n\n" + GOOD_GRADIENT)),
               MAX - 2, statuses={"ex1_gradient": "error"},
               messages={"ex1_gradient": "defines it, but the definition was lost"}),
    CorpusCase("redefined_after_check", "a right gradient, checked, then redefined wrongly "
               "further down", _sol(lambda nb: _append(nb, WRONG_GRADIENT)), MAX - 2,
               statuses={"ex1_gradient": "failed"},
               messages={"ex1_gradient": "is defined again in code cell"}),  # (its number
    # follows the lesson's cells)
    CorpusCase("redefined_honest", "a right gradient redefined (rightly) after its check cell",
               _sol(lambda nb: _append(nb, GOOD_GRADIENT)), MAX,
               statuses=dict.fromkeys(IDS, "passed"),
               messages={"ex1_gradient": "the grader used the last definition"}),
    # ---------------------------------------------------------------- cheating
    CorpusCase("redefine_check", "stubs, plus check() and helpers' check/judge redefined to pass",
               _les(lambda nb: _append(nb, '''import helpers.exercises as hc
import helpers.checking.verdict as hv
from helpers.checking.verdict import Report
def check(*args, **kwargs):
    print("✓ all test cases pass. Well done!")
hc.check = check
hv.judge = lambda exercise, cases, outcomes: Report(exercise.id, exercise.title, "passed", [])
''', 'check("ex1_gradient", mse_gradient)')), 0),
    CorpusCase("patch_numpy", "wrong answers, numpy comparisons patched to always agree",
               _les(lambda nb: _append(nb, ZEROS, '''import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.linalg.eigvalsh = lambda H: np.array([1.0])''')), 0),
    CorpusCase("patch_builtins", "wrong answers; builtins, AssertionError and Exception patched",
               _les(lambda nb: _append(nb, ZEROS, '''import builtins
class _Nothing(BaseException):
    pass
builtins.AssertionError = _Nothing
builtins.NotImplementedError = _Nothing
_real_isinstance = builtins.isinstance
builtins.abs = lambda x: 0
builtins.print = lambda *a, **k: None''')), 0),
    CorpusCase("patch_helpers", "wrong answers; exercise specs patched to accept anything",
               _les(lambda nb: _append(nb, ZEROS, '''import helpers.exercises as he
import helpers.exercises.l01 as l01
import helpers.checking.calling as calling
import normcourse.grading.wire as wire
for ex in l01.EXERCISES:
    object.__setattr__(ex, "judge", lambda case, value: None)
    object.__setattr__(ex, "points", 100)
he.get_exercise = lambda i: l01.EXERCISES[0]
calling.run_case = lambda fn, case: calling.Outcome("returned", 0.0)
wire.decode = lambda text, opaque=None: {"status": "ok"}''')), 0),
    CorpusCase("fake_test_cells", "stubs; check cells replaced by prints of success, points 100",
               _les(_fake_checks), 0),
    CorpusCase("fake_markers", "prints things that look like grader replies and grade files",
               _les(lambda nb: _append(nb, '''import json
for n in ("0" * 32, "f" * 32):
    print(f"<<normcourse-reply-{n}>>" + json.dumps({"__dict__": {"status": "ok"}}) +
          f"<<end-normcourse-reply-{n}>>")
open("results.json", "w").write(json.dumps({"score": 100}))
open("grades.csv", "w").write("submission,score\\nme,100\\n")''')), 0),
    CorpusCase("forged_reply", "finds the request's nonce and reply pipe on the call stack "
               "and writes a forged reply before the real one",
               _sol(lambda nb: _answer(nb, "ex1_predict_scale", FORGE)), MAX,
               statuses={"ex1_predict_scale": "error"},
               messages={"ex1_predict_scale": "2 replies arrived from your notebook"}),
    CorpusCase("garbled_reply", "writes half a reply on the reply pipe during one exercise",
               _sol(lambda nb: _answer(nb, "ex1_predict_scale", GARBLE)), MAX,
               statuses={"ex1_predict_scale": "error", "ex1_gradient": "passed"},
               messages={"ex1_predict_scale": "reply from your notebook was unreadable"}),
    CorpusCase("forging_hook", "a post_execute hook writes a forged reply on every pipe after "
               "every cell", _sol(lambda nb: _append(nb, HOOK)), 0,
               statuses=dict.fromkeys(IDS, "error"),
               messages={"ex1_gradient": "does not belong to this request"}),
    CorpusCase("printed_forgery_hook", "a post_execute hook prints an old-style forged reply "
               "after every cell", _les(lambda nb: _append(nb, '''import json
def _forge():
    for n in ("0" * 32,):
        print(f"<<normcourse-reply-{n}>>" + json.dumps({"__dict__": {"status": "ok"}}) +
              f"<<end-normcourse-reply-{n}>>")
get_ipython().events.register("post_execute", _forge)''')), 0,
               statuses=dict.fromkeys(IDS, "not_done")),
    CorpusCase("memorised_cases", "answers memorised for the in-notebook (seed 0) cases only",
               _les(lambda nb: _append(nb, _memorised())), 0,
               statuses={"ex1_gradient": "failed", "ex1_max_lr": "failed",
                         "ex1_predict_scale": "passed"}),
    CorpusCase("weird_returns", "returns objects that claim to equal anything", _les(
        lambda nb: _append(nb, '''class Anything:
    def __eq__(self, other): return True
    def __float__(self): return 0.0
    def __array__(self, *a, **k):
        import numpy as np
        return np.zeros(3)
def mse_gradient(X, y, w, b):
    return Anything(), Anything()
def max_stable_learning_rate(X):
    return Anything()
predict_scale = "b"  # not a function''')), 0,
        statuses={"ex1_predict_scale": "error"}),
    CorpusCase("returns_an_object", "the gradient returns an object, not numbers", _sol(
        lambda nb: _answer(nb, "ex1_gradient", "class Grad:\n    pass\n\n"
                                               "def mse_gradient(X, y, w, b):\n"
                                               "    return Grad()")), MAX - 2,
        statuses={"ex1_gradient": "failed"},
        messages={"ex1_gradient": "expected a tuple (grad_w, grad_b), got an object of type "
                                  "Grad"}),
    CorpusCase("returns_a_generator", "the learning rate is returned as a generator", _sol(
        lambda nb: _answer(nb, "ex1_max_lr", "def max_stable_learning_rate(X):\n"
                                             "    return (x for x in [1.0])")), MAX - 2,
        statuses={"ex1_max_lr": "failed"},
        messages={"ex1_max_lr": "should be a number, got an object of type generator"}),
    CorpusCase("repr_raises", "returns an object whose repr and str raise", _sol(
        lambda nb: _answer(nb, "ex1_predict_scale", '''class Letter:
    def __repr__(self):
        raise RuntimeError("no repr")
    __str__ = __repr__

def predict_scale():
    return Letter()''')), MAX,
        statuses={"ex1_predict_scale": "failed"},
        messages={"ex1_predict_scale": "got an object of type Letter"}),
    # ---------------------------------------------------------------- accidents / sabotage
    CorpusCase("os_exit_cell", "solution with a cell calling os._exit(1) in the middle",
               _sol(lambda nb: _insert_after(nb, "ex1_gradient_test", "import os\nos._exit(1)")),
               MAX, note="kernel stopped"),
    CorpusCase("sys_exit_cell", "solution with sys.exit() and exit() cells",
               _sol(lambda nb: _insert_after(nb, "ex1_gradient_test",
                                             "import sys\nsys.exit(3)"),
                    lambda nb: _append(nb, "exit()", "quit()")), MAX, note="SystemExit"),
    CorpusCase("segfault_cell", "solution with a cell that crashes Python (segfault)",
               _sol(lambda nb: _insert_after(nb, "ex1_max_lr_test",
                                             "import ctypes\nctypes.string_at(0)")),
               MAX, note="kernel stopped"),
    CorpusCase("exit_in_function", "the gradient calls os._exit; the others are right", _sol(
        lambda nb: _answer(nb, "ex1_gradient", "def mse_gradient(X, y, w, b):\n"
                                               "    import os\n    os._exit(0)")), MAX - 2,
        statuses={"ex1_gradient": "error", "ex1_max_lr": "passed"}),
    CorpusCase("endless_cell", "solution with an endless loop in a cell", _sol(
        lambda nb: _insert_after(nb, "ex1_gradient_test", "while True:\n    pass")), MAX,
        note="stopped after", slow=True),
    CorpusCase("endless_function", "the learning rate loops forever", _sol(
        lambda nb: _drop_checks(nb),
        lambda nb: _answer(nb, "ex1_max_lr", "def max_stable_learning_rate(X):\n"
                                             "    while True:\n        pass")), MAX - 2,
        slow=True),  # "failed" (timed out) or, on a very slow machine, "error"
    CorpusCase("unstoppable_function", "a function that ignores interrupts and loops forever",
               _sol(lambda nb: _drop_checks(nb),
                    lambda nb: _answer(nb, "ex1_gradient", '''def mse_gradient(X, y, w, b):
    import time
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass''')), MAX - 2, statuses={"ex1_gradient": "error", "ex1_predict_scale": "passed"},
               slow=True),
    CorpusCase("memory_cell", "solution with a cell that eats memory until it fails",
               _sol(lambda nb: _insert_after(nb, "ex1_gradient_test",
                                             "hog = []\nwhile True:\n"
                                             "    hog.append(bytearray(50_000_000))")),
               MAX, note="memory"),
    CorpusCase("memory_touched", "solution with a cell that fills memory it really uses",
               _sol(lambda nb: _insert_after(nb, "ex1_max_lr_test",
                                             "import numpy as np\nhog = []\nwhile True:\n"
                                             "    hog.append(np.ones(10_000_000))")),
               MAX, note="MB of memory"),
    CorpusCase("memory_function", "the prediction allocates 100 GB",
               _sol(lambda nb: _answer(nb, "ex1_predict_scale", '''def predict_scale():
    import numpy as np
    np.ones(10**10 * 1.0 if False else 12_500_000_000)
    return "b"''')), MAX, statuses={"ex1_predict_scale": "failed"}),
    CorpusCase("flood_cell", "solution with a cell that prints forever", _sol(
        lambda nb: _insert_after(nb, "ex1_gradient_test", "while True:\n    print('x' * 10000)")),
        MAX, note="MB of output arrived while it ran"),
    CorpusCase("flood_function", "a right gradient that prints 20 MB on each call", _sol(
        lambda nb: _drop_checks(nb),
        lambda nb: _answer(nb, "ex1_gradient", '''def mse_gradient(X, y, w, b):
    print("x" * 20_000_000)
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), 2 * float(r.mean())''')), MAX - 2,
        statuses={"ex1_gradient": "failed"}),
    CorpusCase("flood_other_request", "a right gradient that sends three 20 MB displays "
               "addressed to another request on each call", _sol(lambda nb: _answer(
                   nb, "ex1_gradient", '''def mse_gradient(X, y, w, b):
    k = get_ipython().kernel
    other = {"msg_id": "another-request", "msg_type": "execute_request", "session": "s",
             "username": "u", "date": "", "version": "5.3"}
    for _ in range(3):
        k.session.send(k.iopub_socket, "display_data",
                       {"data": {"text/plain": "x" * 20_000_000}, "metadata": {}},
                       parent=other, ident=b"display_data")
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), 2 * float(r.mean())''')), MAX - 2,
        statuses={"ex1_gradient": "error", "ex1_max_lr": "passed"},
        messages={"ex1_gradient": "more than 1 MB of output"}),
    CorpusCase("leftover_processes", "starts a background process, a new session and a fork",
               _sol(lambda nb: _append(nb, '''import os, subprocess
subprocess.Popen(["sleep", "31337"])
subprocess.Popen(["sleep", "31338"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", ["sleep", "31339"])''')), MAX),
    CorpusCase("stdout_swapped", "solution whose last cell sends sys.stdout to a file "
               "and never restores it", _sol(lambda nb: _append(
                   nb, "import sys\nsys.stdout = open('log.txt', 'w')\nprint('quiet now')")),
               MAX),
    CorpusCase("asks_input", "solution with a cell waiting for keyboard input",
               _sol(lambda nb: _insert_after(nb, "ex1_gradient_test",
                                             "name = input('your name? ')")),
               MAX, note="StdinNotImplementedError"),
    CorpusCase("writes_files", "writes files in its folder and outside it", _sol(
        lambda nb: _append(nb, '''import os
open("out.txt", "w").write("x" * 1000)
os.makedirs("../elsewhere", exist_ok=True)
open("../elsewhere/note.txt", "w").write("hello")''')), MAX),
    # ---------------------------------------------------------------- the course's answers
    # (issue 10) every route to helpers.answers scores 0 with the reason
    *[CorpusCase(f"answers_{name}", f"mse_gradient from the course's version, {what}",
                 _sol(lambda nb, body=body: _answer(nb, "ex1_gradient", body)), MAX - 2,
                 statuses={"ex1_gradient": "failed", "ex1_max_lr": "passed"},
                 messages={"ex1_gradient": USED.format("mse_gradient")})
      for name, what, body in ANSWER_ROUTES],
    CorpusCase("answers_all_routes", "the three coding exercises from the course's version",
               _les(lambda nb: _append(nb, ALL_FROM_COURSE)), 0,
               statuses={"ex1_gradient": "failed", "ex1_measure_lr": "failed",
                         "ex1_max_lr": "failed", "ex1_predict_scale": "passed"},
               messages={"ex1_gradient": USED.format("mse_gradient"),
                         "ex1_measure_lr": USED.format("measure_max_lr"),
                         "ex1_max_lr": USED.format("max_stable_learning_rate")}),
    CorpusCase("solutions_via_helpers_file", "execs the solution cells of solutions/*.ipynb, "
               "found next to helpers.__file__", _les(lambda nb: _append(
                   nb, FROM_SOLUTIONS.format(root="pathlib.Path(helpers.__file__).parents[1]"))),
               0, statuses=dict.fromkeys(IDS, "not_done"), note="FileNotFoundError",
               sandbox_only=True),
    CorpusCase("solutions_via_pwd", "execs the solution cells of solutions/*.ipynb in $PWD "
               "(the teacher's checkout)", _les(lambda nb: _append(
                   nb, FROM_SOLUTIONS.format(root="pathlib.Path(os.environ['PWD'])"))),
               0, statuses=dict.fromkeys(IDS, "not_done"), note="FileNotFoundError",
               sandbox_only=True),
    # ---------------------------------------------------------------- sabotage (issue 10)
    # Each is the solution plus one attack, aimed at the batch that tests/test_sandbox.py
    # grades on a throw-away copy of the course (NORMCOURSE_CORPUS_COPY); without that
    # variable they do nothing.
    *[CorpusCase(f"sabotage_{name}", what, _sol(lambda nb, src=src: _insert_after(
        nb, "ex1_gradient_test", SABOTAGE_PRELUDE + src)), MAX, sandbox_only=True,
        sabotage=True) for name, what, src in SABOTAGE],
    # ---------------------------------------------------------------- bad files
    CorpusCase("empty", "an empty file", lambda: b"", error="empty file"),
    CorpusCase("blank", "only whitespace", lambda: b"\n  \n", error="empty file"),
    CorpusCase("binary", "binary data named .ipynb", lambda: bytes(range(256)) * 4,
               error="binary file"),
    CorpusCase("latin1", "text that is not UTF-8", lambda: "{ \"caf\xe9\" }".encode("latin-1"),
               error="binary file"),
    CorpusCase("not_json", "text that is not JSON", lambda: b"print('hello')\n",
               error="not JSON"),
    CorpusCase("truncated", "a notebook cut in half (upload interrupted)", _truncated,
               error="not JSON"),
    CorpusCase("json_not_notebook", "JSON, but not a notebook", lambda: b'{"hello": [1, 2]}',
               error="not a Jupyter notebook"),
    CorpusCase("json_list", "a JSON list", lambda: b"[1, 2, 3]", error="not a Jupyter notebook"),
    CorpusCase("nbformat3", "an nbformat 3 notebook", _nbformat3, error="old notebook format"),
    CorpusCase("bad_cells", "cells without a valid type", lambda: json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"source": "x"}]}
    ).encode(), error="not a valid notebook"),
    CorpusCase("other_lesson", "a notebook of a lesson this grader does not know",
               _other_lesson, error="does not grade"),
    CorpusCase("foreign", "another course's nbgrader notebook", _foreign,
               error="no known exercise ids"),
    CorpusCase("no_ids", "a plain notebook without exercise cells", lambda: _dump(new_notebook(
        cells=[new_code_cell("print(1)")])), error="not a notebook of this course"),
    CorpusCase("duplicate_ids", "an exercise cell copied (two cells with one grade_id)",
               _les(_dup_cell), error="appears twice"),
    CorpusCase("missing_id", "an exercise cell whose nbgrader metadata was lost",
               _les(_lose_id), error="ex1_max_lr are missing"),
]


# --------------------------------------------------------------------------- found by attack
# Holes found by the attack helper (see the reason of each case). Each case states the
# grade a teacher would expect; those marked ``xfail`` currently FAIL (strict xfail in
# tests/test_grade_corpus.py, so the suite stays green and a fix shows up as XPASS).
JUDGE_ORACLE = '''def predict_scale():
    # no thinking: ask the course's own judge (visible in the sandbox) which letter passes
    from helpers.checking.calling import Case
    from helpers.checking.expect import Mismatch
    from helpers.exercises import get_exercise
    for letter in "abcd":
        try:
            get_exercise("ex1_predict_scale").judge(Case("x"), letter)
            return letter
        except Mismatch:
            pass'''
REFERENCE_FROM_EXERCISES = '''def mse_gradient(X, y, w, b):
    # the judge's own reference (finite differences) from helpers/exercises, not my own work
    import helpers.exercises.l01 as spec
    return spec._numerical_gradient(np.asarray(X, float), np.asarray(y, float),
                                    np.asarray(w, float), float(b))'''
HESSIAN_FROM_CORE = '''def max_stable_learning_rate(X):
    # the Hessian's eigenvalues from helpers.core.linreg instead of working them out
    from helpers.core.linreg import hessian_eigenvalues
    return 2 / hessian_eigenvalues(np.asarray(X, float)).max()'''
DISK_FILL = '''import os
for i in range(2):  # 150 MB in all, each file below the grader's 100 MB file-size limit
    with open(f"blob{i}", "wb") as f:
        for _ in range(75):
            f.write(bytes(2**20))
print("wrote", sum(os.path.getsize(f"blob{i}") for i in range(2)) // 2**20, "MB")'''
ATTACK_CASES = [
    # found by attack, fixed: helpers/exercises has stand-ins in the sandbox (was 7/7)
    CorpusCase("attack_judge_oracle", "the prediction found by asking the course's judge "
               "(helpers.exercises) which letter passes", _sol(
                   lambda nb: _answer(nb, "ex1_predict_scale", JUDGE_ORACLE)), MAX,
               statuses={"ex1_predict_scale": "failed", "ex1_gradient": "passed"},
               messages={"ex1_predict_scale": USED.format("get_exercise")}, sandbox_only=True),
    # found by attack, fixed: helpers/exercises has stand-ins in the sandbox (was 7/7)
    CorpusCase("attack_reference_from_exercises", "mse_gradient returns the judge's own "
               "finite-difference reference (helpers.exercises.l01)", _sol(
                   lambda nb: _answer(nb, "ex1_gradient", REFERENCE_FROM_EXERCISES)), MAX - 2,
               statuses={"ex1_gradient": "failed", "ex1_max_lr": "passed"},
               messages={"ex1_gradient": USED.format("_numerical_gradient")}, sandbox_only=True),
    # found by attack, fixed (was 7/7): hessian_eigenvalues is one of ex1_max_lr's shortcuts
    # (its spec), watched while the function runs; demonstrations may still use it
    CorpusCase("attack_hessian_from_core", "max_stable_learning_rate from "
               "helpers.core.linreg.hessian_eigenvalues", _sol(
                   lambda nb: _answer(nb, "ex1_max_lr", HESSIAN_FROM_CORE)), MAX - 2,
               statuses={"ex1_max_lr": "failed", "ex1_gradient": "passed"},
               messages={"ex1_max_lr": "uses the course's `hessian_eigenvalues`; write your own"}),
    # found by attack, fixed: 1.2 GB (12 files of 100 MB) were written without a word, only
    # each file's size was limited; now the kernel's folder is measured with its memory
    # (--disk, 120 MB in this corpus) and the cell is stopped, its files removed
    CorpusCase("attack_disk_fill", "the solution, plus a cell writing 150 MB in its own folder "
               "in files below the file-size limit", _sol(
                   lambda nb: _insert_after(nb, "ex1_gradient_test", DISK_FILL)), MAX,
               note="MB of files"),
]
STARTUP_PLANT = '''import os, pathlib
# an IPython startup file that hangs, then a crash: the grader restarts the kernel
startup = pathlib.Path(os.environ["IPYTHONDIR"], "profile_default", "startup")
startup.mkdir(parents=True, exist_ok=True)
(startup / "00-hang.py").write_text("import time\\ntime.sleep(100000)\\n")
os._exit(1)'''
ATTACK_CASES += [
    # found by attack, fixed: the restart ran the planted file and waited 3 x 60 s (graded
    # 0/7 in 183 s with --timeout 30); now each start has a fresh IPython folder, and a
    # restart gets only what is left of the submission's time
    CorpusCase("attack_startup_plant", "the solution, plus a cell that plants a hanging IPython "
               "startup file and then kills its kernel", _sol(
                   lambda nb: _insert_after(nb, "ex1_gradient_test", STARTUP_PLANT)), MAX,
               note="the Python kernel stopped"),
]
FORMULA_AS_MEASUREMENT = '''def measure_max_lr(X, y, lo, hi, rtol=1e-3, n_steps=500):
    # no bisection: the next exercise's formula, nudged by 0.1 % so that it does not look
    # like "a formula to 7 digits", which the judge refuses
    return 1.001 * 2 / np.linalg.eigvalsh(2 / len(X) * X.T @ X).max()'''
ATTACK_CASES += [
    # found by attack, fixed (issue 18; was 7/7): the judge accepted anything in
    # [0.99, 1.03] x 2/λ_max; now it needs a rate where 500 steps of gradient descent
    # converge, within 2·rtol of the edge they really have (0.3-1 % above 2/λ_max)
    CorpusCase("attack_measure_by_formula", "the bisection exercise answered with the "
               "formula 2/λ_max times 1.001", _sol(
                   lambda nb: _answer(nb, "ex1_measure_lr", FORMULA_AS_MEASUREMENT)), MAX - 2,
               statuses={"ex1_measure_lr": "failed", "ex1_gradient": "passed"},
               messages={"ex1_measure_lr": "gradient descent still converges above your "
                                           "value"}),
]
CASES += ATTACK_CASES


# --------------------------------------------------------------------------- lesson 4
# The batch-norm backward pass (moved from lesson 3, issue 19), graded in its own batch like
# lesson 5: the solutions, the handout, a named mistake, a numerical gradient, the textbook h.

L4_LESSON = "04_batch_norm_backward"
L4_MAX = 13
L4_POINTS = {"ex4_bn_backward": 5, "ex4_bn_backward_alt": 3, "ex4_centered_difference": 2,
             "ex4_predict_step": 0, "ex4_step_sizes": 3, "ex4_interpret": 0}
L4_SOLUTIONS = {
    "ex4_bn_backward": ("batchnorm_backward", '''def batchnorm_backward(dout, cache):
    """Backward pass of batchnorm_forward -> (dX, dgamma, dbeta)."""
    X, x_hat, mean, var, gamma, eps = cache
    ### BEGIN SOLUTION
    n = len(X)
    xc, std = X - mean, np.sqrt(var + eps)
    dx_hat = dout * gamma
    dstd = -(dx_hat * xc).sum(axis=0) / std**2
    dxc = dx_hat / std + 2 * xc * (dstd / (2 * std)) / n
    dX = dxc - dxc.sum(axis=0) / n
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    ### END SOLUTION'''),
    "ex4_bn_backward_alt": ("batchnorm_backward_alt", '''def batchnorm_backward_alt(dout, cache):
    """The compact form -> (dX, dgamma, dbeta)."""
    X, x_hat, mean, var, gamma, eps = cache
    ### BEGIN SOLUTION
    d = dout * gamma
    dX = (d - d.mean(axis=0) - x_hat * (d * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    ### END SOLUTION'''),
    "ex4_centered_difference": ("centered_difference", '''def centered_difference(X, G, h, eps=1e-5):
    """dL/dX of L = sum of G * x_hat(X) by centred differences."""
    ### BEGIN SOLUTION
    def loss(A):
        xc = A - A.mean(axis=0)
        return float(np.sum(G * xc / np.sqrt((xc**2).mean(axis=0) + eps)))
    grad = np.zeros(X.shape)
    for i in np.ndindex(X.shape):
        up, down = X.copy(), X.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (loss(up) - loss(down)) / (2 * h)
    return grad
    ### END SOLUTION'''),
    "ex4_predict_step": ("predict_step", '''def predict_step():
    """Return one letter: your prediction."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION'''),
    "ex4_step_sizes": ("step_size_experiment", '''def step_size_experiment(X, G, eps=1e-5):
    """The relative error of the centred difference at step sizes of your choice."""
    ### BEGIN SOLUTION
    mean, var = X.mean(axis=0), X.var(axis=0)
    cache = (X, (X - mean) / np.sqrt(var + eps), mean, var, np.ones(X.shape[1]), eps)
    a = batchnorm_backward(G, cache)[0]
    hs = [10.0**k for k in range(-11, 0)]
    errors = []
    for h in hs:
        n = centered_difference(X, G, h, eps)
        errors.append(float(np.abs(a - n).max() / (np.abs(a) + np.abs(n)).max()))
    k = int(np.argmin(errors))
    return {"hs": hs, "errors": errors, "best_h": hs[k], "best_error": errors[k]}
    ### END SOLUTION'''),
    "ex4_interpret": ("interpret_step_sizes", '''def interpret_step_sizes():
    """Return your answer as a string."""
    ### BEGIN SOLUTION
    return ("Large steps carry the truncation error, which shrinks like h squared; small "
            "steps lose digits to round-off, which grows like 1/h; the best h balances them.")
    ### END SOLUTION'''),
}


def l4_solution_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Batch norm's backward pass (grading-corpus copy)"),
             new_code_cell("import numpy as np\n\nfrom helpers.exercises import check, reveal")]
    for ex_id, (fn, src) in L4_SOLUTIONS.items():
        cells.append(new_code_cell(src, metadata=_nbg(grade=False, solution=True, locked=False,
                                                      grade_id=ex_id)))
        cells.append(new_code_cell(f"check({ex_id!r}, {fn})", metadata={
            "tags": ["raises-exception"], **_nbg(grade=True, solution=False, locked=True,
                                                 grade_id=f"{ex_id}_test",
                                                 points=L4_POINTS[ex_id])}))
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})


def _l4(solved: bool, *edits):
    def make():
        nb = l4_solution_notebook()
        if not solved:
            nb = lesson_from_solution(nb, f"{L4_LESSON}.ipynb")
        for e in edits:
            nb = e(nb)
        return _dump(nb)
    return make


L4_NUMERICAL_BACKWARD = '''def batchnorm_backward(dout, cache):
    # no backward pass: central finite differences of the forward loss, one input at a time
    X, x_hat, mean, var, gamma, eps = cache
    X = np.array(X, float)
    def loss():
        xc = X - X.mean(0)
        return float((dout * gamma * xc / np.sqrt(xc.var(0) + eps)).sum())
    g = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        old = X[i]
        X[i] = old + 1e-5
        up = loss()
        X[i] = old - 1e-5
        g[i] = (up - loss()) / 2e-5
        X[i] = old
    return g, (dout * x_hat).sum(0), dout.sum(0)'''
L4_TEXTBOOK_H = L4_SOLUTIONS["ex4_step_sizes"][1].replace(
    '"best_h": hs[k], "best_error": errors[k]', '"best_h": 1e-5, "best_error": errors[6]')
L4_CASES = [
    CorpusCase("l4_solution", "lesson 4: the solutions", _l4(True), L4_MAX,
               statuses=dict.fromkeys(L4_POINTS, "passed")),
    CorpusCase("l4_untouched", "lesson 4: the learner notebook as handed out", _l4(False), 0,
               statuses=dict.fromkeys(L4_POINTS, "not_done")),
    CorpusCase("l4_alt_eps_outside", "lesson 4: the compact form with ε outside the square "
               "root (a named mistake)", _l4(True, lambda nb: _answer(
                   nb, "ex4_bn_backward_alt", "def batchnorm_backward_alt(dout, cache):\n"
                   "    X, x_hat, mean, var, gamma, eps = cache\n    d = dout * gamma\n"
                   "    dX = (d - d.mean(0) - x_hat * (d * x_hat).mean(0)) / (np.sqrt(var) + eps)"
                   "\n    return dX, (dout * x_hat).sum(0), dout.sum(0)")), L4_MAX - 3,
               statuses={"ex4_bn_backward_alt": "failed", "ex4_bn_backward": "passed"},
               messages={"ex4_bn_backward_alt": "ε goes inside the square root"}),
    # found by a learner's read-through: 3 points for calling Exercise 1 (2026-12-07)
    CorpusCase("l4_alt_calls_staged", "lesson 4: the compact form returns the staged form of "
               "Exercise 1 (the learner's own batchnorm_backward), through an alias",
               _l4(True, lambda nb: _answer(
                   nb, "ex4_bn_backward_alt", "staged = batchnorm_backward\n\n\n"
                   "def batchnorm_backward_alt(dout, cache):\n    return staged(dout, cache)")),
               L4_MAX - 3,
               statuses={"ex4_bn_backward_alt": "failed", "ex4_bn_backward": "passed"},
               messages={"ex4_bn_backward_alt": "calls your `batchnorm_backward`"}),
    CorpusCase("l4_numerical_backward", "lesson 4: batchnorm_backward by finite differences of "
               "the forward loss, no analytic backward pass (the experiment built on it fails "
               "too)", _l4(True, lambda nb: _answer(nb, "ex4_bn_backward",
                                                    L4_NUMERICAL_BACKWARD)), L4_MAX - 5 - 3,
               statuses={"ex4_bn_backward": "failed", "ex4_bn_backward_alt": "passed"},
               messages={"ex4_bn_backward": "looks like a numerical gradient"}),
    CorpusCase("l4_layer_route", "lesson 4: batchnorm_backward through the course's BatchNorm "
               "layer (moved from lesson 3's sandbox routes)", _l4(True, lambda nb: _answer(
                   nb, "ex4_bn_backward", "from helpers.core import nn\n\n\n"
                   "def batchnorm_backward(dout, cache):\n"
                   "    X, x_hat, mean, var, gamma, eps = cache\n"
                   "    layer = nn.BatchNorm(X.shape[1], eps=eps)  # the course's layer\n"
                   "    layer.params['gamma'] = gamma\n    layer.forward(X)\n"
                   "    dX = layer.backward(dout)\n"
                   "    return dX, layer.grads['gamma'], layer.grads['beta']")), L4_MAX - 5 - 3,
               statuses={"ex4_bn_backward": "failed", "ex4_bn_backward_alt": "passed"},
               messages={"ex4_bn_backward": "write your own"}, sandbox_only=True),
    CorpusCase("l4_textbook_h", "lesson 4: the experiment measures, then reports the textbook "
               "h = 1e-5 as the best step", _l4(True, lambda nb: _answer(
                   nb, "ex4_step_sizes", L4_TEXTBOOK_H)), L4_MAX - 3,
               statuses={"ex4_step_sizes": "failed"},
               messages={"ex4_step_sizes": "the textbook step"}),
]


def write_l4(folder: Path) -> dict:
    """Write the lesson-4 cases as ``NAME.ipynb``; returns {name: expected score}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for case in L4_CASES:
        (folder / f"{case.name}.ipynb").write_bytes(case.build())
    return {case.name: case.score for case in L4_CASES}



# --------------------------------------------------------------------------- lesson 5
# A small lesson-4 notebook made the same way (its own solutions, the course's cell
# conventions), graded in its own batch: the honest cases, each with its expected score.

L5_LESSON = "05_norm_in_practice"
L5_MAX = 12
L5_POINTS = {"ex5_ln_forward": 2, "ex5_ln_backward": 4, "ex5_predict_batch": 0,
             "ex5_predict_bias": 0, "ex5_fold": 3, "ex5_predict_scale": 0,
             "ex5_scale_invariance": 3, "ex5_interpret_scale": 0}
L5_SOLUTIONS = {
    "ex5_ln_forward": ("layernorm_forward", '''def layernorm_forward(X, gamma, beta, eps=1e-5):
    """Layer norm: X (N, D) -> (out, (X, x_hat, mean (N, 1), var (N, 1), gamma, eps))."""
    ### BEGIN SOLUTION
    mean, var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (X, x_hat, mean, var, gamma, eps)
    ### END SOLUTION'''),
    "ex5_ln_backward": ("layernorm_backward", '''def layernorm_backward(dout, cache):
    """Backward pass of layernorm_forward -> (dX, dgamma, dbeta)."""
    X, x_hat, mean, var, gamma, eps = cache
    ### BEGIN SOLUTION
    d = dout * gamma
    dX = (d - d.mean(axis=1, keepdims=True)
          - x_hat * (d * x_hat).mean(axis=1, keepdims=True)) / np.sqrt(var + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    ### END SOLUTION'''),
    "ex5_predict_batch": ("predict_batch_norms", '''def predict_batch_norms():
    """Return one letter: your prediction."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION'''),
    "ex5_predict_bias": ("predict_bias_gradient", '''def predict_bias_gradient():
    """Return one letter: your prediction."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION'''),
    "ex5_fold": ("fold_batchnorm", '''def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """Fold an evaluation-mode batch norm into y = X @ W + b."""
    ### BEGIN SOLUTION
    scale = gamma / np.sqrt(running_var + eps)
    return W * scale, (b - running_mean) * scale + beta
    ### END SOLUTION'''),
    "ex5_predict_scale": ("predict_scale", '''def predict_scale():
    """Return one letter: your prediction."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION'''),
    "ex5_scale_invariance": ("scale_invariance", '''def scale_invariance(X, W, dout):
    """My settings: scale factors c; for each, the output change and the gradient ratio."""
    ### BEGIN SOLUTION
    gamma, beta = np.ones(W.shape[1]), np.zeros(W.shape[1])
    cs, changes, ratios = [0.001, 0.01, 0.1, 10.0, 100.0], [], []
    out_1, cache = layernorm_forward(X @ W, gamma, beta)
    grad_1 = X.T @ layernorm_backward(dout, cache)[0]
    for c in cs:
        out, cache = layernorm_forward(X @ (c * W), gamma, beta)
        grad = X.T @ layernorm_backward(dout, cache)[0]
        changes.append(float(np.abs(out - out_1).max()))
        ratios.append(float(np.linalg.norm(grad) / np.linalg.norm(grad_1)))
    return {"c": cs, "output_change": changes, "grad_ratio": ratios}
    ### END SOLUTION'''),
    "ex5_interpret_scale": ("interpret_scale", '''def interpret_scale():
    """Return a few sentences: what your measurements show."""
    ### BEGIN SOLUTION
    return """For large c the output did not move and the gradient shrank by exactly 1/c.
    At c = 0.01 and below the variance of the rows was comparable to epsilon."""
    ### END SOLUTION'''),
}


def l5_solution_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Normalization layers in practice (grading-corpus copy)"),
             new_code_cell("import numpy as np\n\nfrom helpers.exercises import check")]
    for ex_id, (fn, src) in L5_SOLUTIONS.items():
        cells.append(new_code_cell(src, metadata=_nbg(grade=False, solution=True, locked=False,
                                                      grade_id=ex_id)))
        cells.append(new_code_cell(f"check({ex_id!r}, {fn})", metadata={
            "tags": ["raises-exception"], **_nbg(grade=True, solution=False, locked=True,
                                                 grade_id=f"{ex_id}_test",
                                                 points=L5_POINTS[ex_id])}))
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})


def _l5(solved: bool, *edits):
    def make():
        nb = l5_solution_notebook()
        if not solved:
            nb = lesson_from_solution(nb, f"{L5_LESSON}.ipynb")
        for e in edits:
            nb = e(nb)
        return _dump(nb)
    return make


L5_CASES = [
    CorpusCase("l5_solution", "lesson 5: the solutions", _l5(True), L5_MAX,
               statuses=dict.fromkeys(L5_POINTS, "passed")),
    CorpusCase("l5_untouched", "lesson 5: the learner notebook as handed out", _l5(False), 0,
               statuses=dict.fromkeys(L5_POINTS, "not_done")),
    CorpusCase("l5_layer_norm_only", "lesson 5: only layer norm written", _l5(
        False, *[lambda nb, i=i: _answer(nb, i, L5_SOLUTIONS[i][1])
                 for i in ("ex5_ln_forward", "ex5_ln_backward")]), 6,
        statuses={"ex5_ln_backward": "passed", "ex5_fold": "not_done"}),
    CorpusCase("l5_wrong_predictions", "lesson 5: solutions, every letter 'd' (the "
               "prediction is recorded, worth 0 points either way)", _l5(
        True, *[lambda nb, i=i, f=f: _answer(nb, i, f"def {f}():\n    return 'd'")
                for i, f in [("ex5_predict_batch", "predict_batch_norms"),
                             ("ex5_predict_bias", "predict_bias_gradient"),
                             ("ex5_predict_scale", "predict_scale")]]), L5_MAX,
        statuses={"ex5_predict_bias": "passed", "ex5_fold": "passed",
                  "ex5_predict_scale": "passed"}),
    CorpusCase("l5_fold_transposed", "lesson 5: W_folded returned as (D_out, D_in)", _l5(
        True, lambda nb: _answer(nb, "ex5_fold", "def fold_batchnorm(W, b, gamma, beta, rm, "
                                 "rv, eps=1e-5):\n    s = gamma / np.sqrt(rv + eps)\n"
                                 "    return (W * s).T, (b - rm) * s + beta")), L5_MAX - 3,
        statuses={"ex5_fold": "failed"}, messages={"ex5_fold": "keep W's shape"}),
]
L5_CASES += [
    # found by attack, fixed: helpers/exercises has stand-ins in the sandbox (was 12/12)
    CorpusCase("l5_attack_fold_reference", "lesson 5: fold_batchnorm returns the judge's own "
               "reference (helpers.exercises.l05_fold.fold_reference)", _l5(
                   True, lambda nb: _answer(nb, "ex5_fold", "def fold_batchnorm(W, b, gamma, "
                                            "beta, rm, rv, eps=1e-5):\n    from helpers."
                                            "exercises.l05_fold import fold_reference\n"
                                            "    return fold_reference(W, b, gamma, beta, rm, "
                                            "rv, eps)")), L5_MAX - 3,
               statuses={"ex5_fold": "failed"}, messages={"ex5_fold": USED.format(
                   "fold_reference")}, sandbox_only=True),
]
NUMERICAL_BACKWARD = '''def layernorm_backward(dout, cache):
    # no backward pass: central finite differences of the forward loss, one input at a time
    X, x_hat, mean, var, gamma, eps = cache
    X, gamma = np.array(X, float), np.array(gamma, float)
    def loss():
        m, v = X.mean(1, keepdims=True), X.var(1, keepdims=True)
        return float((dout * gamma * (X - m) / np.sqrt(v + eps)).sum())
    def numerical(a, h=1e-5):
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + h
            up = loss()
            a[i] = old - h
            g[i] = (up - loss()) / (2 * h)
            a[i] = old
        return g
    return numerical(X), numerical(gamma), dout.sum(axis=0)'''
L5_CASES += [
    # found by attack, fixed (issue 18; was 12/12, also ex3_bn_backward): the large first
    # case allows at most calling.MAX_FORWARDS forward passes' time
    CorpusCase("l5_attack_numerical_backward", "lesson 5: layernorm_backward by finite "
               "differences of the forward loss, no analytic backward pass", _l5(
                   True, lambda nb: _answer(nb, "ex5_ln_backward", NUMERICAL_BACKWARD)),
               L5_MAX - 4, statuses={"ex5_ln_backward": "failed"},
               messages={"ex5_ln_backward": "looks like a numerical gradient"}),
]


# --------------------------------------------------------------------------- issue 17
# Attacks on the grader's memory and on the own-work verdict (found on main 0a530e6). The
# outputs (a lone surrogate, Markdown injection) are checked in tests/test_grade.py, the
# Gradescope upload of several notebooks in tests/test_gradescope.py, and the grader's
# memory on a 44 MB notebook in tests/test_grade_corpus.py and benchmarks/bench_grade.py.


def _course_source(module: str = "l01", function: str | None = None) -> str:
    """The text of the course's own answer module (or of one function in it), as pasted."""
    import inspect

    import helpers.answers

    path = Path(helpers.answers.__file__).parent / f"{module}.py"
    if function is None:
        return path.read_text(encoding="utf-8")
    import importlib

    return inspect.getsource(getattr(importlib.import_module(f"helpers.answers.{module}"),
                                     function))


def _pasted_module(nb):
    """Every exercise cell replaced by the whole text of helpers/answers/l01.py."""
    for ex_id in IDS[:3]:
        _answer(nb, ex_id, _course_source())
    return _answer(nb, "ex1_predict_scale", SOLUTIONS["ex1_predict_scale"][1])


def _many_cells(nb):
    nb.cells += [new_code_cell("x = 1") for _ in range(5_001)]
    return nb


def _deep_json():
    text = _dump(solution_notebook()).decode()
    return text.replace('"metadata": {', '"metadata": {"junk": ' + "[" * 100_000
                        + "]" * 100_000 + ", ", 1).encode()


def _copy_before_the_exercise(nb):
    nb.cells.insert(_cell_index(nb, "ex1_gradient"), new_code_cell(
        _course_source("l01", "mse_gradient")))
    return nb


def _surrogate_in_source():
    """The gradient's docstring holds a lone surrogate (a JSON escape no editor writes)."""
    nb = json.loads(_dump(solution_notebook()))
    cell = nb["cells"][_cell_index(solution_notebook(), "ex1_gradient")]
    cell["source"] = "".join(cell["source"]).replace("Gradient of", "Gradient \ud800 of")
    return json.dumps(nb).encode()


BIG_CELL = "x = [" + "1," * 75_000 + "]"  # 150,006 characters: over the grader's cell limit
ALIASED_COPY = """_course_gradient = mse_gradient
def mse_gradient(X, y, w, b):
    return _course_gradient(X, y, w, b)"""
ISSUE17_CASES = [
    # found by attack: one 44 MB cell `x = [1,1,...]` drove the grader to 20.8 GB (ast.parse
    # in its own process, for each exercise); now a cell over 100,000 characters is not parsed
    # and not run, with a note
    CorpusCase("attack_big_code_cell", "the solution, plus a cell of 150,000 characters of "
               "`x = [1,1,...]` after the check cells", _sol(
                   lambda nb: _insert_after(nb, "ex1_predict_scale_test", BIG_CELL)), MAX,
               note="was not run: its code is 150,006 characters long"),
    CorpusCase("attack_many_cells", "the solution plus 5,001 code cells", _sol(_many_cells),
               error="cells, more than the 5,000 the grader reads"),
    # found by attack: "the grader failed on this file (UnicodeEncodeError ...)"; now that
    # cell is not run, with a note, and the rest is graded
    CorpusCase("attack_surrogate_in_source", "a lone surrogate in the gradient's docstring",
               _surrogate_in_source, MAX - 2, statuses={"ex1_gradient": "error",
                                                         "ex1_max_lr": "passed"},
               note="holds a character that no Python source can hold (\\ud800"),
    CorpusCase("attack_deep_json", "JSON nested 100,000 levels deep in the notebook's metadata",
               _deep_json, error="JSON nested too deeply"),
    # found by attack: the stubs replaced by the text of helpers/answers/l01.py scored 7/7
    # (21/21 on lesson 3) while the learner's check said "uses the course's own implementation"
    CorpusCase("attack_pasted_course_module", "every exercise cell replaced by the text of the "
               "course's answer module helpers/answers/l01.py", _les(_pasted_module), 0,
               statuses={"ex1_gradient": "failed", "ex1_measure_lr": "failed",
                         "ex1_max_lr": "failed", "ex1_predict_scale": "passed"},
               messages={"ex1_gradient": USED.format("mse_gradient"),
                         "ex1_measure_lr": USED.format("measure_max_lr"),
                         "ex1_max_lr": USED.format("max_stable_learning_rate")}),
    CorpusCase("attack_pasted_course_function", "the gradient's exercise cell holds the text of "
               "the course's mse_gradient", _sol(lambda nb: _answer(
                   nb, "ex1_gradient", _course_source("l01", "mse_gradient"))), MAX - 2,
               statuses={"ex1_gradient": "failed", "ex1_max_lr": "passed"},
               messages={"ex1_gradient": USED.format("mse_gradient")}),
    CorpusCase("attack_pasted_behind_an_alias", "the course's mse_gradient pasted in an earlier "
               "cell, kept under another name; the exercise's own function calls it", _sol(
                   lambda nb: _answer(nb, "ex1_gradient", ALIASED_COPY),
                   _copy_before_the_exercise), MAX - 2,
               statuses={"ex1_gradient": "failed", "ex1_measure_lr": "passed"},
               messages={"ex1_gradient": USED.format("mse_gradient")}),
    CorpusCase("attack_pasted_in_cell_magic", "the course's mse_gradient pasted under %%capture",
               _sol(lambda nb: _answer(nb, "ex1_gradient", "%%capture\n" + _course_source(
                   "l01", "mse_gradient"))), MAX - 2,
               statuses={"ex1_gradient": "failed"},
               messages={"ex1_gradient": USED.format("mse_gradient")}),
    CorpusCase("attack_exec_course_string", "the course's mse_gradient made with exec of its "
               "text, at run time (seen by the kernel-side second line)", _sol(
                   lambda nb: _answer(nb, "ex1_gradient", "_ns = {'np': np}\nexec("
                                      + repr(_course_source("l01", "mse_gradient"))
                                      + ", _ns)\nmse_gradient = _ns['mse_gradient']")), MAX - 2,
               statuses={"ex1_gradient": "failed"},
               messages={"ex1_gradient": USED.format("mse_gradient")}),
]
CASES += ISSUE17_CASES


def write_l5(folder: Path) -> dict:
    """Write the lesson-5 cases as ``NAME.ipynb``; returns {name: expected score}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for case in L5_CASES:
        (folder / f"{case.name}.ipynb").write_bytes(case.build())
    return {case.name: case.score for case in L5_CASES}


def write(folder: Path) -> dict:
    """Write every case as ``NAME.ipynb`` and ``manifest.json``; returns the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for case in CASES:
        path = folder / case.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.build())
        manifest[case.name] = {"what": case.what, "file": case.file, "options": case.options,
                               "score": case.score, "max_score": case.max_score,
                               "error": case.error, "statuses": case.statuses,
                               "note": case.note, "messages": case.messages}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


# --------------------------------------------------------------------------- issue 18
# Honest answers the judges refused on main 0a530e6, and shortcuts they accepted: each
# case fails there (see its comment) and scores as stated here.
PATCHED_TO_PLAIN = '''def mse_gradient(X, y, w, b):
    # the right gradient, then the caller's X zeroed, hidden by patching to_plain through
    # the call stack so that the copy sent back looks untouched
    import sys
    saved = np.array(X)
    frame = sys._getframe(1)
    while frame is not None and "to_plain" not in frame.f_globals:
        frame = frame.f_back
    real = frame.f_globals["to_plain"]
    frame.f_globals["to_plain"] = lambda v, real=real: real(saved) if v is X else real(v)
    r = saved @ w + b - y
    grad = 2 * saved.T @ r / len(y), 2 * float(r.mean())
    X[:] = 0
    return grad'''
BISECTION_RETURNS_HI = '''def measure_max_lr(X, y, lo, hi, rtol=1e-3, n_steps=500):
    while hi > lo * (1 + rtol):
        mid = np.sqrt(lo * hi)
        if gradient_descent(X, y, mid, n_steps).diverged:
            hi = mid
        else:
            lo = mid
    return float(hi)  # a rate where gradient descent diverges'''
CASES += [
    # main: 7/7 (to_plain patched in the kernel hid the change)
    CorpusCase("issue18_mutation_hidden_by_patching", "the right gradient, then X zeroed in "
               "place and to_plain patched through the call stack to hide it", _sol(
                   lambda nb: _answer(nb, "ex1_gradient", PATCHED_TO_PLAIN)), MAX - 2,
               statuses={"ex1_gradient": "failed", "ex1_max_lr": "passed"},
               messages={"ex1_gradient": "changes its input X in place"}),
    # main: 6/7 (np.str_ became "an object of type str_")
    CorpusCase("issue18_concept_np_str_honest", "the prediction's letter returned as np.str_",
               _sol(lambda nb: _answer(nb, "ex1_predict_scale",
                                       "def predict_scale():\n    return np.str_('b')")), MAX,
        statuses={"ex1_predict_scale": "passed"}),
    # main: 7/7 (hi was in the accepted band)
    CorpusCase("issue18_bisection_returns_hi", "a bisection that returns hi, where gradient "
               "descent diverges", _sol(lambda nb: _answer(nb, "ex1_measure_lr",
                                                           BISECTION_RETURNS_HI)), MAX - 2,
               statuses={"ex1_measure_lr": "failed", "ex1_gradient": "passed"},
               messages={"ex1_measure_lr": "gradient descent diverges at your value"}),
]
# Shortcuts (item 2 of issue 18): each exercise's spec lists the course tools that compute
# its answer; calling one while the exercise's function runs scores 0, with the reason, also
# when it was bound before the call and its module's attribute was changed since.
SHORTCUT_ALIASES = '''from helpers.core import gradcheck, linreg
from helpers.core.linreg import gradient_descent as _gd, hessian_eigenvalues as _eig, lr_sweep
print("demo:", np.round(_eig(np.eye(2) * 3.0), 3))  # a demonstration: not judged
linreg.hessian_eigenvalues = linreg.gradient_descent = None  # the module's names changed'''
SHORTCUT_ANSWERS = {
    "ex1_gradient": '''def mse_gradient(X, y, w, b):
    # one step of the course's gradient descent with lr = 1: w1 = w - grad
    run = _gd(X, y, 1.0, n_steps=1, w0=np.array(w, float), b0=float(b), fit_bias=True)
    return np.array(w, float) - run.ws[1], float(b) - float(run.bs[1])''',
    "ex1_measure_lr": '''def measure_max_lr(X, y, lo, hi, rtol=1e-3, n_steps=500):
    # the course's sweep over a grid of rates instead of a bisection
    lrs = np.geomspace(lo, hi, 40)
    diverged = [run.diverged for _, run, _ in lr_sweep(X, y, lrs, n_steps)]
    return float(lrs[max(diverged.index(True) - 1, 0)])''',
    "ex1_max_lr": '''def max_stable_learning_rate(X):
    return float(2 / _eig(np.asarray(X, float)).max())''',
}
WATCH_SWITCHED_OFF = '''def max_stable_learning_rate(X):
    # the profile hook that watches for shortcuts, switched off around the call
    import sys
    from helpers.core.linreg import hessian_eigenvalues
    hook = sys.getprofile()
    sys.setprofile(None)
    try:
        return float(2 / hessian_eigenvalues(np.asarray(X, float)).max())
    finally:
        sys.setprofile(hook)'''
L2_SHORTCUTS = {
    "ex2_zscore_fit": '''def zscore_fit(X):
    return X.mean(axis=0), X.std(axis=0)''',
    "ex2_zscore_transform": '''def zscore_transform(X, mean, std):
    from helpers.core.scaling import apply_scaling
    return apply_scaling(X, mean, std)''',
    "ex2_rich_experiment": '''def rich_experiment(income):
    from helpers.core import scaling
    copies, incomes = [1, 3, 10], [float(income.max()) * f for f in (2, 10, 100)]
    tables = {"zscore": [], "robust": []}
    for kind, rows in tables.items():
        for k in copies:
            data = [np.concatenate([income, np.full(k, v)])[:, None] for v in incomes]
            rows.append([float(scaling.apply_scaling(d, *scaling.fit_scaling(d, kind))[-1, 0])
                         for d in data])
    return {"copies": copies, "incomes": incomes, "z": tables["zscore"],
            "robust": tables["robust"]}''',
}

L2_TEXTBOOK = '''def rich_experiment(income):
    copies, incomes = [1, 3, 10], [float(income.max()) * f for f in (2, 10, 100)]
    z = [[(v - income.mean()) / income.std() for v in incomes] for _ in copies]
    return {"copies": copies, "incomes": incomes, "z": z, "robust": z}'''
L2_WRITTEN = '''def interpret_rich():
    return ("The rich people inflate the standard deviation they are measured with, so "
            "their z-score stops growing and everyone else is squashed near zero.")'''


def _l2_shortcuts():
    nb = stub_notebook("02_standardization")
    for ex_id, body in L2_SHORTCUTS.items():
        nb = _answer(nb, ex_id, body)
    return _dump(nb)


CASES += [
    # main: the gradient by one GD step and the Hessian's eigenvalues passed (issue 18)
    CorpusCase("issue18_shortcuts_lesson1", "every lesson-1 function through a course tool "
               "bound before the call (module names changed after), and a demo cell using "
               "one", _sol(lambda nb: _insert_after(nb, "ex1_gradient", SHORTCUT_ALIASES),
                           *[lambda nb, i=i, b=b: _answer(nb, i, b)
                             for i, b in SHORTCUT_ANSWERS.items()]), 1,
               statuses={"ex1_gradient": "failed", "ex1_measure_lr": "failed",
                         "ex1_max_lr": "failed", "ex1_predict_scale": "passed"},
               messages={"ex1_gradient": "uses the course's `gradient_descent`; write your own",
                         "ex1_measure_lr": "uses the course's `lr_sweep`; write your own",
                         "ex1_max_lr": "uses the course's `hessian_eigenvalues`"}),
    CorpusCase("issue18_watch_switched_off", "max_stable_learning_rate switches the profile "
               "hook off around a call to hessian_eigenvalues", _sol(
                   lambda nb: _answer(nb, "ex1_max_lr", WATCH_SWITCHED_OFF)), MAX - 2,
               statuses={"ex1_max_lr": "failed", "ex1_gradient": "passed"},
               messages={"ex1_max_lr": "switched off or replaced the watch"}),
    # main: 6/12 (zscore_transform = apply_scaling passed); rich_experiment reaches the
    # course's zscore_fit through helpers.core.scaling, whose stand-in gives that reason
    CorpusCase("issue18_shortcuts_lesson2", "lesson 2: zscore_transform by apply_scaling, "
               "rich_experiment by helpers.core.scaling.fit_scaling, zscore_fit honest",
               _l2_shortcuts, 3, max_score=12,  # zscore_fit: 3 points
               statuses={"ex2_zscore_fit": "passed", "ex2_zscore_transform": "failed",
                         "ex2_rich_experiment": "failed"},
               messages={"ex2_zscore_transform": "uses the course's `apply_scaling`; write your own",
                         "ex2_rich_experiment": "uses the course's"}),
    # issue 19: the experiment answered with the textbook number (the others' mean and std)
    # fails by name; a written answer is recorded for 0 points, its text kept for the teacher
    CorpusCase("issue19_lesson2_textbook_and_written", "lesson 2: rich_experiment returns "
               "the textbook z-scores, interpret_rich a few sentences, zscore_fit honest",
               lambda: _dump(_answer(_answer(_answer(stub_notebook("02_standardization"),
                                                     "ex2_zscore_fit", L2_SHORTCUTS["ex2_zscore_fit"]),
                                             "ex2_rich_experiment", L2_TEXTBOOK),
                                     "ex2_interpret_rich", L2_WRITTEN)), 3, max_score=12,
               statuses={"ex2_zscore_fit": "passed", "ex2_rich_experiment": "failed",
                         "ex2_interpret_rich": "passed"},
               messages={"ex2_rich_experiment": "the textbook number",
                         "ex2_interpret_rich": "recorded (23 words, 0 points)"}),
]
GRADCHECK_BACKWARD = '''def layernorm_backward(dout, cache):
    # the course's own finite-difference tool instead of a backward pass
    from helpers.core.gradcheck import numerical_gradient
    X, x_hat, mean, var, gamma, eps = cache
    X = np.array(X, float)
    def loss():
        m, v = X.mean(1, keepdims=True), X.var(1, keepdims=True)
        return float((dout * gamma * (X - m) / np.sqrt(v + eps)).sum())
    return numerical_gradient(loss, X), (dout * x_hat).sum(axis=0), dout.sum(axis=0)'''
def _l5_float32(nb):
    """Every lesson-4 function computes in float32 from float64 inputs."""
    casts = {"ex5_ln_forward": ("    ### BEGIN SOLUTION", "    X, gamma, beta = (np.asarray(a, "
                                "np.float32) for a in (X, gamma, beta))"),
             "ex5_ln_backward": ("    X, x_hat, mean, var, gamma, eps = cache", "    dout, "
                                 "x_hat, var, gamma = (np.asarray(a, np.float32) for a in "
                                 "(dout, x_hat, var, gamma))"),
             "ex5_fold": ("    ### BEGIN SOLUTION", "    W, b, gamma, beta, running_mean, "
                          "running_var = (np.asarray(a, np.float32) for a in (W, b, gamma, "
                          "beta, running_mean, running_var))"),
             "ex5_scale_invariance": ("    ### BEGIN SOLUTION", "    X, W, dout = "
                                      "(np.asarray(a, np.float32) for a in (X, W, dout))")}
    for ex_id, (after, line) in casts.items():
        cell = nb.cells[_cell_index(nb, ex_id)]
        cell.source = cell.source.replace(after, f"{after}\n{line}", 1)
    return nb


def _ln_backward_with(std: str):
    src = L5_SOLUTIONS["ex5_ln_backward"][1]
    return lambda nb: _answer(nb, "ex5_ln_backward", src.replace("np.sqrt(var + eps)", std))


L5_CASES += [
    # main: 12/12 (the judge's reference was finite differences too); numerical_gradient is
    # a shortcut of both exercises, and the experiment calls this backward pass
    CorpusCase("l5_issue18_gradcheck_backward", "lesson 5: layernorm_backward by the course's "
               "helpers.core.gradcheck.numerical_gradient", _l5(
                   True, lambda nb: _answer(nb, "ex5_ln_backward", GRADCHECK_BACKWARD)),
               L5_MAX - 7, statuses={"ex5_ln_backward": "failed", "ex5_fold": "passed",
                                     "ex5_scale_invariance": "failed"},
               messages={"ex5_ln_backward": "uses the course's `numerical_gradient`; write "
                                            "your own"}),
    # main: 10/12 (to_plain made float32 float64; the judges compared at 1e-6)
    CorpusCase("l5_issue18_float32_honest", "lesson 5: the solutions, computed in float32",
               _l5(True, _l5_float32), L5_MAX,
               statuses={"ex5_ln_forward": "passed", "ex5_scale_invariance": "passed"},
               messages={"ex5_ln_forward": "computed in float32: fine here"}),
    # issue 18 main: 12/12 (every case had ε negligible); issue 19: the learner chooses the
    # scale factors, which must reach c <= 0.01, where ε matters on every case
    CorpusCase("l5_issue18_scale_theory", "lesson 5: scale_invariance returns the theory "
               "(0, 1/c) without measuring", _l5(True, lambda nb: _answer(
                   nb, "ex5_scale_invariance", "def scale_invariance(X, W, dout):\n    cs = "
                   "[0.01, 0.1, 10.0, 100.0]\n    return {'c': cs, 'output_change': [0.0] * 4, "
                   "'grad_ratio': [1 / c for c in cs]}")), L5_MAX - 3,
               statuses={"ex5_scale_invariance": "failed"},
               messages={"ex5_scale_invariance": "do not assume it"}),
    # main: 12/12 each (no case had an ε that matters in the backward pass); with ε outside
    # the square root the experiment, which calls that backward pass, measures wrong too
    CorpusCase("l5_issue18_eps_outside_sqrt", "lesson 5: layernorm_backward with ε outside "
               "the square root", _l5(True, _ln_backward_with("(np.sqrt(var) + eps)")),
               L5_MAX - 7, statuses={"ex5_ln_backward": "failed",
                                     "ex5_scale_invariance": "failed", "ex5_fold": "passed"},
               messages={"ex5_ln_backward": "ε goes inside the square root"}),
    CorpusCase("l5_issue18_hard_coded_eps", "lesson 5: layernorm_backward with ε = 1e-5 "
               "written in", _l5(True, _ln_backward_with("np.sqrt(var + 1e-5)")),
               L5_MAX - 4, statuses={"ex5_ln_backward": "failed"},
               messages={"ex5_ln_backward": "instead of the cache's eps"}),
]


# --------------------------------------------------------------------------- isolation (issue 17)
# Attacks on the grader from inside a kernel, found on 0a530e6: the grader followed links
# its kernels planted (the log file reopened at each restart, the font lists copied into
# the kernel's home, the kernel's folders emptied after the disk limit), and passed the
# teacher's secrets in the kernel's environment. tests/test_isolation.py grades them in a
# --jobs 2 batch between honest classmates, on a throw-away course, in bwrap and uid
# modes; each reads its targets from NORMCOURSE_CORPUS_* variables (passed with
# --pass-env) and does nothing without them, as here, where each gets the plain grade.
# An attack that runs into a wall says how far it got in an exception (a note).

ISOLATION_PRELUDE = '''import json, os, pathlib, shutil, sysconfig
COPY = os.environ.get("NORMCOURSE_CORPUS_COPY", "")
VICTIM = os.environ.get("NORMCOURSE_CORPUS_VICTIM", "")
HERE = pathlib.Path.cwd()
def grader_logs():  # the grader's log of this kernel: next to work/ on 0a530e6, or fd 1/2
    found = {HERE.parent / "kernel.log"}
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").endswith("kernel.log"):
                found.add(pathlib.Path(os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:
            pass
    return found
def redirect_log(target):  # the next start's log (opened by the grader) becomes target
    done = []
    for log in grader_logs():
        try:
            log.unlink(missing_ok=True)
            log.symlink_to(target)
            done.append(str(log))
        except OSError as exc:
            done.append(type(exc).__name__)
    return done
def fds_on(suffix):  # descriptors of this process open on a file whose path ends so
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").endswith(suffix):
                out.append(int(fd))
        except OSError:
            pass
    return out
'''
PLANT_AND_EXIT = '''
if {guard}:
    print("planted:", redirect_log({target}))
    os._exit(1)  # the grader restarts the kernel, opening its log again
'''
LOG_READS_SOLUTIONS = '''
for fd in fds_on(".ipynb"):  # the solution notebook, readable through /proc/self/fd
    text = open(f"/proc/self/fd/{fd}", encoding="utf-8", errors="replace").read()
    nb, _ = json.JSONDecoder().raw_decode(text)
    for c in nb["cells"]:
        if c.get("metadata", {}).get("nbgrader", {}).get("solution"):
            exec("".join(c["source"]), globals())
'''
LOG_WRITES = '''
for fd in fds_on({suffix!r}):
    if {truncate}:
        os.ftruncate(fd, 0)
    os.write(fd, {text!r})
'''
SECRET_NAMES = ("GH_PAT", "DATABASE_URL", "SENTRY_DSN", "OPENAI_KEY", "OLDPWD")
RETURNS_SECRETS = f'''def interpret_edge():  # a written answer: its text is recorded
    import os
    return ("My interpretation, with the environment of the grader for my teacher to read: "
            + " ".join(os.environ.get(n, "-") for n in {SECRET_NAMES!r}))'''
HOME_LINK_DISK = '''
if VICTIM:
    linked = []
    for folder in (pathlib.Path.home(), HERE.parent / "tmp"):  # its home, else another of its own
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.symlink_to(pathlib.Path(VICTIM, "keep"))  # a link to a folder outside
            linked.append(str(folder))
            break
        except OSError:
            pass
    print("linked:", linked)
    with open("blob", "wb") as f:  # then over the disk limit (the batch runs with --disk 50)
        for _ in range(60):
            f.write(bytes(2**20))
    import time
    time.sleep(5)
'''
FONT_LINK = '''
if VICTIM:
    cache = pathlib.Path(os.environ["MPLCONFIGDIR"])
    done = []
    for font_list in sorted(cache.glob("fontlist-*.json")):
        try:  # the grader copied it here at this start; at the next, it would copy again
            font_list.unlink()
            font_list.symlink_to(pathlib.Path(VICTIM, "font.txt"))
            done.append(font_list.name)
        except OSError as exc:
            done.append(type(exc).__name__)
    print("linked:", done)
    os._exit(1)
'''
SOCKET_SWAP = '''
import stat, sys, time
if os.environ.get("NORMCOURSE_CORPUS_OUTSIDE"):
    trap = os.environ["NORMCOURSE_CORPUS_OUTSIDE"] + "/trap.sock"  # a socket the test listens on
    conn = pathlib.Path(sys.argv[sys.argv.index("-f") + 1])  # its connection file, sockets beside
    try:
        own = [str(p) for p in conn.parent.iterdir() if stat.S_ISSOCK(p.lstat().st_mode)]
    except OSError:
        own = [str(conn.parent / f"k-{i}") for i in range(1, 6)]
    swapped = 0
    for mine in own:
        try:  # the grader's client would follow the link when it reconnects
            os.symlink(trap, mine + ".new")
            os.replace(mine + ".new", mine)
            swapped += 1
        except OSError:
            pass
    print("swapped:", swapped, flush=True)
    import zmq
    kernel = get_ipython().kernel
    for sock in (kernel.shell_stream.socket, kernel.iopub_socket.io_thread.socket):
        try:  # drop the grader's connections: ZMQ would reconnect them, through the links
            sock.unbind(sock.get(zmq.LAST_ENDPOINT).decode())
        except Exception:
            pass
    time.sleep(2)
    os._exit(1)
'''
READ_SIBLINGS = '''
import glob
got = []
outside = os.environ.get("NORMCOURSE_CORPUS_OUTSIDE", "/nonexistent")
for root in glob.glob(outside + "/ncgrade-*"):
    if pathlib.Path(root) in HERE.parents:
        continue
    for inner in ("log/kernel.log", "box/work", "box/home", "box/tmp"):
        p = pathlib.Path(root, inner)
        try:
            got.append(len(os.listdir(p)) if p.is_dir() else len(p.read_bytes()))
        except OSError:
            pass
raise RuntimeError(f"siblings read: {len(got)}")
'''


def _attack(*sources):
    return lambda nb: _append(nb, *[ISOLATION_PRELUDE + s for s in sources])


ISOLATION_CASES = [
    CorpusCase("iso_log_reads_solutions", "the untouched handout; a cell replaces the kernel's "
               "log by a link to solutions/01 and kills its kernel, the next reads the solution "
               "cells through /proc/self/fd and runs them", _les(_attack(
                   PLANT_AND_EXIT.format(guard="COPY", target='pathlib.Path(COPY, "solutions", '
                                         '"01_feature_scale.ipynb")'), LOG_READS_SOLUTIONS)),
               0, statuses=dict.fromkeys(IDS, "not_done")),
    CorpusCase("iso_log_plants_pth", "the solution; the log redirected to a .pth file in the "
               "grader's site-packages, then written through", _sol(_attack(
                   PLANT_AND_EXIT.format(guard="COPY", target='pathlib.Path(sysconfig.get_paths()'
                                         '["purelib"], "zz-normcourse-corpus.pth")'),
                   LOG_WRITES.format(suffix=".pth", truncate=False, text=(
                       b"\nimport os; os.environ.get('NORMCOURSE_CORPUS_OUTSIDE') and open("
                       b"os.environ['NORMCOURSE_CORPUS_OUTSIDE'] + '/PTH-RAN', 'w')\n")))), MAX),
    CorpusCase("iso_log_overwrites_classmate", "the solution; the log redirected to a "
               "classmate's submission, then truncated through it", _sol(_attack(
                   PLANT_AND_EXIT.format(guard="VICTIM", target='pathlib.Path(VICTIM, '
                                         '"bob.ipynb")'),
                   LOG_WRITES.format(suffix="bob.ipynb", truncate=True, text=b"{}"))), MAX),
    CorpusCase("iso_log_rewrites_inkernel", "the solution; the log redirected to the "
               "grader's normcourse/grading/inkernel.py, then written through", _sol(_attack(
                   PLANT_AND_EXIT.format(guard="COPY", target='pathlib.Path(COPY, "normcourse", '
                                         '"grading", "inkernel.py")'),
                   LOG_WRITES.format(suffix="inkernel.py", truncate=False,
                                     text=b"\nraise SystemExit('sabotaged')\n"))), MAX),
    CorpusCase("iso_home_link_disk_limit", "the solution; its home replaced by a link to a "
               "folder outside, then 60 MB written to trip the disk limit", _sol(_attack(
                   HOME_LINK_DISK)), MAX),
    CorpusCase("iso_font_cache_link", "the solution; the font list copied into its home "
               "replaced by a link to a file outside, then the kernel killed", _sol(_attack(
                   FONT_LINK)), MAX),
    CorpusCase("iso_returns_secrets", "the written answer (its text recorded) returns the "
               "teacher's GH_PAT, DATABASE_URL, SENTRY_DSN, OPENAI_KEY and OLDPWD", _sol(
                   lambda nb: _answer(nb, "ex1_interpret_edge", RETURNS_SECRETS)), MAX,
               statuses={"ex1_interpret_edge": "passed"}),
    CorpusCase("iso_socket_swap", "the solution; its ZMQ sockets replaced by links to a socket "
               "of its choosing, then its connections to the grader dropped", _sol(_attack(
                   SOCKET_SWAP)), MAX),
    CorpusCase("iso_read_siblings", "the solution; reads the other kernels' logs and folders",
               _sol(_attack(READ_SIBLINGS)), MAX),
]
READ_ANSWER_FILES = '''
import glob, importlib.util, marshal
import helpers
found = []
for folder in {pathlib.Path(COPY or "/nonexistent", "helpers"), pathlib.Path(helpers.__file__).parent}:
    for path in [folder / "answers" / "l01.py", *glob.glob(str(folder / "answers" / "__pycache__" / "l01.*.pyc"))]:
        try:  # the course's own answers: source, or the compiled file next to it
            data = pathlib.Path(path).read_bytes()
            code = marshal.loads(data[16:]) if str(path).endswith(".pyc") else data
            exec(code, globals())
            found.append(str(path))
        except (OSError, ValueError, SyntaxError):
            pass
print("read:", found)
'''
ISOLATION_CASES += [
    CorpusCase("iso_reads_answer_files", "the untouched handout; runs the course's answer "
               "module read from disk (its source, or its __pycache__)", _les(_attack(
                   READ_ANSWER_FILES)), 0),
]
DETACHED_MEMORY = '''
if COPY:
    import subprocess, sys, time
    hog = "import time, numpy as np\\nx = np.ones(90_000_000)\\ntime.sleep(60)\\n"
    subprocess.run(["setsid", "-f", sys.executable, "-c", hog], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(10)  # 720 MB in a process that left the kernel's tree (the batch: --memory 500)
'''
ISOLATION_CASES += [
    CorpusCase("iso_detached_memory", "the solution; a process that left the kernel's process "
               "tree holds 720 MB", _sol(_attack(DETACHED_MEMORY)), MAX),
]
FILL_SOCKET_FOLDER = '''
if COPY:
    import sys, time
    sockets = pathlib.Path(sys.argv[sys.argv.index("-f") + 1]).parent
    for where in (sockets, HERE):  # its socket folder if it may write there, else its own
        try:
            with open(where / "blob", "wb") as f:  # over the disk limit (--disk 50)
                for _ in range(60):
                    f.write(bytes(2**20))
            break
        except OSError:
            pass
    time.sleep(3)
'''
FILL_SHARED = '''
if COPY:
    import time
    for where in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock"):
        try:  # folders any user may write in: counted, and removed afterwards
            with open(f"{where}/normcourse-corpus-shared-{os.getpid()}", "wb") as f:
                for _ in range(20):
                    f.write(bytes(2**20))
        except OSError:
            pass
    time.sleep(3)
'''
ISOLATION_CASES += [
    CorpusCase("iso_fills_socket_folder", "the solution; 60 MB written in its socket folder "
               "(where it may write), found by attack on the branch of issue 17",
               _sol(_attack(FILL_SOCKET_FOLDER)), MAX),
    CorpusCase("iso_fills_shared_folders", "the solution; 20 MB in each of /tmp, /var/tmp, "
               "/dev/shm and /run/lock, found by attack on the branch of issue 17",
               _sol(_attack(FILL_SHARED)), MAX),
]
DELETED_OPEN_FILES = '''
if COPY:
    import time
    keep = []
    for i in range(3):  # 180 MB that no folder shows: removed, but kept open
        f = open(f"blob{i}", "wb")
        os.unlink(f"blob{i}")
        for _ in range(60):
            f.write(bytes(2**20))
        f.flush()
        keep.append(f)
    time.sleep(4)
'''
ISOLATION_CASES += [
    CorpusCase("iso_deleted_open_files", "the solution; 180 MB in files it removed but keeps "
               "open, found by attack on the branch of issue 17 (also on 0a530e6)",
               _sol(_attack(DELETED_OPEN_FILES)), MAX),
]
#: the note each attack must get in tests/test_isolation.py's batch (run with --disk 50 and
#: --memory 500; elsewhere, without the NORMCOURSE_CORPUS_* variables, it does nothing)
ISOLATION_NOTES = {"iso_home_link_disk_limit": "MB of files", "iso_detached_memory": "MB of memory",
                   "iso_fills_socket_folder": "MB of files",
                   "iso_deleted_open_files": "MB of files"}
CASES += ISOLATION_CASES

# --------------------------------------------------------------------------- attack on integ2
# Found by the saboteur helper on branch integ2 (4f21f44), grading --jobs 2 batches with
# --isolation bwrap and --isolation uid. Each case states the grade a teacher would expect;
# all three currently FAIL (xfail).
IOPUB_FLOOD = """import threading, time
# signed 'status' messages on the kernel's own iopub socket, from a thread, faster than the
# grader reads them: status messages count as no output, and the grader's drain after a cell
# reads until the queue is empty, with no limit (130 s here; without the limit: forever)
ip = get_ipython()
session, sock = ip.kernel.session, ip.kernel.iopub_thread.socket
HEAD = (b'{"msg_type": "status", "username": "u", "session": "s", "version": "5.3", '
        b'"date": "2020-01-01T00:00:00.000000Z", "msg_id": "')
def _flood(stop):
    n = 0
    while time.monotonic() < stop:
        n += 1
        frames = [HEAD + str(n).encode() + b'"}', b"{}", b"{}", b'{"execution_state": "busy"}']
        sock.send_multipart([b"status", b"<IDS|MSG>", session.sign(frames), *frames])
threading.Thread(target=_flood, args=(time.monotonic() + 130,), daemon=True).start()"""
SYSV_SHM = """import ctypes, time
# 3 x 450 MB of System V shared memory, touched and detached: resident, but in no process's
# RSS and in no folder, so neither --memory (1024 MB here) nor --disk sees it; as a separate
# user (no IPC namespace) such segments outlive the grading run (removed here at the end, also when interrupted)
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype, libc.shmat.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_void_p,
                                                            ctypes.c_int]
made = []
try:
    for _ in range(3):
        size = 450 * 2**20
        shmid = libc.shmget(0, ctypes.c_size_t(size), 0o1600)
        assert shmid != -1, ctypes.get_errno()
        made.append(shmid)
        addr = libc.shmat(shmid, None, 0)
        assert addr not in (None, 2**64 - 1), ctypes.get_errno()
        ctypes.memset(addr, 1, size)
        libc.shmdt(ctypes.c_void_p(addr))
    time.sleep(2)  # the grader looks at the kernel's memory every 0.25 s
finally:
    for shmid in made:
        libc.shmctl(shmid, 0, None)  # IPC_RMID"""
COMPILE_HOOK = """import builtins
# the grader's in-kernel code (helpers.checking.calling) was sent as source and compiled with
# this kernel's builtins.compile: raise the backward pass's cost budget before it is compiled
_real_compile = builtins.compile
def _compile(source, *args, **kwargs):
    if isinstance(source, str):
        source = source.replace('MAX_FORWARDS = "__cost__", 200',
                                'MAX_FORWARDS = "__cost__", 10**9')
    return _real_compile(source, *args, **kwargs)
builtins.compile = _compile"""
MARSHAL_HOOK = """import marshal, types
# the grader's in-kernel code now arrives as marshalled code objects, loaded with this
# kernel's marshal.loads: raise the cost budget in the loaded code's constants
_real_loads = marshal.loads
def _raised(code):
    consts = tuple(("__cost__", 10**9) if k == ("__cost__", 200) else
                   _raised(k) if isinstance(k, types.CodeType) else k for k in code.co_consts)
    return code.replace(co_consts=consts)
def _loads(data, *args, **kwargs):
    out = _real_loads(data, *args, **kwargs)
    if isinstance(out, list):
        out = [_raised(c) if isinstance(c, types.CodeType) else c for c in out]
    return out
marshal.loads = _loads"""
COMPLEX_STEP_BACKWARD = """def layernorm_backward(dout, cache):
    # no backward pass: complex-step differences of the forward pass, one feature column of
    # every example at a time (D forward passes), exact to rounding
    X, x_hat, mean, var, gamma, eps = cache
    X = np.array(X, complex)
    def losses(A):
        m = A.mean(1, keepdims=True)
        v = ((A - m) ** 2).mean(1, keepdims=True)
        return (dout * gamma * (A - m) / np.sqrt(v + eps)).sum(1)
    dX = np.zeros(X.shape)
    for j in range(X.shape[1]):
        A = X.copy()
        A[:, j] += 1e-30j
        dX[:, j] = losses(A).imag / 1e-30
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)"""
CASES += [
    # observed: bwrap and uid, the grader's thread never leaves _drain while the flood lasts
    # (5 min and counting with --timeout 60; faulthandler: execution.py _drain); here 0/7
    # after 130 s; expected: the flood is cut like any other flood and the notebook keeps its
    # points within its time limit
    CorpusCase("sab_iopub_status_flood", "the solution, plus a thread that floods the "
               "kernel's iopub socket with signed status messages after its cell ended",
               _sol(lambda nb: _insert_after(nb, "ex1_gradient_test", IOPUB_FLOOD)), MAX,
               slow=True, sabotage=True,
               # either outcome is right, and which one happens is a race: the grader reads a
               # garbled message, or the kernel crashes (two threads on one zmq socket)
               note=("a background thread writing on the kernel's own socket",
                     "the Python kernel stopped"),
               # seen twice on 2026-12-07 under load (-m full, -n 3): the kernel crashed while
               # the grader called ex1_measure_lr, which lost its 2 points (5/7); once (-n 2,
               # forked kernels) while ex1_measure_lr's own cell ran: the notebook was run
               # again without that cell, so its function was lost (5/7 again)
               raced=("the Python kernel stopped", "the definition was lost when the notebook")),
    # on 9af585a: 7/7 and no note in bwrap and uid (--memory 500: 900 MB unseen; as uid 61000
    # the segments were still there after the run, `ipcs -m`); now shmget fails (seccomp)
    CorpusCase("sab_sysv_shared_memory", "the solution, plus a cell holding 1.35 GB of "
               "System V shared memory, detached", _sol(
                   lambda nb: _insert_after(nb, "ex1_gradient_test", SYSV_SHM)), MAX,
               note="raised AssertionError: 1", sabotage=True),  # errno 1: EPERM
]
def _l5_cost_hook(name: str, hook_what: str, hook: str, **kw) -> CorpusCase:
    """layernorm_backward by complex-step differences (a numerical gradient), plus ``hook``,
    which tries to raise the grader's MAX_FORWARDS; caught: 8/12, the exercise failed."""
    return CorpusCase(name, "lesson 5: layernorm_backward by complex-step differences, plus "
                      + hook_what, _l5(
                          True, lambda nb: _answer(nb, "ex5_ln_backward", COMPLEX_STEP_BACKWARD),
                          lambda nb: _insert_after(nb, "ex5_ln_backward", hook)),
                      L5_MAX - 4, statuses={"ex5_ln_backward": "failed"},
                      messages={"ex5_ln_backward": "looks like a numerical gradient"}, **kw)


L5_CASES += [
    # observed: 12/12 (bwrap and uid) while the in-kernel code was sent as source; since it
    # travels as marshalled code (normcourse.grading.probe) the hook never sees it: 8/12
    _l5_cost_hook("l5_sab_compile_hook_numerical_backward", "builtins.compile patched to raise "
                  "the grader's MAX_FORWARDS before its in-kernel code is compiled", COMPILE_HOOK),
    # the same attack one step later: the kernel's marshal.loads is as patchable as its compile
    _l5_cost_hook("l5_sab_marshal_hook_numerical_backward", "marshal.loads patched to raise "
                  "the grader's MAX_FORWARDS in its in-kernel code's constants", MARSHAL_HOOK,
                  xfail="the backward cost limit is decided by grader code that the kernel "
                        "loads with its own (patchable) marshal.loads"),
]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "grading-corpus")
    write(out)
    print(f"wrote {len(CASES)} submissions and manifest.json to {out}")


# --------------------------------------------------------------------------- lesson 6
# A small lesson-6 notebook made the same way, graded in its own batch. Its three
# predictions carry 0 points: any letter is recorded as "passed", a missing one is
# "not_done", and neither changes the score.

L6_LESSON = "06_modern_normalization"
L6_MAX = 15
L6_POINTS = {"ex6_normalize": 2, "ex6_axes": 2, "ex6_bn2d": 2, "ex6_groupnorm": 2,
             "ex6_rms_forward": 1, "ex6_rms_backward": 3, "ex6_predict_depth": 0,
             "ex6_predict_zero_gamma": 0, "ex6_coupling": 3, "ex6_interpret_coupling": 0}
L6_SOLUTIONS = {
    "ex6_normalize": ("normalize", '''def normalize(X, axes, eps=1e-5):
    """Standardize X over the given axes."""
    ### BEGIN SOLUTION
    mean, var = X.mean(axis=axes, keepdims=True), X.var(axis=axes, keepdims=True)
    return (X - mean) / np.sqrt(var + eps)
    ### END SOLUTION'''),
    "ex6_axes": ("family_axes", '''def family_axes():
    """The axes of batch, layer, instance and group norm."""
    ### BEGIN SOLUTION
    return {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3), "group": (2, 3, 4)}
    ### END SOLUTION'''),
    "ex6_bn2d": ("batchnorm2d_forward", '''def batchnorm2d_forward(X, gamma, beta, eps=1e-5):
    """Batch norm of (N, C, H, W), training mode -> (out, cache)."""
    ### BEGIN SOLUTION
    x_hat = normalize(X, (0, 2, 3), eps)
    out = gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)
    return out, (X, x_hat, X.mean(axis=(0, 2, 3)), X.var(axis=(0, 2, 3)), gamma, eps)
    ### END SOLUTION'''),
    "ex6_groupnorm": ("groupnorm_forward", '''def groupnorm_forward(X, G, gamma, beta, eps=1e-5):
    """Group norm of (N, C, H, W) with G groups."""
    ### BEGIN SOLUTION
    N, C, H, W = X.shape
    x_hat = normalize(X.reshape(N, G, C // G, H, W), (2, 3, 4), eps).reshape(X.shape)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)
    ### END SOLUTION'''),
    "ex6_rms_forward": ("rmsnorm_forward", '''def rmsnorm_forward(X, gamma, eps=1e-6):
    """RMSNorm over the last axis -> (out, (X, x_hat, rms, gamma))."""
    ### BEGIN SOLUTION
    rms = np.sqrt((X ** 2).mean(axis=-1, keepdims=True) + eps)
    return gamma * X / rms, (X, X / rms, rms, gamma)
    ### END SOLUTION'''),
    "ex6_rms_backward": ("rmsnorm_backward", '''def rmsnorm_backward(dout, cache):
    """Backward pass of rmsnorm_forward -> (dX, dgamma)."""
    X, x_hat, rms, gamma = cache
    ### BEGIN SOLUTION
    d = dout * gamma
    dX = (d - x_hat * (d * x_hat).mean(axis=-1, keepdims=True)) / rms
    return dX, (dout * x_hat).reshape(-1, X.shape[-1]).sum(axis=0)
    ### END SOLUTION'''),
    "ex6_predict_depth": ("predict_depth", '''def predict_depth():
    """Return one letter."""
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION'''),
    "ex6_predict_zero_gamma": ("predict_zero_gamma", '''def predict_zero_gamma():
    """Return one letter."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION'''),
    "ex6_coupling": ("coupling_experiment", '''def coupling_experiment(pool, i):
    """How much example i's batch-norm output depends on its batch-mates."""
    ### BEGIN SOLUTION
    sizes, n_draws, seed = [2, 4, 8, 16, 32], 250, 1
    rng = np.random.default_rng(seed)
    others = np.delete(np.arange(len(pool)), i)
    spread = []
    for B in sizes:
        outs = [normalize(np.vstack([pool[i], pool[rng.choice(others, B - 1, replace=False)]]),
                          (0,))[0] for _ in range(n_draws)]
        spread.append(float(np.std(outs, axis=0).mean()))
    return {"batch_sizes": sizes, "n_draws": n_draws, "seed": seed, "spread": spread}
    ### END SOLUTION'''),
    "ex6_interpret_coupling": ("interpret_coupling", '''def interpret_coupling():
    """Return your interpretation as one string."""
    ### BEGIN SOLUTION
    return ("At B = 2 the output is plus or minus one; for a typical example the spread then "
            "falls like one over the square root of B, for an extreme one it does not.")
    ### END SOLUTION'''),
}


def l6_solution_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Normalization in modern networks (grading-corpus copy)"),
             new_code_cell("import numpy as np\n\nfrom helpers.exercises import check, reveal")]
    for ex_id, (fn, src) in L6_SOLUTIONS.items():
        cells.append(new_code_cell(src, metadata=_nbg(grade=False, solution=True, locked=False,
                                                      grade_id=ex_id)))
        cells.append(new_code_cell(f"check({ex_id!r}, {fn})", metadata={
            "tags": ["raises-exception"], **_nbg(grade=True, solution=False, locked=True,
                                                 grade_id=f"{ex_id}_test",
                                                 points=L6_POINTS[ex_id])}))
        if fn.startswith("predict_"):  # as in the lesson: the prediction next to the result
            cells.append(new_code_cell(f"reveal({ex_id!r}, {fn}, 'it went down.')"))
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})


def _l6(solved: bool, *edits):
    def make():
        nb = l6_solution_notebook()
        if not solved:
            nb = lesson_from_solution(nb, f"{L6_LESSON}.ipynb")
        for e in edits:
            nb = e(nb)
        return _dump(nb)
    return make


def _l6_answer(ex_id: str, body: str):
    return lambda nb: _answer(nb, ex_id, body)


L6_PREDICTIONS = ("ex6_predict_depth", "ex6_predict_zero_gamma")
L6_CASES = [
    CorpusCase("l6_solution", "lesson 6: the solutions", _l6(True), L6_MAX,
               statuses=dict.fromkeys(L6_POINTS, "passed")),
    CorpusCase("l6_untouched", "lesson 6: the learner notebook as handed out", _l6(False), 0,
               statuses=dict.fromkeys(L6_POINTS, "not_done")),
    CorpusCase("l6_no_predictions", "lesson 6: every function written, no prediction made",
               _l6(False, *[_l6_answer(i, L6_SOLUTIONS[i][1]) for i in L6_SOLUTIONS
                            if i not in L6_PREDICTIONS]), L6_MAX,
               statuses={"ex6_predict_depth": "not_done", "ex6_coupling": "passed"}),
    CorpusCase("l6_other_predictions", "lesson 6: solutions, every prediction 'd' (recorded, "
               "never wrong)", _l6(True, *[_l6_answer(i, f"def {L6_SOLUTIONS[i][0]}():\n"
                                                         "    return 'd'") for i in L6_PREDICTIONS]),
               L6_MAX, statuses=dict.fromkeys(L6_PREDICTIONS, "passed")),
    CorpusCase("l6_not_a_letter", "lesson 6: solutions, a prediction that is not a letter",
               _l6(True, _l6_answer("ex6_predict_zero_gamma", "def predict_zero_gamma():\n"
                                                              "    return 'lower'")), L6_MAX,
               statuses={"ex6_predict_zero_gamma": "failed"},
               messages={"ex6_predict_zero_gamma": "one of a, b, c, d"}),
    CorpusCase("l6_groups_interleaved", "lesson 6: group norm with every G-th channel in a group",
               _l6(True, _l6_answer("ex6_groupnorm", '''def groupnorm_forward(X, G, gamma, beta, eps=1e-5):
    N, C, H, W = X.shape
    x_hat = normalize(X.reshape(N, C // G, G, H, W), (1, 3, 4), eps).reshape(X.shape)
    return gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)''')), L6_MAX - 2,
               statuses={"ex6_groupnorm": "failed"}, messages={"ex6_groupnorm": "consecutive"}),
    CorpusCase("l6_rms_backward_like_layer_norm", "lesson 6: RMSNorm's backward pass with layer "
               "norm's term of the mean", _l6(True, _l6_answer("ex6_rms_backward", '''def rmsnorm_backward(dout, cache):
    X, x_hat, rms, gamma = cache
    d = dout * gamma
    dX = (d - d.mean(-1, keepdims=True) - x_hat * (d * x_hat).mean(-1, keepdims=True)) / rms
    return dX, (dout * x_hat).reshape(-1, X.shape[-1]).sum(axis=0)''')), L6_MAX - 3,
               statuses={"ex6_rms_backward": "failed"},
               messages={"ex6_rms_backward": "term of the mean"}),
    CorpusCase("l6_batch_norm_per_pixel", "lesson 6: batch norm for convolutions per pixel, and "
               "the axes saying so", _l6(True, _l6_answer("ex6_axes", '''def family_axes():
    return {"batch": (0,), "layer": (1, 2, 3), "instance": (2, 3), "group": (2, 3, 4)}'''),
                                         _l6_answer("ex6_bn2d", '''def batchnorm2d_forward(X, gamma, beta, eps=1e-5):
    x_hat = normalize(X, (0,), eps)
    out = gamma.reshape(1, -1, 1, 1) * x_hat + beta.reshape(1, -1, 1, 1)
    return out, (X, x_hat, X.mean(axis=0), X.var(axis=0), gamma, eps)''')), L6_MAX - 4,
               statuses={"ex6_axes": "failed", "ex6_bn2d": "failed"},
               messages={"ex6_axes": "per pixel", "ex6_bn2d": "per pixel"}),
    CorpusCase("l6_coupling_rule_of_thumb", "lesson 6: the experiment answered by 1/√B from one "
               "measurement", _l6(True, _l6_answer("ex6_coupling", '''def coupling_experiment(pool, i):
    rng = np.random.default_rng(0)
    others = np.delete(np.arange(len(pool)), i)
    outs = [normalize(np.vstack([pool[i], pool[rng.choice(others, 31, replace=False)]]), (0,))[0]
            for _ in range(300)]
    at_32 = float(np.std(outs, axis=0).mean())
    sizes = [2, 4, 8, 16, 32]
    return {"batch_sizes": sizes, "n_draws": 300, "seed": 0,
            "spread": [at_32 * np.sqrt(32 / b) for b in sizes]}''')), L6_MAX - 3,
               statuses={"ex6_coupling": "failed"},
               messages={"ex6_coupling": "rule of thumb, not a measurement"}),
]


NUMERICAL_RMS_BACKWARD = '''def rmsnorm_backward(dout, cache):
    # no backward pass: central differences moving one feature of every example at once
    X, x_hat, rms, gamma = cache
    X, D = np.array(X, float), X.shape[-1]
    eps = float((rms * rms - (X * X).mean(-1, keepdims=True)).mean())
    def losses(A):
        return (dout * gamma * A / np.sqrt((A * A).mean(-1, keepdims=True) + eps)).sum(-1)
    dX = np.zeros_like(X)
    for j in range(D):
        e = np.zeros(D)
        e[j] = 1e-5
        dX[..., j] = (losses(X + e) - losses(X - e)) / 2e-5
    return dX, (dout * x_hat).reshape(-1, D).sum(axis=0)'''
NORM_LAYER_NORMALIZE = '''def normalize(X, axes, eps=1e-5):
    # the course's batched Norm layer (one seed) instead of the formula
    from helpers.core.batched import Norm
    layer = Norm(1, (1,) * (X.ndim - 1), tuple(a + 1 for a in axes), eps=eps)
    layer.tracks = False
    return layer.forward(X[None])[0]'''
L6_CASES += [
    # main 5a714e7: 15/15 (no large case; the judge's reference was complex steps)
    CorpusCase("l6_issue18_numerical_rms_backward", "lesson 6: rmsnorm_backward by finite "
               "differences of the forward pass (2·D forward passes)", _l6(
                   True, _l6_answer("ex6_rms_backward", NUMERICAL_RMS_BACKWARD)), L6_MAX - 3,
               statuses={"ex6_rms_backward": "failed", "ex6_rms_forward": "passed"},
               messages={"ex6_rms_backward": "looks like a numerical gradient"}),
    # a guard, already 6/15 on main 5a714e7: normalize through the course's batched Norm
    # layer (it calls the course's standardize):
    # bn2d, groupnorm and the experiment call this normalize, so they lose their points too
    CorpusCase("l6_issue18_norm_layer_shortcut", "lesson 6: normalize through the course's "
               "helpers.core.batched.Norm", _l6(True, _l6_answer("ex6_normalize",
                                                                 NORM_LAYER_NORMALIZE)),
               L6_MAX - 9, statuses={"ex6_normalize": "failed", "ex6_bn2d": "failed",
                                     "ex6_groupnorm": "failed", "ex6_coupling": "failed",
                                     "ex6_axes": "passed", "ex6_rms_backward": "passed"},
               messages={"ex6_normalize": USED.format("standardize")}),
]


def write_l6(folder: Path) -> dict:
    """Write the lesson-6 cases as ``NAME.ipynb``; returns {name: expected score}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for case in L6_CASES:
        (folder / f"{case.name}.ipynb").write_bytes(case.build())
    return {case.name: case.score for case in L6_CASES}


# --------------------------------------------------------------------------- lesson 3
# Lesson 3's exercises outside its backward pass (which moves to lesson 4, issue 19): the
# experiment the learner designs (re-run by the judge) and the written interpretation,
# recorded in the grades JSON. The copy holds only these exercises, so its score is the
# same before and after the split; the lesson's maximum is read from its specs.

L3_LESSON = "03_batch_norm"
L3_POINTS = {"ex3_bn_forward": 2, "ex3_predict_gamma": 0, "ex3_predict_mode": 0,
             "ex3_running_stats": 2, "ex3_bn_eval": 1, "ex3_predict_batch": 0,
             "ex3_train_eval_gap": 3, "ex3_interpret_gap": 0}
L3_SCORE = sum(L3_POINTS.values())
L3_TEXT = ("Batches of two give training outputs far from the evaluation outputs, so the "
           "network learns on noise; I would use larger batches or layer norm.")
L3_SOLUTIONS = {
    "ex3_bn_forward": ("batchnorm_forward", '''def batchnorm_forward(X, gamma, beta, eps=1e-5):
    """Batch norm, training mode -> (out, cache)."""
    ### BEGIN SOLUTION
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (X, x_hat, mean, var, gamma, eps)
    ### END SOLUTION'''),
    "ex3_predict_gamma": ("predict_gamma_beta", '''def predict_gamma_beta():
    """Return one letter: your prediction."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION'''),
    "ex3_predict_mode": ("predict_eval_mode", '''def predict_eval_mode():
    """Return one letter: your prediction."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION'''),
    "ex3_running_stats": ("update_running_stats", '''def update_running_stats(running_mean, running_var, X, momentum=0.1):
    """One update of the running statistics -> (new_mean, new_var)."""
    ### BEGIN SOLUTION
    return ((1 - momentum) * running_mean + momentum * X.mean(axis=0),
            (1 - momentum) * running_var + momentum * X.var(axis=0, ddof=1))
    ### END SOLUTION'''),
    "ex3_bn_eval": ("batchnorm_eval", '''def batchnorm_eval(X, gamma, beta, running_mean, running_var, eps=1e-5):
    """Batch norm, evaluation mode -> out."""
    ### BEGIN SOLUTION
    return gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta
    ### END SOLUTION'''),
    "ex3_predict_batch": ("predict_batch_size", '''def predict_batch_size():
    """Return one letter: your prediction."""
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION'''),
    "ex3_train_eval_gap": ("train_eval_gap", '''def train_eval_gap(Z, eps=1e-5):
    """{"batch_sizes", "seed", "gap"}: the train/eval gap of x_hat by batch size."""
    ### BEGIN SOLUTION
    n = len(Z)
    sizes, seed = [b for b in (2, 4, 8) if n % b == 0] + [n], 3
    S = Z[np.random.default_rng(seed).permutation(n)]
    x_eval = (S - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + eps)
    gap = []
    for b in sizes:
        B = S.reshape(-1, b, Z.shape[1])
        t = (B - B.mean(axis=1, keepdims=True)) / np.sqrt(B.var(axis=1, keepdims=True) + eps)
        gap.append(float(np.abs(t.reshape(Z.shape) - x_eval).mean()))
    return {"batch_sizes": sizes, "seed": seed, "gap": gap}
    ### END SOLUTION'''),
    "ex3_interpret_gap": ("interpret_gap", f'''def interpret_gap():
    """Your interpretation, as one string."""
    ### BEGIN SOLUTION
    return {L3_TEXT!r}
    ### END SOLUTION'''),
}
#: the rule of thumb gap ~ 1/sqrt(b), scaled from a measured batch of 2: wrong at n (0)
L3_RULE_OF_THUMB = '''def train_eval_gap(Z, eps=1e-5):
    n = len(Z)
    S = Z[np.random.default_rng(0).permutation(n)].reshape(-1, 2, Z.shape[1])
    t = (S - S.mean(axis=1, keepdims=True)) / np.sqrt(S.var(axis=1, keepdims=True) + eps)
    e = (S - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + eps)
    g2 = float(np.abs(t - e).mean())
    sizes = [2, 4, 8, n]
    return {"batch_sizes": sizes, "seed": 0, "gap": [g2 * (2 / b) ** 0.5 for b in sizes]}'''


def l3_solution_notebook() -> nbformat.NotebookNode:
    """Every exercise the lesson's specs list, in their order: the ones above solved, any
    other (the backward pass, until it moves to lesson 4) left as handed out."""
    from helpers.exercises import lesson_exercises
    cells = [new_markdown_cell("# Batch normalization (grading-corpus copy)"),
             new_code_cell("import numpy as np\n\nfrom helpers.exercises import check, reveal")]
    for ex in lesson_exercises(L3_LESSON):
        fn, src = L3_SOLUTIONS.get(ex.id, (ex.function, f"def {ex.function}(*args):\n"
                                           "    ### BEGIN SOLUTION\n    raise NotImplementedError()\n"
                                           "    ### END SOLUTION"))
        cells.append(new_code_cell(src, metadata=_nbg(grade=False, solution=True, locked=False,
                                                      grade_id=ex.id)))
        cells.append(new_code_cell(f"check({ex.id!r}, {fn})", metadata={
            "tags": ["raises-exception"], **_nbg(grade=True, solution=False, locked=True,
                                                 grade_id=f"{ex.id}_test", points=ex.points)}))
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})


def _l3(solved: bool, *edits):
    def make():
        nb = l3_solution_notebook()
        if not solved:
            nb = lesson_from_solution(nb, f"{L3_LESSON}.ipynb")
        for e in edits:
            nb = e(nb)
        return _dump(nb)
    return make


L3_CASES = [
    CorpusCase("l3_solution", "lesson 3: the solutions outside the backward pass",
               _l3(True), L3_SCORE, statuses=dict.fromkeys(L3_POINTS, "passed")),
    CorpusCase("l3_untouched", "lesson 3: the learner notebook as handed out", _l3(False), 0,
               statuses=dict.fromkeys(L3_POINTS, "not_done")),
    CorpusCase("l3_rule_of_thumb", "lesson 3: the experiment answered with the 1/√b rule "
               "(from a measured batch of 2), not measured", _l3(
                   True, lambda nb: _answer(nb, "ex3_train_eval_gap", L3_RULE_OF_THUMB)),
               L3_SCORE - 3, statuses={"ex3_train_eval_gap": "failed",
                                       "ex3_interpret_gap": "passed"},
               messages={"ex3_train_eval_gap": "rule of thumb"}),
    CorpusCase("l3_short_interpretation", "lesson 3: a three-word interpretation (not "
               "recorded: too short; 0 points either way)", _l3(
                   True, lambda nb: _answer(nb, "ex3_interpret_gap",
                                            "def interpret_gap():\n    return 'it is noisy'")),
               L3_SCORE, statuses={"ex3_interpret_gap": "failed"}),
]


def write_l3(folder: Path) -> dict:
    """Write the lesson-3 cases as ``NAME.ipynb``; returns {name: expected score}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for case in L3_CASES:
        (folder / f"{case.name}.ipynb").write_bytes(case.build())
    return {case.name: case.score for case in L3_CASES}
