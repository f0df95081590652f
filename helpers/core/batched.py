"""Layers for small networks trained for many seeds at once (lesson 6; training: :mod:`.seeds`).

Every array has a leading **seed axis** S: parameters (S, ...), activations (S, N, ...).
Seed s has its own initial weights (and, in :mod:`.seeds`, its own minibatches), so S
seeds cost one computation on arrays S times larger instead of S Python loops.

Every layer has ``forward(x)`` and ``backward(dout) -> dx``, its parameters in
``params`` and, after ``backward``, their gradients in ``grads``. :class:`Norm` is the
lesson's ``normalize(X, axes)`` as a layer: axes including 1 (the examples) make it a
batch norm, with running statistics for evaluation mode (PyTorch's conventions:
momentum 0.1, ``momentum=None`` for a cumulative average, unbiased running variance);
axes without 1 make it a layer, instance or group-like norm. Conv layers use
:mod:`helpers.core.conv`.
"""

from __future__ import annotations

import numpy as np

from helpers.answers.l06 import standardize
from helpers.core import conv


class Layer:
    """A layer without parameters; subclasses set ``params`` and fill ``grads``."""

    training = True

    def __init__(self):
        self.params, self.grads = {}, {}


class Linear(Layer):
    """out = x @ W + b per seed; W (S, n_in, n_out) ~ N(0, 2 / n_in) (He), b = 0."""

    def __init__(self, S, n_in, n_out, rng, *, bias=True, scale=1.0):
        super().__init__()
        self.params["W"] = scale * np.sqrt(2.0 / n_in) * rng.standard_normal((S, n_in, n_out))
        if bias:
            self.params["b"] = np.zeros((S, 1, n_out))

    def forward(self, x):
        self.x = x
        out = x @ self.params["W"]
        return out + self.params["b"] if "b" in self.params else out

    def backward(self, dout):
        self.grads["W"] = np.swapaxes(self.x, -1, -2) @ dout
        if "b" in self.params:
            self.grads["b"] = dout.sum(axis=1, keepdims=True)
        return dout @ np.swapaxes(self.params["W"], -1, -2)


