"""Which course cells of a submission cannot affect any grade, so need not run.

A lesson's handout (``lessons/NN_slug.ipynb``, built from its solution) holds the
course's own cells: training runs, sweeps and figures that take most of a lesson's
time. The grader only calls the exercises' functions, after the cells ran; a course
cell matters to a grade only through what it leaves behind for them. So:

- a submission's code cell is a **course cell** when its source is byte for byte a
  code cell of its lesson's handout that is not an exercise or check cell (nbgrader
  metadata). A cell the learner edited, added or pasted is not one, and runs;
- exercise cells, check cells, every other non-course cell and every course statement
  with a global effect (:mod:`.flow`: seeds, rcParams, files...) always run;
- a course statement runs when it may bind or change a name that a running statement
  reads (names are followed to a fixpoint; calling a function reaches what its body
  reads; a name bound only by imports is a module or a course tool, which only an
  attribute assignment changes: an effect). A function that changes in place an object it
  does not bind (``f.calls = ...``, ``d[k] = ...``, ``environ.update(...)``) keeps state: a
  course call of it changes that name, or, for an object bound by an import, is an effect.
  Import statements are followed one by one;
- anything the analysis cannot follow, anywhere in the submission (a magic,
  ``globals()``, ``exec``, ``getattr`` with a computed name, ``import *``...), or a
  handout that is not there: nothing is skipped.

``normcourse grade --run-all-cells`` turns this off (:func:`plan` returns ``{}``), and so
does a submission whose plan would pass the planner's budget (it runs in the grader's own
process: :data:`MAX_HELD_PER_FACT`, :data:`MAX_WORK_PER_FACT`, :data:`MAX_HELD`, :data:`MAX_WORK`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import normcourse

LESSONS = Path(normcourse.__file__).resolve().parents[1] / "lessons"


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def _graded(cell: dict) -> bool:
    meta = (cell.get("metadata") or {}).get("nbgrader")
    return isinstance(meta, dict) and bool(meta.get("solution") or meta.get("grade")
                                           or meta.get("grade_id"))


@functools.lru_cache(maxsize=32)
def course_cells(lesson: str) -> frozenset:
    """Digests of the handout's code cells that are not exercise or check cells."""
    path = LESSONS / f"{Path(lesson).name}.ipynb"
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(_digest("".join(c["source"]) if isinstance(c["source"], list)
                             else c["source"])
                     for c in nb.get("cells", [])
                     if c.get("cell_type") == "code" and not _graded(c))


def _code_meta(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c.get("cell_type") == "code"]


def plan(sub, course: frozenset | None = None) -> dict:
    """Code cell index -> the source to run instead ("" : skip the cell); cells not in it
    run as they are. ``{}`` when anything cannot be followed."""
    course = course_cells(sub.lesson) if course is None else course
    metas = _code_meta(sub.nb)
    if not course or len(metas) != len(sub.code_cells):
        return {}
    stmts = []  # (cell index, facts, always runs)
    for i, (cell, src) in enumerate(zip(sub.cells, sub.code_cells, strict=True)):
        if cell.status != "ok":
            continue  # never run anyway
        if cell.flow is None:
            return {}
        is_course = _digest(src) in course and not _graded(metas[i])
        for s in cell.flow:
            if s.get("dynamic"):
                return {}
            stmts.append((i, s, not is_course or bool(s.get("effect"))))
    try:
        keep = _fixpoint(stmts)
    except _TooLarge:
        return {}
    return _sources(sub, stmts, keep)


#: names the planner may hold in all (each statement's reach), per name in the facts: the
#: lessons hold at most 4.2; past it nothing is skipped (a submission built to make the
#: plan slow or large: copies of a course cell x the names they reach)
MAX_HELD_PER_FACT = 20
#: facts read while following calls, per name in the facts (the lessons need 10 to 40;
#: a chain of functions that each course copy follows in full costs copies x chain)
MAX_WORK_PER_FACT = 200
#: and at most these many in all, however large the notebook (the lessons: at most 3,515 names
#: held and 25,020 facts read; these take about a second and some tens of MB)
MAX_HELD, MAX_WORK = 1_000_000, 2_000_000


class _TooLarge(Exception):
    pass


