"""Per notebook: time from Run All to the last cell finishing, in a real JupyterLab.

    python benchmarks/bench_browser.py [--runs 3] [solutions/01_feature_scale.ipynb ...]

Uses the browser test harness (tests/browser/lab_driver.py): one JupyterLab server on
loopback serving a temporary copy of solutions/ and lessons/, headless Debian Chromium
through Playwright. Each run opens the notebook with a fresh kernel, runs "Run All" and
stops the clock at the kernel's reply to the last cell (kernel start-up is not counted).
Prints a Markdown table: median, min and max of ``--runs`` runs per notebook.
Needs ``apt-get install chromium`` and ``pip install playwright``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from lab_driver import Browser, LabServer, missing_requirement, stage_root  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per notebook (median)")
    parser.add_argument("notebooks", nargs="*",
                        help="paths relative to the repo (default: solutions/ and lessons/)")
    args = parser.parse_args(argv)
    reason = missing_requirement()
    if reason:
        print(f"skipped: {reason}")
        return 0
    notebooks = args.notebooks or [
        p.relative_to(REPO).as_posix()
        for folder in ("solutions", "lessons") for p in sorted((REPO / folder).glob("*.ipynb"))]
    if not notebooks:
        print("no notebooks in solutions/ or lessons/")
        return 0
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        root = stage_root(Path(tmp))
        with LabServer(root) as lab, Browser() as browser:
            for path in notebooks:
                times = []
                for _ in range(args.runs):
                    nb = browser.open_notebook(lab, path)
                    try:
                        times.append(nb.run_all())
                    finally:
                        nb.close()
                        lab.shutdown_kernels()
                rows.append((path, times))
                print(f"  {path}: {', '.join(f'{t:.2f}' for t in times)} s", file=sys.stderr)
    print(f"\nRun All -> last cell finished, seconds, {args.runs} run(s) per notebook "
          f"(JupyterLab + headless Chromium; total wall time {time.perf_counter() - started:.0f} s)\n")
    print("| notebook | median (s) | min (s) | max (s) |")
    print("|---|---:|---:|---:|")
    for path, times in rows:
        print(f"| {path} | {statistics.median(times):.2f} | {min(times):.2f} | "
              f"{max(times):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
