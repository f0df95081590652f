"""The course map: one row per solution notebook, read from the notebooks themselves.

The README's course map table is checked against this (tests/test_repo.py), so
it stays true as lessons are added: ``normcourse coursemap`` prints the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

MINUTES = re.compile(r"Estimated time:\s*\**\s*(\d+)\s*minutes", re.I)


@dataclass(frozen=True)
class Row:
    file: str
    title: str
    minutes: int | None
    exercises: int


def course_map(solutions: Path) -> list[Row]:
    rows = []
    for path in sorted(Path(solutions).glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0].source if nb.cells else ""
        title = next((ln.lstrip("# ").strip() for ln in first.splitlines() if ln.startswith("#")),
                     path.stem)
        m = MINUTES.search(first)
        n = sum(1 for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
        rows.append(Row(path.name, title, int(m.group(1)) if m else None, n))
    return rows


def markdown_table(rows: list[Row]) -> str:
    lines = ["| Lesson | Estimated time | Exercises |", "|---|---|---|"]
    for r in rows:
        lines.append(f"| [{r.title}](lessons/{r.file}) | {r.minutes} min | {r.exercises} |")
    return "\n".join(lines)
