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


def weights_to_raw(w, b, mean, std):
    """Weights for raw inputs that give the same predictions as (w, b) on standardized ones.

    w · (x − mean)/std + b = (w/std) · x + (b − Σ_j w_j mean_j / std_j), so
    w_raw = w / std and b_raw = b − w_raw · mean.
    """
    w_raw = np.asarray(w, dtype=float) / _nonzero(std)
    return w_raw, float(b - w_raw @ np.asarray(mean, dtype=float))
