"""Sharded grading: ``normcourse grade --shard I/N`` and ``normcourse merge`` (issue 21).

    normcourse grade submissions/*.ipynb --seed 7 --shard 2/4 --format json --out shard-2.json
    normcourse merge shard-*.json --out grades.json [--format json|csv|gradescope|table]

Shard I of N grades every N-th submission of the *sorted* list, starting at the I-th
(1-based), so the N shards cover the list exactly once whatever order the shell gave,
and each gets a mix of the lessons. A shard's JSON carries ``"shard"``: its index, N,
the seed, and a fingerprint of the whole sorted list. ``merge`` checks that the files
are the N shards of one run (same N, list and seed; none missing, none twice: the error
names them), and writes what ``normcourse grade`` would have written for the whole
sorted list in one run with the same ``--seed`` (the seconds each submission took aside).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re


class ShardError(ValueError):
    """Shards that do not make one run; the message names them."""


def parse(spec: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ShardError(f"--shard {spec!r}: expected I/N with 1 <= I <= N, e.g. 2/4")
    return int(m.group(1)), int(m.group(2))


def fingerprint(paths) -> str:
    return hashlib.sha256("\n".join(sorted(map(str, paths))).encode("utf-8",
                                                                     "surrogatepass")).hexdigest()


def select(paths, spec: str) -> list:
    """The submissions of shard ``spec`` ("I/N"): every N-th of the sorted list from the I-th."""
    i, n = parse(spec)
    return sorted(paths, key=str)[i - 1::n]


def take(args) -> None:
    """Narrow ``args.submissions`` to the shard ``args.shard``; remember the whole run."""
    if args.format != "json":
        raise ShardError("--shard writes the shard's grades as JSON for `normcourse merge`: "
                         "add --format json (merge writes CSV or Gradescope)")
    i, n = parse(args.shard)
    args.shard_info = {"index": i, "count": n, "seed": args.seed,
                       "of": fingerprint(args.submissions), "total": len(args.submissions)}
    args.submissions = select(args.submissions, args.shard)


def stamp(text: str, args) -> str:
    """The grades JSON ``text`` with the shard's description (unchanged when not sharded)."""
    info = getattr(args, "shard_info", None)
    if not info:
        return text
    data = json.loads(text)
    data["shard"] = info
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise ShardError(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != "normcourse-grades":
        raise ShardError(f"{path}: not a grades file of `normcourse grade --format json`")
    if not isinstance(data.get("shard"), dict):
        raise ShardError(f"{path}: not a shard (graded without --shard I/N)")
    return data


def check(files: list) -> None:
    """Raise :class:`ShardError` unless ``files`` ((path, data), ...) are the N shards of
    one run."""
    runs = {(d["shard"].get("count"), d["shard"].get("of"), d["shard"].get("seed"))
            for _, d in files}
    if len(runs) > 1:
        described = "; ".join(f"{p}: shard {d['shard'].get('index')}/{d['shard'].get('count')}"
                              f", seed {d['shard'].get('seed')}" for p, d in files)
        raise ShardError("these files are shards of different runs (another N, seed or list "
                         f"of submissions): {described}")
    (count, _, _), = runs
    by_index: dict = {}
    for path, data in files:
        by_index.setdefault(data["shard"].get("index"), []).append(path)
    twice = {i: ps for i, ps in by_index.items() if len(ps) > 1}
    missing = [i for i in range(1, count + 1) if i not in by_index]
    problems = [f"shard {i}/{count} given twice ({', '.join(ps)})" for i, ps in sorted(twice.items())]
    if missing:
        problems.append(f"missing shard{'s' * (len(missing) > 1)} "
                        f"{', '.join(f'{i}/{count}' for i in missing)}")
    if problems:
        raise ShardError("; ".join(problems))


def results(files: list, SubmissionResult, ExerciseResult) -> list:
    """The submissions of all the shards as ``SubmissionResult`` values (the classes of
    :mod:`normcourse.grade`, which imports this module), in the sorted order an unsharded
    run of the sorted list gives."""

    def build(cls, data: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    out = []
    for _, data in files:
        for sub in data.get("submissions", []):
            r = build(SubmissionResult, sub)
            r.exercises = [build(ExerciseResult, e) for e in sub.get("exercises", [])]
            out.append(r)
    return sorted(out, key=lambda r: r.submission)
