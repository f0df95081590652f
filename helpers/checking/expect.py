"""Tools for judges: each checks one property of a returned value and raises
:class:`Mismatch` with a sentence that says what is wrong and how far off it is.

Values come from :func:`helpers.checking.calling.to_plain`: plain numbers, strings,
lists, tuples, dicts, numeric arrays, or an :class:`~helpers.checking.calling.Opaque`
standing for anything else.
"""

from __future__ import annotations

import math

import numpy as np

from helpers.checking.calling import Opaque


class Mismatch(Exception):
    """Raised by a judge: the returned value is wrong; the message says how."""


def _fmt(x) -> str:
    """A short, one-line rendering of a number or array (long arrays are elided)."""
    if not np.ndim(x):
        return f"{float(x):.6g}"
    text = np.array2string(np.asarray(x), precision=4, threshold=6, edgeitems=2,
                           max_line_width=10_000)
    return " ".join(text.split())


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


def expect_close(actual, expected, name: str = "the result", *, rtol=1e-6, atol=1e-9) -> None:
    """Numbers/arrays must agree; the message says how far off they are."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        raise Mismatch(f"{name} has shape {a.shape}, expected {e.shape}")
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return
    diff = np.abs(a - e)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    rel = float(diff.max() / max(np.abs(e).max(), 1e-300))
    where = f" (worst at index {tuple(int(i) for i in worst)})" if worst else ""
    ratio = ""
    with np.errstate(all="ignore"):
        r = a / e
    finite = np.isfinite(r) & (np.abs(e) > atol)
    if finite.any() and np.allclose(r[finite], r[finite].flat[0], rtol=1e-6):
        k = float(r[finite].flat[0])
        if not math.isclose(k, 1.0, rel_tol=1e-6):
            ratio = f"; yours is {k:.4g} times the expected value everywhere"
    raise Mismatch(f"{name} is off by up to {float(diff.max()):.3g} "
                   f"(relative error {rel:.2g}){where}: got {_fmt(a)}, expected {_fmt(e)}{ratio}")


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
