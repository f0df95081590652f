"""Lesson 4's graded functions, the course's version (see :mod:`helpers.answers`).

Batch norm's backward pass (the training-mode forward pass of lesson 3, PyTorch's
``BatchNorm1d`` convention: biased batch variance, ε inside the square root); the cache is
``(X, x_hat, mean, var, gamma, eps)``. Then the centred finite difference that checks it,
and the step-size experiment.
"""

from __future__ import annotations

import numpy as np


def batchnorm_backward(dout, cache):
    """Gradients of the training-mode forward pass -> (dX (n, d), dgamma (d,), dbeta (d,)).

    The batch mean and variance depend on every row, hence the two mean terms.
    """
    X, x_hat, mean, var, gamma, eps = cache
    dx_hat = dout * gamma
    dX = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_alt(dout, cache):
    """batchnorm_backward in one expression over sums (the form of the derivation on paper):
    dX = γ / (N·σ) · (N·dout − Σ dout − x_hat·Σ dout·x_hat)."""
    X, x_hat, mean, var, gamma, eps = cache
    n = len(X)
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    dX = gamma / (n * np.sqrt(var + eps)) * (n * dout - dbeta - x_hat * dgamma)
    return dX, dgamma, dbeta


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


# ----------------------------------------------------------------- gradient checks


def bn_loss(X, G, eps=1e-5):
    """L(X) = Σ G·x_hat: batch norm (γ = 1, β = 0) of X, weighted by G, so that dL/d(out) = G."""
    xc = X - X.mean(axis=0)
    return float(np.sum(G * xc / np.sqrt((xc**2).mean(axis=0) + eps)))


def centered_difference(X, G, h, eps=1e-5):
    """dL/dX of L(X) = Σ G·x_hat by centred differences, one entry of X at a time:
    (L(X + h·e_ij) − L(X − h·e_ij)) / (2h)."""
    Xp = np.array(X, dtype=float)
    grad = np.zeros_like(Xp)
    for i in np.ndindex(Xp.shape):
        old = Xp[i]
        Xp[i] = old + h
        up = bn_loss(Xp, G, eps)
        Xp[i] = old - h
        down = bn_loss(Xp, G, eps)
        Xp[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def step_size_experiment(X, G, eps=1e-5):
    """The relative error max|a − n| / max(|a| + |n|) of the centred difference n against the
    analytic dX a, for step sizes h from 1e-11 to 1e-1; the best h and its error."""
    X = np.asarray(X, dtype=float)
    mean, var = X.mean(axis=0), X.var(axis=0)
    cache = (X, (X - mean) / np.sqrt(var + eps), mean, var, np.ones(X.shape[1]), eps)
    analytic = batchnorm_backward(G, cache)[0]
    hs = [10.0**k for k in range(-11, 0)]
    errors = []
    for h in hs:
        numeric = centered_difference(X, G, h, eps)
        errors.append(float(np.abs(analytic - numeric).max()
                            / max((np.abs(analytic) + np.abs(numeric)).max(), 1e-300)))
    k = int(np.argmin(errors))
    return {"hs": hs, "errors": errors, "best_h": hs[k], "best_error": errors[k]}
