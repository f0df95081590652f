"""What runs inside a grading kernel to call one learner function on its test cases.

Sent whole, as source text, with :mod:`helpers.checking.calling` and
:mod:`normcourse.grading.wire` (see :mod:`normcourse.grading.probe`); each becomes a
fresh module object that the submission's own code never imported, so patching
``helpers`` in the kernel changes nothing here. :func:`main` looks the function up
in the learner's namespace, calls it on each case with ``calling.run_case`` (the
same code as the learner's own check), and writes one reply: the wire-encoded
outcomes between two markers that carry the request's nonce.
"""

from __future__ import annotations

import sys


def _write_reply(text: str) -> None:
    out = sys.stdout
    try:  # the kernel's own stdout, even when a cell replaced sys.stdout
        stream = sys.modules["ipykernel.iostream"].OutStream._nc_stdout
        if stream is not out:
            stream.set_parent(sys.modules["IPython"].get_ipython().parent_header)
        out = stream
    except Exception:
        pass
    write = getattr(type(out), "_nc_write_unlimited", type(out).write)  # past the output cap
    write(out, text)
    out.flush()


def outcome_to_plain(outcome) -> dict:
    return {"status": outcome.status, "value": outcome.value, "error": outcome.error,
            "inputs_after": list(outcome.inputs_after), "arg_names": list(outcome.arg_names)}


def main(user_ns: dict, function: str, payload: str, begin: str, end: str, calling, wire):
    """Call ``user_ns[function]`` on every case of ``payload`` and reply once."""
    def reply(obj):
        _write_reply(begin + wire.encode(obj, calling.Opaque) + end + "\n")

    fn = user_ns.get(function)
    if fn is None:
        return reply({"status": "missing"})
    if not callable(fn):
        return reply({"status": "not_callable", "type": type(fn).__name__})
    cases = wire.decode(payload)
    outcomes = []
    for i, case in enumerate(cases):
        try:
            out = outcome_to_plain(calling.run_case(
                fn, calling.Case(f"case {i + 1}", tuple(case["args"]), dict(case["kwargs"]))))
        except KeyboardInterrupt:  # the grader's time limit: the remaining cases are skipped
            outcomes.append({"status": "raised", "error": "TIMEOUT"})
            outcomes.extend([{"status": "raised", "error": "SKIPPED"}] * (len(cases) - i - 1))
            break
        try:
            wire.encode(out, calling.Opaque)
        except Exception as exc:
            out = {"status": "unsendable", "error": str(exc)[:200]}
        outcomes.append(out)
    reply({"status": "ok", "outcomes": outcomes})
