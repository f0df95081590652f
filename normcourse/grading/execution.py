"""Running code in a started kernel, under limits: :class:`Executing`, a part of
:class:`normcourse.grading.kernel.GradingKernel`.

:meth:`Executing.run` executes one piece of code with a wall-time limit and an
output-size limit, watching the memory of the kernel's processes and the disk space
of what it wrote, and says what happened (``ok``, ``error``, ``timeout``, ``flood``
or ``died``) in a :class:`RunResult` instead of raising. Every output message counts
toward the limit, whatever request it claims to answer. What arrived on the kernel's
private reply pipe during the execution is returned with it (``RunResult.reply``).
"""

from __future__ import annotations

import os
import queue
import signal
import time
from dataclasses import dataclass

import psutil

from normcourse.grading import safefs
from normcourse.grading.channels import SEND_FAILED

GRACE = 5.0  # seconds given to an interrupted cell to stop before the kernel is killed
MEMORY_POLL = 0.25  # seconds between two looks at the kernel's resident memory
DISK_POLL = 1.0  # seconds between two looks at what the kernel wrote in its folder
DISK_ENTRIES = 20_000  # files and folders a kernel may make (more counts as over its limit)
DISK_DEPTH = 64  # folders nested deeper count as over the limit too
CHILD_SCAN = 2.0  # seconds between two searches for the kernel's child processes
REPLY_LIMIT = 48_000_000  # bytes kept from the reply pipe per execution (more: refused)
#: what jupyter_client raises on a message a kernel garbled (e.g. a thread of the submission
#: writing on the kernel's own socket beside the kernel: frames interleave)
MALFORMED = (ValueError, KeyError, TypeError, IndexError)
DRAIN_LIMIT = 10_000  # messages read after a cell ends; a kernel still sending then is killed


@dataclass
class RunResult:
    status: str  # "ok", "error", "timeout", "flood", "died"
    ename: str = ""
    evalue: str = ""
    stdout: str = ""  # only when asked for (capture=True), bounded
    seconds: float = 0.0
    output_bytes: int = 0
    reply: bytes = b""  # what arrived on the reply pipe during the execution
    reply_overflow: bool = False  # more than REPLY_LIMIT bytes arrived (the rest dropped)


