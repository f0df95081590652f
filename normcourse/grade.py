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
   or, where bwrap cannot run and the grader is root, as a separate user
   (:mod:`normcourse.grading.uidbox`); either way ``helpers/answers`` holds
   stand-ins: an exercise whose function calls the course's own version scores 0
   with the reason; without isolation the output says so loudly;
3. for each exercise of the lesson, builds test cases from a fresh random
   generator *in this process*, sends only their inputs into the kernel,
   calls the learner's function there, gets back exactly one reply of plain
   values on the kernel's private reply pipe, and judges them here with
   ``helpers.checking.verdict.judge`` (in-place changes included). Nothing the
   submission does in its kernel (redefining ``check``, patching numpy or the
   helpers, editing test cells, printing fake results) can award it a point.

One deadline (``--timeout``) covers steps 2 and 3: the cells may use
``CELLS_SHARE`` of it, and what was not reached in time is reported as such.

This module is the orchestrator (one submission, a batch, the command line); the
work is done in :mod:`normcourse.grading`: ``load`` (step 1), ``session`` (step 2),
``exercise`` (step 3), ``results`` (what they produce), ``modes`` (the isolation)
and ``report`` (the output formats).

Points are all-or-nothing per exercise, as in nbgrader, and come from the
course's exercise specs, never from the submission.
"""

from __future__ import annotations

import secrets
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from normcourse.grading import modes, standins
from normcourse.grading.ahead import Spares
from normcourse.grading.code import course_copy
from normcourse.grading.exercise import grade_exercise, selected
from normcourse.grading.kernel import KernelStartError
from normcourse.grading.load import SubmissionError, load
from normcourse.grading.results import (  # noqa: F401
    ISOLATION_NOTES,
    STOPPED,
    ExerciseResult,
    Limits,
    SubmissionResult,
    course_used_result,
    error_result,
    not_reached,
    note_redefinition,
)
from normcourse.grading.session import STOP, Run, close_all


def grade_submission(path, limits: Limits | None = None, *, seed: int | None = None,
                     lesson: str | None = None, only: list | None = None,
                     spares=None) -> SubmissionResult:
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
        exercises = selected(sub.lesson, only)
    except SubmissionError as exc:
        result.error = str(exc)
        result.seconds = time.monotonic() - start
        return result
    result.seed = seed if seed is not None else secrets.randbits(63)
    rng = np.random.default_rng(result.seed)
    cases = {ex.id: ex.cases(rng) for ex in exercises}  # fresh cases, built here
    result.max_score = float(sum(ex.points for ex in exercises))
    modes.choose(limits.isolation).protect([path])
    run = Run(sub, limits, start, spares.take() if spares else None)  # --kernels-ahead
    result.isolation = run.kernel.isolation
    result.sandboxed = result.isolation != "none"
    try:
        try:
            run.start()
        except KernelStartError as exc:
            result.error = f"could not start a Python kernel: {exc}"
            return result
        alive = run.run_cells()
        for ex in exercises:
            if time.monotonic() >= run.deadline:
                result.exercises.append(not_reached(ex, limits))
                continue
            if not alive:
                result.exercises.append(error_result(
                    ex, "not graded: the notebook's kernel had stopped (see the notes)"))
                continue
            used = course_copy(sub, ex.function)  # decided from the source, not the kernel
            res, fatal = ((course_used_result(ex, used, cases[ex.id]), False) if used else
                          grade_exercise(run, ex, cases[ex.id], limits))
            note_redefinition(res, sub, ex)
            result.exercises.append(res)
            if fatal:
                alive = run.recover()
        result.graded = True
        result.score = float(sum(e.points for e in result.exercises))
        used = [f"{e.id} {e.summary[len(e.id) + 4:]}" for e in result.exercises
                if e.status == "failed" and standins.REASON.split("`")[0] in e.summary]
        result.notes = [n for n in (*used, *run.notes.values(), run.hidden_note()) if n]
        if result.isolation in ISOLATION_NOTES:
            result.notes.insert(0, ISOLATION_NOTES[result.isolation])
        return result
    finally:
        run.close()
        result.seconds = round(time.monotonic() - start, 2)




def grade_many(paths, limits: Limits | None = None, *, jobs: int = 1, seed: int | None = None,
               lesson: str | None = None, only: list | None = None, progress=None,
               done: dict | None = None, ahead: int | None = 0) -> list:
    """Grade every path (``jobs`` kernels at a time); results in the order given.

    ``done`` (path -> result) receives each result as soon as it is known, so a run
    stopped by Ctrl-C or SIGTERM can still write the grades already computed.
    """
    def one(p):
        if STOP.is_set():
            return SubmissionResult(str(p), error=STOPPED)
        try:
            r = grade_submission(p, limits, seed=seed, lesson=lesson, only=only, spares=spares)
        except Exception as exc:  # a bug of the grader must not end the batch
            r = SubmissionResult(str(p), error=f"the grader failed on this file "
                                               f"({type(exc).__name__}: {exc}); please report it")
        if STOP.is_set():  # its kernel was stopped mid-way: its grade would be wrong
            r = SubmissionResult(str(p), error=STOPPED)
        if done is not None:
            done[str(p)] = r
        if progress:
            progress(r)
        return r

    modes.choose((limits or Limits()).isolation).protect(paths)  # before any kernel runs
    ahead = jobs if ahead is None else ahead  # --kernels-ahead: as many as --jobs unless said
    spares = Spares(limits or Limits(), ahead, len(paths) - jobs) if ahead > 0 else None
    if jobs <= 1 and not spares:
        return [one(p) for p in paths]
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(one, p) for p in paths]
        return [f.result() for f in futures]
    except BaseException:
        close_all()  # Ctrl-C: stop every kernel now, then let the threads finish
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if spares:
            spares.close()


# --------------------------------------------------------------------------- command line


def _terminate(signum, frame):
    close_all()
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
    if getattr(args, "shard", None):
        from normcourse import shards

        try:
            shards.take(args)  # only this shard's submissions are graded
        except shards.ShardError as exc:
            print(f"error: {exc}", file=sys.stderr)
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
    pass_env = tuple(getattr(args, "pass_env", None) or ())
    mode = modes.announce(getattr(args, "isolation", "auto"), pass_env=pass_env,
                          required=getattr(args, "require_sandbox", False),
                          verbose=getattr(args, "verbose", False))
    if mode is None:
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    limits = Limits(timeout=args.timeout, cell_timeout=args.cell_timeout,
                    memory_mb=args.memory, output_mb=args.max_output, disk_mb=args.disk,
                    isolation=mode.name, pass_env=pass_env,
                    run_all_cells=getattr(args, "run_all_cells", False))
    done: dict = {}
    try:
        results = grade_many(args.submissions, limits, jobs=args.jobs, seed=args.seed,
                             lesson=args.lesson, only=args.exercise, progress=_progress,
                             done=done, ahead=getattr(args, "kernels_ahead", None))
    except (KeyboardInterrupt, SystemExit) as exc:
        close_all()
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
    from normcourse.shards import stamp

    text = stamp(report.render(results, args.format), args)  # --shard: which one
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
