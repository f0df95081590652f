"""Benchmark a whole class (issue 21): K mixed submissions over every lesson, graded
sandboxed with ``--jobs 2`` as a teacher would (the grader's default limits).

    python benchmarks/bench_class.py [--k 100] [--repeats 1] [--jobs 2] [--keep DIR]
                                     [--run-all-cells] [--kernels-ahead N]
                                     [--cell-timeout SECONDS] [--cpu]

The class cycles over the lessons (every solution that has a handout, read from the
folders): for each, the solution notebook, the untouched handout, and the solution with
one named mistake in its first exercise (ε outside the square root, the sample standard
deviation, the factor 2 forgotten...); per 100 submissions, one crashes its kernel
(``os._exit``) and one has an endless loop in a cell (stopped at the default
``--cell-timeout``, 120 s). Prints one table: seconds per submission, the grader's peak
RSS (the grading process alone, sampled every 0.2 s; kernels not included), the
extrapolation to 1000 submissions (budget: 8 minutes), how many were sandboxed, the time
``normcourse report`` takes on 1000 submissions' grades (the class's grades repeated;
budget 10 s) and, with ``--cpu``, the CPU seconds of the grader and all it started. The
course cells no grade depends on are skipped, as ``normcourse grade`` does by default;
``--run-all-cells`` runs them. The course's packages are byte-compiled first, as a wheel
install leaves them. Timings depend on the machine's load: read them as such (the load
average before and after is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
NORMCOURSE = str(Path(sys.executable).with_name("normcourse"))
#: named mistakes (text of a solution, what replaces it): each lesson gets the first that its
#: first exercise holding one has (ε outside the square root, the sample standard deviation,
#: the factor 2 forgotten...); the lessons are read from solutions/, never named here
MISTAKES = [
    ("X.max(axis=0) - X.min(axis=0)", "X.max() - X.min()"),
    ("grad_w = 2 * X.T @ residual", "grad_w = X.T @ residual"),
    ("X.std(axis=0)", "X.std(axis=0, ddof=1)"),
    ("np.sqrt(var + eps)", "(np.sqrt(var) + eps)"),
]
CRASH = "import os\nos._exit(1)"
ENDLESS = "while True:\n    pass"


def _variant(lesson: str, kind: str) -> dict:
    src = ROOT / ("lessons" if kind == "handout" else "solutions") / f"{lesson}.ipynb"
    nb = json.loads(src.read_text(encoding="utf-8"))
    if kind == "mistake":
        cells = [c for c in nb["cells"] if "### BEGIN SOLUTION" in "".join(c["source"])]
        found = next(((c, old, new) for c in cells for old, new in MISTAKES
                      if old in "".join(c["source"])), None)
        if found is None:  # a lesson none of them fits: its first exercise left undone
            found = (cells[0], "### BEGIN SOLUTION",
                     "raise NotImplementedError\n### BEGIN SOLUTION")
        cell, old, new = found
        cell["source"] = "".join(cell["source"]).replace(old, new, 1)
    elif kind in ("crash", "endless"):
        at = len(nb["cells"]) // 2
        nb["cells"].insert(at, {"cell_type": "code", "metadata": {}, "outputs": [],
                                "execution_count": None,
                                "source": CRASH if kind == "crash" else ENDLESS})
    return nb


def compile_course() -> None:
    """Byte-compile ``helpers`` and ``normcourse`` as installing the wheel does: in a checkout
    run with PYTHONDONTWRITEBYTECODE set (this machine's default), every kernel would compile
    the helpers it imports again (0.1 CPU s a kernel, measured 2026-12-07)."""
    import compileall

    for package in ("helpers", "normcourse"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def lessons() -> list[str]:
    """Every lesson with a solution and a handout."""
    return sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")
                  if (ROOT / "lessons" / p.name).exists())


def build_class(folder: Path, k: int) -> list[str]:
    lessons_ = lessons()
    specials = round(k / 100)
    kinds = ["crash"] * specials + ["endless"] * specials
    kinds += [("solution", "handout", "mistake")[(i // len(lessons_)) % 3]
              for i in range(k - len(kinds))]  # each lesson gets every kind
    paths = []
    for i, kind in enumerate(kinds):
        lesson = lessons_[i % len(lessons_)]
        path = folder / f"student{i:04d}" / f"{lesson}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(_variant(lesson, kind)), encoding="utf-8")
        paths.append(str(path))
    return paths


def grade(paths: list[str], out: Path, jobs: int, extra=()) -> tuple[float, float, float]:
    """Wall seconds, the grader's peak RSS (MB), and the CPU seconds of the grader and
    every process under it (kernels in their sandboxes, readers), sampled with the RSS:
    the last CPU time seen of each process (a process shorter than 0.2 s may be missed;
    the kernels run inside bwrap's own PID namespace, so the reaped children's rusage
    would not count them)."""
    start = time.monotonic()
    p = subprocess.Popen([NORMCOURSE, "grade", *paths, "--jobs", str(jobs), "--seed", "1",
                          "--format", "json", "--out", str(out), *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc, peak, cpu = psutil.Process(p.pid), 0, {}
    while p.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
            for q in [proc, *proc.children(recursive=True)]:
                try:
                    t = q.cpu_times()
                    cpu[q.pid, q.create_time()] = t.user + t.system
                except psutil.Error:
                    pass
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    return time.monotonic() - start, peak / 2**20, sum(cpu.values())


def report_seconds(grades: Path, folder: Path) -> float:
    data = json.loads(grades.read_text(encoding="utf-8"))
    subs = data["submissions"]
    data["submissions"] = [dict(s, submission=f"{i}/{s['submission']}")
                           for i, s in enumerate((subs * (1000 // len(subs) + 1))[:1000])]
    big = folder / "grades-1000.json"
    big.write_text(json.dumps(data), encoding="utf-8")
    start = time.monotonic()
    subprocess.run([NORMCOURSE, "report", str(big), "--out", str(folder / "report.html")],
                   check=True, capture_output=True)
    return time.monotonic() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=100, help="submissions (default 100)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR", help="build the class here and keep it")
    ap.add_argument("--run-all-cells", action="store_true",
                    help="grade with normcourse grade --run-all-cells (no cell skipped)")
    ap.add_argument("--kernels-ahead", type=int, default=None, metavar="N",
                    help="grade with normcourse grade --kernels-ahead N (default: the "
                         "grader's own, as many as --jobs)")
    ap.add_argument("--cell-timeout", type=float, metavar="SECONDS",
                    help="grade with normcourse grade --cell-timeout SECONDS (default: the "
                         "grader's own, 120 s)")
    ap.add_argument("--cpu", action="store_true",
                    help="also print the CPU seconds of the grader and its kernels")
    args = ap.parse_args()
    compile_course()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-class-"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = build_class(folder / "class", args.k)
    extra = (["--run-all-cells"] if args.run_all_cells else []) + \
        (["--kernels-ahead", str(args.kernels_ahead)] if args.kernels_ahead is not None
         else []) + \
        (["--cell-timeout", f"{args.cell_timeout:g}"] if args.cell_timeout else [])
    load_before = os.getloadavg()[0]
    runs = [grade(paths, folder / "grades.json", args.jobs, extra) for _ in range(args.repeats)]
    wall = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    cpu = statistics.median(r[2] for r in runs)
    load_after = os.getloadavg()[0]
    data = json.loads((folder / "grades.json").read_text(encoding="utf-8"))["submissions"]
    sandboxed = sum(bool(s.get("sandboxed")) for s in data)
    graded = sum(bool(s.get("graded")) for s in data)
    rep = report_seconds(folder / "grades.json", folder)
    print(f"load (1 min): {load_before:.1f} before, {load_after:.1f} after; "
          f"{os.cpu_count()} cores; cells: "
          f"{'all run' if args.run_all_cells else 'course cells skipped'}; "
          f"kernels ahead: {'default' if args.kernels_ahead is None else args.kernels_ahead}"
          "; cell timeout: "
          f"{f'{args.cell_timeout:g} s' if args.cell_timeout else 'default'}")
    cpu_head, cpu_rule, cpu_cell = ((" CPU (s) | CPU s/submission |", "---|---|",
                                     f" {cpu:.0f} | {cpu / args.k:.2f} |") if args.cpu
                                    else ("", "", ""))
    print("| K | jobs | wall (s) | s/submission | 1000 extrapolated (min) | grader RSS (MB) "
          f"| graded | sandboxed | report, 1000 (s) |{cpu_head}")
    print(f"|---|---|---|---|---|---|---|---|---|{cpu_rule}")
    print(f"| {args.k} | {args.jobs} | {wall:.1f} | {wall / args.k:.2f} | "
          f"{wall / args.k * 1000 / 60:.1f} | {rss:.0f} | {graded} | {sandboxed} | {rep:.1f} |"
          f"{cpu_cell}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
