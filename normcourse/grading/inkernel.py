"""What runs inside a grading kernel to call one learner function on its test cases.

Compiled whole by the grader and loaded in the kernel with :mod:`helpers.checking.calling`
and :mod:`normcourse.grading.wire` (see :mod:`normcourse.grading.probe`); each becomes a
fresh module object that the submission's own code never imported, so patching
``helpers`` in the kernel changes nothing here. :func:`main` looks the function up
in the learner's namespace, calls it on each case with ``calling.run_case`` (the
same code as the learner's own check), and sends exactly one reply: the
wire-encoded outcomes, framed with the request's nonce, written to the kernel's
private reply pipe (a file descriptor the grader opened for it), never to
``sys.stdout``. Nothing is judged here: the grader judges the values.

Before calling, :func:`course_reached` looks for a copy of a course function
(:func:`helpers.answers.guard.course_function`) among what the function reaches: its code,
its closure, its defaults and, by name, the notebook's functions, classes and containers
it uses. This is a second line behind the grader's analysis of the source
(:mod:`normcourse.grading.code`): it also sees a copy made at run time (``exec`` of a
string). It can only take points away (every case then fails with the reason); a
notebook that hides a copy from it gains nothing it would not have without it.

While each case runs, :func:`helpers.answers.guard.watching` watches every function entered:
a course function, or one of the exercise's shortcuts (``SHORTCUTS``, fingerprints made by
the grader), fails every case with the reason, and so does a watch switched off.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
import types

#: what the returned values of all cases may add up to, encoded (the wire's own limit is 40 MB)
REPLY_BUDGET = 36_000_000
REACH_LIMIT = 20_000  # objects looked at when searching for a copy of a course function
#: how the grader recognises a stand-in's outcome (normcourse.grading.standins)
COURSE_USED = "CourseAnswerUsed: uses the course's own implementation of `{}`; write your own"

_WRITE = os.write  # taken when this module is made, before the learner's function runs


def frame(nonce: str, text: str) -> bytes:
    """One reply as it travels on the pipe: a header line with the nonce and the length."""
    data = text.encode("utf-8")
    return f"NCREPLY {nonce} {len(data):012d}\n".encode("ascii") + data


def _send(fd: int, record: bytes) -> None:
    if not (isinstance(_WRITE, types.BuiltinFunctionType) and _WRITE.__name__ == "write"
            and getattr(_WRITE.__self__, "__name__", "") in ("posix", "nt")):
        raise RuntimeError("os.write was replaced by the notebook: no reply sent through it")
    view = memoryview(record)
    while view:
        view = view[_WRITE(fd, view):]


def outcome_to_plain(outcome) -> dict:
    return {"status": outcome.status, "value": outcome.value, "error": outcome.error,
            "inputs_after": list(outcome.inputs_after), "arg_names": list(outcome.arg_names)}


_CLASS_MODULE = type.__dict__["__module__"].__get__  # a class's own, whatever its metaclass says
_CLASS_FLAGS = type.__dict__["__flags__"].__get__
_HEAPTYPE = 1 << 9  # a class made by a class statement (not int, object, ...)
_CONTAINERS = (list, tuple, set, frozenset)


def _notebook_made(fn, user_ns) -> bool:
    """A function of the notebook (or of an ``exec``), not of an imported module."""
    module = sys.modules.get(dict.get(fn.__globals__, "__name__", ""))
    return fn.__globals__ is user_ns or getattr(module, "__dict__", None) is not fn.__globals__


def _function(fn, user_ns, guard, course) -> tuple[str, list]:
    found = guard.course_copies(fn.__code__, course)
    if not _notebook_made(fn, user_ns):
        return (found or [""])[0], []
    if found:  # a copy made by the notebook, marked so
        return "copy:" + found[0], []
    names, stack = set(), [fn.__code__]
    while stack:
        code = stack.pop()
        names.update(code.co_names)
        stack += [c for c in code.co_consts if type(c) is types.CodeType]
    return "", ([c.cell_contents for c in fn.__closure__ or () if c.cell_contents is not None]
                + list(fn.__defaults__ or ()) + list(dict.values(fn.__kwdefaults__ or {}))
                + [dict.__getitem__(fn.__globals__, n) for n in names
                   if dict.__contains__(fn.__globals__, n)])


def _next(obj, user_ns, guard, course) -> tuple[str, list]:
    """(the course function ``obj`` is a copy of, what to look at next). Only the
    interpreter's own accessors: nothing the notebook defined runs here."""
    kind = type(obj)
    if kind is types.FunctionType:
        return _function(obj, user_ns, guard, course)
    if kind in (types.MethodType, staticmethod, classmethod):
        return "", [obj.__func__]
    if kind is functools.partial:
        return "", [obj.func, *obj.args, *dict.values(obj.keywords)]
    if kind in _CONTAINERS:
        return "", list(kind.__iter__(obj))[:1000]
    if kind is dict:
        return "", list(dict.values(obj))[:1000]
    if kind is types.ModuleType:
        return "", []
    made_here = ("__main__", None, "builtins")
    if issubclass(kind, type):  # a class: its dict (methods, attributes)
        if _CLASS_FLAGS(obj) & _HEAPTYPE and _CLASS_MODULE(obj) in made_here:
            return "", [r for r in gc.get_referents(obj) if type(r) is dict]
        return "", []
    if _CLASS_FLAGS(kind) & _HEAPTYPE and _CLASS_MODULE(kind) in made_here:
        return "", [kind, *gc.get_referents(obj)]  # an instance of a notebook's class
    return "", []


