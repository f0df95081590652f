"""The code the grader sends into a learner's kernel to call one function, and its reply.

:func:`snippet` returns one statement that builds three fresh modules from their
whole source files -- :mod:`helpers.checking.calling` (the learner's check calls
functions with the same code), :mod:`normcourse.grading.wire` and
:mod:`normcourse.grading.inkernel` -- and runs ``inkernel.main``. Test inputs go in
wire-encoded (never the stored expected values); :func:`parse_reply` reads the
marked reply to this very request and decodes it with :func:`wire.decode`, which
refuses everything but plain data.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path

from helpers.checking import calling
from helpers.checking.calling import Opaque, Outcome
from normcourse.grading import inkernel, wire

KERNEL_MODULES = (calling, wire, inkernel)

_BOOT = '''
import sys as _sys, types as _types
def _module(name, source):
    module = _types.ModuleType(name)
    _sys.modules[name] = module  # dataclasses look their module up while the class is made
    try:
        exec(compile(source, "<normcourse grader: " + name + ">", "exec"), module.__dict__)
    finally:
        del _sys.modules[name]
    return module
_mods = [_module("_normcourse_" + n, s) for n, s in SOURCES]
_mods[2].main(USER_NS, FUNCTION, PAYLOAD, BEGIN, END, _mods[0], _mods[1])
'''


@functools.lru_cache(maxsize=1)
def _sources() -> tuple:
    return tuple((m.__name__.rsplit(".", 1)[-1], Path(m.__file__).read_text(encoding="utf-8"))
                 for m in KERNEL_MODULES)


def new_nonce() -> str:
    return secrets.token_hex(16)


def markers(nonce: str) -> tuple[str, str]:
    return f"<<normcourse-reply-{nonce}>>", f"<<end-normcourse-reply-{nonce}>>"


def snippet(function: str, cases, nonce: str) -> str:
    """Code that calls ``function`` (looked up in the kernel's namespace) on each case.

    Only each case's ``args`` and ``kwargs`` are sent, never ``expected``.
    """
    payload = wire.encode([{"args": tuple(c.args), "kwargs": dict(c.kwargs)} for c in cases])
    begin, end = markers(nonce)
    header = (f"SOURCES = {_sources()!r}\nFUNCTION = {function!r}\nPAYLOAD = {payload!r}\n"
              f"BEGIN = {begin!r}\nEND = {end!r}\n")
    # one statement; runs in a fresh namespace that sees the learner's only through USER_NS
    return (f"exec(compile({header + _BOOT!r}, '<normcourse grader>', 'exec'), "
            "{'USER_NS': globals()})")


class ProbeError(ValueError):
    """The kernel's reply could not be read; the message is learner-facing."""


def _outcome(d) -> Outcome:
    status = d.get("status") if isinstance(d, dict) else None
    if status == "unsendable":
        return Outcome("unsendable", error=str(d.get("error", ""))[:200])
    if status not in ("returned", "not_done", "raised"):
        return Outcome("unreadable")
    inputs, names = d.get("inputs_after", []), d.get("arg_names", [])
    if not isinstance(inputs, list) or not isinstance(names, list):
        return Outcome("unreadable")
    return Outcome(status, d.get("value"), str(d.get("error", ""))[:500], tuple(inputs),
                   tuple(str(n)[:40] for n in names))


def parse_reply(stdout: str, nonce: str, n_cases: int) -> list[Outcome]:
    """The outcomes in the last marked reply of ``stdout``.

    Raises ProbeError with a readable reason when there is no reply, when the
    function is missing or not callable, or when the reply is not plain data.
    """
    begin, end = markers(nonce)
    stop = stdout.rfind(end)
    start = stdout.rfind(begin, 0, stop) if stop >= 0 else -1
    if start < 0:
        raise ProbeError("the grader got no answer from your notebook for this exercise")
    try:
        reply = wire.decode(stdout[start + len(begin):stop], Opaque)
    except wire.WireError as exc:
        raise ProbeError(f"the grader could not read the answer ({exc})") from None
    if not isinstance(reply, dict):
        raise ProbeError("the grader could not read the answer")
    status = reply.get("status")
    if status == "missing":
        raise ProbeError("MISSING")
    if status == "not_callable":
        raise ProbeError(f"NOT_CALLABLE:{str(reply.get('type'))[:40]}")
    outcomes = reply.get("outcomes")
    if status != "ok" or not isinstance(outcomes, list) or len(outcomes) != n_cases:
        raise ProbeError("the grader could not read the answer")
    return [_outcome(o) for o in outcomes]
