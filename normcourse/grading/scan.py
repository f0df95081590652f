"""Read a submitted notebook and analyse its code, in a child process under limits.

Everything here handles the submission's bytes, which can be built to exhaust a
parser: 50 MB of JSON holding millions of tiny objects, or one code cell whose
syntax tree takes 475 times its size. So the grader runs it in a child process
(:func:`normcourse.grading.load.scan`) under an address-space limit and a time
limit, and gets back only what it needs, as JSON lines on stdout:

1. ``{"nb": ...}``: the notebook, slimmed -- each cell's type, its nbgrader ids, the
   source of its code (outputs and attachments left out) -- or ``{"error": ...}``,
   why the file cannot be graded;
2. one line per code cell, in order, as soon as that cell is analysed: ``status``
   (``ok``; ``syntax``, ``unencodable``, ``too_large``, ``over_total``,
   ``too_complex``: such a cell is not run), the names it defines, its statements' facts
   (:mod:`.flow`), and for each top-level statement the names it binds, the names it refers
   to and the course functions it holds a copy of (:func:`helpers.answers.guard.course_copies`).

A cell over :data:`MAX_CELL_CHARS`, or past :data:`MAX_CODE_CHARS` of code in all, is
reported and not parsed; a cell cut off by the time limit has no line (not run either).

Runs as ``python -I -S -c`` (:data:`normcourse.grading.load.CHILD`): standard library and
``helpers.answers.guard`` only, plus IPython's input transformer for a cell with magics.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sys

from helpers.answers import guard

MAX_CELL_CHARS = 100_000  # the course's largest code cell has about 2,000
MAX_CODE_CHARS = 2_000_000  # a whole lesson's code is about 25,000
MAX_CELLS = 5_000  # a lesson has about 100
MAX_NAME = 200  # characters kept of an id or a lesson name read from metadata
CELL_TYPES = ("code", "markdown", "raw")
_KEEP = ("grade_id", "solution", "grade", "locked", "points")


class ScanError(ValueError):
    """The file cannot be graded; the message says why and what to do."""


def _source(cell: dict, n: int) -> str:
    src = cell.get("source", "")
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    if isinstance(src, str):
        return src
    raise ScanError(f"not a valid notebook: cell {n} has no readable source")


def _decode(raw: bytes):
    if not raw.strip():
        raise ScanError("empty file: the notebook was not saved (or saved empty)")
    if b"\x00" in raw[:8192]:
        raise ScanError("binary file, not a notebook (.ipynb files are JSON text)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScanError("binary file, not a notebook (.ipynb files are UTF-8 JSON text)") \
            from None
    del raw
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ScanError(f"not JSON ({exc}); the file is damaged or is not a saved "
                        "notebook: ask for the .ipynb file saved from Jupyter") from None
    except RecursionError:
        raise ScanError("JSON nested too deeply to be a notebook") from None
    except MemoryError:
        raise ScanError("JSON with too many values to read within the grader's memory limit "
                        "for one file: not a notebook saved from Jupyter") from None


def _validate(nb) -> list:
    if not isinstance(nb, dict) or not ("cells" in nb or "worksheets" in nb or "nbformat" in nb):
        raise ScanError("JSON, but not a Jupyter notebook (no cells)")
    version = nb.get("nbformat")
    if "worksheets" in nb or (isinstance(version, int) and version < 4):
        raise ScanError(f"old notebook format (nbformat {str(version)[:20]}); open it in "
                        "Jupyter and save it again, or run `jupyter nbconvert --to notebook "
                        "--nbformat 4 FILE`")
    if version != 4:
        raise ScanError(f"unsupported notebook format (nbformat {repr(version)[:20]}); "
                        "expected 4")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise ScanError("not a valid notebook: 'cells' is not a list")
    if len(cells) > MAX_CELLS:
        raise ScanError(f"{len(cells):,} cells, more than the {MAX_CELLS:,} the grader reads "
                        "(a lesson has about 100): delete the extra cells and save again")
    for n, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            raise ScanError(f"not a valid notebook: cell {n} has no valid cell_type")
        _source(cell, n)
        if not isinstance(cell.get("metadata", {}), dict):
            raise ScanError(f"not a valid notebook: cell {n} has invalid metadata")
    if not isinstance(nb.get("metadata", {}), dict):
        raise ScanError("not a valid notebook: invalid notebook metadata")
    return cells


def _scalar(value):
    if isinstance(value, str):
        return value[:MAX_NAME]
    return value if isinstance(value, (bool, int, float)) or value is None else 0


def slim(nb: dict) -> tuple[dict, list[str]]:
    """What the grader needs of a valid notebook, and the source of each code cell."""
    out = {"nbformat": 4, "metadata": {}, "cells": []}
    meta = nb.get("metadata", {}).get("normcourse")
    if isinstance(meta, dict) and "lesson" in meta:
        out["metadata"]["normcourse"] = {"lesson": _scalar(meta["lesson"])}
    code = []
    for n, cell in enumerate(nb["cells"], 1):
        grader = (cell.get("metadata") or {}).get("nbgrader")
        kept = {"cell_type": cell["cell_type"], "metadata": {}}
        if isinstance(grader, dict):
            kept["metadata"]["nbgrader"] = {k: _scalar(grader[k]) for k in _KEEP if k in grader}
        if cell["cell_type"] == "code":
            code.append(_source(cell, n))
        out["cells"].append(kept)
    return out, code


def read(path: str, max_bytes: int) -> tuple[dict, list[str]]:
    """The slimmed notebook and its code cells' sources, or ScanError."""
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise ScanError(f"cannot read the file ({exc.strerror})") from None
    if len(raw) > max_bytes:
        raise ScanError(f"file too large (over {max_bytes / 1e6:.0f} MB)")
    nb = _decode(raw)
    _validate(nb)
    return slim(nb)


