"""Lesson 3's graded functions, the course's version (see :mod:`helpers.answers`).

PyTorch's ``BatchNorm1d`` convention: training mode normalizes each feature
(column) with the batch mean and the *biased* batch variance, ε inside the
square root; running = (1 − momentum) · running + momentum · batch statistic,
with momentum 0.1 and the *unbiased* batch variance for ``running_var``.
The cache is ``(X, x_hat, mean, var, gamma, eps)``.
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(X, gamma, beta, eps=1e-5):
    """Training-mode batch norm: X (n, d), gamma (d,), beta (d,) -> (out (n, d), cache)."""
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (X, x_hat, mean, var, gamma, eps)


def batchnorm_backward(dout, cache):
    """Gradients of the training-mode forward pass -> (dX (n, d), dgamma (d,), dbeta (d,)).

    The batch mean and variance depend on every row, hence the two mean terms.
    """
    X, x_hat, mean, var, gamma, eps = cache
    dx_hat = dout * gamma
    dX = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def update_running_stats(running_mean, running_var, X, momentum=0.1):
    """The running estimates after one training batch X (n, d) -> (new_mean, new_var)."""
    return ((1 - momentum) * running_mean + momentum * X.mean(axis=0),
            (1 - momentum) * running_var + momentum * X.var(axis=0, ddof=1))


def batchnorm_eval(X, gamma, beta, running_mean, running_var, eps=1e-5):
    """Evaluation-mode batch norm: normalize with the running estimates."""
    return gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta
