"""Lesson 6's derivation of the axes of batch, layer, instance and group norm
(``family_axes``): its case and judge (the exercise list is in :mod:`helpers.exercises.l06`).

The answer is a dict of four tuples: axes of an (N, C, H, W) block for batch, layer and
instance norm, axes of the block reshaped to (N, G, C/G, H, W) for group norm. Axes are
compared as sets (negative numbers allowed); a wrong set gets a sentence that says what
it computes instead.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch

#: the four normalizations: the array each is applied to, and what one statistic covers
FAMILY = {
    "batch": (4, (0, 2, 3)),
    "layer": (4, (1, 2, 3)),
    "instance": (4, (2, 3)),
    "group": (5, (2, 3, 4)),
}
WHAT = {"batch": "one channel over the whole batch and every position",
        "layer": "everything one example holds",
        "instance": "one channel of one example",
        "group": "one group of channels of one example"}
#: (name, wrong axes as a sorted tuple) -> (mistake id, why it is wrong)
WRONG = {
    ("batch", (0,)): ("per-pixel", "that is one mean per (channel, row, column): per pixel. A "
                      "conv layer uses the same filter at every position, so a channel is one "
                      "feature seen everywhere; batch norm pools its positions too"),
    ("batch", (0, 1, 2, 3)): ("whole-batch", "one mean for the whole batch; batch norm keeps one "
                              "per channel"),
    ("batch", (0, 1)): ("channels-pooled", "that pools the channels and keeps the positions "
                        "apart"),
    ("layer", (1,)): ("one-position", "that pools the channels of one position only"),
    ("layer", (0, 1, 2, 3)): ("batch-pooled", "layer norm takes nothing from the other "
                              "examples"),
    ("instance", (0, 2, 3)): ("is-batch-norm", "that is batch norm: instance norm takes nothing "
                              "from the other examples"),
    ("instance", (1, 2, 3)): ("is-layer-norm", "that is layer norm: instance norm keeps the "
                              "channels apart"),
    ("group", (2, 3)): ("is-instance-norm", "that keeps each channel of a group apart (instance "
                        "norm on the reshaped block)"),
    ("group", (1, 2, 3, 4)): ("is-layer-norm", "that pools every group: layer norm"),
    ("group", (0, 2, 3, 4)): ("batch-pooled", "group norm takes nothing from the other "
                              "examples"),
}
#: the ids axes_judge names its mistakes with (tests/mistake_catalogue.py reads them)
MISTAKE_IDS = tuple(sorted({f"{name}-{m}" for (name, _), (m, _) in WRONG.items() if m}))


def axes_cases(rng):
    return [Case("your four sets of axes")]


def _as_axes(value, name, ndim):
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in value):
        raise Mismatch(f"{name!r} should be a tuple of axis numbers such as (0, 1), got "
                       f"{value!r}"[:160])
    if not value:
        raise Mismatch(f"{name!r} is empty: which axes does one statistic run over?")
    if any(not -ndim <= a < ndim for a in value):
        raise Mismatch(f"{name!r} = {tuple(value)} has an axis outside an array of {ndim} axes")
    axes = tuple(sorted({int(a) % ndim for a in value}))
    if len(axes) != len(value):
        raise Mismatch(f"{name!r} = {tuple(value)} names an axis twice")
    return axes


def axes_judge(case, value):
    if not isinstance(value, dict):
        got = "None (did you forget `return`?)" if value is None else type(value).__name__
        raise Mismatch(f"expected a dict with the keys {', '.join(FAMILY)}, got {got}")
    missing = [k for k in FAMILY if k not in value]
    if missing:
        raise Mismatch(f"the dict lacks the key(s) {', '.join(map(repr, missing))}")
    for name, (ndim, right) in FAMILY.items():
        axes = _as_axes(value[name], name, ndim)
        if axes != right:
            where = ("(N, G, C/G, H, W)" if name == "group" else "(N, C, H, W)")
            mistake, why = WRONG.get((name, axes),
                                     ("", f"one statistic of {name} norm covers {WHAT[name]}"))
            raise Mismatch(f"{name}: {tuple(value[name])} on {where}: {why}",
                           f"{name}-{mistake}" if mistake else "")
