"""S4 probes of forked grading kernels: python attacks/s4_probe.py [fresh]
Starts kernels A, B (bwrap), runs PROBE in B with A's token/folder/mark as needles."""
from __future__ import annotations

import hashlib
import os
import sys

if sys.argv[1:] == ["fresh"]:
    os.environ["NORMCOURSE_FRESH_KERNELS"] = "1"

from normcourse.grading.kernel import GradingKernel  # noqa: E402

SCAN = r'''
import re, os, ctypes, hashlib
needles = {NEEDLES!r}
found = {{}}
with open("/proc/self/maps") as m:
    regions = [l.split() for l in m]
mem = open("/proc/self/mem", "rb", 0)
for r in regions:
    if "r" not in r[1] or (len(r) > 5 and r[5].startswith("[v")):
        continue
    lo, hi = (int(x, 16) for x in r[0].split("-"))
    try:
        mem.seek(lo); data = mem.read(hi - lo)
    except (OSError, ValueError, OverflowError):
        continue
    for w in set(re.findall(rb"[0-9a-z_]{{8,32}}", data)):
        for cut in {{w, w[-8:], w[-16:]}}:
            k = needles.get(hashlib.sha256(cut).hexdigest())
            if k:
                found.setdefault(k, set()).add(r[5] if len(r) > 5 else "anon")
    for pat in (rb"ncgrade-[a-z0-9_]{{6,}}", rb"NORMCOURSE_GRADE_TOKEN.{{0,6}}[0-9a-f]{{6}}", rb"course-used-[0-9a-f]{{6}}"):
        for hit in set(re.findall(pat, data)):
            found.setdefault("pattern", set()).add(hit[:80])
print("FOUND", {{k: (sorted(v)[:8] if isinstance(v, set) else v[:3]) for k, v in found.items()}})
print("MYTOKEN", os.environ.get("NORMCOURSE_GRADE_TOKEN"))
import sys
print("SECRET MODULES", [m for m in sys.modules if m.startswith(("helpers.answers", "helpers.exercises", "helpers.core", "normcourse.grading.kernel"))])
'''

ESCAPE = r'''
import os, ctypes, signal, resource
st = {l.split(":")[0]: l.split(":", 1)[1].strip() for l in open("/proc/self/status")}
print("STATUS", {k: st.get(k) for k in ("Uid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "NSpid", "PPid")})
print("PID", os.getpid(), "PPID", os.getppid(), "SID", os.getsid(0))
fds = {}
for f in os.listdir("/proc/self/fd"):
    try:
        fds[f] = os.readlink("/proc/self/fd/" + f)
    except OSError:
        pass
print("FDS", fds)
print("NS", {n: os.readlink("/proc/self/ns/" + n) for n in sorted(os.listdir("/proc/self/ns"))})
procs = {}
for p in sorted(os.listdir("/proc")):
    if p.isdigit():
        try:
            procs[p] = open(f"/proc/{p}/cmdline", "rb").read()[:60]
        except OSError as e:
            procs[p] = repr(e)
print("PROCS", procs)
libc = ctypes.CDLL(None, use_errno=True)
def t(name, rc):
    print("TRY", name, rc, os.strerror(ctypes.get_errno()) if rc else "")
t("umount /usr", libc.umount2(b"/usr", 2))
t("mount bind", libc.mount(b"/tmp", b"/usr", None, 4096, None))
t("remount rw /", libc.mount(None, b"/", None, 32 | 4096 | 32768, None))
for n in ("mnt", "pid", "user", "net"):
    fd = os.open(f"/proc/self/ns/{n}", os.O_RDONLY)
    t("setns " + n, libc.setns(fd, 0)); os.close(fd)
t("unshare user", libc.unshare(0x10000000))
t("setuid 0", libc.setuid(0))
t("chroot", libc.chroot(b"/tmp"))
print("RLIMITS", {n: resource.getrlimit(getattr(resource, n)) for n in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NPROC", "RLIMIT_NOFILE")})
print("SECUREBITS", libc.prctl(27, 0, 0, 0, 0), "DUMPABLE", libc.prctl(3, 0, 0, 0, 0), "PDEATHSIG", end=" ")
sig = ctypes.c_int(0); libc.prctl(2, ctypes.byref(sig), 0, 0, 0); print(sig.value)
for pid in (1, 2):
    try:
        os.kill(pid, 0); print("SIGNAL0", pid, "ok")
    except OSError as e:
        print("SIGNAL0", pid, e)
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
for pid in (1, 2):
    rc = libc.ptrace(PTRACE_ATTACH, pid, 0, 0)
    print("PTRACE", pid, rc, os.strerror(ctypes.get_errno()) if rc else "")
    if rc == 0:
        os.waitpid(pid, 0); libc.ptrace(PTRACE_DETACH, pid, 0, 0)
for pid in (1, 2):
    try:
        open(f"/proc/{pid}/mem", "rb").close(); print("PROCMEM", pid, "opened")
    except OSError as e:
        print("PROCMEM", pid, e)
try:
    print("ENVIRON2", open("/proc/2/environ", "rb").read()[:300])
except OSError as e:
    print("ENVIRON2", e)
print("ENVIRON self", sorted(k.split(b"=")[0] for k in open("/proc/self/environ", "rb").read().split(b"\0") if k))
print("HASH", hash("normcourse"), "ASLR", hex(id(None)))
import random, numpy as np, tempfile
print("RANDOM", random.random(), "NP", np.random.random(), "TMPNAME", next(tempfile._get_candidate_names()))
print("SYSPATH", sys.path if 'sys' in dir() else __import__('sys').path)
print("CWD", os.getcwd(), "ROOT", os.readlink("/proc/self/root"))
'''


def main():
    mode = "fresh" if os.environ.get("NORMCOURSE_FRESH_KERNELS") else "fork"
    ks = [GradingKernel(mode="bwrap") for _ in range(3)]
    try:
        for k in ks:
            k.start()
        a, b, c = ks
        needles = {"A.token": a.token, "A.folder": a.root.name, "A.mark": a.standins_mark,
                   "A.run": a.folders.run.name, "C.token": c.token, "C.folder": c.root.name,
                   "B.mark": b.standins_mark, "B.token": b.token}
        print(mode, "needles", needles)
        needles = {hashlib.sha256(v.split("-")[-1].encode()).hexdigest(): k for k, v in needles.items()}
        for name, code in (("SCAN", SCAN.format(NEEDLES=needles)), ("ESCAPE", ESCAPE)):
            r = b.run(code, 120, capture=True)
            print(f"--- {mode} {name}: {r.status} {r.ename} {r.evalue}\n{r.stdout}")
        r = c.run("import random,numpy as np\nprint('C RANDOM', random.random(), 'NP', np.random.random(), 'HASH', hash('normcourse'))", 30, capture=True)
        print(r.stdout)
    finally:
        for k in ks:
            k.close()


if __name__ == "__main__":
    main()
