"""The ``normcourse`` console script: instructor tooling (build, execute, grade, autograder)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT_HELP = "course folder holding solutions/ and lessons/ (default: current folder)"
#: importable name -> the package to install, for the message when one is missing
PIP_NAMES = {"nbformat": "nbformat", "nbclient": "nbclient", "jupyter_client": "jupyter-client",
             "psutil": "psutil", "ipykernel": "ipykernel", "numpy": "numpy",
             "IPython": "ipython", "zmq": "pyzmq"}


class MissingDependency(Exception):
    def __init__(self, command: str, exc: ModuleNotFoundError):
        name = (exc.name or "").split(".")[0]
        super().__init__(
            f"`normcourse {command}` needs the Python package {name!r}, which is not "
            f"installed here. Install it (pip install {PIP_NAMES.get(name, name)}), or "
            "reinstall the course with `pip install normalization-course` so that every "
            "dependency comes with it.")


def _build(args) -> int:
    try:
        from normcourse.build import BuildError, build
    except ModuleNotFoundError as exc:
        raise MissingDependency("build", exc) from None

    root = Path(args.root)
    try:
        results = build(root / "solutions", root / "lessons", check=args.check, force=args.force,
                        only=args.notebooks or None)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bad = 0
    for r in results:
        if r.status in ("stale", "missing"):
            bad += 1
            print(f"{r.lesson}: {'missing' if r.status == 'missing' else 'out of date'}"
                  f"{' (' + r.detail + ')' if r.detail else ''}; run `normcourse build`")
        elif r.status == "refused":
            bad += 1
            print(f"{r.lesson}: not overwritten: it {r.detail}. Save your work elsewhere, or "
                  "run `normcourse build --force` to replace it.", file=sys.stderr)
        elif not args.check:
            print(f"{r.lesson}: {r.status}")
    if args.check and not bad:
        print(f"lessons/ is up to date ({len(results)} notebooks)")
    return 1 if bad else 0


def _execute(args) -> int:
    try:
        from normcourse.execute import execute_notebook
    except ModuleNotFoundError as exc:
        raise MissingDependency("execute", exc) from None

    for nb in args.notebooks:
        print(f"{nb}: executed in {execute_notebook(Path(nb), timeout=args.timeout):.1f} s")
    return 0


def _grade(args) -> int:
    try:
        from normcourse.grade import main as grade_main
    except ModuleNotFoundError as exc:
        raise MissingDependency("grade", exc) from None

    return grade_main(args)


def _add_grade(sub) -> None:
    g = sub.add_parser(
        "grade", help="grade submitted notebooks with the course's own test cases",
        description="Grade submitted notebooks with the course's own test cases, computed in "
                    "this process on fresh random cases.")
    g.add_argument("submissions", nargs="*", metavar="SUBMISSION.ipynb")
    g.add_argument("--format", choices=("table", "json", "csv", "gradescope"), default="table",
                   help="table (default), json (per submission and exercise), csv (gradebook: "
                        "one row per submission) or gradescope (results.json)")
    g.add_argument("--out", metavar="PATH", help="write the grades here instead of stdout")
    g.add_argument("--feedback", metavar="DIR",
                   help="write one Markdown feedback file per submission into DIR")
    g.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="grade N submissions at a time, one kernel each (default 1)")
    g.add_argument("--timeout", type=float, default=600, metavar="SECONDS",
                   help="time allowed for one submission: running all its cells and "
                        "calling its functions (default 600)")
    g.add_argument("--cell-timeout", type=float, default=120, metavar="SECONDS",
                   help="time allowed per cell and per graded function call (default 120)")
    g.add_argument("--disk", type=int, default=500, metavar="MB",
                   help="disk space all the files a submission's kernel writes may take "
                        "(default 500; each single file: 100)")
    g.add_argument("--memory", type=int, default=2048, metavar="MB",
                   help="memory limit of each submission's kernel and the processes it "
                        "starts (resident memory; default 2048)")
    g.add_argument("--max-output", type=float, default=5, metavar="MB",
                   help="output allowed per cell before it is stopped (default 5)")
    g.add_argument("--kernels-ahead", type=int, default=None, metavar="N",
                   help="start N kernels ahead, while submissions run (each still a new "
                        "kernel in a new sandbox; default: as many as --jobs; 0: none)")
    g.add_argument("--run-all-cells", action="store_true",
                   help="run every cell, also the course's own cells that no grade can "
                        "depend on (skipped by default: docs/teachers.md)")
    g.add_argument("--lesson", metavar="NN_slug",
                   help="the lesson every notebook must be: checked against its content "
                        "(a notebook of another lesson is an error row); also stands in for "
                        "lost lesson metadata")
    g.add_argument("--exercise", action="append", metavar="ID",
                   help="grade only this exercise (repeatable), e.g. ex1_gradient; a "
                        "notebook of another lesson is an error row")
    g.add_argument("--seed", type=int, help="seed of the test cases (default: a fresh random one)")
    g.add_argument("--shard", metavar="I/N",
                   help="grade only the I-th of N slices of the sorted submissions (every "
                        "N-th from the I-th; with --format json and the same --seed in every "
                        "shard), then join them with `normcourse merge`")
    g.add_argument("--require-full", action="store_true",
                   help="exit with status 3 unless every submission gets full points, "
                        "out of more than 0 (for pass/fail autograders such as GitHub "
                        "Classroom)")
    g.add_argument("--require-sandbox", action="store_true",
                   help="refuse to grade unless each submission's kernel is isolated (a "
                        "bubblewrap sandbox or a separate user; without, the grader warns "
                        "loudly and grades anyway)")
    g.add_argument("--isolation", choices=("auto", "bwrap", "uid", "none"), default="auto",
                   help="how each kernel is kept apart: bwrap (a bubblewrap sandbox), uid (a "
                        "separate user; the grader must be root), none; auto (default): "
                        "bwrap if it works here, else uid when root, else none with a warning")
    g.add_argument("--pass-env", action="append", metavar="NAME[=VALUE]",
                   help="add this variable to each kernel's environment (repeatable); it "
                        "gets only PATH, LANG, LC_*, TZ, PYTHONPATH and a few more otherwise")
    g.add_argument("--verbose", action="store_true",
                   help="say which isolation is used and which variables a kernel gets")
    g.add_argument("--github-classroom", metavar="NN_slug",
                   help="print a GitHub Classroom autograding workflow for this lesson "
                        "(one step per exercise, with its points) and exit")
    g.add_argument("--install", default='pip install "normalization-course @ git+https://github.com/YOUR-ORG/normalization-course"',
                   help="install command used in the --github-classroom workflow")
    g.set_defaults(func=_grade)


def _autograder(args) -> int:
    from normcourse.autograder import main as autograder_main

    return autograder_main(args)


def _add_autograder(sub) -> None:
    a = sub.add_parser("autograder", help="build an autograder for a grading platform",
                       description="Build an autograder for a grading platform.")
    platforms = a.add_subparsers(dest="platform", required=True)
    g = platforms.add_parser(
        "gradescope", help="the autograder zip of one lesson for Gradescope",
        description="Build the zip of a Gradescope programming assignment for one lesson: "
                    "setup.sh installs the course from a wheel built from this checkout (no "
                    "notebook, no solutions/) and bubblewrap; run_autograder grades one "
                    "notebook of the lesson per submission, in the grader's sandbox.")
    g.add_argument("lesson", metavar="NN_slug")
    g.add_argument("--out", required=True, metavar="PATH", help="the zip to write")
    g.add_argument("--root", help="the course's checkout (default: the one this normcourse "
                                  "is installed from)")
    g.add_argument("--wheel", metavar="PATH", help="ship this wheel instead of building one")
    g.add_argument("--timeout", type=float, default=600, metavar="SECONDS",
                   help="baked in: time for the submission (default 600)")
    g.add_argument("--cell-timeout", type=float, default=120, metavar="SECONDS",
                   help="baked in: time per cell and per function call (default 120)")
    g.add_argument("--memory", type=int, default=600, metavar="MB",
                   help="baked in: the kernel's memory; keep it below the container's "
                        "(default 600, for Gradescope's default container)")
    g.add_argument("--disk", type=int, default=500, metavar="MB",
                   help="baked in: the files the kernel writes (default 500)")
    g.add_argument("--max-output", type=float, default=5, metavar="MB",
                   help="baked in: output per cell (default 5)")
    g.add_argument("--exercise", action="append", metavar="ID",
                   help="baked in: grade only this exercise (repeatable)")
    g.set_defaults(func=_autograder)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (tests parse the commands that the docs and workflows print)."""
    parser = argparse.ArgumentParser(prog="normcourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate lessons/ from solutions/")
    b.add_argument("notebooks", nargs="*", help="only these solution notebooks (names or stems)")
    b.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and name each lesson that is out of date")
    b.add_argument("--force", action="store_true",
                   help="overwrite lessons even when they hold a learner's edits or outputs")
    b.add_argument("--root", default=".", help=ROOT_HELP)
    b.set_defaults(func=_build)
    e = sub.add_parser("execute", help="run solution notebooks in a fresh kernel, save outputs")
    e.add_argument("notebooks", nargs="+")
    e.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    e.set_defaults(func=_execute)
    _add_grade(sub)
    _add_autograder(sub)
    from normcourse.classcli import add_class_commands

    add_class_commands(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MissingDependency as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
