"""How a submission's kernel is kept apart: one small interface, a module per mode.

    bwrap  :mod:`normcourse.grading.sandbox`  a bubblewrap sandbox (namespaces, read-only course)
    uid    :mod:`normcourse.grading.uidbox`   a separate unprivileged user per ``--jobs`` slot,
                                              where the grader runs as root and bwrap is refused
    none   here                               the grader's own user, with a loud warning

:func:`normcourse.grading.modes.choose` picks the mode once per run (``auto``: bwrap
when its probe works, else uid when the grader is root and the mode's self-test
passes, else none). A :class:`Mode` is run-wide; :meth:`Mode.kernel` gives each kernel a :class:`Box`,
which :class:`normcourse.grading.kernel.GradingKernel` asks, for each start, to
``prepare`` its folders, for the ``command``, ``environment`` and ``popen_args``
that start it, what to do once it ``started`` (its pid), which ``processes`` count
with it, how to ``kill`` all it started, what it ``written_elsewhere_mb`` and what
to ``close``.

Every mode has the same folders (:class:`Folders`) and the same environment: an
allowlist (:func:`passed_environment`) plus the grader's own variables, nothing else
of the teacher's.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
from pathlib import Path

from normcourse.grading import safefs

MODES = ("auto", "bwrap", "uid", "none")
LABELS = {"bwrap": "bubblewrap sandbox", "uid": "separate user", "none": "none"}
#: the teacher's variables a kernel gets (and LC_*); ``--pass-env NAME`` adds more
PASSED = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONIOENCODING",
          "PYTHONUTF8", "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE")
STANDINS_VAR = "NORMCOURSE_STANDINS"  # launch.py imports helpers.answers/exercises from here
#: the working folder is not on the import path (-P: Python 3.11+; -I on 3.10 also ignores
#: PYTHONPATH and the user's site-packages)
SAFE_PATH = ["-P"] if sys.version_info >= (3, 11) else ["-I"]


class UnavailableError(RuntimeError):
    """The isolation asked for cannot be had here (the message says why, and the fix)."""


def passed_environment(extra=()) -> dict:
    """The teacher's variables a kernel gets: :data:`PASSED`, ``LC_*``, and each of
    ``extra`` (``NAME`` passes the teacher's value, ``NAME=VALUE`` sets one)."""
    env = {k: v for k, v in os.environ.items() if k in PASSED or k.startswith("LC_")}
    for item in extra:
        name, eq, value = item.partition("=")
        if eq:
            env[name] = value
        elif name in os.environ:
            env[name] = os.environ[name]
    return env


class Folders:
    """One kernel's folders. ``root`` is the grader's: the log, the stand-ins and the
    connection file live there, where no kernel writes. The kernel writes only in ``box``
    (``work``, its working folder; ``home``; ``tmp``), made afresh for each start, and,
    while it starts, in ``run`` (its sockets), a new folder with a random name each start."""

    def __init__(self, root: Path):
        self.root = root
        self.log = root / "log"
        self.standins, self.exercises = root / "standins", root / "standins-exercises"
        self.box = root / "box"
        self.work, self.home, self.tmp = self.box / "work", self.box / "home", self.box / "tmp"
        self.mpl = self.home / ".cache" / "matplotlib"
        self.run: Path | None = None
        self.log.mkdir(mode=0o700)

    def new_box(self) -> None:
        safefs.remove_tree(self.box)  # what a kernel left: removed without following links
        for d in (self.box, self.work, self.home, self.tmp, self.home / ".cache", self.mpl):
            d.mkdir(mode=0o700)

    def new_run(self) -> Path:
        if self.run is not None:
            safefs.remove_tree(self.run)
        self.run = self.root / f"run-{secrets.token_hex(8)}"
        self.run.mkdir(mode=0o700)
        return self.run

    def made(self) -> list[Path]:
        """What :meth:`new_box` and :meth:`new_run` made (to hand to a kernel's user)."""
        return [self.box, self.work, self.home, self.tmp, self.home / ".cache", self.mpl,
                self.run]


@functools.lru_cache(maxsize=1)
def font_lists() -> dict:
    """matplotlib's font lists of the grader's user, read once (rebuilding them costs
    seconds in each kernel): file name -> content."""
    base = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib")
    out = {}
    for path in sorted(Path(base).glob("fontlist-*.json")):
        try:
            out[path.name] = (path, path.read_bytes())
        except OSError:
            pass
    return out


class Box:
    """One kernel under the ``none`` mode: the grader's user; the base of the others."""

    root_mode = 0o700  # of the kernel's folder

    def __init__(self, mode: Mode):
        self.mode = mode

    def setup(self, f: Folders) -> None:
        """Once per kernel, after the stand-ins were written."""

    def prepare(self, f: Folders) -> None:
        """Before each start, in a fresh box: a read-only copy of the font lists."""
        for name, (_, data) in font_lists().items():
            safefs.write_new(f.mpl, name, data)

    def command(self, argv: list, f: Folders) -> list:
        return argv

    def standins_seen(self, f: Folders) -> Path:
        """Where the kernel sees the stand-ins folder ``f.standins``."""
        return f.standins

    def environment(self, f: Folders) -> dict:
        return {"TMPDIR": str(f.tmp), STANDINS_VAR: f"{f.standins}{os.pathsep}{f.exercises}"}

    def popen_args(self) -> dict:
        return {}

    def spawn(self, argv: list, f: Folders, *, env: dict, log: int, reply: int):
        """Start the kernel ``argv`` (output to ``log``, the reply pipe's writing end
        ``reply`` kept under its number): the process the grader watches (a Popen)."""
        import subprocess

        return subprocess.Popen(
            self.command(argv, f), cwd=f.work, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(reply,),
            **self.popen_args())

    def started(self, proc, f: Folders) -> int:
        """The kernel answered (none of the submission's code ran yet): its pid."""
        return proc.pid

    def kill(self) -> None:
        """Kill what the process group and the token did not reach."""

    def processes(self, kernel) -> list:
        """The processes whose memory counts with the kernel's (``kernel``: psutil's)."""
        return kernel.children(recursive=True)

    def written_elsewhere_mb(self, max_entries: int) -> float:
        return 0.0

    def close(self) -> None:
        """After the kernel's last process died and its folder was removed."""


class Mode:
    """A way to run kernels, chosen once per run."""

    name = "none"
    isolated = False
    box = Box

    def __init__(self, reason: str = ""):
        self.reason = reason  # why no isolating mode is used ("" when one is)

    def kernel(self) -> Box:
        return self.box(self)

    def protect(self, paths) -> None:
        """Before grading: make the submissions ``paths`` unreadable to the kernels."""

    def describe(self) -> str:
        return LABELS[self.name] + (f" ({self.reason})" if self.reason else "")
