"""Start an IPython kernel under resource limits (used by :mod:`normcourse.grading.kernel`).

    python -m normcourse.grading.launch MEMORY_MB FILE_MB -f CONNECTION_FILE

The limits are set in this process before the kernel starts, so they hold for
the learner's code and for every process it starts: address space (a
``MemoryError`` instead of swapping the machine), size of any file written (an
``OSError`` instead of filling the disk), no core dumps, no gaining privileges
(``PR_SET_NO_NEW_PRIVS``: a set-user-id program runs as the kernel's user), no System
V shared memory (a seccomp filter: such memory is resident but in no process's RSS, so
``--memory`` could not see it) and, for a kernel run as a separate user, a number of
processes. The output of one
execution is capped too (``NORMCOURSE_OUTPUT_CAP`` characters).

Outside bwrap's sandbox, ``helpers.answers`` and ``helpers.exercises`` are imported
from the stand-ins folders named in ``NORMCOURSE_STANDINS``: a finder placed first on
``sys.meta_path`` serves them, so the course's own files (unreadable to a separate
user) are never opened.
"""

from __future__ import annotations

import os
import resource
import signal
import sys

CAP_VAR = "NORMCOURSE_OUTPUT_CAP"
STANDINS_VAR = "NORMCOURSE_STANDINS"  # normcourse.grading.isolation.STANDINS_VAR
NPROC_VAR = "NORMCOURSE_NPROC"  # normcourse.grading.uidbox.NPROC_VAR
HIDDEN = ("helpers.answers", "helpers.exercises")  # served from the stand-ins folders


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, hard))
    except (ValueError, OSError):
        pass


def main(argv: list[str]) -> None:
    memory_mb, file_mb, rest = int(argv[0]), int(argv[1]), argv[2:]
    if memory_mb > 0:
        _limit(resource.RLIMIT_AS, memory_mb * 2**20)
    if file_mb > 0:
        _limit(resource.RLIMIT_FSIZE, file_mb * 2**20)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails, no kill
    _limit(resource.RLIMIT_CORE, 0)
    nproc = os.environ.pop(NPROC_VAR, "")
    if nproc:
        _limit(resource.RLIMIT_NPROC, int(nproc))
    _no_new_privileges()
    no_sysv_shared_memory()
    _hide_answers(os.environ.pop(STANDINS_VAR, ""))
    # no debugger in a grading kernel: ipykernel imports debugpy only to offer one
    # (0.15 CPU s of each start): it finds none while it starts, then a learner's own
    # ``import debugpy`` works as in Jupyter (S3: it raised ModuleNotFoundError)
    sys.modules["debugpy"] = None
    import ipykernel.debugger  # noqa: F401  (its _is_debugpy_available: False, once)
    from ipykernel.kernelapp import IPKernelApp

    counter = _guard_output(int(os.environ.get(CAP_VAR, "0") or 0))
    sys.argv = [sys.argv[0], *rest]
    app = IPKernelApp.instance()
    app.initialize(rest)
    if sys.modules.get("debugpy", 0) is None:
        del sys.modules["debugpy"]
    from ipykernel.iostream import OutStream

    OutStream._nc_stdout = sys.stdout  # where the grader replies, even if a cell swaps sys.stdout
    app.shell.events.register("pre_execute", lambda: counter.__setitem__(0, 0))
    app.start()


def _no_new_privileges() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass


#: (audit arch, shmget's number): x86_64 and aarch64; elsewhere no filter is installed
SHMGET = {"x86_64": (0xC000003E, 29), "aarch64": (0xC00000B7, 194)}


def no_sysv_shared_memory() -> bool:
    """Make ``shmget`` fail with EPERM in this process and every process it starts (a
    seccomp filter: it cannot be removed). True if the filter is in place."""
    import ctypes
    import platform
    import struct

    arch = SHMGET.get(platform.machine())
    if arch is None:
        return False
    audit_arch, shmget = arch
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, JGE|K, BPF_RET|K
    allow, eperm = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    program = [(ld, 0, 0, 4), (jeq, 1, 0, audit_arch), (ret, 0, 0, allow),  # another ABI
               (ld, 0, 0, 0), (jeq, 2, 0, shmget),
               (jge, 1, 0, 0x40000000),  # x86_64's x32 numbers: none is needed
               (ret, 0, 0, allow), (ret, 0, 0, eperm)]
    code = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buf = ctypes.create_string_buffer(code, len(code))

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = Prog(len(program), ctypes.addressof(buf))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                               ctypes.c_ulong, ctypes.c_ulong]
        return libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0  # SET_SECCOMP, MODE_FILTER
    except (OSError, AttributeError):
        return False


class _StandIns:
    """Serves each package of :data:`HIDDEN` from its stand-ins folder."""

    def __init__(self, folders):
        self.folders = dict(zip(HIDDEN, folders, strict=True))

    def find_spec(self, name, path=None, target=None):
        folder = self.folders.get(name)
        if folder is None:
            return None
        from importlib.util import spec_from_file_location

        return spec_from_file_location(name, os.path.join(folder, "__init__.py"),
                                       submodule_search_locations=[folder])


def _hide_answers(folders: str) -> None:
    """Outside bwrap: import the stand-ins (``answers:exercises``) in place of the course's."""
    if folders:
        sys.meta_path.insert(0, _StandIns(folders.split(os.pathsep)))


class OutputLimitExceeded(BaseException):  # noqa: N818 -- a learner reads this name
    """Raised by print() once a cell has printed more than the grader allows."""


def _guard_output(cap: int) -> list:
    """Stop a cell's output at ``cap`` characters.

    Without this a ``while True: print(...)`` fills the kernel's output buffer
    faster than it is sent, until the kernel runs out of memory. Each print
    beyond the cap raises :class:`OutputLimitExceeded` (a BaseException, so
    ``except Exception`` does not swallow it); the counter restarts with each
    execution. The grader writes its own reply with ``_nc_write_unlimited``.
    """
    from ipykernel.iostream import OutStream

    counter = [0]
    write = OutStream.write

    def limited_write(self, string):
        if cap > 0 and isinstance(string, str):
            counter[0] += len(string)
            if counter[0] > cap:
                raise OutputLimitExceeded(f"more than {cap / 1e6:g} MB of output")
        return write(self, string)

    OutStream.write = limited_write
    OutStream._nc_write_unlimited = write
    return counter


if __name__ == "__main__":
    main(sys.argv[1:])
