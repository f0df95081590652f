"""Nothing a kernel writes is trusted; every kernel kept apart, also as a separate user (issue 17).

- the no-follow walks (normcourse/grading/safefs.py) remove and measure a kernel's folder
  without following a link it planted, whatever the depth;
- the isolation is chosen once (bwrap, else a separate user when root, else none), and a
  user id of the separate-user mode is never shared by two graders nor killed by another;
- the attacks of issue 17, in a ``--jobs 2`` batch between honest classmates on a
  throw-away course, in bwrap and uid modes: the kernel's log, home and font list
  turned into links (solutions read back, a .pth planted in the grader's Python, a
  classmate's submission and the grader's own inkernel.py rewritten, an outside folder
  emptied, a file overwritten), the teacher's secrets returned by a function, the
  kernel's sockets swapped, the other kernels' folders read. Every one of them worked
  on 0a530e6 (see the closing note of issue 17); each honest classmate keeps full marks.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grading_corpus"))
import corpus  # noqa: E402
import throwaway  # noqa: E402

from normcourse.grading import isolation, modes, safefs, sandbox, uidbox, uids  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FAST_FS = "/dev/shm" if os.path.isdir("/dev/shm") else None  # rmdir costs ms on some disks


# --------------------------------------------------------------------------- without kernels


def _tree(tmp: Path, outside: Path) -> None:
    (tmp / "a" / "b").mkdir(parents=True)
    (tmp / "a" / "b" / "f").write_bytes(b"x" * 10_000)
    (tmp / "a" / "to_outside").symlink_to(outside)
    (tmp / "a" / "b" / "to_file").symlink_to(outside / "keep.txt")


def test_remove_tree_removes_links_never_what_they_point_to(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    box = tmp_path / "box"
    _tree(box, outside)
    safefs.remove_tree(box)
    assert not box.exists() and (outside / "keep.txt").read_text() == "mine"
    box.symlink_to(outside)  # the folder itself swapped for a link
    safefs.remove_tree(box)
    assert not box.is_symlink() and (outside / "keep.txt").exists()


def test_remove_tree_and_usage_survive_a_deep_chain():
    """2,000 folders nested: shutil.rmtree's recursion would stop at Python's limit."""
    top = Path(__import__("tempfile").mkdtemp(dir=FAST_FS))
    fd = os.open(top, os.O_RDONLY)
    for _ in range(2000):
        os.mkdir("d", dir_fd=fd)
        fd, old = os.open("d", os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    os.close(fd)
    assert safefs.usage_mb(top, 100_000, 64) == float("inf")  # deeper than allowed
    safefs.remove_tree(top)
    assert not top.exists()


def test_usage_counts_files_not_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big").write_bytes(b"x" * 3_000_000)
    (outside / "keep.txt").write_text("x")
    box = tmp_path / "box"
    _tree(box, outside)
    mb = safefs.usage_mb(box, 100, 64)
    assert 0.005 < mb < 0.1, mb  # the 10 kB file, not the 3 MB behind the link
    assert safefs.usage_mb(box, 3, 64) == float("inf")  # more entries than allowed


def test_auto_prefers_bwrap_then_a_separate_user_then_none(monkeypatch):
    monkeypatch.delenv(sandbox.OFF_VAR, raising=False)
    monkeypatch.setattr(sandbox, "unavailable", lambda: "")
    monkeypatch.setattr(uidbox, "unavailable", lambda: "")
    assert modes.choose("auto").name == "bwrap" and modes.choose("uid").name == "uid"
    monkeypatch.setattr(sandbox, "unavailable", lambda: "bwrap may not make namespaces here")
    assert modes.choose("auto").name == "uid" and modes.choose("auto").isolated
    monkeypatch.setattr(uidbox, "unavailable", lambda: "the grader does not run as root")
    mode = modes.choose("auto")
    assert mode.name == "none" and not mode.isolated
    assert "namespaces" in mode.reason and "not run as root" in mode.reason
    with pytest.raises(isolation.UnavailableError, match="not run as root"):
        modes.choose("uid")
    with pytest.raises(isolation.UnavailableError, match="unknown isolation"):
        modes.choose("chroot")


def test_verbose_names_the_mode_and_the_kernel_environment(monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "unavailable", lambda: "")
    monkeypatch.setenv("MY_DATA", "/data")
    monkeypatch.setenv("GH_PAT", "ghp_x")
    assert modes.announce("auto", pass_env=["MY_DATA"], verbose=True).name == "bwrap"
    err = capsys.readouterr().err
    assert "isolation: bubblewrap sandbox" in err and "MY_DATA" in err and "PATH" in err
    assert "GH_PAT" not in err
    assert "kernels: forked from a process that imported ipykernel" in err
    monkeypatch.setenv("NORMCOURSE_FRESH_KERNELS", "1")
    modes.announce("auto", verbose=True)
    assert "kernels: each started afresh" in capsys.readouterr().err
    assert modes.announce("auto", pass_env=["no good"]) is None
    assert "--pass-env 'no good'" in capsys.readouterr().err


LEASE = """import sys, time
from normcourse.grading import uids
uid = uids.POOL.lease()
print(uid, flush=True)
sys.stdin.readline()  # hold the lease until told
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="user ids are leased by a grader running as root")
def test_a_user_id_is_never_shared_nor_killed_by_another_grader():
    """Two graders on one machine (as the suite's workers are): distinct user ids, and the
    second one's kill-by-user never reaches the first one's processes."""
    holder = subprocess.Popen([sys.executable, "-c", LEASE], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        theirs = int(holder.stdout.readline())
        sleeper = subprocess.Popen(["sleep", "300"], user=theirs, group=theirs, extra_groups=[])
        mine = uids.POOL.lease()
        try:
            assert mine != theirs
            uids.reclaim(mine)
            uids.reap(theirs)  # another run holds it: the reaper leaves it alone
            assert sleeper.poll() is None
        finally:
            uids.reclaim(mine)
            uids.POOL.release(mine)
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
        uids.reap(theirs)  # its run ended: now the reaper kills what it left
        assert sleeper.wait(timeout=30) == -9
    finally:
        holder.kill()
        if "sleeper" in locals() and sleeper.poll() is None:
            sleeper.kill()


# --------------------------------------------------------------------------- attacks (batch)

SECRETS = {"GH_PAT": "ghp-corpus-secret-1", "DATABASE_URL": "postgres://u:corpus-secret-2@db/x",
           "SENTRY_DSN": "https://corpus-secret-3@sentry.example/1",
           "OPENAI_KEY": "sk-corpus-secret-4", "OLDPWD": "/srv/corpus-secret-5"}
#: corpus cases graded with the attacks (the course's answers, the solutions)
ALSO = ("answers_direct_import", "answers_getsource_exec", "solutions_via_helpers_file",
        "attack_reference_from_exercises", "attack_judge_oracle")


@pytest.fixture(scope="module")
def grader():
    """A throw-away Python for the grader, and why each mode cannot run here ("" if it can)."""
    folder = throwaway.folder("nc-python-")
    python = throwaway.python(folder)
    probe_tmp = throwaway.folder("nc-probe-")
    refused = {"bwrap": sandbox.unavailable(),
               "uid": throwaway.uid_refused(python, throwaway.course(folder / "c"), probe_tmp)}
    shutil.rmtree(probe_tmp, ignore_errors=True)
    yield python, refused
    shutil.rmtree(folder, ignore_errors=True)


def _victim(folder: Path) -> dict:
    """What the attacks aim at outside their folder: a classmate's submission, a file, and a
    folder of files; returns each file's content."""
    (folder / "keep" / "sub").mkdir(parents=True)
    files = {"bob.ipynb": corpus._dump(corpus.solution_notebook()), "font.txt": b"not a font",
             "keep/a.txt": b"a", "keep/sub/b.txt": b"b"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


#: the default suite's batch per mode: one attack for each route of issue 17 (reading,
#: writing and deleting outside through a planted link, the teacher's secrets, the
#: siblings' folders); every case runs with ``pytest -m exhaustive tests/test_isolation.py``
REPRESENTATIVE = ("iso_log_reads_solutions", "iso_log_overwrites_classmate",
                  "iso_home_link_disk_limit", "iso_returns_secrets", "iso_read_siblings")


def batch(folder: Path, victim: Path, mode: str = "bwrap", full: bool = True) -> list[Path]:
    """The attacks between honest classmates, the victim classmate bob last (and, in the full
    batch for a separate user, corpus cases that bwrap's batch in test_grade_corpus.py
    covers); ``full=False``: the :data:`REPRESENTATIVE` attacks only."""
    also = [c for c in corpus.CASES if c.name in ALSO and mode == "uid" and full]
    cases = [*(c for c in corpus.ISOLATION_CASES if full or c.name in REPRESENTATIVE), *also]
    honest = corpus._dump(corpus.solution_notebook())
    paths = []
    for i, case in enumerate(cases):
        (folder / f"honest{i}.ipynb").write_bytes(honest)
        (folder / f"{case.name}.ipynb").write_bytes(case.build())
        paths += [folder / f"honest{i}.ipynb", folder / f"{case.name}.ipynb"]
    return [*paths, victim / "bob.ipynb"]


class Trap:
    """A Unix socket in ``folder`` that counts who connects to it (iso_socket_swap links the
    kernel's sockets to it: the grader must never follow)."""

    def __init__(self, folder: Path):
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(folder / "trap.sock"))
        self.server.listen(16)
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.server.accept()[0].close()
            except OSError:
                return
            self.connections += 1


def check(report: dict, feedback: str, course: Path, before: str, victim: Path, files: dict,
          python: str, outside: Path, trap: Trap) -> dict:
    """What must hold after the batch: name -> whether it held (all True on this branch)."""
    subs = {Path(s["submission"]).stem: s for s in report["submissions"]}
    expected = {c.name: c for c in corpus.CASES}

    def graded_as_expected(name):
        s, case = subs[name], expected.get(name)
        want = case.score if case else corpus.MAX
        got = {e["id"]: e["status"] for e in s["exercises"]}
        return s["graded"] and s["score"] == want and all(
            got.get(k) == v for k, v in (case.statuses if case else {}).items()) and \
            corpus.ISOLATION_NOTES.get(name, "") in " ".join(s["notes"])

    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True).stdout.strip())
    notes = {name: " ".join(s["notes"]) for name, s in subs.items()}
    return {
        "every honest classmate has full marks": all(
            s["graded"] and s["score"] == corpus.MAX for n, s in subs.items()
            if n.startswith("honest") or n == "bob"),
        "each attack gets its plain grade": all(graded_as_expected(n) for n in subs),
        "the course copy is unchanged": throwaway.digest(course) == before,
        "the victim's files are unchanged": all(
            (victim / n).exists() and (victim / n).read_bytes() == d for n, d in files.items()),
        "no .pth planted in the grader's Python": not list(site.glob("zz-normcourse*")) and
        not (outside / "PTH-RAN").exists(),
        "no secret in the grades or feedback": not any(
            v in json.dumps(report) + feedback for v in SECRETS.values()),
        "the grader never connected where a kernel's link pointed": trap.connections == 0,
        "no sibling's folder read": "siblings read: 0" in notes.get("iso_read_siblings",
                                                                     "siblings read: 0"),
        "every kernel folder removed": not list(outside.glob("ncgrade-*")),
        "nothing left in the folders any user may write in": not [
            p for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
            for p in Path(d).glob("normcourse-corpus-shared-*")],
    }


