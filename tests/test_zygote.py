"""Kernels forked from the grading run's zygote (normcourse/grading/zygote.py, issue 21).

- the zygote never holds a secret module and runs one thread, or forks nothing;
- a forked kernel is in its sandbox's namespaces (bwrap made them), has no capability
  (and cannot get one back), no-new-privileges and the seccomp filter, only its own
  descriptors, a new global NumPy seed, and the grader's kernel environment;
- where the zygote cannot start or a fork fails, kernels start afresh (as before);
- the zygote ends with the grader's end of its socket.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from normcourse.grading import isolation, sandbox, zygote
from normcourse.grading.kernel import GradingKernel

needs_bwrap = pytest.mark.skipif(bool(sandbox.unavailable()),
                                 reason=f"no sandbox: {sandbox.unavailable()}")


def test_refusal_names_a_secret_module_or_a_second_thread():
    assert zygote.refusal(["numpy", "helpers", "helpers.checking"], 1) == ""
    assert "helpers.answers.l03" in zygote.refusal(["numpy", "helpers.answers.l03"], 1)
    assert "helpers.exercises" in zygote.refusal(["helpers.exercises"], 1)
    assert "2 threads" in zygote.refusal(["numpy"], 2)


def test_place_keeps_exactly_the_descriptors_named():
    # 0, 1 and 2 side by side: an empty range between them must close nothing (CPython 3.11's
    # os.closerange(0, 0) closes every descriptor)
    code = """import os, json
from normcourse.grading.forked import place as _place
null = os.open("/dev/null", os.O_RDONLY)
r, w = os.pipe()
extra = [os.open("/dev/null", os.O_RDONLY) for _ in range(5)]
_place({0: null, 1: 1, 2: 2, 9: r})
os.write(1, json.dumps(sorted(int(n) for n in os.listdir("/proc/self/fd"))).encode())
"""
    r, w = os.pipe()
    try:
        subprocess.run([sys.executable, "-c", code], stdout=w, check=True, timeout=60)
        os.close(w)
        out = os.read(r, 1000)
    finally:
        os.close(r)
    assert json.loads(out) == [0, 1, 2, 3, 9]  # 3: the one listing /proc/self/fd


@pytest.fixture(scope="module")
def pair():
    if sandbox.unavailable():
        pytest.skip(sandbox.unavailable())
    kernels = [GradingKernel(mode="bwrap"), GradingKernel(mode="bwrap")]
    try:
        for k in kernels:
            k.start()
        yield kernels
    finally:
        for k in kernels:
            k.close()


def _out(k, code: str) -> str:
    r = k.run(code, 30, capture=True)
    assert r.status == "ok", (r.ename, r.evalue)
    return r.stdout.strip()


@needs_bwrap
def test_a_forked_kernel_is_in_its_sandbox_namespaces(pair):
    k = pair[0]
    assert not zygote.failure(), zygote.failure()
    me = psutil.Process()
    kernel = psutil.Process(k.kernel_pid)
    assert "normcourse.grading.zygote" in kernel.cmdline()  # forked, not a new program
    holder = sandbox.innermost(k.proc.pid)
    for ns in ("mnt", "pid", "net", "ipc", "uts"):
        theirs = os.readlink(f"/proc/{k.kernel_pid}/ns/{ns}")
        assert theirs == os.readlink(f"/proc/{holder}/ns/{ns}")
        assert theirs != os.readlink(f"/proc/{me.pid}/ns/{ns}")
    out = json.loads(_out(k, "import os, json; print(json.dumps([os.getpid(), os.getppid(), "
                             "sorted(p for p in os.listdir('/proc') if p.isdigit())]))"))
    assert out == [3, 0, ["1", "2", "3"]]  # bwrap's reaper, the holder, the kernel


@needs_bwrap
def test_a_forked_kernel_has_no_capability_and_cannot_regain_one(pair):
    out = _out(pair[0], """status = dict(l.split(":", 1) for l in open("/proc/self/status"))
print(*(status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                                    "NoNewPrivs", "Seccomp")))
import subprocess  # a new program of uid 0 gains nothing either
print(subprocess.run(["grep", "CapEff", "/proc/self/status"], capture_output=True,
                     text=True).stdout.split()[1])""")
    first, second = out.splitlines()
    assert first.split() == ["0000000000000000"] * 5 + ["1", "2"]
    assert second == "0000000000000000"


_OPEN = """import os, json, sys
def link(n):
    try:
        return os.readlink(f"/proc/self/fd/{n}")
    except OSError:
        return None  # the descriptor that listed the folder
