"""Notice when a learner's function is the course's own version, or gets its result from it.

    with watching() as used:
        outcome = run_case(fn, case)
    if used: ...  # used[0] names the course function it called

:func:`course_function` is the one decision: is this code object a course function
(``helpers.answers.lNN``), or a copy compiled from the same source -- same name, names,
variables and constants, docstring included, nested functions alike? Two callers use it:

- the learner's check (:func:`helpers.exercises.check`): while the ``with`` block of
  :func:`watching` runs, a profile hook (``sys.setprofile``, this thread only) asks it about
  every Python function entered, however that function was reached: imported, found with
  ``importlib``, kept in a variable, called by a layer of ``helpers.core``, copied with
  ``inspect.getsource`` + ``exec``, or pasted as text;
- ``normcourse grade``, which compiles the submission's cells outside the kernel and asks
  it about every code object they hold (:mod:`normcourse.grading.scan`), so that nothing the
  kernel does can change the answer. There the course functions are given as
  :func:`course_table` (fingerprints), computed in the grader's own process.

The same hook watches an exercise's **shortcuts** (its spec's ``shortcuts``: the course
tools of ``helpers.core`` that compute its answer, e.g. ``hessian_eigenvalues``), by the
fingerprints :func:`shortcut_of` compares, in the learner's check and, loaded whole, in
the grader's kernel (:mod:`normcourse.grading.inkernel`): only while the exercise's
function runs, so demonstration cells use them freely.

Layer: standard library only; imports nothing else from ``helpers``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import sys
import threading
import types

REASON = "uses the course's own implementation of `{name}`; write your own"
_LESSON_MODULE = re.compile(r"l\d\d")


def _canonical(value):
    """A process-independent form of a constant: nested code by its signature, sets sorted."""
    if isinstance(value, types.CodeType):
        return ("code", _signature(value))
    if isinstance(value, tuple):
        return ("tuple", tuple(_canonical(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted((_canonical(v) for v in value), key=repr)))
    return (type(value).__name__, repr(value))


def _signature(code) -> tuple:
    """What a copy compiled from the same source shares with the original: names, variables
    and constants, docstring included (so a learner who types the same one-line formula is
    not taken for a copy), nested functions alike. Not the bytecode or the line numbers:
    they depend on where and by which Python the source is compiled."""
    return (code.co_name, code.co_names, code.co_varnames,
            tuple(_canonical(c) for c in code.co_consts))


@functools.lru_cache(maxsize=8192)
def fingerprint(code) -> str:
    """The signature of a code object as a short digest, the same in every process."""
    return hashlib.sha256(repr(_signature(code)).encode("utf-8", "backslashreplace")
                          ).hexdigest()[:32]


@functools.lru_cache(maxsize=1)
def course_table() -> dict:
    """Fingerprint of every public function of helpers.answers.lNN -> its name.

    Private helpers (``_as_2d``) are left out: ``helpers.core`` has functions just like them,
    and a course function that uses one is entered first anyway.
    """
    import importlib  # here: the grader's analysis child starts faster without them
    import inspect
    import pkgutil
    from pathlib import Path

    found = {}
    folder = Path(__file__).parent
    for info in pkgutil.iter_modules([str(folder)]):
        if not _LESSON_MODULE.fullmatch(info.name):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ \
                    and not name.startswith("_"):
                found.setdefault(fingerprint(fn.__code__), name)
    return found


def course_function(code, table: dict | None = None) -> str:
    """The name of the course function that ``code`` is (or is a copy of), else ""."""
    table = course_table() if table is None else table
    if not isinstance(code, types.CodeType) or code.co_name not in table.values():
        return ""  # a copy has the course function's name: most code is ruled out here
    try:
        return table.get(fingerprint(code), "")
    except (RecursionError, ValueError, MemoryError):  # a pathological constant: not the course's
        return ""


def course_copies(code, table: dict | None = None) -> list:
    """Names of the course functions among ``code`` and every code object nested in it."""
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        name = course_function(current, table)
        if name and name not in found:
            found.append(name)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return found


def shortcut_of(code, shortcuts: dict) -> str:
    """The course function that ``code`` is (or is a copy of) among ``shortcuts``, else "":
    ``shortcuts`` maps a code object's name to {fingerprint: the name to report}, so that a
    method (``forward``) is reported as its class (``BatchNorm``)."""
    entry = shortcuts.get(code.co_name) if isinstance(code, types.CodeType) else None
    if not entry:
        return ""
    try:
        return entry.get(fingerprint(code), "")
    except (RecursionError, ValueError, MemoryError):
        return ""


def _real_sys():
    """The interpreter's own ``sys`` module, found from its ``setprofile`` (None when the
    notebook replaced that function or the module)."""
    fn = getattr(sys, "setprofile", None)
    module = getattr(fn, "__self__", None)
    ok = type(fn) is types.BuiltinFunctionType and type(module) is types.ModuleType
    return module if ok and fn.__name__ == "setprofile" and module.__name__ == "sys" else None


#: how a learner's own earlier function is reported among the shortcuts (``own:NAME``)
OWN = "own:"
_CODE_OF = types.FunctionType.__dict__["__code__"].__get__  # whatever the object says


_FUNC_DICT = types.FunctionType.__dict__["__dict__"].__get__
_PARTIAL_FUNC = functools.partial.__dict__["func"].__get__
_METHOD_FUNC = types.MethodType.__dict__["__func__"].__get__
_STATIC_FUNC = staticmethod.__dict__["__func__"].__get__
_CLASS_FUNC = classmethod.__dict__["__func__"].__get__
_CLASS_DICT = type.__dict__["__dict__"].__get__
_MRO = type.__dict__["__mro__"].__get__


def _functions_behind(obj, depth: int = 8) -> list:
    """The Python functions a callable runs as itself: a function (and what it wraps,
    ``__wrapped__``: functools.wraps), a functools.partial's, a bound method's,
    a staticmethod's or classmethod's function, an instance's class ``__call__``. Read with
    the interpreter's own accessors (no attribute lookup the notebook could define)."""
    found = []
    while depth > 0 and obj is not None:
        depth -= 1
        kind, nxt = type(obj), None
        if kind is types.FunctionType:
            found.append(obj)
            nxt = dict.get(_FUNC_DICT(obj), "__wrapped__")
        elif issubclass(kind, functools.partial):
            nxt = _PARTIAL_FUNC(obj)
        elif kind is types.MethodType:
            nxt = _METHOD_FUNC(obj)
        elif kind is staticmethod:
            nxt = _STATIC_FUNC(obj)
        elif kind is classmethod:
            nxt = _CLASS_FUNC(obj)
        elif not issubclass(kind, type):  # an instance: its class's own __call__
            nxt = next((vars_of["__call__"] for vars_of in
                        (_CLASS_DICT(k) for k in _MRO(kind)) if "__call__" in vars_of), None)
            if nxt is not None and type(nxt) is not types.FunctionType:
                nxt = None  # (a builtin's slot wrapper)
        obj = nxt
    return found


