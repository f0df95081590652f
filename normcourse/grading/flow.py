"""What each top-level statement of a cell binds, reads and changes: the facts the grader
needs to decide which course cells cannot affect a grade (:mod:`.skipping`).

Runs in the reader's child process (:mod:`.scan`, under its limits; standard library
only): the grader never parses a submission. For each top-level statement of a cell
that parses as plain Python, :func:`statements` gives a dict:

- ``binds``: names it binds in the notebook's namespace (``global`` writes included);
- ``loads``: global names its code reads, in nested functions and lambdas too (from the
  compiled code, so a local variable or an attribute name is not one);
- ``sets``: the root names of attributes it assigns or deletes (``np.x = 1``: ``np``);
- ``mutates``, ``mutating_calls``: global names whose objects it (or a function it
  defines, when called) changes in place: stored through (``d[k] = v``, ``f.calls = 1``)
  or called a mutating method on (``environ.update(...)``); ``alias_mutates``,
  ``alias_calls``: more of them, reached through a function's local alias (``c = CONFIG``
  then ``c[k] = v``); ``aliases``: [name, root] it binds at top level (``c = CONFIG``);
  ``modules``: the names a plain ``import`` binds (modules, not objects taken from one);
- ``lines``: its first and last line in the cell (decorators included);
- ``imports`` (an import statement), ``effect_binds`` (names it binds to a function or
  module that changes state: ``from numpy.random import seed as s``), ``effect`` (a call
  that changes global state:
  seeds, rcParams, warnings filters, files...), ``dynamic`` (reaches names or objects
  in ways no static analysis follows: ``globals()``, ``exec``, ``getattr`` with a
  computed name, ``import *``, frames, ``sys.modules``...), ``pure`` (a ``def`` whose
  function object keeps no state: constant defaults, no decorator, no ``nonlocal``).

A cell that needs IPython's transformer (magics, ``!shell``) gets one statement with
``dynamic``: the grader then skips nothing in that submission.
"""

from __future__ import annotations

import ast
import dis

from normcourse.grading import scan
from normcourse.grading.dynamic import (  # noqa: F401  (EFFECT_*: the lists, here too)
    EFFECT_CALLS,
    EFFECT_MODULES,
    SAFE_RANDOM,
    _dotted,
    _dynamic,
    _effect,
    _effect_binds,
    nodes,
)

_GLOBAL_OPS = {"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS", "LOAD_CLASSDEREF",
               "STORE_GLOBAL", "DELETE_GLOBAL"}
_WRITE_OPS = {"STORE_GLOBAL", "DELETE_GLOBAL"}
_ATTR_OPS = {"LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR"}
def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


#: methods that change the object they are called on (a dict, list, set, deque, array...)
MUTATING_METHODS = {"update", "append", "extend", "insert", "pop", "popitem", "clear",
                    "setdefault", "add", "discard", "sort", "reverse", "__setitem__",
                    "__delitem__", "appendleft", "extendleft", "popleft", "rotate", "fill",
                    "put", "resize", "itemset", "setflags", "write", "writelines"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _local(scope) -> set:
    """Names a function binds in its own scope (parameters included), minus ``global``s."""
    args = scope.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                             *filter(None, (args.vararg, args.kwarg)))}
    declared, stack = set(), list(scope.body) if isinstance(scope.body, list) else [scope.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (*_SCOPES, ast.ClassDef)):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
            continue  # its own scope
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.Global):
            declared.update(node.names)
        stack.extend(ast.iter_child_nodes(node))
    return names - declared


def _held(node) -> list:
    """Roots of the objects an expression may evaluate to without a call making a new one:
    ``CONFIG``, ``m.CONFIG[k]``, ``(a, CONFIG)``, ``[CONFIG][0]``, ``CONFIG if t else {}``,
    ``CONFIG or {}``, ``(c := CONFIG)``; a call's result is a new object (``dict(CONFIG)``)."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Attribute, ast.Starred)):
        return _held(node.value)
    if isinstance(node, ast.Subscript):
        return _held(node.value)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [r for e in node.elts for r in _held(e)]
    if isinstance(node, ast.IfExp):
        return _held(node.body) + _held(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [r for v in node.values for r in _held(v)]
    if isinstance(node, ast.NamedExpr):
        return _held(node.value)
    return []


def _aliases(node) -> list:
    """``c = CONFIG``, ``c = m.CONFIG[k]``, ``c, d = CONFIG, 1``, ``for c in (CONFIG,)``,
    ``(c := CONFIG)``, ``[... for c in (CONFIG,)]`` (a name bound to an object another name
    already holds, not to a new value): [(c, CONFIG)]; every name the target binds, with
    every root the value may hold (conservative)."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets, value = (node.targets if isinstance(node, ast.Assign) else [node.target]), \
            node.value
    elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        targets, value = [node.target], node.iter
    elif isinstance(node, ast.NamedExpr):
        targets, value = [node.target], node.value
    else:
        return []
    roots = list(dict.fromkeys(_held(value)))
    names = [n.id for t in targets for n in nodes(t) if isinstance(n, ast.Name)]
    return [(name, root) for name in names for root in roots]


