"""The ``bwrap`` isolation: each submission's kernel in its own bubblewrap sandbox (Linux).

:func:`command` wraps the kernel's command line in ``bwrap`` (Debian package
``bubblewrap``), a well-kept tool that Flatpak uses for the same job. Inside:

- only what Python needs is visible, read-only: the system folders (/usr, /etc,
  ...), Python's installation and its site-packages, and the course's two
  packages ``helpers`` and ``normcourse``. The teacher's checkout (with
  ``solutions/``), their home folder, the other submissions and the other
  kernels' folders are simply not there;
- ``helpers/answers`` (the course's own version of every graded function) is
  replaced by stand-ins (:mod:`normcourse.grading.standins`);
- the kernel's box (its working folder and $HOME) and, for its sockets, a folder
  with a new random name at each start are the only writable folders of the machine,
  removed afterwards; the grader's own files (log, connection file, stand-ins) are
  not writable there (:class:`normcourse.grading.isolation.Folders`); /tmp is the
  sandbox's own, in memory (256 MB at most), gone when the sandbox ends;
- its own PID, network, IPC and UTS namespaces: it sees no other process and
  has no network; every process it starts dies when the kernel, bwrap or the
  grader dies (``--die-with-parent``; the namespace's first process is bwrap's
  own reaper).

:func:`unavailable` says why there is no sandbox (not Linux, bwrap missing or
not allowed to make namespaces); the grader then runs each kernel as a separate
user when it is root (:mod:`normcourse.grading.uidbox`), or grades unisolated and
says so loudly (:func:`warning`).
"""

from __future__ import annotations

import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import psutil

import helpers
import normcourse
from normcourse.grading import isolation, safefs, zygote

