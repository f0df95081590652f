"""Lesson 5's folding and scale-invariance exercises: test cases and judges of
``fold_batchnorm`` and of the experiment ``scale_invariance`` (the exercise list is in
:mod:`helpers.exercises.l05`).

``fold_batchnorm`` is judged by its defining property, X @ W_folded + b_folded equal to
evaluation-mode batch norm of X @ W + b for every X (so the folded arrays themselves are
the reference), and, for the cases marked "PyTorch", against the weights
``torch.nn.utils.fusion.fuse_linear_bn_weights`` returned. ``scale_invariance`` is an
experiment, judged by measuring it again here: the theory (the output does not move, the
gradient is divided by c) holds only while ε is negligible against the variance of the
rows of X @ W, and two cases make ε matter, so that the theory alone gives wrong numbers.
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
    times,
)
from helpers.core.data import torch_reference
from helpers.exercises.l03_training import close
from helpers.exercises.norm_backward import norm_backward

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
                       "(d_in, d_out): y = X·W_folded + b_folded", "transposed")
    W_f = expect_array(W_f, W.shape, "W_folded")
    b_f = expect_array(b_f, b.shape, "b_folded")
    ref_W, ref_b = fold_reference(W, b, gamma, beta, mean, var, eps)
    what = "" if case.expected is None else " (compared with PyTorch's)"
    if case.expected is not None:
        ref_W, ref_b = case.expected
    if not close(W_f, ref_W):
        std = np.sqrt(var + eps)
        for wrong, message, mistake in [
                (W * (gamma / std)[:, None] if W.shape[0] == W.shape[1] else None, "you scaled "
                 "the rows of W; each output unit is a *column* of W (W has shape (d_in, "
                 "d_out)): scale each column j by scale_j", "rows"),
                (W * gamma / np.sqrt(var), f"you forgot ε (here eps={eps:g}): scale = γ / "
                 "√(running_var + ε)", "no-eps"),
                (W * gamma / (np.sqrt(var) + eps), "ε goes inside the square root: scale = γ / "
                 "√(running_var + ε), not γ / (√running_var + ε)", "eps-outside-sqrt"),
                (W * gamma / (var + eps), "divide by the standard deviation √(running_var + "
                 "ε), not by the variance", "variance"),
                (W / std, "W_folded is missing γ: scale = γ / √(running_var + ε)", "no-gamma")]:
            if wrong is not None and close(W_f, wrong) and not close(wrong, ref_W):
                raise Mismatch(message, mistake)
        expect_close(W_f, ref_W, "W_folded" + what, rtol=1e-6, atol=1e-9)
    if not close(b_f, ref_b):
        scale = gamma / np.sqrt(var + eps)
        mistakes = [(-mean * scale + beta, "b_folded forgets the Linear layer's own bias b: "
                     "it goes through the batch norm too, (b − running_mean)·scale + β",
                     "no-bias"),
                    (b * scale + beta, "b_folded does not subtract running_mean", "no-mean"),
                    ((b - mean) * scale, "b_folded is missing β", "no-beta"),
                    (b - mean * scale + beta, "b must be scaled too: (b − running_mean)·scale + "
                     "β", "bias-not-scaled")]
        for wrong, message, mistake in mistakes:
            if close(b_f, wrong) and not close(wrong, ref_b):
                raise Mismatch(message, mistake)
        expect_close(b_f, ref_b, "b_folded" + what, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- scale invariance


def scale_cases(rng):
    def case(name, n, d_in, d_out, c, unit=True, x_scale=1.0):
        X = rng.normal(size=(n, d_in)) * x_scale
        W = rng.normal(size=(d_in, d_out)) * 2
        gamma = np.ones(d_out) if unit else rng.uniform(0.5, 2, size=d_out)
        beta = np.zeros(d_out) if unit else rng.normal(size=d_out)
        return Case(name, (X, W, gamma, beta, rng.normal(size=(n, d_out)), c))
    return [
        case("8 examples, Linear(3 → 5), c = 10", 8, 3, 5, 10.0),
        case("16 examples, Linear(4 → 6), random γ and β, c = 2", 16, 4, 6, 2.0, unit=False),
        case("5 examples, Linear(6 → 8), c = 0.5 (smaller weights)", 5, 6, 8, 0.5),
        case("32 examples, Linear(8 → 16), c = 100", 32, 8, 16, 100.0, unit=False),
        # ε = 1e-5 is not negligible against these rows' variance (about 1e-5 for X @ W):
        # the output moves and the gradient ratio is not 1/c
        case("tiny inputs (X ~ 1e-3: ε matters at W), 10 examples, Linear(4 → 6), c = 10",
             10, 4, 6, 10.0, x_scale=1e-3),
        case("tiny inputs, 12 examples, Linear(5 → 7), random γ and β, c = 0.3 (ε matters "
             "more at c·W)", 12, 5, 7, 0.3, unit=False, x_scale=2e-3),
    ]


def measure_scale(X, W, gamma, beta, dout, c, eps=1e-5):
    """(output change, gradient ratio) measured with layer norm in closed form."""
    outs, grads = [], []
    for V in (W, c * W):
        Z = X @ V
        x_hat = (Z - Z.mean(axis=1, keepdims=True)) / np.sqrt(Z.var(axis=1, keepdims=True) + eps)
        outs.append(gamma * x_hat + beta)
        grads.append(X.T @ norm_backward(dout, Z, gamma, eps, axis=1)[0])
    return (float(np.abs(outs[1] - outs[0]).max()),
            float(np.linalg.norm(grads[1]) / np.linalg.norm(grads[0])))


def scale_judge(case, value):
    X, W, gamma, beta, dout, c = case.args
    change, ratio = expect_tuple(value, 2, "(output_change, grad_ratio)")
    change = expect_number(change, "output_change")
    ratio = expect_number(ratio, "grad_ratio")
    ref_change, ref_ratio = measure_scale(X, W, gamma, beta, dout, c)
    eps_matters = not np.isclose(ref_ratio, 1 / c, rtol=1e-3)

    # Tolerances that an answer computed in float32 and returned as a Python float meets
    # (its dtype is then lost): the change is a difference of outputs of size
    # |β| + |γ|·|x_hat|, so it is known to 1e-5 of that; the ratio to 1e-4. The theory's
    # (0, 1/c) is then fine where ε is negligible, and far off in the two cases where not.
    size = float(np.abs(beta).max() + np.abs(gamma).max() * np.sqrt(W.shape[1]))
    change_tol, ratio_tol = 1e-5 * size, 1e-4

    def near(a, b):
        return close(a, b, rtol=ratio_tol, atol=0.0)

    if change < 0:
        raise Mismatch("output_change is negative; return the largest *absolute* difference",
                       "negative")
    change_ok = close(change, ref_change, rtol=0.0, atol=change_tol, scale=size)
    if not change_ok and (change == 0 or ref_change > 1e3 * change):
        raise Mismatch(f"output_change is {change:.3g}, but here the outputs differ by up to "
                       f"{ref_change:.3g}: ε is not negligible against the variance of these "
                       "rows, so the invariance is only approximate. Measure the change of "
                       "the two outputs, do not assume it", "theory-not-measured")
    if not change_ok and change > 10 * ref_change:
        raise Mismatch(f"output_change is {change:.3g}, the outputs differ by at most "
                       f"{ref_change:.3g}. Normalize X·W and X·(c·W) with your "
                       "layernorm_forward (scale the weights, not X or the output), then "
                       "compare the two outputs", "not-weights")
    for wrong, message, mistake in [
            (1 / c, f"grad_ratio is 1/c = {1 / c:.4g}, the theory; the measured ratio is "
             f"{ref_ratio:.6g}" + (" (ε is not negligible against the variance of these rows)"
                                   if eps_matters else " (ε moves it slightly)") +
             ": measure it, do not assume it", "theory-not-measured"),
            (c * ref_ratio, "your gradient at c·W is multiplied by c: that is the derivative "
             "with respect to W of the layer that uses c·W (the chain rule's factor c). "
             "Compare the gradients with respect to the weights each layer uses, Xᵀ·dZ for "
             "each, with dZ from its own cache", "times-c"),
            (1.0, "grad_ratio is 1: the two gradients are equal. The gradient at c·W is "
             "Xᵀ·dZ with dZ from layernorm_backward on the cache of the forward pass *with "
             "the scaled weights*; did you reuse the first cache?", "same-cache"),
            (1 / ref_ratio, f"grad_ratio is {ratio:.4g}: the ratio is upside down; divide "
             "the gradient at c·W by the gradient at W", "upside-down"),
            (ref_ratio / c, f"grad_ratio is {ratio:.4g}, {times(1 / c)} the measured one: you "
             "divided by c once too often. The gradient at c·W is Xᵀ·dZ, with no extra "
             "factor", "divided-by-c")]:
        if wrong is not None and near(ratio, wrong) and not near(wrong, ref_ratio):
            raise Mismatch(message, mistake)
    expect_close(change, ref_change, "output_change (measured here)", rtol=0.0,
                 atol=change_tol, scale=size)
    expect_close(ratio, ref_ratio, "grad_ratio (measured here: use the Frobenius norm of "
                 "each whole gradient)", rtol=ratio_tol, atol=0.0)
