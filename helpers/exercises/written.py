"""Written interpretations: a few sentences after an experiment, recorded, never judged.

    def interpret_edge():              # the learner's cell
        return \"\"\"The measured edge sits above 2/λ_max because ...\"\"\"

    check("ex1_interpret_edge", interpret_edge)   # -> recorded: your interpretation (42 words)

A written answer is an exercise spec (:class:`Written`, made by :func:`written`) with
0 points and ``kind == "written"``: the grader calls its function like any other
exercise's and keeps the text in the grades JSON (``ExerciseResult.text``) and in the
teacher's feedback. Nothing is right or wrong; the check only asks for a few words
(``min_words``) and says what was recorded.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch
from helpers.checking.verdict import Report
from helpers.exercises.spec import Exercise

MAX_CHARS = 3000  # the text kept in the grades JSON and the feedback


@dataclass(frozen=True)
class Written(Exercise):
    """An exercise with 0 points whose answer is a text of at least ``min_words`` words."""

    kind: str = "written"
    min_words: int = 15


def written(id: str, function: str, title: str, *, min_words: int = 15,
            hint: str = "") -> Written:
    """A written interpretation: ``function()`` returns a string of a few sentences."""
    return Written(id=id, function=function, title=title, points=0, cases=_one_answer,
                   judge=_judge(min_words), min_words=min_words,
                   hint=hint or "Return your sentences as one string (in triple quotes); "
                                "any honest reading of what you measured is recorded.")


def _one_answer(rng):
    return [Case("your interpretation")]


def words(value) -> int:
    return len(value.split()) if isinstance(value, str) else 0


def _judge(min_words: int):
    def judge(case, value):
        if not isinstance(value, str):
            raise Mismatch(f"expected your sentences as one string, got "
                           f"{type(value).__name__}", "not-text")
        if words(value) < min_words:
            n = words(value)
            raise Mismatch(f"{n} word{'' if n == 1 else 's'}: write at least {min_words} (two "
                           "or three sentences)", "too-short")
    return judge


def text(exercise, outcomes) -> str:
    """The learner's text as the grades JSON keeps it ("" when there is none or
    ``exercise`` is not written)."""
    if getattr(exercise, "kind", "") != "written" or not outcomes \
            or outcomes[0].status != "returned" or not isinstance(outcomes[0].value, str):
        return ""
    return " ".join(outcomes[0].value.split())[:MAX_CHARS]


@dataclass(repr=False)  # keep Report's text form (what nbval compares)
class WrittenReport(Report):
    """What a written answer's check cell shows: what was recorded, never right or wrong."""

    n_words: int = 0

    def summary(self) -> str:
        if self.status == "passed":
            return (f"recorded: your interpretation ({self.n_words} words); your teacher "
                    "reads it, it earns no points")
        if self.status == "not_done":
            return (f"… {self.exercise_id}: not done yet: write your interpretation above, "
                    "run that cell, then run this cell again.")
        return f"✗ {self.exercise_id}: not recorded: {self.results[0].message}"

    def to_text(self) -> str:
        return "\n".join(textwrap.fill(line, width=96, subsequent_indent="  ")
                         for line in (f"{self.title}  [{self.exercise_id}]", self.summary()))

    def _repr_html_(self) -> str:
        colour = {"passed": "#0072B2", "not_done": "#555555", "failed": "#D55E00"}[self.status]
        return (f"<div style='border-left:4px solid {colour};padding-left:8px'>"
                f"<b>{html.escape(self.title)}</b> <code>[{self.exercise_id}]</code>"
                f"<p style='color:{colour};font-weight:bold'>{html.escape(self.summary())}</p>"
                "</div>")


def recorded(spec: Written, report: Report, fn) -> WrittenReport:
    """The check cell's report for a written answer, from the usual verdict ``report``."""
    n = 0
    if report.status == "passed":
        try:
            n = words(fn())
        except Exception:  # it passed a moment ago; never stop the lesson here
            n = 0
    return WrittenReport(report.exercise_id, report.title, report.status, report.results,
                         report.hints, report.tier, n)