def _search(start: list, user_ns: dict, guard, course: dict, wanted) -> str:
    seen, todo = set(), list(start)
    while todo and len(seen) < REACH_LIMIT:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            found, more = _next(obj, user_ns, guard, course)
        except Exception:  # an object that cannot be looked at is passed over
            continue
        if found and wanted(found):
            return found.removeprefix("copy:")
        todo += more
    return ""


def course_reached(fn, user_ns: dict, guard, course: dict, name: str = "") -> str:
    """The course function that ``fn`` is a copy of, or reaches a copy of ("" if none); and,
    wherever it sits in the notebook's namespace, a copy made by the notebook of the course
    function called ``name`` (a copy keeps its name: reached by a name built at run time)."""
    return (_search([fn], user_ns, guard, course, lambda found: True)
            or name and _search(list(dict.values(user_ns)), user_ns, guard, course,
                                lambda found: found == "copy:" + name))


def _run(calling, guard, course, shortcuts, fn, case: dict, i: int):
    """(the outcome of one case, the error every case gets when the watch saw a course
    function or a shortcut, or was switched off, while it ran)."""
    case = calling.Case(f"case {i + 1}", tuple(case["args"]), dict(case["kwargs"]))
    if guard is None:
        return outcome_to_plain(calling.run_case(fn, case)), ""
    with guard.watching(course or {}, shortcuts or {}) as watch:
        out = outcome_to_plain(calling.run_case(fn, case))
    return out, COURSE_USED.format(watch[0]) if watch else calling.watched_error(watch)


def main(user_ns: dict, function: str, payload: str, nonce: str, fd: int, calling, wire,
         guard=None, course=None, shortcuts=None, not_calling=()):
    """Call ``user_ns[function]`` on every case of ``payload`` and reply once; ``shortcuts``
    (:mod:`helpers.exercises.shortcuts`) and the learner's own functions ``not_calling``
    (``guard.own_functions``) are watched while the function runs."""
    def reply(obj):
        _send(fd, frame(nonce, wire.encode(obj, calling.Opaque)))

    fn = user_ns.get(function)
    if fn is None:
        return reply({"status": "missing"})
    if not callable(fn):
        return reply({"status": "not_callable", "type": type(fn).__name__})
    cases = wire.decode(payload)
    if guard and not_calling:
        shortcuts = guard.with_own(shortcuts, user_ns, tuple(not_calling))
    used = course_reached(fn, user_ns, guard, course, function) if guard and course else ""
    if used:
        return reply({"status": "ok", "outcomes": [
            {"status": "raised", "error": COURSE_USED.format(used)} for _ in cases]})
    outcomes, budget = [], REPLY_BUDGET
    for i, case in enumerate(cases):
        try:
            out, stopped = _run(calling, guard, course, shortcuts, fn, case, i)
        except KeyboardInterrupt:  # the grader's time limit: the remaining cases are skipped
            outcomes.append({"status": "raised", "error": "TIMEOUT"})
            outcomes.extend([{"status": "raised", "error": "SKIPPED"}] * (len(cases) - i - 1))
            break
        if stopped:
            return reply({"status": "ok", "outcomes": [
                {"status": "raised", "error": stopped} for _ in cases]})
        try:
            budget -= len(wire.encode(out, calling.Opaque))
            if budget < 0:
                out = {"status": "unsendable", "error": "the values returned by the cases "
                       f"so far add up to more than {REPLY_BUDGET // 1_000_000} MB"}
        except Exception as exc:
            out = {"status": "unsendable", "error": str(exc)[:200]}
        outcomes.append(out)
    reply({"status": "ok", "outcomes": outcomes})
