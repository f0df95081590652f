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


def scale_invariance(X, W, gamma, beta, dout, c):
    """Layer norm after a Linear layer without bias, with weights W and with c·W.

    Returns (output_change, grad_ratio): the largest |out(c·W) − out(W)| and
    ‖dL/dW at c·W‖ / ‖dL/dW at W‖ for L = sum(dout · out) (Frobenius norms).
    """
    grads, outs = [], []
    for weights in (W, c * W):
        out, cache = layernorm_forward(X @ weights, gamma, beta)
        dZ = layernorm_backward(dout, cache)[0]
        outs.append(out)
        grads.append(X.T @ dZ)
    return (float(np.abs(outs[1] - outs[0]).max()),
            float(np.linalg.norm(grads[1]) / np.linalg.norm(grads[0])))
