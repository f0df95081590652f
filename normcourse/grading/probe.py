"""The code the grader sends into a learner's kernel to call one function, and its reply.

:func:`snippet` returns one short statement that builds fresh modules --
:mod:`helpers.checking.calling` (the learner's check calls functions with the same code),
:mod:`normcourse.grading.wire`, :mod:`normcourse.grading.inkernel` and
:mod:`helpers.answers.guard`, whole files -- and runs ``inkernel.main``. The files are
compiled once, here; :func:`write_code` puts their marshalled code objects in the kernel's
stand-ins folder, which the grader writes and the kernel can only read, and each call
loads them afresh from there (the kernel runs this very Python, ``sys.executable``). Until
2026-12-07 each call carried the 40 kB of source in its cell, compiled in the kernel: 28 ms
more per call. Test inputs go in wire-encoded (never the stored expected values). The reply
comes back on the kernel's private reply pipe, framed with the request's nonce
(:func:`inkernel.frame`); :func:`parse_reply` accepts exactly one reply to this very
request (none, two, or one for another request is an error) and decodes it with
:func:`wire.decode`, which refuses everything but plain data.
"""

from __future__ import annotations

import functools
import marshal
import secrets
from pathlib import Path

from helpers.answers import guard
from helpers.checking import calling
from helpers.checking.calling import Opaque, Outcome
from normcourse.grading import inkernel, wire

KERNEL_MODULES = (calling, wire, inkernel, guard)

CODE_FILE = "_normcourse_grader.bin"  # in the stand-ins folder: see write_code

_BOOT = '''
import sys as _sys, types as _types, marshal as _marshal
def _module(name, code):
    module = _types.ModuleType(name)
    _sys.modules[name] = module  # dataclasses look their module up while the class is made
    try:
        exec(code, module.__dict__)
    finally:
        del _sys.modules[name]
    return module
with open(CODE_PATH, "rb") as _file:
    _mods = [_module("_normcourse_" + n, c) for n, c in zip(NAMES, _marshal.loads(_file.read()))]
_mods[2].main(USER_NS, FUNCTION, PAYLOAD, NONCE, REPLY_FD, _mods[0], _mods[1], _mods[3],
              COURSE, SHORTCUTS, NOT_CALLING)
'''


@functools.lru_cache(maxsize=1)
def _sources() -> tuple:
    return tuple((m.__name__.rsplit(".", 1)[-1], Path(m.__file__).read_text(encoding="utf-8"))
                 for m in KERNEL_MODULES)


@functools.lru_cache(maxsize=1)
def _compiled() -> bytes:
    """The modules' code objects, marshalled: compiled once per grading run, each with the
    file name ``<normcourse grader: _normcourse_NAME>``."""
    return marshal.dumps([compile(src, f"<normcourse grader: _normcourse_{n}>", "exec")
                          for n, src in _sources()])


def write_code(folder: Path) -> Path:
    """Write the in-kernel modules' code into ``folder`` (a kernel's stand-ins folder)."""
    path = folder / CODE_FILE
    path.write_bytes(_compiled())
    return path


def new_nonce() -> str:
    return secrets.token_hex(16)


def snippet(function: str, cases, nonce: str, reply_fd: int, code_path: str,
            shortcuts: dict | None = None, not_calling: tuple = ()) -> str:
    """Code that calls ``function`` (looked up in the kernel's namespace) on each case
    and writes its one reply to file descriptor ``reply_fd``; ``code_path``: where the kernel
    sees the file :func:`write_code` wrote; ``shortcuts``: the exercise's
    (:func:`helpers.exercises.shortcuts.shortcut_table`), watched while it runs, and the
    learner's own functions ``not_calling`` (looked up in the kernel's namespace).

    Only each case's ``args`` and ``kwargs`` are sent, never ``expected``.
    """
    payload = wire.encode([{"args": tuple(c.args), "kwargs": dict(c.kwargs)} for c in cases])
    names = tuple(n for n, _ in _sources())
    header = (f"NAMES = {names!r}\nCODE_PATH = {str(code_path)!r}\n"
              f"FUNCTION = {function!r}\nPAYLOAD = {payload!r}\n"
              f"NONCE = {nonce!r}\nREPLY_FD = {int(reply_fd)}\n"
              f"COURSE = {guard.course_table()!r}\nSHORTCUTS = {shortcuts or {}!r}\n"
              f"NOT_CALLING = {tuple(str(n) for n in not_calling)!r}\n")
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


NO_REPLY = "the grader got no reply from your notebook for this exercise"
UNREADABLE = "the reply from your notebook was unreadable"


def _records(data: bytes) -> list[tuple[str, bytes]]:
    """(nonce, payload) of each framed reply in ``data``; ProbeError if it is not all replies."""
    records, pos = [], 0
    while pos < len(data):
        end = data.find(b"\n", pos, pos + 64)
        head = data[pos:end].split(b" ") if end >= 0 else []
        if len(head) != 3 or head[0] != b"NCREPLY" or not head[2].isdigit():
            raise ProbeError(f"{UNREADABLE} (not a reply)")
        size = int(head[2])
        if end + 1 + size > len(data):
            raise ProbeError(f"{UNREADABLE} (cut short)")
        records.append((head[1].decode("ascii", "replace"), data[end + 1:end + 1 + size]))
        pos = end + 1 + size
    return records


def parse_reply(data: bytes, nonce: str, n_cases: int) -> list[Outcome]:
    """The outcomes of the one reply to request ``nonce`` in ``data`` (from the reply pipe).

    Raises ProbeError with a readable reason when there is no reply, more than one,
    one for another request, when the function is missing or not callable, or when
    the reply cannot be read.
    """
    records = _records(data)
    if not records:
        raise ProbeError(NO_REPLY)
    if any(n != nonce for n, _ in records):
        raise ProbeError("a reply that does not belong to this request arrived from your "
                         "notebook (something in it writes to the grader's channel)")
    if len(records) > 1:
        raise ProbeError(f"{len(records)} replies arrived from your notebook for one request "
                         "(something in it writes to the grader's channel)")
    try:
        reply = wire.decode(records[0][1].decode("utf-8"), Opaque)
    except (wire.WireError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{UNREADABLE} ({exc})") from None
    except Exception as exc:  # never lose the whole submission over one reply
        raise ProbeError(f"{UNREADABLE} ({type(exc).__name__})") from None
    if not isinstance(reply, dict):
        raise ProbeError(f"{UNREADABLE} (not a reply)")
    status = reply.get("status")
    if status == "missing":
        raise ProbeError("MISSING")
    if status == "not_callable":
        raise ProbeError(f"NOT_CALLABLE:{str(reply.get('type'))[:40]}")
    outcomes = reply.get("outcomes")
    if status != "ok" or not isinstance(outcomes, list) or len(outcomes) != n_cases:
        raise ProbeError(f"{UNREADABLE} (not one outcome per test case)")
    return [_outcome(o) for o in outcomes]
