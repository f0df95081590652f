"""Lesson 2's z-score exercises: the test cases and judges of ``zscore_fit`` and
``zscore_transform`` (the exercise list is in :mod:`helpers.exercises.l02`).

The judges check defining properties instead of comparing with a stored answer:
the deviations from a mean average to 0, std² is the mean squared deviation,
raw-space weights predict what the standardized model predicts (the standardized
array is compared with ``(X - mean) / std`` in z units). Before that, each judge recognises the likely
wrong answers (sample std, wrong axis, variance, recomputed statistics, 0/0)
and names the mistake.
"""

from __future__ import annotations

import numpy as np

from helpers.checking import expect
from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_tuple,
)
from helpers.core.data import age_income, load_iris


def close(a, b, rtol=1e-7, atol=1e-10) -> bool:
    """Agree at lesson 2's tolerances (widened for an answer computed in float32)."""
    return expect.close(a, b, rtol, atol)


# --------------------------------------------------------------------------- zscore_fit


def fit_cases(rng):
    X_ai, _ = age_income(n=50, seed=3)
    return [
        Case("iris: 150 flowers × 4 features (cm)", (load_iris().X,)),
        Case("age (years) and income (USD), 50 people", (X_ai,)),
        Case("3 examples × 2 features (n − 1 = 2 differs most from n = 3)",
             (np.array([[1.0, 10.0], [2.0, 20.0], [6.0, 60.0]]),)),
        Case("a square array: 4 examples × 4 features",
             (rng.normal(size=(4, 4)) * [1.0, 2.0, 3.0, 4.0] + [0.0, 1.0, -2.0, 5.0],)),
        Case("a constant feature (every value 7.0)",
             (np.column_stack([rng.normal(size=6), np.full(6, 7.0)]),)),
        Case("random: 20 examples × 3 features", (rng.normal(3.0, 2.0, size=(20, 3)),)),
    ]


def _per_feature(value, X, name):
    """Shape check that explains the usual axis mistakes."""
    n, d = X.shape
    arr = np.asarray(value, dtype=float) if value is not None else None
    if arr is not None and arr.shape == ():
        raise Mismatch(f"{name} is one number for the whole array; the z-score needs one "
                       f"{name} per feature (column): reduce along axis 0 only", "one-number")
    if arr is not None and arr.shape == (n,) and n != d:
        raise Mismatch(f"{name} has one value per example, shape ({n},): you used the wrong "
                       f"axis. Compute it down each column (axis 0) to get shape ({d},)",
                       "wrong-axis")
    return expect_array(value, (d,), name)


def fit_judge(case, value):
    (X,) = case.args
    n, d = X.shape
    mean, std = expect_tuple(value, 2, "(mean, std)")
    m = _per_feature(mean, X, "mean")
    s = _per_feature(std, X, "std")
    true_m, true_s = X.mean(axis=0), X.std(axis=0)
    if close(m, true_s) and close(s, true_m) and not close(true_m, true_s):
        raise Mismatch("you returned (std, mean): the order is (mean, std)", "swapped")
    if n == d and close(m, X.mean(axis=1)) and not close(X.mean(axis=1), X.mean(axis=0)):
        raise Mismatch("mean is the mean of each row (one per example, axis 1); the z-score "
                       "needs the mean of each feature, i.e. of each column: axis 0",
                       "wrong-axis")
    deviation = (X - m).mean(axis=0)  # the mean is the value the deviations average out to
    if not close(deviation, np.zeros(d), atol=1e-9 * (1 + np.abs(X).max())) and not close(
            m, X.mean(axis=0), atol=1e-9 * (1 + np.abs(X).max())):
        j = int(np.argmax(np.abs(deviation)))
        raise Mismatch(f"mean is off: the deviations x − mean of feature {j} average to "
                       f"{deviation[j]:.4g} instead of 0 (got mean {m[j]:.6g})", "mean-off")
    if (s < 0).any():
        raise Mismatch("std has a negative value; a standard deviation is ≥ 0", "negative-std")
    msd = ((X - m) ** 2).mean(axis=0)  # mean squared deviation = population variance
    if n > 1 and close(s, np.sqrt(msd * n / (n - 1))) and not close(msd, msd * n / (n - 1)):
        raise Mismatch(f"std is the sample standard deviation (it divides by n − 1 = {n - 1}); "
                       f"the lecture's formula divides by n = {n}: the population standard "
                       "deviation (NumPy's default)", "sample-std")
    const = msd == 0
    if (const.any() and close(s[~const], np.sqrt(msd[~const]))
            and np.allclose(s[const], 1.0)):
        j = int(np.flatnonzero(const)[0])
        raise Mismatch(f"std of feature {j} is 1, but every value of that feature is the same: "
                       "its standard deviation is 0. Return the true std (0) here; the zero "
                       "is handled in zscore_transform (divide by 1 there)", "std-0-as-1")
    if close(s, msd) and not close(msd, np.sqrt(msd)):
        raise Mismatch("std looks like the variance (the mean squared deviation); "
                       "take its square root", "variance")
    if n == d and close(s, X.std(axis=1)) and not close(X.std(axis=1), np.sqrt(msd)):
        raise Mismatch("std is the standard deviation of each row (axis 1); "
                       "use each column: axis 0", "wrong-axis")
    expect_close(s, np.sqrt(msd), "std (vs √ of the mean squared deviation from the mean)",
                 rtol=1e-7, atol=1e-12)


