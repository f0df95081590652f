"""``normcourse grade``: grade submitted notebooks with the course's own test cases.

    normcourse grade SUBMISSION.ipynb... [--format table|json|csv|gradescope]
                     [--out PATH] [--feedback DIR] [--jobs N] [--timeout SECONDS]

For each submission the grader

1. reads the file and works out its lesson from its content (notebook metadata
   written by ``normcourse build``, and the nbgrader ``grade_id`` of its
   exercise cells), checked against its file name, ``--lesson`` and
   ``--exercise``; a file it cannot grade gets one error row saying why;
2. runs every code cell in a fresh kernel in a temporary folder, under limits
   (time per cell, memory, output size of any kind); errors do not stop it,
   and a cell that kills the kernel is left out on a restart. On Linux the
   kernel runs in its own bubblewrap sandbox (:mod:`normcourse.grading.sandbox`),
   where ``helpers/answers`` holds stand-ins: an exercise whose function calls
   the course's own version scores 0 with the reason; without bwrap the output
   says loudly that the submissions were not isolated;
3. for each exercise of the lesson, builds test cases from a fresh random
   generator *in this process*, sends only their inputs into the kernel,
   calls the learner's function there, gets back exactly one reply of plain
   values on the kernel's private reply pipe, and judges them here with
   ``helpers.checking.verdict.judge`` (in-place changes included). Nothing the
   submission does in its kernel (redefining ``check``, patching numpy or the
   helpers, editing test cells, printing fake results) can award it a point.

One deadline (``--timeout``) covers steps 2 and 3: the cells may use
``CELLS_SHARE`` of it, and what was not reached in time is reported as such.

Points are all-or-nothing per exercise, as in nbgrader, and come from the
course's exercise specs, never from the submission.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from helpers.checking.calling import Outcome
from helpers.checking.verdict import CaseResult, Report, judge
from helpers.exercises import lesson_exercises
from helpers.exercises.shortcuts import shortcut_table
from normcourse.grading import probe, reaper, sandbox, standins
from normcourse.grading.code import course_copy, redefined_after_check, why_missing
from normcourse.grading.kernel import GradingKernel, KernelStartError
from normcourse.grading.load import SubmissionError, load

QUIET_ERRORS = {"NotDoneYet", "CheckFailed", "NotImplementedError"}  # expected in check cells
MAX_RESTARTS = 3
#: share of a submission's time (--timeout) its cells may use; the rest is kept for
#: calling its functions, so a slow cell cannot cost the points of the functions above it
CELLS_SHARE = 0.75
START_TRIES = 3  # a kernel that fails to start (a busy machine) is tried again
START_TIMEOUT = 60.0  # seconds for one start of a kernel


@dataclass
class Limits:
    timeout: float = 600.0  # seconds for a whole submission: its cells and its function calls
    cell_timeout: float = 120.0  # seconds per cell, and per exercise when its function is called
    memory_mb: int = 2048  # resident memory of a kernel and its processes
    output_mb: float = 5.0
    file_mb: int = 100
    disk_mb: int = 500  # all the files a kernel writes in its folder
    sandbox: bool | None = None  # each kernel in a bubblewrap sandbox (None: when available)


@dataclass
class ExerciseResult:
    id: str
    title: str
    function: str
    points: float
    max_points: float
    status: str  # "passed", "failed", "not_done", "error"
    summary: str
    cases: list = field(default_factory=list)  # [{"name", "passed", "message"}]
    hint: str = ""


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
    sandboxed: bool = False  # its kernel ran in a bubblewrap sandbox
    incomplete: bool = False  # the run was stopped before this submission was graded

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- kernels

_LIVE: set = set()
_LIVE_LOCK = threading.Lock()
_STOP = threading.Event()  # set on Ctrl-C / SIGTERM: start no kernel, restart none


def _close_all() -> None:
    """Kill every kernel still running (Ctrl-C, exit): no process outlives the run."""
    _STOP.set()
    with _LIVE_LOCK:
        kernels = list(_LIVE)
    for k in kernels:
        k.stop()  # signals only: the thread that owns the kernel closes it


def _at_exit() -> None:
    _close_all()
    with _LIVE_LOCK:
        kernels = list(_LIVE)
    for k in kernels:  # threads are gone by now: remove their folders too
        shutil.rmtree(k.root, ignore_errors=True)


atexit.register(_at_exit)


# --------------------------------------------------------------------------- grading


def _cells_time(limits: Limits) -> str:
    return (f"{CELLS_SHARE * limits.timeout:g} s of the submission's {limits.timeout:g} s "
            "time limit")


def _note_for(i: int, r, limits: Limits, cut_by_total: bool) -> str | None:
    where = f"code cell {i + 1}"
    if r.status == "timeout":
        if cut_by_total:
            return (f"{where}: stopped when running the cells reached {_cells_time(limits)} "
                    "(the rest is kept for calling your functions); the cells after it "
                    "were not run")
        return (f"{where}: stopped after {limits.cell_timeout:.0f} s (an endless loop, or far "
                "too slow?); the next cells were still run")
    if r.status == "flood":
        return (f"{where}: stopped because more than {limits.output_mb:g} MB of output "
                "arrived while it ran; the next cells were still run")
    if r.status == "died" and r.ename in ("MemoryLimit", "DiskLimit"):
        return (f"{where}: stopped because it {r.evalue}; the notebook was run again "
                "without this cell")
    if r.status == "died":
        why = f": {r.evalue}" if r.evalue else " (os._exit, a crash or running out of memory?)"
        return (f"{where}: the Python kernel stopped{why}; the notebook was run again "
                "without this cell")
    if r.status == "error" and r.ename == "MemoryError":
        return (f"{where}: ran out of memory (limit {limits.memory_mb} MB); the notebook was "
                "run again without this cell")
    if r.status == "error" and r.ename not in QUIET_ERRORS:
        return f"{where} raised {r.ename}: {r.evalue}"[:300]
    return None


class _Run:
    """One submission in one kernel: runs its cells, restarts after a fatal cell."""

    def __init__(self, sub, limits: Limits, start: float):
        self.sub, self.limits = sub, limits
        self.deadline = start + limits.timeout  # for everything, function calls included
        self.cells_deadline = start + CELLS_SHARE * limits.timeout
        not_run = sub.not_run()  # cells the grader's analysis refused: never run
        self.skip: set = set(not_run)  # and cells that killed the kernel or were interrupted
        self.notes: dict = {i: note for i, note in not_run.items() if note}
        self.restarts = 0
        self.hidden_cells: list = []  # demo cells that called the course's hidden functions
        self.after_hidden: set = set()  # cells with errors after such a cell
        self.kernel = GradingKernel(memory_mb=limits.memory_mb, file_mb=limits.file_mb,
                                    disk_mb=limits.disk_mb,
                                    output_limit=int(limits.output_mb * 1e6),
                                    sandboxed=limits.sandbox)
        with _LIVE_LOCK:
            _LIVE.add(self.kernel)
        reaper.watch(self.kernel.root, self.kernel.token)

    def close(self) -> None:
        self.kernel.close()
        reaper.forget(self.kernel.root)
        with _LIVE_LOCK:
            _LIVE.discard(self.kernel)

    def start(self, restart: bool = False) -> None:
        """Start the kernel; a start that fails is tried again (START_TRIES in all).

        A restart (after a cell killed the kernel) may be slowed by what the submission
        left in its folder, so it gets only what is left of the submission's time.
        """
        for attempt in range(START_TRIES):
            timeout = START_TIMEOUT
            if restart:
                timeout = min(timeout, self.deadline - time.monotonic())
                if timeout <= 0:
                    raise KernelStartError("the submission's time limit was reached")
            try:
                if attempt or restart:
                    return self.kernel.restart(timeout)
                return self.kernel.start(timeout)
            except KernelStartError:
                if attempt == START_TRIES - 1 or _STOP.is_set():
                    raise
                time.sleep(0.5 * (attempt + 1))

    def note(self, i: int, r) -> str | None:
        if r.ename == standins.EXCEPTION:  # a demo of the course's own function: no points lost
            if i not in self.hidden_cells:
                self.hidden_cells.append(i)
            return None
        if self.hidden_cells and r.ename not in (*QUIET_ERRORS, "MemoryError", "SystemExit"):
            # an ordinary error after such a cell: probably for lack of its results
            self.after_hidden.add(i)
            return None
        return _note_for(i, r, self.limits, False)

    def hidden_note(self) -> str | None:
        if not self.hidden_cells:
            return None
        cells = ", ".join(str(i + 1) for i in sorted(self.hidden_cells))
        later = (f"; {len(self.after_hidden)} later cell(s) raised errors, probably for lack of "
                 "their results" if self.after_hidden else "")
        return (f"code cell(s) {cells} used the course's own functions (helpers.answers), which "
                f"are hidden while grading (normal for the course's demonstrations){later}. "
                "No points depend on these cells")

    def run_cells(self) -> bool:
        """Run every cell not skipped; True when the kernel is alive at the end."""
        for i, src in enumerate(self.sub.code_cells):
            if i in self.skip or not src.strip():
                continue
            remaining = self.cells_deadline - time.monotonic()
            if remaining <= 0:
                self.notes.setdefault(f"total-{i}", (
                    f"running the cells reached {_cells_time(self.limits)}; code cells "
                    f"from {i + 1} on were not run"))
                return self.kernel.alive()
            cut = remaining < self.limits.cell_timeout
            r = self.kernel.run(src, min(self.limits.cell_timeout, remaining))
            note = _note_for(i, r, self.limits, cut) if r.status != "error" else self.note(i, r)
            if note:
                self.notes.setdefault(i, note)
            fatal = r.status == "died" or r.ename == "MemoryError"  # memory may stay used up
            if fatal or r.status in ("timeout", "flood"):
                self.skip.add(i)
            if fatal:
                return self.recover()
        return True

    def recover(self) -> bool:
        """Restart the kernel and run the cells again without the ones that killed it."""
        self.restarts += 1
        if _STOP.is_set():
            return False
        if self.restarts > MAX_RESTARTS or time.monotonic() > self.cells_deadline:
            self.notes.setdefault("gave-up", (
                "the kernel stopped too often; the exercises not graded yet get 0 points"))
            return False
        try:
            self.start(restart=True)
        except KernelStartError as exc:
            self.notes.setdefault("restart", f"the kernel could not be restarted: {exc}")
            return False
        return self.run_cells()


def _exercise_result(ex, report: Report) -> ExerciseResult:
    points = ex.points if report.passed else 0
    summary = report.summary().replace(" See the table above.", "")
    if report.status == "not_done":
        summary = f"… {ex.id}: not done yet ({ex.function} still raises NotImplementedError)."
    return ExerciseResult(ex.id, ex.title, ex.function, points, ex.points, report.status,
                          summary,
                          [{"name": r.case, "passed": r.passed, "message": r.message}
                           for r in report.results], ex.hints[0])


def _error_result(ex, message: str) -> ExerciseResult:
    return ExerciseResult(ex.id, ex.title, ex.function, 0, ex.points, "error",
                          f"✗ {ex.id}: {message}", [], ex.hints[0])


def _not_reached(ex, limits: Limits) -> ExerciseResult:
    return _error_result(ex, f"not graded: the submission reached its {limits.timeout:g} s "
                             "time limit before the grader got to this exercise")


def _note_redefinition(res: ExerciseResult, sub, ex) -> None:
    cells = redefined_after_check(sub, ex.id, ex.function)
    if cells:
        where = ", ".join(str(n) for n in cells)
        res.summary += (f" Note: {ex.function} is defined again in code cell{'s' * (len(cells) > 1)} "
                        f"{where}, after its check cell; the grader used the last definition "
                        "(the one your notebook ends with), not the one the check cell checked.")


def _course_used_result(ex, name: str, outcomes) -> ExerciseResult:
    reason = standins.REASON.format(name=name)
    cases = [{"name": f"case {i + 1}", "passed": False, "message": reason}
             for i in range(len(outcomes))]
    return ExerciseResult(ex.id, ex.title, ex.function, 0, ex.points, "failed",
                          f"✗ {ex.id}: {reason}.", cases, ex.hints[0])


def _grade_exercise(run: _Run, ex, cases, limits: Limits) -> tuple[ExerciseResult, bool]:
    """Call the learner's function on the cases in the kernel and judge here, within
    what is left of the submission's time (``limits.timeout``).

    Returns the result and whether the kernel must be restarted.
    """
    remaining = run.deadline - time.monotonic()
    if remaining <= 0:
        return _not_reached(ex, limits), False
    cut = remaining < limits.cell_timeout  # the submission's deadline comes first
    limit = (f"before the submission's {limits.timeout:g} s time limit" if cut else
             f"within {limits.cell_timeout:g} s")
    nonce = probe.new_nonce()
    code = probe.snippet(ex.function, cases, nonce, run.kernel.reply_fd,
                         shortcut_table(tuple(ex.shortcuts)))
    r = run.kernel.run(code, min(limits.cell_timeout, remaining), capture=True)
    if r.status == "died" and r.ename in ("MemoryLimit", "DiskLimit"):
        return _error_result(ex, f"{ex.function} was stopped because it {r.evalue}"), True
    if r.status == "died":
        why = f": {r.evalue}" if r.evalue else " (os._exit, a crash or running out of memory?)"
        return _error_result(ex, f"the Python kernel stopped while {ex.function} ran{why}"), True
    if r.status == "flood":
        return _error_result(ex, f"{ex.function} was stopped: more than {limits.output_mb:g} "
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
        return _error_result(ex, msg), False
    used = standins.course_function_used(outcomes, r.stdout, run.kernel.standins_mark)
    if used:  # a stand-in of helpers.answers was called: the sandbox holds no answers
        return _course_used_result(ex, used, outcomes), False
    report = judge(ex, cases, outcomes)
    for out, res in zip(outcomes, report.results, strict=True):
        _explain(out, res, limit)
    return _exercise_result(ex, report), False


def _explain(out: Outcome, res: CaseResult, limit: str) -> None:
    if out.status == "raised" and out.error == "TIMEOUT":
        res.message = f"your function did not return {limit} (an endless loop, or far too slow?)"
    elif out.status == "raised" and out.error == "SKIPPED":
        res.message = "not run: an earlier case did not return in time"
    elif out.status == "unreadable":
        res.message = "the reply from your notebook for this case was unreadable"


def _selected(lesson: str, only) -> list:
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


def grade_submission(path, limits: Limits | None = None, *, seed: int | None = None,
                     lesson: str | None = None, only: list | None = None) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission does."""
    limits = limits or Limits()
    start = time.monotonic()
    result = SubmissionResult(str(path))
    try:
        sub = load(Path(path), lesson)
    except SubmissionError as exc:
        result.error = str(exc)
        result.seconds = time.monotonic() - start
        return result
    result.lesson = sub.lesson
    try:
        exercises = _selected(sub.lesson, only)
    except SubmissionError as exc:
        result.error = str(exc)
        result.seconds = time.monotonic() - start
        return result
    result.seed = seed if seed is not None else secrets.randbits(63)
    rng = np.random.default_rng(result.seed)
    cases = {ex.id: ex.cases(rng) for ex in exercises}  # fresh cases, built here
    result.max_score = float(sum(ex.points for ex in exercises))
    run = _Run(sub, limits, start)
    result.sandboxed = run.kernel.sandboxed
    try:
        try:
            run.start()
        except KernelStartError as exc:
            result.error = f"could not start a Python kernel: {exc}"
            return result
        alive = run.run_cells()
        for ex in exercises:
            if time.monotonic() >= run.deadline:
                result.exercises.append(_not_reached(ex, limits))
                continue
            if not alive:
                result.exercises.append(_error_result(
                    ex, "not graded: the notebook's kernel had stopped (see the notes)"))
                continue
            used = course_copy(sub, ex.function)  # decided from the source, not the kernel
            res, fatal = ((_course_used_result(ex, used, cases[ex.id]), False) if used else
                          _grade_exercise(run, ex, cases[ex.id], limits))
            _note_redefinition(res, sub, ex)
            result.exercises.append(res)
            if fatal:
                alive = run.recover()
        result.graded = True
        result.score = float(sum(e.points for e in result.exercises))
        used = [f"{e.id} {e.summary[len(e.id) + 4:]}" for e in result.exercises
                if e.status == "failed" and standins.REASON.split("`")[0] in e.summary]
        result.notes = [n for n in (*used, *run.notes.values(), run.hidden_note()) if n]
        if not run.kernel.sandboxed:
            result.notes.insert(0, NOT_ISOLATED)
        return result
    finally:
        run.close()
        result.seconds = round(time.monotonic() - start, 2)


