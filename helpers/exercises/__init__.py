"""Every exercise of the course, and the check that runs in each exercise's check cell.

    from helpers.exercises import check
    check("ex1_gradient", mse_gradient)

A check runs the exercise's test cases against the learner's function, shows a
table of which cases passed, how far off a wrong answer is, and a hint. It never
shows a traceback from inside the helpers: every learner mistake (wrong shape,
NaN, a list, ``None``, mutating an input, raising) becomes a sentence. When the
exercise is not passed yet it raises :class:`~helpers.checking.verdict.NotDoneYet`
or :class:`~helpers.checking.verdict.CheckFailed`, one-line exceptions, so that an
nbgrader test cell scores zero while "Run All" goes on (check cells carry the
``raises-exception`` tag).

Exercises of lesson NN are in ``helpers/exercises/lNN.py`` (what an exercise is:
:mod:`helpers.exercises.spec`). The same cases and judges run in the grader's own
process in ``normcourse grade``.
"""

from __future__ import annotations

import hashlib
import inspect

import numpy as np

from helpers.answers import guard
from helpers.checking.calling import CASE_TIME_LIMIT, Outcome, run_case, watched_error
from helpers.checking.verdict import CaseResult, CheckFailed, NotDoneYet, Report, judge
from helpers.exercises import l00, l01, l02, l03, l04, l05, l06, predict, written
from helpers.exercises.shortcuts import shortcut_table
from helpers.exercises.spec import Exercise

#: lesson notebook stem -> its exercises, in course order
LESSONS = {
    "00_start_here": l00.EXERCISES,
    "01_feature_scale": l01.EXERCISES,
    "02_standardization": l02.EXERCISES,
    "03_batch_norm": l03.EXERCISES,
    "04_batch_norm_backward": l04.EXERCISES,
    "05_norm_in_practice": l05.EXERCISES,
    "06_modern_normalization": l06.EXERCISES,
}


def lesson_exercises(lesson: str) -> list[Exercise]:
    """The exercises of one lesson (notebook stem, e.g. "01_feature_scale"), in order."""
    return list(LESSONS[lesson])


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of the course by id."""
    out = {}
    for exercises in LESSONS.values():
        for ex in exercises:
            if ex.id in out:
                raise ValueError(f"duplicate exercise id {ex.id}")
            out[ex.id] = ex
    return out


def get_exercise(exercise_id: str) -> Exercise:
    exercises = all_exercises()
    if exercise_id not in exercises:
        raise KeyError(f"no exercise called {exercise_id!r}; known: {', '.join(exercises)}")
    return exercises[exercise_id]


def evaluate(exercise_id: str, fn, seed: int = 0, *, own_work: bool = False,
             time_limit: float | None = None) -> Report:
    """Run and judge one exercise in this process: the report that :func:`check` shows.

    ``own_work``: a function that calls the course's own version (:mod:`helpers.answers`) or
    one of the exercise's shortcuts (:mod:`helpers.exercises.shortcuts`) fails, with the
    reason, as in ``normcourse grade`` (:mod:`helpers.answers.guard`).
    ``time_limit``: seconds each case may take.
    """
    exercise = get_exercise(exercise_id)
    if not callable(fn):
        return Report(exercise.id, exercise.title, "failed", [CaseResult(
            "calling your answer", False,
            f"expected the function {exercise.function}, got {type(fn).__name__}; "
            "pass the function itself, without calling it (no parentheses after its name)")],
            exercise.hints)
    cases = exercise.cases(np.random.default_rng(seed))
    if not own_work:
        return judge(exercise, cases, [run_case(fn, c, time_limit) for c in cases])
    outcomes, shortcuts = [], shortcut_table(tuple(exercise.shortcuts))
    if exercise.not_calling:  # the learner's own functions, from the notebook's namespace
        space = getattr(fn, "__globals__", None)
        shortcuts = guard.with_own(shortcuts, space if type(space) is dict else {},
                                   tuple(exercise.not_calling))
    for case in cases:  # the course's own version, or a shortcut, gets no points (as graded)
        with guard.watching(shortcuts=shortcuts) as used:
            outcomes.append(run_case(fn, case, time_limit))
        if used:
            reason = guard.REASON.format(name=used[0])
            return Report(exercise.id, exercise.title, "failed",
                          [CaseResult(c.name, False, reason) for c in cases], exercise.hints)
        stopped = watched_error(used)
        if stopped:
            return judge(exercise, cases, [Outcome("raised", error=stopped)] * len(cases))
    return judge(exercise, cases, outcomes)


#: exercise id -> (fingerprint of the last failed try, the hint tier it was shown)
TRIES: dict[str, tuple] = {}


def _fingerprint(fn, report: Report) -> str:
    """What makes a new try: the function's source, and what its cases said."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = ""
    said = "\n".join(f"{r.passed} {r.message}" for r in report.results)
    return hashlib.sha256(f"{source}\0{said}".encode()).hexdigest()


def _hint_tier(exercise_id: str, fn, report: Report) -> int:
    """The first tier for a first failure; one more only for a changed function that is
    still wrong (running the same cell again shows the same hint); a pass starts over."""
    if report.status == "passed":
        TRIES.pop(exercise_id, None)
        return 0
    key, last = _fingerprint(fn, report), TRIES.get(exercise_id)
    tier = 0 if last is None else last[1] + (key != last[0])
    TRIES[exercise_id] = (key, tier)
    return tier


def check(exercise_id: str, fn, *, seed: int = 0) -> None:
    """Check the learner's function for one exercise; show the verdict.

    Raises NotDoneYet / CheckFailed (one-line message, no traceback) unless the
    exercise passes (a function that calls the course's own version does not), so that
    an autograded cell scores zero when it fails. Each case may take CASE_TIME_LIMIT
    seconds (the grader's default). A failure after a change to the function shows the
    next tier of the exercise's hint.
    """
    from IPython.display import display

    report = evaluate(exercise_id, fn, seed=seed, own_work=True, time_limit=CASE_TIME_LIMIT)
    spec = get_exercise(exercise_id)
    if spec.kind == "prediction":  # recorded as it is: no right or wrong, no hint tiers
        report = predict.recorded(spec, report, fn)
    elif spec.kind == "written":  # recorded for the teacher: no right or wrong
        report = written.recorded(spec, report, fn)
    if report.status == "not_done":  # the one-line verdict says it all: no table to show
        raise NotDoneYet(report)
    report.tier = _hint_tier(exercise_id, fn, report)
    display(report)
    if report.status == "failed":
        raise CheckFailed(report)


def reveal(exercise_id: str, fn, happened: str = "", answer: str = "") -> None:
    """Show the learner's prediction (``fn()``, a letter) next to ``happened``, a sentence
    rendered from the computed result; with ``answer`` (the letter the measurement bore
    out, computed by the lesson) it also says right or not quite and names that letter.
    Asks for a prediction when none was made, and never raises
    (:mod:`helpers.exercises.predict`)."""
    from IPython.display import display

    display(predict.Reveal(get_exercise(exercise_id), fn, happened, answer))