# --------------------------------------------------------------------------- zscore_transform


def transform_cases(rng):
    iris = load_iris().X
    X_train, _ = age_income(n=100, seed=4)
    m_train, s_train = X_train.mean(axis=0), X_train.std(axis=0)
    X_old = X_train[X_train[:, 0] > 40][:8]  # older people only: a shifted test set
    X_const = np.column_stack([rng.normal(5.0, 2.0, size=6), np.full(6, 3.0),
                               rng.normal(size=6)])
    X_rand = rng.normal(2.0, 3.0, size=(10, 3))
    return [
        Case("iris with its own mean and std", (iris, iris.mean(axis=0), iris.std(axis=0))),
        Case("a constant feature: std 0 there, expected 0 (not NaN)",
             (X_const, X_const.mean(axis=0), X_const.std(axis=0))),
        Case("8 people over 40, with the mean and std of 100 other people",
             (X_old, m_train, s_train)),
        Case("one example, with the mean and std of 100 other people",
             (np.array([[35.0, 60_000.0]]), m_train, s_train)),
        Case("random: 10 × 3 with given mean and std",
             (X_rand, np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.0, 4.0]))),
    ]


def transform_judge(case, value):
    X, mean, std = case.args
    if value is None:
        raise Mismatch("the result is None (did you forget `return`?)")
    try:
        Z = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"the result is not an array of numbers ({type(value).__name__})") from None
    if Z.shape == X.shape and not np.isfinite(Z).all():
        bad = sorted({int(j) for j in np.nonzero(~np.isfinite(Z))[1]})
        if all(std[j] == 0 for j in bad):
            raise Mismatch(f"the result has NaN or inf in feature {bad[0]}, whose std is 0: "
                           "(x − mean)/0 is 0/0 = NaN. A feature with standard deviation 0 "
                           "must become 0, not NaN", "zero-std-nan")
        bad = [j for j in bad if std[j] != 0]
        if X[:, bad].std(axis=0).min() == 0:
            raise Mismatch(f"the result has NaN or inf in feature {bad[0]}, although the std you "
                           "were given is not 0 there: did you recompute the std from X (here "
                           "it is 0: " + ("a single example" if len(X) == 1 else
                                           "that feature is constant in X") +
                           ")? Use the mean and std passed in", "own-statistics")
        raise Mismatch(f"the result has NaN or inf in feature {bad[0]}, although the std you "
                       "were given is not 0 there: only divide by the std passed in (by 1 where "
                       "it is 0)", "nan")
    Z = expect_array(value, X.shape, "the standardized array")
    ok = std > 0
    own_m, own_s = X.mean(axis=0), X.std(axis=0)
    own = (X - own_m) / np.where(own_s == 0, 1, own_s)
    right = (X - mean) / np.where(ok, std, 1)
    if close(Z, own) and not close(own, right):
        raise Mismatch("you standardized X with its own mean and std; use the mean and std "
                       "passed in (the training statistics), or test data and new examples "
                       "land in the wrong place", "own-statistics")
    for wrong, why, mistake in (
            ((X - mean) / np.where(ok, std**2, 1), "you divided by the variance (std²); divide "
             "by the standard deviation", "variance"),
            (X - mean, "you subtracted the mean but did not divide by std", "no-divide"),
            (X / np.where(ok, std, 1), "you divided by std but did not subtract the mean first",
             "no-center")):
        if close(Z, wrong) and not close(wrong, right):
            raise Mismatch(why, mistake)
    if not ok.all():
        if not close(Z[:, ~ok], np.zeros_like(Z[:, ~ok]), atol=1e-9):
            raise Mismatch("a feature with std 0 should map to 0 (as scikit-learn does), "
                           f"got {Z[:, ~ok].ravel()[:3]}", "zero-std-not-0")
    dev, Zok = (X - mean)[:, ok], Z[:, ok]
    if (np.abs(Zok) > 1e-12).all():  # the std the learner divided by, feature by feature
        implied = np.median(dev / Zok, axis=0)
        eps = implied - std[ok]
        if ((eps > 0).all() and np.allclose(eps, eps[0], rtol=1e-3)
                and not close(implied, std[ok], rtol=1e-7, atol=0)):
            raise Mismatch(f"you divided by std + {eps[0]:.1g} instead of std: the result is "
                           "slightly off everywhere. Divide by std itself, and by 1 only where "
                           "std is 0", "std-plus-eps")
    # compared in standard deviations (z units), so that a feature's own scale (cm, USD)
    # does not change how close is close enough; a tiny epsilon such as 1e-8 passes
    expect_close(Z[:, ok], right[:, ok], "the standardized array", rtol=1e-6, atol=1e-8)
