"""The command line of the class-level commands: ``normcourse merge`` and ``normcourse report``."""

from __future__ import annotations

import sys


def _merge(args) -> int:
    """``normcourse merge``: check the shards, then write as ``normcourse grade`` would."""
    from normcourse.files import write_atomic
    from normcourse.grade import ExerciseResult, SubmissionResult
    from normcourse.grading import report
    from normcourse.shards import ShardError, check, read, results

    try:
        files = [(path, read(path)) for path in args.shards]
        check(files)
    except ShardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    merged = results(files, SubmissionResult, ExerciseResult)
    text = report.render(merged, args.format)
    if args.out:
        write_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    print(f"merged {len(files)} shards: {len(merged)} submissions, "
          f"{sum(not r.graded for r in merged)} not graded", file=sys.stderr)
    return 0 if all(r.graded for r in merged) else 1


def _report(args) -> int:
    from normcourse.classreport import main

    return main(args)


def add_class_commands(sub) -> None:
    m = sub.add_parser(
        "merge", help="join the grades of the shards of one run (grade --shard I/N)",
        description="Join the JSON grades of the N shards of one `normcourse grade --shard "
                    "I/N` run into what one unsharded run would have written. Missing or "
                    "duplicated shards, or shards of different runs, are an error naming them.")
    m.add_argument("shards", nargs="+", metavar="SHARD.json")
    m.add_argument("--out", metavar="PATH", help="write the grades here instead of stdout")
    m.add_argument("--format", choices=("json", "csv", "gradescope", "table"), default="json",
                   help="as `normcourse grade --format` (default json)")
    m.set_defaults(func=_merge)
    r = sub.add_parser(
        "report", help="what a class got wrong: a report from grades JSON files",
        description="A class report from the grades of `normcourse grade --format json` "
                    "(any number of files: shards, lessons): pass rates, points, the named "
                    "mistakes ranked, the predictions, the submissions that could not be "
                    "graded, the time taken. One self-contained HTML file (figures embedded, "
                    "nothing fetched) or Markdown.")
    r.add_argument("grades", nargs="+", metavar="GRADES.json")
    r.add_argument("--out", metavar="PATH", help="write the report here instead of stdout")
    r.add_argument("--format", choices=("html", "md"), default="html",
                   help="html (default: with figures) or md (tables only)")
    r.set_defaults(func=_report)
