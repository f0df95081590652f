"""Attacks on kernels forked from the zygote (issue 21, S4 review; attacks/NOTES.md "S4").

- a kernel that stops its holder (pid 2 of its sandbox) and ends is seen dead at once, not
  taken for a busy kernel until the cell's time runs out (fixed: the zygote, which reaps
  the kernel, kills its holder);
- a forked kernel's memory holds no other kernel's grading token, folder or stand-ins
  mark (the zygote received the others' requests before);
- a variable Python reads when it starts (``--pass-env PYTHONHASHSEED=0``) is honoured by a
  forked kernel as by a fresh one (fixed: the zygote gets the kernel's; a kernel whose
  differ starts afresh);
- the grading token (``kill_marked``, the reaper after a crash) ends a forked kernel and
  what it forks: their /proc/PID/environ is the zygote's (no token), and bwrap and the
  holder had none either (fixed: bwrap and the holder carry it);
- a kernel that ptraces its sandbox's pid 1 (bwrap's reaper) into ``sleep`` with no
  parent-death signal: after a ``kill -9`` of the grader a forked kernel lived on, a fresh
  one did not (fixed: the zygote kills its kernels when the grader's socket closes); that
  pid 1 and what else is in the sandbox lived on in both modes (fixed: the reaper kills
  the processes whose mounts include a watched kernel's box).
"""

from __future__ import annotations

import hashlib
import json

import psutil
import pytest

from normcourse.grading import sandbox, zygote
from normcourse.grading.kernel import GradingKernel, kill_marked

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(sandbox.unavailable()),
                                 reason=f"no sandbox: {sandbox.unavailable()}")]

STOP_HOLDER_AND_END = """import os, signal
if os.getpid() == 3:  # forked: pid 2 is the holder
    os.kill(2, signal.SIGSTOP)
os._exit(1)"""

#: sha256 of every 8-32 letter word (and its last 8 and 16 letters) in this process's readable
#: memory that matches a needle's digest: the code holds digests only, never a secret
SCAN = """import re, hashlib, json
needles = {needles!r}
found = set()
mem = open("/proc/self/mem", "rb", 0)
for line in open("/proc/self/maps"):
    r = line.split()
    if "r" not in r[1] or (len(r) > 5 and r[5].startswith("[v")):
        continue
    lo, hi = (int(x, 16) for x in r[0].split("-"))
    try:
        mem.seek(lo)
        data = mem.read(hi - lo)
    except (OSError, ValueError, OverflowError):
        continue
    for w in set(re.findall(rb"[0-9a-z_]{{8,32}}", data)):
        for cut in {{w, w[-8:], w[-16:]}}:
            if (name := needles.get(hashlib.sha256(cut).hexdigest())):
                found.add(name)
print(json.dumps(sorted(found)))"""


def _forked(k: GradingKernel) -> bool:
    return "normcourse.grading.zygote" in psutil.Process(k.kernel_pid).cmdline()


def test_a_kernel_that_stops_its_holder_and_ends_is_seen_dead():
    k = GradingKernel(mode="bwrap")
    try:
        k.start()
        if not _forked(k):
            pytest.skip(f"no forked kernel: {zygote.failure()}")
        r = k.run(STOP_HOLDER_AND_END, 60)
        # before the fix: "died", "did not stop within 5 s of being interrupted (timeout)",
        # after the whole 60 s: the grader took the dead kernel for a busy one
        assert r.status == "died" and "timeout" not in r.evalue, (r.status, r.evalue)
    finally:
        k.close()


def test_a_forked_kernel_holds_no_other_kernels_secret_in_its_memory():
    kernels = [GradingKernel(mode="bwrap") for _ in range(4)]
    try:
        secrets = {}
        for i, k in enumerate(kernels[:-1]):
            k.start()
            secrets |= {f"{i}.token": k.token, f"{i}.folder": k.root.name,
                        f"{i}.mark": k.standins_mark, f"{i}.run": k.folders.run.name}
        kernels[0].restart()  # one more request the zygote received
        secrets["0.run2"] = kernels[0].folders.run.name
        last = kernels[-1]
        last.start()
        if not _forked(last):
            pytest.skip(f"no forked kernel: {zygote.failure()}")
        secrets["own.token"] = last.token  # found: the probe works
        needles = {hashlib.sha256(v.split("-")[-1].encode()).hexdigest(): n
                   for n, v in secrets.items()}
        r = last.run(SCAN.format(needles=needles), 120, capture=True)
        assert r.status == "ok", (r.ename, r.evalue)
        assert json.loads(r.stdout.strip().splitlines()[-1]) == ["own.token"]
    finally:
        for k in kernels:
            k.close()


