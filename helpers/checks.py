"""The exercise checker: one call per exercise, in the exercise's check cell.

    from helpers.checks import check
    check("ex1_gradient", mse_gradient)

A check runs the exercise's test cases (``helpers.exercises``) against the
learner's function, shows a table of which cases passed, how far off a wrong
answer is, and a hint. It never shows a traceback from inside the helpers:
every learner mistake (wrong shape, NaN, a list, ``None``, mutating an input,
raising) becomes a sentence.

The work is split in three steps so that the same test cases can also run in a
grading process that does not trust the learner's kernel:

1. :func:`run_case` calls the learner's function on one case's inputs and
   records an :class:`Outcome` made of plain data only (``helpers.wire`` can
   send it between processes);
2. :func:`judge` turns the outcomes into a :class:`Report` -- in the learner's
   kernel here, in the grader's own process in ``normcourse grade``;
3. :func:`check` shows the report and, when the exercise is not passed yet,
   raises :class:`NotDoneYet` or :class:`CheckFailed`, so an nbgrader test cell
   scores zero. Both exceptions print a one-line verdict instead of a
   traceback, and check cells carry the ``raises-exception`` tag, so "Run All"
   goes on past them.
"""

from __future__ import annotations

import copy
import html
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Case", "Outcome", "CaseResult", "Report", "Mismatch", "NotDoneYet", "CheckFailed",
    "check", "evaluate", "failed_messages", "run_case", "judge", "expect_array", "expect_close", "expect_number",
    "expect_tuple", "expect_choice",
]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Case:
    """One test case: a short description and the inputs (plain data only)."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: object = None  # optional stored test vector, used by the judge only


@dataclass
class Outcome:
    """What the learner's function did on one case (plain data only).

    status: "returned", "not_done" (raised NotImplementedError) or "raised".
    """

    status: str
    value: object = None
    error: str = ""
    mutated: tuple = ()  # names of inputs changed in place

    def to_plain(self) -> dict:
        return {"status": self.status, "value": self.value, "error": self.error,
                "mutated": list(self.mutated)}

    @classmethod
    def from_plain(cls, d: dict) -> Outcome:
        status = d.get("status") if isinstance(d, dict) else None
        if status not in ("returned", "not_done", "raised"):
            return cls("raised", error="the grader received an unreadable result")
        return cls(status, d.get("value"), str(d.get("error", ""))[:500],
                   tuple(str(m) for m in (d.get("mutated") or ())[:10]))


@dataclass
class CaseResult:
    case: str
    passed: bool
    message: str = ""


@dataclass
class Report:
    exercise_id: str
    title: str
    status: str  # "passed", "not_done", "failed"
    results: list
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def n_passed(self) -> int:
        return sum(r.passed for r in self.results)

    def summary(self) -> str:
        n = len(self.results)
        if self.status == "passed":
            return (f"✓ {self.exercise_id}: all {n} test cases pass. Well done!" if n > 1
                    else f"✓ {self.exercise_id}: correct. Well done!")
        if self.status == "not_done":
            return (f"… {self.exercise_id}: not done yet: write your code above, run it, "
                    "then run this cell again.")
        return f"✗ {self.exercise_id}: {self.n_passed} of {n} test cases pass. See the table above."

    def to_text(self) -> str:
        lines = [f"{self.title}  [{self.exercise_id}]"]
        if self.status != "not_done":
            for r in self.results:
                mark = "✓" if r.passed else "✗"
                lines.append(f"  {mark} {r.case}" + (f": {r.message}" if r.message else ""))
        lines.append(self.summary())
        if self.status == "failed" and self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {"passed": "#0072B2", "not_done": "#555555", "failed": "#D55E00"}[self.status]
        rows = ""
        if self.status != "not_done":
            for r in self.results:
                mark = "✓ pass" if r.passed else "✗ fail"
                c = "#0072B2" if r.passed else "#D55E00"
                rows += (f"<tr><td style='text-align:left'>{html.escape(r.case)}</td>"
                         f"<td style='color:{c};font-weight:bold;text-align:left'>{mark}</td>"
                         f"<td style='text-align:left'>{html.escape(r.message)}</td></tr>")
            rows = ("<table><tr><th style='text-align:left'>test case</th><th>result</th>"
                    f"<th style='text-align:left'>details</th></tr>{rows}</table>")
        hint = ""
        if self.status == "failed" and self.hint:
            hint = f"<p><b>Hint:</b> {html.escape(self.hint)}</p>"
        return (f"<div style='border-left:4px solid {colour};padding-left:8px'>"
                f"<b>{html.escape(self.title)}</b> <code>[{self.exercise_id}]</code>{rows}"
                f"<p style='color:{colour};font-weight:bold'>{html.escape(self.summary())}</p>"
                f"{hint}</div>")

    def __repr__(self) -> str:  # plain-text fallback, also what nbval compares
        return self.to_text()


class _Verdict(AssertionError):
    """Base of the check exceptions: shows one line instead of a traceback."""

    def __init__(self, report: Report):
        super().__init__(report.summary())
        self.report = report

    def _render_traceback_(self):  # IPython shows these lines instead of a traceback
        return [f"{type(self).__name__}: {self.report.summary()}"]


class NotDoneYet(_Verdict):
    """The exercise still raises NotImplementedError: nothing to check yet."""


class CheckFailed(_Verdict):
    """The exercise runs but at least one test case fails."""


class Mismatch(Exception):
    """Raised by a judge: the returned value is wrong; the message says how."""


# --------------------------------------------------------------------------- running

#: how a returned value that is not plain data is recorded (it cannot cross to a grader)
OBJECT_PREFIX = "<an object of type "


def _snapshot(value):
    """A deep copy, or None when the value cannot be copied (then it is not checked)."""
    try:
        return copy.deepcopy(value)
    except Exception:
        return None


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:
        return True


def _arg_names(fn, n):
    try:
        import inspect

        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def _plain(value):
    """Copy a returned value into plain data (arrays stay arrays); refuse other objects."""
    if value is None or isinstance(value, (bool, int, float, complex, str, np.generic)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, np.ndarray):
        return value.copy() if value.dtype != object else value.tolist()
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return f"{OBJECT_PREFIX}{type(value).__name__}>"


def run_case(fn, case: Case) -> Outcome:
    """Call ``fn`` on a copy of the case's inputs and record what happened.

    Never raises: an exception in the learner's code becomes an Outcome.
    """
    args = tuple(_snapshot(a) for a in case.args)  # the case itself is never touched
    kwargs = {k: _snapshot(v) for k, v in case.kwargs.items()}
    before = [_snapshot(a) for a in args] + [_snapshot(v) for v in kwargs.values()]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = fn(*args, **kwargs)
    except NotImplementedError:
        return Outcome("not_done")
    except Exception as exc:  # the learner's code raised: report it, don't crash
        return Outcome("raised", error=f"{type(exc).__name__}: {exc}"[:300])
    after = list(args) + list(kwargs.values())
    names = _arg_names(fn, len(args)) + list(kwargs)
    mutated = tuple(n for n, b, a in zip(names, before, after, strict=True)
                    if b is not None and not _same(b, a))
    return Outcome("returned", _plain(value), mutated=mutated)


def _advice_for(error: str) -> str:
    """A short pointer for errors learners often meet."""
    if error.startswith("NameError"):
        return (" (a name your code uses is not defined; for a letter answer, put it in "
                "quotes: return \"b\")")
    if error.startswith(("ValueError: operands could not be broadcast", "ValueError: shapes")):
        return " (check the shapes of your arrays, and the axis you reduce over)"
    return ""


def judge(exercise, cases, outcomes) -> Report:
    """Judge the outcomes of ``exercise``'s cases; pure, runs in any process."""
    results = []
    not_done = 0
    for case, out in zip(cases, outcomes, strict=True):
        if out.status == "not_done":
            not_done += 1
            results.append(CaseResult(case.name, False, "not done yet (NotImplementedError)"))
        elif out.status == "raised":
            results.append(CaseResult(case.name, False, f"your function raised {out.error}"
                                      + _advice_for(out.error)))
        elif out.mutated:
            name = out.mutated[0]
            results.append(CaseResult(
                case.name, False,
                f"your function changed its input {', '.join(out.mutated)} in place; work on a "
                f"copy: `new = {name} - ...` makes a new array, while `{name} -= ...` or "
                f"`{name}[...] = ...` changes the caller's {name}"))
        else:
            try:
                exercise.judge(case, out.value)
                results.append(CaseResult(case.name, True))
            except Mismatch as m:
                results.append(CaseResult(case.name, False, str(m)))
            except Exception as exc:  # a value so odd that the judge could not read it
                results.append(CaseResult(case.name, False,
                                          f"could not read the returned value ({type(exc).__name__})"))
    if results and not_done == len(results):
        status = "not_done"
    else:
        status = "passed" if results and all(r.passed for r in results) else "failed"
    return Report(exercise.id, exercise.title, status, results, exercise.hint)


