"""Read a submitted file and work out which lesson it is, or say clearly why not.

Every problem becomes a :class:`SubmissionError` whose message a teacher can
act on; nothing here runs the submission's code. The file's bytes are read,
parsed and its code analysed in a child process under limits (:mod:`.scan`,
:func:`scan`): the grader itself never parses what a submission wrote.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import helpers
import normcourse
from helpers.answers import guard
from helpers.exercises import LESSONS, lesson_exercises
from normcourse.grading.scan import MAX_CELL_CHARS, MAX_CODE_CHARS

MAX_FILE_BYTES = 50_000_000
SCAN_MEMORY_MB = 400  # address space of the child that reads and analyses one file
SCAN_SECONDS = 60  # time it gets
_CHILD = """import sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
    resource.setrlimit(resource.RLIMIT_CPU, ({seconds}, {seconds} + 5))
except (ImportError, ValueError, OSError):
    pass
sys.path[:0] = {paths!r}
from normcourse.grading import flow, scan
scan.main(flow.safe_statements)
"""


class SubmissionError(ValueError):
    """The file cannot be graded; the message says why and what to do."""


@dataclass
class Cell:
    """What the analysis found in one code cell (:func:`normcourse.grading.scan.analyse`)."""

    status: str  # ok; syntax, unencodable, too_large, over_total, too_complex,
    #              not_analysed: not run
    message: str = ""
    defines: list = field(default_factory=list)
    bindings: list = field(default_factory=list)  # [names bound, names used, course copies]
    flow: list | None = None  # each statement's facts (grading.flow), None when not analysed


@dataclass
class Submission:
    path: Path
    lesson: str
    code_cells: list  # source of each code cell, in order ("" for a cell not read)
    nb: dict  # the notebook, slimmed: cell types, nbgrader metadata, lesson metadata
    cells: list = field(default_factory=list)  # a Cell per code cell

    def not_run(self) -> dict:
        """Code cell index -> why the grader does not run it ("" after the first of a kind)."""
        out, said = {}, set()
        for i, cell in enumerate(self.cells):
            if cell.status != "ok":
                out[i] = "" if cell.status in said else _why_not_run(i, cell)
                if cell.status in ("over_total", "not_analysed"):
                    said.add(cell.status)
        return out


def _why_not_run(i: int, cell: Cell) -> str:
    where = f"code cell {i + 1}"
    return {
        "syntax": f"{where} has a syntax error ({cell.message}), so it was not run",
        "unencodable": (f"{where} was not run: it holds a character that no Python source can "
                        f"hold ({cell.message}, a lone surrogate)"),
        "too_large": (f"{where} was not run: its code is {cell.message} long, more than the "
                      f"{MAX_CELL_CHARS:,} the grader reads in one cell"),
        "over_total": (f"code cells from {i + 1} on were not run: the notebook's code is "
                       f"longer than the {MAX_CODE_CHARS:,} characters the grader reads"),
        "too_complex": (f"{where} was not run: its code is too complex for the grader to "
                        f"analyse ({cell.message})"),
    }.get(cell.status, f"code cells from {i + 1} on were not run: the grader could not "
                       f"analyse their code within its limits ({SCAN_SECONDS} s, "
                       f"{SCAN_MEMORY_MB} MB)")


def _child_code() -> str:
    paths = sorted({str(Path(m.__file__).resolve().parents[1]) for m in (helpers, normcourse)})
    return _CHILD.format(memory=SCAN_MEMORY_MB * 2**20, seconds=SCAN_SECONDS, paths=paths)


def _run_child(path: Path) -> tuple[list, str]:
    """The JSON lines the child wrote, and why it stopped early ("" when it did not)."""
    request = json.dumps({"path": str(path.resolve()), "max_bytes": MAX_FILE_BYTES,
                          "course": guard.course_table()})
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _child_code()], cwd="/",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    why = ""
    try:
        out, err = proc.communicate(request.encode(), timeout=SCAN_SECONDS + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        why = f"it took more than {SCAN_SECONDS} s"
    if not why and proc.returncode:
        why = ("it needs more memory than the grader gives it "
               f"({SCAN_MEMORY_MB} MB)" if b"MemoryError" in err[-2000:] else
               f"the grader's reader stopped ({err.decode(errors='replace')[-300:].strip()})")
    lines = []
    for line in out.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:  # cut short by the kill
            break
    return lines, why


def scan(path: Path) -> tuple[dict, list, list]:
    """The slimmed notebook, its code cells' sources and a :class:`Cell` per code cell."""
    path = Path(path)
    try:
        if path.is_dir():
            raise SubmissionError("is a folder, not a notebook file")
        size = path.stat().st_size
    except FileNotFoundError:
        raise SubmissionError("file not found") from None
    except OSError as exc:
        raise SubmissionError(f"cannot read the file ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise SubmissionError(f"file too large ({size / 1e6:.0f} MB); a notebook of this "
                              "course is well under 5 MB: clear the outputs and save again")
    lines, why = _run_child(path)
    if not lines or "nb" not in lines[0]:
        if lines and "error" in lines[0]:
            raise SubmissionError(lines[0]["error"])
        raise SubmissionError(f"could not be read: {why or 'no answer from the reader'}; "
                              "a notebook saved from Jupyter is read in well under a second")
    nb, code = lines[0]["nb"], lines[0]["code"]
    facts: dict = {}
    for d in lines[1:]:
        if "cell" in d:
            facts.setdefault(d["cell"], {}).update(d)
    cells = [Cell(d.get("status", "not_analysed"), d.get("message", ""), d.get("defines", []),
                  d.get("bindings", []), d.get("flow"))
             for d in (facts.get(i, {}) for i in range(len(code)))]
    if any(facts.get(i, {}).get("copies") for i in range(len(code))):
        for i, cell in enumerate(cells):  # a copy, and a cell whose bindings did not come
            if cell.status == "ok" and "bindings" not in facts[i]:
                cell.status = "not_analysed"
    return nb, code, cells


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
    nb, code, cells = scan(Path(path))
    name = identify(nb, lesson, Path(path).name)
    return Submission(Path(path), name, code, nb, cells)
