"""Each submission in its own sandbox, the course's answers out of its reach (issue 10).

- what a kernel sees in its bubblewrap sandbox (normcourse/grading/sandbox.py): no
  checkout, no solutions, no other folder, no network, no other process, stand-ins
  for helpers/answers, a read-only course;
- lesson 3's routes to the course's batch norm score 0 with the reason, honest
  work keeps full marks;
- the corpus's sabotage cases in a ``--jobs 2`` batch between honest submissions,
  on a throw-away copy of the course, in a bwrap sandbox and as separate users
  (``--isolation uid``, when the tests run as root): nobody else's grade changes,
  the copy is unchanged, nothing is left behind; a killed grader takes everything
  with it, a stopped one writes the grades it has.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading_corpus"))
import corpus  # noqa: E402
import throwaway  # noqa: E402

from normcourse.grade import Limits, grade_submission  # noqa: E402
from normcourse.grading import isolation, sandbox, standins, uidbox  # noqa: E402
from normcourse.grading.kernel import GradingKernel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
needs_bwrap = pytest.mark.skipif(bool(sandbox.unavailable()),
                                 reason=f"no sandbox: {sandbox.unavailable()}")


# --------------------------------------------------------------------------- without kernels


def _folders(root) -> isolation.Folders:
    root.mkdir(exist_ok=True)
    f = isolation.Folders(root)
    f.new_box()
    f.new_run()
    return f


def test_command_hides_the_checkout_and_puts_standins_over_the_answers(tmp_path):
    f = _folders(tmp_path)
    cmd = sandbox.command(["python", "-P", "x"], f)
    text = " ".join(cmd)
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session",
                 "--remount-ro /"):
        assert flag in text
    binds = [cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--bind")]
    assert str(ROOT) not in binds and "/" not in binds and str(ROOT / "solutions") not in binds
    assert str(ROOT / "helpers") in binds
    i = cmd.index(str(f.standins))
    assert cmd[i - 1] == "--ro-bind" and cmd[i + 1] == str(ROOT / "helpers" / "answers")
    # writable: the box and the socket folder, nothing else (the log, the connection
    # file's folder and the stand-ins are the grader's)
    writable = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--bind"]
    assert writable == [str(f.box), str(f.run)]
    assert cmd[-3:] == ["python", "-P", "x"]


def test_standins_also_cover_a_copy_installed_in_another_visible_python(tmp_path, monkeypatch):
    other = tmp_path / "base" / "lib" / "python3.11" / "site-packages" / "helpers" / "answers"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    monkeypatch.setattr(sandbox, "python_dirs", lambda: [tmp_path / "base"])
    f = _folders(tmp_path / "k")
    cmd = sandbox.command(["python"], f)
    targets = [cmd[i + 2] for i, a in enumerate(cmd) if a == "--ro-bind" and
               cmd[i + 1] == str(f.standins)]
    assert targets == sorted([str(other), str(ROOT / "helpers" / "answers")])


def test_standins_name_each_function_and_compute_nothing(tmp_path):
    folder = standins.write(tmp_path / "s", "abc123")
    assert (folder / "fallback.py").read_text() == (ROOT / "helpers/answers/fallback.py").read_text()
    text = (folder / "l03.py").read_text()
    assert "def batchnorm_forward(" in text and "np." not in text and "mean(" not in text
    assert "<<normcourse-course-used-abc123:" in text


def test_the_exercises_standin_keeps_check_and_reveal_doing_nothing(tmp_path):
    text = (standins.write_exercises(tmp_path / "e", "abc123") / "__init__.py").read_text()
    namespace = {}
    exec(compile(text, "standin", "exec"), namespace)
    assert namespace["check"]("ex6_normalize", print) is None
    assert namespace["reveal"]("ex6_predict_depth", print, "it went down.") is None
    assert namespace["reveal"]("ex3_predict_mode", print, answer="b", happened="β.") is None


def test_without_sandbox_the_warning_says_what_to_install():
    text = sandbox.warning("bubblewrap (`bwrap`) is not installed")
    assert "NOT ISOLATED" in text and "apt-get install bubblewrap" in text


def _no_isolation(monkeypatch) -> None:
    """As on a machine without bwrap where the grader is not root."""
    monkeypatch.setattr(sandbox, "unavailable", lambda: "bubblewrap (`bwrap`) is not installed")
    monkeypatch.setattr(uidbox, "unavailable", lambda: "the grader does not run as root")


def test_require_sandbox_refuses_to_grade_without_it(monkeypatch, capsys, tmp_path):
    from normcourse import cli

    _no_isolation(monkeypatch)
    path = tmp_path / "s.ipynb"
    path.write_bytes(corpus._dump(corpus.solution_notebook()))
    assert cli.main(["grade", str(path), "--require-sandbox"]) == 2
    assert "apt-get install bubblewrap" in capsys.readouterr().err
    for mode in ("bwrap", "uid"):  # asked for by name: an error that says why
        assert cli.main(["grade", str(path), "--isolation", mode]) == 2
        assert ("not installed" if mode == "bwrap" else "not run as root") in \
            capsys.readouterr().err


# --------------------------------------------------------------------------- inside a kernel


@pytest.fixture(scope="module")
def kernel():
    if sandbox.unavailable():
        pytest.skip(sandbox.unavailable())
    k = GradingKernel(memory_mb=1024)
    k.start()
    yield k
    k.close()


def _run(k, code: str) -> str:
    r = k.run(code, 20, capture=True)
    assert r.status == "ok", (r.ename, r.evalue)
    return r.stdout.strip()


@needs_bwrap
def test_the_kernel_sees_no_checkout_no_solutions_no_other_folder(kernel):
    out = _run(kernel, f"""import json, os
