"""Lesson 3's graded functions, the course's version (see :mod:`helpers.answers`).

PyTorch's ``BatchNorm1d`` convention: training mode normalizes each feature
(column) with the batch mean and the *biased* batch variance, ε inside the
square root; running = (1 − momentum) · running + momentum · batch statistic,
with momentum 0.1 and the *unbiased* batch variance for ``running_var``.
The cache is ``(X, x_hat, mean, var, gamma, eps)``; the backward pass is lesson 4's
(:mod:`helpers.answers.l04`).
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(X, gamma, beta, eps=1e-5):
    """Training-mode batch norm: X (n, d), gamma (d,), beta (d,) -> (out (n, d), cache)."""
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (X, x_hat, mean, var, gamma, eps)


def update_running_stats(running_mean, running_var, X, momentum=0.1):
    """The running estimates after one training batch X (n, d) -> (new_mean, new_var)."""
    return ((1 - momentum) * running_mean + momentum * X.mean(axis=0),
            (1 - momentum) * running_var + momentum * X.var(axis=0, ddof=1))


def batchnorm_eval(X, gamma, beta, running_mean, running_var, eps=1e-5):
    """Evaluation-mode batch norm: normalize with the running estimates."""
    return gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta


# ----------------------------------------------------------------- experiment: batch size


def train_eval_gap(Z, batch_size, eps=1e-5):
    """Mean |x_hat in training mode - x_hat in evaluation mode| over all of Z (n, d).

    Training mode: consecutive batches of ``batch_size`` rows, each normalized with its
    own mean and biased variance. Evaluation mode: Z's own mean and biased variance (the
    values the running statistics estimate). n must be a multiple of batch_size.
    """
    batches = Z.reshape(-1, batch_size, Z.shape[1])
    train = (batches - batches.mean(axis=1, keepdims=True)) / np.sqrt(
        batches.var(axis=1, keepdims=True) + eps)
    evaluate = (Z - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + eps)
    return float(np.abs(train.reshape(Z.shape) - evaluate).mean())