# --------------------------------------------------------------------------- code


def _bound(stmt, deep: bool) -> list[str]:
    """Names a top-level statement binds in the notebook's namespace. ``deep``: the cell has
    ``global`` or ``:=``, so look inside expressions and function bodies too."""
    names, stack = [], [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            if deep:  # ``global x`` in a function binds x when it is called
                names += [n for g in ast.walk(node) if isinstance(g, ast.Global)
                          for n in g.names]
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, ast.expr) and not deep and \
                not isinstance(node, (ast.Tuple, ast.List, ast.Starred)):
            continue  # an expression binds nothing (but := )
        stack.extend(ast.iter_child_nodes(node))
    return list(dict.fromkeys(names))


def _refs(code) -> list[str]:
    """Every global and attribute name a compiled statement uses, its functions' included."""
    found, stack = set(), [code]
    while stack:
        current = stack.pop()
        found.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, type(code)))
    return sorted(found)


def _parse(source: str):
    """The syntax tree of a cell as IPython would run it (magics transformed)."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    if "site" not in sys.modules:  # the child starts without site-packages (-S): faster
        import site

        site.main()
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


def _trees(source: str, depth: int = 0) -> list:
    """The cell's syntax tree, and its cell magic's body (``%%time``, ``%%capture``...: IPython
    runs it as a cell of its own) when that is Python, magics and all."""
    trees = [_parse(source)]
    if source.lstrip().startswith("%%") and "\n" in source and depth < 10:
        try:
            trees += _trees(source.lstrip().split("\n", 1)[1], depth + 1)
        except SyntaxError:  # %%bash and friends: not Python
            pass
    return trees


def _compile(tree):
    return compile(tree, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                   dont_inherit=True)


@functools.lru_cache(maxsize=4)
def _candidates(names: tuple):
    """A ``def`` of a course function's name: only such a cell can hold a copy."""
    return re.compile(r"\bdef\b[\s\\]*(?:" + "|".join(map(re.escape, names)) + r")\b")


def analyse(source: str, table: dict) -> dict:
    """What one code cell defines and which course functions it holds copies of (in any
    nested function); never raises. Cells with a copy anywhere are then looked at more
    closely (:func:`bindings`)."""
    if len(source) > MAX_CELL_CHARS:
        return {"status": "too_large", "message": f"{len(source):,} characters"}
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:
        return {"status": "unencodable", "message": f"\\u{ord(exc.object[exc.start]):04x}"}
    deep = "global" in source or ":=" in source
    try:
        trees = _trees(source)
        copies = []
        if _candidates(tuple(sorted(set(table.values())))).search(source):
            for tree in trees:
                copies += guard.course_copies(_compile(tree), table)
        defines = [n for tree in trees for stmt in tree.body for n in _bound(stmt, deep)]
    except SyntaxError as exc:
        defined = re.findall(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)", source, flags=re.M)
        return {"status": "syntax", "defines": defined,
                "message": f"{exc.msg} (line {exc.lineno})" if exc.lineno else str(exc.msg)}
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        return {"status": "too_complex", "message": type(exc).__name__}
    return {"status": "ok", "defines": list(dict.fromkeys(defines)),
            "copies": list(dict.fromkeys(copies))}


def bindings(source: str, table: dict) -> list:
    """[names bound, names used, course copies] of each top-level statement of a cell that
    :func:`analyse` found ``ok``: what the grader follows from an exercise's function."""
    deep, out = "global" in source or ":=" in source, []
    for tree in _trees(source):
        for stmt in tree.body:
            code = _compile(ast.Module(body=[stmt], type_ignores=[]))
            names, copies = _bound(stmt, deep), guard.course_copies(code, table)
            if names or copies:
                out.append([names, _refs(code), copies])
    return out


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def main(flow=None) -> None:
    """The child: read the request on stdin, write the JSON lines (``flow``: :mod:`.flow`)."""
    request = json.loads(sys.stdin.read())
    try:
        nb, code = read(request["path"], request["max_bytes"])
    except ScanError as exc:
        return _emit({"error": str(exc)})
    limits, total = [], 0
    for i, source in enumerate(code):  # a cell not analysed is never sent back
        too_large = len(source) > MAX_CELL_CHARS
        total += 0 if too_large else len(source)
        if too_large:
            limits.append({"status": "too_large", "message": f"{len(source):,} characters"})
        elif total > MAX_CODE_CHARS:
            limits.append({"status": "over_total",
                           "message": f"{MAX_CODE_CHARS:,} characters of code in all"})
        else:
            limits.append(None)
            continue
        code[i] = ""
    _emit({"nb": nb, "code": code})
    table, found = request["course"], False
    for i, source in enumerate(code):
        facts = limits[i] or analyse(source, table)
        if flow and facts["status"] == "ok":
            facts["flow"] = flow(source)
        found = found or bool(facts.get("copies"))
        _emit({"cell": i, **facts})
    if found:  # a copy of the course's code: how each function reaches what, cell by cell
        for i, source in enumerate(code):
            if limits[i] is None:
                try:
                    _emit({"cell": i, "bindings": bindings(source, table)})
                except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
                    pass
    _emit({"end": True})