print(json.dumps([os.path.exists({str(ROOT / 'solutions')!r}), os.path.exists({str(ROOT / '.git')!r}),
                  sorted(os.listdir({str(ROOT)!r})),
                  os.path.exists(os.environ.get("PWD", "/x") + "/solutions"),
                  os.listdir("/tmp"), os.listdir(os.path.expanduser("~"))]))""")
    solutions, git, listed, pwd_solutions, tmp, home = json.loads(out)
    assert not solutions and not git and not pwd_solutions
    assert set(listed) <= {"helpers", "normcourse", ".venv"}  # the packages (and Python)
    # its own /tmp: nothing but the mount points of what is bound below it (its own folder,
    # Python and the course when they live under /tmp, e.g. a checkout cloned there)
    bound = [kernel.root, *sandbox.python_dirs(), *sandbox.course_packages()]
    under_tmp = {p.relative_to("/tmp").parts[0] for p in bound if p.is_relative_to("/tmp")}
    assert set(tmp) <= under_tmp, (tmp, under_tmp)
    assert set(home) <= {".cache", ".ipython"}  # its own, nothing else


@needs_bwrap
def test_the_course_is_read_only_and_nothing_is_written_outside(kernel):
    out = _run(kernel, f"""import helpers, pathlib
res = []
for target in (pathlib.Path(helpers.__file__).parent / "checking" / "verdict.py",
               pathlib.Path({str(ROOT)!r}) / "planted.py", pathlib.Path("/usr/planted")):
    try:
        open(target, "a").write("x")
        res.append("written")
    except OSError as exc:
        res.append(type(exc).__name__)
print(res)""")
    course_file, checkout, system = ast.literal_eval(out)
    assert course_file == system == "OSError"
    # the checkout is not mounted: where it lies under /tmp, the write lands in the
    # sandbox's own /tmp (memory, gone with it), never in the checkout
    assert checkout == "OSError" or ROOT.is_relative_to("/tmp"), checkout
    assert not (ROOT / "planted.py").exists()


@needs_bwrap
def test_no_network_no_other_process_and_cwd_not_importable(kernel):
    out = _run(kernel, """import os, socket, sys
