"""Lesson 5's studies, every one over many seeds at once (:mod:`.batched` layers, :mod:`.seeds`
training): each returns one number per seed, and the lesson reports their median and range.

- :func:`mlp`: the multilayer perceptron of lessons 3 and 5 for S seeds, with batch norm,
  layer norm or no normalization, before or after each ReLU;
- :func:`trained_accuracy`: train S seeds of one network with minibatch SGD, their test
  accuracies (the batch-size and placement studies);
- :func:`bn_layer` and :func:`weight_decay_norms`: one Linear (no bias) -> batch norm
  layer fitted to random targets, and the length of its weights after SGD with and
  without weight decay (scale invariance meets weight decay);
- :func:`relative_steps`: how much one SGD or Adam step changes W, relative to ‖W‖, at W
  and at c·W.
"""

from __future__ import annotations

import numpy as np

from helpers.core import batched as bt
from helpers.core import seeds as sd

#: the axes each normalization averages over, on (S, N, D) activations
NORM_AXES = {"batch": (1,), "layer": (-1,)}


def mlp(S, sizes, seed, norm=None, after_relu=False):
    """Linear -> [norm] -> ReLU for each hidden layer, then Linear, for S seeds at once.

    ``norm`` is None, "batch" or "layer"; ``after_relu`` puts it after the ReLU. A Linear
    layer directly before a batch norm has no bias (β replaces it), as ``nn.mlp`` builds.
    """
    if norm not in (None, *NORM_AXES):
        raise ValueError(f"norm must be None, 'batch' or 'layer', not {norm!r}")
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers.append(bt.Linear(S, n_in, n_out, rng, bias=not (norm == "batch" and not after_relu)))
        block = [bt.ReLU()] if norm is None else [bt.Norm(S, (n_out,), NORM_AXES[norm]), bt.ReLU()]
        layers.extend(block[::-1] if after_relu else block)
    layers.append(bt.Linear(S, sizes[-2], sizes[-1], rng))
    return bt.Sequential(*layers)


def per_seed(lr, S):
    """A learning rate per seed, shaped to scale every (S, ...) parameter of an :func:`mlp`:
    one number for all seeds, or one per seed (several learning rates in one run)."""
    return np.broadcast_to(np.asarray(lr, dtype=float), (S,)).reshape(S, 1, 1)


def trained_accuracy(model, X, y, X_test, y_test, *, lr, steps, batch_size, seed=0):
    """Train every seed of ``model`` (minibatch SGD, cross-entropy) -> test accuracy (S,);
    ``lr`` is one number or one per seed. A seed whose loss stopped being finite scores
    what its NaN outputs give (their argmax, class 0)."""
    S = model.layers[0].params["W"].shape[0]
    sd.train(model, X, y, lr=per_seed(lr, S), steps=steps, batch_size=batch_size, seed=seed)
    return sd.accuracy(model, X_test, y_test)


# --------------------------------------------------------------------------- one layer


def bn_layer(W):
    """Linear (no bias) -> batch norm with weights W (S, d_in, d_out): (network, Linear)."""
    S, d_in, d_out = W.shape
    linear = bt.Linear(S, d_in, d_out, np.random.default_rng(0), bias=False)
    linear.params["W"] = np.array(W, float)
    return bt.Sequential(linear, bt.Norm(S, (d_out,), (1,))), linear


def layer_gradient(layer, W, X, T):
    """dL/dW (S, d_in, d_out) at weights W for L = mean squared distance to targets T."""
    net, linear = layer
    linear.params["W"][...] = W
    out = net.forward(X)
    net.backward(2 * (out - T) / out[0].size)
    return linear.grads["W"].copy()


def weight_decay_norms(W0, X, T, *, lr, steps, weight_decay):
    """‖W‖ per seed (S,) after ``steps`` SGD steps with weight decay from W0 (S, d_in, d_out)."""
    layer, W = bn_layer(W0), np.array(W0, float)
    for _ in range(steps):
        W = W - lr * (layer_gradient(layer, W, X, T) + weight_decay * W)
    return np.linalg.norm(W.reshape(len(W), -1), axis=1)


def relative_steps(W, X, T, c, *, lr_sgd, lr_adam):
    """One step's ‖ΔW‖ / ‖W‖ from c·W divided by that from W, per seed: (SGD (S,), Adam (S,)).
    Adam's first step, bias-corrected, is lr·g / (|g| + 1e-8)."""
    layer = bn_layer(W)
    out = {"SGD": [], "Adam": []}
    for V in (W, c * W):
        g = layer_gradient(layer, V, X, T)
        size = np.linalg.norm(V.reshape(len(V), -1), axis=1)
        for name, step in (("SGD", lr_sgd * g), ("Adam", lr_adam * g / (np.abs(g) + 1e-8))):
            out[name].append(np.linalg.norm(step.reshape(len(V), -1), axis=1) / size)
    return out["SGD"][1] / out["SGD"][0], out["Adam"][1] / out["Adam"][0]
