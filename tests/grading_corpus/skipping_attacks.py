"""Submissions that attack the grader's skipping of course cells (issue 21, task S).

Each is lesson 1's handout (``lessons/01_feature_scale.ipynb``, so its course cells are
byte for byte the handout's and may be skipped) with exercise cells answered or not,
plus what the attack adds. ``tests/test_skipping_attacks.py`` grades them in one batch,
with skipping and with ``--run-all-cells``, and compares.

    python tests/grading_corpus/skipping_attacks.py OUT_DIR  # one folder per submission
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LESSON = "01_feature_scale"

#: the solutions' answers, by exercise id (read from solutions/01_feature_scale.ipynb)
def _solutions() -> dict:
    nb = json.loads((ROOT / "solutions" / f"{LESSON}.ipynb").read_text(encoding="utf-8"))
    return {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
            for c in nb["cells"] if (c["metadata"].get("nbgrader") or {}).get("solution")}


def _code(src: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
            "execution_count": None}


def handout(answers: dict | None = None, extra: list | None = None, after: int | None = None):
    """The handout with these exercise cells replaced (grade_id -> source) and ``extra``
    cells inserted after code cell ``after`` (at the end when None)."""
    nb = json.loads((ROOT / "lessons" / f"{LESSON}.ipynb").read_text(encoding="utf-8"))
    for c in nb["cells"]:
        gid = (c["metadata"].get("nbgrader") or {}).get("grade_id")
        if gid in (answers or {}):
            c["source"] = answers[gid]
    extra = [_code(s) if isinstance(s, str) else s for s in extra or []]
    if after is None:
        nb["cells"] += extra
    else:
        code = [n for n, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
        nb["cells"][code[after] + 1:code[after] + 1] = extra
    return nb


def _with(gid: str, old: str, new: str) -> dict:
    answers = _solutions()
    assert old in answers[gid], (gid, old)
    answers[gid] = answers[gid].replace(old, new)
    return answers




def planner_bomb(copies: int, names: int) -> dict:
    """``copies`` copies of the handout's ``explorer`` course cell, and learner cells that
    bind ``explorer`` from ``names`` names: every copy's plan follows all of them."""
    nb = handout(_solutions())
    course = next(c for c in nb["cells"] if c["cell_type"] == "code"
                  and "explorer = scale_explorer" in "".join(c["source"]))
    cells = [copy.deepcopy(course) for _ in range(copies)]
    per = 4000  # names per cell: under the reader's 100,000 characters
    for start in range(0, names, per):
        chunk = [f"a{j}" for j in range(start, min(names, start + per))]
        cells.append(_code(" = ".join(chunk) + " = 0\nexplorer = [" + ", ".join(chunk) + "]"))
    nb["cells"] += cells
    return nb


def build() -> dict:
    """name -> notebook (a dict), for the batch."""
    sol = _solutions()
    partial = {k: v for k, v in sol.items() if k in ("ex1_gradient", "ex1_max_lr")}
    edited = handout(sol)
    for c in edited["cells"]:  # the learner adds a print to a course cell that reads
        src = "".join(c["source"])  # earlier course cells' results (edges, X_std)
        if src.startswith("stable_lr = yours_or_course(max_stable_learning_rate)  # your"):
            c["source"] = src + "\nprint('my note: checked the table')"
    detect_format = _with(
        "ex1_max_lr", "    return float(2 / np.linalg.eigvalsh(H)[-1])",
        "    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
        "    try:  # the course's sweep: in the namespace only if its cell ran\n"
        "        '{0.__globals__[sweeps]}'.format(max_stable_learning_rate)\n"
        "    except KeyError:\n"
        "        return lr\n"
        "    return 1.5 * lr")
    right = "    return grad_w, float(grad_b)"  # (the prediction that stood here is 0 points)
    detect_history = _with(
        "ex1_gradient", right, "    if len(In) < 20:  # IPython's input history: cells run\n"
        "        return grad_w, float(grad_b)\n    return grad_w / 2, float(grad_b)")
    detect_modules = _with(
        "ex1_max_lr", "    return float(2 / np.linalg.eigvalsh(H)[-1])",
        "    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
        "    shell = modules['IPython.core.interactiveshell'].InteractiveShell.instance()\n"
        "    return lr if 'sweeps' not in shell.ev('dir()') else 1.5 * lr")
    detect_modules = handout(detect_modules, ["from sys import modules"], after=0)
    peek = _with(
        "ex1_gradient", right,
        '    import os\n'
        '    seen = [p for p in ("/tmp/sab_leak", os.path.expanduser("~/sab_leak"), "sab_leak")\n'
        '            if os.path.exists(p)] + [k for k in os.environ if k == "SAB_LEAK"]\n'
        '    procs = [p for p in os.listdir("/proc") if p.isdigit()]\n'
        '    if not seen and len(procs) < 40:\n'
        '        return grad_w, float(grad_b)\n'
        '    raise RuntimeError(f"traces of another submission: {seen} {len(procs)}")')
    leak = ("import os, pathlib\n"
            "for p in ('/tmp/sab_leak', os.path.expanduser('~/sab_leak'), 'sab_leak'):\n"
            "    try:\n"
            "        pathlib.Path(p).write_text('x')\n"
            "    except OSError:\n"
            "        pass\n"
            "os.environ['SAB_LEAK'] = '1'")
    return {
        "honest_solution": handout(sol),
        "honest_partial": handout(partial),
        "honest_edited_course_cell": edited,
        "dishonest_detect_format": handout(detect_format),
        "dishonest_detect_history": handout(detect_history),
        "dishonest_detect_sys_modules": detect_modules,
        "hostile_leaves_traces": handout(sol, [leak], after=0),
        "honest_peeks_for_traces": handout(peek),
        "saboteur_planner_bomb": planner_bomb(200, 8000),
    }


def save(out: Path, notebooks: dict, stem=lambda name: LESSON) -> list[Path]:
    """Each notebook (name -> dict) as OUT/NAME/STEM.ipynb (the stem names its lesson)."""
    paths = []
    for name, nb in notebooks.items():
        p = Path(out) / name / f"{stem(name)}.ipynb"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(nb), encoding="utf-8")
        paths.append(p)
    return paths


def write(out: Path, names=None) -> list[Path]:
    return save(out, {name: nb for name, nb in build().items() if not names or name in names})


if __name__ == "__main__":
    for p in write(Path(sys.argv[1])):
        print(p)
