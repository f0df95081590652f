"""Lesson 6's graded functions, the course's version (see :mod:`helpers.answers`).

One normalization, many layers: ``normalize`` subtracts the mean and divides by
√(var + ε) over any set of axes (biased variance, PyTorch's convention); batch norm,
layer norm, instance norm and group norm of an (N, C, H, W) block are calls of it
with other axes (``family_axes``; group norm on the block reshaped to
(N, G, C/G, H, W)). RMSNorm keeps only the division, by the root mean square over
the last axis, and has no β. ``coupling_experiment`` measures how much one
example's batch-norm output moves when its batch-mates change.
"""

from __future__ import annotations

import numpy as np


def normalize(X, axes, eps=1e-5):
    """Standardize X over ``axes`` (a tuple): mean 0 and biased variance 1 per slice."""
    return standardize(X, axes, eps)[0]


def standardize(X, axes, eps=1e-5):
    """``normalize`` and the statistics it used -> (x_hat, mean, var), mean and var kept
    with size-1 axes (not graded: what the course's layers build on)."""
    mean = X.mean(axis=axes, keepdims=True)
    centred = X - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / np.sqrt(var + eps), mean, var


def family_axes():
    """Axes of batch, layer and instance norm on (N, C, H, W), and of group norm on the
    block reshaped to (N, G, C/G, H, W)."""
    return {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3), "group": (2, 3, 4)}


def _per_channel(v):
    return np.asarray(v).reshape(1, -1, 1, 1)


def batchnorm2d_forward(X, gamma, beta, eps=1e-5):
    """Training-mode batch norm of a conv feature map X (N, C, H, W) -> (out, cache).

    cache = (X, x_hat, mean (C,), var (C,), gamma, eps), statistics over (N, H, W).
    """
    mean, var = X.mean(axis=(0, 2, 3)), X.var(axis=(0, 2, 3))
    x_hat = (X - _per_channel(mean)) / np.sqrt(_per_channel(var) + eps)
    return _per_channel(gamma) * x_hat + _per_channel(beta), (X, x_hat, mean, var, gamma, eps)


def groupnorm_forward(X, G, gamma, beta, eps=1e-5):
    """Group norm: X (N, C, H, W), G groups of C/G consecutive channels -> out (N, C, H, W)."""
    N, C, H, W = X.shape
    x_hat = normalize(X.reshape(N, G, C // G, H, W), (2, 3, 4), eps).reshape(X.shape)
    return _per_channel(gamma) * x_hat + _per_channel(beta)


def rmsnorm_forward(X, gamma, eps=1e-6):
    """RMSNorm over the last axis: X (..., D), gamma (D,) -> (out, cache).

    cache = (X, x_hat, rms, gamma) with rms of shape (..., 1), ε inside the root.
    """
    rms = np.sqrt((X * X).mean(axis=-1, keepdims=True) + eps)
    x_hat = X / rms
    return gamma * x_hat, (X, x_hat, rms, gamma)


def rmsnorm_backward(dout, cache):
    """Gradients of rmsnorm_forward -> (dX (..., D), dgamma (D,)).

    Layer norm's compact backward pass without the term of the mean (there is none):
    dX = (dx_hat − x_hat · mean(dx_hat · x_hat)) / rms, the mean over the last axis.
    """
    X, x_hat, rms, gamma = cache
    dx_hat = dout * gamma
    dX = (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=-1, keepdims=True)) / rms
    return dX, (dout * x_hat).reshape(-1, X.shape[-1]).sum(axis=0)


# ----------------------------------------------------------------- experiment: batch coupling

#: the course's settings for ``coupling_experiment``
COUPLING_SETTINGS = {"batch_sizes": [2, 4, 8, 16, 32, 64], "n_draws": 400, "seed": 0}


def coupling_spread(pool, i, batch_sizes, n_draws, seed, eps=1e-5):
    """Spread of example i's training-mode batch-norm output (γ = 1, β = 0) over random
    batch-mates: for each batch size B, ``n_draws`` batches of example i and B − 1 other
    rows of ``pool`` (P, D) drawn without replacement; the standard deviation over the
    draws of example i's output, averaged over the D features. One value per B."""
    rng = np.random.default_rng(seed)
    others = np.delete(np.arange(len(pool)), i)
    spread = []
    for B in batch_sizes:
        picks = np.argpartition(rng.random((n_draws, len(others))), B - 2, axis=1)[:, :B - 1]
        batches = np.concatenate([np.broadcast_to(pool[i], (n_draws, 1, pool.shape[1])),
                                  pool[others[picks]]], axis=1)  # (n_draws, B, D)
        mine = normalize(batches, (1,), eps)[:, 0]  # example i is row 0 of every batch
        spread.append(float(mine.std(axis=0).mean()))
    return spread


def coupling_experiment(pool, i):
    """The course's run of the coupling experiment on ``pool`` (P, D), example i."""
    return {**COUPLING_SETTINGS, "spread": coupling_spread(pool, i, **COUPLING_SETTINGS)}
