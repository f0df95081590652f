"""What a kernel forked from the zygote (:mod:`normcourse.grading.zygote`) does before it
runs anything of the submission: join the sandbox that bubblewrap made (:func:`join`),
drop every capability for good (:func:`drop_capabilities`), keep only its own descriptors
(:func:`place`), then start the kernel as :mod:`normcourse.grading.launch` does
(:func:`kernel`).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import sys

NAMESPACES = ("mnt", "pid", "net", "ipc", "uts", "cgroup")  # besides the user namespaces
_NS_GET_PARENT = 0xB702  # ioctl: the parent of a user namespace
_PR_CAPBSET_DROP, _PR_SET_SECUREBITS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 28, 47, 4
#: NOROOT, NO_SETUID_FIXUP and NO_CAP_AMBIENT_RAISE, each with its lock (KEEP_CAPS off,
#: locked): a uid 0 in the sandbox never regains a capability, not even through exec
_SECUREBITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80


def libc():
    lib = ctypes.CDLL(None, use_errno=True)
    lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                          ctypes.c_ulong]
    return lib


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _user_namespaces(holder: int) -> list[tuple[str, int]]:
    """Descriptors of the user namespaces from this process's own (excluded) down to the
    holder's, outermost first. Run unprivileged, bwrap makes one and nests a second in it
    (the mounts, owned by the first, are then locked); run as root, none."""
    mine = os.stat("/proc/self/ns/user").st_ino
    chain, fd = [], os.open(f"/proc/{holder}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    try:
        while os.fstat(fd).st_ino != mine:
            chain.append(("user", fd))
            if len(chain) > 32:  # the kernel's own limit of nesting
                raise OSError(f"process {holder}'s user namespace is not below this one")
            fd = fcntl.ioctl(fd, _NS_GET_PARENT)  # a new descriptor of the parent
        os.close(fd)  # this process's own
    except OSError:
        for _, f in chain:
            os.close(f)
        raise
    return chain[::-1]


def join(holder: int) -> None:
    """Enter every namespace of process ``holder`` that differs from this process's own.

    The outermost new user namespace first (its owner, this process's user, gets every
    capability there: enough to enter the mount and other namespaces that bwrap made in
    it), then those, then the user namespaces nested below, down to the holder's."""
    lib = libc()
    users = _user_namespaces(holder)
    others = []
    try:
        for name in NAMESPACES:
            theirs = f"/proc/{holder}/ns/{name}"
            if os.readlink(theirs) != os.readlink(f"/proc/self/ns/{name}"):
                others.append((name, os.open(theirs, os.O_RDONLY | os.O_CLOEXEC)))
        if {"mnt", "pid"} - {name for name, _ in others}:
            raise OSError(f"process {holder} is not in a sandbox of its own")
        for name, fd in users[:1] + others + users[1:]:
            _check(lib.setns(fd, 0) == 0, f"setns({name})")
    finally:
        for _, fd in users + others:
            os.close(fd)


def drop_capabilities() -> None:
    """Drop every capability (bounding, ambient, effective, permitted, inheritable) and
    lock the securebits so none comes back; raise unless /proc says all are gone."""
    lib = libc()
    _check(lib.prctl(_PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0) == 0, "securebits")
    cap = 0
    while lib.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    lib.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    data = (Data * 2)()
    _check(lib.capset(ctypes.byref(Header(0x20080522, 0)), data) == 0, "capset")
    with open("/proc/self/status") as status:
        caps = {k: v.strip() for k, _, v in (line.partition(":") for line in status)
                if k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    if len(caps) != 5 or any(int(v, 16) for v in caps.values()):
        raise OSError(f"capabilities left after dropping them: {caps}")


def place(targets: dict) -> None:
    """Make each descriptor number of ``targets`` (number -> descriptor) refer to its
    descriptor, and close every other one."""
    low = max(targets) + 1
    import fcntl

    moved = {n: fcntl.fcntl(fd, fcntl.F_DUPFD, low) for n, fd in targets.items()}
    for n, fd in moved.items():
        os.dup2(fd, n)  # without O_CLOEXEC: the kernel keeps it
    keep = sorted(targets)
    start = 0
    for n in keep:
        if n > start:  # never an empty range: CPython 3.11 closes every descriptor then
            os.closerange(start, n)
        start = n + 1
    os.closerange(start, 1 << 20)


def kernel(req: dict, log: int, reply: int, sock: socket.socket, ack: int) -> None:
    """In the forked kernel (pid 3 of the sandbox): never returns. Writes ``ok`` on ``ack``
    once it has no capability left (or why not), then starts the kernel."""
    code = 1
    try:
        sock.close()
        os.setsid()
        drop_capabilities()
        os.write(ack, b"ok")
        null = os.open("/dev/null", os.O_RDONLY)
        place({0: null, 1: log, 2: log, int(req["reply_fd"]): reply})  # closes ack
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the zygote ignores it
        os.environ.clear()
        os.environ.update(req["env"], PWD=req["cwd"])  # (bwrap sets PWD for a new program)
        os.chdir(req["cwd"])
        import importlib

        importlib.invalidate_caches()  # the sandbox's files, not the zygote's view
        if "numpy.random" in sys.modules:  # a fresh kernel draws a new global seed too
            sys.modules["numpy.random"].seed()  # (NumPy imports it when first used)
        from normcourse.grading import launch

        sys.argv = [launch.__file__]
        launch.main(req["argv"])
        code = 0
    except BaseException as exc:  # noqa: BLE001 -- said on ack, or in the kernel's log
        try:
            os.write(ack, f"error {type(exc).__name__}: {exc}"[:2000].encode())
        except OSError:
            import traceback

            os.write(2, traceback.format_exc().encode())
    finally:
        os._exit(code)