def own_functions(namespace: dict, names: tuple) -> dict:
    """The learner's own functions ``names`` (another exercise's answer: the compact form
    must not call the staged one) as a shortcut table: {code name: {fingerprint: "own:NAME"}};
    a wrapper's function too (functools.partial, a decorator with ``__wrapped__``, a bound
    method, a callable instance). Read with the interpreter's own accessors: nothing the
    notebook defined runs here."""
    table: dict = {}
    for name in names:
        try:
            behind = _functions_behind(dict.get(namespace, name))
        except Exception:  # an odd object: only what could be read before
            behind = []
        for fn in behind:
            code = _CODE_OF(fn)
            try:
                table.setdefault(code.co_name, {})[fingerprint(code)] = OWN + name
            except (RecursionError, ValueError, MemoryError):  # a pathological constant
                continue
    return table


def with_own(shortcuts: dict, namespace: dict, names: tuple) -> dict:
    """``shortcuts`` and the learner's own functions ``names`` (:func:`own_functions`)."""
    merged = {k: dict(v) for k, v in (shortcuts or {}).items()}
    for code_name, entries in own_functions(namespace, names).items():
        merged.setdefault(code_name, {}).update(entries)
    return merged


class Watch(list):
    """The course functions entered (the list), the shortcuts entered (``shortcuts``), and
    ``lost``: the watch was switched off or replaced while the block ran."""

    def __init__(self):
        super().__init__()
        self.shortcuts, self.lost = [], False


@contextlib.contextmanager
def watching(table: dict | None = None, shortcuts: dict | None = None):
    """A :class:`Watch` of the Python functions entered in the block: the course's own
    (``table``, :func:`course_table` by default) and ``shortcuts`` (:func:`shortcut_of`).
    A call to ``sys.setprofile`` in the block, or another hook in place at its end, makes
    it ``lost``: what ran after that was not seen."""
    table = course_table() if table is None else table
    shortcuts, watch, seen, real, done = shortcuts or {}, Watch(), {}, _real_sys(), []
    if real is None:
        watch.lost = True
        yield watch
        return
    switch = real.setprofile

    def hook(frame, event, arg):
        if event == "call":
            code = frame.f_code
            found = seen.get(code)
            if found is None:
                found = seen[code] = (course_function(code, table), shortcut_of(code, shortcuts))
            if found[0] and found[0] not in watch:
                watch.append(found[0])
            if found[1] and found[1] not in watch.shortcuts:
                watch.shortcuts.append(found[1])
        elif event == "c_call" and arg is switch and not done:
            watch.lost = True

    previous, previous_threads = real.getprofile(), threading.getprofile()
    threading.setprofile(hook)  # threads started in the block are watched too
    switch(hook)
    try:
        yield watch
    finally:
        watch.lost = watch.lost or real.getprofile() is not hook
        done.append(True)  # the calls below are ours, not the block's
        switch(previous)
        threading.setprofile(previous_threads)
