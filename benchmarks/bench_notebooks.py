"""Execution time of each solution notebook in a fresh kernel (median of N runs), and its
ratio to a floor notebook measured in the same run.

    python benchmarks/bench_notebooks.py [--runs 5] [NOTEBOOK ...]

Prints a Markdown table. The floor (benchmarks/floor.ipynb) imports numpy, matplotlib and
ipywidgets and draws one figure: the least a lesson does. Budgets (issue texts): lessons 1
and 2 <= 5 s, lessons 3 to 5 <= 15 s, on the course's 2-core machine; every lesson at most
6 times the floor (issue 19; the ratio holds better than seconds on a loaded machine). The
notebooks run in turns (floor, lesson, lesson, ..., floor, ...), so that a change of load
touches them alike. Each run executes a copy in a temporary folder, so the committed
notebooks are not touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FLOOR = ROOT / "benchmarks" / "floor.ipynb"
BUDGET_S = {"01": 5.0, "02": 5.0, "03": 15.0, "04": 15.0, "05": 15.0}
BUDGET_FLOOR = 6.0
#: as ``normcourse execute`` and the tests run the notebooks (one BLAS thread)
ENV = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}


def run_once(path: Path) -> tuple[float, float]:
    """(seconds to run the cells, seconds to start the kernel)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(path, tmp)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": tmp}})
        start = time.perf_counter()
        with client.setup_kernel():
            ready = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        end = time.perf_counter()
    return end - ready, ready - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(ENV)  # inherited by the kernels
    paths = [FLOOR] + (args.notebooks or sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")))
    runs = {path: [] for path in paths}
    for _ in range(args.runs):
        for path in paths:
            runs[path].append(run_once(path))
    floor = statistics.median(r[0] for r in runs[FLOOR])
    print(f"| notebook | cells run (median of {args.runs}, s) | min | max | kernel start (s) "
          f"| × floor | budget (s) | within | ≤ {BUDGET_FLOOR:g}× floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        cells = [r[0] for r in runs[path]]
        med = statistics.median(cells)
        budget = BUDGET_S.get(path.name[:2])
        ok = "—" if budget is None else ("yes" if med <= budget else "NO")
        ratio = med / floor
        within = "—" if path == FLOOR else ("yes" if ratio <= BUDGET_FLOOR else "NO")
        print(f"| {path.name} | {med:.2f} | {min(cells):.2f} | {max(cells):.2f} "
              f"| {statistics.median(r[1] for r in runs[path]):.2f} | {ratio:.1f} "
              f"| {budget or '—'} | {ok} | {within} |", flush=True)


if __name__ == "__main__":
    main()
