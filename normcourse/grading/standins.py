"""Stand-ins for ``helpers/answers`` inside the grader's sandbox, and how the grader reads them.

:func:`write` makes a folder that the sandbox mounts over ``helpers/answers``:
every function of the lesson modules (``l01.py`` ...) is replaced by one that
raises :data:`EXCEPTION` naming the function, and the other files (the package
docstring, ``fallback.py``) are copied as they are. Whatever route a submission
takes to the course's version -- an import, ``importlib`` with a name built
from pieces, a variable saved in an earlier cell, a layer class of
``helpers.core`` built on it, ``inspect.getsource`` + ``exec`` -- it reaches a
stand-in, which computes nothing.

So the decision cannot be forged from the kernel: the course's results are not
in the sandbox at all, and a function that calls a stand-in cannot get them.
:func:`course_function_used` reads the stand-in's mark in the outcomes the
grader got back, only to say *why* the exercise scores 0.
"""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import helpers.answers
from normcourse.grading import probe

EXCEPTION = "CourseAnswerUsed"
#: without a sandbox, the kernel's launcher points ``helpers.answers`` at the stand-ins
#: folder named here (a best effort: the real files stay readable on disk)
PATH_VAR = "NORMCOURSE_STANDINS"
REASON = "uses the course's own implementation of `{name}`; write your own"  # also in the stand-ins
_LESSON_MODULE = re.compile(r"l\d\d\.py")
_MARK = re.compile(EXCEPTION + r": uses the course's own implementation of `(\w+)`")

_HEADER = '''"""Stand-in for the course's {module} while a submission is graded (normcourse grade).

The course's own version of these functions is not available to a graded
notebook: each exercise must be the learner's own work.
"""


class {exc}(BaseException):
    """Raised by a stand-in: the learner's code called the course's own function."""


def _used(name):
    """Tell the grader (one line on the kernel's own stdout, even if caught), then raise."""
    import sys

    try:
        stream = sys.modules["ipykernel.iostream"].OutStream._nc_stdout
        stream.set_parent(sys.modules["IPython"].get_ipython().parent_header)
        write = getattr(type(stream), "_nc_write_unlimited", type(stream).write)
        write(stream, "\\n<<normcourse-course-used-{mark}:" + name + ">>\\n")
        stream.flush()
    except Exception:
        pass
    raise {exc}("uses the course's own implementation of `" + name + "`; write your own")


'''
_FUNCTION = '''def {name}(*args, **kwargs):
    __import__("helpers.answers.{mod}", fromlist=["_used"])._used("{name}")


'''


_EXERCISES_TAIL = '''def __getattr__(name):
    """Every exercise spec, judge and reference of the course is hidden while grading."""
    if name.startswith("__") or (name.startswith("_") and name.endswith("_")):
        raise AttributeError(name)  # IPython's and Python's own probes (_repr_html_ ...)
    _used(name)
'''
_CHECK = '''def check(exercise_id, fn, *, seed=0):
    """While a submission is graded, the grader checks each exercise itself: nothing here."""
    return None


def reveal(exercise_id, fn, happened="", answer=""):
    """While a submission is graded, no prediction is shown: nothing here."""
    return None


'''


def answers_folder() -> Path:
    return Path(helpers.answers.__file__).resolve().parent


def _stub_module(path: Path, mark: str) -> str:
    """The stand-in source of one lesson module: its top-level functions, raising."""
    import importlib

    mod = path.stem
    module = importlib.import_module(f"helpers.answers.{mod}")
    names = [n for n, f in vars(module).items()
             if inspect.isfunction(f) and f.__module__ == module.__name__]
    text = _HEADER.format(module=f"helpers.answers.{mod}", exc=EXCEPTION, mark=mark)
    for name in names:
        text += _FUNCTION.format(name=name, mod=mod)
    return text.rstrip() + "\n"


def write(folder: Path, mark: str) -> Path:
    """Write the stand-in package into ``folder`` (created); returns it.

    ``mark`` (letters and digits) goes into the line each stand-in writes when called.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(answers_folder().glob("*.py")):
        if _LESSON_MODULE.fullmatch(path.name):
            (folder / path.name).write_text(_stub_module(path, mark), encoding="utf-8")
        else:
            shutil.copyfile(path, folder / path.name)
    probe.write_code(folder)  # the grader's in-kernel code, read-only to the kernel too
    return folder


def exercises_folder() -> Path:
    return answers_folder().parent / "exercises"


def write_exercises(folder: Path, mark: str) -> Path:
    """Write the stand-in of ``helpers/exercises`` into ``folder`` (created); returns it.

    Its judges and references (finite differences, closed forms, multiple-choice digests)
    would give a submission the answers: in the sandbox each module only has a
    ``__getattr__`` that reports and raises like a stand-in of ``helpers.answers``, and
    the package keeps ``check`` and ``reveal`` (the notebooks' check and reveal cells), which
    do nothing there.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(exercises_folder().glob("*.py")):
        module = f"helpers.exercises.{path.stem}".removesuffix(".__init__")
        text = _HEADER.format(module=module, exc=EXCEPTION, mark=mark)
        text += (_CHECK if path.name == "__init__.py" else "") + _EXERCISES_TAIL
        (folder / path.name).write_text(text, encoding="utf-8")
    return folder


def course_function_used(outcomes, stdout: str = "", mark: str = "") -> str:
    """The course function a stand-in reported ("" when none).

    A stand-in raises (the outcome says so) and writes a marked line on the kernel's own
    stdout, which the grader sees even when the learner's code caught the exception.
    """
    if mark:
        m = re.search(rf"<<normcourse-course-used-{re.escape(mark)}:(\w+)>>", stdout)
        if m:
            return m.group(1)
    for out in outcomes:
        m = _MARK.search(getattr(out, "error", "") or "") if out.status == "raised" else None
        if m:
            return m.group(1)
    return ""
