"""A small NumPy convolution by im2col (lesson 6), fast enough to train a tiny conv net.

A 2-D convolution (PyTorch's ``Conv2d``, which is a cross-correlation) with stride 1
and zero padding: X (..., N, C, H, W) and filters W (..., F, C, k, k) give
out (..., N, F, H', W') with H' = H + 2·pad − k + 1. **im2col** copies every k×k patch
of every channel into one row, (..., N·H'·W', C·k·k), so that the whole convolution is
one matrix product with the filters laid out as (C·k·k, F): the same weights are used
at every position (weight sharing). The leading ``...`` axes (e.g. one per seed, with
its own filters) are carried through every function.

    out, cache = conv2d_forward(X, W, b, pad=1)
    dX, dW, db = conv2d_backward(dout, cache)

:func:`conv2d_direct` is the same convolution written as loops, the reference the
tests and lesson 6 compare with.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pad(X, pad):
    return np.pad(X, [(0, 0)] * (X.ndim - 2) + [(pad, pad), (pad, pad)]) if pad else X


def im2col(X, k, pad=0):
    """Every k×k patch of X (..., N, C, H, W) as a row: cols (..., N·H'·W', C·k·k).

    Row order: example, then output row h, then column w; column order: channel, then
    the patch's row i and column j (the order of W.reshape(F, C·k·k)).
    """
    Xp = _pad(np.asarray(X, dtype=float), pad)
    windows = sliding_window_view(Xp, (k, k), axis=(-2, -1))  # (..., N, C, H', W', k, k)
    windows = np.moveaxis(windows, -5, -3)                    # (..., N, H', W', C, k, k)
    *lead, N, Ho, Wo, C = windows.shape[:-2]
    return windows.reshape(*lead, N * Ho * Wo, C * k * k)


def col2im(dcols, x_shape, k, pad=0):
    """The adjoint of :func:`im2col`: each patch's gradient added back where the patch
    came from (positions shared by several patches add up) -> dX of shape ``x_shape``."""
    *lead, N, C, H, W = x_shape
    Ho, Wo = H + 2 * pad - k + 1, W + 2 * pad - k + 1
    patches = dcols.reshape(*lead, N, Ho, Wo, C, k, k)
    dXp = np.zeros((*lead, N, C, H + 2 * pad, W + 2 * pad))
    for i in range(k):
        for j in range(k):
            dXp[..., i:i + Ho, j:j + Wo] += np.moveaxis(patches[..., i, j], -1, -3)
    return dXp[..., pad:pad + H, pad:pad + W]


def conv2d_forward(X, W, b=None, pad=0):
    """out (..., N, F, H', W') = X convolved with the filters W (..., F, C, k, k), plus b
    (..., F) if given -> (out, cache)."""
    *lead, F, C, k, _ = np.shape(W)
    *_, N, _, H, Wd = np.shape(X)
    Ho, Wo = H + 2 * pad - k + 1, Wd + 2 * pad - k + 1
    cols = im2col(X, k, pad)
    W_mat = np.asarray(W).reshape(*lead, F, C * k * k)
    out = cols @ np.swapaxes(W_mat, -1, -2)                   # (..., N·H'·W', F)
    if b is not None:
        out = out + np.asarray(b)[..., None, :]
    out = np.ascontiguousarray(np.moveaxis(out.reshape(*out.shape[:-2], N, Ho, Wo, F), -1, -3))
    return out, (cols, W_mat, np.shape(X), np.shape(W), pad, b is not None)


def conv2d_backward(dout, cache, input_grad=True):
    """Gradients of :func:`conv2d_forward` for dL/d(out) -> (dX, dW, db); db is None when
    the convolution had no bias, dX when ``input_grad`` is False (a network's first layer)."""
    cols, W_mat, x_shape, w_shape, pad, has_bias = cache
    F = w_shape[-4]
    d = np.moveaxis(dout, -3, -1)
    d = d.reshape(*d.shape[:-4], -1, F)                       # (..., N·H'·W', F)
    dW = (np.swapaxes(d, -1, -2) @ cols).reshape(w_shape)
    dX = col2im(d @ W_mat, x_shape, w_shape[-1], pad) if input_grad else None
    return dX, dW, (d.sum(axis=-2) if has_bias else None)


def conv2d_direct(X, W, b=None, pad=0):
    """The same convolution as loops over output channels and positions (a reference).

    X (N, C, H, W), W (F, C, k, k), b (F,) or None -> out (N, F, H', W').
    """
    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)
    Xp, k = _pad(X, pad), W.shape[-1]
    N, F = X.shape[0], W.shape[0]
    Ho, Wo = Xp.shape[-2] - k + 1, Xp.shape[-1] - k + 1
    out = np.zeros((N, F, Ho, Wo))
    for f in range(F):
        for h in range(Ho):
            for w in range(Wo):
                out[:, f, h, w] = (Xp[:, :, h:h + k, w:w + k] * W[f]).sum(axis=(1, 2, 3))
    return out if b is None else out + np.asarray(b)[:, None, None]
