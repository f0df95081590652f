"""Call a learner's function on one test case and record what happened, as plain data.

This is the one part of the check machinery that runs where the learner's code
runs: in the learner's kernel (``helpers.exercises.check``) and, sent whole as
source text, in the grader's kernel (``normcourse grade``). Both paths therefore
record exactly the same thing. It imports only the standard library and numpy,
and nothing from ``helpers``.

:func:`run_case` never decides whether an answer is right, and never trusts a
comparison made here: it returns an :class:`Outcome` holding the returned value
and copies of the inputs *after* the call, converted by :func:`to_plain` into
plain data (numbers, strings, lists, tuples, dicts, numeric arrays in native byte
order with floats as float64). Whoever holds the test case judges it, including
whether an input was changed in place.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from dataclasses import dataclass, field

import numpy as np

#: a returned value nested deeper than this, or larger than this many bytes, is not read
MAX_DEPTH = 20
MAX_BYTES = 10_000_000
MAX_STRING = 10_000


@dataclass(frozen=True)
class Case:
    """One test case: a short description and the inputs (plain data only)."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: object = None  # optional stored test vector, used by the judge only


class Opaque:
    """Stands for a returned value that is not plain data; says what it was."""

    def __init__(self, description: str):
        self.description = str(description)[:200]

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.description == self.description

    def __hash__(self):
        return hash(self.description)

    def __repr__(self):
        return f"<{self.description}>"


@dataclass
class Outcome:
    """What the learner's function did on one case (plain data only).

    status        "returned", "not_done" (raised NotImplementedError) or "raised"
    value         the returned value, through :func:`to_plain`
    error         "ExceptionName: message" when it raised
    inputs_after  the positional then keyword inputs after the call, through :func:`to_plain`
    arg_names     their names (from the function's signature), for messages
    """

    status: str
    value: object = None
    error: str = ""
    inputs_after: tuple = ()
    arg_names: tuple = ()


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    pass


def _type_name(value) -> str:
    try:
        return type(value).__name__
    except Exception:  # pragma: no cover - a type whose name cannot be read
        return "unknown type"


def _array(value: np.ndarray, depth: int, budget: list):
    if value.dtype.kind == "O":  # an array of Python objects: read as (nested) lists
        return _plain(value.tolist(), depth + 1, budget)
    if value.dtype.kind in "USVMm" or value.dtype.fields is not None:
        return Opaque(f"an array of dtype {value.dtype}, not of numbers")
    kind = value.dtype.kind
    target = {"f": np.float64, "c": np.complex128}.get(kind)
    dtype = np.dtype(target) if target else value.dtype.newbyteorder("=")
    budget[0] -= value.size * dtype.itemsize  # counted before copying: a huge value is not
    if budget[0] < 0:
        raise _TooBig
    return np.array(value, dtype=dtype, copy=True, subok=False)


def _plain(value, depth: int, budget: list):
    if depth > MAX_DEPTH:
        raise _TooDeep
    t = type(value)
    if value is None or t in (bool, int, float, complex):
        return value
    if t is str:
        if len(value) > MAX_STRING:
            return Opaque(f"a string of {len(value)} characters")
        budget[0] -= len(value)
        if budget[0] < 0:
            raise _TooBig
        return value
    if isinstance(value, np.ndarray):
        return _array(value, depth, budget)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.complexfloating):
        return complex(value)
    if t in (list, tuple):
        budget[0] -= 8 * len(value)
        if budget[0] < 0:
            raise _TooBig
        items = [_plain(v, depth + 1, budget) for v in value]
        return tuple(items) if t is tuple else items
    if t is dict:
        budget[0] -= 16 * len(value)
        if budget[0] < 0:
            raise _TooBig
        if not all(type(k) is str for k in value):
            return Opaque("a dict whose keys are not all strings")
        return {k: _plain(v, depth + 1, budget) for k, v in value.items()}
    return Opaque(f"an object of type {_type_name(value)}")


def to_plain(value):
    """``value`` as plain data; anything else becomes an :class:`Opaque` that says what it was.

    Arrays are copied in native byte order, floating arrays as float64 and complex
    ones as complex128; numpy scalars become Python numbers. Values nested deeper
    than MAX_DEPTH or larger than MAX_BYTES are not read. The learner's objects are
    never asked for their ``repr`` or ``str``.
    """
    try:
        return _plain(value, 0, [MAX_BYTES])
    except _TooBig:
        return Opaque(f"a value larger than {MAX_BYTES // 1_000_000} MB")
    except (_TooDeep, RecursionError):
        return Opaque(f"a value nested more than {MAX_DEPTH} levels deep")
    except Exception as exc:  # e.g. an array subclass that fails to copy
        return Opaque(f"a value that could not be read ({_type_name(exc)})")


def _copy(value):
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _arg_names(fn, n: int) -> list:
    try:
        names = list(inspect.signature(fn).parameters)
    except Exception:
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def describe_exception(exc: BaseException) -> str:
    """ "Name: message", at most 300 characters, even when the message cannot be read."""
    try:
        text = str(exc)
    except Exception:
        text = "(a message that could not be read)"
    return f"{_type_name(exc)}: {text}"[:300]


def run_case(fn, case: Case) -> Outcome:
    """Call ``fn`` on copies of the case's inputs and record what happened.

    Never raises for anything the learner's function does, except
    KeyboardInterrupt (a stop request) which is passed on.
    """
    args = tuple(_copy(a) for a in case.args)  # the case itself is never touched
    kwargs = {k: _copy(v) for k, v in case.kwargs.items()}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = fn(*args, **kwargs)
    except NotImplementedError:
        return Outcome("not_done")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the learner's code raised (even SystemExit): report it
        return Outcome("raised", error=describe_exception(exc))
    return Outcome("returned", to_plain(value),
                   inputs_after=tuple(to_plain(v) for v in (*args, *kwargs.values())),
                   arg_names=tuple(_arg_names(fn, len(args)) + list(kwargs)))
