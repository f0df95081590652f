"""Every exercise of the course: its test cases, its judge and its hint.

An :class:`Exercise` names the function the learner writes, builds its test
cases from a random generator (so a grader can draw fresh ones), and judges a
returned value in whatever process holds the cases. Exercises of lesson NN
live in ``helpers/exercises/lNN.py``; :func:`get_exercise` finds them by id.

Multiple-choice answers are stored as salted SHA-256 digests, not in clear.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from helpers.checks import Mismatch, expect_choice

#: lesson notebook stem -> module holding its exercises, in course order
LESSON_MODULES = {
    "00_start_here": "helpers.exercises.l00",
    "01_feature_scale": "helpers.exercises.l01",
    "02_standardization": "helpers.exercises.l02",
    "03_batch_norm": "helpers.exercises.l03",
}


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    id        stable nbgrader ``grade_id`` of its solution cell, e.g. "ex1_gradient"
    function  name of the function the learner writes
    title     one line shown above the verdict
    points    points in the autograded test cell
    cases     rng -> list[Case]; the in-notebook check uses rng seed 0
    judge     (case, value) -> None, raising checks.Mismatch with a readable reason
    hint      shown when a case fails
    """

    id: str
    function: str
    title: str
    points: int
    cases: Callable
    judge: Callable
    hint: str = ""


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


def concept_question(id: str, function: str, title: str, digest: str, *, hint: str,
                     wrong: dict | None = None, valid: str = "abcd", points: int = 1) -> Exercise:
    """A multiple-choice exercise: the learner's ``function()`` returns one letter of ``valid``.

    ``digest`` is :func:`answer_digest` of the right letter; ``wrong`` explains wrong letters.
    """
    return Exercise(id=id, function=function, title=title, points=points,
                    cases=_one_answer, judge=choice_judge(id, valid, digest, wrong), hint=hint)


def _one_answer(rng):
    from helpers.checks import Case

    return [Case("your answer")]


def lesson_exercises(lesson: str) -> list[Exercise]:
    """The exercises of one lesson (notebook stem, e.g. "01_feature_scale"), in order."""
    module = importlib.import_module(LESSON_MODULES[lesson])
    return list(module.EXERCISES)


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of the course by id."""
    out = {}
    for lesson in LESSON_MODULES:
        for ex in lesson_exercises(lesson):
            if ex.id in out:
                raise ValueError(f"duplicate exercise id {ex.id}")
            out[ex.id] = ex
    return out


def get_exercise(exercise_id: str) -> Exercise:
    exercises = all_exercises()
    if exercise_id not in exercises:
        raise KeyError(f"no exercise called {exercise_id!r}; known: {', '.join(exercises)}")
    return exercises[exercise_id]
