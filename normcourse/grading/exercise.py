"""Grade one exercise: call the learner's function in the kernel, judge here.

The test cases are built in the grader's process; only their inputs go into the
kernel (:mod:`normcourse.grading.probe`), and one reply of plain values comes back
on the kernel's private reply pipe, judged with ``helpers.checking.verdict.judge``.
"""

from __future__ import annotations

import time

from helpers.checking.calling import Outcome
from helpers.checking.verdict import CaseResult, judge
from helpers.exercises import lesson_exercises
from helpers.exercises.shortcuts import shortcut_table
from normcourse.grading import probe, standins
from normcourse.grading.code import why_missing
from normcourse.grading.load import SubmissionError
from normcourse.grading.results import (
    ExerciseResult,
    Limits,
    course_used_result,
    error_result,
    exercise_result,
    not_reached,
)
from normcourse.grading.session import Run


def grade_exercise(run: Run, ex, cases, limits: Limits) -> tuple[ExerciseResult, bool]:
    """Call the learner's function on the cases in the kernel and judge here, within
    what is left of the submission's time (``limits.timeout``).

    Returns the result and whether the kernel must be restarted.
    """
    remaining = run.deadline - time.monotonic()
    if remaining <= 0:
        return not_reached(ex, limits), False
    cut = remaining < limits.cell_timeout  # the submission's deadline comes first
    limit = (f"before the submission's {limits.timeout:g} s time limit" if cut else
             f"within {limits.cell_timeout:g} s")
    nonce = probe.new_nonce()
    k = run.kernel
    code = probe.snippet(ex.function, cases, nonce, k.reply_fd,
                         k.box.standins_seen(k.folders) / probe.CODE_FILE,
                         shortcut_table(tuple(ex.shortcuts)),
                         tuple(getattr(ex, "not_calling", ())))
    r = run.kernel.run(code, min(limits.cell_timeout, remaining), capture=True)
    if r.status == "died" and r.ename in ("MemoryLimit", "DiskLimit"):
        return error_result(ex, f"{ex.function} was stopped because it {r.evalue}"), True
    if r.status == "died":
        why = f": {r.evalue}" if r.evalue else " (os._exit, a crash or running out of memory?)"
        return error_result(ex, f"the Python kernel stopped while {ex.function} ran{why}"), True
    if r.status == "flood":
        return error_result(ex, f"{ex.function} was stopped: more than {limits.output_mb:g} "
                                 "MB of output (of any kind) arrived from your notebook while "
                                 "it ran"), False
    try:
        if r.reply_overflow:
            raise probe.ProbeError(f"{probe.UNREADABLE} (far too large)")
        outcomes = probe.parse_reply(r.reply, nonce, len(cases))
    except probe.ProbeError as exc:
        msg = str(exc)
        if msg == "MISSING":
            msg = (f"there is no function called {ex.function} in your notebook after it ran: "
                   + why_missing(run.sub, ex.id, ex.function))
        elif msg.startswith("NOT_CALLABLE:"):
            msg = f"{ex.function} is a {msg.split(':', 1)[1]}, not a function"
        elif r.status == "timeout":
            msg = f"{ex.function} did not return {limit}"
        elif r.ename:
            msg = f"{msg} ({r.ename}: {r.evalue})"[:300]
        return error_result(ex, msg), False
    used = standins.course_function_used(outcomes, r.stdout, run.kernel.standins_mark)
    if used:  # a stand-in of helpers.answers was called: the sandbox holds no answers
        return course_used_result(ex, used, outcomes), False
    report = judge(ex, cases, outcomes)
    for out, res in zip(outcomes, report.results, strict=True):
        _explain(out, res, limit)
    return exercise_result(ex, report, outcomes), False


def _explain(out: Outcome, res: CaseResult, limit: str) -> None:
    if out.status == "raised" and out.error == "TIMEOUT":
        res.message = f"your function did not return {limit} (an endless loop, or far too slow?)"
    elif out.status == "raised" and out.error == "SKIPPED":
        res.message = "not run: an earlier case did not return in time"
    elif out.status == "unreadable":
        res.message = "the reply from your notebook for this case was unreadable"


def selected(lesson: str, only) -> list:
    """The exercises of ``lesson`` to grade (``only``: the teacher's --exercise ids).

    Every id asked for must be an exercise of this lesson, and at least one
    exercise must be left: grading nothing would look like full marks (0 of 0).
    """
    exercises = lesson_exercises(lesson)
    ids = [ex.id for ex in exercises]
    foreign = [e for e in only or [] if e not in ids]
    if foreign:
        raise SubmissionError(
            f"--exercise {', '.join(foreign)}: not an exercise of lesson {lesson}, which is "
            f"what this notebook's content says it is (its exercises: {', '.join(ids)})")
    chosen = [ex for ex in exercises if not only or ex.id in only]
    if not chosen:
        raise SubmissionError(f"lesson {lesson} has no exercise to grade")
    return chosen
