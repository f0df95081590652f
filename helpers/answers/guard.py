"""Notice when a learner's function gets its result from the course's own version.

    with watching() as used:
        outcome = run_case(fn, case)
    if used: ...  # used[0] names the course function it called

While the ``with`` block runs, a profile hook (``sys.setprofile``, this thread
only) looks at every Python function entered. A function of this package
(``helpers.answers.lNN``) counts, however it was reached: imported, found with
``importlib``, kept in a variable, called by a layer of ``helpers.core`` -- and
so does a copy made with ``inspect.getsource`` + ``exec`` (same names,
variables and constants, docstring included). The learner's check (:func:`helpers.exercises.check`) uses
it to give the verdict the grader gives (there, the sandbox holds stand-ins).

Layer: standard library only; imports nothing else from ``helpers``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

REASON = "uses the course's own implementation of `{name}`; write your own"
_LESSON_MODULE = re.compile(r"l\d\d")


def _signature(code) -> tuple:
    """What a copy compiled from the same source shares with the original: names, variables
    and constants, docstring included (so a learner who types the same one-line formula is
    not taken for a copy). Not the bytecode: it depends on where the source is compiled."""
    return code.co_name, code.co_names, code.co_varnames, code.co_consts


@functools.lru_cache(maxsize=1)
def _course_codes() -> dict:
    """Signature of every public function of helpers.answers.lNN -> its name.

    Private helpers (``_as_2d``) are left out: ``helpers.core`` has functions just like them,
    and a course function that uses one is entered first anyway.
    """
    found = {}
    folder = Path(__file__).parent
    for info in pkgutil.iter_modules([str(folder)]):
        if not _LESSON_MODULE.fullmatch(info.name):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ \
                    and not name.startswith("_"):
                found.setdefault(_signature(fn.__code__), name)
    return found


@contextlib.contextmanager
def watching():
    """A list that receives the name of each course function entered in the block."""
    codes, used, seen = _course_codes(), [], {}

    def hook(frame, event, arg):
        if event == "call":
            code = frame.f_code
            name = seen.get(code)
            if name is None:
                name = seen[code] = codes.get(_signature(code), "")
            if name and name not in used:
                used.append(name)

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield used
    finally:
        sys.setprofile(previous)