STOPPED = "not graded: the grading run was stopped"
NOT_ISOLATED = ("NOT ISOLATED: this notebook ran without a sandbox (bubblewrap), with the "
                "grader's rights; its grade cannot be trusted as fully")


def grade_many(paths, limits: Limits | None = None, *, jobs: int = 1, seed: int | None = None,
               lesson: str | None = None, only: list | None = None, progress=None,
               done: dict | None = None) -> list:
    """Grade every path (``jobs`` kernels at a time); results in the order given.

    ``done`` (path -> result) receives each result as soon as it is known, so a run
    stopped by Ctrl-C or SIGTERM can still write the grades already computed.
    """
    def one(p):
        if _STOP.is_set():
            return SubmissionResult(str(p), error=STOPPED)
        try:
            r = grade_submission(p, limits, seed=seed, lesson=lesson, only=only)
        except Exception as exc:  # a bug of the grader must not end the batch
            r = SubmissionResult(str(p), error=f"the grader failed on this file "
                                               f"({type(exc).__name__}: {exc}); please report it")
        if _STOP.is_set():  # its kernel was stopped mid-way: its grade would be wrong
            r = SubmissionResult(str(p), error=STOPPED)
        if done is not None:
            done[str(p)] = r
        if progress:
            progress(r)
        return r

    if jobs <= 1:
        return [one(p) for p in paths]
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(one, p) for p in paths]
        return [f.result() for f in futures]
    except BaseException:
        _close_all()  # Ctrl-C: stop every kernel now, then let the threads finish
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- command line


