"""Linear regression with squared error: loss, curvature, gradient descent and SGD.

Loss (lessons 1-2): L(w, b) = (1/n) * sum_i (x_i . w + b - y_i)^2, for
``X`` of shape (n, d), ``y`` of shape (n,), ``w`` of shape (d,) and a scalar ``b``.
With ``fit_bias=False`` (the lecture's setting) b stays 0.

The gradient itself is lesson 1's exercise; the loops here compute it inline.
Divergence is detected and reported in the returned :class:`Run` (``diverged``,
``diverged_at``) instead of a wall of overflow warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: a run counts as diverged once the loss exceeds this multiple of its start (or is not finite)
DIVERGENCE_FACTOR = 1e6


@dataclass
class Run:
    """A training run: ``ws`` (k+1, d) and ``bs`` (k+1,) after each step, ``losses`` (k+1,)."""

    ws: np.ndarray
    bs: np.ndarray
    losses: np.ndarray
    lr: float
    diverged: bool = False
    diverged_at: int | None = None

    @property
    def w(self) -> np.ndarray:
        return self.ws[-1]

    @property
    def b(self) -> float:
        return float(self.bs[-1])

    def steps_to(self, target_loss: float) -> int | None:
        """First step whose loss is <= target_loss, or None if never reached."""
        hit = np.flatnonzero(self.losses <= target_loss)
        return int(hit[0]) if hit.size else None

    def summary(self) -> str:
        if self.diverged:
            return f"lr={self.lr:.3g}: diverged at step {self.diverged_at}"
        return f"lr={self.lr:.3g}: loss {self.losses[0]:.4g} -> {self.losses[-1]:.4g} in {len(self.losses) - 1} steps"


def predict(X, w, b=0.0):
    """y_hat = X @ w + b; X (n, d), w (d,) -> (n,)."""
    return np.asarray(X) @ np.asarray(w) + b


def mse_loss(X, y, w, b=0.0) -> float:
    """Mean squared error (1/n) * sum (y_hat - y)^2."""
    r = predict(X, w, b) - y
    return float(r @ r / len(y))


def design(X, fit_bias: bool = False) -> np.ndarray:
    """X with a column of ones appended when the model has a bias; (n, d) -> (n, d[+1])."""
    X = np.asarray(X, dtype=float)
    return np.column_stack([X, np.ones(len(X))]) if fit_bias else X


def hessian(X, fit_bias: bool = False) -> np.ndarray:
    """Hessian of the MSE loss: (2/n) A^T A with A = design(X); constant because L is quadratic."""
    A = design(X, fit_bias)
    return 2.0 / len(A) * (A.T @ A)


def hessian_eigenvalues(X, fit_bias: bool = False) -> np.ndarray:
    """Eigenvalues of :func:`hessian`, ascending."""
    return np.linalg.eigvalsh(hessian(X, fit_bias))


def condition_number(X, fit_bias: bool = False) -> float:
    """lambda_max / lambda_min of the Hessian: 1 means circular contours."""
    lam = hessian_eigenvalues(X, fit_bias)
    return float(lam[-1] / lam[0]) if lam[0] > 0 else float("inf")


def _start(d, w0, b0):
    w = np.zeros(d) if w0 is None else np.array(w0, dtype=float)
    return w, float(b0 or 0.0)


def _diverging(loss, first):
    return not np.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(first, 1e-12)


def gradient_descent(X, y, lr, n_steps=100, w0=None, b0=0.0, fit_bias=False, lr_per_weight=None):
    """Full-batch GD: w <- w - lr * dL/dw (and b when ``fit_bias``).

    ``lr_per_weight`` (d,) multiplies lr per weight (lesson 1: per-weight rates).
    Stops early and sets ``diverged`` when the loss blows up.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w, b = _start(X.shape[1], w0, b0)
    scale = np.ones_like(w) if lr_per_weight is None else np.asarray(lr_per_weight, float)
    n = len(y)
    # the loop computes the loss and its gradient inline, sharing the residuals: sweeps
    # run tens of thousands of steps, and the Python overhead of calls dominated
    XT, two_n, lr_scale = X.T, 2.0 / n, lr * scale
    r = X @ w + b - y  # residuals: shared by the loss and the next gradient
    ws, bs, losses = [w.copy()], [b], [float(r @ r / n)]
    limit = DIVERGENCE_FACTOR * max(losses[0], 1e-12)  # as in _diverging
    diverged_at = None
    with np.errstate(all="ignore"):
        for step in range(1, n_steps + 1):
            w = w - lr_scale * (two_n * (XT @ r))  # gradient (2/n) Xᵀr, lesson 1's formula
            if fit_bias:
                b = b - lr * (two_n * float(r.sum()))
            r = X @ w + b - y
            loss = float(r @ r / n)  # = mse_loss(X, y, w, b)
            ws.append(w)  # a new array every step: no copy needed
            bs.append(b)
            losses.append(loss)
            if not math.isfinite(loss) or loss > limit:
                diverged_at = step
                break
    return Run(np.array(ws), np.array(bs), np.array(losses), lr, diverged_at is not None,
               diverged_at)


