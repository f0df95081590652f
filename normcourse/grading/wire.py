"""Plain-data encoding of the values that cross from a grading kernel to the grader.

The grader never unpickles anything a submission produced. Values travel as
JSON made of numbers, strings, lists, dicts and arrays encoded as
``{"__ndarray__": [dtype, shape, base64 bytes]}`` (native byte order). :func:`decode`
accepts only that vocabulary and refuses anything else or anything too large with
a :class:`WireError`, so a hostile kernel can send wrong values but never code.

This module runs whole in each grading kernel (compiled by the grader and loaded there:
:mod:`normcourse.grading.probe`), so it imports only the standard library and
numpy. The class standing for a non-plain value (``helpers.checking.calling.Opaque``)
is passed in as ``opaque``.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np

#: dtypes that may cross the wire (numeric only: no object arrays).
ALLOWED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                  "uint64", "float16", "float32", "float64", "complex64", "complex128")
MAX_BYTES = 40_000_000
MAX_DEPTH = 40


class WireError(ValueError):
    """A value could not be encoded or decoded as plain data."""


def _to_plain(obj, depth, opaque):
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if obj is None or type(obj) in (bool, str):
        return obj
    if opaque is not None and isinstance(obj, opaque):
        return {"__opaque__": str(obj.description)[:200]}
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return {"__int__": str(int(obj))}
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else {"__float__": repr(x)}
    if isinstance(obj, (complex, np.complexfloating)):
        return {"__complex__": [repr(float(obj.real)), repr(float(obj.imag))]}
    if isinstance(obj, np.ndarray):
        dtype = obj.dtype.newbyteorder("=")
        if dtype.name not in ALLOWED_DTYPES:
            raise WireError(f"arrays of dtype {obj.dtype} cannot be sent")
        data = np.ascontiguousarray(obj, dtype=dtype).tobytes()
        return {"__ndarray__": [dtype.name, list(obj.shape), base64.b64encode(data).decode()]}
    if type(obj) is tuple:
        return {"__tuple__": [_to_plain(v, depth + 1, opaque) for v in obj]}
    if type(obj) is list:
        return [_to_plain(v, depth + 1, opaque) for v in obj]
    if type(obj) is dict:
        if not all(type(k) is str for k in obj):
            raise WireError("only dicts with string keys can be sent")
        return {"__dict__": {k: _to_plain(v, depth + 1, opaque) for k, v in obj.items()}}
    raise WireError(f"a value of type {type(obj).__name__} cannot be sent as plain data")


def _array(payload) -> np.ndarray:
    if not (isinstance(payload, list) and len(payload) == 3):
        raise WireError("refused an array that is not [dtype, shape, data]")
    dtype, shape, data = payload
    if dtype not in ALLOWED_DTYPES:
        raise WireError(f"refused array dtype {dtype!r}")
    if not (isinstance(shape, list) and len(shape) <= 32
            and all(type(n) is int and n >= 0 for n in shape)):
        raise WireError("refused array shape")
    if not isinstance(data, str):
        raise WireError("refused array data")
    raw = base64.b64decode(data.encode(), validate=True)
    dt = np.dtype(dtype)
    if math.prod(shape) * dt.itemsize != len(raw):
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def _from_plain(obj, depth, opaque):
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if obj is None or type(obj) in (bool, str, float, int):
        return obj
    if type(obj) is list:
        return [_from_plain(v, depth + 1, opaque) for v in obj]
    if type(obj) is dict and len(obj) == 1:
        (tag, payload), = obj.items()
        if tag == "__int__" and isinstance(payload, str) and len(payload) < 400:
            return int(payload)
        if tag == "__float__" and payload in ("nan", "inf", "-inf"):
            return float(payload)
        if tag == "__complex__" and isinstance(payload, list) and len(payload) == 2 \
                and all(isinstance(p, str) for p in payload):
            return complex(float(payload[0]), float(payload[1]))
        if tag == "__tuple__" and type(payload) is list:
            return tuple(_from_plain(v, depth + 1, opaque) for v in payload)
        if tag == "__dict__" and type(payload) is dict:
            return {str(k): _from_plain(v, depth + 1, opaque) for k, v in payload.items()}
        if tag == "__ndarray__":
            return _array(payload)
        if tag == "__opaque__" and opaque is not None and isinstance(payload, str):
            return opaque(payload)
    raise WireError("refused a value that is not plain data")


def encode(obj, opaque=None) -> str:
    """Encode plain data (numbers, str, None, lists, tuples, dicts, numeric arrays) as JSON."""
    try:
        text = json.dumps(_to_plain(obj, 0, opaque), allow_nan=False)
    except RecursionError:
        raise WireError("value is nested too deeply") from None
    if len(text) > MAX_BYTES:
        raise WireError("value is too large to send")
    return text


def decode(text: str, opaque=None):
    """Decode what :func:`encode` produced; raise :class:`WireError` on anything else."""
    if not isinstance(text, str) or len(text) > MAX_BYTES:
        raise WireError("refused a message that is not text or is too large")
    try:
        return _from_plain(json.loads(text), 0, opaque)
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # incl. base64 errors
        raise WireError(f"unreadable ({type(exc).__name__})") from None