pids = [p for p in os.listdir("/proc") if p.isdigit()]
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    net = "network"
except OSError:
    net = "no network"
print(len(pids) <= 3, net, "" in sys.path or os.getcwd() in sys.path)""")
    assert out == "True no network False"


SHMGET = """import ctypes
libc = ctypes.CDLL(None, use_errno=True)
shmid = libc.shmget(0, ctypes.c_size_t(4096), 0o1600)
if shmid != -1:
    libc.shmctl(shmid, 0, None)  # IPC_RMID
print(shmid != -1, ctypes.get_errno())"""


def test_no_sysv_shared_memory_in_the_launched_process_and_its_children():
    """launch's seccomp filter: shmget fails with EPERM there, in every child, for good."""
    from normcourse.grading import launch

    if launch.SHMGET.get(os.uname().machine) is None:
        pytest.skip("no seccomp filter for this machine's architecture")
    before = subprocess.run([sys.executable, "-c", SHMGET], capture_output=True, text=True)
    assert before.stdout.split() == ["True", "0"], before.stderr  # the control: it works
    after = subprocess.run([sys.executable, "-c", f"""import subprocess, sys
from normcourse.grading.launch import no_sysv_shared_memory
assert no_sysv_shared_memory()
exec({SHMGET!r})
print(subprocess.run([sys.executable, "-c", {SHMGET!r}], capture_output=True, text=True).stdout)"""],
                           capture_output=True, text=True)
    assert after.stdout.split() == ["False", "1", "False", "1"], after.stderr


@needs_bwrap
def test_the_kernel_cannot_make_sysv_shared_memory(kernel):
    assert _run(kernel, SHMGET) == "False 1"


@needs_bwrap
def test_the_answers_are_standins(kernel):
    out = _run(kernel, """import inspect, helpers.answers.l03 as a
src = inspect.getsource(a.batchnorm_forward)
try:
    a.batchnorm_forward(1, 2, 3)
except BaseException as exc:
    print(type(exc).__name__, "mean(" in src)""")
    assert out.splitlines()[-1] == "CourseAnswerUsed False"
    assert f"<<normcourse-course-used-{kernel.standins_mark}:batchnorm_forward>>" in out


# --------------------------------------------------------------------------- lesson 3


LESSON3_ROUTES = {
    "ex3_bn_forward": '''def batchnorm_forward(X, gamma, beta, eps=1e-5):
    from helpers.answers.l03 import batchnorm_forward as course
    return course(X, gamma, beta, eps)''',
    "ex3_running_stats": '''import importlib
def update_running_stats(running_mean, running_var, X, momentum=0.1):
    m = importlib.import_module("helpers." + "answers" + ".l03")
    return getattr(m, "update_running_" + "stats")(running_mean, running_var, X, momentum)''',
    "ex3_bn_eval": '''import inspect
import helpers.answers.l03 as _a
_ns = {"np": np}
exec(inspect.getsource(_a.batchnorm_eval), _ns)
def batchnorm_eval(X, gamma, beta, running_mean, running_var, eps=1e-5):
    return _ns["batchnorm_eval"](X, gamma, beta, running_mean, running_var, eps)''',
}
USED = {"ex3_bn_forward": "batchnorm_forward",
        "ex3_running_stats": "update_running_stats", "ex3_bn_eval": "batchnorm_eval"}


