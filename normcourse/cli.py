"""The ``normcourse`` console script."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT_HELP = "course folder holding solutions/ and lessons/ (default: current folder)"


def _build(args) -> int:
    from normcourse.build import BuildError, build

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
    from normcourse.execute import execute_notebook

    for nb in args.notebooks:
        print(f"{nb}: executed in {execute_notebook(Path(nb), timeout=args.timeout):.1f} s")
    return 0


def main(argv=None) -> int:
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
    try:
        from normcourse.grade import add_parser as add_grade_parser
    except ImportError:
        add_grade_parser = None
    if add_grade_parser is not None:
        add_grade_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
