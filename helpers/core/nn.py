"""Neural-network layers in NumPy (lessons 2 to 4), short enough to read in one sitting.

Every layer has ``forward(x)`` and ``backward(dout) -> dx``; a layer with
parameters keeps them in ``layer.params`` (name -> array) and, after
``backward``, their gradients in ``layer.grads`` (same names). Shapes: a batch
``x`` is (n, features); ``y`` is (n,) class indices for cross-entropy, (n,) or
(n, k) targets for :func:`mse`.

    model = mlp([2, 32, 32, 3], batchnorm=True)   # Linear-BN-ReLU-Linear-BN-ReLU-Linear

Training loops are in :mod:`helpers.core.training`, gradient checks in
:mod:`helpers.core.gradcheck`. :class:`BatchNorm` follows **PyTorch's
convention** (``torch.nn.BatchNorm1d``) and computes with the course's batch-norm
functions (:mod:`helpers.answers.l03`), the one implementation in the course.
Every layer's backward pass is checked against finite differences in the tests.
"""

from __future__ import annotations

import numpy as np

from helpers.answers.l03 import (
    batchnorm_backward,
    batchnorm_eval,
    batchnorm_forward,
    update_running_stats,
)
from helpers.answers.l05 import layernorm_backward, layernorm_forward

# --------------------------------------------------------------------------- layers


class Linear:
    """out = x @ W + b, with W (n_in, n_out) ~ N(0, init_scale² · 2 / n_in).

    ``init_scale=1`` is He (Kaiming) initialization, which keeps the size of
    ReLU activations constant from layer to layer at the start of training.
    """

    training = True

    def __init__(self, n_in, n_out, *, bias=True, init_scale=1.0, rng=None):
        rng = np.random.default_rng(0) if rng is None else rng
        self.params = {"W": init_scale * np.sqrt(2.0 / n_in) * rng.standard_normal((n_in, n_out))}
        if bias:
            self.params["b"] = np.zeros(n_out)
        self.grads = {}

    def forward(self, x):
        self.x = x  # kept for backward
        out = x @ self.params["W"]
        return out + self.params["b"] if "b" in self.params else out

    def backward(self, dout):
        self.grads = {"W": self.x.T @ dout}
        if "b" in self.params:
            self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T

    def __repr__(self):
        n_in, n_out = self.params["W"].shape
        return f"Linear({n_in}, {n_out}{'' if 'b' in self.params else ', bias=False'})"


class ReLU:
    """out = max(x, 0)."""

    training = True
    params: dict = {}
    grads: dict = {}

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask  # the gradient flows only where the input was positive

    def __repr__(self):
        return "ReLU()"


class BatchNorm:
    """Batch normalization of each feature (column), PyTorch's ``BatchNorm1d`` convention.

    training mode: x_hat = (x - batch mean) / sqrt(biased batch var + eps), and
                   running = (1 - momentum) * running + momentum * batch statistic,
                   with the *unbiased* batch variance for running_var;
    eval mode:     x_hat = (x - running_mean) / sqrt(running_var + eps);
    both:          out = gamma * x_hat + beta  (gamma starts at 1, beta at 0).

    Set ``update_running = False`` to run a training-mode forward pass without
    touching the running estimates (used to record activations).
    """

    def __init__(self, n_features, *, momentum=0.1, eps=1e-5):
        self.params = {"gamma": np.ones(n_features), "beta": np.zeros(n_features)}
        self.grads = {}
        self.running_mean = np.zeros(n_features)
        self.running_var = np.ones(n_features)
        self.momentum, self.eps = momentum, eps
        self.training = True
        self.update_running = True

    def forward(self, x):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not self.training:
            self.cache, self.x_eval = None, x
            return batchnorm_eval(x, gamma, beta, self.running_mean, self.running_var, self.eps)
        if len(x) < 2:
            raise ValueError("batch norm in training mode needs at least 2 examples per "
                             "batch (the variance of one example is 0); PyTorch raises too. "
                             "Switch to eval mode to predict one example.")
        out, self.cache = batchnorm_forward(x, gamma, beta, self.eps)
        if self.update_running:
            self.running_mean, self.running_var = update_running_stats(
                self.running_mean, self.running_var, x, self.momentum)
        return out

    def backward(self, dout):
        if self.cache is None:  # eval mode: the running statistics are constants
            x_hat = (self.x_eval - self.running_mean) / np.sqrt(self.running_var + self.eps)
            self.grads = {"gamma": (dout * x_hat).sum(axis=0), "beta": dout.sum(axis=0)}
            return dout * self.params["gamma"] / np.sqrt(self.running_var + self.eps)
        dx, dgamma, dbeta = batchnorm_backward(dout, self.cache)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dx

    def __repr__(self):
        return f"BatchNorm({len(self.params['gamma'])}, momentum={self.momentum}, eps={self.eps})"


