"""Exercises of lesson 2 (02_standardization): z-score standardization, done right.

The judges check defining properties instead of comparing with a stored answer
(see :mod:`helpers.exercises.l02_zscore` for ``zscore_fit`` and ``zscore_transform``);
``weights_to_raw``'s judge checks that raw-space weights predict what the
standardized model predicts, after naming the likely mistakes; the experiment
``rich_experiment`` chooses its settings, and its judge re-runs them
(:mod:`helpers.exercises.l02_rich`); the learner interprets it in a written answer
(:mod:`helpers.exercises.written`).
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
from helpers.exercises.l02_rich import RICH_HINT, rich_cases, rich_judge
from helpers.exercises.l02_zscore import (
    close,
    fit_cases,
    fit_judge,
    transform_cases,
    transform_judge,
)
from helpers.exercises.predict import prediction
from helpers.exercises.spec import Exercise
from helpers.exercises.written import written

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
        title="Exercise 1 (3 points, derive): the shift and scale of the z-score",
        points=3,
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
        title="Exercise 2 (3 points, implement from your derivation): apply the z-score",
        points=3,
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
    prediction(
        id="ex2_predict_bounded",
        function="predict_bounded",
        title="Exercise 3 (0 points, predict): the range of z-scores",
        options={
                 'a': 'only values in [−1, 1], because the standard deviation is 1',
                 'b': 'only values in [−3, 3], because of the 68–95–99.7 rule',
                 'c': 'no fixed range: a person 6 standard deviations above the mean gets about 6',
                 'd': 'only values in [0, 1]'},
        observed="fbf5e61b5d80dd4d186a237ed9e5960af7b9219e1dbd1d048dba8f091dfdd02c",
    ),
    prediction(
        id="ex2_predict_normal",
        function="predict_normal",
        title="Exercise 4 (0 points, predict): does standardizing make data normal?",
        options={
                 'a': 'bell-shaped: standardization makes data normally distributed',
                 'b': 'the same right-skewed shape, shifted and rescaled',
                 'c': 'symmetric around 0, but not bell-shaped',
                 'd': 'flat (uniform) between its minimum and maximum'},
        observed="1c181bfe8223d2856974482532ce124efbeb611f5d7388abb9aa74b31f0a5c82",
    ),
    prediction(
        id="ex2_predict_test_stats",
        function="predict_test_stats",
        title="Exercise 5 (0 points, predict): statistics at prediction time",
        options={
                 'a': 'the mean and standard deviation of the training data',
                 'b': "the mean and standard deviation of the new person's own features",
                 'c': 'those of the training and test data together',
                 'd': 'those of the test set'},
        observed="9dbacc4d5ce2c33b4529eb39f12396804cb7b13017e99519137ae2a9b1ac02bb",
    ),
    Exercise(
        id="ex2_weights_to_raw",
        function="weights_to_raw",
        title="Exercise 6 (3 points, derive): weights for raw inputs",
        points=3,
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
        id="ex2_rich_experiment",
        function="rich_experiment",
        title="Exercise 7 (3 points, experiment): how far can rich people stand out?",
        points=3,
        cases=rich_cases,
        judge=rich_judge,
        shortcuts=("core.scaling:fit_scaling", "core.scaling:apply_scaling",
                   "core.scaling:scale_features", "core.scaling:standardized",
                   "core.scaling:outlier_shift"),
        hint=RICH_HINT,
    ),
    written(
        id="ex2_interpret_rich",
        function="interpret_rich",
        title="Exercise 8 (0 points, written): what the rich people do to the z-score",
        min_words=15,
    ),
    prediction(
        id="ex2_predict_sgd",
        function="predict_sgd",
        title="Exercise 9 (0 points, predict): SGD at GD's learning rate",
        options={
                 'a': 'it converges like GD: on average, the single-example gradients are the full gradient',
                 'b': 'it blows up: for many single examples the loss is more curved than the average loss',
                 'c': 'it converges, only along a noisier path',
                 'd': 'it blows up because its gradients are noisy, whatever the curvature'},
        observed="5259caadc5bedd63939697b475b380861dba270c86b6aa0f58204823fb5d92dd",
    ),
]