def _left_running(course: Path) -> list:
    found = []
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get("NORMCOURSE_CORPUS_COPY") == str(course):
                found.append(p)
        except psutil.Error:
            pass
    return found


@pytest.mark.slow
@pytest.mark.parametrize("full", [False, pytest.param(True, marks=pytest.mark.exhaustive)],
                         ids=["representative", "every-attack"])
@pytest.mark.parametrize("mode", [
    # bwrap's batch in -m full: the default run grades every corpus case under bwrap already
    pytest.param("bwrap", marks=pytest.mark.full), "uid"])
def test_attacks_of_issue_17_change_nothing(mode, full, grader):
    python, refused = grader
    if refused[mode]:
        pytest.skip(f"--isolation {mode} is not available here: {refused[mode]}")
    work = throwaway.folder("nc-iso-")
    try:
        course, outside, victim, subs = (work / n for n in ("course", "out", "victim", "subs"))
        for folder in (outside, victim, subs):
            folder.mkdir(mode=0o755)
        throwaway.course(course)
        files = _victim(victim)
        paths = batch(subs, victim, mode, full)
        before = throwaway.digest(course)
        trap = Trap(outside)
        p = subprocess.run(throwaway.grade(
            python, paths, mode, "--jobs", "2", "--format", "json", "--cell-timeout", "60",
            "--disk", "50", "--memory", "500", "--require-sandbox",
            "--feedback", str(work / "feedback")),
            cwd=course, env=throwaway.env(course, outside, NORMCOURSE_CORPUS_VICTIM=str(victim),
                                          **SECRETS),
            capture_output=True, text=True, timeout=1500)
        assert p.returncode == 0, p.stderr[-3000:]
        report = json.loads(p.stdout)
        assert report["isolated"] and {s["isolation"] for s in report["submissions"]} == {mode}
        feedback = "".join(f.read_text() for f in (work / "feedback").glob("*.md")) + p.stderr
        held = check(report, feedback, course, before, victim, files, python, outside, trap)
        assert all(held.values()), ([k for k, v in held.items() if not v], [
            (Path(s["submission"]).stem, s["score"], [n[:120] for n in s["notes"]])
            for s in report["submissions"]])
        _, alive = psutil.wait_procs(_left_running(course), timeout=20)  # the reaper exits
        assert alive == []
    finally:
        shutil.rmtree(work, ignore_errors=True)


