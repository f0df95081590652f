"""``normcourse build``: generate ``lessons/`` from the instructor notebooks in ``solutions/``.

Follows nbgrader's conventions so that the same notebooks also work as nbgrader
source notebooks:

- code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in a cell whose
  nbgrader metadata says ``solution: true`` becomes ``# YOUR CODE HERE`` +
  ``raise NotImplementedError()`` at the marker's indentation (a solution cell
  without markers is replaced whole; markdown becomes "YOUR ANSWER HERE");
- ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` blocks are removed;
- outputs and execution counts are cleared.

Being strict is the point: a misspelled, nested, unclosed or misplaced marker is
an error, never passed through (a solution must never reach ``lessons/``).

A generated lesson records a hash of its cells. When a lesson on disk no longer
matches its own hash, a learner has edited or run it: the build refuses to
overwrite it unless ``force`` is given.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
MARKDOWN_STUB = "YOUR ANSWER HERE"
NBGRADER_KEYS = {"schema_version", "grade", "solution", "locked", "grade_id", "points", "task",
                 "checksum", "cell_type"}
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")

MARKERS = {
    "### BEGIN SOLUTION": ("begin", "solution"),
    "### END SOLUTION": ("end", "solution"),
    "### BEGIN HIDDEN TESTS": ("begin", "hidden"),
    "### END HIDDEN TESTS": ("end", "hidden"),
}
# anything that looks like an attempt at a marker (so a typo is caught, not passed through)
MARKER_LIKE = re.compile(r"(?i)^\s*#+\s*((begin|end)[\s_-]*(sol|hid|test)|.*\bto[ _-]*remove\b)")


class BuildError(ValueError):
    """A source notebook breaks the conventions; the message names notebook and cell."""


@dataclass
class Outcome:
    lesson: Path
    status: str  # "written", "unchanged", "stale", "refused", "missing"
    detail: str = ""


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _validate_nbgrader(meta: dict, where: str) -> dict | None:
    nb = meta.get("nbgrader")
    if nb is None:
        return None
    if not isinstance(nb, dict):
        raise BuildError(f"{where}: nbgrader metadata must be a dict")
    unknown = set(nb) - NBGRADER_KEYS
    if unknown:
        raise BuildError(f"{where}: unknown nbgrader metadata keys {sorted(unknown)}")
    if nb.get("schema_version") != 3:
        raise BuildError(f"{where}: nbgrader schema_version must be 3")
    for key in ("grade", "solution", "locked"):
        if not isinstance(nb.get(key), bool):
            raise BuildError(f"{where}: nbgrader metadata needs a boolean {key!r}")
    if nb.get("solution") or nb.get("grade") or nb.get("task"):
        gid = nb.get("grade_id")
        if not isinstance(gid, str) or not GRADE_ID.match(gid):
            raise BuildError(f"{where}: nbgrader grade_id {gid!r} is missing or invalid")
    if nb.get("grade"):
        pts = nb.get("points")
        if not isinstance(pts, (int, float)) or isinstance(pts, bool) or pts < 0:
            raise BuildError(f"{where}: graded cell needs non-negative points")
        if not nb.get("solution") and not nb.get("locked"):
            raise BuildError(f"{where}: an autograded test cell must be locked")
    return nb


def _strip(source: str, kind_allowed: set, where: str, stub: str | None) -> str:
    """Remove marked regions; kind_allowed is a subset of {"solution", "hidden"}."""
    out, open_kind, indent = [], None, ""
    for n, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        marker = MARKERS.get(stripped)
        if marker is None and MARKER_LIKE.match(line):
            raise BuildError(f"{where}, line {n}: malformed marker {stripped!r} "
                             f"(expected one of: {', '.join(MARKERS)})")
        if marker is None:
            if open_kind is None:
                out.append(line)
            continue
        action, kind = marker
        if kind not in kind_allowed:
            what = "a solution cell" if kind == "solution" else "an autograded test cell"
            raise BuildError(f"{where}, line {n}: {stripped!r} outside {what}")
        if action == "begin":
            if open_kind is not None:
                raise BuildError(f"{where}, line {n}: nested marker {stripped!r}")
            open_kind, indent = kind, line[: len(line) - len(line.lstrip())]
        else:
            if open_kind != kind:
                raise BuildError(f"{where}, line {n}: {stripped!r} without a matching BEGIN")
            if kind == "solution" and stub is not None:
                out.extend(indent + s for s in stub.split("\n"))
            open_kind = None
    if open_kind is not None:
        raise BuildError(f"{where}: unclosed ### BEGIN {open_kind.upper()} marker")
    return "\n".join(out)


def lesson_from_solution(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The learner version of one solution notebook (pure: the input is not changed)."""
    nb = copy.deepcopy(nb)
    ids = set()
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i + 1}"
        meta = _validate_nbgrader(cell.get("metadata", {}), where)
        src = _src(cell)
        solution = bool(meta and meta.get("solution"))
        grade_test = bool(meta and meta.get("grade") and not meta.get("solution"))
        if meta and meta.get("grade_id"):
            if meta["grade_id"] in ids:
                raise BuildError(f"{where}: duplicate grade_id {meta['grade_id']!r}")
            ids.add(meta["grade_id"])
        if grade_test and cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            if "raises-exception" not in tags:
                raise BuildError(f"{where}: autograded test cell needs the 'raises-exception' "
                                 "tag so that Run All goes on past a failing check")
        allowed = ({"solution"} if solution else set()) | ({"hidden"} if grade_test else set())
        stub = MARKDOWN_STUB if cell.cell_type == "markdown" else CODE_STUB
        new = _strip(src, allowed, where, stub)
        if solution and new == src:  # a solution cell without markers is replaced whole
            new = stub
        cell.source = new
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nb.metadata["normcourse"] = {"lesson": name.removesuffix(".ipynb"),
                                 "generated_from": f"solutions/{name}",
                                 "cells_hash": cells_hash(nb)}
    return nb


