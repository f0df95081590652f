"""A throw-away course, Python and temporary folder for grading batches in each isolation mode.

The grader runs in a subprocess on a copy of the course's packages and solutions
(``PYTHONPATH``), started from a throw-away virtual environment whose
site-packages is a ``.pth`` line pointing at the test's own (without the
editable install's finder, so ``helpers`` is the copy's). So a batch that
attacks the course, or the separate-user mode's ``chmod o-rwx`` of the course's
private files, touches the copy only, never the checkout the tests run from.
Everything is made under /tmp, readable and passable by other users, as a
separate user needs to reach Python and the course.

    python = throwaway.python(folder)     # once per module
    course = throwaway.course(folder)
    cmd = throwaway.grade(python, paths, "uid", "--jobs", "2")
    subprocess.run(cmd, cwd=course, env=throwaway.env(course, outside))
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys; from normcourse.cli import main; sys.exit(main())"
#: the variables the corpus's sabotage cells read (a kernel gets them through --pass-env)
CORPUS_VARS = ("NORMCOURSE_CORPUS_COPY", "NORMCOURSE_CORPUS_OUTSIDE", "NORMCOURSE_CORPUS_VICTIM")


def folder(prefix: str) -> Path:
    """A new folder under /tmp that other users may list and pass through (like /tmp)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def python(where: Path) -> str:
    """A virtual environment in ``where`` that imports the test's packages; its python."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "test-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return str(venv / "bin" / "python")


def course(where: Path) -> Path:
    """A copy of the course's packages and solutions, imported instead of the checkout."""
    for name in ("helpers", "normcourse", "solutions"):
        shutil.copytree(ROOT / name, where / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return where


def digest(folder: Path) -> str:
    """One hash of every file under ``folder`` (names and bytes): a changed copy shows."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def env(course: Path, outside: Path, **extra) -> dict:
    """The grader's environment: the copy first on the import path, ``outside`` as its
    temporary folder (where the kernels' folders are made)."""
    return {**os.environ, "PYTHONPATH": str(course), "PWD": str(course), "TMPDIR": str(outside),
            "NORMCOURSE_CORPUS_COPY": str(course), "NORMCOURSE_CORPUS_OUTSIDE": str(outside),
            "OPENBLAS_NUM_THREADS": "1", **extra}


def pass_env() -> list[str]:
    return [a for name in CORPUS_VARS for a in ("--pass-env", name)]


def grade(python: str, paths, mode: str, *args) -> list[str]:
    """The command line grading ``paths`` with ``--isolation mode``."""
    return [python, "-c", MAIN, "grade", *map(str, paths), "--isolation", mode, *pass_env(),
            *args]


def uid_refused(python: str, course: Path, outside: Path) -> str:
    """Why the separate-user mode cannot run here with this Python and course ("" if it can)."""
    p = subprocess.run([python, "-c", "from normcourse.grading import uidbox; "
                        "print(uidbox.unavailable())"], cwd=course, env=env(course, outside),
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return f"its probe failed: {p.stderr.strip()[-300:]}"
    return p.stdout.strip()
