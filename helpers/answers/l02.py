"""Lesson 2's graded functions, the course's version (see :mod:`helpers.answers`).

Population statistics (divide by n), as in the lecture, NumPy's default and
scikit-learn's ``StandardScaler``; a zero standard deviation (a constant
feature) is replaced by 1 when dividing, so the feature becomes 0, not NaN.
"""

from __future__ import annotations

import numpy as np


def _as_2d(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_features), got shape {X.shape}")
    return X


def _nonzero(std) -> np.ndarray:
    std = np.array(std, dtype=float)
    std[std == 0] = 1.0
    return std


def zscore_fit(X, ddof: int = 0):
    """Per-feature mean and standard deviation; X (n, d) -> (mean (d,), std (d,)).

    ``ddof=1`` gives the sample standard deviation (divide by n − 1), for comparison only.
    """
    X = _as_2d(X)
    return X.mean(axis=0), X.std(axis=0, ddof=ddof)


def zscore_transform(X, mean, std) -> np.ndarray:
    """A standardized copy (X − mean) / std; features with std 0 map to X − mean."""
    return (_as_2d(X) - np.asarray(mean, dtype=float)) / _nonzero(std)


def robust_fit(X):
    """Per-feature median and interquartile range (75th − 25th percentile, NumPy's default
    linear interpolation); X (n, d) -> (median (d,), iqr (d,)). Robust scaling's statistics."""
    X = _as_2d(X)
    q1, median, q3 = np.percentile(X, [25, 50, 75], axis=0)
    return median, q3 - q1


def outlier_shift(X, extra):
    """How far the rows ``extra`` move X's scaled values when added to the fitting data.

    Returns (z-score shift, robust shift): for each scaling, the largest |change| of any
    scaled value of X (n, d) when the statistics are fitted on X plus ``extra`` (k, d)
    instead of X alone, in standard deviations of that scaled feature (as first fitted).
    """
    X, both = _as_2d(X), np.vstack([_as_2d(X), _as_2d(extra)])
    shifts = []
    for fit in (zscore_fit, robust_fit):
        (c0, s0), (c1, s1) = fit(X), fit(both)
        before = (X - c0) / _nonzero(s0)
        change = np.abs((X - c1) / _nonzero(s1) - before)
        shifts.append(float((change / _nonzero(before.std(axis=0))).max()))
    return tuple(shifts)


def weights_to_raw(w, b, mean, std):
    """Weights for raw inputs that give the same predictions as (w, b) on standardized ones.

    w · (x − mean)/std + b = (w/std) · x + (b − Σ_j w_j mean_j / std_j), so
    w_raw = w / std and b_raw = b − w_raw · mean.
    """
    w_raw = np.asarray(w, dtype=float) / _nonzero(std)
    return w_raw, float(b - w_raw @ np.asarray(mean, dtype=float))
