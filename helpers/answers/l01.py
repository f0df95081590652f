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


def _diverges(X, y, lr, n_steps):
    """Full-batch GD on the bias-free MSE from w = 0 blows up within ``n_steps``: its loss
    passes 10^6 times the start or stops being finite (the test of
    ``helpers.core.linreg.gradient_descent``, which this layer may not import)."""
    w, two_n = np.zeros(X.shape[1]), 2.0 / len(y)
    r = -y
    limit = 1e6 * max(float(r @ r) / len(y), 1e-12)
    with np.errstate(all="ignore"):
        for _ in range(n_steps):
            w = w - lr * two_n * (X.T @ r)
            r = X @ w - y
            loss = float(r @ r) / len(y)
            if not np.isfinite(loss) or loss > limit:
                return True
    return False


def measure_max_lr(X, y, lo, hi, rtol=1e-3, n_steps=500):
    """Bisection between ``lo`` (GD converges) and ``hi`` (GD diverges), halving the interval
    on a log scale until hi/lo < 1 + rtol: the largest learning rate found to converge."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    while hi > lo * (1 + rtol):
        mid = float(np.sqrt(lo * hi))  # lo and hi may be many powers of ten apart
        if _diverges(X, y, mid, n_steps):
            hi = mid
        else:
            lo = mid
    return float(lo)


def edge_vs_steps(X, y, n_steps=(10, 100, 1000)):
    """The edge within each horizon, measured by bisection between 2/λ_max (where the error
    never grows) and 4/λ_max (where it grows 7-fold per step)."""
    theory = max_stable_learning_rate(X)
    return {"n_steps": list(n_steps),
            "edges": [measure_max_lr(X, y, theory, 4 * theory, n_steps=n) for n in n_steps]}