def evaluate(exercise_id: str, fn, seed: int = 0) -> Report:
    """Run and judge one exercise in this process: the report that :func:`check` shows."""
    from helpers.exercises import get_exercise

    exercise = get_exercise(exercise_id)
    if not callable(fn):
        return Report(exercise.id, exercise.title, "failed", [CaseResult(
            "calling your answer", False,
            f"expected the function {exercise.function}, got {type(fn).__name__}; "
            f"pass the function itself: check({exercise_id!r}, {exercise.function})")],
            exercise.hint)
    cases = exercise.cases(np.random.default_rng(seed))
    return judge(exercise, cases, [run_case(fn, c) for c in cases])


def failed_messages(report: Report) -> str:
    """The messages of the failing cases, joined with " | " (for tests and logs)."""
    return " | ".join(r.message for r in report.results if not r.passed)


def check(exercise_id: str, fn, *, seed: int = 0) -> None:
    """Check the learner's function for one exercise; show the verdict.

    Raises NotDoneYet / CheckFailed (one-line message, no traceback) unless the
    exercise passes, so that an autograded cell scores zero when it fails.
    """
    from IPython.display import display

    report = evaluate(exercise_id, fn, seed=seed)
    if report.status == "not_done":  # the one-line verdict says it all: no table to show
        raise NotDoneYet(report)
    display(report)
    if report.status == "failed":
        raise CheckFailed(report)


