"""Tools for judges: each checks one property of a returned value and raises
:class:`Mismatch` with a sentence that says what is wrong and how far off it is.

Values come from :func:`helpers.checking.calling.to_plain`: plain numbers, strings,
lists, tuples, dicts, numeric arrays, or an :class:`~helpers.checking.calling.Opaque`
standing for anything else.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

from helpers.checking.calling import Opaque


class Mismatch(Exception):
    """Raised by a judge: the returned value is wrong; the message says how. ``id`` names a
    known mistake in a short stable form ("eps-outside-sqrt"); "" for any other failure."""

    def __init__(self, message: str, id: str = ""):
        super().__init__(message)
        self.id = id


#: the machine epsilon of the floats a value was returned in, while it is judged at their
#: precision (:func:`precision`); 0 when it is judged at float64's
_EPS = contextvars.ContextVar("returned_eps", default=0.0)
#: an answer computed in float32 may be off by this many of its epsilons, relative to each
#: value and to the largest expected value (measured on the course's answers computed in
#: float32, tests/test_judges_property.py: at most 1e2; ten times that here)
ULPS = 1000


@contextlib.contextmanager
def precision(eps: float):
    """Judge at the precision of floats with machine epsilon ``eps`` (e.g. float32's)."""
    token = _EPS.set(float(eps))
    try:
        yield
    finally:
        _EPS.reset(token)


def tolerances(rtol: float, atol: float, expected, scale: float | None = None) -> tuple:
    """(rtol, atol), widened to the precision being judged at (see :func:`precision`):
    ULPS of its epsilon relative to each value, and to ``scale``, the size of the terms
    the expected value is made of (default: its largest entry; more where terms cancel)."""
    eps = _EPS.get()
    if not eps:
        return rtol, atol
    if scale is None:
        try:
            scale = float(np.max(np.abs(np.asarray(expected, dtype=float)), initial=0.0))
        except (TypeError, ValueError):
            scale = 0.0
    return max(rtol, ULPS * eps), max(atol, ULPS * eps * scale)


def close(a, b, rtol=1e-6, atol=1e-8, scale: float | None = None) -> bool:
    """Do ``a`` and the expected ``b`` have one shape and agree (at the judged precision)?"""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return a.shape == b.shape and bool(np.allclose(a, b, *tolerances(rtol, atol, b, scale)))
    except (TypeError, ValueError):
        return False


def _fmt(x, digits: int = 4) -> str:
    """A short, one-line rendering of a number or array (long arrays are elided)."""
    if not np.ndim(x):
        return f"{float(x):.{digits + 2}g}"
    text = np.array2string(np.asarray(x), precision=digits, threshold=6, edgeitems=2,
                           max_line_width=10_000)
    return " ".join(text.split())


def _shown(a, e) -> tuple:
    """``a`` and ``e`` rendered with enough digits to look different."""
    for digits in (4, 8, 12, 17):
        shown = _fmt(a, digits), _fmt(e, digits)
        if shown[0] != shown[1]:
            break
    return shown


def times(k: float) -> str:
    """A ratio as a learner reads it: "2×", "0.5×", "1.0003×" (never "1 times")."""
    text = f"{k:.4g}"
    return (f"{k:.4f}" if text in ("1", "-1") and k not in (1.0, -1.0) else text) + "×"


def expect_tuple(value, n: int, names: str) -> tuple:
    """The value must be a tuple (or list) of ``n`` items, e.g. names="(grad_w, grad_b)"."""
    if not isinstance(value, (tuple, list)):
        got = ("None (did you forget `return`?)" if value is None else value.description
               if isinstance(value, Opaque) else type(value).__name__)
        raise Mismatch(f"expected a tuple {names}, got {got}")
    if len(value) != n:
        raise Mismatch(f"expected a tuple of {n} values {names}, got {len(value)} values")
    return tuple(value)


def expect_array(value, shape: tuple, name: str = "the result") -> np.ndarray:
    """The value must be array-like of numbers with this shape and no NaN/inf."""
    if value is None:
        raise Mismatch(f"{name} is None (did you forget `return`?)")
    if isinstance(value, Opaque):
        raise Mismatch(f"{name} is {value.description}, not an array of numbers")
    if isinstance(value, str):
        raise Mismatch(f"{name} is a string ({value[:40]!r}); expected numbers")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"{name} is not an array of numbers (got {type(value).__name__})") from None
    if arr.shape != tuple(shape):
        extra = ""
        if arr.size == int(np.prod(shape)) and arr.size > 1:
            extra = " (same number of values: check which axis you used, or reshape)"
        raise Mismatch(f"{name} has shape {arr.shape}, expected {tuple(shape)}{extra}")
    if np.isnan(arr).any():
        raise Mismatch(f"{name} contains NaN (a division by zero, or 0/0?)")
    if np.isinf(arr).any():
        raise Mismatch(f"{name} contains inf (a division by zero, or an overflow?)")
    return arr


