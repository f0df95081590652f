"""Read a submitted file and work out which lesson it is, or say clearly why not.

Every problem becomes a :class:`SubmissionError` whose message a teacher can
act on; nothing here runs the submission's code.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from helpers.exercises import LESSONS, lesson_exercises

MAX_FILE_BYTES = 50_000_000
CELL_TYPES = ("code", "markdown", "raw")


class SubmissionError(ValueError):
    """The file cannot be graded; the message says why and what to do."""


@dataclass
class Submission:
    path: Path
    lesson: str
    code_cells: list  # source of each code cell, in order
    nb: dict


def _source(cell: dict, n: int) -> str:
    src = cell.get("source", "")
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    if isinstance(src, str):
        return src
    raise SubmissionError(f"not a valid notebook: cell {n} has no readable source")


def read_notebook(path: Path) -> dict:
    """The notebook as a dict (nbformat 4), or SubmissionError."""
    path = Path(path)
    try:
        if path.is_dir():
            raise SubmissionError("is a folder, not a notebook file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubmissionError(f"file too large ({size / 1e6:.0f} MB); a notebook of this "
                                  "course is well under 5 MB: clear the outputs and save again")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SubmissionError("file not found") from None
    except OSError as exc:
        raise SubmissionError(f"cannot read the file ({exc.strerror})") from None
    if not raw.strip():
        raise SubmissionError("empty file: the notebook was not saved (or saved empty)")
    if b"\x00" in raw[:8192]:
        raise SubmissionError("binary file, not a notebook (.ipynb files are JSON text)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError("binary file, not a notebook (.ipynb files are UTF-8 JSON text)") \
            from None
    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise SubmissionError(f"not JSON ({exc}); the file is damaged or is not a saved "
                              "notebook: ask for the .ipynb file saved from Jupyter") from None
    if not isinstance(nb, dict) or not ("cells" in nb or "worksheets" in nb or "nbformat" in nb):
        raise SubmissionError("JSON, but not a Jupyter notebook (no cells)")
    version = nb.get("nbformat")
    if "worksheets" in nb or (isinstance(version, int) and version < 4):
        raise SubmissionError(f"old notebook format (nbformat {version}); open it in Jupyter "
                              "and save it again, or run `jupyter nbconvert --to notebook "
                              "--nbformat 4 FILE`")
    if version != 4:
        raise SubmissionError(f"unsupported notebook format (nbformat {version!r}); "
                              "expected 4")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError("not a valid notebook: 'cells' is not a list")
    for n, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            raise SubmissionError(f"not a valid notebook: cell {n} has no valid cell_type")
        _source(cell, n)
        if not isinstance(cell.get("metadata", {}), dict):
            raise SubmissionError(f"not a valid notebook: cell {n} has invalid metadata")
    if not isinstance(nb.get("metadata", {}), dict):
        raise SubmissionError("not a valid notebook: invalid notebook metadata")
    return nb


def _grade_ids(nb: dict) -> list[tuple[str, int, bool]]:
    """(grade_id, cell number, is a solution cell) for each cell with nbgrader metadata."""
    out = []
    for n, cell in enumerate(nb["cells"], 1):
        meta = (cell.get("metadata") or {}).get("nbgrader")
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            out.append((meta["grade_id"], n, bool(meta.get("solution"))))
    return out


def lesson_named(filename: str) -> str | None:
    """The lesson a file's name claims to be: ``03_batch_norm.ipynb`` or
    ``03_batch_norm (1).ipynb`` name lesson 03_batch_norm; ``alice.ipynb`` names none."""
    stem = Path(str(filename)).name.split(".")[0].strip()
    for name in LESSONS:
        number = name.split("_", 1)[0]
        if stem.startswith(name) or re.match(rf"{number}(?:_|$|\D)", stem):
            return name
    return None


def identify(nb: dict, lesson: str | None = None, filename: str | None = None) -> str:
    """The lesson (notebook stem) of a notebook, from its content: its metadata and
    the ids of its exercise cells, which must agree.

    ``lesson`` (the teacher's ``--lesson``) and a file name that names a lesson
    (``03_batch_norm.ipynb``) are checked against the content, never trusted:
    a disagreement raises SubmissionError, as does anything else that is wrong.
    """
    content = _content_lesson(nb, lesson)
    if lesson is not None and lesson != content:
        raise SubmissionError(f"graded with --lesson {lesson}, but its content (notebook "
                              f"metadata and exercise cells) is lesson {content}")
    named = lesson_named(filename) if filename is not None else None
    if named is not None and named != content:
        raise SubmissionError(f"the file name says lesson {named}, but its content (notebook "
                              f"metadata and exercise cells) is lesson {content}: the wrong "
                              "notebook handed in, or a renamed one? Hand in the notebook of "
                              f"lesson {named}")
    return content


def _content_lesson(nb: dict, lesson: str | None) -> str:
    known = {name: [ex.id for ex in lesson_exercises(name)] for name in LESSONS}
    owner = {}
    for name, ids in known.items():
        for ex_id in ids:
            owner[ex_id] = name
            owner[f"{ex_id}_test"] = name
    ids = _grade_ids(nb)
    seen: dict[str, int] = {}
    for gid, n, _ in ids:
        if gid in seen:
            raise SubmissionError(f"the exercise id {gid!r} appears twice (cells {seen[gid]} and "
                                  f"{n}): a copied exercise cell? Delete the copy, keep one "
                                  "cell with that id, and submit again")
        seen[gid] = n
    meta = nb.get("metadata", {}).get("normcourse")
    stated = meta.get("lesson") if isinstance(meta, dict) else None
    if stated is not None and not isinstance(stated, str):
        raise SubmissionError("not a valid notebook: its lesson metadata is not a name")
    stated = stated or lesson  # --lesson stands in for lost metadata only
    from_ids = sorted({owner[gid] for gid, _, _ in ids if gid in owner})
    if stated is not None:
        if stated not in known:
            raise SubmissionError(f"a notebook of lesson {stated!r}, which this grader does not "
                                  f"grade (it grades: {', '.join(known)})")
        others = [name for name in from_ids if name != stated]
        if others:
            raise SubmissionError(f"says it is lesson {stated} but holds exercises of "
                                  f"{', '.join(others)}")
        name = stated
    elif len(from_ids) == 1:
        name = from_ids[0]
    elif not from_ids:
        found = ", ".join(sorted({g for g, _, _ in ids})[:6]) or "none"
        raise SubmissionError("not a notebook of this course's graded lessons: no lesson in its "
                              f"metadata and no known exercise ids (exercise ids found: {found})")
    else:
        raise SubmissionError(f"holds exercises of several lessons ({', '.join(from_ids)})")
    solution_ids = {gid for gid, _, sol in ids if sol}
    missing = [ex_id for ex_id in known[name] if ex_id not in solution_ids]
    if missing:
        raise SubmissionError(
            f"lesson {name}: the exercise cell(s) {', '.join(missing)} are missing (the cell "
            "was deleted or its nbgrader metadata lost, e.g. by copying its code into a new "
            "cell). Restore the cell from the lesson notebook, put the answer in it, and "
            "submit again")
    return name


def load(path: Path, lesson: str | None = None) -> Submission:
    nb = read_notebook(path)
    name = identify(nb, lesson, Path(path).name)
    code = [_source(c, n) for n, c in enumerate(nb["cells"], 1) if c["cell_type"] == "code"]
    return Submission(Path(path), name, code, nb)


# --------------------------------------------------------------------------- what the code defines


def _defined_names(source: str) -> list[str]:
    """Names a cell defines at its top level (def, class, assignment, import as)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics, or a real syntax error: read the def lines
        return re.findall(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)", source, flags=re.M)
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
    return names


def _cells(nb: dict):
    """(cell, code cell number or None, cell number) for each cell."""
    code = 0
    for n, cell in enumerate(nb["cells"], 1):
        if cell.get("cell_type") == "code":
            code += 1
            yield cell, code, n
        else:
            yield cell, None, n


def _grade_id(cell: dict):
    meta = (cell.get("metadata") or {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def why_missing(nb: dict, exercise_id: str, function: str) -> str:
    """Why the kernel has no ``function`` after the notebook ran: what its exercise cell is."""
    for cell, code_n, n in _cells(nb):
        if _grade_id(cell) != exercise_id:
            continue
        if code_n is None:
            return (f"its exercise cell (cell {n}) is a {cell.get('cell_type')} cell, not a "
                    "code cell: change it back to Code (in Jupyter: select it, press Y), run "
                    "it, and save")
        defined = [d for d in _defined_names(_source(cell, n)) if not d.startswith("_")]
        if function not in defined:
            instead = (f"defines {', '.join(defined[:3])} instead" if defined
                       else f"does not define {function}")
            return (f"its exercise cell (code cell {code_n}) {instead}: was the function "
                    f"renamed? The grader calls it by its name, {function}")
        return (f"its exercise cell (code cell {code_n}) defines it, but the definition was "
                "lost when the notebook ran (did that cell raise an error? see the notes; or "
                f"a later cell deleted {function})")
    return "its exercise cell is missing from the notebook"


def redefined_after_check(nb: dict, exercise_id: str, function: str) -> list[int]:
    """Code cells after the exercise's check cell (or its exercise cell when the check
    cell is gone) that define ``function`` again: the grader calls the last definition."""
    anchor = None
    for cell, code_n, _ in _cells(nb):
        if code_n is not None and _grade_id(cell) in (exercise_id, f"{exercise_id}_test"):
            anchor = code_n
    if anchor is None:
        return []
    return [code_n for cell, code_n, n in _cells(nb)
            if code_n is not None and code_n > anchor
            and function in _defined_names(_source(cell, n))]
