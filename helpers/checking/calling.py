"""Call a learner's function on one test case and record what happened, as plain data.

Runs in the learner's kernel (``check``) and, loaded whole, in the grader's kernel
(stdlib and numpy only). :func:`run_case` never judges; what only it sees is a marked error
("Marker: detail"): a write into an input, a time limit, a cost limit (:data:`COST_KEY`).
"""

from __future__ import annotations

import copy
import functools
import inspect
import signal
import sys
import threading
import time
import types
import warnings
from dataclasses import dataclass, field

import numpy as np

#: a returned value nested deeper than this, or larger than this many bytes, is not read
MAX_DEPTH, MAX_BYTES, MAX_STRING = 20, 10_000_000, 10_000
CASE_TIME_LIMIT = 120.0  # s, per case in the learner's check: the grader's --cell-timeout
#: markers of :attr:`Outcome.error` for what happened here, or around the call (the guard's
#: watch: :func:`watched_error`); the judge words the message
OUT_OF_TIME, TOO_SLOW, WRITES_INPUT = "OutOfTime", "TooSlow", "WritesInput"
NOT_WRITTEN, SHORTCUT, UNWATCHED = "NotWritten", "Shortcut", "Unwatched"
#: kwargs[COST_KEY] = [layer, seed, n, d]: a backward pass's large case, drawn where it is used
#: (4 numbers sent, not megabytes); the call may take MAX_FORWARDS forward passes of the layer
COST_KEY, MAX_FORWARDS = "__cost__", 200  # K: benchmarks/bench_backward_cost.py
AXES = {"batchnorm": 0, "layernorm": 1, "rmsnorm": 1}  # RMSNorm's forward does not centre


@dataclass(frozen=True)
class Case:
    """One test case: a short description and the inputs (plain data only)."""
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: object = None  # optional stored test vector, used by the judge only

    @property
    def call_kwargs(self) -> dict:  # the keyword arguments the function receives (no COST_KEY)
        return {k: v for k, v in self.kwargs.items() if k != COST_KEY}

    @functools.cached_property
    def call_args(self) -> tuple:  # what the function receives: a cost case's drawn here
        return cost_inputs(*self.kwargs[COST_KEY]) if COST_KEY in self.kwargs else self.args


def cost_inputs(layer: str, seed: int, n: int, d: int) -> tuple:
    """(dout, cache) of a backward pass's large case, from its seed."""
    rng, axis = np.random.default_rng(seed), AXES[layer]
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + rng.normal(size=d)
    gamma, dout = rng.uniform(0.5, 2.0, size=d), rng.normal(size=(n, d))
    if layer == "rmsnorm":  # cache (X, x_hat, rms, gamma), ε = 1e-6 (lesson 6)
        rms = np.sqrt((X * X).mean(axis=1, keepdims=True) + 1e-6)
        return dout, (X, X / rms, rms, gamma)
    mean, var = X.mean(axis=axis, keepdims=axis == 1), X.var(axis=axis, keepdims=axis == 1)
    return dout, (X, (X - mean) / np.sqrt(var + 1e-5), mean, var, gamma, 1e-5)


@dataclass(frozen=True, repr=False)
class Opaque:
    """Stands for a returned value that is not plain data; says what it was (200 characters)."""
    description: str

    def __post_init__(self):
        object.__setattr__(self, "description", str(self.description)[:200])

    def __repr__(self):
        return f"<{self.description}>"


@dataclass
class Outcome:
    """What the function did on one case: status "returned", "not_done" or "raised"."""
    status: str
    value: object = None
    error: str = ""
    inputs_after: tuple = ()
    arg_names: tuple = ()


_TooBig = type("_TooBig", (Exception,), {})  # raised for a value larger than MAX_BYTES


def _type_name(value) -> str:
    name = getattr(type(value), "__name__", "unknown type")
    return name if type(name) is str else "unknown type"


def _spend(budget: list, n: int) -> None:
    budget[0] -= n
    if budget[0] < 0:
        raise _TooBig