def has_nonfinite(value, shape: tuple) -> bool:
    """Is ``value`` an array of ``shape`` holding NaN or inf? (False when it is not such an
    array: :func:`expect_array` then says what is wrong.)"""
    try:
        raw = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return raw.shape == tuple(shape) and not np.isfinite(raw).all()


def expect_number(value, name: str = "the result") -> float:
    """The value must be one finite real number (a 0-d or size-1 array is accepted)."""
    if value is None:
        raise Mismatch(f"{name} is None (did you forget `return`?)")
    if isinstance(value, Opaque):
        raise Mismatch(f"{name} should be a number, got {value.description}")
    if isinstance(value, (str, bool)):
        raise Mismatch(f"{name} should be a number, got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"{name} should be a number, got {type(value).__name__}") from None
    if arr.size != 1:
        raise Mismatch(f"{name} should be one number, got an array of shape {arr.shape}")
    x = float(arr.reshape(()))
    if math.isnan(x):
        raise Mismatch(f"{name} is NaN")
    if math.isinf(x):
        raise Mismatch(f"{name} is infinite")
    return x


def expect_close(actual, expected, name: str = "the result", *, rtol=1e-6, atol=1e-9,
                 scale: float | None = None) -> None:
    """Numbers/arrays must agree; the message says how far off they are, and the ratio when
    every entry is the same multiple of the expected one."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        raise Mismatch(f"{name} has shape {a.shape}, expected {e.shape}")
    rtol, atol = tolerances(rtol, atol, e, scale)
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return
    diff = np.abs(a - e)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    rel = float(diff.max() / max(np.abs(e).max(), 1e-300))
    where = f" (worst at index {tuple(int(i) for i in worst)})" if worst else ""
    got, want = _shown(a, e)
    raise Mismatch(f"{name} is off by up to {float(diff.max()):.3g} (relative error "
                   f"{rel:.2g}){where}: got {got}, expected {want}{_ratio_note(a, e, atol, rel)}")


def _ratio_note(a, e, atol, rel) -> str:
    """What the ratio yours / expected says, when it is (nearly) the same in every entry."""
    with np.errstate(all="ignore"):
        r = a / e
    r = r[np.isfinite(r) & (np.abs(e) > atol)]
    if not r.size:
        return ""
    k = float(r.flat[0])
    if np.allclose(r, k, rtol=1e-6) and not math.isclose(k, 1.0, rel_tol=1e-4):
        return f"; yours is {times(k)} the expected value in every entry"
    if np.all(np.abs(r - 1) < 5e-5):
        return (f"; your values are {times(float(np.median(r)))} the expected ones in every "
                f"entry, but differ at the {rel:.0e} level: a small constant (such as ε) "
                "in the wrong place?")
    return ""


def expect_choice(value, valid: str, name: str = "your answer") -> str:
    """A multiple-choice answer: one letter among ``valid`` (case and spaces ignored)."""
    if value is None:
        raise Mismatch(f"{name} is None; return one letter, e.g. \"{valid[0]}\"")
    if not isinstance(value, str):
        got = value.description if isinstance(value, Opaque) else type(value).__name__
        raise Mismatch(f"{name} should be a letter in quotes such as \"{valid[0]}\", "
                       f"got {got}")
    letter = value.strip().strip("()").lower()
    if letter not in valid or len(letter) != 1:
        raise Mismatch(f"{name} should be one of {', '.join(valid)}; got {value!r}")
    return letter
