"""What an exercise is: the function the learner writes, its test cases, its judge, its hint.

An :class:`Exercise` builds its test cases from a random generator (so a grader
can draw fresh ones) and judges a returned value in whatever process holds the
cases. Multiple-choice answers are stored as salted SHA-256 digests, not in clear
(:func:`concept_question`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_choice


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    id        stable nbgrader ``grade_id`` of its solution cell, e.g. "ex1_gradient"
    function  name of the function the learner writes
    title     one line shown above the verdict
    points    points in the autograded test cell
    cases     rng -> list[Case]; the in-notebook check uses rng seed 0
    judge     (case, value) -> None, raising checks.Mismatch with a readable reason
    hint      shown when a case fails: one text, or tiers shown one more per changed,
              still wrong try -- a nudge (the idea, no formula), the formula, near-code
              (code only in the last tier)
    precision why float64 precision is this exercise's point ("": an answer computed in
              float32 is judged at float32's precision, "computed in float32: fine here")
    shortcuts the course functions (``module:name`` below ``helpers``) that compute the
              answer or most of it: calling one is not the learner's own work
    not_calling  the learner's own functions of other exercises this one must not call
              (the compact backward form must not call the staged one): "your function
              calls your `NAME`", 0 points, in the check and in the grader
    kind      "exercise", or "prediction" (0 points, every valid letter is recorded as it
              is: :mod:`helpers.exercises.predict`)
    """

    id: str
    function: str
    title: str
    points: int
    cases: Callable
    judge: Callable
    hint: str | tuple = ""
    precision: str = ""
    shortcuts: tuple = ()
    kind: str = "exercise"
    not_calling: tuple = ()

    @property
    def hints(self) -> tuple:
        """The hint tiers, in the order they are shown."""
        return (self.hint,) if isinstance(self.hint, str) else tuple(self.hint)


def answer_digest(exercise_id: str, letter: str) -> str:
    """Salted digest of a multiple-choice answer (the salt is the exercise id)."""
    return hashlib.sha256(f"{exercise_id}:{letter.strip().lower()}".encode()).hexdigest()


def choice_judge(exercise_id: str, valid: str, digest: str, wrong: dict | None = None):
    """A judge for a multiple-choice question whose right letter has this digest.

    ``wrong`` maps a wrong letter to a sentence explaining why it is wrong.
    """
    wrong = wrong or {}

    def _judge(case, value):
        letter = expect_choice(value, valid)
        if answer_digest(exercise_id, letter) != digest:
            raise Mismatch(f"{letter!r} is not right. {wrong.get(letter, '')}".strip())

    return _judge


def concept_question(id: str, function: str, title: str, digest: str, *, hint,
                     wrong: dict | None = None, valid: str = "abcd", points: int = 1) -> Exercise:
    """A multiple-choice exercise: the learner's ``function()`` returns one letter of ``valid``.

    ``digest`` is :func:`answer_digest` of the right letter; ``wrong`` explains wrong letters.
    """
    return Exercise(id=id, function=function, title=title, points=points,
                    cases=_one_answer, judge=choice_judge(id, valid, digest, wrong), hint=hint)


def _one_answer(rng):
    return [Case("your answer")]
