"""Gradient checks: analytic gradients against central finite differences (lesson 3, tests).

A relative error below about 1e-6 means the backward pass is right.
"""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """Central finite differences of the scalar f() with respect to the array x.

    ``x`` is changed in place one entry at a time (and restored), so f must read it.
    """
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|): below ~1e-6 means the gradients agree."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


def gradient_check(layer_or_model, x, *, seed=0, h=1e-5):
    """Relative error of each analytic gradient against finite differences.

    Uses the scalar L = sum(forward(x) * g) for a fixed random g, so dL/dout = g.
    Returns {"x": err, "<param>": err, ...}. Works for a layer or a Sequential.
    """
    g_rng = np.random.default_rng(seed)
    x = np.array(x, dtype=float)
    out = layer_or_model.forward(x)
    g = g_rng.standard_normal(out.shape)
    dx = layer_or_model.backward(g)
    layers = getattr(layer_or_model, "layers", [layer_or_model])
    analytic = {(j, k): layer.grads[k].copy() for j, layer in enumerate(layers)
                for k in layer.params}
    bns = [la for la in layers if hasattr(la, "update_running")]

    def f():
        for bn in bns:
            bn.update_running = False
        try:
            return float(np.sum(layer_or_model.forward(x) * g))
        finally:
            for bn in bns:
                bn.update_running = True

    errors = {"x": rel_error(dx, numerical_gradient(f, x, h))}
    for (j, k), grad in analytic.items():
        name = k if len(layers) == 1 else f"{j}.{k}"
        errors[name] = rel_error(grad, numerical_gradient(f, layers[j].params[k], h))
    return errors
