"""Plain-data encoding of values that cross between a learner's kernel and the grader.

The grader never unpickles anything a submission produced. Values travel as
JSON made of numbers, strings, lists, dicts and arrays encoded as
``{"__ndarray__": [dtype, shape, base64 bytes]}``. :func:`decode` accepts only
that vocabulary and refuses anything else or anything too large, so a hostile
kernel can send wrong values but never code.

Used by ``helpers.checks`` (lessons 1-3) and ``normcourse.grade``.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np

#: dtypes that may cross the wire (numeric only: no object arrays).
ALLOWED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                  "uint64", "float16", "float32", "float64", "complex64", "complex128")
MAX_BYTES = 20_000_000
MAX_DEPTH = 20


class WireError(ValueError):
    """A value could not be encoded or decoded as plain data."""


def _to_plain(obj, depth=0):
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return {"__int__": str(int(obj))}
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else {"__float__": repr(x)}
    if isinstance(obj, (complex, np.complexfloating)):
        return {"__complex__": [repr(obj.real), repr(obj.imag)]}
    if isinstance(obj, np.ndarray):
        if obj.dtype.name not in ALLOWED_DTYPES:
            raise WireError(f"arrays of dtype {obj.dtype} cannot be sent")
        data = np.ascontiguousarray(obj).tobytes()
        return {"__ndarray__": [obj.dtype.name, list(obj.shape), base64.b64encode(data).decode()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_to_plain(v, depth + 1) for v in obj]}
    if isinstance(obj, list):
        return [_to_plain(v, depth + 1) for v in obj]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise WireError("only dicts with string keys can be sent")
        return {"__dict__": {k: _to_plain(v, depth + 1) for k, v in obj.items()}}
    raise WireError(f"a value of type {type(obj).__name__} cannot be sent as plain data")


def _from_plain(obj, depth=0):
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if obj is None or isinstance(obj, (bool, str, float)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, list):
        return [_from_plain(v, depth + 1) for v in obj]
    if isinstance(obj, dict) and len(obj) == 1:
        (tag, payload), = obj.items()
        if tag == "__int__" and isinstance(payload, str) and len(payload) < 400:
            return int(payload)
        if tag == "__float__" and payload in ("nan", "inf", "-inf"):
            return float(payload)
        if tag == "__complex__" and isinstance(payload, list) and len(payload) == 2:
            return complex(float(payload[0]), float(payload[1]))
        if tag == "__tuple__" and isinstance(payload, list):
            return tuple(_from_plain(v, depth + 1) for v in payload)
        if tag == "__dict__" and isinstance(payload, dict):
            return {str(k): _from_plain(v, depth + 1) for k, v in payload.items()}
        if tag == "__ndarray__" and isinstance(payload, list) and len(payload) == 3:
            dtype, shape, data = payload
            if dtype not in ALLOWED_DTYPES:
                raise WireError(f"refused array dtype {dtype!r}")
            if not (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)):
                raise WireError("refused array shape")
            raw = base64.b64decode(data.encode(), validate=True) if isinstance(data, str) else b""
            dt = np.dtype(dtype)
            if int(np.prod(shape, dtype=np.int64)) * dt.itemsize != len(raw):
                raise WireError("array data does not match its shape")
            return np.frombuffer(raw, dtype=dt).reshape(shape).copy()
    raise WireError("refused a value that is not plain data")


def encode(obj) -> str:
    """Encode plain data (numbers, str, None, lists, tuples, dicts, numeric arrays) as JSON."""
    text = json.dumps(_to_plain(obj), allow_nan=False)
    if len(text) > MAX_BYTES:
        raise WireError("value is too large to send")
    return text


def decode(text: str):
    """Decode what :func:`encode` produced; raise :class:`WireError` on anything else."""
    if not isinstance(text, str) or len(text) > MAX_BYTES:
        raise WireError("refused a message that is not text or is too large")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"not JSON: {exc}") from None
    return _from_plain(obj)
