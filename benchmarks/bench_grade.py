"""Benchmark ``normcourse grade``: cost per submission, parallel speed-up, grader memory.

    python benchmarks/bench_grade.py [--batch 20] [--repeats 3] [--notebook PATH]

Prints one table (medians of ``--repeats`` runs) against the budgets of issue 5:

- grading one submission costs <= 1.5x executing that notebook alone (nbclient,
  fresh kernel, like ``normcourse execute`` without saving);
- a batch with ``--jobs 2`` takes <= 0.6x the time of grading one by one
  (issue 5 asks for 100 submissions; ``--batch`` sets how many, default 20);
- the grader's own peak memory (max RSS of the grading process, kernels not
  included) stays flat as the number of submissions grows;
- one request to a kernel (issue 11: the reply comes back on the kernel's
  private pipe): a function returning a number, and one returning about 35 MB
  of arrays (three 8.8 MB arrays, near the reply's size limit).

``--worst`` measures instead the grader's memory on the worst single files we could
build (issue 17: under 500 MB for any file up to the file limit): the grader's own
peak RSS while it reads and grades the file (``VmHWM``), and the max RSS of the child
that reads and analyses it (an upper bound: Linux counts in it what the grader held
when it started the child). ``--compare PYTHON`` times the batch with another checkout's Python
(e.g. ``/work/main/.venv/bin/python``), old and new alternated, medians.

The batch is half solution notebooks, half untouched lessons. Timings depend on
what else runs on the machine: run it on a quiet one, and read them as such.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))


def _pick_notebooks(arg: str | None) -> tuple[Path, Path, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    if arg:
        sol = Path(arg)
        lesson = ROOT / "lessons" / sol.name
    else:
        sol = ROOT / "solutions" / "01_feature_scale.ipynb"
        lesson = ROOT / "lessons" / "01_feature_scale.ipynb"
    if not sol.exists() or not lesson.exists():
        import corpus

        sol, lesson = tmp / "solution.ipynb", tmp / "lesson.ipynb"
        nbformat.write(corpus.solution_notebook(), sol)
        nbformat.write(corpus.lesson_notebook(), lesson)
    return sol, lesson, tmp


def execute_alone(path: Path, agg: bool = False) -> float:
    """Seconds to execute ``path`` in a fresh kernel (kernel start included).

    ``agg``: with matplotlib's Agg backend, as the grader's kernels use (no
    figure is rendered to PNG), for a like-for-like comparison.
    """
    nb = nbformat.read(path, as_version=4)
    old = os.environ.get("MPLBACKEND")
    if agg:
        os.environ["MPLBACKEND"] = "Agg"
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        if old is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = old


def grade_in_subprocess(paths: list[Path], jobs: int, python: str = sys.executable
                        ) -> tuple[float, float, float]:
    """(wall seconds, grader max RSS in MB, total score) of one grading run in a fresh process
    (run from a neutral folder: ``python -c`` imports from its working folder first)."""
    code = (
        "import json, resource, sys, time\n"
        "from normcourse.grade import grade_many\n"
        "paths = json.loads(sys.argv[1]); jobs = int(sys.argv[2])\n"
        "t = time.perf_counter()\n"
        "rs = grade_many(paths, jobs=jobs)\n"
        "t = time.perf_counter() - t\n"
        "bad = [r.error for r in rs if not r.graded]\n"
        "print(bad, file=sys.stderr) if bad else None\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps([t, rss, sum(r.score for r in rs), len(bad)]))\n")
    p = subprocess.run([python, "-c", code, json.dumps([str(x) for x in paths]),
                        str(jobs)], capture_output=True, text=True, check=True,
                       cwd=tempfile.gettempdir())
    t, rss, score, bad = json.loads(p.stdout.strip().splitlines()[-1])
    if bad:  # a kernel that did not start on a busy machine: say so, keep the figure
        print(f"warning: {bad} of {len(paths)} not graded: {p.stderr.strip()[-300:]}",
              file=sys.stderr)
    return t, rss, score


# --------------------------------------------------------------------------- worst files

MB = 1_000_000


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
            "execution_count": None}


def worst_files(folder: Path) -> dict[str, Path]:
    """The worst single inputs we could build, each just under the 50 MB file limit."""
    import corpus

    def base():
        return json.loads(corpus._dump(corpus.solution_notebook()))

    files = {}

    def write(name, nb=None, text=None):
        path = folder / f"{name}.ipynb"
        path.write_text(text if text is not None else json.dumps(nb, separators=(",", ":")))
        files[name] = path

    nb = base()
    nb["cells"].append(_code("x = [" + "1," * (22 * MB) + "]"))
    write("one 44 MB code cell `x = [1,1,...]` (issue 17)", nb)
    nb = base()
    nb["cells"] += [_code("x = [" + "a," * 49_990 + "]") for _ in range(480)]
    write("480 code cells of 100,000 characters `[a,a,...]`", nb)
    nb = base()
    nb["cells"] += [_code("x = 1") for _ in range(4_990)]
    write("4,990 tiny code cells (the cell limit is 5,000)", nb)
    nb = base()
    nb["cells"] += [_code("def f(a):\n return a\n" * 4_990)]
    write("one cell of 4,990 identical functions", nb)
    nb = base()
    nb["metadata"]["junk"] = [{}] * (16 * MB)
    write("48 MB of tiny JSON objects `[{},{},...]`", nb)
    nb = base()
    nb["metadata"]["junk"] = "X"
    write("JSON nested 20 million levels deep", text=json.dumps(nb, separators=(",", ":")).replace(
        '"X"', "[" * (20 * MB) + "]" * (20 * MB)))
    nb = base()
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                  "text": "y" * (45 * MB)}]
    write("a 45 MB output in the JSON", nb)
    return files


_MEASURE = r'''
import json, re, resource, sys, time
def peak_mb():  # this process's own peak (ru_maxrss would count what the parent held at fork)
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
from normcourse.grading import load
t = time.perf_counter()
try:
    sub = load.load(sys.argv[1]); what = f"read, {sum(c.status != 'ok' for c in sub.cells)} cells not run"
except load.SubmissionError as exc:
    what = f"refused: {str(exc)[:60]}"
read = time.perf_counter() - t
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
from normcourse.grade import Limits, grade_submission
t = time.perf_counter()
r = grade_submission(sys.argv[1], Limits(timeout=300, cell_timeout=30))
print(json.dumps({"what": what, "read_s": read, "child_mb": child,
                  "grade_s": time.perf_counter() - t,
                  "score": f"{r.score:g}/{r.max_score:g}" if r.graded else "not graded",
                  "rss_mb": peak_mb()}))
'''


def worst_case_table(repeats: int) -> list[tuple]:
    """(input, MB, reading it, its reader's max RSS, grader max RSS, grade) per worst file."""
    rows = []
    folder = Path(tempfile.mkdtemp(prefix="bench-worst-"))
    try:
        for name, path in worst_files(folder).items():
            runs = []
            for _ in range(repeats):
                p = subprocess.run([sys.executable, "-c", _MEASURE, str(path)],
                                   capture_output=True, text=True, check=True,
                                   cwd=tempfile.gettempdir())
                runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
            med = {k: statistics.median(r[k] for r in runs)
                   for k in ("read_s", "child_mb", "grade_s", "rss_mb")}
            rows.append((name, path.stat().st_size / MB, runs[0]["what"], med["read_s"],
                         med["child_mb"], med["rss_mb"], med["grade_s"], runs[0]["score"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def compare(batch: list[Path], old: str, repeats: int) -> list[tuple]:
    """(jobs, old median s, new median s, ratio): old and new code alternated, same files."""
    rows = []
    for jobs in (1, 2):
        times: dict = {"old": [], "new": []}
        for _ in range(repeats):
            for label, python in (("old", old), ("new", sys.executable)):
                times[label].append(grade_in_subprocess(batch, jobs, python)[0])
        o, n = statistics.median(times["old"]), statistics.median(times["new"])
        rows.append((jobs, o, n, n / o, times))
    return rows


def probe_round_trip(repeats: int) -> list[tuple[str, float]]:
    """Median seconds of one request (call a function on 3 cases, read and decode the reply)."""
    from helpers.checking.calling import Case
    from normcourse.grading import probe
    from normcourse.grading.kernel import GradingKernel

    code = ("import numpy as np\ndef small(x):\n    return x + 1.0\n"
            "def big(x):\n    return np.full(1_100_000, x)\n")
    cases = [Case(f"case {i}", (float(i),)) for i in range(3)]
    rows = []
    with GradingKernel() as k:
        k.start()
        k.run(code, 30)
        for fn, label in (("small", "a number"), ("big", "35 MB of arrays")):
            times = []
            for _ in range(repeats):
                nonce = probe.new_nonce()
                t = time.perf_counter()
                r = k.run(probe.snippet(fn, cases, nonce, k.reply_fd), 60)
                probe.parse_reply(r.reply, nonce, len(cases))
                times.append(time.perf_counter() - t)
            rows.append((f"one request, 3 cases returning {label}", statistics.median(times)))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=20, help="submissions in the batch runs")
    ap.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--notebook", help="solution notebook (default: solutions/01_feature_scale)")
    ap.add_argument("--worst", action="store_true",
                    help="only the grader's memory on the worst single files (issue 17)")
    ap.add_argument("--compare", metavar="PYTHON",
                    help="only the batch, old (this Python's normcourse) and new alternated")
    args = ap.parse_args(argv)
    if args.worst:
        print(f"median of {args.repeats} runs; each file graded in a fresh process")
        print("| input | MB | read | reading (s) | reader max RSS | grader max RSS | "
              "grading (s) | grade |\n|---|---:|---|---:|---:|---:|---:|---|")
        for name, mb, what, read, child, rss, secs, score in worst_case_table(args.repeats):
            print(f"| {name} | {mb:.1f} | {what} | {read:.1f} | {child:.0f} MB | {rss:.0f} MB "
                  f"| {secs:.1f} | {score} |")
        return 0
    sol, lesson, tmp = _pick_notebooks(args.notebook)
    if args.compare:
        batch = []
        for i in range(args.batch):
            dst = tmp / "batch" / f"student{i:03d}" / (sol if i % 2 == 0 else lesson).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(sol if i % 2 == 0 else lesson, dst)
            batch.append(dst)
        print(f"{args.batch} submissions, old: {args.compare}, new: {sys.executable}; "
              f"alternated, median of {args.repeats}")
        print("| --jobs | old (s) | new (s) | new/old | runs old / new |\n|---|---:|---:|---:|---|")
        for jobs, o, n, ratio, times in compare(batch, args.compare, args.repeats):
            runs = " / ".join(", ".join(f"{t:.1f}" for t in times[k]) for k in ("old", "new"))
            print(f"| {jobs} | {o:.1f} | {n:.1f} | {ratio:.2f}x | {runs} |")
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    rows = []
    try:
        # 1. one submission vs executing it alone
        alone = [execute_alone(sol) for _ in range(args.repeats)]
        alone_agg = [execute_alone(sol, agg=True) for _ in range(args.repeats)]
        one = [grade_in_subprocess([sol], 1) for _ in range(args.repeats)]
        t_alone, t_agg = statistics.median(alone), statistics.median(alone_agg)
        t_one = statistics.median(r[0] for r in one)
        rows.append(("execute the notebook alone (nbclient)", f"{t_alone:.2f} s", "", ""))
        rows.append(("  same, matplotlib Agg like the grader", f"{t_agg:.2f} s", "", ""))
        rows.append(("grade it (normcourse grade)", f"{t_one:.2f} s",
                     f"{t_one / t_alone:.2f}x", "<= 1.5x"))
        rows.append(("  vs the Agg execution", "", f"{t_one / t_agg:.2f}x", "<= 1.5x"))
        # 2. a batch one by one vs --jobs 2
        batch = []
        for i in range(args.batch):
            src = sol if i % 2 == 0 else lesson
            dst = tmp / "batch" / f"student{i:03d}" / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
            batch.append(dst)
        seq = [grade_in_subprocess(batch, 1) for _ in range(args.repeats)]
        par = [grade_in_subprocess(batch, 2) for _ in range(args.repeats)]
        t_seq = statistics.median(r[0] for r in seq)
        t_par = statistics.median(r[0] for r in par)
        rows.append((f"{args.batch} submissions, --jobs 1", f"{t_seq:.1f} s",
                     f"{t_seq / args.batch:.2f} s each", ""))
        rows.append((f"{args.batch} submissions, --jobs 2", f"{t_par:.1f} s",
                     f"{t_par / t_seq:.2f}x", "<= 0.6x"))
        # 3. grader memory as the batch grows
        sizes = sorted({max(1, args.batch // 4), max(1, args.batch // 2), args.batch})
        for n in sizes:
            rss = statistics.median(grade_in_subprocess(batch[:n], 2)[1]
                                    for _ in range(args.repeats))
            rows.append((f"grader max RSS, {n} submissions (--jobs 2)", f"{rss:.0f} MB", "",
                         "flat"))
        # 4. the cost of one request to a kernel
        for name, t in probe_round_trip(max(args.repeats, 5)):
            rows.append((name, f"{t * 1000:.0f} ms", "", ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    w = max(len(r[0]) for r in rows)
    print(f"notebook: {sol.relative_to(ROOT) if sol.is_relative_to(ROOT) else sol.name}; "
          f"median of {args.repeats} runs")
    print(f"{'measurement':<{w}}  {'value':>10}  {'ratio':>16}  budget")
    for name, value, ratio, budget in rows:
        print(f"{name:<{w}}  {value:>10}  {ratio:>16}  {budget}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