def cells_hash(nb) -> str:
    """Hash of what a learner can change: each cell's type, source and outputs."""
    h = hashlib.sha256()
    for cell in nb.cells:
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        h.update(json.dumps([cell.cell_type, _src(cell), outputs], sort_keys=True,
                            default=str).encode())
    return h.hexdigest()[:16]


def dumps(nb) -> str:
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _learner_touched(path: Path) -> bool:
    try:
        old = nbformat.read(path, as_version=4)
    except Exception:
        return True  # unreadable: do not overwrite silently
    recorded = old.metadata.get("normcourse", {}).get("cells_hash")
    return recorded != cells_hash(old)


def build(solutions: Path, lessons: Path, *, check: bool = False, force: bool = False,
          only: list[str] | None = None) -> list[Outcome]:
    """Generate (or, with ``check``, compare) every lesson; returns one Outcome per notebook.

    Raises BuildError for a malformed solution notebook.
    """
    solutions, lessons = Path(solutions), Path(lessons)
    results = []
    sources = sorted(p for p in solutions.glob("*.ipynb") if not p.name.startswith("."))
    if only:
        sources = [p for p in sources if p.name in only or p.stem in only]
    for src in sources:
        if not NAME.match(src.name):
            raise BuildError(f"{src.name}: notebook names must look like NN_slug.ipynb")
        nb = nbformat.read(src, as_version=4)
        text = dumps(lesson_from_solution(nb, src.name))
        target = lessons / src.name
        current = target.read_text() if target.exists() else None
        if current == text:
            results.append(Outcome(target, "unchanged"))
        elif check:
            results.append(Outcome(target, "missing" if current is None else "stale"))
        elif current is not None and not force and _learner_touched(target):
            results.append(Outcome(target, "refused",
                                   "holds edits or outputs that the build would overwrite"))
        else:
            lessons.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            results.append(Outcome(target, "written"))
    if check and not only:
        wanted = {p.name for p in sources}
        for extra in sorted(lessons.glob("*.ipynb")):
            if extra.name not in wanted:
                results.append(Outcome(extra, "stale", "has no solution notebook"))
    return results
