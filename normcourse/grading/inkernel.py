"""What runs inside a grading kernel to call one learner function on its test cases.

Sent whole, as source text, with :mod:`helpers.checking.calling` and
:mod:`normcourse.grading.wire` (see :mod:`normcourse.grading.probe`); each becomes a
fresh module object that the submission's own code never imported, so patching
``helpers`` in the kernel changes nothing here. :func:`main` looks the function up
in the learner's namespace, calls it on each case with ``calling.run_case`` (the
same code as the learner's own check), and sends exactly one reply: the
wire-encoded outcomes, framed with the request's nonce, written to the kernel's
private reply pipe (a file descriptor the grader opened for it), never to
``sys.stdout``. Nothing is judged here: the grader judges the values.
"""

from __future__ import annotations

import os
import types

#: what the returned values of all cases may add up to, encoded (the wire's own limit is 40 MB)
REPLY_BUDGET = 36_000_000

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


def main(user_ns: dict, function: str, payload: str, nonce: str, fd: int, calling, wire):
    """Call ``user_ns[function]`` on every case of ``payload`` and reply once."""
    def reply(obj):
        _send(fd, frame(nonce, wire.encode(obj, calling.Opaque)))

    fn = user_ns.get(function)
    if fn is None:
        return reply({"status": "missing"})
    if not callable(fn):
        return reply({"status": "not_callable", "type": type(fn).__name__})
    cases = wire.decode(payload)
    outcomes, budget = [], REPLY_BUDGET
    for i, case in enumerate(cases):
        try:
            out = outcome_to_plain(calling.run_case(
                fn, calling.Case(f"case {i + 1}", tuple(case["args"]), dict(case["kwargs"]))))
        except KeyboardInterrupt:  # the grader's time limit: the remaining cases are skipped
            outcomes.append({"status": "raised", "error": "TIMEOUT"})
            outcomes.extend([{"status": "raised", "error": "SKIPPED"}] * (len(cases) - i - 1))
            break
        try:
            budget -= len(wire.encode(out, calling.Opaque))
            if budget < 0:
                out = {"status": "unsendable", "error": "the values returned by the cases "
                       f"so far add up to more than {REPLY_BUDGET // 1_000_000} MB"}
        except Exception as exc:
            out = {"status": "unsendable", "error": str(exc)[:200]}
        outcomes.append(out)
    reply({"status": "ok", "outcomes": outcomes})
