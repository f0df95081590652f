"""What Gradescope's ``run_autograder`` runs (zip made by ``normcourse autograder gradescope``).

    python -m normcourse.grading.gradescope --root /autograder --lesson 03_batch_norm -- OPTIONS

grades exactly **one** notebook of the lesson from ``ROOT/submission``, with
``normcourse grade --lesson LESSON --require-sandbox --format gradescope OPTIONS``, and
writes ``ROOT/results/results.json`` in every case:

- several notebooks uploaded: the one whose file name names the lesson
  (``03_batch_norm.ipynb``, ``03_batch_norm (1).ipynb``), else any; the newest of those
  (then the exact name ``03_batch_norm.ipynb``). The others are named in the output and
  never graded, so a score is never the sum of several notebooks;
- no notebook, or the grader failed before writing its results: score 0 and what
  happened, in words the student can act on.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from normcourse.files import write_atomic
from normcourse.grading.load import SCAN_SECONDS, lesson_named
from normcourse.grading.report import safe_md

SECONDS_AFTER_GRADING = 120  # beyond the grader's own limits (--timeout), before giving up


def notebooks(folder: Path) -> list[Path]:
    """Every uploaded notebook (a regular file, not a link; checkpoints left out)."""
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not p.is_symlink()
                  and ".ipynb_checkpoints" not in p.relative_to(folder).parts)


def choose(found: list[Path], lesson: str) -> tuple[Path | None, list[Path]]:
    """The notebook to grade, and the others."""
    if not found:
        return None, []
    pool = [p for p in found if lesson_named(p.name) == lesson] or found
    chosen = max(pool, key=lambda p: (p.stat().st_mtime, p.name == f"{lesson}.ipynb",
                                      str(p)))
    return chosen, [p for p in found if p != chosen]


def _failed(message: str) -> dict:
    return {"score": 0.0, "output": message, "output_format": "md", "tests": [],
            "visibility": "visible", "stdout_visibility": "hidden"}


def _grade(chosen: Path, lesson: str, results: Path, options: list[str],
           timeout: float) -> dict:
    """Run ``normcourse grade`` on one notebook; its results, or a failure that says why."""
    command = [sys.executable, "-I", "-m", "normcourse.cli", "grade", "--lesson", lesson,
               "--require-sandbox", "--format", "gradescope", "--out", str(results), *options,
               "--", str(chosen)]  # after --: a file named like an option is a file
    results.unlink(missing_ok=True)
    try:
        p = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
        problem = p.stderr.strip().splitlines()[-1:] if p.returncode not in (0, 1, 3) else []
    except subprocess.TimeoutExpired:
        problem = [f"the grader did not finish within {timeout:g} s"]
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
        if isinstance(data, dict) and not problem:
            return data
    except (OSError, ValueError):
        problem = problem or ["the grader wrote no results"]
    return _failed(f"{safe_md(chosen.name)} could not be graded: "
                   f"{safe_md(' '.join(problem))}. Please tell your teacher.")


def _time_allowed(options: list[str]) -> float:
    """The grader's own time limit (``--timeout`` among the options), reading and a margin."""
    try:
        given = float(options[options.index("--timeout") + 1])
    except (ValueError, IndexError):
        given = 600.0
    return given + SCAN_SECONDS + SECONDS_AFTER_GRADING


def run(root: Path, lesson: str, options: list[str]) -> dict:
    """Grade the submission under ``root`` (Gradescope's /autograder); returns results.json."""
    results = root / "results" / "results.json"
    found = notebooks(root / "submission")
    chosen, others = choose(found, lesson)
    if chosen is None:
        data = _failed(f"No notebook (.ipynb file) was uploaded. Upload your "
                       f"{safe_md(lesson)}.ipynb, saved from Jupyter.")
    else:
        data = _grade(chosen, lesson, results, options, _time_allowed(options))
        names = ", ".join(safe_md(str(p.relative_to(root / "submission"))) for p in others)
        said = f"Graded {safe_md(str(chosen.relative_to(root / 'submission')))}."
        if others:
            said += (f" Not graded: {names} (one notebook is graded per submission: upload "
                     f"only {safe_md(lesson)}.ipynb).")
        data["output"] = f"{said}\n\n{data.get('output', '')}".rstrip()
    write_atomic(results, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m normcourse.grading.gradescope",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default="/autograder", type=Path)
    ap.add_argument("--lesson", required=True)
    ap.add_argument("options", nargs="*", help="options for normcourse grade (after --)")
    args = ap.parse_args(argv)
    try:
        run(args.root, args.lesson, args.options)
    except Exception as exc:  # never leave Gradescope without a result
        write_atomic(args.root / "results" / "results.json", json.dumps(_failed(
            f"The autograder failed ({safe_md(type(exc).__name__)}); please tell your "
            "teacher.")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