def _array(value: np.ndarray, depth: int, budget: list):
    if value.dtype.kind == "O":  # an array of Python objects: read as (nested) lists
        return _plain(value.tolist(), depth + 1, budget)
    if value.dtype.kind in "USVMm" or value.dtype.fields is not None:
        return Opaque(f"an array of dtype {value.dtype}, not of numbers")
    wide = {"f": (np.float64, 8), "c": (np.complex128, 16)}.get(value.dtype.kind)
    dtype = np.dtype(wide[0]) if wide and value.dtype.itemsize > wide[1] else \
        value.dtype.newbyteorder("=")
    _spend(budget, value.size * dtype.itemsize)  # counted before copying: a huge value is not
    return np.array(value, dtype=dtype, copy=True, subok=False)


def _plain(value, depth: int, budget: list):
    if depth > MAX_DEPTH:
        raise RecursionError
    t = type(value)
    if value is None or t in (bool, int, float, complex):
        return value
    if isinstance(value, str):  # np.str_ and other str subclasses: read as a plain str,
        value = str.__str__(value)  # without calling a method the subclass may override
        if len(value) > MAX_STRING:
            return Opaque(f"a string of {len(value)} characters")
        _spend(budget, len(value))
        return value
    if isinstance(value, np.ndarray):
        return _array(value, depth, budget)
    if isinstance(value, (np.float16, np.float32)):  # keeps its precision: a 0-d array
        return np.array(value)
    for kind, make in ((np.bool_, bool), (np.integer, int), (np.floating, float),
                       (np.complexfloating, complex)):
        if isinstance(value, kind):
            return make(value)
    if t in (list, tuple):
        _spend(budget, 8 * len(value))
        items = [_plain(v, depth + 1, budget) for v in value]
        return tuple(items) if t is tuple else items
    if t is dict:
        _spend(budget, 16 * len(value))
        if not all(type(k) is str for k in value):
            return Opaque("a dict whose keys are not all strings")
        return {k: _plain(v, depth + 1, budget) for k, v in value.items()}
    return Opaque(f"an object of type {_type_name(value)}")


def to_plain(value):
    """``value`` as plain data (float16/32 kept), else an :class:`Opaque`; calls no repr/str."""
    try:
        return _plain(value, 0, [MAX_BYTES])
    except _TooBig:
        return Opaque(f"a value larger than {MAX_BYTES // 1_000_000} MB")
    except RecursionError:
        return Opaque(f"a value nested more than {MAX_DEPTH} levels deep")
    except Exception as exc:  # e.g. an array subclass that fails to copy
        return Opaque(f"a value that could not be read ({_type_name(exc)})")


def _copy(value, frozen: bool = True):
    """A copy for one call; ``frozen``: numeric arrays (also nested) over immutable bytes."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc" and frozen:
        return np.frombuffer(np.ascontiguousarray(value).tobytes(), value.dtype).reshape(value.shape)
    if type(value) in (tuple, list):
        return type(value)(_copy(v, frozen) for v in value)
    if type(value) is dict:
        return {k: _copy(v, frozen) for k, v in value.items()}
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _arg_names(fn, n: int) -> list:
    try:
        names = list(inspect.signature(fn).parameters)
    except Exception:  # a callable without a signature: numbered
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def describe_exception(exc: BaseException) -> str:  # "Name: message", 300 characters at most
    try:
        text = str(exc)
    except Exception:
        text = "(a message that could not be read)"
    return f"{_type_name(exc)}: {text}"[:300]


_OutOfTime = type("_OutOfTime", (BaseException,), {})  # raised by _call's timer (_ring)


def _ring(signum, frame):  # not inside the guard's profile hook (it would end it): 50 ms later
    hook = getattr(sys.getprofile(), "__code__", None)
    while frame is not None and frame.f_code is not hook:
        frame = frame.f_back
    if frame is None:
        raise _OutOfTime


def _clock():  # time.perf_counter, or None when the notebook replaced it
    c = time.perf_counter
    ok = type(c) is types.BuiltinFunctionType and getattr(c.__self__, "__name__", "") == "time"
    return c if ok and c.__name__ == "perf_counter" else None


def _call(fn, args, kwargs, seconds):
    """(what, value, seconds): "returned", "raised" (value: the exception) or "timeout": a
    timer (SIGALRM, main thread) rings after ``seconds`` and every 50 ms; the clock decides."""
    clock, timer = _clock() or time.monotonic, None
    if seconds and threading.current_thread() is threading.main_thread():
        timer = signal.signal(signal.SIGALRM, _ring)
    what, value, taken, start = "timeout", None, 0.0, clock()
    try:
        if timer is not None:
            signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                what, value = "returned", fn(*args, **kwargs)
        except (_OutOfTime, KeyboardInterrupt):
            raise
        except BaseException as exc:  # the learner's code raised (even SystemExit): report it
            what, value = "raised", exc
        finally:
            taken = clock() - start
            while timer is not None:  # a ring between the call's end and here is ignored
                try:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, timer)
                    timer = None
                except _OutOfTime:
                    pass
    except _OutOfTime:
        what, taken = "timeout", clock() - start
    return ("timeout" if seconds and taken > seconds else what), value, taken


def _not_written(fn, exc) -> str:
    """The name of the function that raised NotImplementedError, when it is not ``fn``."""
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code  # a named function only: not a generator expression or lambda
    return "" if code is getattr(fn, "__code__", code) or not code.co_name.isidentifier() \
        else code.co_name


def forward_seconds(layer: str, X, clock) -> float:
    """The unit of a backward pass's cost: seconds the plain ``layer`` takes on X."""
    X, axis, gamma, times = np.asarray(X, float), AXES[layer], np.ones(np.shape(X)[1]), []
    for _ in range(5):
        start = clock()
        xc = X if layer == "rmsnorm" else X - X.mean(axis=axis, keepdims=True)
        gamma * (xc / ((xc * xc).mean(axis=axis, keepdims=True) + 1e-5) ** 0.5)
        times.append(clock() - start)
    return max(min(times), 1e-4)


