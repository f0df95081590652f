"""Kernels started ahead: while a submission runs, the next one's kernel starts.

Issue 21's lever (b), ``normcourse grade --kernels-ahead N``. A spare is exactly the
kernel :class:`normcourse.grading.session.Run` would start: a new kernel in a new box,
with no submission's code in it; the submission that takes it is the only one that
ever runs code in it, so the isolation is the same. Spares are registered like every
live kernel (Ctrl-C and the end of the run kill them); one never taken is closed.
"""

from __future__ import annotations

import queue
import threading

from normcourse.grading import reaper, safefs, session
from normcourse.grading.kernel import GradingKernel, KernelStartError
from normcourse.grading.results import Limits


def new_kernel(limits: Limits) -> GradingKernel:
    """A kernel as :class:`session.Run` makes it, listed as live (not started)."""
    kernel = GradingKernel(memory_mb=limits.memory_mb, file_mb=limits.file_mb,
                           disk_mb=limits.disk_mb, output_limit=int(limits.output_mb * 1e6),
                           mode=limits.isolation, pass_env=limits.pass_env)
    with session._LIVE_LOCK:
        session._LIVE.add(kernel)
        if session.STOP.is_set():
            kernel.stop()
    reaper.watch(kernel.root, kernel.token, getattr(kernel.box, "uid", ""))
    return kernel


class Spares:
    """Up to ``n`` kernels started ahead, each by a thread of its own, and no more than
    ``wanted`` in all: the submissions after the first ones, which start their own kernels
    while the spares start (``normcourse grade``: the submissions beyond ``--jobs``)."""

    def __init__(self, limits: Limits, n: int, wanted: int | None = None):
        self.limits, self.n = limits, n
        self.left = float("inf") if wanted is None else max(0, wanted)  # still to start
        self.ready: queue.Queue = queue.Queue()
        self.threads: list = []
        self.closed = False
        self.stopping = threading.Event()
        self._lock = threading.Lock()  # take() runs in every job's thread
        for _ in range(n):
            self._start_one()

    def _start_one(self) -> None:
        with self._lock:
            if self.closed or session.STOP.is_set() or self.left <= 0:
                return
            self.left -= 1
        t = threading.Thread(target=self._starter, daemon=True)
        self.threads.append(t)
        t.start()

    def _starter(self) -> None:
        try:
            kernel = new_kernel(self.limits)
        except Exception:  # noqa: BLE001 -- no spare: the submission starts its own
            return
        try:
            kernel.start(session.START_TIMEOUT)
        except (KernelStartError, Exception):  # noqa: BLE001
            _discard(kernel)
            return
        self.ready.put(kernel)
        # bwrap's --die-with-parent (PR_SET_PDEATHSIG) follows the thread that started the
        # kernel: this thread must live as long as the kernel does
        while not self.closed and kernel.alive():  # (a spare left over dies with it)
            self.stopping.wait(0.5)

    def take(self) -> GradingKernel | None:
        """A started kernel if one is ready (and another starts), else None."""
        try:
            kernel = self.ready.get_nowait()
        except queue.Empty:
            return None
        if not kernel.alive():
            _discard(kernel)
            kernel = None
        self._start_one()
        return kernel

    def close(self) -> None:
        self.closed = True
        self.stopping.set()
        for t in self.threads:
            t.join()
        while True:
            try:
                _discard(self.ready.get_nowait())
            except queue.Empty:
                return


def _discard(kernel: GradingKernel) -> None:
    kernel.close()
    reaper.forget(kernel.root)
    with session._LIVE_LOCK:
        session._LIVE.discard(kernel)
    safefs.remove_tree(kernel.root)