INSTALL = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`, Fedora: "
           "`sudo dnf install bubblewrap`, Arch: `sudo pacman -S bubblewrap`); on macOS or "
           "Windows, grade inside a Linux container or virtual machine")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
#: --cap-drop ALL: when the grader runs as root, bwrap would otherwise leave the kernel
#: every capability (it could unmount the stand-ins or remount the course writable)
NAMESPACES = ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
              "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL")
SHM_BYTES = 16 * 2**20  # /dev/shm is memory: keep it small
TMP_BYTES = 256 * 2**20  # the kernel's own /tmp, in memory and gone with the sandbox
#: the zygote's environment besides the teacher's allowlist (read while NumPy imports)
ZYGOTE_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "MPLBACKEND": "Agg"}
#: variables Python, NumPy or the C library read when the program starts: a forked kernel
#: keeps the zygote's values (e.g. --pass-env PYTHONHASHSEED=0 was ignored), so the zygote
#: gets the kernel's, and a kernel whose values differ from its zygote's starts afresh
AT_START = ("PYTHON", "LD_", "LC_", "LANG", "TZ", "OPENBLAS", "OMP_", "MKL_", "NPY_", "NUMPY_")
#: normcourse.grading.kernel.TOKEN_VAR: a forked kernel's /proc/PID/environ is its zygote's
#: (no token), so bwrap and the holder carry it: killing the sandbox's pid 1 ends the kernel
TOKEN_VAR = "NORMCOURSE_GRADE_TOKEN"
OFF_VAR = "NORMCOURSE_NO_SANDBOX"  # set: grade without the sandbox (to compare; with a warning)


@functools.lru_cache(maxsize=1)
def unavailable() -> str:
    """Why no submission can be sandboxed here ("" when bwrap works)."""
    if os.environ.get(OFF_VAR):
        return f"the sandbox was switched off ({OFF_VAR} is set)"
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (this is {sys.platform})"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (`bwrap`) is not installed"
    try:
        p = subprocess.run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                            *NAMESPACES, "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not be run ({exc})"
    if p.returncode != 0:
        return f"bubblewrap cannot make a sandbox here ({p.stderr.strip()[:200]})"
    return ""


def warning(reason: str) -> str:
    """The loud message of a run without sandbox."""
    return (f"SUBMISSIONS WERE NOT ISOLATED: {reason}. Each notebook ran with your user's "
            "rights: it could read the course's answers and solutions, change the course's "
            f"files and other students' grades. To grade safely, {INSTALL}; or, where bwrap "
            "is refused (a container), run the grader as root: each kernel then runs as a "
            "separate user (--isolation uid).")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def course_packages() -> list[Path]:
    return [Path(helpers.__file__).resolve().parent, Path(normcourse.__file__).resolve().parent]


def python_dirs() -> list[Path]:
    """Python's installation and import path, without folders that hold the course's source.

    The installation (``sys.prefix`` ...) is always kept, even inside a checkout
    (a ``.venv`` folder); other import-path folders are kept unless they are, hold or
    lie inside the checkout the course is installed from or the current folder, or hold
    the temporary folder (where the other submissions' folders are). One that lies
    inside the temporary folder (a checkout cloned to /tmp) is kept: it is bound alone,
    read-only, below the sandbox's own /tmp.
    """
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    prefixes.add(Path(sys.executable).resolve().parent)
    others = {Path(p) for p in sysconfig.get_paths().values()}
    others |= {Path(p) for p in sys.path if p}
    private = {p.parent for p in course_packages()} | {Path.cwd().resolve()}
    tmp = Path(tempfile.gettempdir()).resolve()
    keep = set(prefixes)
    for d in others:
        d = d.resolve()
        if not d.is_dir() or any(_inside(d, pre) for pre in prefixes):
            continue
        if _inside(tmp, d):  # e.g. "/": it would show every submission's folder
            continue
        if not any(_inside(d, c) or _inside(c, d) for c in private):
            keep.add(d)
    keep = {d for d in keep if d.is_dir()}
    return sorted(d for d in keep if not any(o != d and _inside(d, o) for o in keep))


def answer_folders() -> list[Path]:
    """``helpers/answers`` of the course in use, and of any other copy installed in a
    visible Python (e.g. the base Python of a virtual environment)."""
    found = {Path(helpers.__file__).resolve().parent / "answers"}
    for d in python_dirs():
        for pattern in ("helpers/answers", "lib/python3*/*-packages/helpers/answers",
                        "lib/*-packages/helpers/answers"):
            found |= {p.resolve() for p in d.glob(pattern) if (p / "__init__.py").exists()}
    return sorted(found)


def _binds(flag: str, paths) -> list[str]:
    out = []
    for p in paths:
        out += [flag, str(p), str(p)]
    return out


def command(argv: list[str], f: isolation.Folders) -> list[str]:
    """``argv`` run by bwrap with the kernel's box and its socket folder (``f.box``,
    ``f.run``) as the only writable places; the grader's other files are not there.

    ``f.standins`` is mounted over ``helpers/answers`` and ``f.exercises`` (the stand-in of
    the exercises' judges and references) over ``helpers/exercises``; the font lists of
    the grader's user are mounted read-only in the kernel's matplotlib folder.
    """
    system = []
    for d in SYSTEM_DIRS:
        p = Path(d)
        if p.is_symlink():
            system += ["--symlink", os.readlink(p), d]
        elif p.is_dir():
            system += ["--ro-bind", d, d]
    standin_binds = []
    for answers in answer_folders():
        standin_binds += ["--ro-bind", str(f.standins), str(answers)]
        if (answers.parent / "exercises").is_dir():
            standin_binds += ["--ro-bind", str(f.exercises), str(answers.parent / "exercises")]
    fonts = []
    for name, (source, _) in isolation.font_lists().items():
        fonts += ["--ro-bind", str(source), str(f.mpl / name)]
    # /tmp first, a private size-limited tmpfs: what is bound later may lie below it (a
    # course or a virtual environment under /tmp/...), and its mount points then live in
    # this sandbox's own /tmp, never in a folder of the grader's
    return [shutil.which("bwrap") or "bwrap", *NAMESPACES, *system,
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
            *_binds("--ro-bind", python_dirs()), *_binds("--ro-bind", course_packages()),
            *standin_binds,
            "--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--proc", "/proc",
            *_binds("--bind", (f.box, f.run)), *fonts,
            "--remount-ro", "/", "--chdir", str(f.work), "--", *argv]


class BwrapBox(isolation.Box):
    """One kernel in its own sandbox: the stand-ins and font lists are bind mounts.

    The kernel is forked from the grading run's zygote into a sandbox made for it
    (:mod:`normcourse.grading.zygote`), or, where there is none, started afresh in it.
    """

    kernel_pid = 0  # of a forked kernel, as the grader sees it

    def spawn(self, argv, f, *, env, log, reply):
        self.kernel_pid = 0
        at_start = {k: v for k, v in env.items() if k.startswith(AT_START)}
        z = zygote.shared(isolation.passed_environment() | ZYGOTE_ENV | at_start)
        if z is None or {k: v for k, v in z.env.items() if k.startswith(AT_START)} != at_start:
            return super().spawn(argv, f, env=env, log=log, reply=reply)
        holder = subprocess.Popen(
            command([sys.executable, "-I", "-S", "-c", zygote.HOLDER], f), cwd=f.work,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),  # the token: the sandbox's
                 TOKEN_VAR: env.get(TOKEN_VAR, "")},  # processes, killed by it, end it all
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        try:
            if not select.select([holder.stdout], [], [], 60)[0] or holder.stdout.read(1) != b"r":
                raise zygote.ZygoteError(f"the sandbox did not start (exit {holder.poll()})")
            launch_args = argv[argv.index("normcourse.grading.launch") + 1:]
            self.kernel_pid, ns_pid = z.fork(
                holder=innermost(holder.pid), argv=launch_args, env=env, cwd=str(f.work),
                log=log, reply=reply, reply_fd=reply)
            self._kernel = psutil.Process(self.kernel_pid)
            holder.stdin.write(f"{ns_pid}\n".encode())
            holder.stdin.close()
        except (OSError, ValueError, zygote.ZygoteError, psutil.Error) as exc:
            _end(holder)
            zygote.give_up(str(exc))
            return super().spawn(argv, f, env=env, log=log, reply=reply)
        finally:
            holder.stdout.close()
        return holder

    def prepare(self, f: isolation.Folders) -> None:
        for name in isolation.font_lists():
            safefs.write_new(f.mpl, name, b"")  # where the read-only font list is mounted

    def command(self, argv, f):
        return command(argv, f)

    def standins_seen(self, f):
        return Path(helpers.__file__).resolve().parent / "answers"  # mounted there

    def environment(self, f):
        return {"TMPDIR": "/tmp"}  # the sandbox's own

    def started(self, proc, f):
        return self.kernel_pid or innermost(proc.pid)

    def processes(self, kernel):
        """Also a forked kernel and what it started: the zygote's children, not bwrap's."""
        found = kernel.children(recursive=True)
        if self.kernel_pid:
            try:
                found += [self._kernel, *self._kernel.children(recursive=True)]
            except psutil.Error:
                pass
        return found

    def kill(self):
        if self.kernel_pid:  # its sandbox's end kills it too; this does not wait for that
            try:  # psutil checks that the pid is still the kernel's (not reused)
                self._kernel.kill()
            except (psutil.Error, AttributeError):
                pass
            self.kernel_pid = 0


class Bwrap(isolation.Mode):
    name, isolated, box = "bwrap", True, BwrapBox


def _end(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()
    if proc.stdin:
        proc.stdin.close()


def innermost(pid: int) -> int:
    """The last process of the chain ``pid`` -> its only child -> ... (bwrap -> its reaper
    -> the kernel); called before the kernel ran any learner code."""
    try:
        p = psutil.Process(pid)
        while len(kids := p.children()) == 1:
            p = kids[0]
        return p.pid
    except psutil.Error:
        return pid
