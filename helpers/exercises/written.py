"""Written answers: a few sentences that interpret a measurement, 0 points, recorded as given.

    def interpret_step_sizes():          # the learner's cell
        return \"\"\"At small h ... \"\"\"

    check("ex4_interpret", interpret_step_sizes)     # -> recorded: your answer (42 words)

A written answer is an exercise spec (an ``Exercise`` made by :func:`written`) with
0 points and ``kind == "written"``: its check only says that the text was recorded (at
least ``min_words`` words), never right or wrong; the grader records the text itself
(``normcourse.grading.mistakes.choice``) so that the teacher reads it in the grades and the
feedback. No model answer is stored.
"""

from __future__ import annotations

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch
from helpers.checking.verdict import Report

#: the longest text recorded (characters): enough for a paragraph
MAX_CHARS = 2000


def written(id: str, function: str, title: str, *, prompt: str, min_words: int = 15):
    """A written answer: ``function()`` returns a string of at least ``min_words`` words."""
    from helpers.exercises.spec import Exercise

    return Exercise(id=id, function=function, title=title, points=0, cases=_one_answer,
                    judge=_words(min_words), kind="written",
                    hint=f"Return your answer as a string in quotes (a few sentences, at least "
                         f"{min_words} words): {prompt}")


def _one_answer(rng):
    return [Case("your answer")]


def _words(n: int):
    def judge(case, value):
        if not isinstance(value, str):
            got = "None (did you forget `return`?)" if value is None else type(value).__name__
            raise Mismatch(f"expected your answer as a string, got {got}")
        if len(value.split()) < n:
            raise Mismatch(f"{len(value.split())} words: write at least {n}", "too-short")
    return judge


def text_of(value) -> str:
    """The recorded text: a string, cut to MAX_CHARS ("" for anything else)."""
    return value.strip()[:MAX_CHARS] if isinstance(value, str) else ""


class WrittenReport(Report):
    """What a written answer's check cell shows: recorded, never right or wrong."""

    def summary(self) -> str:
        if self.status == "passed":
            return f"✓ {self.exercise_id}: recorded."
        return super().summary()


def recorded(report: Report, fn) -> Report:
    """The check cell's report for a written answer: what was recorded, not right or wrong."""
    if report.status != "passed":
        return report
    try:
        words = len(str(fn()).split())
    except Exception:  # noqa: BLE001 - it passed a moment ago; say nothing more
        words = 0
    return WrittenReport(report.exercise_id, report.title, "passed",
                  [type(report.results[0])(report.results[0].case, True,
                                           f"recorded ({words} words), shown to your teacher")],
                  report.hints, report.tier)