def test_the_grading_token_ends_a_forked_kernel_and_what_it_forks():
    """kill_marked (and the reaper, after a grader's crash) find a kernel's processes by the
    token in /proc/PID/environ; a forked kernel's is its zygote's first environment (no
    token), and bwrap and the holder were started without it: the token found nothing of
    the sandbox (fixed: bwrap and the holder carry it; the sandbox's pid 1 ends it all)."""
    k = GradingKernel(mode="bwrap")
    try:
        k.start()
        if not _forked(k):
            pytest.skip(f"no forked kernel: {zygote.failure()}")
        r = k.run("import os, time\nif os.fork() == 0:\n    time.sleep(600)\n", 30)
        assert r.status == "ok", (r.ename, r.evalue)
        kernel = psutil.Process(k.kernel_pid)
        procs = [kernel, *kernel.children(recursive=True)]
        assert len(procs) == 2
        assert kill_marked(k.token) >= 1
        _, alive = psutil.wait_procs(procs, timeout=30)
        assert alive == []
    finally:
        k.close()


def test_a_variable_read_when_python_starts_is_honoured_in_a_forked_kernel():
    """--pass-env PYTHONHASHSEED=0: a fresh kernel hashes with seed 0; a forked one kept
    the zygote's random seed while its os.environ said 0 (fixed: the zygote gets the
    kernel's start-up variables; a kernel whose differ from its zygote's starts afresh)."""
    import subprocess
    import sys

    want = subprocess.run([sys.executable, "-c", "print(hash('normcourse'))"],
                          env={"PYTHONHASHSEED": "0"}, capture_output=True, text=True,
                          check=True).stdout.strip()
    k = GradingKernel(mode="bwrap", pass_env=["PYTHONHASHSEED=0"])
    try:
        k.start()
        r = k.run("print(hash('normcourse'))", 30, capture=True)
        assert r.status == "ok", (r.ename, r.evalue)
        assert r.stdout.strip() == want
    finally:
        k.close()


#: a grader (with its reaper) that starts one kernel, lets it turn its sandbox's pid 1 (bwrap's reaper) into
#: ``sleep`` with no parent-death signal (attacks/s4_pid1.py: ptrace, allowed to the
#: kernel: same uid, pid 1 has no capability) and waits to be killed
_GRADER = """import os, sys, time
sys.path.insert(0, {attacks!r})
import psutil
from s4_pid1 import INJECT
from normcourse.grading.kernel import GradingKernel
from normcourse.grading import reaper
k = GradingKernel(mode="bwrap")
reaper.watch(k.root, k.token)  # as the grader's session does
k.start()
r = k.run(INJECT, 60, capture=True)
pid1 = psutil.Process(k.proc.pid).children()[0].pid
print(r.status, r.stdout.strip().replace(chr(10), " "), k.kernel_pid, pid1, flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module", params=["fork", "fresh"])
def killed_grader(request):
    """(mode, the kernel's process, the sandbox's pid 1), 20 s after a kill -9 of a grader
    whose kernel subverted pid 1."""
    import os
    import platform
    import subprocess
    import sys
    from pathlib import Path

    if platform.machine() != "x86_64":
        pytest.skip("the ptrace injection is written for x86_64")
    env = dict(os.environ)
    env.pop(zygote.OFF_VAR, None)
    if request.param == "fresh":
        env[zygote.OFF_VAR] = "1"
    attacks = str(Path(__file__).resolve().parents[1] / "attacks")
    grader = subprocess.Popen([sys.executable, "-c", _GRADER.format(attacks=attacks)],
                              stdout=subprocess.PIPE, text=True, env=env)
    procs = []
    try:
        line = grader.stdout.readline().split()
        procs = [psutil.Process(int(line[-2])), psutil.Process(int(line[-1]))]
        assert line[0] == "ok" and "100002" in line[1], line  # pid 1 is `sleep 100002`
        grader.kill()
        grader.wait()
        psutil.wait_procs(procs, timeout=20)
        yield request.param, procs[0], procs[1]
    finally:
        grader.kill()
        for p in procs[::-1]:
            try:
                p.kill()
            except psutil.Error:
                pass


def _ended(p: psutil.Process) -> bool:
    """Gone, or a zombie (a fresh kernel's parent is that pid 1, which no longer reaps)."""
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_kernel_ends_with_a_killed_grader_though_it_subverted_its_pid_1(killed_grader):
    """Fresh: the reaper kills the kernel by its token. Forked: it was left running (its
    /proc/PID/environ has no token, no parent-death signal; the zygote, its parent, ended
    with the grader's socket). Fixed: the zygote kills its kernels when that socket closes."""
    mode, kernel, _ = killed_grader
    assert _ended(kernel), mode


def test_nothing_of_the_sandbox_outlives_a_killed_grader(killed_grader):
    """S4, both modes: the kernel ptraced its sandbox's pid 1 into `sleep` (no parent-death
    signal, no environment, no token); after a kill -9 of the grader it lived on. Fixed:
    the reaper kills every process whose mounts include a watched kernel's box."""
    mode, _, pid1 = killed_grader
    assert _ended(pid1), mode
