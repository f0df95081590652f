"""Each submission's kernel in its own bubblewrap sandbox (Linux), or a loud warning.

:func:`command` wraps the kernel's command line in ``bwrap`` (Debian package
``bubblewrap``), a well-kept tool that Flatpak uses for the same job. Inside:

- only what Python needs is visible, read-only: the system folders (/usr, /etc,
  ...), Python's installation and its site-packages, and the course's two
  packages ``helpers`` and ``normcourse``. The teacher's checkout (with
  ``solutions/``), their home folder, the other submissions and the other
  kernels' folders are simply not there;
- ``helpers/answers`` (the course's own version of every graded function) is
  replaced by stand-ins (:mod:`normcourse.grading.standins`);
- the kernel's own folder (with $HOME inside) is the only writable folder of the
  machine, removed afterwards; /tmp is the sandbox's own, in memory (256 MB at
  most), gone when the sandbox ends;
- its own PID, network, IPC and UTS namespaces: it sees no other process and
  has no network; every process it starts dies when the kernel, bwrap or the
  grader dies (``--die-with-parent``; the namespace's first process is bwrap's
  own reaper).

:func:`unavailable` says why there is no sandbox (not Linux, bwrap missing or
not allowed to make namespaces); the grader then still grades but says loudly
that the submissions were not isolated (:func:`warning`).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import helpers
import normcourse

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
            f"files and other students' grades. To grade safely, {INSTALL}.")


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


def _matplotlib_cache() -> list[Path]:
    """matplotlib's font lists of the grader's user (rebuilding them costs seconds)."""
    base = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib")
    return sorted(Path(base).glob("fontlist-*.json"))


def _binds(flag: str, paths) -> list[str]:
    out = []
    for p in paths:
        out += [flag, str(p), str(p)]
    return out


def command(argv: list[str], *, root: Path, workdir: Path, standins: Path,
            exercises: Path | None = None) -> list[str]:
    """``argv`` run by bwrap with ``root`` (the kernel's folder) as the only writable place.

    ``standins`` is mounted over ``helpers/answers`` and ``exercises`` (the stand-in of the
    exercises' judges and references) over ``helpers/exercises``; the caller sets HOME and
    TMPDIR to folders inside ``root`` (see :func:`environment`).
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
        standin_binds += ["--ro-bind", str(standins), str(answers)]
        if exercises is not None and (answers.parent / "exercises").is_dir():
            standin_binds += ["--ro-bind", str(exercises), str(answers.parent / "exercises")]
    # /tmp first, a private size-limited tmpfs: what is bound later may lie below it (a
    # course or a virtual environment under /tmp/...), and its mount points then live in
    # this sandbox's own /tmp, never in a folder of the grader's
    return [shutil.which("bwrap") or "bwrap", *NAMESPACES, *system,
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
            *_binds("--ro-bind", python_dirs()), *_binds("--ro-bind", course_packages()),
            *standin_binds,
            "--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--proc", "/proc",
            "--bind", str(root), str(root),
            "--remount-ro", "/", "--chdir", str(workdir), "--", *argv]


def environment(root: Path) -> dict:
    """HOME and TMPDIR inside the kernel's folder (created here, with a copy of matplotlib's
    font lists: a cache shared by all kernels would let one submission spoil the others)."""
    (root / "home").mkdir(exist_ok=True)
    cache = root / "home" / ".cache" / "matplotlib"
    for path in _matplotlib_cache():
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, cache / path.name)
    return {"HOME": str(root / "home"), "TMPDIR": "/tmp", "MPLCONFIGDIR": str(cache)}


def innermost(pid: int) -> int:
    """The last process of the chain ``pid`` -> its only child -> ... (bwrap -> its reaper
    -> the kernel); called before the kernel ran any learner code."""
    import psutil

    try:
        p = psutil.Process(pid)
        while len(kids := p.children()) == 1:
            p = kids[0]
        return p.pid
    except psutil.Error:
        return pid
