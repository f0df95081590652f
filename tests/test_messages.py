"""Failure messages name the mistake and never hand out the fix as code (issue 18).

Code may appear only in the last tier of a hint. This scans every string a judge can say
(the string literals of helpers/exercises and of the checking messages, f-strings with
their fields as {}) and every hint tier but the last, for code-like fixes: a call with
arguments (``np.where(std == 0, 1, std)``, ``X.var(axis=0, ddof=1)``), a keyword argument
(``axis=0``, ``keepdims=True``), a NumPy name, a matrix product with ``@``, an in-place
assignment (``X -= ...``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers.exercises import all_exercises

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "helpers" / "exercises").glob("*.py")) + [
    ROOT / "helpers" / "checking" / "expect.py", ROOT / "helpers" / "checking" / "verdict.py"]
CODE = re.compile(
    r"\bnp\.\w+"  # a NumPy name
    r"|\.\w+\([^)]*\)"  # a method call: .var(axis=0)
    r"|\b[A-Za-z_]\w+\((?:[^()]|\([^()]*\))*[=,*@]"  # a call with arguments
    r"|\b(?:axis|keepdims|ddof|dtype)\s*=\s*\w"  # a keyword argument
    r"|\s@\s"  # a matrix product
    r"|\b(?!as\b)[A-Za-z_]\w*\s*(?:-=|\+=|\*=|/=)"  # an in-place assignment
    r"|\w\[\.\.\.\]\s*=(?!=)")  # an assignment into an array


def _docstrings(tree) -> set:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text(node) -> str:
    if isinstance(node, ast.Constant):
        return node.value
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def literal_strings(path: Path) -> list[str]:
    """Every string literal of a module but its docstrings (f-strings with {} fields)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip, inner = _docstrings(tree), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inner.update(id(v) for v in node.values)
    return [_text(n) for n in ast.walk(tree)
            if (isinstance(n, ast.JoinedStr) or isinstance(n, ast.Constant)
                and isinstance(n.value, str)) and id(n) not in skip | inner]


def _last_tiers() -> list[str]:
    return [ex.hints[-1] for ex in all_exercises().values()]


def judge_messages() -> list[tuple[str, str]]:
    """(module, string) for every string that may reach a learner as a judge's message."""
    last = " ".join(_last_tiers())

    def in_last_tier(s):  # an f-string's pieces, between its {} fields
        return all(piece in last for piece in s.split("{}") if piece.strip())
    return [(p.name, s) for p in MODULES for s in literal_strings(p)
            if len(s) > 3 and not in_last_tier(s)]


def test_the_scan_finds_the_old_messages():
    """The code-like fixes issue 18 quotes from main are caught by the pattern."""
    for old in ("divide by np.where(std == 0, 1, std)", "X.var(axis=0, ddof=1)",
                "X.mean(axis=1, keepdims=True)", "(dout * x_hat).sum(axis=0)",
                "use axis=0", "`new = X - ...`, `X -= ...`", "dV = X.T @ dZ"):
        assert CODE.search(old), old
    for fine in ("divide by √(var + ε), not √var + ε", "ŷ = X·w + b", "the mean over axis 0",
                 "an in-place operation such as -= changes the caller's X", "run.diverged",
                 "(did you forget `return`?)", "before = (X − c(X)) / s(X)"):
        assert not CODE.search(fine), fine
    assert len(judge_messages()) > 200


@pytest.mark.parametrize("module", [p.name for p in MODULES])
def test_no_judge_message_contains_code(module):
    found = [s for m, s in judge_messages() if m == module and CODE.search(s)]
    assert found == []


def test_no_hint_before_the_last_tier_contains_code():
    found = [(ex.id, tier + 1, hint) for ex in all_exercises().values()
             for tier, hint in enumerate(ex.hints[:-1]) if CODE.search(hint)]
    assert found == []
