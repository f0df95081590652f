"""Kernels forked from a process that has already imported ipykernel and NumPy.

A fresh kernel spends most of its start importing ipykernel, IPython, ZeroMQ and
NumPy (0.7-1.0 CPU s). Under the ``bwrap`` mode the grader starts one *zygote*
(``python -m normcourse.grading.zygote``, outside any sandbox, with no secret in
its memory: it never imports the course's answers or judges) and, for each kernel:

1. starts the kernel's bubblewrap sandbox as before (:func:`normcourse.grading.sandbox.command`),
   with a small *holder* program in place of the kernel;
2. asks the zygote to fork. The child joins the holder's namespaces (user, mount,
   PID, network, IPC, UTS, cgroup: ``setns``), forks again (the kernel is then a process
   of the sandbox's PID namespace, seen as pid 3 inside), drops every capability and
   locks them off, and starts the kernel (:mod:`normcourse.grading.forked`; then
   :func:`normcourse.grading.launch.main`: the same limits and filters as a fresh kernel);
3. tells the holder the kernel's pid: the holder waits for it to end, and then the
   sandbox ends, as it does when a fresh kernel ends.

bubblewrap still makes every namespace and mount; the kernel only joins them, so it
sees exactly what a fresh kernel sees. Switched off by ``NORMCOURSE_FRESH_KERNELS=1``
(then each kernel is a new program, as before) or where the zygote cannot start.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import socket
import sys
import threading

from normcourse.grading import forked

OFF_VAR = "NORMCOURSE_FRESH_KERNELS"
#: modules the zygote imports; what is imported before a fork is not imported again
PREIMPORTS = ("numpy", "ipykernel.kernelapp", "ipykernel.ipkernel", "IPython")
#: modules that must never be in the zygote's memory (a forked kernel could read them)
SECRET = ("helpers.answers", "helpers.exercises", "helpers.core", "normcourse.grading.kernel")
#: the holder: says it is ready, reads the kernel's pid (as seen in the sandbox), waits
#: for that process to end; if anything fails it ends at once, and so does the sandbox
HOLDER = ("import os,select,sys\nos.write(1,b'r');os.close(1)\n"
          "fd=os.pidfd_open(int(sys.stdin.readline()))\nselect.select([fd],[],[])\n")
MAX_MSG = 1 << 20

_PR_SET_CHILD_SUBREAPER = 36


class ZygoteError(RuntimeError):
    """The zygote could not start a kernel (the message says why)."""


def _fork_kernel(req: dict, fds: list, sock: socket.socket) -> tuple[int, int, int]:
    """Fork a child that joins the holder's sandbox and forks the kernel there; return
    the kernel's pid here and in the sandbox once it has dropped its capabilities, and
    a pidfd of the holder (:func:`_reap` kills the holder when the kernel ends)."""
    holder = os.pidfd_open(int(req["holder"]))
    try:
        pid = _fork_into(req, fds, sock)
        return pid, _ns_pid(pid), holder
    except BaseException:
        os.close(holder)
        raise


def _fork_into(req: dict, fds: list, sock: socket.socket) -> int:
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(r)
        try:
            forked.join(int(req["holder"]))
            ack_r, ack_w = os.pipe()
            kernel = os.fork()  # now a process of the sandbox's PID namespace
            if kernel == 0:
                os.close(w)
                os.close(ack_r)
                forked.kernel(req, fds[0], fds[1], sock, ack_w)
            os.close(ack_w)
            said = os.read(ack_r, 2000)
            os.write(w, f"{kernel}".encode() if said == b"ok" else
                     said or b"error the kernel ended before it dropped its capabilities")
            os._exit(0)
        except BaseException as exc:  # noqa: BLE001
            os.write(w, f"error {exc}"[:2000].encode())
            os._exit(1)
    os.close(w)
    try:
        answer = b""
        while chunk := os.read(r, 4096):
            answer += chunk
    finally:
        os.close(r)
        os.waitpid(child, 0)
    text = answer.decode(errors="replace")
    if not text.isdigit():
        raise ZygoteError(text or "the forked process ended without a word")
    return int(text)


def _ns_pid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    raise ZygoteError(f"no NSpid for process {pid}")


def _reap(holders: dict) -> None:
    """Reap the kernels that ended and kill their holders (kernel pid -> holder's pidfd):
    a holder the kernel stopped (SIGSTOP, ptrace) would otherwise keep the sandbox, and
    the grader would take the dead kernel for a busy one until the cell's time ran out."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        holder = holders.pop(pid, None)
        if holder is not None:
            _kill_holder(holder)


def _kill_holder(holder: int) -> None:
    try:
        signal.pidfd_send_signal(holder, signal.SIGKILL)
    except OSError:
        pass  # it ended already
    os.close(holder)


def refusal(modules, threads: int) -> str:
    """Why the zygote must not fork kernels ("" when it may): a secret in its memory, or
    a second thread (a fork copies one thread; a lock another held would stay locked)."""
    leaked = sorted(m for m in modules if m.startswith(SECRET))
    if leaked:
        return f"the zygote imported {', '.join(leaked[:3])}"
    if threads != 1:
        return f"the zygote runs {threads} threads"
    return ""


def serve(fd: int) -> None:
    """The zygote: import, then fork a kernel for each request on socket ``fd``."""
    # it ends when the grader's end of the socket closes (no parent-death signal: that
    # would follow the grader's thread that started it, not the grader)
    forked.libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # kernels whose forker ended: reaped here
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader's Ctrl-C is the grader's
    sock = socket.socket(fileno=fd)
    sys.modules["debugpy"] = None  # as launch.main: no debugger while ipykernel loads
    import importlib

    import ipykernel.debugger  # noqa: F401

    for name in PREIMPORTS:
        importlib.import_module(name)
    del sys.modules["debugpy"]
    refused = refusal(sys.modules, len(os.listdir("/proc/self/task")))
    if refused:
        sock.send(json.dumps({"error": refused}).encode())
        return
    sock.send(b'{"ready": true}')
    holders: dict = {}
    while True:
        _reap(holders)
        if not select.select([sock], [], [], 1.0)[0]:
            continue
        msg, fds, _, _ = socket.recv_fds(sock, MAX_MSG, 4)
        if not msg:  # the grader closed its end (it may have been killed): its kernels end
            for pid, holder in holders.items():  # too, as a fresh kernel does with its bwrap
                try:  # (not reaped yet: the pid is still that kernel's)
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                _kill_holder(holder)
            return
        try:
            if len(fds) != 2:
                raise ZygoteError(f"expected 2 descriptors, got {len(fds)}")
            pid, ns_pid, holders[pid] = _fork_kernel(json.loads(msg), fds, sock)
            answer = {"pid": pid, "ns_pid": ns_pid}
        except Exception as exc:  # noqa: BLE001 -- said to the grader
            answer = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(answer).encode())


