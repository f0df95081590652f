"""A throw-away IPython kernel for one submission, with limits, that leaves nothing behind.

The kernel runs in its own temporary working folder and its own process
session, under memory and file-size limits (:mod:`normcourse.grading.launch`).
:meth:`GradingKernel.run` (:mod:`normcourse.grading.execution`) executes one piece
of code with a wall-time limit and an output-size limit and says what happened
(``ok``, ``error``, ``timeout``, ``flood`` or ``died``) instead of raising. Every
output message counts toward the limit, whatever request it claims to answer.

Replies of the grader's own code in the kernel (:mod:`normcourse.grading.inkernel`)
do not travel with the output: each kernel gets a private pipe, opened here and
passed to the kernel process as file descriptor :attr:`GradingKernel.reply_fd`;
:meth:`GradingKernel.run` returns what arrived on it during that execution
(``RunResult.reply``). Printing, replacing or closing ``sys.stdout`` and IPython's
hooks never write there. :meth:`GradingKernel.close` kills the kernel's whole process
group, every process it started (found through an environment token they inherit, and,
for a separate user, by its user id) and removes the folder.

How the kernel is kept apart (a bwrap sandbox, a separate user, or not at all) is
its :class:`normcourse.grading.isolation.Box`; its folders are
:class:`normcourse.grading.isolation.Folders`: each start gets a fresh box (its
only writable folder) and a new socket folder, and the grader touches nothing the
kernel wrote except to measure and remove it (:mod:`normcourse.grading.safefs`).
"""

from __future__ import annotations

import fcntl
import os
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from normcourse.grading import channels, isolation, modes, safefs, standins
from normcourse.grading.execution import Executing, RunResult  # noqa: F401 (for callers)

TOKEN_VAR = "NORMCOURSE_GRADE_TOKEN"
#: address-space allowance on top of the memory limit: numpy, BLAS and matplotlib reserve
#: about 0.9 GB of virtual memory that they never touch (resident memory ~ 120 MB)
VIRTUAL_SLACK_MB = 1536
SAFE_PATH = isolation.SAFE_PATH


FOLDER_PREFIX = "ncgrade-"  # a kernel's temporary folder (its sockets live there too)
SOCKET_PATH_MAX = 100  # bytes: a Unix socket's path must stay below 108 on Linux
SOCKET_SAMPLE = "run-0123456789abcdef/k-12"  # the longest socket name below the folder


def _kernel_folder() -> Path:
    """A new temporary folder for one kernel, in the temporary folder (``TMPDIR``), or in
    /tmp when that path is too long for the kernel's sockets."""
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    if len(os.fsencode(folder / SOCKET_SAMPLE)) <= SOCKET_PATH_MAX or not os.path.isdir("/tmp"):
        return folder
    folder.rmdir()
    return Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir="/tmp"))


class KernelStartError(RuntimeError):
    """The kernel did not start (the message says why)."""


