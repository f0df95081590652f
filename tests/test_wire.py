import json

import numpy as np
import pytest

from normcourse.grading.wire import WireError, decode, encode


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 1.5, float("inf"), "text", [1, "a", None], (1, 2.0),
    {"a": (np.arange(3), [np.float32(2.5)])}, np.zeros((0, 3)), np.arange(12).reshape(3, 4),
    np.array([1 + 2j]), np.array([True, False]),
])
def test_round_trip(value):
    back = decode(encode(value))
    if isinstance(value, dict):
        assert back.keys() == value.keys()
        np.testing.assert_array_equal(back["a"][0], value["a"][0])
        assert back["a"][1] == [2.5]
    elif isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        np.testing.assert_array_equal(back, value)
    else:
        assert back == value and type(back) is type(value)


def test_nan_survives():
    assert np.isnan(decode(encode(float("nan"))))


def test_arrays_of_objects_are_refused():
    with pytest.raises(WireError):
        encode(np.array([object()], dtype=object))
    with pytest.raises(WireError):
        encode(object())


@pytest.mark.parametrize("text", [
    "not json", json.dumps({"__ndarray__": ["object", [1], ""]}),
    json.dumps({"__ndarray__": ["float64", [2], "AAAA"]}),  # wrong byte count
    json.dumps({"__pickle__": "gASV"}), json.dumps({"a": 1, "b": 2}),
    json.dumps({"__ndarray__": ["float64", [-1], ""]}), json.dumps({"__int__": "1" * 500}),
    json.dumps({"__int__": "12x"}), json.dumps({"__complex__": ["1", "j"]}),
    json.dumps({"__ndarray__": ["float64", [1], "@@@@@@@@@@@="]}),  # not base64
    json.dumps({"__float__": "1e999"}), "[" * 100_000, json.dumps({"__tuple__": 5}),
])
def test_hostile_messages_are_refused(text):
    with pytest.raises(WireError):
        decode(text)


def test_decoded_arrays_are_writable_copies():
    arr = decode(encode(np.ones(3)))
    arr[0] = 5.0
    assert arr[0] == 5.0


@pytest.mark.parametrize("value", [np.arange(3, dtype=">f8"), np.arange(3, dtype=">i4")])
def test_byte_order_is_normalised_and_values_survive(value):
    back = decode(encode(value))
    assert back.dtype.isnative and back.dtype.kind == value.dtype.kind
    np.testing.assert_array_equal(back, value)


def test_values_too_deep_or_too_large_are_refused_when_sent():
    deep = 1.0
    for _ in range(100):
        deep = [deep]
    with pytest.raises(WireError, match="nested too deeply"):
        encode(deep)
    with pytest.raises(WireError, match="too large"):
        encode("x" * 41_000_000)