@needs_bwrap
@pytest.mark.slow
@pytest.mark.full  # a whole lesson-3 notebook per route; the corpus covers the routes
def test_lesson3_routes_score_zero_and_honest_work_keeps_its_points(tmp_path):
    nb = nbformat.read(ROOT / "solutions" / "03_batch_norm.ipynb", as_version=4)
    for ex_id, body in LESSON3_ROUTES.items():
        corpus._answer(nb, ex_id, body)
    path = tmp_path / "03_batch_norm.ipynb"
    nbformat.write(nb, path)
    r = grade_submission(path, Limits(cell_timeout=60))
    assert r.graded and r.sandboxed, r.error
    got = {e.id: e for e in r.exercises}
    for ex_id, name in USED.items():
        e = got[ex_id]
        assert (e.points, e.status) == (0, "failed"), (ex_id, e.summary)
        assert f"uses the course's own implementation of `{name}`; write your own" in e.summary
    others = [e for e in r.exercises if e.id not in USED]
    assert all(e.status == "passed" for e in others), [(e.id, e.summary) for e in others]
    assert r.score == r.max_score - sum(e.max_points for e in got.values() if e.id in USED)
    from normcourse.grading import report

    def shown(markdown: str) -> str:  # Markdown's backslash escapes (issue 17), as shown
        return re.sub(r"\\(.)", r"\1", markdown)

    for fmt in ("json", "csv", "gradescope", "table"):
        text = report.render([r], fmt)
        if fmt == "gradescope":
            text = shown(" ".join(t["output"] for t in json.loads(text)["tests"]))
        assert "uses the course's own implementation of `batchnorm_forward`" in text, fmt
    assert "`batchnorm_eval`; write your own" in shown(report.feedback_markdown(r))


# --------------------------------------------------------------------------- sabotage batches

GRADE = [sys.executable, "-c", throwaway.MAIN, "grade"]


