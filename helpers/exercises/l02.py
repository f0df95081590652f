"""Exercises of lesson 2 (02_standardization): z-score standardization, done right.

The judges check defining properties instead of comparing with a stored answer
(see :mod:`helpers.exercises.l02_zscore` for ``zscore_fit`` and ``zscore_transform``);
``weights_to_raw``'s judge checks that raw-space weights predict what the
standardized model predicts, after naming the likely mistakes; the experiment
``outlier_shift`` is measured again by its judge (:mod:`helpers.exercises.l02_robust`).
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_number,
    expect_tuple,
)
from helpers.core.data import age_income
from helpers.exercises.l02_robust import OUTLIER_HINT, outlier_cases, outlier_judge
from helpers.exercises.l02_zscore import (
    close,
    fit_cases,
    fit_judge,
    transform_cases,
    transform_judge,
)
from helpers.exercises.spec import Exercise, concept_question

# --------------------------------------------------------------------------- weights_to_raw


def _weights_cases(rng):
    X, y = age_income(n=200, seed=0)
    mean, std = X.mean(axis=0), X.std(axis=0)
    Xs = (X - mean) / std
    theta = np.linalg.lstsq(np.column_stack([Xs, np.ones(len(y))]), y, rcond=None)[0]
    probes = rng.normal(size=(6, 4))  # standardized coordinates of probe points
    return [
        Case("age/income: weights fitted on standardized data",
             (theta[:2], float(theta[2]), mean, std), expected=probes[:, :2]),
        Case("one feature: w = [2], b = 1, mean = [10], std = [5]",
             (np.array([2.0]), 1.0, np.array([10.0]), np.array([5.0])), expected=probes[:, :1]),
        Case("random: 4 features",
             (rng.normal(size=4), float(rng.normal()), rng.normal(size=4) * 10,
              rng.uniform(0.5, 3.0, size=4)), expected=probes),
        Case("a constant feature (std 0): no division by zero",
             (np.array([0.5, 0.7]), 2.0, np.array([4.0, 3.0]), np.array([1.5, 0.0])),
             expected=probes[:, :2]),
    ]


def _weights_judge(case, value):
    w, b, mean, std = case.args
    d = len(w)
    w_raw, b_raw = expect_tuple(value, 2, "(w_raw, b_raw)")
    arr = np.asarray(w_raw, dtype=float) if w_raw is not None else None
    if arr is not None and arr.shape == (d,) and not np.isfinite(arr).all():
        j = int(np.flatnonzero(~np.isfinite(arr))[0])
        extra = (f" Feature {j} has std 0: x'_j is always 0, so its weight does not matter; "
                 "divide by 1 where std is 0, as the z-score did") if std[j] == 0 else ""
        raise Mismatch(f"w_raw contains NaN or inf (a division by zero?).{extra}", "zero-std-nan")
    wr = expect_array(w_raw, (d,), "w_raw")
    br = expect_number(b_raw, "b_raw")
    ok = std > 0
    safe = np.where(ok, std, 1.0)
    if close(wr[ok], (w * std)[ok]) and not close((w * std)[ok], (w / safe)[ok]):
        raise Mismatch("w_raw is w × std; a weight w on x/σ is a weight w/σ on x: divide by std",
                       "times-std")
    shift = float((w / safe) @ mean)
    if abs(shift) > 1e-12:
        right = b - shift
        if close(br, b, rtol=1e-9, atol=1e-12) and not close(right, b, rtol=1e-9, atol=1e-12):
            raise Mismatch("b_raw equals b, but subtracting the mean moves into the bias: "
                           "b_raw = b − Σ_j w_j μ_j / σ_j", "bias-unchanged")
        if close(br, b + shift, rtol=1e-9, atol=1e-12) and not close(right, b + shift,
                                                                     rtol=1e-9, atol=1e-12):
            raise Mismatch("the bias correction has the wrong sign: b_raw = b − Σ_j w_j μ_j / "
                           "σ_j", "bias-sign")
        if not ok.all() or not np.allclose(std, 1):
            if close(br, b - float(w @ mean), rtol=1e-9, atol=1e-12) and not close(
                    right, b - float(w @ mean), rtol=1e-9, atol=1e-12):
                raise Mismatch("b_raw = b − Σ_j w_j μ_j forgets that the mean is divided by σ "
                               "too: b_raw = b − Σ_j w_j μ_j / σ_j", "bias-no-std")
    Z = np.asarray(case.expected, float) * ok  # a feature with std 0 is always 0 after scaling
    X_raw = mean + Z * std
    expect_close(X_raw @ wr + br, Z @ w + b,
                 "predictions of (w_raw, b_raw) on raw inputs vs the standardized model",
                 rtol=1e-7, atol=1e-9)


EXERCISES = [
    Exercise(
        id="ex2_zscore_fit",
        function="zscore_fit",
        title="Exercise 1 (2 points): fit the z-score statistics",
        points=2,
        cases=fit_cases,
        judge=fit_judge,
        shortcuts=("core.scaling:fit_scaling", "core.scaling:scale_features",
                   "core.scaling:standardized"),
        hint=("Shift a feature by a and its mean moves by a; divide it by s and its standard "
              "deviation is divided by s. Which a and s give mean 0 and standard deviation "
              "1? One pair per feature, i.e. per column of X.",
              "a_j = μ_j = (1/n) Σ_i x_ij and s_j = σ_j = √((1/n) Σ_i (x_ij − μ_j)²): the "
              "population standard deviation, which divides by n (not n − 1).",
              "return X.mean(axis=0), X.std(axis=0)  (axis=0 goes down the columns; np.std "
              "divides by n by default, ddof=0)"),
    ),
    Exercise(
        id="ex2_zscore_transform",
        function="zscore_transform",
        title="Exercise 2 (2 points): apply the z-score",
        points=2,
        cases=transform_cases,
        judge=transform_judge,
        shortcuts=("core.scaling:apply_scaling", "core.scaling:scale_features",
                   "core.scaling:fit_scaling", "core.scaling:safe_scale",
                   "core.scaling:standardized"),
        hint=("Use only the statistics you are given, never ones recomputed from X; think "
              "about what a feature with standard deviation 0 should become.",
              "x' = (x − mean) / std per feature, as a new array; where std is 0 divide by 1, "
              "so that the constant feature becomes 0.",
              "return (X - mean) / np.where(std == 0, 1.0, std)"),
    ),
    concept_question(
        id="ex2_concept_bounded",
        function="answer_bounded_question",
        title="Exercise 3 (1 point, prediction): the range of z-scores",
        digest="e4d9f2d517a89220d4d16fc297134f9998a8beff189e8b2a1303fbc1b9dbbafd",
        wrong={"a": "A standard deviation of 1 is an average size, not a bound: look at "
                    "the largest standardized income printed below.",
               "b": "The 68–95–99.7 rule describes normal data; skewed data can go much "
                    "further, and even normal data can exceed 3.",
               "d": "That is min–max scaling, not the z-score: z-scores are negative "
                    "below the mean."},
        hint=("Is a standard deviation a bound or an average size? Think of one person "
              "far richer than everyone else.",
              "z = (x − μ)/σ: how large is z for an income of μ + 6σ? Then run the table "
              "below and look at the largest standardized income."),
    ),
    concept_question(
        id="ex2_concept_normal",
        function="answer_normal_question",
        title="Exercise 4 (1 point, prediction): does standardizing make data normal?",
        digest="f44fc8bdb204cfd152bb5ac74e4bc1f8e6b0c059ee456d89d77b7dfd6bf949b9",
        wrong={"a": "Standardizing only shifts and rescales: the skewness printed below "
                    "is the same before and after.",
               "c": "Shifting and rescaling cannot make a skewed histogram symmetric.",
               "d": "Shifting and rescaling cannot change the shape of the histogram."},
        hint=("What can subtracting a number and dividing by a positive number do to the "
              "shape of a histogram?",
              "Every value moves by the same affine map x → (x − μ)/σ: the bars keep their "
              "heights and order. Compare the two histograms and their skewness below."),
    ),
    concept_question(
        id="ex2_concept_test_stats",
        function="answer_test_stats_question",
        title="Exercise 5 (1 point, prediction): statistics at prediction time",
        digest="58509b56b995cde56a86e2b016348c341a841e7304b46b31f75807697accc13c",
        wrong={"b": "One example has standard deviation 0 and is its own mean: every "
                    "person would become 0 and get the same prediction.",
               "c": "Then the test data shape the model you evaluate: a leak.",
               "d": "The test set's own statistics move its examples: a shifted test "
                    "set would look like the training set, as shown below."},
        hint=("The model learned its weights for inputs scaled in one particular way.",
              "A weight multiplies (x − μ)/σ for the μ and σ used in training: the same "
              "person must get the same input at prediction time. What would a single new "
              "person's own σ be?"),
    ),
    Exercise(
        id="ex2_weights_to_raw",
        function="weights_to_raw",
        title="Exercise 6 (2 points): weights for raw inputs",
        points=2,
        cases=_weights_cases,
        judge=_weights_judge,
        hint=("Write the standardized model's prediction with x_j itself instead of "
              "(x_j − μ_j)/σ_j, and collect what multiplies each x_j and what is left over.",
              "w · (x − μ)/σ + b = Σ_j (w_j/σ_j) x_j + (b − Σ_j w_j μ_j/σ_j), so w_raw_j = "
              "w_j/σ_j and b_raw = b − Σ_j w_raw_j μ_j. A feature with σ = 0 was divided "
              "by 1: use 1 there.",
              "w_raw = w / np.where(std == 0, 1.0, std);  b_raw = b - w_raw @ mean;  "
              "return w_raw, float(b_raw)"),
    ),
    Exercise(
        id="ex2_outlier_shift",
        function="outlier_shift",
        title="Exercise 7 (2 points, experiment): three rich people, two scalings",
        points=2,
        cases=outlier_cases,
        judge=outlier_judge,
        shortcuts=("core.scaling:outlier_shift", "core.scaling:fit_scaling",
                   "core.scaling:scale_features"),
        hint=OUTLIER_HINT,
    ),
    concept_question(
        id="ex2_concept_sgd",
        function="answer_sgd_question",
        title="Exercise 8 (1 point, prediction): SGD at GD's learning rate",
        digest="f9472f846bb3e444c0cc161e7a93b9975e6d5379e0bd4c0411d8818d68472418",
        wrong={"a": "The single-example gradients do average to the full gradient, but "
                    "each update uses one of them, with its own curvature.",
               "c": "Count, in the cell below, the examples for which α is above their "
                    "own stable limit.",
               "d": "Noise alone makes SGD wander around the minimum, it does not make it "
                    "blow up: blowing up needs a step that overshoots by more than it "
                    "corrects, i.e. curvature."},
        hint=("Apply lesson 1's one-weight argument to the loss of a single example, "
              "ℓ_i(w) = (x_i · w − y_i)², instead of the average loss.",
              "ℓ_i has Hessian 2 x_i x_iᵀ, whose only non-zero eigenvalue is 2‖x_i‖². An "
              "update on example i is stable along x_i only if α < 2 / (2‖x_i‖²). How does "
              "2‖x_i‖² compare with λ_max, the average curvature's largest eigenvalue?"),
    ),
]