def sgd(X, y, lr, n_epochs=5, batch_size=1, w0=None, b0=0.0, fit_bias=False, seed=0,
        n_updates=None):
    """Minibatch SGD (batch_size=1: plain SGD); one entry in the Run per update.

    Examples are shuffled each epoch with ``np.random.default_rng(seed)``.
    ``n_updates`` stops after that many updates (e.g. as many as a GD run's steps).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    w, b = _start(X.shape[1], w0, b0)
    ws, bs, losses = [w.copy()], [b], [mse_loss(X, y, w, b)]
    diverged_at = None
    step = 0
    with np.errstate(all="ignore"):
        for _ in range(n_epochs):
            order = rng.permutation(len(y))
            for start in range(0, len(y), batch_size):
                idx = order[start:start + batch_size]
                r = X[idx] @ w + b - y[idx]  # the minibatch's residuals and gradient
                w = w - lr * (2.0 / len(idx) * (X[idx].T @ r))
                if fit_bias:
                    b = b - lr * (2.0 / len(idx) * float(r.sum()))
                step += 1
                loss = mse_loss(X, y, w, b)
                ws.append(w.copy())
                bs.append(b)
                losses.append(loss)
                if _diverging(loss, losses[0]):
                    diverged_at = step
                    break
                if n_updates is not None and step >= n_updates:
                    break
            if diverged_at is not None or (n_updates is not None and step >= n_updates):
                break
    return Run(np.array(ws), np.array(bs), np.array(losses), lr, diverged_at is not None,
               diverged_at)


def least_squares(X, y, fit_bias: bool = False):
    """The exact minimiser (w*, b*) of the MSE loss, for reference lines on plots."""
    A = design(X, fit_bias)
    theta = np.linalg.lstsq(A, np.asarray(y, float), rcond=None)[0]
    return (theta[:-1], float(theta[-1])) if fit_bias else (theta, 0.0)


def loss_grid(X, y, w1, w2, b=0.0):
    """MSE loss on a grid of two weights; w1 (m,), w2 (k,) -> loss (k, m) for contour plots.

    Uses the quadratic form L = w^T (X^T X / n) w - 2 (X^T y / n) . w + y.y/n,
    so it costs O(m*k), not O(m*k*n).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"loss_grid needs exactly 2 features, got X of shape {X.shape}")
    y = np.asarray(y, dtype=float) - b
    n = len(y)
    A = X.T @ X / n
    c = X.T @ y / n
    W1, W2 = np.meshgrid(np.asarray(w1, float), np.asarray(w2, float))
    return (A[0, 0] * W1**2 + 2 * A[0, 1] * W1 * W2 + A[1, 1] * W2**2
            - 2 * (c[0] * W1 + c[1] * W2) + y @ y / n)


def lr_sweep(X, y, lrs, n_steps=200, target_loss=None, fit_bias=False):
    """Run GD for each learning rate; returns a list of (lr, Run, steps_to_target)."""
    out = []
    for lr in lrs:
        run = gradient_descent(X, y, lr, n_steps, fit_bias=fit_bias)
        reached = None if (target_loss is None or run.diverged) else run.steps_to(target_loss)
        out.append((float(lr), run, reached))
    return out
