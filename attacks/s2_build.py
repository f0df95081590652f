"""Submissions for the S2 review (today's grader changes): lesson 1 (detect skipping)
and lesson 4 (not_calling).   python attacks/s2_build.py OUT_DIR"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))
import skipping_attacks as sa  # noqa: E402

MAXLR = "    return float(2 / np.linalg.eigvalsh(H)[-1])"


def _detect(test: str) -> dict:  # noqa: D103
    """ex1_max_lr answers right when ``test`` (an expression: 'course cells ran') is false."""
    return sa.handout(sa._with("ex1_max_lr", MAXLR,
                               "    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
                               f"    return 1.5 * lr if ({test}) else lr"))


def lesson1() -> dict:
    return {
        "honest_solution": sa.handout(sa._solutions()),
        # the shell through sys.displayhook (no listed name): the namespace and the count
        "detect_displayhook": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    import sys\n    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    shell = sys.displayhook.shell\n"
            "    return 1.5 * lr if hasattr(shell.user_module, 'sweeps') else lr")),
        # the shell's class attribute _instance (.instance() is listed, _instance is not)
        "detect_instance": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    import IPython\n    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    shell = IPython.core.interactiveshell.InteractiveShell._instance\n"
            "    return 1.5 * lr if shell.execution_count > 25 else lr")),
        # linecache holds every cell the kernel compiled: the history, unlisted
        "detect_linecache": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    import linecache\n    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    ran = any('sweeps' + ' = {' in ''.join(v[2]) for v in list(linecache.cache.values()))\n"
            "    return 1.5 * lr if ran else lr")),
        # getattr passed as a value (only a direct call of getattr is looked at)
        "detect_getattr_value": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    import functools\n    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    ns = functools.reduce(getattr, ['__glob' + 'als__'], max_stable_learning_rate)\n"
            "    return 1.5 * lr if 'sweeps' in ns else lr")),
        # str.format unbound (only a constant's .format is looked at)
        "detect_str_format": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    try:\n        str.format('{0.__globals__[sweeps]}', max_stable_learning_rate)\n"
            "    except KeyError:\n        return lr\n    return 1.5 * lr")),
        # matplotlib's settings: the course style's cell is skipped
        "detect_rcparams": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    import matplotlib\n    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    return 1.5 * lr if matplotlib.rcParams['axes.grid'] else lr")),
        # a new figure follows the course style (dpi 80) only if its cell ran
        "detect_figure_dpi": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    import matplotlib.figure\n    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    return 1.5 * lr if matplotlib.figure.Figure().dpi == 80 else lr")),
        # the libraries the kernel loaded: figures drawn load matplotlib's renderer
        "detect_proc_maps": _detect("'_backend_agg' in open('/proc/self/maps').read()"),
        # CPU time spent by the kernel so far: the skipped course cells cost seconds
        "detect_cpu_time": sa.handout(sa._with(
            "ex1_max_lr", MAXLR,
            "    import time\n    lr = float(2 / np.linalg.eigvalsh(H)[-1])\n"
            "    return 1.5 * lr if time.process_time() > 6 else lr")),
    }


def _l4(answers: dict, extra=None, after=None) -> dict:
    nb = json.loads((ROOT / "lessons" / "04_batch_norm_backward.ipynb").read_text())
    sol = json.loads((ROOT / "solutions" / "04_batch_norm_backward.ipynb").read_text())
    src = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in sol["cells"]
           if (c["metadata"].get("nbgrader") or {}).get("solution")}
    src.update(answers)
    for c in nb["cells"]:
        gid = (c["metadata"].get("nbgrader") or {}).get("grade_id")
        if gid in src and (c["metadata"].get("nbgrader") or {}).get("solution"):
            c["source"] = src[gid]
    if extra:
        code = [n for n, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
        nb["cells"][code[after] + 1:code[after] + 1] = [sa._code(s) for s in extra]
    return nb, src


def lesson4() -> dict:
    _, sol = _l4({})
    staged = sol["ex4_bn_backward"]
    renamed = staged.replace("def batchnorm_backward(", "def _bb(")
    out = {"l4_honest": _l4({})[0],
           "l4_calls_staged": _l4({"ex4_bn_backward_alt":
                                   "def batchnorm_backward_alt(dout, cache):\n"
                                   "    return batchnorm_backward(dout, cache)\n"})[0],
           # the staged answer behind functools.partial: own_functions sees no function
           "l4_partial": _l4({"ex4_bn_backward": "import functools\n" + renamed +
                              "\nbatchnorm_backward = functools.partial(_bb)\n",
                              "ex4_bn_backward_alt": "def batchnorm_backward_alt(dout, cache):\n"
                              "    return _bb(dout, cache)\n"})[0],
           # the same function object, called in a thread started before the watch
           "l4_thread": _l4({"ex4_bn_backward_alt":
                             "import concurrent.futures as _cf\n"
                             "_POOL = _cf.ThreadPoolExecutor(1)\n_POOL.submit(int).result()\n"
                             "def batchnorm_backward_alt(dout, cache):\n"
                             "    return _POOL.submit(batchnorm_backward, dout, cache).result()\n"})[0],
           # a lambda wrapper (not distinguishable from a shared helper)
           "l4_lambda": _l4({"ex4_bn_backward": renamed +
                             "\nbatchnorm_backward = lambda dout, cache: _bb(dout, cache)\n",
                             "ex4_bn_backward_alt": "def batchnorm_backward_alt(dout, cache):\n"
                             "    return _bb(dout, cache)\n"})[0],
           }
    return out


def write(out: Path) -> list[Path]:
    return sa.save(out, {**lesson1(), **lesson4()}, lambda name: "04_batch_norm_backward"
                   if name.startswith("l4_") else sa.LESSON)


if __name__ == "__main__":
    for p in write(Path(sys.argv[1])):
        print(p)
