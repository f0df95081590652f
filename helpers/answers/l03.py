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


# ----------------------------------------------------------------- the backward pass, node by node
# forward graph: mean = X.mean(0) -> xc = X - mean -> var = (xc**2).mean(0)
#                -> std = sqrt(var + eps) -> x_hat = xc / std -> out = gamma * x_hat + beta


def scale_shift_backward(dout, x_hat, gamma):
    """Node out = gamma * x_hat + beta -> (dx_hat (n, d), dgamma (d,), dbeta (d,))."""
    return dout * gamma, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def divide_backward(dx_hat, xc, std):
    """Node x_hat = xc / std -> (dxc (n, d), the part through x_hat; dstd (d,))."""
    return dx_hat / std, -(dx_hat * xc).sum(axis=0) / std**2


def sqrt_backward(dstd, var, eps):
    """Node std = sqrt(var + eps) -> dvar (d,)."""
    return dstd / (2 * np.sqrt(var + eps))


def variance_backward(dvar, xc):
    """Node var = mean(xc**2) over the batch -> dxc (n, d), the part through var."""
    return 2 * xc * dvar / len(xc)


def center_backward(dxc):
    """Node xc = X - mean -> (dX (n, d), the part through xc; dmean (d,))."""
    return dxc.copy(), -dxc.sum(axis=0)


def mean_backward(dmean, n):
    """Node mean = X.mean(axis=0) over n examples -> dX (n, d), the part through mean."""
    return np.tile(dmean / n, (n, 1))


def batchnorm_backward_staged(dout, cache):
    """batchnorm_backward by the chain rule through each node; where a value feeds two
    nodes (X feeds xc and mean, xc feeds x_hat and var), its gradients add up."""
    X, x_hat, mean, var, gamma, eps = cache
    xc, std = X - mean, np.sqrt(var + eps)
    dx_hat, dgamma, dbeta = scale_shift_backward(dout, x_hat, gamma)
    dxc_direct, dstd = divide_backward(dx_hat, xc, std)
    dvar = sqrt_backward(dstd, var, eps)
    dxc = dxc_direct + variance_backward(dvar, xc)
    dX_direct, dmean = center_backward(dxc)
    return dX_direct + mean_backward(dmean, len(X)), dgamma, dbeta


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
