"""Written answers: a few sentences in the learner's words, 0 points, never judged.

    def interpret_rich():              # the learner's cell
        return "The rich people ..."

    check("ex2_interpret_rich", interpret_rich)   # -> recorded: 42 words

A written answer is an exercise spec (:class:`Written`, made by :func:`written`) with
0 points and ``kind == "written"``, like a prediction (:mod:`helpers.exercises.predict`):
the grader calls the function like any other and keeps the text (:func:`text_of`) in the
grades JSON and in the teacher's feedback. Any text of at least ``min_words`` words is
recorded; none is right or wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch
from helpers.checking.verdict import Report
from helpers.exercises.spec import Exercise

#: the most characters kept (in the check's report and in the grades)
MAX_CHARS = 2000


@dataclass(frozen=True)
class Written(Exercise):
    """An exercise with 0 points whose answer is a text, recorded as it is."""

    kind: str = "written"
    min_words: int = 10


def written(id: str, function: str, title: str, *, min_words: int = 10) -> Written:
    """A written answer: ``function()`` returns a text of at least ``min_words`` words."""
    return Written(id=id, function=function, title=title, points=0, cases=_one_answer,
                   judge=_text_judge(min_words), min_words=min_words,
                   hint=f"Return your answer as a string of at least {min_words} words, "
                        "in quotes. Any honest answer is recorded; your teacher reads it.")


def _one_answer(rng):
    return [Case("your written answer")]


def _text_judge(min_words: int):
    def judge(case, value):
        if not isinstance(value, str):
            got = "None (did you forget `return`?)" if value is None else type(value).__name__
            raise Mismatch(f"expected your answer as a string, got {got}", "not-text")
        words = len(value.split())
        if words < min_words:
            raise Mismatch(f"{words} words: write at least {min_words}", "too-short")
    return judge


def text_of(exercise, outcomes) -> str:
    """The text a student wrote for a written answer ("" when there is none or ``exercise``
    is another kind), cut to MAX_CHARS."""
    if getattr(exercise, "kind", "") != "written" or not outcomes \
            or outcomes[0].status != "returned" or not isinstance(outcomes[0].value, str):
        return ""
    return " ".join(outcomes[0].value.split())[:MAX_CHARS]


#: what a recorded written answer's verdict says (the check cell and the grader's summary)
RECORDED = "recorded ({words} words, 0 points): your teacher reads it"


@dataclass(repr=False)  # keep Report's text form (what nbval compares)
class WrittenReport(Report):
    """What a written answer's check cell shows: recorded, never right or wrong."""

    words: int = 0

    def summary(self) -> str:
        if self.status == "passed":
            return f"✓ {self.exercise_id}: " + RECORDED.format(words=self.words)
        return super().summary()


def recorded(report: Report, fn) -> WrittenReport:
    """The check cell's report for a written answer, from the usual verdict ``report``."""
    words = len(fn().split()) if report.status == "passed" else 0
    return WrittenReport(report.exercise_id, report.title, report.status, report.results,
                         report.hints, report.tier, words)
