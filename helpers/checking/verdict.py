"""Turn the outcomes of a learner's function into a verdict, in any process.

:func:`judge` compares each :class:`~helpers.checking.calling.Outcome` with its
case: in the learner's kernel for the check cell, in the grader's own process for
``normcourse grade``. It decides everything there, including whether the function
changed an input in place (from the copies of the inputs the outcome carries).
A :class:`Report` shows itself as a table in a notebook; :class:`NotDoneYet` and
:class:`CheckFailed` are the one-line exceptions a check cell raises.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from helpers.checking import calling
from helpers.checking.calling import to_plain
from helpers.checking.expect import Mismatch, precision

FLOAT32_FINE = "computed in float32: fine here"


@dataclass
class CaseResult:
    """One case's verdict; ``mistake``: the short id of a named mistake ("" when none)."""

    case: str
    passed: bool
    message: str = ""
    mistake: str = ""


@dataclass
class Report:
    """The verdict on one exercise. ``hints`` are its hint tiers (a nudge, then the
    formula, then near-code); a failed report shows tier ``tier`` (0-based)."""

    exercise_id: str
    title: str
    status: str  # "passed", "not_done", "failed"
    results: list
    hints: tuple = ()
    tier: int = 0

    @property
    def hint(self) -> str:
        """The hint this report shows (empty when there is none)."""
        return self.hints[min(self.tier, len(self.hints) - 1)] if self.hints else ""

    def hint_label(self) -> str:
        if len(self.hints) < 2:
            return "Hint"
        tier = min(self.tier, len(self.hints) - 1) + 1
        more = " (run this cell again after your next try for a more detailed one)" \
            if tier < len(self.hints) else ""
        return f"Hint {tier} of {len(self.hints)}{more}"

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
            lines.append(f"{self.hint_label()}: {self.hint}")
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
            hint = f"<p><b>{html.escape(self.hint_label())}:</b> {html.escape(self.hint)}</p>"
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


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    return bool(a == b) or (a != a and b != b)


def mutated_inputs(case, outcome) -> list:
    """Names of the inputs whose copy after the call differs from the case's input."""
    before = [*case.args, *case.call_kwargs.values()]
    after = list(outcome.inputs_after)
    if len(after) != len(before):
        return []
    names = list(outcome.arg_names) + [f"argument {i + 1}" for i in range(len(before))]
    return [str(names[i])[:40] for i, (b, a) in enumerate(zip(before, after, strict=True))
            if not _same(to_plain(b), a)]


def _advice_for(error: str) -> str:
    """A short pointer for errors learners often meet."""
    if error.startswith("NameError"):
        return (" (a name your code uses is not defined: run the cell that defines it, or "
                "check its spelling; a prediction's letter is returned as a string, in quotes)")
    if error.startswith(("ValueError: operands could not be broadcast", "ValueError: shapes")):
        return " (check the shapes of your arrays, and the axis you reduce over)"
    return ""


def changed_in_place(names) -> str:
    name = names[0]
    return (f"your function changes its input {', '.join(names)} in place; work on a copy "
            f"(an in-place operation such as -= or an assignment into {name}[...] changes the "
            f"caller's {name})")


def _raised(error: str) -> tuple:
    """(message, mistake id) for an outcome that raised, or was stopped (calling's markers)."""
    marker, _, detail = error.partition(": ")
    if marker == calling.WRITES_INPUT:
        return changed_in_place(detail.split(", ")), "changes-input"
    if marker == calling.NOT_WRITTEN:
        return (f"your function calls {detail}, which is not written yet (it still raises "
                f"NotImplementedError): write {detail} first, run its cell, then run this "
                "check again", "callee-not-written")
    if marker == calling.OUT_OF_TIME:
        return f"your function did not return within {detail} s (an endless loop?)", "timeout"
    if marker == calling.SHORTCUT and detail.startswith("own:"):
        return (f"your function calls your `{detail[4:]}` (another exercise's answer): this "
                "exercise asks for a new way to compute it, written out without it",
                "calls-own-answer")
    if marker == calling.SHORTCUT:
        return f"your function uses the course's `{detail}`; write your own", "shortcut"
    if marker == calling.UNWATCHED:
        return ("your function switched off or replaced the watch on which course functions "
                f"it calls (the profile hook, {detail}): it cannot be judged; leave "
                f"{detail} alone", "watch-switched-off")
    if marker == calling.TOO_SLOW:
        return (f"your function took {detail} on the large case: that looks like a numerical "
                "gradient (one forward pass per input entry) or a Python loop over the entries: "
                "write the analytic one, with operations on whole arrays", "numerical-gradient")
    return f"your function raised {error}" + _advice_for(error), ""


def _coarse_eps(value) -> float:
    """Machine epsilon of the least precise floating array in ``value`` (0 if float64 only)."""
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        return float(np.finfo(value.dtype).eps) if kind in "fc" and \
            np.finfo(value.dtype).eps > np.finfo(np.float64).eps else 0.0
    if isinstance(value, (list, tuple)):
        return max([_coarse_eps(v) for v in value], default=0.0)
    if isinstance(value, dict):
        return max([_coarse_eps(v) for v in value.values()], default=0.0)
    return 0.0


def _judged(exercise, case, value) -> CaseResult:
    """Run the exercise's judge; an answer computed in float32 is judged again at float32's
    precision unless the exercise says precision is its point (``exercise.precision``)."""
    eps = _coarse_eps(value)
    try:
        try:
            exercise.judge(case, value)
            return CaseResult(case.name, True, FLOAT32_FINE if eps else "")
        except Mismatch as first:
            point = getattr(exercise, "precision", "")
            if not eps or point:
                extra = f" (computed in float32: {point})" if eps and point else ""
                return CaseResult(case.name, False, f"{first}{extra}", first.id)
            try:
                with precision(eps):
                    exercise.judge(case, value)
            except Mismatch:
                return CaseResult(case.name, False, str(first), first.id)
            return CaseResult(case.name, True, FLOAT32_FINE)
    except Exception as exc:  # a value so odd that the judge could not read it
        return CaseResult(case.name, False, f"could not read the returned value "
                                            f"({type(exc).__name__})")


def judge(exercise, cases, outcomes) -> Report:
    """Judge the outcomes of ``exercise``'s cases; pure, runs in any process."""
    results = []
    not_done = 0
    for case, out in zip(cases, outcomes, strict=True):
        changed = mutated_inputs(case, out) if out.status == "returned" else []
        if out.status == "not_done":
            not_done += 1
            results.append(CaseResult(case.name, False, "not done yet (NotImplementedError)"))
        elif out.status == "raised":
            results.append(CaseResult(case.name, False, *_raised(out.error)))
        elif out.status == "unsendable":
            results.append(CaseResult(case.name, False, "your function returned a value that "
                                      f"could not be sent back for grading ({out.error})"))
        elif out.status != "returned":
            results.append(CaseResult(case.name, False, "the grader could not read what your "
                                      "function returned"))
        elif changed:
            results.append(CaseResult(case.name, False, changed_in_place(changed),
                                      "changes-input"))
        else:
            results.append(_judged(exercise, case, out.value))
    if results and not_done == len(results):
        status = "not_done"
    else:
        status = "passed" if results and all(r.passed for r in results) else "failed"
    return Report(exercise.id, exercise.title, status, results, exercise.hints)


def failed_messages(report: Report) -> str:
    """The messages of the failing cases, joined with " | " (for tests and logs)."""
    return " | ".join(r.message for r in report.results if not r.passed)