class Conv2d(Layer):
    """A k×k convolution with zero padding k // 2 (same size), filters (S, F, C, k, k) (He).

    ``first=True``: the network's first layer, whose backward pass skips dL/d(input).
    """

    def __init__(self, S, c_in, c_out, rng, k=3, first=False):
        super().__init__()
        self.first = first
        self.params["W"] = np.sqrt(2.0 / (c_in * k * k)) * rng.standard_normal((S, c_out, c_in, k, k))
        self.params["b"] = np.zeros((S, c_out))

    def forward(self, x):
        out, self.cache = conv.conv2d_forward(x, self.params["W"], self.params["b"],
                                              pad=self.params["W"].shape[-1] // 2)
        return out

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = conv.conv2d_backward(dout, self.cache,
                                                                   input_grad=not self.first)
        return dx


class ReLU(Layer):
    def forward(self, x):
        out = np.maximum(x, 0.0)
        self.mask = out > 0
        return out

    def backward(self, dout):
        return dout * self.mask


class Dropout(Layer):
    """Inverted dropout: in training each value is kept with probability 1 − p and divided
    by 1 − p; in evaluation mode nothing happens."""

    def __init__(self, p, rng):
        super().__init__()
        self.p, self.rng = p, rng

    def forward(self, x):
        if not self.training or self.p == 0:
            self.mask = 1.0
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class GlobalAvgPool(Layer):
    """(S, N, C, H, W) -> (S, N, C): the mean of each channel over the positions."""

    def forward(self, x):
        self.shape = x.shape
        return x.mean(axis=(-2, -1))

    def backward(self, dout):
        return np.broadcast_to(dout[..., None, None], self.shape) / np.prod(self.shape[-2:])


class Norm(Layer):
    """normalize(x, axes) then γ·x̂ + β, with γ, β of shape (S, *param_shape).

    ``param_shape`` is the shape of one example's γ: (D,) after a Linear layer, (C, 1, 1)
    for one γ per channel of a feature map. Axes count the seed axis: (1,) is batch norm
    of (S, N, D), (1, 3, 4) batch norm per channel of (S, N, C, H, W), (-1,) layer norm.
    With 1 among the axes the layer keeps running statistics and uses them in evaluation
    mode; ``momentum=None`` makes them a cumulative average (reset with :meth:`reset`).
    """

    def __init__(self, S, param_shape, axes, *, eps=1e-5, momentum=0.1, gamma=1.0):
        super().__init__()
        self.axes, self.eps, self.momentum = tuple(axes), eps, momentum
        self.params = {"gamma": np.full((S, 1, *param_shape), float(gamma)),
                       "beta": np.zeros((S, 1, *param_shape))}
        self.tracks = 1 in self.axes
        self.running_mean = self.running_var = None
        self.n_batches = 0

    def reset(self):
        self.running_mean = self.running_var = None
        self.n_batches = 0

    def _update(self, x, mean, var):
        n = np.prod([x.shape[a] for a in self.axes])
        var = var * n / max(n - 1, 1)
        self.n_batches += 1
        m = 1.0 / self.n_batches if self.momentum is None else self.momentum
        if self.running_mean is None:  # PyTorch starts from 0 and 1
            self.running_mean, self.running_var = np.zeros_like(mean), np.ones_like(var)
        self.running_mean = (1 - m) * self.running_mean + m * mean
        self.running_var = (1 - m) * self.running_var + m * var

    def forward(self, x):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if self.tracks and not self.training:
            self.x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            self.std = None
            return gamma * self.x_hat + beta
        self.x_hat, mean, var = standardize(x, self.axes, self.eps)
        self.std = np.sqrt(var + self.eps)
        if self.tracks:
            self._update(x, mean, var)
        return gamma * self.x_hat + beta

    def backward(self, dout):
        gamma = self.params["gamma"]
        summed = tuple(a for a in range(1, dout.ndim) if gamma.shape[a] == 1)
        self.grads["gamma"] = (dout * self.x_hat).sum(axis=summed, keepdims=True)
        self.grads["beta"] = dout.sum(axis=summed, keepdims=True)
        if self.std is None:  # evaluation mode: a fixed scale per unit
            return dout * (gamma / np.sqrt(self.running_var + self.eps))
        axes = tuple(a % dout.ndim for a in self.axes)
        if sorted(axes) == list(summed):  # batch norm: the sums above are the means needed
            n = dout.size // self.grads["beta"].size
            mean, mean_x = self.grads["beta"] / n, self.grads["gamma"] / n
            return (gamma / self.std) * (dout - mean - self.x_hat * mean_x)
        d = dout * gamma
        mean = d.mean(axis=self.axes, keepdims=True)
        return (d - mean - self.x_hat * (d * self.x_hat).mean(axis=self.axes, keepdims=True)) / self.std


class Sequential(Layer):
    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def modules(self):
        """Every layer inside, depth first (residual branches included)."""
        for layer in self.layers:
            yield layer
            if isinstance(layer, Sequential):
                yield from layer.modules()

    def set_training(self, training: bool):
        for layer in self.modules():
            layer.training = training
        self.training = training
        return self


class Residual(Sequential):
    """x + branch(x); with ``post`` (e.g. a layer norm) post(x + branch(x))."""

    def __init__(self, *branch, post=None):
        super().__init__(*branch)
        self.post = post

    def modules(self):
        yield from super().modules()
        if self.post is not None:
            yield self.post

    def forward(self, x):
        out = x + super().forward(x)
        return out if self.post is None else self.post.forward(out)

    def backward(self, dout):
        if self.post is not None:
            dout = self.post.backward(dout)
        return dout + super().backward(dout)
