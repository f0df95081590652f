"""Lesson 5's graded functions, the course's version (see :mod:`helpers.answers`).

Layer normalization follows PyTorch's ``nn.LayerNorm`` convention over the last axis:
each example (row) is normalized over its features with its own mean and *biased*
variance, ε inside the square root, then scaled and shifted by γ and β, one per
feature. There are no running statistics: training and evaluation compute the same
thing, and a batch of one example is fine. The cache is
``(X, x_hat, mean, var, gamma, eps)`` with ``mean`` and ``var`` of shape (N, 1).
"""

from __future__ import annotations

import numpy as np


def layernorm_forward(X, gamma, beta, eps=1e-5):
    """Layer norm: X (n, d), gamma (d,), beta (d,) -> (out (n, d), cache)."""
    mean = X.mean(axis=1, keepdims=True)
    var = X.var(axis=1, keepdims=True)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (X, x_hat, mean, var, gamma, eps)


def layernorm_backward(dout, cache):
    """Gradients of layernorm_forward -> (dX (n, d), dgamma (d,), dbeta (d,)).

    Batch norm's compact backward pass with the means taken over each row (the features
    of one example) instead of over each column; γ and β still sum over the examples.
    """
    X, x_hat, mean, var, gamma, eps = cache
    dx_hat = dout * gamma
    dX = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) / np.sqrt(var + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def fold_batchnorm(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """Fold an evaluation-mode batch norm into the Linear layer y = X @ W + b before it.

    W (d_in, d_out), b and the batch-norm arrays (d_out,) -> (W_folded, b_folded) with
    X @ W_folded + b_folded == batchnorm_eval(X @ W + b, gamma, beta, running_mean,
    running_var, eps) for every X.
    """
    scale = gamma / np.sqrt(running_var + eps)  # one factor per output unit (column of W)
    return W * scale, (b - running_mean) * scale + beta


def scale_invariance(X, W, dout):
    """The scale-invariance experiment: a Linear layer without bias (weights W) followed by
    layer norm (γ = 1, β = 0), with weights W and with c·W for scale factors c chosen from
    0.01 to 100.

    Returns {"c": [...], "output_change": [...], "grad_ratio": [...]}: for each c the
    largest |out(c·W) − out(W)| and ‖dL/dW at c·W‖ / ‖dL/dW at W‖ for L = sum(dout · out)
    (Frobenius norms).
    """
    gamma, beta = np.ones(W.shape[1]), np.zeros(W.shape[1])
    cs = [0.001, 0.01, 0.1, 10.0, 100.0]

    def measure(V):
        out, cache = layernorm_forward(X @ V, gamma, beta)
        return out, X.T @ layernorm_backward(dout, cache)[0]

    out_1, grad_1 = measure(W)
    changes, ratios = [], []
    for c in cs:
        out_c, grad_c = measure(c * W)
        changes.append(float(np.abs(out_c - out_1).max()))
        ratios.append(float(np.linalg.norm(grad_c) / np.linalg.norm(grad_1)))
    return {"c": cs, "output_change": changes, "grad_ratio": ratios}