def watched_error(watch) -> str:  # a shortcut the guard's watch saw, or the watch lost
    return f"{SHORTCUT}: {watch.shortcuts[0]}" if watch.shortcuts else \
        f"{UNWATCHED}: sys.setprofile" if watch.lost else ""


def _written(fn, case, names) -> list:
    """Which inputs the function writes into: each one frozen alone, the others writable."""
    found, keys, values = [], list(case.call_kwargs), [*case.call_args, *case.call_kwargs.values()]
    for i, name in enumerate(names):
        copies, n = [_copy(v, j == i) for j, v in enumerate(values)], len(case.call_args)
        what, exc, _ = _call(fn, copies[:n], dict(zip(keys, copies[n:], strict=True)), 10.0)
        if what == "raised" and "read-only" in describe_exception(exc):
            found.append(str(name)[:40])
    return found or [str(n)[:40] for n in names]


def run_case(fn, case: Case, time_limit: float | None = None) -> Outcome:
    """Call ``fn`` on frozen copies of the case's inputs and record what happened (never
    raises but KeyboardInterrupt); stop it after ``time_limit`` s, or MAX_FORWARDS forward
    passes (best of 3 tries) for a :data:`COST_KEY` case."""
    kwargs_in, clock, args_in = case.call_kwargs, _clock(), case.call_args
    layer = (case.kwargs.get(COST_KEY) or [None])[0]  # None, or a cost case's layer
    names = tuple(_arg_names(fn, len(args_in)) + list(kwargs_in))
    if layer is not None and clock is None:
        return Outcome("raised", error=f"{TOO_SLOW}: time.perf_counter was replaced")
    for _ in range(1 if layer is None else 3):
        args, kwargs = tuple(_copy(a) for a in args_in), {k: _copy(v) for k, v in kwargs_in.items()}
        one = 0.0 if layer is None else forward_seconds(layer, args_in[1][0], clock)
        what, value, taken = _call(fn, args, kwargs, MAX_FORWARDS * one or time_limit)
        if what != "timeout" or layer is None:
            break
    if what == "timeout":
        return Outcome("raised", error=f"{TOO_SLOW}: {taken * 1e3:.3g} ms, more than "
                       f"{MAX_FORWARDS} forward passes of {one * 1e3:.2g} ms" if layer is not None
                       else f"{OUT_OF_TIME}: {time_limit:g}")
    error = describe_exception(value) if what == "raised" else ""
    if what == "raised" and isinstance(value, NotImplementedError):
        callee = _not_written(fn, value)
        return Outcome("raised", error=f"{NOT_WRITTEN}: {callee}") if callee else \
            Outcome("not_done")
    if what == "raised" and isinstance(value, ValueError) and "read-only" in error:
        error = f"{WRITES_INPUT}: " + ", ".join(_written(fn, case, names))
    return Outcome("raised", error=error) if what == "raised" else Outcome(
        "returned", to_plain(value), "", tuple(map(to_plain, (*args, *kwargs.values()))), names)
