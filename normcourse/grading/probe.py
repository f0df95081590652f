"""The code the grader sends into a learner's kernel to call one function on its test cases.

The snippet is self-contained: it carries its own copy of the course's
call-and-record logic (``helpers.checks.run_case`` and the plain-data encoder of
``helpers.wire``, copied from the grader's source files), so a submission that
patched ``helpers`` in its kernel changes nothing. Test inputs go in as
wire-encoded JSON (never the stored expected values); what comes back is only
wire-encoded :class:`~helpers.checks.Outcome` values between two markers made
from a per-run random nonce, read from the reply to this very request.
Anything the kernel sends is decoded by :func:`helpers.wire.decode`, which
refuses everything but plain data.
"""

from __future__ import annotations

import functools
import inspect
import secrets

from helpers import checks, wire
from helpers.checks import Outcome

_CHECKS_PARTS = ("Outcome", "_snapshot", "_same", "_arg_names", "_plain", "run_case")
_WIRE_PARTS = ("WireError", "_to_plain", "_from_plain", "encode", "decode")

_MAIN = '''
class _Case:
    def __init__(self, args, kwargs):
        self.args, self.kwargs = tuple(args), dict(kwargs)


def _reply(obj):
    out = sys.stdout
    try:  # the kernel's own stdout, even when a cell replaced sys.stdout
        stream = sys.modules["ipykernel.iostream"].OutStream._nc_stdout
        if stream is not out:
            stream.set_parent(sys.modules["IPython"].get_ipython().parent_header)
        out = stream
    except Exception:
        pass
    write = getattr(type(out), "_nc_write_unlimited", type(out).write)  # past the output cap
    write(out, BEGIN + encode(obj) + END + "\\n")
    out.flush()


def _main(user_ns):
    fn = user_ns.get(FUNCTION)
    if fn is None:
        return _reply({"status": "missing"})
    if not callable(fn):
        return _reply({"status": "not_callable", "type": type(fn).__name__})
    outcomes = []
    cases = decode(PAYLOAD)
    for i, case in enumerate(cases):
        try:
            out = run_case(fn, _Case(case["args"], case["kwargs"])).to_plain()
        except KeyboardInterrupt:
            out = {"status": "raised", "error": "TIMEOUT"}
            outcomes.append(out)
            outcomes.extend([{"status": "raised", "error": "SKIPPED"}] * (len(cases) - i - 1))
            break
        except BaseException as exc:  # SystemExit and friends from the learner's code
            out = {"status": "raised", "error": (type(exc).__name__ + ": " + str(exc))[:300]}
        try:
            encode(out)
        except Exception as exc:
            out = {"status": "raised",
                   "error": "returned a value that cannot be sent back for grading (" +
                            str(exc)[:200] + ")"}
        outcomes.append(out)
    _reply({"status": "ok", "outcomes": outcomes})
'''


@functools.lru_cache(maxsize=1)
def _library() -> str:
    parts = ["import base64, copy, json, math, sys, warnings",
             "from dataclasses import dataclass, field",
             "import numpy as np",
             f"ALLOWED_DTYPES = {wire.ALLOWED_DTYPES!r}",
             f"MAX_BYTES = {wire.MAX_BYTES!r}",
             f"MAX_DEPTH = {wire.MAX_DEPTH!r}"]
    parts += [inspect.getsource(getattr(wire, name)) for name in _WIRE_PARTS]
    parts += [inspect.getsource(getattr(checks, name)) for name in _CHECKS_PARTS]
    parts.append(_MAIN)
    return "\n\n".join(parts)


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
    header = (f"FUNCTION = {function!r}\nPAYLOAD = {payload!r}\n"
              f"BEGIN = {begin!r}\nEND = {end!r}\n")
    source = "from __future__ import annotations\n" + header + _library() + "\n_main(USER_NS)\n"
    # one statement; runs in a fresh namespace that sees the learner's only through USER_NS
    return f"exec(compile({source!r}, '<normcourse grader>', 'exec'), {{'USER_NS': globals()}})"


class ProbeError(ValueError):
    """The kernel's reply could not be read; the message is learner-facing."""


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
        reply = wire.decode(stdout[start + len(begin):stop])
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
    return [Outcome.from_plain(o) for o in outcomes]