def _fixpoint(stmts: list) -> list[bool]:
    held = [0, 0]  # names held in the reach sets; facts read while following calls
    facts = sum(len(s["binds"]) + len(s["loads"]) for _, s, _ in stmts)
    budget = min(MAX_HELD_PER_FACT * facts, MAX_HELD)
    work_budget = min(MAX_WORK_PER_FACT * facts, MAX_WORK)
    bound_by: dict = {}
    for n, (_, s, _) in enumerate(stmts):
        for name in s["binds"]:
            bound_by.setdefault(name, []).append(n)
    imported = {name for name, ns in bound_by.items()
                if all(stmts[n][1].get("imports") for n in ns)}
    modules = {name for name, ns in bound_by.items()
               if all(name in stmts[n][1].get("modules", ()) for n in ns)}
    objects = imported - modules  # bound by `from M import n`: n may be any object
    # the learner's names bound to an imported object (``c = CONFIG``, ``e = os.environ``):
    # changing one in place changes the object beyond the notebook, as through its own name
    aliased: set = set()
    for _ in range(len(stmts) + 1):
        found = {name for _, s, always in stmts if always for name, root in s.get("aliases", ())
                 if root in imported or root in aliased} - aliased
        if not found:
            break
        aliased |= found
    pure = {name for name, ns in bound_by.items()
            if all(stmts[n][1].get("pure") for n in ns)}  # functions without state
    # names an import bound to a state-changing function or module (``seed as s``): reading
    # one (to call it) is an effect, whatever the call's name says
    effect_names = {name for _, s, _ in stmts for name in s.get("effect_binds", ())}

    # each statement's own part, once: whether it has an effect, the names it may change,
    # what it reads (to follow to the statements that bound them) and what following costs
    follow = {name: tuple(m for m in ns if not stmts[m][1].get("imports"))
              for name, ns in bound_by.items()}
    own = []
    for _, s, always in stmts:
        stores = set(s.get("mutates", ())) | set(s["sets"])
        calls = set(s.get("mutating_calls", ()))
        if always:  # a learner's statement: through its aliases too (flow._mutations)
            stores |= set(s.get("alias_mutates", ()))
            calls |= set(s.get("alias_calls", ()))
        reads = tuple({name for name in s["loads"] if name in bound_by} - imported)
        #     (builtins: bound nowhere in the notebook, a read cannot change them)
        own.append((
            # an object bound by an import (a module's dict, os.environ...) changed in
            # place is shared beyond the notebook: an effect (a plain import's module only
            # by a store through it: np.add(...) is no change of np)
            bool(s.get("effect")) or bool(stores & (imported | aliased)) or
            bool(calls & (objects | aliased)) or bool(effect_names.intersection(s["loads"])),
            # what it reads, and what it changes in place (f.calls = ...: f has state)
            tuple(set(reads) - pure | {n for n in stores | (calls - modules) if n in bound_by}),
            reads, 1 + len(s["loads"]) + sum(len(follow[name]) for name in reads)))

    @functools.cache
    def reach(n: int) -> tuple[frozenset, bool]:
        """Names statement n may bind or change, and whether it may have an effect,
        following the functions and values it reads to the statements that bound them."""
        seen, todo, names, effect = {n}, [n], set(stmts[n][1]["binds"]), False
        while todo:  # the statements after n are those a call may run the code of
            eff, changes, reads, work = own[todo.pop()]
            effect = effect or eff
            names.update(changes)
            held[1] += work
            if held[1] > work_budget:
                raise _TooLarge
            for name in reads:
                for m in follow[name]:
                    if m not in seen:
                        seen.add(m)
                        todo.append(m)
        held[0] += len(names)
        if held[0] > budget:
            raise _TooLarge
        return frozenset(names), effect

    keep = [always or reach(n)[1] for n, (_, _, always) in enumerate(stmts)]
    needed: set = set()
    for n, k in enumerate(keep):
        if k:  # and what the learner's cells define: the grader calls it after the cells
            needed.update(stmts[n][1]["loads"], stmts[n][1]["binds"])
    # which statements may change each name (an index, so the fixpoint is linear in what
    # the reach sets hold), and each cell's statements in order
    changers: dict = {}
    cells: dict = {}
    pos: list = []
    for n, (i, s, _) in enumerate(stmts):
        pos.append(len(cells.setdefault(i, [])))
        cells[i].append(n)
        if not keep[n]:
            for name in set(s["binds"]) | reach(n)[0]:
                changers.setdefault(name, []).append(n)
    done = dict.fromkeys(cells, 0)  # how many of a cell's first statements are settled

    def before(n: int, kept: list) -> None:
        """A statement before a kept one in its cell may raise, and so stop the cell
        before it, as when every cell runs: it runs too (imports do not raise)."""
        i = stmts[n][0]
        for m in cells[i][done[i]:pos[n]]:
            if not keep[m] and not stmts[m][1].get("imports"):
                keep[m] = True
                kept.append(m)
        done[i] = max(done[i], pos[n])

    kept = [n for n, k in enumerate(keep) if k]
    for n in list(kept):
        before(n, kept)
    todo = list(needed)
    while kept or todo:
        for name in todo:
            for n in changers.pop(name, ()):
                if not keep[n]:
                    keep[n] = True
                    kept.append(n)
        todo = []
        for n in kept:  # (grows while it is walked: before() appends)
            before(n, kept)
        for n in kept:
            for name in stmts[n][1]["loads"]:
                if name not in needed:
                    needed.add(name)
                    todo.append(name)
        kept = []
    return keep


def _sources(sub, stmts: list, keep: list[bool]) -> dict:
    by_cell: dict = {}
    for (i, s, _), k in zip(stmts, keep, strict=True):
        by_cell.setdefault(i, []).append((s["lines"], k))
    out = {}
    for i, parts in by_cell.items():
        if all(k for _, k in parts):
            continue
        if not any(k for _, k in parts):
            out[i] = ""
            continue
        kept = {ln for (a, b), k in parts if k for ln in range(a, b + 1)}
        dropped = {ln for (a, b), k in parts if not k for ln in range(a, b + 1)}
        if kept & dropped:  # two statements on one line: run the whole cell
            continue
        lines = sub.code_cells[i].split("\n")
        out[i] = "\n".join(line for n, line in enumerate(lines, 1) if n not in dropped)
    return out


def summary(sub, planned: dict) -> tuple[int, int]:
    """(cells skipped whole, cells run in part)."""
    return (sum(1 for v in planned.values() if v == ""),
            sum(1 for v in planned.values() if v))