class LayerNorm:
    """Layer normalization of each example (row) over its features, PyTorch's ``LayerNorm``.

    x_hat = (x - mean of the row) / sqrt(biased variance of the row + eps), then
    out = gamma * x_hat + beta (one gamma and beta per feature). The same in training
    and evaluation mode, and fine on a batch of one: no running statistics (lesson 5).
    """

    training = True

    def __init__(self, n_features, *, eps=1e-5):
        self.params = {"gamma": np.ones(n_features), "beta": np.zeros(n_features)}
        self.grads = {}
        self.eps = eps

    def forward(self, x):
        out, self.cache = layernorm_forward(x, self.params["gamma"], self.params["beta"], self.eps)
        return out

    def backward(self, dout):
        dx, dgamma, dbeta = layernorm_backward(dout, self.cache)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dx

    def __repr__(self):
        return f"LayerNorm({len(self.params['gamma'])}, eps={self.eps})"


#: the normalization layers mlp() can insert, by name
NORMS = {"batch": BatchNorm, "layer": LayerNorm}


class Sequential:
    """Layers applied in order; ``outputs`` holds each layer's output from the last forward."""

    def __init__(self, *layers):
        self.layers = list(layers)
        self.outputs = []

    def forward(self, x):
        self.outputs = []
        for layer in self.layers:
            x = layer.forward(x)
            self.outputs.append(x)
        return x

    __call__ = forward

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self):
        """Training mode (batch statistics in batch norm); returns the model."""
        for layer in self.layers:
            layer.training = True
        return self

    def eval(self):
        """Evaluation mode (running statistics in batch norm); returns the model."""
        for layer in self.layers:
            layer.training = False
        return self

    @property
    def training(self):
        return all(layer.training for layer in self.layers)

    def batchnorms(self):
        return [layer for layer in self.layers if isinstance(layer, BatchNorm)]

    def hidden_indices(self):
        """Index of each ReLU layer: its input is a hidden layer's pre-activation."""
        return [i for i, layer in enumerate(self.layers) if isinstance(layer, ReLU)]

    def __repr__(self):
        return "Sequential(\n" + "".join(f"  {layer!r},\n" for layer in self.layers) + ")"


def mlp(sizes, *, batchnorm=False, init_scale=1.0, seed=0, norm=None, norm_after_relu=False,
        bias=None):
    """A multilayer perceptron: sizes [d_in, h1, ..., d_out] -> Sequential.

    Each hidden layer is Linear -> (norm) -> ReLU; the last layer is a Linear layer
    with no activation. ``norm`` is None, "batch" or "layer" (``batchnorm=True`` means
    "batch"); ``norm_after_relu`` puts it after the ReLU instead (Linear -> ReLU -> norm).
    ``bias`` (default: all but the Linear layers directly before a batch norm, whose
    bias beta replaces) sets whether the hidden Linear layers have one. Weights: see
    :class:`Linear`.
    """
    if len(sizes) < 2:
        raise ValueError("sizes needs at least an input and an output size")
    norm = "batch" if batchnorm else norm
    if norm not in (None, *NORMS):
        raise ValueError(f"norm must be None, 'batch' or 'layer', not {norm!r}")
    if bias is None:
        bias = not (norm == "batch" and not norm_after_relu)
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers.append(Linear(n_in, n_out, bias=bias, init_scale=init_scale, rng=rng))
        block = [ReLU()] if norm is None else [NORMS[norm](n_out), ReLU()]
        layers.extend(block[::-1] if norm_after_relu else block)
    layers.append(Linear(sizes[-2], sizes[-1], init_scale=init_scale, rng=rng))
    return Sequential(*layers)


def fold_batchnorms(model, fold):
    """An evaluation-mode copy of ``model`` in which each Linear -> BatchNorm pair is one
    Linear layer, made by ``fold`` (a ``fold_batchnorm`` function, lesson 5)."""
    import copy

    layers, src, i = [], model.layers, 0
    while i < len(src):
        if isinstance(src[i], Linear) and i + 1 < len(src) and isinstance(src[i + 1], BatchNorm):
            W, bn = src[i].params["W"], src[i + 1]
            b = src[i].params.get("b", np.zeros(W.shape[1]))
            W_f, b_f = fold(W, b, bn.params["gamma"], bn.params["beta"], bn.running_mean,
                            bn.running_var, bn.eps)
            layer = Linear(*W.shape)
            layer.params = {"W": np.array(W_f, dtype=float), "b": np.array(b_f, dtype=float)}
            layers.append(layer)
            i += 2
        else:
            layers.append(copy.deepcopy(src[i]))
            i += 1
    return Sequential(*layers).eval()


# --------------------------------------------------------------------------- losses


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) (n, k) against class indices y (n,).

    Returns (loss, dlogits). Computed from log-softmax, so large logits do not overflow.
    """
    n = len(y)
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), y] -= 1.0
    return float(loss), dlogits / n


def mse(pred, y):
    """Mean squared error over all entries, as in lesson 1. Returns (loss, dpred).

    ``y`` (n,) is accepted for ``pred`` (n, 1).
    """
    r = pred - np.reshape(y, pred.shape)
    return float(np.mean(r**2)), 2.0 * r / r.size


LOSSES = {"mse": mse, "cross_entropy": softmax_cross_entropy}
