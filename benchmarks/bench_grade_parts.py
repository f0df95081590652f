"""Where one submission's grading time goes (issue 21): kernel starts, cells, the grader's
calls of the learner's functions, and the grader's own work between them.

    python benchmarks/bench_grade_parts.py [--jobs 1] NOTEBOOK.ipynb...

Grades the notebooks with ``normcourse grade --seed 1`` (sandboxed, the default limits) in
this process, timing every ``GradingKernel.start``/``restart``/``run``/``close``; a ``run``
whose code is the grader's call snippet (``probe.snippet``) counts as a call. Prints one
table of wall seconds (totals, counts and means) and the grader process's own CPU seconds.
"Other" is the rest of the wall time: reading and planning each notebook, building the test
cases and their reference answers, judging. With ``--jobs`` above 1 the parts overlap and
their sum exceeds the wall time.
"""

from __future__ import annotations

import collections
import functools
import resource
import sys
import time

from normcourse.cli import main as cli_main
from normcourse.grading import kernel

PARTS = ("start", "restart", "cell", "call", "close")


def instrument(totals: collections.Counter, counts: collections.Counter) -> None:
    for name in ("start", "restart", "run", "close"):
        original = getattr(kernel.GradingKernel, name)

        @functools.wraps(original)
        def timed(self, *args, _original=original, _name=name, **kwargs):
            t = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                part = _name
                if _name == "run":
                    code = args[0] if args else kwargs.get("code", "")
                    part = "call" if "CODE_PATH = " in code[:400] else "cell"
                totals[part] += time.perf_counter() - t
                counts[part] += 1

        setattr(kernel.GradingKernel, name, timed)


def main(argv: list[str]) -> int:
    totals, counts = collections.Counter(), collections.Counter()
    instrument(totals, counts)
    start = time.perf_counter()
    try:
        cli_main(["grade", "--seed", "1", "--format", "json", "--out", "/dev/null", *argv])
    except SystemExit:
        pass
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    n = sum(1 for a in argv if a.endswith(".ipynb")) or 1
    print(f"{n} submissions, wall {wall:.2f} s ({wall / n:.2f} s each); grader process CPU "
          f"{own.ru_utime + own.ru_stime:.2f} s")
    print("| part | count | total (s) | mean (ms) | per submission (s) |")
    print("|---|---|---|---|---|")
    for part in PARTS:
        print(f"| {part} | {counts[part]} | {totals[part]:.2f} | "
              f"{totals[part] / max(counts[part], 1) * 1000:.1f} | {totals[part] / n:.3f} |")
    other = wall - sum(totals.values())
    print(f"| other (the grader between) | | {other:.2f} | | {other / n:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
