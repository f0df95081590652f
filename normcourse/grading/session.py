"""One submission's notebook in one kernel: run its cells, restart after a fatal cell.

:class:`Run` owns the submission's :class:`normcourse.grading.kernel.GradingKernel`
(isolated as ``Limits.isolation`` says) and its deadlines: the cells may use
``CELLS_SHARE`` of the submission's time, the rest is kept for calling its functions.
Every live kernel is registered here, so that Ctrl-C, SIGTERM or the end of the
process (:func:`close_all`) leaves no kernel running and no folder behind.
"""

from __future__ import annotations

import atexit
import threading
import time

from normcourse.grading import reaper, safefs, skipping, standins
from normcourse.grading.kernel import GradingKernel, KernelStartError
from normcourse.grading.results import Limits

QUIET_ERRORS = {"NotDoneYet", "CheckFailed", "NotImplementedError"}  # expected in check cells
MAX_RESTARTS = 3
#: share of a submission's time (--timeout) its cells may use; the rest is kept for
#: calling its functions, so a slow cell cannot cost the points of the functions above it
CELLS_SHARE = 0.75
START_TRIES = 3  # a kernel that fails to start (a busy machine) is tried again
START_TIMEOUT = 60.0  # seconds for one start of a kernel


# --------------------------------------------------------------------------- kernels

_LIVE: set = set()
_LIVE_LOCK = threading.Lock()
STOP = threading.Event()  # set on Ctrl-C / SIGTERM: start no kernel, restart none


def close_all() -> None:
    """Kill every kernel still running (Ctrl-C, exit): no process outlives the run."""
    STOP.set()
    with _LIVE_LOCK:
        kernels = list(_LIVE)
    for k in kernels:
        k.stop()  # signals only: the thread that owns the kernel closes it


def _at_exit() -> None:
    close_all()
    with _LIVE_LOCK:
        kernels = list(_LIVE)
    for k in kernels:  # threads are gone by now: remove their folders too
        safefs.remove_tree(k.root)


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


class Run:
    """One submission in one kernel: runs its cells, restarts after a fatal cell."""

    def __init__(self, sub, limits: Limits, start: float, kernel=None):
        self.sub, self.limits = sub, limits
        self.deadline = start + limits.timeout  # for everything, function calls included
        self.cells_deadline = start + CELLS_SHARE * limits.timeout
        not_run = sub.not_run()  # cells the grader's analysis refused: never run
        self.skip: set = set(not_run)  # and cells that killed the kernel or were interrupted
        self.notes: dict = {i: note for i, note in not_run.items() if note}
        #: course cells no grade depends on: skipped or cut to the statements that matter
        self.planned: dict = {} if limits.run_all_cells else skipping.plan(sub)
        self.restarts = 0
        self.hidden_cells: list = []  # demo cells that called the course's hidden functions
        self.after_hidden: set = set()  # cells with errors after such a cell
        self.ready = kernel is not None  # started ahead (grading.ahead), listed and watched
        if self.ready:
            self.kernel = kernel
            return
        self.kernel = GradingKernel(memory_mb=limits.memory_mb, file_mb=limits.file_mb,
                                    disk_mb=limits.disk_mb,
                                    output_limit=int(limits.output_mb * 1e6),
                                    mode=limits.isolation, pass_env=limits.pass_env)
        with _LIVE_LOCK:
            _LIVE.add(self.kernel)
            if STOP.is_set():  # Ctrl-C came before this kernel was listed: close_all missed it
                self.kernel.stop()
        reaper.watch(self.kernel.root, self.kernel.token, getattr(self.kernel.box, "uid", ""))

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
        if self.ready and not restart:
            self.ready = False
            return
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
                if attempt == START_TRIES - 1 or STOP.is_set():
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
            src = self.planned.get(i, src)
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
        if STOP.is_set():
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