fds = {n: t for n in os.listdir("/proc/self/fd") if (t := link(n))}
print(json.dumps([fds, dict(os.environ),
                  sorted(m for m in sys.modules if m.startswith(("helpers.answers",
                                                                 "helpers.exercises")))]))"""


def _descriptors(k) -> tuple[set, dict, list]:
    fds, env, secret = json.loads(_out(k, _OPEN))
    kinds = {re.sub(r"\[\d+\]", "", t).replace(str(k.root), "ROOT") for t in fds.values()
             if "/.ipython/" not in t or t.endswith("history.sqlite")}  # (not those open
    # for a moment while IPython writes its history)
    return kinds, fds, env, secret


@needs_bwrap
def test_a_forked_kernel_holds_what_a_fresh_one_holds_and_no_more(pair, monkeypatch):
    k = pair[0]
    kinds, fds, env, secret = _descriptors(k)
    assert secret == []
    assert fds["0"] == "/dev/null" and fds[str(k.reply_fd)].startswith("pipe:")
    assert all(n in env and env[n] == v for n, v in k._environment().items())
    monkeypatch.setenv(zygote.OFF_VAR, "1")
    fresh = GradingKernel(mode="bwrap")
    try:
        fresh.start()
        fresh_kinds, _, fresh_env, _ = _descriptors(fresh)
    finally:
        fresh.close()
    # the same kinds of descriptors (ZeroMQ's, the output pipes, the log, IPython's
    # history), and the same environment but for the kernel's own folders and token
    assert kinds == fresh_kinds, kinds ^ fresh_kinds
    own = {"HOME", "MPLCONFIGDIR", "IPYTHONDIR", "PWD", "NORMCOURSE_GRADE_TOKEN"}
    assert {n: v for n, v in env.items() if n not in own} == \
        {n: v for n, v in fresh_env.items() if n not in own}


@needs_bwrap
def test_two_forked_kernels_draw_different_global_seeds(pair):
    code = "import numpy as np, random; print(np.random.rand(), random.random())"
    first, second = (_out(k, code).split() for k in pair)
    assert first[0] != second[0] and first[1] != second[1]


@needs_bwrap
def test_a_fork_that_fails_gives_way_to_fresh_kernels(monkeypatch, capsys):
    monkeypatch.setattr(zygote, "_FAILED", "")

    def broken(self, **kwargs):
        raise zygote.ZygoteError("broken on purpose")

    monkeypatch.setattr(zygote.Zygote, "fork", broken)
    k = GradingKernel(mode="bwrap")
    try:
        k.start()
        assert "broken on purpose" in zygote.failure()
        assert "started afresh" in capsys.readouterr().err  # said once, to the teacher
        assert "normcourse.grading.launch" in psutil.Process(k.kernel_pid).cmdline()
        assert _out(k, "print(6 * 7)") == "42"
    finally:
        k.close()


@needs_bwrap
def test_switched_off_every_kernel_is_a_new_program(monkeypatch):
    monkeypatch.setenv(zygote.OFF_VAR, "1")
    k = GradingKernel(mode="bwrap")
    try:
        k.start()
        assert "normcourse.grading.launch" in psutil.Process(k.kernel_pid).cmdline()
    finally:
        k.close()


@needs_bwrap
def test_the_zygote_ends_when_the_grader_closes_its_socket():
    z = zygote.Zygote(isolation.passed_environment() | sandbox.ZYGOTE_ENV)
    try:
        assert z.alive()
        z.sock.close()
        deadline = time.monotonic() + 10
        while z.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not z.alive()
    finally:
        z.close()


UNPRIVILEGED = """import json, os, sys
from normcourse.grading import zygote
from normcourse.grading.kernel import GradingKernel
k = GradingKernel(mode="bwrap")
try:
    k.start()
    r = k.run("import os; print(os.getuid(), [l.split()[1] for l in open('/proc/self/status')"
              " if l.startswith('CapEff')][0], os.readlink('/proc/self/ns/user'))", 30,
              capture=True)
    print(json.dumps([zygote.failure(), r.stdout.split(), os.getuid(),
                      os.readlink(f"/proc/{k.kernel_pid}/ns/user"),
                      os.readlink("/proc/self/ns/user")]))
finally:
    k.close()
"""


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0, reason="runs the grader as another user: needs root")
def test_an_unprivileged_grader_forks_into_bwrap_nested_user_namespace():
    # unprivileged, bwrap makes a user namespace and nests a second one in it (the mounts,
    # owned by the first, are locked there): the fork enters both, in that order
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*nobody, "bwrap", "--ro-bind", "/", "/", *sandbox.NAMESPACES, "true"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode:
        pytest.skip(f"user 65534 cannot run bwrap here: {probe.stderr[-300:]}")
    folder = Path(tempfile.mkdtemp())  # (pytest's own is not open to another user)
    try:
        folder.chmod(0o777)
        for package in sandbox.course_packages():  # a copy that user can read (uid-mode
            shutil.copytree(package, folder / "src" / package.name,  # tests close the
                            ignore=shutil.ignore_patterns("__pycache__"))  # checkout's)
        subprocess.run(["chmod", "-R", "a+rX", str(folder / "src")], check=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(folder),
               "HOME": str(folder), "PYTHONPATH": str(folder / "src"),
               "PYTHONDONTWRITEBYTECODE": "1"}
        p = subprocess.run([*nobody, sys.executable, "-c", UNPRIVILEGED], capture_output=True,
                           text=True, env=env, cwd=folder, timeout=120)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert p.returncode == 0, p.stderr[-2000:]
    failure, (uid, caps, kernel_userns), grader_uid, seen_userns, grader_userns = \
        json.loads(p.stdout.splitlines()[-1])
    assert failure == "" and grader_uid == 65534 and uid == "65534"
    assert caps == "0000000000000000"
    assert kernel_userns == seen_userns != grader_userns


@needs_bwrap
def test_the_memory_a_forked_kernel_uses_is_counted(pair):
    # the forked kernel is the zygote's child, not bwrap's: --memory must still see it
    k = pair[1]
    before = k.memory_mb_used()
    _out(k, "import numpy as np\nhog = np.ones(40_000_000)  # 320 MB, touched")
    assert k.memory_mb_used() > before + 300
    _out(k, "del hog")
