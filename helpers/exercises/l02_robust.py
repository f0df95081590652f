"""Lesson 2's experiment exercise: how far do three rich people move everyone else's scaled values?

The learner's ``outlier_shift(X, extra)`` fits the z-score and the robust scaling
(median, interquartile range) on ``X`` and on ``X`` plus the rows ``extra``, scales
``X`` both ways and returns, for each scaling, the largest change of a scaled value,
in standard deviations of that scaled feature. The judge measures the same thing in
its own process (on fresh random data in the grader) and names the likely mistakes:
swapped order, mean/std used for both, IQR units instead of standard deviations,
the extra rows included in the measurement.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, close, expect_number, expect_tuple, times
from helpers.core.data import age_income

#: the three very rich people of the lesson: age (years), income (USD)
RICH = np.array([[40.0, 2e6], [45.0, 3e6], [50.0, 5e6]])


def outlier_cases(rng):
    X, _ = age_income(n=200, seed=0)
    X_small, _ = age_income(n=40, seed=int(rng.integers(1, 1000)))
    skewed = rng.lognormal(0.0, 0.5, size=(30, 2)) * [1.0, 100.0]
    return [
        Case("the lesson's 200 people plus the 3 very rich", (X, RICH)),
        Case("40 other people plus the 3 very rich", (X_small, RICH)),
        Case("one feature, 5 values plus one outlier at 100",
             (np.array([[1.0], [2.0], [3.0], [4.0], [6.0]]), np.array([[100.0]]))),
        Case("random: 30 skewed examples, 2 features, plus 2 outliers",
             (skewed, skewed.max(axis=0) * [[5.0, 8.0], [9.0, 4.0]])),
    ]


def _shifts(X, extra, center, spread, rows=None):
    """(largest change in std of the scaled feature, same in scaled units), over ``rows``."""
    both = np.vstack([X, extra])
    rows = X if rows is None else rows
    s0 = np.where(spread(X) == 0, 1.0, spread(X))
    s1 = np.where(spread(both) == 0, 1.0, spread(both))
    change = np.abs((rows - center(both)) / s1 - (rows - center(X)) / s0)
    sd = ((X - center(X)) / s0).std(axis=0)
    return float((change / np.where(sd == 0, 1.0, sd)).max()), float(change.max())


def _mean(A):
    return A.mean(axis=0)


def _std(A):
    return A.std(axis=0)


def _median(A):
    return np.median(A, axis=0)


def _iqr(A):
    q1, q3 = np.percentile(A, [25, 75], axis=0)
    return q3 - q1


def outlier_judge(case, value):
    X, extra = case.args
    z_value, r_value = expect_tuple(value, 2, "(z-score shift, robust shift)")
    z = expect_number(z_value, "the z-score shift")
    r = expect_number(r_value, "the robust shift")
    z_ref, _ = _shifts(X, extra, _mean, _std)
    r_ref, r_iqr_units = _shifts(X, extra, _median, _iqr)

    def near(a, b):
        return close(a, b, rtol=1e-6, atol=1e-9)

    if z < 0 or r < 0:
        raise Mismatch("a shift is a size (the largest |change|): it cannot be negative",
                       "negative")
    if near(z, r_ref) and near(r, z_ref) and not near(z_ref, r_ref):
        raise Mismatch("you returned (robust shift, z-score shift): the order is "
                       "(z-score, robust)", "swapped")
    if near(r, z_ref) and not near(z_ref, r_ref):
        raise Mismatch("your robust shift equals the z-score shift: robust scaling centres "
                       "on the median and divides by the interquartile range, not the mean "
                       "and the standard deviation", "robust-is-zscore")
    if near(r, r_iqr_units) and not near(r_iqr_units, r_ref):
        raise Mismatch("your robust shift is in IQR units. Divide each change by the standard "
                       "deviation of that robustly scaled feature (fitted on X alone), so "
                       "that both shifts are in the same unit", "iqr-units")
    with_extra_z = _shifts(X, extra, _mean, _std, rows=np.vstack([X, extra]))[0]
    if near(z, with_extra_z) and not near(with_extra_z, z_ref):
        raise Mismatch("you measured the change of the extra rows too: measure how far the "
                       "people of X move (the extra rows are not in the first fit)",
                       "extra-rows-measured")
    if not near(z, z_ref):
        raise Mismatch(f"your z-score shift is {z:.6g}; measured here: {z_ref:.6g} "
                       f"({times(z / z_ref) if z_ref else 'infinitely many times'} that). Fit "
                       "mean and std once on X and once on X plus extra, scale X with each, and "
                       "take the largest |difference|, in standard deviations of the first "
                       "scaled X")
    if not near(r, r_ref):
        raise Mismatch(f"your robust shift is {r:.6g}; measured here: {r_ref:.6g} "
                       f"({times(r / r_ref) if r_ref else 'infinitely many times'} that). "
                       "Median and IQR (the 75th minus the 25th percentile), each per feature, "
                       "with NumPy's default interpolation")


OUTLIER_HINT = (
    "Do the same experiment twice, once per scaling: fit the statistics on X, then on X "
    "with the extra rows stacked under it; scale the rows of X with each fit and see how "
    "far they moved. Put both changes in one unit: the spread of the first scaled X.",
    "For a scaling with centre c and spread s, each fitted per feature: before = (X − c(X)) "
    "/ s(X) and after = (X − c(X with extra)) / s(X with extra). The shift is the largest "
    "|after − before| over all entries, each divided by the standard deviation of its "
    "feature in before. Z-score: c = mean, s = std; robust: c = median, s = 75th − 25th "
    "percentile.",
    "both = np.vstack([X, extra]); for the robust one, c = lambda A: np.median(A, axis=0) "
    "and s = lambda A: np.subtract(*np.percentile(A, [75, 25], axis=0)); before = (X - "
    "c(X)) / s(X); after = (X - c(both)) / s(both); shift = float((np.abs(after - before) "
    "/ before.std(axis=0)).max()); return (z_shift, robust_shift).",
)
