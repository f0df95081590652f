"""Each kernel as a separate unprivileged user, where bwrap cannot run (``--isolation uid``).

For a grader that runs as root where bubblewrap may not make namespaces (Docker,
Gradescope), as ioi/isolate does it: each ``--jobs`` slot has its own user id,
leased so that two grader processes on one machine never share one, and every
process of that user is killed before the user goes to the next kernel
(:mod:`normcourse.grading.uids`).

What the kernel's user can read: whatever is readable by other users on this
machine. So before grading, :func:`protect` removes other users' access
(``chmod o-rwx``) from the course's answers (``helpers/answers``, the judges and
references of ``helpers/exercises``, with their ``__pycache__``), from
everything in a course checkout but ``helpers``, ``normcourse``, ``lessons`` and
the virtual environment (``solutions/``, ``.git``, the test corpus...), and from
the submissions; the grader says what it changed. The kernel imports stand-ins in
place of the answers (:mod:`normcourse.grading.launch`). Its folder is its own
(mode 0700), the rest of the kernel's folder is root's; its socket folder is handed
back to root once the kernel answered. What this mode does not give: a network
namespace, a private ``/tmp`` (what the user leaves at the top of
:data:`normcourse.grading.uids.SHARED` counts toward its disk limit and is removed
afterwards), and protection of files
elsewhere on the machine that other users may read.
"""

from __future__ import annotations

import functools
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from normcourse.grading import isolation, sandbox, uids
from normcourse.grading.uids import POOL, processes_of, reclaim, usage_elsewhere_mb

NPROC = 512  # processes and threads of one kernel's user
NPROC_VAR = "NORMCOURSE_NPROC"  # read by launch.py
KEEP = ("helpers", "normcourse", "lessons")  # what a checkout keeps readable to others
SELF_TEST = """import os, sys
import ipykernel, numpy, helpers.checking.calling, normcourse.grading.launch
print("\\n".join(p for p in sys.argv[1:] if os.access(p, os.R_OK) or os.access(p, os.X_OK)))
"""


def _checkouts() -> list[Path]:
    """Course folders in use: the checkout of the course packages, the current folder,
    the folder holding the virtual environment -- those holding solutions/ or answers."""
    places = {p.parent for p in sandbox.course_packages()}
    places |= {Path.cwd().resolve(), Path(sys.prefix).resolve().parent}
    return sorted(p for p in places if (p / "solutions").is_dir() or
                  (p / "helpers" / "answers").is_dir())


def private_paths() -> list[Path]:
    """What a kernel's user must not read (see the module's docstring)."""
    python = [Path(p).resolve() for p in (sys.prefix, sys.executable, tempfile.gettempdir(),
                                          *sandbox.python_dirs())]
    found = set()
    for answers in sandbox.answer_folders():
        found |= {answers, answers.parent / "exercises"}
    for checkout in _checkouts():
        found |= {checkout / "helpers" / "answers", checkout / "helpers" / "exercises"}
        for entry in checkout.iterdir():
            if entry.name not in KEEP and not any(entry == p or entry in p.parents
                                                  for p in python):
                found.add(entry)
    return sorted(p for p in found if p.exists() and not p.is_symlink())


def _close_to_others(paths) -> list[str]:
    changed = []
    for p in paths:
        mode = os.stat(p).st_mode
        if mode & 0o007:
            os.chmod(p, stat.S_IMODE(mode) & ~0o007)
            changed.append(str(p))
    return changed


def _say(changed: list[str]) -> None:
    if changed:
        shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8
                                          else "")
        print(f"separate-user isolation: other users can no longer read {shown} "
              "(chmod o-rwx; `chmod o+rX` gives it back)", file=sys.stderr)


@functools.lru_cache(maxsize=1)
def unavailable() -> str:
    """Why kernels cannot run as separate users here ("" when they can): the grader must be
    root, and a user of the pool must run the kernel's Python but read no answer."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the grader does not run as root (needed to run kernels as other users)"
    closed = [str(p) for p in (Path(tempfile.gettempdir()).resolve(),
                               *Path(tempfile.gettempdir()).resolve().parents)
              if not os.stat(p).st_mode & 0o001]
    if closed:
        return (f"other users cannot pass through {closed[0]}, where the kernels' folders are "
                "made: set TMPDIR to a folder they can reach, e.g. /tmp")
    try:
        uid = POOL.lease()
    except (OSError, isolation.UnavailableError) as exc:
        return f"no user id for the kernels ({exc})"
    try:
        private = private_paths()
        _say(_close_to_others(private))
        p = subprocess.run([sys.executable, *isolation.SAFE_PATH, "-c", SELF_TEST,
                            *map(str, private)],
                           env={**isolation.passed_environment(), "HOME": "/nonexistent"},
                           cwd="/", capture_output=True, text=True, timeout=120, **uids.run_as(uid))
        why = "" if p.returncode == 0 else (p.stderr.strip().splitlines() or ["?"])[-1]
    except PermissionError as exc:
        why = str(exc)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"its self-test could not run ({exc})"
    finally:
        reclaim(uid)
        POOL.release(uid)
    if why:
        return (f"a separate user cannot run the kernel's Python {sys.executable} ({why}); "
                "every folder on its path and the course must be passable and readable by "
                "other users (a Python under /root, as pyenv installs it: `chmod o+x /root`)")
    if p.stdout.strip():
        return f"these stay readable to other users: {p.stdout.split()}"
    return ""


class UidBox(isolation.Box):
    """One kernel run as the user of its ``--jobs`` slot."""

    root_mode = 0o711  # the kernel's user may pass through, not list

    def __init__(self, mode):
        super().__init__(mode)
        self.uid = POOL.lease()

    def setup(self, f):
        for folder in (f.standins, f.exercises):
            folder.chmod(0o755)
            for p in folder.iterdir():  # written by the grader just now
                p.chmod(0o644)

    def prepare(self, f):
        super().prepare(f)
        for p in f.made():
            os.chown(p, self.uid, self.uid, follow_symlinks=False)
        for p in f.run.iterdir():  # the connection file, written by the grader just now
            os.chown(p, self.uid, self.uid, follow_symlinks=False)

    def environment(self, f):
        name = f"normcourse-{self.uid}"
        return {**super().environment(f), "USER": name, "LOGNAME": name,
                NPROC_VAR: str(NPROC)}

    def popen_args(self):
        return uids.run_as(self.uid)

    def started(self, proc, f):
        os.chown(f.run, 0, 0, follow_symlinks=False)  # its sockets can no longer be swapped
        return proc.pid

    def kill(self):  # and what it left in the shared folders: a restart starts clean
        reclaim(self.uid)

    def processes(self, kernel):
        return [p for p in processes_of(self.uid) if p.pid != kernel.pid]

    def written_elsewhere_mb(self, max_entries):
        return usage_elsewhere_mb(self.uid, max_entries)

    def close(self):
        reclaim(self.uid)
        POOL.release(self.uid)


class Uid(isolation.Mode):
    name, isolated, box = "uid", True, UidBox

    def protect(self, paths):
        _say(_close_to_others(Path(p) for p in paths if Path(p).is_file()))
