"""What a submission's code defines, from its analysis (:mod:`.scan`), never from running it.

- :func:`why_missing`: the kernel has no function of that name: what its exercise cell is;
- :func:`redefined_after_check`: the function is defined again after its check cell;
- :func:`course_copy`: the function is, or uses by name, a copy of a course function
  (:func:`helpers.answers.guard.course_function`): the same own-work verdict as the
  learner's check, decided from the submission's source in the grader, so nothing the
  kernel does can change it.
"""

from __future__ import annotations

from normcourse.grading.load import Submission, _why_not_run


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


def why_missing(sub: Submission, exercise_id: str, function: str) -> str:
    """Why the kernel has no ``function`` after the notebook ran: what its exercise cell is."""
    for cell, code_n, n in _cells(sub.nb):
        if _grade_id(cell) != exercise_id:
            continue
        if code_n is None:
            return (f"its exercise cell (cell {n}) is a {cell.get('cell_type')} cell, not a "
                    "code cell: change it back to Code (in Jupyter: select it, press Y), run "
                    "it, and save")
        facts = sub.cells[code_n - 1]
        if facts.status not in ("ok", "syntax"):
            return f"its exercise cell: {_why_not_run(code_n - 1, facts)}"
        defined = [d for d in facts.defines if not d.startswith("_")]
        if function not in defined:
            instead = (f"defines {', '.join(defined[:3])} instead" if defined
                       else f"does not define {function}")
            return (f"its exercise cell (code cell {code_n}) {instead}: was the function "
                    f"renamed? The grader calls it by its name, {function}")
        if facts.status == "syntax":
            return (f"its exercise cell (code cell {code_n}) has a syntax error "
                    f"({facts.message}), so it was not run: fix it, run it, and save")
        return (f"its exercise cell (code cell {code_n}) defines it, but the definition was "
                "lost when the notebook ran (did that cell raise an error? see the notes; or "
                f"a later cell deleted {function})")
    return "its exercise cell is missing from the notebook"


def redefined_after_check(sub: Submission, exercise_id: str, function: str) -> list[int]:
    """Code cells after the exercise's check cell (or its exercise cell when the check
    cell is gone) that define ``function`` again: the grader calls the last definition."""
    anchor = None
    for cell, code_n, _ in _cells(sub.nb):
        if code_n is not None and _grade_id(cell) in (exercise_id, f"{exercise_id}_test"):
            anchor = code_n
    if anchor is None:
        return []
    return [i + 1 for i, facts in enumerate(sub.cells)
            if i + 1 > anchor and facts.status == "ok" and function in facts.defines]


def course_copy(sub: Submission, function: str) -> str:
    """The course function that ``function`` is a copy of, or reaches by name ("" if none).

    From ``function``, follow every name its definitions use, through every top-level
    statement of the notebook that binds that name (any cell, any order: a name may be
    rebound in between) -- and a copy named like a course function counts as a binding of
    that name wherever it sits. Cells that are not run are left out. A learner's own code
    holds no copy, so the search finds nothing, however far it goes.
    """
    bindings: dict = {}
    for cell in sub.cells:
        if cell.status != "ok":
            continue
        for names, refs, copies in cell.bindings:
            for name in [*names, *copies]:
                bindings.setdefault(name, []).append((refs, copies))
    seen, todo = set(), [function]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for refs, copies in bindings.get(name, ()):
            if copies:
                return name if name in copies else copies[0]
            todo.extend(refs)
    return ""
