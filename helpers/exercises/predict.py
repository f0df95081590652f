"""Predictions: the learner commits a guess before the cells that show what happens.

    def predict_depth():               # the learner's cell
        return "b"

    check("ex6_predict_depth", predict_depth)          # -> recorded: you predicted B
    ...                                                 # the cells that compute the result
    reveal("ex6_predict_depth", predict_depth, happened)  # you predicted B; what happened

A prediction is an exercise spec (:class:`Prediction`, made by :func:`prediction`) with
0 points and ``kind == "prediction"``, so the grader, which calls every exercise's
function, sees the learner's choice like any other answer. No answer is stored and
none is right or wrong: every valid letter passes its check, which only says what
was recorded. :class:`Reveal` shows the prediction next to the computed result; with
no prediction made it asks for one and still shows the result, so Run All goes on.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass

from helpers.checking.calling import Case
from helpers.checking.expect import expect_choice
from helpers.checking.verdict import Report
from helpers.exercises.spec import Exercise, answer_digest


@dataclass(frozen=True)
class Prediction(Exercise):
    """An exercise with 0 points whose answer is one letter of ``options``, never judged.

    options  ((letter, the option's text), ...) in the order shown to the learner
    observed the salted digest (``spec.answer_digest``) of the option the lesson's own
             measurement bears out: never judged, shown next to the class's predictions
             by ``normcourse report`` (``observed_letter``)
    """

    options: tuple = ()
    kind: str = "prediction"
    observed: str = ""

    def option(self, letter: str) -> str:
        return dict(self.options).get(letter, "")

    def observed_letter(self) -> str:
        """The option the measurement bears out ("" when none is recorded)."""
        return next((letter for letter, _ in self.options
                     if answer_digest(self.id, letter) == self.observed), "")


def prediction(id: str, function: str, title: str, options: dict, *, hint: str = "",
               observed: str = "") -> Prediction:
    """A prediction: ``function()`` returns one letter of ``options`` (letter -> text)."""
    letters = "".join(options)
    return Prediction(
        id=id, function=function, title=title, points=0, cases=_one_answer,
        judge=_any_of(letters), options=tuple(options.items()), observed=observed,
        hint=hint or f'Return one letter in quotes, for example "{letters[0]}": your guess, '
                     "made before you run the cells below. Every letter is accepted.")


def _one_answer(rng):
    return [Case("your prediction")]


def _any_of(letters: str):
    def judge(case, value):
        expect_choice(value, letters, "your prediction")  # raises Mismatch unless a letter
    return judge


def learner_letter(fn, letters: str):
    """(letter, problem): the learner's prediction, or None and why there is none."""
    try:
        value = fn()
    except NotImplementedError:
        return None, "not made yet"
    except Exception as exc:  # the learner's cell raised: say so, never stop the lesson
        return None, f"its function raised {type(exc).__name__}"
    if isinstance(value, str) and value.strip().strip("()").lower() in letters \
            and len(value.strip().strip("()")) == 1:
        return value.strip().strip("()").lower(), ""
    return None, f"{value!r} is not one of the letters {', '.join(letters)}"[:120]


@dataclass(repr=False)  # keep Report's text form (what nbval compares), not a dataclass repr
class PredictionReport(Report):
    """What a prediction's check cell shows: what was recorded, never right or wrong."""

    letter: str | None = None
    text: str = ""

    def summary(self) -> str:
        if self.status == "passed":
            return f"recorded: you predicted {self.letter.upper()} ({self.text})"
        if self.status == "not_done":
            return (f"… {self.exercise_id}: not done yet: make your prediction above (return "
                    "one letter), run that cell, then run this cell again.")
        return f"✗ {self.exercise_id}: no prediction recorded: {self.results[0].message}"

    def to_text(self) -> str:  # lines fit a notebook's width (tests/test_notebook_text.py)
        return "\n".join(_wrap(line) for line in (f"{self.title}  [{self.exercise_id}]",
                                                   self.summary()))

    def _repr_html_(self) -> str:
        colour = {"passed": "#0072B2", "not_done": "#555555", "failed": "#D55E00"}[self.status]
        return (f"<div style='border-left:4px solid {colour};padding-left:8px'>"
                f"<b>{html.escape(self.title)}</b> <code>[{self.exercise_id}]</code>"
                f"<p style='color:{colour};font-weight:bold'>{html.escape(self.summary())}</p>"
                "</div>")


def recorded(spec: Prediction, report: Report, fn) -> PredictionReport:
    """The check cell's report for a prediction, from the usual verdict ``report``."""
    letters = "".join(letter for letter, _ in spec.options)
    letter = learner_letter(fn, letters)[0] if report.status == "passed" else None
    return PredictionReport(report.exercise_id, report.title, report.status, report.results,
                            report.hints, report.tier, letter, spec.option(letter or ""))


class Reveal:
    """The learner's prediction next to what happened (``happened``: a sentence rendered
    from computed values). Shown by :func:`helpers.exercises.reveal`."""

    def __init__(self, spec: Prediction, fn, happened: str = "", answer: str = ""):
        letters = "".join(letter for letter, _ in spec.options)
        self.spec, self.happened, self.answer = spec, happened, answer.lower()
        self.letter, self.problem = learner_letter(fn, letters)

    def said(self) -> str:
        title = self.spec.title.split(" (", 1)[0]  # "Exercise 7"
        if self.letter is None:
            why = "" if self.problem == "not made yet" else f" ({self.problem})"
            return (f"No prediction recorded for {title} yet{why}: make it there before you "
                    "read on, then run this cell again."
                    + (f" The measurement bears out {self.answer.upper()}." if self.answer else ""))
        said = f"You predicted {self.letter.upper()}: {self.spec.option(self.letter)}"
        if not self.answer:  # the lesson names no answer: the prediction alone
            return said
        if self.letter == self.answer:
            return f"{said}. Right: the measurement bears out {self.answer.upper()}."
        return (f"{said}. Not quite: the measurement bears out {self.answer.upper()} "
                f"({self.spec.option(self.answer)}).")

    def __repr__(self) -> str:  # plain-text form, what nbval compares
        return f"{_wrap(self.said())}\n{_wrap('What happened: ' + self.happened)}"

    def _repr_html_(self) -> str:
        colour = "#555555" if self.letter is None else "#0072B2"
        return (f"<div style='border-left:4px solid {colour};padding-left:8px'>"
                f"<p style='color:{colour};font-weight:bold'>{html.escape(self.said())}</p>"
                f"<p><b>What happened:</b> {html.escape(self.happened)}</p></div>")


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96, subsequent_indent="  ")
