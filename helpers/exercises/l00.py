"""The warm-up exercise of lesson 00 (00_start_here): see how checks work."""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_array, expect_close
from helpers.core.data import age_income
from helpers.exercises.spec import Exercise


def _cases(rng):
    X, _ = age_income(n=6, seed=3)
    return [
        Case("2 examples, 1 feature", (np.array([[1.0], [4.0]]),)),
        Case("age (years) and income (USD), 6 people", (X,)),
        Case("random: 10 examples, 3 features", (rng.normal(size=(10, 3)) * [1, 10, 100],)),
    ]


def _judge(case, value):
    (X,) = case.args
    if np.shape(value) == (X.shape[0],):
        raise Mismatch(f"you returned {X.shape[0]} values, one per example (row); take them "
                       "down each column (axis 0) to get one per feature", "per-example")
    if (isinstance(value, (int, float, np.number)) and not isinstance(value, bool)) or (
            isinstance(value, np.ndarray) and value.ndim == 0):
        raise Mismatch("you returned one number, the range of all the values together: "
                       "take the maximum and minimum of each feature (column) separately",
                       "one-number")
    got = expect_array(value, (X.shape[1],), "the array of ranges")
    expect_close(got, X.max(axis=0) - X.min(axis=0), "the array of ranges", rtol=1e-9)


EXERCISES = [
    Exercise(
        id="ex0_ranges",
        function="feature_ranges",
        title="Warm-up (1 point, practice): how far apart are the scales?",
        points=1,
        cases=_cases,
        judge=_judge,
        hint=("The range of a feature is its largest value minus its smallest. X has one "
              "row per example and one column per feature: you want one number per column.",
              "range_j = max_i X[i, j] − min_i X[i, j]: the maximum and the minimum are "
              "taken down each column, over the rows (NumPy calls that axis 0).",
              "X.max(axis=0) gives the largest value of every column at once; do the same "
              "with X.min and subtract."),
    ),
]