# --------------------------------------------------------------------------- judge tools


def _fmt(x) -> str:
    """A short, one-line rendering of a number or array (long arrays are elided)."""
    if not np.ndim(x):
        return f"{float(x):.6g}"
    text = np.array2string(np.asarray(x), precision=4, threshold=6, edgeitems=2,
                           max_line_width=10_000)
    return " ".join(text.split())


def expect_tuple(value, n: int, names: str) -> tuple:
    """The value must be a tuple (or list) of ``n`` items, e.g. names="(grad_w, grad_b)"."""
    if not isinstance(value, (tuple, list)):
        got = "None (did you forget `return`?)" if value is None else type(value).__name__
        raise Mismatch(f"expected a tuple {names}, got {got}")
    if len(value) != n:
        raise Mismatch(f"expected a tuple of {n} values {names}, got {len(value)} values")
    return tuple(value)


def expect_array(value, shape: tuple, name: str = "the result") -> np.ndarray:
    """The value must be array-like of numbers with this shape and no NaN/inf."""
    if value is None:
        raise Mismatch(f"{name} is None (did you forget `return`?)")
    if isinstance(value, str):
        if value.startswith(OBJECT_PREFIX):
            raise Mismatch(f"{name} is {value[1:-1]}, not an array of numbers")
        raise Mismatch(f"{name} is a string ({value[:40]!r}); expected numbers")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"{name} is not an array of numbers (got {type(value).__name__})") from None
    if arr.shape != tuple(shape):
        extra = ""
        if arr.size == int(np.prod(shape)) and arr.size > 1:
            extra = " (same number of values: check which axis you used, or reshape)"
        raise Mismatch(f"{name} has shape {arr.shape}, expected {tuple(shape)}{extra}")
    if np.isnan(arr).any():
        raise Mismatch(f"{name} contains NaN (a division by zero, or 0/0?)")
    if np.isinf(arr).any():
        raise Mismatch(f"{name} contains inf (a division by zero, or an overflow?)")
    return arr


def expect_number(value, name: str = "the result") -> float:
    """The value must be one finite real number (a 0-d or size-1 array is accepted)."""
    if value is None:
        raise Mismatch(f"{name} is None (did you forget `return`?)")
    if isinstance(value, (str, bool)):
        raise Mismatch(f"{name} should be a number, got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"{name} should be a number, got {type(value).__name__}") from None
    if arr.size != 1:
        raise Mismatch(f"{name} should be one number, got an array of shape {arr.shape}")
    x = float(arr.reshape(()))
    if math.isnan(x):
        raise Mismatch(f"{name} is NaN")
    if math.isinf(x):
        raise Mismatch(f"{name} is infinite")
    return x


def expect_close(actual, expected, name: str = "the result", *, rtol=1e-6, atol=1e-9) -> None:
    """Numbers/arrays must agree; the message says how far off they are."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        raise Mismatch(f"{name} has shape {a.shape}, expected {e.shape}")
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return
    diff = np.abs(a - e)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    rel = float(diff.max() / max(np.abs(e).max(), 1e-300))
    where = f" (worst at index {tuple(int(i) for i in worst)})" if worst else ""
    ratio = ""
    with np.errstate(all="ignore"):
        r = a / e
    finite = np.isfinite(r) & (np.abs(e) > atol)
    if finite.any() and np.allclose(r[finite], r[finite].flat[0], rtol=1e-6):
        k = float(r[finite].flat[0])
        if not math.isclose(k, 1.0, rel_tol=1e-6):
            ratio = f"; yours is {k:.4g} times the expected value everywhere"
    raise Mismatch(f"{name} is off by up to {float(diff.max()):.3g} "
                   f"(relative error {rel:.2g}){where}: got {_fmt(a)}, expected {_fmt(e)}{ratio}")


def expect_choice(value, valid: str, name: str = "your answer") -> str:
    """A multiple-choice answer: one letter among ``valid`` (case and spaces ignored)."""
    if value is None:
        raise Mismatch(f"{name} is None; return one letter, e.g. \"{valid[0]}\"")
    if not isinstance(value, str):
        raise Mismatch(f"{name} should be a letter in quotes such as \"{valid[0]}\", "
                       f"got {type(value).__name__}")
    letter = value.strip().strip("()").lower()
    if letter not in valid or len(letter) != 1:
        raise Mismatch(f"{name} should be one of {', '.join(valid)}; got {value!r}")
    return letter
