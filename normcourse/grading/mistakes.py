"""What the grades JSON says per case beyond pass/fail: the mistake's stable id, and for a
prediction the option the student chose (issue 21).

A written answer's text is kept the same way, for the teacher.

A judge names a mistake with ``Mismatch(message, "eps-outside-sqrt")``; the grader writes
it as ``ex3_bn_eval/eps-outside-sqrt``, and a failure the judge did not name as
``ex3_bn_eval/other``. The ids are kept in ``tests/data/mistake_ids.txt``
(``tests/test_mistake_ids.py``): renaming one is a visible change, and a class report
(:mod:`normcourse.classreport`) can count them across years.
"""

from __future__ import annotations

OTHER = "other"
COURSE_USED = "uses-course-function"  # it called the course's own version (standins)


def mistake_id(exercise_id: str, result) -> str:
    """The stable id of a failed case (a :class:`~helpers.checking.verdict.CaseResult`);
    "" for a passed case or one not done yet."""
    if result.passed or result.message.startswith("not done yet"):
        return ""
    return f"{exercise_id}/{result.mistake or OTHER}"


def case_rows(exercise_id: str, results) -> list[dict]:
    """The cases as the grades JSON holds them."""
    return [{"name": r.case, "passed": r.passed, "message": r.message,
             "mistake": mistake_id(exercise_id, r)} for r in results]


def choice(exercise, outcomes) -> str:
    """The letter a student chose in a prediction (lower case), or the text of a written
    answer (:mod:`helpers.exercises.written`); "" when there is none."""
    from helpers.checking.expect import Mismatch, expect_choice
    from helpers.exercises.written import text_of

    kind = getattr(exercise, "kind", "")
    if kind not in ("prediction", "written") or not outcomes \
            or outcomes[0].status != "returned":
        return ""
    if kind == "written":
        return text_of(outcomes[0].value)
    letters = "".join(letter for letter, _ in exercise.options)
    try:
        return expect_choice(outcomes[0].value, letters)
    except (Mismatch, TypeError, ValueError):
        return ""