class GradingKernel(Executing):
    def __init__(self, *, memory_mb: int = 2048, file_mb: int = 100, disk_mb: int = 500,
                 output_limit: int = 2_000_000, capture_limit: int = 30_000_000,
                 mode: str = "auto", pass_env=()):
        self.memory_mb, self.file_mb, self.disk_mb = memory_mb, file_mb, disk_mb
        self.output_limit, self.capture_limit = output_limit, capture_limit
        self.pass_env = tuple(pass_env)  # the teacher's --pass-env
        self.box = modes.choose(mode).kernel()  # how this kernel is kept apart
        self.isolation = self.box.mode.name  # "bwrap", "uid" or "none"
        self.reply_fd = -1  # the reply pipe's descriptor, as numbered inside the kernel
        self._reply_r = -1  # its reading end, here
        self.root = _kernel_folder()
        self.root.chmod(self.box.root_mode)
        self.folders = isolation.Folders(self.root)
        self.standins_mark = secrets.token_hex(8)  # in the line a called stand-in writes
        standins.write(self.folders.standins, self.standins_mark)
        standins.write_exercises(self.folders.exercises, self.standins_mark)
        self.box.setup(self.folders)
        self.kernel_pid = 0  # the kernel's process (inside bwrap's sandbox when sandboxed)
        self.token = secrets.token_hex(16)
        self.proc: subprocess.Popen | None = None
        self.client: BlockingKernelClient | None = None
        self._n = 0
        self._late_output = 0  # output that arrived after an execution ended: counts next
        self._closed = self._released = False
        self._ps, self._children, self._scanned = None, [], 0.0

    @property
    def workdir(self) -> Path:
        return self.folders.work

    # ------------------------------------------------------------------ lifecycle

    def _environment(self) -> dict:
        """An allowlist: Python's and the locale's variables, the teacher's --pass-env,
        the grader's own; nothing else of the teacher's (tokens, passwords, URLs)."""
        f = self.folders
        return {**isolation.passed_environment(self.pass_env),
                "HOME": str(f.home), "MPLCONFIGDIR": str(f.mpl), "MPLBACKEND": "Agg",
                "IPYTHONDIR": str(f.home / ".ipython"), "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYDEVD_DISABLE_FILE_VALIDATION": "1", TOKEN_VAR: self.token,
                "NORMCOURSE_OUTPUT_CAP": str(self.output_limit),
                **self.box.environment(f)}

    def start(self, timeout: float = 60.0) -> None:
        """Start a kernel in a fresh box (what an earlier start left there is removed)."""
        if self._closed:
            raise KernelStartError("the grading run was stopped")
        self._n += 1
        f = self.folders
        f.new_box()
        run = f.new_run()  # sockets: a new folder, with a random name, for each start
        conn = str(run / "kernel.json")
        _, info = write_connection_file(conn, transport="ipc", ip=str(run / "k"))
        self.box.prepare(f)
        write_end = self._open_reply_pipe()
        # SAFE_PATH: the working folder is not on the import path (a planted module never runs)
        argv = [sys.executable, *SAFE_PATH, "-m", "normcourse.grading.launch",
                str(self.memory_mb + VIRTUAL_SLACK_MB if self.memory_mb > 0 else 0),
                str(self.file_mb), "-f", conn]
        log = safefs.open_log(f.log / "kernel.log")  # emptied: this start's output only
        try:
            self.proc = self.box.spawn(argv, f, env=self._environment(), log=log,
                                       reply=write_end)
        finally:
            os.close(log)
            os.close(write_end)  # the kernel holds the only writing end
        if self._closed:  # stopped (Ctrl-C) while this start was on its way: kill it too
            self.stop()
            raise KernelStartError("the grading run was stopped")
        deadline = time.monotonic() + timeout
        # 1. every socket is bound (none of the submission's code ran yet): connect, once
        while not channels.bound(info):
            self._check_start(deadline)
            time.sleep(0.02)
        self.client = client = channels.connect(info)
        # 2. the shell channel answers
        msg_id = self._send(client.kernel_info)
        while True:
            try:
                reply = client.get_shell_msg(timeout=0.2)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            except queue.Empty:
                pass
            self._check_start(deadline)
        self.kernel_pid = self.box.started(self.proc, f)
        # 3. iopub is subscribed (a message published before that would be lost)
        ids = set()
        while True:
            ids.add(self._send(client.execute, "", silent=True, store_history=False))
            end = time.monotonic() + 0.5
            seen = False
            while time.monotonic() < end and not seen:
                try:
                    msg = client.get_iopub_msg(timeout=0.1)
                except queue.Empty:
                    continue
                seen = msg["parent_header"].get("msg_id") in ids and \
                    msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
            if seen:
                break
            self._check_start(deadline)
        self._drain()
        self._late_output = 0

    def _open_reply_pipe(self) -> int:
        """A new reply pipe: keeps its reading end, returns the writing end for the kernel."""
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        try:  # a larger pipe: a big reply streams in fewer rounds
            fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, 1 << 20)
        except (OSError, AttributeError):
            pass
        self.reply_fd, self._reply_r = write_end, read_end  # _kill closes the reading end
        return write_end

    def _send(self, request, *args, **kwargs) -> str:
        """A shell request while starting: a kernel killed meanwhile (no peer) fails the start."""
        try:
            return request(*args, **kwargs)
        except channels.SEND_FAILED as exc:
            raise KernelStartError(f"the kernel took no request ({exc})") from None

    def _check_start(self, deadline: float) -> None:
        if self.proc.poll() is not None:
            raise KernelStartError(f"the kernel exited at start: {self.log_tail()}")
        if time.monotonic() > deadline:
            raise KernelStartError("the kernel did not answer within the start-up time")

    def log_tail(self, n: int = 400) -> str:
        try:
            return (self.folders.log / "kernel.log").read_bytes()[-n:].decode(
                errors="replace").strip()
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart(self, timeout: float = 60.0) -> None:
        self._kill()
        self.start(timeout)

    def close(self) -> None:
        """Kill the kernel and everything it started; remove the working folder.

        Call it from the thread that uses the kernel; other threads use :meth:`stop`.
        """
        self._closed = True
        self._kill()
        safefs.remove_tree(self.root)  # without following a link the kernel planted
        if not self._released:
            self._released = True
            self.box.close()

    def stop(self) -> None:
        """From any thread: kill the kernel's processes (no socket is touched) and start none.

        The thread using the kernel then sees it die and closes it.
        """
        self._closed = True
        proc = self.proc
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        kill_marked(self.token)
        self.box.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _kill(self) -> None:
        if self._reply_r >= 0:
            os.close(self._reply_r)
            self._reply_r = -1
        if self.client is not None:
            channels.disconnect(self.client)
            self.client = None
        if self.proc is None:
            return
        victims = []
        try:
            victims = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: pgid == pid
        except (ProcessLookupError, PermissionError):
            pass
        for p in victims:
            _kill_quietly(p)
        kill_marked(self.token)
        self.box.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None

def _kill_quietly(p: psutil.Process) -> None:
    try:
        p.kill()
    except psutil.Error:
        pass


def kill_marked(token: str) -> int:
    """Kill every process whose environment carries this grading token; returns how many."""
    n = 0
    me = os.getpid()
    for p in psutil.process_iter(["pid"]):
        if p.pid == me:
            continue
        try:
            if p.environ().get(TOKEN_VAR) == token:
                p.kill()
                n += 1
        except (psutil.Error, OSError):
            pass
    return n