def _size(obj, depth: int = 0) -> int:
    """Characters of text (and bytes) in a message's content, of any kind of output."""
    if isinstance(obj, (str, bytes, bytearray, memoryview)):
        return len(obj)
    if depth > 50:
        return 0
    if isinstance(obj, dict):
        return sum(len(str(k)) + _size(v, depth + 1) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return sum(_size(v, depth + 1) for v in obj)
    return 8


def _message_size(msg: dict) -> int:
    return _size(msg.get("content")) + sum(_size(b) for b in msg.get("buffers") or ())


class Executing:
    """What a started :class:`normcourse.grading.kernel.GradingKernel` runs, and its limits
    (it provides ``proc``, ``client``, ``box``, ``folders``, the limits and ``_kill``)."""


    def interrupt(self) -> None:
        if self.alive():
            try:
                os.kill(self.kernel_pid or self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def disk_mb_used(self) -> float:
        """Disk space taken by the files the kernel wrote (its box, its socket folder,
        for a separate user the shared folders, and files its processes removed but keep
        open), in MB; infinite when it made more than DISK_ENTRIES files and
        folders or nested them more than DISK_DEPTH deep."""
        f = self.folders
        return sum(safefs.usage_mb(d, DISK_ENTRIES, DISK_DEPTH) for d in (f.box, f.run) if d) \
            + self.box.written_elsewhere_mb(DISK_ENTRIES) \
            + safefs.deleted_open_mb(p.pid for p in self._processes())

    def _disk_limit(self, start: float, out_bytes: int) -> RunResult:
        self._kill()
        safefs.remove_tree(self.folders.box)  # a restart starts in a fresh box anyway
        return RunResult("died", "DiskLimit", f"wrote more than {self.disk_mb} MB of files "
                         f"(or more than {DISK_ENTRIES:,} files, or folders nested more "
                         f"than {DISK_DEPTH} deep)", seconds=time.monotonic() - start,
                         output_bytes=out_bytes)

    def _processes(self) -> list:
        """The kernel and the processes it started (psutil's). The kernel itself is kept;
        the others are looked for every CHILD_SCAN seconds (a scan of /proc)."""
        now = time.monotonic()
        try:
            if self._ps is None or self._ps.pid != self.proc.pid:
                self._ps, self._children, self._scanned = psutil.Process(self.proc.pid), [], 0.0
            if now - self._scanned > CHILD_SCAN:  # (a separate user's: all its processes)
                self._children, self._scanned = self.box.processes(self._ps), now
        except (psutil.Error, AttributeError):
            return []
        return [self._ps, *self._children]

    def memory_mb_used(self) -> float:
        """Resident memory of the kernel and the processes it started, in MB."""
        total = 0
        for q in self._processes():
            try:
                total += q.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _asked_to_exit(self, msg_id: str) -> bool:
        """Whether the execute_reply of ``msg_id`` carries IPython's ask_exit payload."""
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                reply = self.client.get_shell_msg(timeout=0.2)
            except MALFORMED:
                return False  # a garbled reply: the output channel's checks end this kernel
            except queue.Empty:
                if not self.alive():
                    return False
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                payload = reply["content"].get("payload") or []
                return any(isinstance(p, dict) and p.get("source") == "ask_exit"
                           and not p.get("keepkernel") for p in payload)
        return False

    def _drain(self) -> bool:
        """Read what is left after a cell; False when the kernel sends faster than this
        reads (a thread of the submission flooding the output, status messages too)."""
        for get in (self.client.get_shell_msg, self.client.get_iopub_msg):
            for _ in range(DRAIN_LIMIT):
                try:
                    msg = get(timeout=0)
                except queue.Empty:
                    break
                except MALFORMED:
                    return False
                if msg.get("msg_type") not in ("status", "execute_input", "execute_reply"):
                    self._late_output += _message_size(msg)
            else:
                return False
        return True

    def _read_reply(self, buf: bytearray) -> tuple[int, bool]:
        """Read what is waiting on the reply pipe into ``buf`` (up to REPLY_LIMIT bytes;
        the rest is read and dropped). Returns the bytes read and False when more
        arrived than the limit."""
        n, ok = 0, True
        while True:
            try:
                chunk = os.read(self._reply_r, 1 << 20)
            except OSError:  # nothing waiting (EAGAIN), or the pipe is closed
                return n, ok
            if not chunk:  # every writer is gone (the kernel died)
                return n, ok
            n += len(chunk)
            if len(buf) + len(chunk) > REPLY_LIMIT:
                ok = False
            else:
                buf += chunk

    def run(self, code: str, timeout: float, *, capture: bool = False) -> RunResult:
        """Execute ``code``; never raises. ``capture`` keeps its stdout (bounded)."""
        start = time.monotonic()
        if not self.alive():
            return RunResult("died")
        self._read_reply(bytearray())  # what arrived between executions belongs to none
        reply, reply_ok, streaming = bytearray(), True, False
        try:
            msg_id = self.client.execute(code, store_history=True, allow_stdin=False,
                                         stop_on_error=False)
        except SEND_FAILED:  # no peer: the kernel died, or closed its own shell socket
            self._kill()
            return RunResult("died", "", "took no request (its shell socket was gone)",
                             seconds=time.monotonic() - start)
        deadline = start + max(timeout, 0.1)
        stopping = None  # "timeout" or "flood" once the cell was interrupted
        out_bytes, ename, evalue, chunks, kept = self._late_output, "", "", [], 0
        self._late_output = 0
        next_poll, next_disk = start + MEMORY_POLL, start + DISK_POLL
        while True:
            now = time.monotonic()
            if self.disk_mb > 0 and now >= next_disk:
                next_disk = now + DISK_POLL
                if self.disk_mb_used() > self.disk_mb:
                    return self._disk_limit(start, out_bytes)
            if self.memory_mb > 0 and now >= next_poll:
                next_poll = now + MEMORY_POLL
                if self.memory_mb_used() > self.memory_mb:
                    self._kill()
                    return RunResult("died", "MemoryLimit",
                                     f"used more than {self.memory_mb} MB of memory",
                                     seconds=now - start, output_bytes=out_bytes)
            if now > deadline:
                if stopping is None:
                    stopping = "timeout"
                    self.interrupt()
                    deadline = now + GRACE
                    continue
                self._kill()  # did not stop when interrupted
                return RunResult("died", "", f"did not stop within {GRACE:.0f} s of being "
                                 f"interrupted ({stopping})", seconds=now - start,
                                 output_bytes=out_bytes)
            n, ok = self._read_reply(reply)
            reply_ok, streaming = reply_ok and ok, n > 0
            try:  # while a reply streams in, look at the pipe again within a millisecond
                msg = self.client.get_iopub_msg(
                    timeout=0.001 if streaming else min(0.2, deadline - now + 0.01))
            except queue.Empty:
                if not streaming and not self.alive():
                    return RunResult("died", seconds=time.monotonic() - start,
                                     output_bytes=out_bytes)
                continue
            except MALFORMED:
                self._kill()
                return RunResult("died", "", "sent a garbled message (a background thread "
                                 "writing on the kernel's own socket?)",
                                 seconds=time.monotonic() - start, output_bytes=out_bytes)
            kind, content = msg["msg_type"], msg["content"]
            if kind not in ("status", "execute_input"):  # output of any request counts
                out_bytes += _message_size(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                pass
            elif kind == "stream":
                text = content.get("text", "")
                if capture and content.get("name") == "stdout" and kept < self.capture_limit:
                    chunks.append(text)
                    kept += len(text)
            elif kind == "error":
                ename = str(content.get("ename", ""))[:200]
                evalue = str(content.get("evalue", ""))[:500]
            elif kind == "status" and content.get("execution_state") == "idle":
                break
            if out_bytes > self.output_limit and stopping is None:
                stopping = "flood"
                self.interrupt()
                deadline = time.monotonic() + GRACE
        reply_ok = self._read_reply(reply)[1] and reply_ok  # written before the kernel went idle
        if self._asked_to_exit(msg_id):
            self._kill()  # exit()/quit() stop the kernel a moment later: make it definite
            return RunResult("died", "", "exit() or quit() ends the kernel",
                             seconds=time.monotonic() - start, output_bytes=out_bytes)
        if self.disk_mb > 0 and self.disk_mb_used() > self.disk_mb:  # a quick cell, too
            return self._disk_limit(start, out_bytes)
        if not self._drain():
            self._kill()
            return RunResult("died", "", "kept sending messages, or garbled ones, after the "
                             "cell ended (a background thread writing on the kernel's own "
                             "socket?)",
                             seconds=time.monotonic() - start, output_bytes=out_bytes)
        if ename == "OutputLimitExceeded" and stopping is None:
            stopping = "flood"
        status = stopping or ("error" if ename else "ok")
        return RunResult(status, ename, evalue, "".join(chunks), time.monotonic() - start,
                         out_bytes, bytes(reply), not reply_ok)