def _mutations(stmt, aliases: bool = False) -> tuple[list, list]:
    """Global names whose objects the statement (its functions' bodies included) may change
    in place: roots stored through (``d[k] = v``, ``f.calls = 1``, ``del o.a``, ``x[i] += 1``),
    and roots of a call of a mutating method (``environ.update(...)``). A name bound in an
    enclosing function is not global; class scopes are looked through (conservative).

    ``aliases``: a function's local name bound to a global's object (``c = CONFIG``) counts
    as that global when changed through (``c[k] = v``: CONFIG). The grader asks this of the
    learner's statements only: the course's functions alias their own arrays everywhere."""
    stores, calls = set(), set()

    def visit(node, scopes, alias):
        if isinstance(node, _SCOPES):
            for child in ast.iter_child_nodes(node.args):
                visit(child, scopes, alias)  # defaults: evaluated in the enclosing scope
            for d in getattr(node, "decorator_list", []):
                visit(d, scopes, alias)
            body = node.body if isinstance(node.body, list) else [node.body]
            inner, local = [*scopes, _local(node)], {k: set(v) for k, v in alias.items()}
            if aliases:  # (in any order: a loop may change through it before it is bound)
                for _ in range(2):  # an alias of an alias bound before it
                    for sub in nodes(node):
                        for name, root in _aliases(sub):
                            if name in inner[-1]:
                                local.setdefault(name, set()).update(local.get(root, {root}))
            for child in body:
                visit(child, inner, local)
            return
        roots = ()
        if isinstance(node, (ast.Attribute, ast.Subscript)) and \
                isinstance(node.ctx, (ast.Store, ast.Del)):
            roots, into = _held(node), stores  # ((c := CONFIG)[k] = v: CONFIG)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in MUTATING_METHODS:
            roots, into = _held(node.func.value), calls
        for r in {r for root in roots for r in alias.get(root, {root})}:
            if not any(r in scope for scope in scopes):
                into.add(r)
        for child in ast.iter_child_nodes(node):
            visit(child, scopes, alias)

    visit(stmt, [], {})
    return sorted(stores), sorted(calls)


def _pure(stmt) -> bool:
    """A ``def`` whose function object holds no state a call could change (nor changes, in
    place, an object it does not bind itself: ``f.calls = ...``, ``environ[k] = ...``)."""
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or stmt.decorator_list:
        return False
    stores, calls = _mutations(stmt)
    if stores or stmt.name in calls:  # (np.add(...) changes no state of the function)
        return False
    args = stmt.args
    if not all(d is None or _constant(d) for d in (*args.defaults, *args.kw_defaults)):
        return False
    return not any(isinstance(n, (ast.Nonlocal, ast.Global)) for n in nodes(stmt))


def _constant(node) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    if isinstance(node, ast.Tuple):
        return all(_constant(e) for e in node.elts)
    return isinstance(node, ast.Constant)


def _names(code) -> tuple[set, set, set]:
    """Global names read, global names written, attribute names: every nested code too."""
    loads, writes, attrs, stack = set(), set(), set(), [code]
    while stack:
        current = stack.pop()
        for ins in dis.get_instructions(current):
            if ins.opname in _GLOBAL_OPS:
                (writes if ins.opname in _WRITE_OPS else loads).add(ins.argval)
            elif ins.opname in _ATTR_OPS:
                attrs.add(ins.argval)
        stack.extend(c for c in current.co_consts if isinstance(c, type(code)))
    return loads, writes, attrs


def statements(source: str) -> list[dict]:
    """The facts of each top-level statement of one cell (see the module's docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # magics: IPython rewrites the cell; follow nothing
        return [{"binds": [], "loads": [], "sets": [], "lines": [1, 1], "dynamic": True}]
    deep, out = "global" in source or ":=" in source, []
    for stmt in tree.body:
        code = scan._compile(ast.Module(body=[stmt], type_ignores=[]))
        loads, writes, attrs = _names(code)
        binds = list(dict.fromkeys([*scan._bound(stmt, deep), *sorted(writes)]))
        sets = sorted({r for n in nodes(stmt)
                       if isinstance(n, ast.Attribute) and isinstance(n.ctx, (ast.Store, ast.Del))
                       for r in [_root(n)] if r})
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        stores, calls = _mutations(stmt)
        alias_stores, alias_calls = _mutations(stmt, aliases=True)
        out.append({"binds": binds, "loads": sorted(loads),
                    "sets": sets, "lines": [first, stmt.end_lineno],
                    "mutates": stores, "mutating_calls": calls,
                    # the same, through aliases (the learner's statements: see _mutations)
                    "alias_mutates": sorted(set(alias_stores) - set(stores)),
                    "alias_calls": sorted(set(alias_calls) - set(calls)),
                    "aliases": [list(a) for a in _aliases(stmt)],
                    "imports": isinstance(stmt, (ast.Import, ast.ImportFrom)),
                    "effect_binds": _effect_binds(stmt),
                    "modules": [(a.asname or a.name).split(".")[0] for a in stmt.names]
                    if isinstance(stmt, ast.Import) else [],
                    "effect": _effect(stmt), "dynamic": _dynamic(stmt, loads, attrs),
                    "pure": _pure(stmt)})
    return out


def safe_statements(source: str) -> list | None:
    """:func:`statements`, or None when the cell is too complex to follow (skip nothing)."""
    try:
        return statements(source)
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
        return None
