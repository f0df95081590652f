"""Benchmark a whole class (issue 21): K mixed submissions over every lesson, graded
sandboxed with ``--jobs 2`` as a teacher would (the grader's default limits).

    python benchmarks/bench_class.py [--k 100] [--repeats 1] [--jobs 2] [--keep DIR]

The class cycles over the lessons: for each, the solution notebook, the untouched handout,
and the solution with one named mistake in its first exercise (ε outside the square root,
the sample standard deviation, the factor 2 forgotten...); per 100 submissions, one
crashes its kernel (``os._exit``) and one has an endless loop in a cell (stopped at the
default ``--cell-timeout``, 120 s). Prints one table: seconds per submission, the
grader's peak RSS (the grading process alone, sampled every 0.2 s; kernels not
included), the extrapolation to 1000 submissions (budget: 8 minutes), how many were
sandboxed, and the time ``normcourse report`` takes on 1000 submissions' grades (the
class's grades repeated; budget 10 s). Timings depend on the machine's load: read them
as such (``uptime`` is printed).
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
#: lesson -> (text in its first solution cell, the named mistake that replaces it)
MISTAKES = {
    "00_start_here": ("X.max(axis=0) - X.min(axis=0)", "X.max() - X.min()"),
    "01_feature_scale": ("grad_w = 2 * X.T @ residual", "grad_w = X.T @ residual"),
    "02_standardization": ("X.std(axis=0)", "X.std(axis=0, ddof=1)"),
    "03_batch_norm": ("np.sqrt(var + eps)", "(np.sqrt(var) + eps)"),
    "05_norm_in_practice": ("np.sqrt(var + eps)", "(np.sqrt(var) + eps)"),
    "06_modern_normalization": ("np.sqrt(var + eps)", "(np.sqrt(var) + eps)"),
}
CRASH = "import os\nos._exit(1)"
ENDLESS = "while True:\n    pass"


def _variant(lesson: str, kind: str) -> dict:
    src = ROOT / ("lessons" if kind == "handout" else "solutions") / f"{lesson}.ipynb"
    nb = json.loads(src.read_text(encoding="utf-8"))
    if kind == "mistake":
        old, new = MISTAKES[lesson]
        cell = next(c for c in nb["cells"] if "### BEGIN SOLUTION" in "".join(c["source"]))
        text = "".join(cell["source"])
        assert old in text, (lesson, old)
        cell["source"] = text.replace(old, new, 1)
    elif kind in ("crash", "endless"):
        at = len(nb["cells"]) // 2
        nb["cells"].insert(at, {"cell_type": "code", "metadata": {}, "outputs": [],
                                "execution_count": None,
                                "source": CRASH if kind == "crash" else ENDLESS})
    return nb


def build_class(folder: Path, k: int) -> list[str]:
    lessons = list(MISTAKES)
    specials = round(k / 100)
    kinds = ["crash"] * specials + ["endless"] * specials
    kinds += [("solution", "handout", "mistake")[(i // len(lessons)) % 3]
              for i in range(k - len(kinds))]  # each lesson gets every kind
    paths = []
    for i, kind in enumerate(kinds):
        lesson = lessons[i % len(lessons)]
        path = folder / f"student{i:04d}" / f"{lesson}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(_variant(lesson, kind)), encoding="utf-8")
        paths.append(str(path))
    return paths


def grade(paths: list[str], out: Path, jobs: int) -> tuple[float, float]:
    """Wall seconds and the grader's peak RSS (MB)."""
    start = time.monotonic()
    p = subprocess.Popen([NORMCOURSE, "grade", *paths, "--jobs", str(jobs), "--seed", "1",
                          "--format", "json", "--out", str(out)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc, peak = psutil.Process(p.pid), 0
    while p.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    return time.monotonic() - start, peak / 2**20


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
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-class-"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = build_class(folder / "class", args.k)
    runs = [grade(paths, folder / "grades.json", args.jobs) for _ in range(args.repeats)]
    wall = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    data = json.loads((folder / "grades.json").read_text(encoding="utf-8"))["submissions"]
    sandboxed = sum(bool(s.get("sandboxed")) for s in data)
    graded = sum(bool(s.get("graded")) for s in data)
    rep = report_seconds(folder / "grades.json", folder)
    print(f"load: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")
    print("| K | jobs | wall (s) | s/submission | 1000 extrapolated (min) | grader RSS (MB) "
          "| graded | sandboxed | report, 1000 (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.k} | {args.jobs} | {wall:.1f} | {wall / args.k:.2f} | "
          f"{wall / args.k * 1000 / 60:.1f} | {rss:.0f} | {graded} | {sandboxed} | {rep:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