def _terminate(signum, frame):
    _close_all()
    raise SystemExit(128 + signum)


def _progress(r: SubmissionResult) -> None:
    what = f"{r.score:g}/{r.max_score:g}" if r.graded else f"NOT GRADED: {r.error}"
    from normcourse.grading.report import safe_text

    print(f"{safe_text(r.submission)}: {safe_text(what)} ({r.seconds:.1f} s)", file=sys.stderr,
          flush=True)


def main(args) -> int:
    from helpers.exercises import LESSONS, all_exercises
    from normcourse.grading import report

    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if args.github_classroom:
        if args.github_classroom not in LESSONS:
            print(f"error: unknown lesson {args.github_classroom!r} (known: "
                  f"{', '.join(LESSONS)})", file=sys.stderr)
            return 2
        from normcourse.grading.classroom import classroom_workflow

        sys.stdout.write(classroom_workflow(args.github_classroom, args.install))
        return 0
    if not args.submissions:
        print("error: name at least one SUBMISSION.ipynb", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.timeout <= 0 or args.cell_timeout <= 0:
        print("error: --jobs, --timeout and --cell-timeout must be positive", file=sys.stderr)
        return 2
    if args.lesson and args.lesson not in LESSONS:
        print(f"error: unknown lesson {args.lesson!r} (known: {', '.join(LESSONS)})",
              file=sys.stderr)
        return 2
    if args.exercise:
        unknown = [e for e in args.exercise if e not in all_exercises()]
        if unknown:
            print(f"error: unknown exercise id(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
    missing = sandbox.unavailable()
    if missing and getattr(args, "require_sandbox", False):
        print(f"error: --require-sandbox: {missing}; {sandbox.INSTALL}", file=sys.stderr)
        return 2
    if missing:
        print(f"WARNING: {sandbox.warning(missing)}", file=sys.stderr)
    signal.signal(signal.SIGTERM, _terminate)
    limits = Limits(timeout=args.timeout, cell_timeout=args.cell_timeout,
                    memory_mb=args.memory, output_mb=args.max_output, disk_mb=args.disk,
                    sandbox=not missing)
    done: dict = {}
    try:
        results = grade_many(args.submissions, limits, jobs=args.jobs, seed=args.seed,
                             lesson=args.lesson, only=args.exercise, progress=_progress,
                             done=done)
    except (KeyboardInterrupt, SystemExit) as exc:
        _close_all()
        results = [done.get(str(p)) or SubmissionResult(str(p), error=STOPPED)
                   for p in args.submissions]
        for r in results:
            if r.error == STOPPED:
                r.incomplete = True
        _write(results, args, report)
        print(f"interrupted: every kernel was stopped; the {sum(r.graded for r in results)} "
              "grades computed before were written, the others marked not graded",
              file=sys.stderr)
        return exc.code if isinstance(exc, SystemExit) else 130
    if not _write(results, args, report):
        return WRITE_FAILED
    if not all(r.graded for r in results):
        return 1
    if args.require_full and not all(r.max_score > 0 and r.score == r.max_score
                                     for r in results):
        return 3
    return 0


WRITE_FAILED = 4  # exit status: an output file could not be written (the others were)


def _write(results, args, report) -> bool:
    """Write the grades and the feedback, each file atomically; False if one failed."""
    from normcourse.files import write_atomic

    ok = True
    text = report.render(results, args.format)
    try:
        if args.out:
            write_atomic(args.out, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except (OSError, UnicodeError) as exc:
        print(f"error: could not write the grades to {args.out or 'stdout'}: {exc}",
              file=sys.stderr)
        ok = False
    if args.feedback:
        try:
            for path in report.write_feedback(results, Path(args.feedback)):
                print(f"feedback: {path}", file=sys.stderr)
        except (OSError, UnicodeError) as exc:
            print(f"error: could not write the feedback to {args.feedback}: {exc}",
                  file=sys.stderr)
            ok = False
    return ok