NETWORK = """import os, socket
try:
    socket.create_connection(("127.0.0.1", int(os.environ["NORMCOURSE_CORPUS_PORT"])), timeout=5)
    print("reached")
except (OSError, KeyError, ValueError):
    pass
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bwrap", pytest.param("uid", marks=pytest.mark.xfail(
    strict=True, reason="a separate user has no network namespace of its own: a kernel can "
    "reach the network, and servers on this machine (docs/teachers.md says so)"))])
def test_a_kernel_reaches_no_network(mode, grader, tmp_path):
    python, refused = grader
    if refused[mode]:
        pytest.skip(f"--isolation {mode} is not available here: {refused[mode]}")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(60)
    reached = []
    threading.Thread(target=lambda: reached.append(server.accept()), daemon=True).start()
    work = throwaway.folder("nc-net-")
    try:
        course, outside = work / "course", work / "out"
        outside.mkdir(mode=0o755)
        throwaway.course(course)
        path = outside.parent / "net.ipynb"
        path.write_bytes(corpus._dump(corpus._append(corpus.solution_notebook(), NETWORK)))
        p = subprocess.run(throwaway.grade(python, [path], mode, "--format", "json",
                                           "--pass-env", "NORMCOURSE_CORPUS_PORT"),
                           cwd=course, env=throwaway.env(course, outside, NORMCOURSE_CORPUS_PORT=str(
                               server.getsockname()[1])), capture_output=True, text=True,
                           timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
        assert json.loads(p.stdout)["submissions"][0]["score"] == corpus.MAX
        assert reached == []
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a segment as another user needs root")
def test_a_separate_users_shared_memory_is_removed_when_its_id_is_reclaimed():
    """Found by attack: System V shared memory, detached in a cell, outlived the run as a
    separate user (no IPC namespace of its own)."""
    import ctypes

    from normcourse.grading.uids import remove_shared_memory

    uid = 61999  # above the grader's range of leased ids: nobody else's

    def owned() -> list:
        with open("/proc/sysvipc/shm", encoding="ascii") as f:
            return [r.split()[1] for r in f.readlines()[1:] if r.split()[7] == str(uid)]

    pid = os.fork()
    if pid == 0:  # the child becomes the user and leaves a segment behind
        try:
            os.setgid(uid)
            os.setuid(uid)
            ctypes.CDLL(None).shmget(0, 1 << 20, 0o1600)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert len(owned()) == 1
    remove_shared_memory(uid)
    assert owned() == []


# S3 (issue 21): the grader's in-kernel code file and debugpy kept out at the start

TAMPER_CODE_FILE = r'''
import ctypes, glob, os, helpers
folder = os.path.join(os.path.dirname(helpers.__file__), "answers")
code = os.path.join(folder, "_normcourse_grader.bin")
libc, done = ctypes.CDLL(None, use_errno=True), []
for name, act in [("write", lambda: open(code, "wb").write(b"x")),
                  ("unlink", lambda: os.unlink(code)),
                  ("rename", lambda: os.rename(folder, folder + ".x")),
                  ("chmod", lambda: os.chmod(code, 0o666)),
                  ("umount", lambda: libc.umount2(folder.encode(), 2) == 0 or 1 / 0),
                  ("mount", lambda: libc.mount(b"none", folder.encode(), b"tmpfs", 0, None) == 0
                   or 1 / 0)] + [
        ("other " + p, lambda p=p: open(p, "wb").write(b"x"))
        for p in glob.glob("/tmp/ncgrade-*/standins/_normcourse_grader.bin")]:
    try:
        act()
        done.append(name)
    except Exception:
        pass
print("DONE", done)
'''


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bwrap", pytest.param("uid", marks=pytest.mark.skipif(
    os.geteuid() != 0, reason="a separate user needs root"))])
def test_a_kernel_cannot_change_the_grader_code_file_of_itself_or_another(mode):
    from normcourse.grading.kernel import GradingKernel

    try:
        modes.choose(mode)
    except isolation.UnavailableError as exc:
        pytest.skip(str(exc))
    kernels = [GradingKernel(mode=mode), GradingKernel(mode=mode)]
    try:
        for k in kernels:
            k.start()
        before = [(k.folders.standins / "_normcourse_grader.bin").read_bytes() for k in kernels]
        r = kernels[0].run(TAMPER_CODE_FILE, 60, capture=True)
        assert "DONE []" in r.stdout, r.stdout
        after = [(k.folders.standins / "_normcourse_grader.bin").read_bytes() for k in kernels]
        assert after == before
    finally:
        for k in kernels:
            k.close()


@pytest.mark.slow
def test_a_learner_can_import_debugpy_though_the_kernel_starts_without_it():
    from normcourse.grading.kernel import GradingKernel

    k = GradingKernel(mode="auto")
    try:
        k.start()
        r = k.run("import sys\nprint('AT START', 'debugpy' in sys.modules)\n"
                  "import ipykernel.debugger\nprint('OFFERED', ipykernel.debugger."
                  "_is_debugpy_available)\nimport debugpy\nprint('IMPORTED')", 60, capture=True)
        assert r.status == "ok", (r.ename, r.evalue)
        assert "AT START False" in r.stdout and "OFFERED False" in r.stdout
        assert "IMPORTED" in r.stdout
    finally:
        k.close()