@pytest.fixture
def outside():
    """The grader's temporary folder (TMPDIR), short like /tmp's: a kernel's sockets live in
    its folder there, and a deep pytest folder would be too long a socket path."""
    folder = throwaway.folder("nc-outside-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def course():
    """A throw-away copy of the course (that other users may read, as a separate user must)."""
    folder = throwaway.folder("nc-course-")
    yield throwaway.course(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def grader():
    """A throw-away Python for the grader, and why each mode cannot run here ("" if it can)."""
    folder = throwaway.folder("nc-python-")
    python = throwaway.python(folder)
    probe_course, probe_tmp = throwaway.course(folder / "c"), throwaway.folder("nc-probe-")
    refused = {"bwrap": sandbox.unavailable(),
               "uid": throwaway.uid_refused(python, probe_course, probe_tmp)}
    shutil.rmtree(probe_tmp, ignore_errors=True)
    yield python, refused
    shutil.rmtree(folder, ignore_errors=True)


def _mode(grader, mode: str) -> str:
    """The grader's Python for ``mode``; skips the test when the mode cannot run here."""
    python, refused = grader
    if refused[mode]:
        pytest.skip(f"--isolation {mode} is not available here: {refused[mode]}")
    return python


#: these batches are ``full``: tests/test_isolation.py's representative batch grades
#: honest work beside attacks on siblings in both modes in the default run
MODES = [pytest.param("bwrap", marks=pytest.mark.full), pytest.param("uid", marks=pytest.mark.full)]


def _env(course: Path, outside: Path) -> dict:
    return throwaway.env(course, outside)


def _batch_processes(course: Path) -> list:
    found = []
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and \
                    p.environ().get("NORMCOURSE_CORPUS_COPY") == str(course):
                found.append(p)
        except psutil.Error:
            pass
    return found


def _sleepers() -> list:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if "31340" in " ".join(p.info["cmdline"] or []):
                out.append(p)
        except psutil.Error:
            pass
    return out


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_sabotage_between_honest_submissions_changes_nothing(mode, grader, course, tmp_path,
                                                             outside):
    python = _mode(grader, mode)
    subs = tmp_path / "submitted"
    subs.mkdir()
    honest = corpus._dump(corpus.solution_notebook())
    paths = []
    for i, case in enumerate(c for c in corpus.CASES if c.sabotage):
        (subs / f"honest{i}.ipynb").write_bytes(honest)
        (subs / f"{case.name}.ipynb").write_bytes(case.build())
        paths += [subs / f"honest{i}.ipynb", subs / f"{case.name}.ipynb"]
    (subs / "honest_last.ipynb").write_bytes(honest)
    paths.append(subs / "honest_last.ipynb")
    before = throwaway.digest(course)
    p = subprocess.run(throwaway.grade(python, paths, mode, "--jobs", "2", "--format", "json",
                                       "--cell-timeout", "60", "--require-sandbox"),
                       cwd=course, env=_env(course, outside), capture_output=True, text=True,
                       timeout=1200)
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads(p.stdout)
    assert report["isolated"] and report["complete"]
    assert {s["isolation"] for s in report["submissions"]} == {mode}
    scores = {Path(s["submission"]).stem: (s["score"], s["notes"]) for s in report["submissions"]}
    for s in report["submissions"]:  # a race the sabotage may win against itself (corpus.raced)
        case = next((c for c in corpus.CASES if c.name == Path(s["submission"]).stem), None)
        if case and case.lost_to_its_race(s["score"], s["exercises"]):
            scores[case.name] = (corpus.MAX, s["notes"])
    assert {k: v[0] for k, v in scores.items()} == dict.fromkeys(scores, corpus.MAX), scores
    assert throwaway.digest(course) == before  # the course copy was not changed
    assert not (outside / "PLANTED-CODE-RAN").exists()
    assert not list(outside.glob("ncgrade-*"))  # every kernel folder removed
    assert not list(outside.rglob("normcourse-corpus-big-file"))
    assert not Path("/tmp/normcourse-corpus-big-file").exists()
    assert not Path("~/normcourse-corpus-big-file").expanduser().exists()
    # the reaper sees the closed pipe and exits (give a loaded machine a few seconds)
    assert _wait_for(lambda: _sleepers() == [] and _batch_processes(course) == [], 15), (
        _sleepers(), _batch_processes(course))


def _endless(folder: Path, name: str) -> Path:
    case = next(c for c in corpus.CASES if c.name == "endless_cell")
    path = folder / f"{name}.ipynb"
    path.write_bytes(case.build())
    return path


def _cmdline(p) -> list:
    """A process's command line; [] once it has ended (a reader's child lives 0.1 s)."""
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _is_kernel(p, python: str) -> bool:
    """A kernel: a new program (``normcourse.grading.launch``) or forked from the zygote
    (its command line, in another PID namespace: the zygote itself is in the grader's)."""
    line = _cmdline(p)
    if line[:1] != [python]:
        return False
    if "normcourse.grading.launch" in line:
        return True
    try:
        return "normcourse.grading.zygote" in line and \
            os.readlink(f"/proc/{p.pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    except OSError:
        return False


def _wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_killed_grader_takes_its_kernels_and_folders_with_it(mode, grader, course, tmp_path,
                                                               outside):
    python = _mode(grader, mode)
    paths = [_endless(tmp_path, "a"), _endless(tmp_path, "b")]
    grader = subprocess.Popen(throwaway.grade(python, paths, mode, "--jobs", "2",
                                              "--cell-timeout", "100"),
                              cwd=course, env=_env(course, outside),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def started():  # everything the grader started (the zygote and its kernels too)
        try:
            return psutil.Process(grader.pid).children(recursive=True)
        except psutil.Error:
            return []

    try:
        assert _wait_for(lambda: len([p for p in started() if _is_kernel(p, python)]) == 2, 90)
        time.sleep(2)
        kernels = [p for p in {*_batch_processes(course), *started()} if p.pid != grader.pid]
        assert len(list(outside.glob("ncgrade-*"))) == 2
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait()
    gone, alive = psutil.wait_procs(kernels, timeout=20)
    assert alive == []
    assert _wait_for(lambda: not list(outside.glob("ncgrade-*")), 20)


@needs_bwrap
@pytest.mark.slow
def test_sigterm_writes_the_grades_already_computed(course, tmp_path, outside):
    done = tmp_path / "done.ipynb"
    done.write_bytes(corpus._dump(corpus.solution_notebook()))
    paths = [done, _endless(tmp_path, "endless")]
    log, out = tmp_path / "stderr.txt", tmp_path / "grades.json"
    with open(log, "w") as err:
        grader = subprocess.Popen([*GRADE, *map(str, paths), "--format", "json", "--out", str(out),
                                   "--cell-timeout", "100", *throwaway.pass_env()],
                                  cwd=course,
                                  env=_env(course, outside), stdout=subprocess.DEVNULL, stderr=err)
        assert _wait_for(lambda: "done.ipynb: 7/7" in log.read_text(), 120), log.read_text()
        time.sleep(3)  # the endless notebook is running now
        grader.send_signal(signal.SIGTERM)
        assert grader.wait(timeout=60) == 128 + signal.SIGTERM
    report = json.loads(out.read_text())
    assert report["complete"] is False
    first, second = report["submissions"]
    assert first["graded"] and first["score"] == corpus.MAX and not first["incomplete"]
    assert not second["graded"] and second["incomplete"] and "stopped" in second["error"]
    assert "interrupted" in log.read_text()
    assert _wait_for(lambda: not list(outside.glob("ncgrade-*")), 20)


# --------------------------------------------------------------------------- without bwrap


def test_without_bwrap_grading_goes_on_and_says_so_loudly(monkeypatch, capsys, tmp_path):
    from normcourse import cli

    _no_isolation(monkeypatch)
    case = next(c for c in corpus.CASES if c.name == "answers_direct_import")
    path = tmp_path / "s.ipynb"
    path.write_bytes(case.build())
    assert cli.main(["grade", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "WARNING: SUBMISSIONS WERE NOT ISOLATED" in err and "apt-get install bubblewrap" in err
    report = json.loads(out)
    assert report["isolated"] is False
    sub = report["submissions"][0]
    assert not sub["sandboxed"] and sub["notes"][0].startswith("NOT ISOLATED")
    assert sub["isolation"] == "none"
    # the stand-ins still answer an import of helpers.answers (a best effort without bwrap)
    assert sub["score"] == corpus.MAX - 2
    ex = next(e for e in sub["exercises"] if e["id"] == "ex1_gradient")
    assert "uses the course's own implementation of `mse_gradient`" in ex["summary"]
    assert cli.main(["grade", str(path)]) == 0
    assert capsys.readouterr().out.startswith("WARNING: SUBMISSIONS WERE NOT ISOLATED")


def test_a_kernel_that_fails_to_start_is_tried_again(monkeypatch, tmp_path):
    from normcourse.grading.kernel import KernelStartError

    real, calls = GradingKernel.start, []

    def flaky(self, timeout=60.0):
        calls.append(1)
        if len(calls) == 1:
            raise KernelStartError("the kernel exited at start: (made to fail by the test)")
        return real(self, timeout)

    monkeypatch.setattr(GradingKernel, "start", flaky)
    path = tmp_path / "s.ipynb"
    path.write_bytes(corpus._dump(corpus.solution_notebook()))
    r = grade_submission(path, Limits(cell_timeout=30))
    assert len(calls) == 2 and r.graded and r.score == corpus.MAX, r.error


@needs_bwrap
def test_the_kernel_has_no_capabilities_and_cannot_unmount_the_standins(kernel):
    out = _run(kernel, """import ctypes, os, helpers.answers
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
libc = ctypes.CDLL(None, use_errno=True)
folder = os.path.dirname(helpers.answers.__file__).encode()
print(caps, libc.umount2(folder, 2), ctypes.get_errno() != 0)""")
    assert out == "0000000000000000 -1 True"
