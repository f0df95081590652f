"""Lesson 1's graded functions, the course's version (see :mod:`helpers.answers`).

Loss: L(w, b) = (1/n) Σ_i (x_i · w + b − y_i)², X (n, d), y (n,), w (d,), b scalar.
"""

from __future__ import annotations

import numpy as np


def mse_gradient(X, y, w, b=0.0):
    """(∂L/∂w (d,), ∂L/∂b) = ((2/n) Xᵀ r, (2/n) Σ r) with residuals r = X w + b − y."""
    X = np.asarray(X, dtype=float)
    r = X @ np.asarray(w, dtype=float) + b - np.asarray(y, dtype=float)
    return 2.0 / len(r) * (X.T @ r), 2.0 / len(r) * float(r.sum())


def max_stable_learning_rate(X, fit_bias: bool = False) -> float:
    """2 / λ_max of the Hessian (2/n) AᵀA, A = X (with a column of ones when ``fit_bias``):
    the largest learning rate for which full-batch gradient descent converges."""
    A = np.asarray(X, dtype=float)
    if fit_bias:
        A = np.column_stack([A, np.ones(len(A))])
    return float(2.0 / np.linalg.eigvalsh(2.0 / len(A) * (A.T @ A))[-1])
