"""What ``normcourse grade`` produces: the limits it grades under and its results.

:class:`Limits` (the command line's limits), :class:`SubmissionResult` (one notebook)
and :class:`ExerciseResult` (one exercise of it), which every output format of
:mod:`normcourse.grading.report` is built from, and the small builders of an
exercise's result used by :mod:`normcourse.grading.exercise` and :mod:`normcourse.grade`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from helpers.checking.verdict import Report
from helpers.exercises import written
from normcourse.grading import mistakes, standins
from normcourse.grading.code import redefined_after_check


@dataclass
class Limits:
    timeout: float = 600.0  # seconds for a whole submission: its cells and its function calls
    cell_timeout: float = 120.0  # seconds per cell, and per exercise when its function is called
    memory_mb: int = 2048  # resident memory of a kernel and its processes
    output_mb: float = 5.0
    file_mb: int = 100
    disk_mb: int = 500  # all the files a kernel writes in its folder
    isolation: str = "auto"  # "bwrap", "uid", "none" or "auto" (normcourse.grading.isolation)
    pass_env: tuple = ()  # the teacher's variables (NAME or NAME=VALUE) added to the kernels'
    run_all_cells: bool = False  # True: run the course cells no grade depends on too


@dataclass
class ExerciseResult:
    id: str
    title: str
    function: str
    points: float
    max_points: float
    status: str  # "passed", "failed", "not_done", "error"
    summary: str
    cases: list = field(default_factory=list)  # [{"name", "passed", "message", "mistake"}]
    hint: str = ""
    choice: str = ""  # a prediction's letter (grading.mistakes)
    text: str = ""  # a written interpretation's text (helpers.exercises.written)


@dataclass
class SubmissionResult:
    submission: str
    lesson: str | None = None
    graded: bool = False
    error: str = ""
    score: float = 0.0
    max_score: float = 0.0
    exercises: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what happened while running the notebook
    seconds: float = 0.0
    seed: int | None = None
    sandboxed: bool = False  # its kernel was isolated (a bwrap sandbox or a separate user)
    isolation: str = "none"  # how: "bwrap", "uid" or "none"
    incomplete: bool = False  # the run was stopped before this submission was graded

    def to_dict(self) -> dict:
        return asdict(self)



def exercise_result(ex, report: Report, outcomes=()) -> ExerciseResult:
    points = ex.points if report.passed else 0
    summary = report.summary().replace(" See the table above.", "")
    if report.status == "not_done":
        summary = f"… {ex.id}: not done yet ({ex.function} still raises NotImplementedError)."
    text = written.text(ex, outcomes)
    if text and report.passed:  # a written answer is recorded, never "correct"
        summary = f"✓ {ex.id}: recorded ({len(text.split())} words, 0 points): your teacher reads it"
    return ExerciseResult(ex.id, ex.title, ex.function, points, ex.points, report.status,
                          summary, mistakes.case_rows(ex.id, report.results), ex.hints[0],
                          mistakes.choice(ex, outcomes), text)


def error_result(ex, message: str) -> ExerciseResult:
    return ExerciseResult(ex.id, ex.title, ex.function, 0, ex.points, "error",
                          f"✗ {ex.id}: {message}", [], ex.hints[0])


def not_reached(ex, limits: Limits) -> ExerciseResult:
    return error_result(ex, f"not graded: the submission reached its {limits.timeout:g} s "
                             "time limit before the grader got to this exercise")


def note_redefinition(res: ExerciseResult, sub, ex) -> None:
    cells = redefined_after_check(sub, ex.id, ex.function)
    if cells:
        where = ", ".join(str(n) for n in cells)
        res.summary += (f" Note: {ex.function} is defined again in code cell{'s' * (len(cells) > 1)} "
                        f"{where}, after its check cell; the grader used the last definition "
                        "(the one your notebook ends with), not the one the check cell checked.")


def course_used_result(ex, name: str, outcomes) -> ExerciseResult:
    reason = standins.REASON.format(name=name)
    cases = [{"name": f"case {i + 1}", "passed": False, "message": reason,
              "mistake": f"{ex.id}/{mistakes.COURSE_USED}"} for i in range(len(outcomes))]
    return ExerciseResult(ex.id, ex.title, ex.function, 0, ex.points, "failed",
                          f"✗ {ex.id}: {reason}.", cases, ex.hints[0])


STOPPED = "not graded: the grading run was stopped"
NOT_ISOLATED = ("NOT ISOLATED: this notebook ran without a sandbox (bubblewrap), with the "
                "grader's rights; its grade cannot be trusted as fully")
ISOLATION_NOTES = {"none": NOT_ISOLATED, "uid": "isolation: this notebook ran as a separate "
                   "user (no bubblewrap sandbox here)"}
