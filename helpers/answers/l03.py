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


def train_eval_gap(Z, eps=1e-5):
    """How far training-mode x_hat is from evaluation-mode x_hat, by batch size, on Z (n, d).

    The settings chosen here: batch sizes 2, 4, 8, 16 (those dividing n) and n itself
    (one batch), one random split of the rows (seed 0) as a shuffled epoch would make.
    Training mode normalizes each batch with its own mean and biased variance; evaluation
    mode with Z's (the values the running statistics settle near). The gap of a batch
    size is the mean |difference| over all entries -> {"batch_sizes", "seed", "gap"}.
    """
    n = len(Z)
    sizes, seed = [b for b in (2, 4, 8, 16) if n % b == 0 and b < n] + [n], 0
    shuffled = Z[np.random.default_rng(seed).permutation(n)]
    evaluate = (shuffled - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + eps)
    gaps = []
    for b in sizes:
        batches = shuffled.reshape(-1, b, Z.shape[1])
        train = (batches - batches.mean(axis=1, keepdims=True)) / np.sqrt(
            batches.var(axis=1, keepdims=True) + eps)
        gaps.append(float(np.abs(train.reshape(Z.shape) - evaluate).mean()))
    return {"batch_sizes": sizes, "seed": seed, "gap": gaps}
