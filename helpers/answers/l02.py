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


def rich_experiment(income):
    """How far do rich people stand out after scaling? The lesson's experiment, measured.

    income : ndarray, shape (n,), the incomes of ordinary people (USD)
    returns a dict: the settings chosen (``copies``, ``incomes``) and, for each number k of
    copies and each rich income v, a rich person's scaled income when k people earning v
    join the data and the scaling is fitted on everyone: ``z`` (z-score) and ``robust``
    (median and IQR), each a list of len(copies) rows of len(incomes) values.
    """
    income = np.asarray(income, dtype=float)
    copies = [1, 3, 10, 30]
    incomes = [float(np.max(income)) * f for f in (2.0, 10.0, 100.0, 1000.0)]
    k, v = np.meshgrid(copies, incomes, indexing="ij")  # one row per k, one column per v
    data = [np.concatenate([income, np.full(ki, vi)]) for ki, vi in zip(k.ravel(), v.ravel(),
                                                                          strict=True)]
    z = [(d[-1] - d.mean()) / d.std() for d in data]
    med = [robust_fit(d[:, None]) for d in data]
    robust = [(d[-1] - m[0]) / s[0] for d, (m, s) in zip(data, med, strict=True)]
    shape = k.shape
    return {"copies": copies, "incomes": incomes,
            "z": np.reshape(z, shape).tolist(), "robust": np.reshape(robust, shape).tolist()}


def weights_to_raw(w, b, mean, std):
    """Weights for raw inputs that give the same predictions as (w, b) on standardized ones.

    w · (x − mean)/std + b = (w/std) · x + (b − Σ_j w_j mean_j / std_j), so
    w_raw = w / std and b_raw = b − w_raw · mean.
    """
    w_raw = np.asarray(w, dtype=float) / _nonzero(std)
    return w_raw, float(b - w_raw @ np.asarray(mean, dtype=float))
