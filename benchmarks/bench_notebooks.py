"""Execution time of each solution notebook in a fresh kernel (median of N runs).

    python benchmarks/bench_notebooks.py [--runs 5] [NOTEBOOK ...]

Prints a Markdown table. Budgets (issue text): lessons 1 and 2 <= 5 s, lessons 3 and 4 <= 15 s,
on the course's 2-core machine. Each run executes a copy in a temporary folder,
so the committed notebooks are not touched.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = {"01": 5.0, "02": 5.0, "03": 15.0, "04": 15.0}


def run_once(path: Path) -> float:
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
    paths = args.notebooks or sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    print(f"| notebook | cells run (median of {args.runs}, s) | min | max | kernel start (s) "
          "| budget (s) | within |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        runs = [run_once(path) for _ in range(args.runs)]
        cells = [r[0] for r in runs]
        med = statistics.median(cells)
        budget = BUDGET_S.get(path.name[:2])
        ok = "—" if budget is None else ("yes" if med <= budget else "NO")
        print(f"| {path.name} | {med:.2f} | {min(cells):.2f} | {max(cells):.2f} "
              f"| {statistics.median(r[1] for r in runs):.2f} | {budget or '—'} | {ok} |",
              flush=True)


if __name__ == "__main__":
    main()
