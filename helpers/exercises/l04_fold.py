"""Lesson 4's folding and scale-invariance exercises: test cases and judges of
``fold_batchnorm`` and of the experiment ``scale_invariance`` (the exercise list is in
:mod:`helpers.exercises.l04`).

``fold_batchnorm`` is judged by its defining property, X @ W_folded + b_folded equal to
evaluation-mode batch norm of X @ W + b for every X (so the folded arrays themselves are
the reference), and, for the cases marked "PyTorch", against the weights
``torch.nn.utils.fusion.fuse_linear_bn_weights`` returned. ``scale_invariance`` is an
experiment judged by the property it measures: the output barely moves (only ε breaks
the invariance) and the gradient is divided by c.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_number,
    expect_tuple,
)
from helpers.core.data import torch_reference
from helpers.exercises.l03_training import close

# --------------------------------------------------------------------------- folding


def fold_cases(rng):
    def bn(d):
        return (rng.uniform(0.5, 2, size=d), rng.normal(size=d), rng.normal(size=d),
                rng.uniform(0.2, 3, size=d))
    torch_cases = [Case(f"PyTorch's fuse_linear_bn_weights: {c['name']}",
                        (c["W"], c["b"], c["gamma"], c["beta"], c["running_mean"],
                         c["running_var"]), {"eps": c["eps"]} if c["eps"] != 1e-5 else {},
                        expected=(c["W_folded"], c["b_folded"])) for c in torch_reference()["fold"]]
    return [
        Case("Linear(3 → 2) with a bias, γ = 1, β = 0",
             (np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]]), np.array([0.5, -1.0]), np.ones(2),
              np.zeros(2), np.array([1.0, -2.0]), np.array([4.0, 0.25]))),
        Case("Linear(5 → 4), random everything", (rng.normal(size=(5, 4)), rng.normal(size=4),
                                                   *bn(4))),
        Case("a running variance of 1e-5 (ε matters)",
             (rng.normal(size=(2, 3)), np.zeros(3), np.ones(3), np.zeros(3), np.zeros(3),
              np.array([1e-5, 1.0, 2.0]))),
        Case("ε = 0.1 passed explicitly", (rng.normal(size=(3, 3)), rng.normal(size=3), *bn(3)),
             {"eps": 0.1}),
        *torch_cases,
    ]


def fold_reference(W, b, gamma, beta, mean, var, eps):
    scale = gamma / np.sqrt(var + eps)
    return W * scale, (b - mean) * scale + beta


def fold_judge(case, value):
    W, b, gamma, beta, mean, var = case.args
    eps = case.kwargs.get("eps", 1e-5)
    W_f, b_f = expect_tuple(value, 2, "(W_folded, b_folded)")
    if np.shape(W_f) == W.T.shape != W.shape:
        raise Mismatch(f"W_folded has shape {np.shape(W_f)}; keep W's shape {W.shape} "
                       "(d_in, d_out): y = X @ W_folded + b_folded")
    W_f = expect_array(W_f, W.shape, "W_folded")
    b_f = expect_array(b_f, b.shape, "b_folded")
    ref_W, ref_b = fold_reference(W, b, gamma, beta, mean, var, eps)
    what = "" if case.expected is None else " (compared with PyTorch's)"
    if case.expected is not None:
        ref_W, ref_b = case.expected
    if not close(W_f, ref_W):
        std = np.sqrt(var + eps)
        if W.shape[0] == W.shape[1] and close(W_f, W * (gamma / std)[:, None]):
            raise Mismatch("you scaled the rows of W; each output unit is a *column* of W "
                           "(W has shape (d_in, d_out)): W * scale, with scale of shape (d_out,)")
        if close(W_f, W * gamma / np.sqrt(var)):
            raise Mismatch(f"you forgot ε (here eps={eps:g}): scale = γ / √(running_var + ε)")
        if close(W_f, W * gamma / (var + eps)):
            raise Mismatch("divide by the standard deviation √(running_var + ε), not by the "
                           "variance")
        if close(W_f, W / std):
            raise Mismatch("W_folded is missing γ: scale = γ / √(running_var + ε)")
        expect_close(W_f, ref_W, "W_folded" + what, rtol=1e-6, atol=1e-9)
    if not close(b_f, ref_b):
        scale = gamma / np.sqrt(var + eps)
        mistakes = [(-mean * scale + beta, "b_folded forgets the Linear layer's own bias b: "
                     "it goes through the batch norm too, (b − running_mean)·scale + β"),
                    (b * scale + beta, "b_folded does not subtract running_mean"),
                    ((b - mean) * scale, "b_folded is missing β"),
                    (b - mean * scale + beta, "b must be scaled too: (b − running_mean)·scale + β")]
        for wrong, message in mistakes:
            if close(b_f, wrong) and not close(wrong, ref_b):
                raise Mismatch(message)
        expect_close(b_f, ref_b, "b_folded" + what, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- scale invariance

#: theory: the gradient is divided by c; ε breaks it slightly (rows here have variance ≫ ε)
RATIO_RTOL = 1e-3
MAX_CHANGE = 1e-3


def scale_cases(rng):
    def case(name, n, d_in, d_out, c, unit=True):
        X = rng.normal(size=(n, d_in))
        W = rng.normal(size=(d_in, d_out)) * 2
        gamma = np.ones(d_out) if unit else rng.uniform(0.5, 2, size=d_out)
        beta = np.zeros(d_out) if unit else rng.normal(size=d_out)
        return Case(name, (X, W, gamma, beta, rng.normal(size=(n, d_out)), c))
    return [
        case("8 examples, Linear(3 → 5), c = 10", 8, 3, 5, 10.0),
        case("16 examples, Linear(4 → 6), random γ and β, c = 2", 16, 4, 6, 2.0, unit=False),
        case("5 examples, Linear(6 → 8), c = 0.5 (smaller weights)", 5, 6, 8, 0.5),
        case("32 examples, Linear(8 → 16), c = 100", 32, 8, 16, 100.0, unit=False),
    ]


def scale_judge(case, value):
    X, W, gamma, beta, dout, c = case.args
    change, ratio = expect_tuple(value, 2, "(output_change, grad_ratio)")
    change = expect_number(change, "output_change")
    ratio = expect_number(ratio, "grad_ratio")
    if change < 0:
        raise Mismatch("output_change is negative; return the largest *absolute* difference")
    if change > MAX_CHANGE:
        raise Mismatch(f"output_change is {change:.3g}: the two outputs differ. Normalize X @ W "
                       "and X @ (c·W) with your layernorm_forward (scale the weights, not X or "
                       "the output), then compare the two outputs")
    if np.isclose(ratio, c, rtol=RATIO_RTOL) and c != 1:
        raise Mismatch(f"grad_ratio is {ratio:.4g} ≈ c: the ratio is upside down; divide the "
                       "gradient at c·W by the gradient at W")
    if np.isclose(ratio, 1.0, rtol=RATIO_RTOL):
        raise Mismatch("grad_ratio is 1: the two gradients are equal. dL/dW = X.T @ dZ, with "
                       "dZ from layernorm_backward on the cache of the forward pass *with the "
                       "scaled weights*")
    if np.isclose(ratio, 1 / c**2, rtol=RATIO_RTOL):
        raise Mismatch(f"grad_ratio ≈ 1/c² ({1 / c**2:.4g}): you divided by c once too often. "
                       "dL/dW at c·W is X.T @ dZ, with no extra factor")
    if not np.isclose(ratio, 1 / c, rtol=RATIO_RTOL):
        raise Mismatch(f"grad_ratio is {ratio:.4g}; theory (and a correct measurement) gives "
                       f"1/c = {1 / c:.4g} here. Use the Frobenius norm of each whole gradient "
                       "(np.linalg.norm(dW))")
