"""``normcourse autograder gradescope LESSON --out autograder.zip``: the zip Gradescope takes.

Like otter-grader's, the zip holds packaged templates with the grader's options baked in
(``normcourse/templates/gradescope``) and what they install:

- ``setup.sh``: installs Python, bubblewrap (the container may still refuse it its
  namespaces) and the course, from
- ``normalization_course-*.whl``: a wheel built from the course's checkout: the packages
  ``helpers`` and ``normcourse`` only (no notebook, never ``solutions/``);
- ``run_autograder``: grades one notebook of LESSON per submission
  (:mod:`normcourse.grading.gradescope`), with ``--require-sandbox``.
"""

from __future__ import annotations

import importlib.util
import io
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import normcourse
from normcourse.files import write_atomic

TEMPLATES = Path(__file__).parent / "templates" / "gradescope"
#: what the wheel is built from: the packages and what pyproject.toml names
SOURCES = ("pyproject.toml", "README.md", "helpers", "normcourse")


class AutograderError(RuntimeError):
    """The zip cannot be built; the message says why."""


def checkout(root: Path | None = None) -> Path:
    """The course's checkout (default: the one this normcourse was installed from)."""
    root = Path(root) if root else Path(normcourse.__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file() or not (root / "helpers").is_dir():
        raise AutograderError(f"{root} is not a checkout of the course (no pyproject.toml and "
                              "helpers/): give --root, or --wheel with a built wheel")
    return root


def build_wheel(root: Path, folder: Path) -> Path:
    """A wheel of the course built from a copy of its packages (nothing else of ``root``)."""
    src = folder / "src"
    for name in SOURCES:
        path = root / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "*.egg-info", "*.ipynb", ".ipynb_checkpoints"))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    # built here, offline, when setuptools is installed; else pip fetches it
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation,
                        "-w", str(folder / "dist"), str(src)], capture_output=True, text=True)
    wheels = sorted((folder / "dist").glob("normalization_course-*.whl"))
    if p.returncode or not wheels:
        raise AutograderError(f"could not build the course's wheel: {p.stderr.strip()[-500:]}")
    return wheels[0]


def _render(name: str, values: dict) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def zip_bytes(lesson: str, wheel: Path, options: list[str]) -> bytes:
    """The autograder zip: setup.sh, run_autograder, the wheel (executables marked so)."""
    values = {"lesson": shlex.quote(lesson), "wheel": wheel.name,
              "options": shlex.join(options)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in (("setup.sh", _render("setup.sh", values), 0o755),
                                 ("run_autograder", _render("run_autograder", values), 0o755),
                                 (wheel.name, wheel.read_bytes(), 0o644)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def grade_options(args) -> list[str]:
    """The ``normcourse grade`` options the zip bakes in."""
    options = ["--timeout", f"{args.timeout:g}", "--cell-timeout", f"{args.cell_timeout:g}",
               "--memory", str(args.memory), "--disk", str(args.disk),
               "--max-output", f"{args.max_output:g}"]
    for ex in args.exercise or []:
        options += ["--exercise", ex]
    return options


def main(args) -> int:
    from helpers.exercises import LESSONS, lesson_exercises

    if args.lesson not in LESSONS:
        print(f"error: unknown lesson {args.lesson!r} (known: {', '.join(LESSONS)})",
              file=sys.stderr)
        return 2
    ids = [ex.id for ex in lesson_exercises(args.lesson)]
    foreign = [e for e in args.exercise or [] if e not in ids]
    if foreign:
        print(f"error: --exercise {', '.join(foreign)}: not an exercise of {args.lesson}",
              file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="normcourse-zip-") as tmp:
            wheel = Path(args.wheel) if args.wheel else build_wheel(checkout(args.root),
                                                                     Path(tmp))
            if not wheel.is_file():
                raise AutograderError(f"no such wheel: {wheel}")
            write_atomic(args.out, zip_bytes(args.lesson, wheel, grade_options(args)))
    except (AutograderError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: Gradescope autograder for {args.lesson} ({wheel.name}); upload it as "
          "the assignment's autograder zip", file=sys.stderr)
    return 0
