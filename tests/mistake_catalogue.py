"""The mistake ids the judges declare, read from their source (issue 21).

    python tests/mistake_catalogue.py > tests/data/mistake_ids.txt

A judge names a mistake with ``Mismatch(message, "short-id")`` (or ``id=``); the grader
writes ``<exercise id>/<short id>`` per failed case (``<exercise id>/other`` when it has no
name, :mod:`normcourse.grading.mistakes`). This module follows each exercise's judge
through the functions it calls (in ``helpers.exercises`` and ``helpers.checking``) and
reads every ``Mismatch`` call: a literal id, or a name bound by a ``for`` over a literal
table of tuples (inline, a module constant, or a function returning one). An id it cannot
read is an error, so that a new way of naming mistakes updates this reader too.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from helpers.checking import verdict  # noqa: E402
from helpers.exercises import LESSONS  # noqa: E402
from normcourse.grading.mistakes import COURSE_USED, OTHER  # noqa: E402

OURS = ("helpers.exercises", "helpers.checking")


class Unreadable(Exception):
    """A ``Mismatch`` whose id this reader cannot work out from the source."""


class Passed(Exception):
    """The table a judge loops over is its parameter: read it where the judge is called."""

    def __init__(self, fn, name: str, k: int):
        super().__init__(name)
        self.fn, self.name, self.k = fn, name, k


def _passed_tables(p: Passed, functions) -> set[str]:
    """Column ``p.k`` of each table passed as ``p.name`` to ``p.fn`` by ``functions``."""
    index = list(inspect.signature(p.fn).parameters).index(p.name)
    ids = set()
    for g in functions:
        tree = _tree(g)
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == p.fn.__name__:
                arg = call.args[index] if len(call.args) > index else next(
                    (kw.value for kw in call.keywords if kw.arg == p.name), None)
                if arg is not None:
                    ids.update(_table(arg, p.k, g, tree))
    return ids


def _functions(fn, seen: set) -> None:
    """``fn`` and every function of ours it may call, into ``seen``."""
    fn = inspect.unwrap(fn)
    if not isinstance(fn, types.FunctionType) or fn in seen \
            or not fn.__module__.startswith(OURS):
        return
    seen.add(fn)
    for cell in fn.__closure__ or ():
        try:
            _functions(cell.cell_contents, seen)
        except ValueError:  # an empty cell
            pass
    codes, names = [fn.__code__], []
    while codes:
        code = codes.pop()
        names += code.co_names
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    for name in names:
        obj = fn.__globals__.get(name)
        if isinstance(obj, types.ModuleType) and obj.__name__.startswith(OURS):
            for attr in names:
                _functions(getattr(obj, attr, None), seen)
        else:
            _functions(obj, seen)


def _tree(fn) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(fn)))


def _own_nodes(fn_node):
    """The nodes of a function's body, not those of functions defined inside it."""
    todo = [n for n in fn_node.body if not isinstance(n, ast.FunctionDef)]
    while todo:
        node = todo.pop()
        yield node
        todo += [c for c in ast.iter_child_nodes(node)
                 if not isinstance(c, (ast.FunctionDef, ast.Lambda))]


def _literals(node) -> list | None:
    """The strings an expression may be: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _column(rows, k: int) -> list[str]:
    out = []
    for row in rows:
        elts = row.elts if isinstance(row, (ast.Tuple, ast.List)) else None
        found = _literals(elts[k]) if elts is not None else None
        if found is None:
            raise Unreadable(ast.unparse(row)[:80])
        out += found
    return out


def _table(node, k: int, fn, tree) -> list[str]:
    """Column ``k`` of the literal table a ``for`` loops over (``tree``: ``fn``'s source)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return _column(node.elts, k)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _table(node.left, k, fn, tree) + _table(node.right, k, fn, tree)
    if isinstance(node, ast.Name) and node.id in inspect.signature(fn).parameters:
        raise Passed(fn, node.id, k)  # the table comes from the callers
    if isinstance(node, ast.Name):
        local = [n.value for n in ast.walk(tree)
                 if isinstance(n, (ast.Assign, ast.AugAssign)) and node.id in
                 [getattr(t, "id", "") for t in getattr(n, "targets", [getattr(n, "target", None)])]]
        if local:
            return [v for value in local for v in _table(value, k, fn, tree)]
        value = fn.__globals__.get(node.id)
        if isinstance(value, (list, tuple)):
            return [row[k] for row in value]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("list", "tuple") and len(node.args) == 1:
            return _table(node.args[0], k, fn, tree)
        maker = fn.__globals__.get(node.func.id)
        if isinstance(maker, types.FunctionType):
            body = _tree(maker)
            returns = [n.value for n in _own_nodes(body.body[0]) if isinstance(n, ast.Return)]
            return [v for r in returns for v in _table(r, k, maker, body)]
    raise Unreadable(f"{fn.__qualname__}: a loop over {ast.unparse(node)[:60]}")


def _ids_in(fn, passed: list) -> set[str]:
    """The ids ``fn``'s ``Mismatch`` calls name; tables it is passed go into ``passed``."""
    tree, ids = _tree(fn), set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Mismatch"):
            continue
        arg = node.args[1] if len(node.args) > 1 else next(
            (kw.value for kw in node.keywords if kw.arg == "id"), None)
        if arg is None:
            continue
        if _literals(arg) is not None:
            ids.update(_literals(arg))
            continue
        loops = [n for n in ast.walk(tree) if isinstance(n, ast.For)
                 and isinstance(n.target, ast.Tuple)
                 and any(getattr(t, "id", "") == getattr(arg, "id", None) for t in n.target.elts)]
        if not loops and isinstance(fn.__globals__.get("MISTAKE_IDS"), tuple):
            ids.update(fn.__globals__["MISTAKE_IDS"])  # a module that builds its ids declares them
            continue
        if not loops:
            raise Unreadable(f"{fn.__qualname__}: Mismatch(..., {ast.unparse(arg)})")
        for loop in loops:
            k = [getattr(t, "id", "") for t in loop.target.elts].index(arg.id)
            try:
                ids.update(_table(loop.iter, k, fn, tree))
            except Passed as p:
                passed.append(p)
    return ids


def generic_ids() -> set[str]:
    """The ids :mod:`helpers.checking.verdict` gives any exercise (an input changed in
    place, a callee not written, out of time, a numerical gradient)."""
    ids = set()
    for node in ast.walk(ast.parse(inspect.getsource(verdict))):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) \
                and len(node.value.elts) == 2 and isinstance(node.value.elts[1], ast.Constant):
            ids.add(node.value.elts[1].value)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "CaseResult" \
                and len(node.args) == 4 and isinstance(node.args[3], ast.Constant):
            ids.add(node.args[3].value)
    return ids - {""}


def declared_ids() -> list[str]:
    """Every ``<exercise>/<mistake>`` id the grader can write, sorted."""
    generic = generic_ids()
    out = set()
    for exercises in LESSONS.values():
        for ex in exercises:
            seen: set = set()
            _functions(ex.judge, seen)
            passed: list = []
            named = set().union(*(_ids_in(fn, passed) for fn in seen))
            for p in passed:
                named |= _passed_tables(p, seen)
            named -= {""}
            out.update(f"{ex.id}/{m}" for m in named | generic | {OTHER, COURSE_USED})
    return sorted(out)


if __name__ == "__main__":
    sys.stdout.write("".join(f"{i}\n" for i in declared_ids()))
