"""An exercise's shortcuts as the table the guard's profile hook compares code objects with.

A spec's ``shortcuts`` names course tools below ``helpers`` ("core.linreg:hessian_eigenvalues",
"core.nn:BatchNorm" for every method of that class) that compute the exercise's answer or most
of it. While the exercise's function runs (the learner's check, the grader's kernel) a call to
one of them, or to a copy compiled from the same source, fails the exercise with "uses the
course's `NAME`; write your own" (:func:`helpers.answers.guard.watching`). The table holds
fingerprints, never the functions: a name rebound in a module, or a function bound with
``from ... import`` before the call, changes nothing.
"""

from __future__ import annotations

import functools
import importlib
import inspect

from helpers.answers import guard


def _functions(obj) -> list:
    """The Python functions a shortcut stands for: itself, or a class's own methods."""
    if inspect.isfunction(obj):
        return [obj]
    if not inspect.isclass(obj):
        raise TypeError(f"a shortcut must be a function or a class, not {type(obj).__name__}")
    found = []
    for value in vars(obj).values():
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        elif isinstance(value, property):
            value = value.fget
        if inspect.isfunction(value):
            found.append(value)
    return found


def resolve(name: str):
    """The course object a shortcut names: "core.linreg:hessian_eigenvalues"."""
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(f"helpers.{module}"), attr)


@functools.lru_cache(maxsize=128)
def shortcut_table(names: tuple) -> dict:
    """{code name: {fingerprint: the name reported}} for ``guard.watching(shortcuts=...)``;
    plain data, so that the grader can send it into a kernel."""
    table: dict = {}
    for name in names:
        reported = name.partition(":")[2]
        for fn in _functions(resolve(name)):
            table.setdefault(fn.__code__.co_name, {})[guard.fingerprint(fn.__code__)] = reported
    return table