# ------------------------------------------------------------------ in the grader

class Zygote:
    """The grader's end: one zygote per grading process, started at the first kernel."""

    def __init__(self, env: dict):
        import subprocess
        import tempfile

        from normcourse.grading import isolation

        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.env = dict(env)  # what its forked kernels keep of what Python read at start
        self.lock = threading.Lock()
        self.err = tempfile.TemporaryFile()  # what it says, unread unless it fails
        try:
            self.proc = subprocess.Popen(
                [sys.executable, *isolation.SAFE_PATH, "-m", "normcourse.grading.zygote",
                 str(theirs.fileno())], env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self.err, pass_fds=(theirs.fileno(),),
                cwd="/", start_new_session=True)
        finally:
            theirs.close()
        self.sock = mine
        try:
            answer = self._receive(120.0)
            if not answer.get("ready"):
                raise ZygoteError(answer.get("error", "the zygote did not start"))
        except (OSError, ValueError, ZygoteError):
            self.close()
            raise

    def _receive(self, timeout: float) -> dict:
        if not select.select([self.sock], [], [], timeout)[0]:
            raise ZygoteError(f"the zygote did not answer within {timeout:g} s")
        msg = self.sock.recv(MAX_MSG)
        if not msg:
            self.err.seek(0, os.SEEK_END)
            self.err.seek(max(0, self.err.tell() - 500))
            said = self.err.read().decode(errors="replace").strip()
            raise ZygoteError(f"the zygote ended: {said}")
        return json.loads(msg)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, *, holder: int, argv: list, env: dict, cwd: str, log: int, reply: int,
             reply_fd: int) -> tuple[int, int]:
        """A kernel in the sandbox of process ``holder``: (its pid, its pid in the sandbox)."""
        req = {"holder": holder, "argv": argv, "env": env, "cwd": cwd, "reply_fd": reply_fd}
        with self.lock:
            socket.send_fds(self.sock, [json.dumps(req).encode()], [log, reply])
            answer = self._receive(60.0)
        if "error" in answer:
            raise ZygoteError(answer["error"])
        return int(answer["pid"]), int(answer["ns_pid"])

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except (OSError, ValueError):
            pass
        self.err.close()


_ZYGOTE: Zygote | None = None
_ZYGOTE_LOCK = threading.Lock()
_FAILED = ""


def shared(env: dict) -> Zygote | None:
    """The grading process's zygote (started at the first call; again if it died), or None
    when switched off or it cannot start (then :func:`failure` says why)."""
    global _ZYGOTE
    if os.environ.get(OFF_VAR) or _FAILED:
        return None
    with _ZYGOTE_LOCK:
        if _ZYGOTE is None or not _ZYGOTE.alive():
            if _ZYGOTE is not None:
                _ZYGOTE.close()
            try:
                _ZYGOTE = Zygote(env)
                atexit.register(_ZYGOTE.close)
            except (OSError, ZygoteError) as exc:
                give_up(f"the zygote did not start: {exc}")
                return None
        return _ZYGOTE


def failure() -> str:
    return _FAILED


def give_up(reason: str) -> None:
    """No more forked kernels in this process (each starts afresh), said once on stderr."""
    global _FAILED
    if not _FAILED:
        _FAILED = reason or "a forked kernel did not start"
        print(f"note: each kernel is now started afresh, which is slower ({_FAILED[:300]})",
              file=sys.stderr)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
