"""Lesson 4's layer-norm exercises: test cases and judges of ``layernorm_forward`` and
``layernorm_backward`` (the exercise list is in :mod:`helpers.exercises.l04`).

Convention (PyTorch's ``nn.LayerNorm`` over the last axis): each example (row) is
normalized over its features with its own mean and *biased* variance, ε inside the
square root; out = γ·x_hat + β with γ, β per feature. The cache is
``(X, x_hat, mean, var, gamma, eps)`` with mean and var of shape (N, 1). Judges compare
with the formula, with central finite differences, and, for the cases marked
"PyTorch", with the numbers ``torch.nn.LayerNorm`` computed (stored in the package).
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
    has_nonfinite,
)
from helpers.core.data import torch_reference
from helpers.exercises.l03_training import close

CACHE_NAMES = "(X, x_hat, mean, var, gamma, eps)"


def normalize(X, eps, axis=1, ddof=0):
    mean = X.mean(axis=axis, keepdims=True)
    return (X - mean) / np.sqrt(X.var(axis=axis, ddof=ddof, keepdims=True) + eps)


def reference(X, gamma, beta, eps):
    return gamma * normalize(X, eps) + beta


# --------------------------------------------------------------------------- forward


def forward_cases(rng):
    torch_cases = [Case(f"PyTorch's nn.LayerNorm: {c['name']}", (c["X"], c["gamma"], c["beta"]),
                        {"eps": c["eps"]} if c["eps"] != 1e-5 else {}, expected=c["out"])
                   for c in torch_reference()["layernorm"]]
    return [
        Case("4 examples × 3 features, γ = 1, β = 0",
             (np.array([[1.0, 2.0, 6.0], [3.0, 6.0, 0.0], [5.0, 4.0, 3.0], [7.0, 0.0, 2.0]]),
              np.ones(3), np.zeros(3))),
        Case("a batch of one example (layer norm must work on it)",
             (rng.normal(3.0, 2.0, size=(1, 5)), rng.uniform(0.5, 2, size=5),
              rng.normal(size=5))),
        Case("6 examples × 4 features on different scales, random γ and β",
             (rng.normal(size=(6, 4)) * rng.uniform(0.1, 10, size=(6, 1)) + rng.normal(size=(6, 1)),
              rng.uniform(0.5, 2, size=4), rng.normal(size=4))),
        Case("an example whose features are all equal (variance 0), γ = 2, β = 1",
             (np.array([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]), np.full(3, 2.0), np.ones(3))),
        *torch_cases,
    ]


def forward_judge(case, value):
    with np.errstate(all="ignore"):
        _forward_judge(case, value)


def _forward_judge(case, value):
    X, gamma, beta = case.args
    eps = case.kwargs.get("eps", 1e-5)
    out, cache = expect_tuple(value, 2, "(out, cache)")
    if has_nonfinite(out, X.shape):
        raise Mismatch("out contains NaN or inf: for an example whose features are all equal "
                       "the variance is 0; divide by np.sqrt(var + eps)")
    out = expect_array(out, X.shape, "out")
    ref = reference(X, gamma, beta, eps) if case.expected is None else case.expected
    if close(out, ref, rtol=1e-6, atol=1e-8):
        _check_cache(cache, X, gamma, eps)
        return
    if len(X) == 1 and close(out, np.broadcast_to(beta, X.shape)):
        raise Mismatch("every output equals β: you normalized each feature over the batch "
                       "(axis=0, batch norm). Layer norm normalizes each example over its "
                       "features: axis=1, keepdims=True")
    mistakes = [
        (gamma * normalize(X, eps, axis=0) + beta, "you normalized each feature (column) over "
         "the batch, which is batch norm; layer norm normalizes each example (row) over its "
         "features: X.mean(axis=1, keepdims=True)"),
        (gamma * normalize(X, eps, ddof=1) + beta, "you used the unbiased variance (divide by "
         "D − 1); PyTorch's LayerNorm uses the biased one (divide by the number of features)"),
        (gamma * normalize(X, 0.0) + beta, f"you forgot ε (here eps={eps:g}): divide by "
         "np.sqrt(var + eps)"),
        (gamma * (X - X.mean(1, keepdims=True)) / (X.std(1, keepdims=True) + eps) + beta,
         "ε goes inside the square root: np.sqrt(var + eps)"),
        (gamma * normalize(X, eps), "out is missing β: out = γ·x_hat + β"),
        (normalize(X, eps) + beta, "out is missing γ: out = γ·x_hat + β"),
        (beta * normalize(X, eps) + gamma, "γ and β are swapped: out = γ·x_hat + β"),
        (gamma * normalize(X, 1e-5) + beta, f"you used ε = 1e-5 instead of the eps argument "
         f"({eps:g})"),
    ]
    for wrong, message in mistakes:
        if not close(wrong, ref) and close(out, wrong):
            raise Mismatch(message)
    source = "PyTorch's output" if case.expected is not None else "out"
    expect_close(out, ref, source, rtol=1e-6, atol=1e-8)


def _check_cache(cache, X, gamma, eps):
    items = expect_tuple(cache, 6, f"cache = {CACHE_NAMES} (the format layernorm_backward "
                                   "receives in its checks)")
    mean, var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
    expected = (X, normalize(X, eps), mean, var, gamma, eps)
    for name, got, want in zip(CACHE_NAMES.strip("()").split(", "), items, expected, strict=True):
        if name == "eps":
            if not np.isclose(expect_number(got, "the cache's eps"), eps):
                raise Mismatch(f"the cache's eps is {got}, expected {eps:g}")
            continue
        if name in ("mean", "var") and np.shape(got) == (len(X),):
            raise Mismatch(f"the cache's {name} has shape {np.shape(got)}; keep it as a column "
                           f"of shape ({len(X)}, 1) (keepdims=True), one value per example")
        arr = expect_array(got, np.shape(want), f"the cache's {name}")
        if name == "var" and close(arr, X.var(axis=1, ddof=1, keepdims=True)):
            raise Mismatch("the cache's var is the unbiased variance; keep the biased one")
        expect_close(arr, want, f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- backward


def _case(name, X, gamma, dout, eps=1e-5, expected=None):
    mean, var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return Case(name, (dout, (X, x_hat, mean, var, gamma, eps)), expected=expected)


def backward_cases(rng):
    torch_cases = [_case(f"PyTorch's nn.LayerNorm: {c['name']}", c["X"], c["gamma"], c["dout"],
                         c["eps"], expected=(c["dX"], c["dgamma"], c["dbeta"]))
                   for c in torch_reference()["layernorm"][:2]]
    return [
        _case("3 examples × 4 features, γ = 1", rng.normal(1.0, 2.0, size=(3, 4)), np.ones(4),
              rng.normal(size=(3, 4))),
        _case("a batch of one example, random γ", rng.normal(size=(1, 5)),
              rng.uniform(0.5, 2, size=5), rng.normal(size=(1, 5))),
        _case("8 examples × 6 features, random γ", rng.normal(size=(8, 6)) * 3,
              rng.uniform(0.5, 2, size=6), rng.normal(size=(8, 6))),
        _case("dout = 1 everywhere, γ = 1 (the gradient with respect to X is then 0)",
              rng.normal(size=(4, 3)), np.ones(3), np.ones((4, 3))),
        *torch_cases,
    ]


def numerical_backward(dout, X, gamma, eps, h=1e-6):
    """Central differences of L = sum(dout * layernorm(X)) in X; dgamma, dbeta in closed form
    from the normalized input (they are linear in γ and β)."""
    def loss(X_):
        return float(np.sum(dout * reference(X_, gamma, 0.0, eps)))

    dX = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        e = np.zeros_like(X)
        e[i] = h
        dX[i] = (loss(X + e) - loss(X - e)) / (2 * h)
    return dX, (dout * normalize(X, eps)).sum(axis=0), dout.sum(axis=0)


def backward_judge(case, value):
    dout, (X, x_hat, mean, var, gamma, eps) = case.args
    dX, dgamma, dbeta = expect_tuple(value, 3, "(dX, dgamma, dbeta)")
    if np.shape(dgamma) == X.shape:
        raise Mismatch("dgamma has one value per entry; γ_j is shared by every example, so "
                       "sum over the batch: (dout * x_hat).sum(axis=0)")
    dX = expect_array(dX, X.shape, "dX")
    dgamma = expect_array(dgamma, gamma.shape, "dgamma")
    dbeta = expect_array(dbeta, gamma.shape, "dbeta")
    ref = numerical_backward(dout, X, gamma, eps) if case.expected is None else case.expected
    what = "PyTorch's" if case.expected is not None else "finite differences"
    if close(dgamma, ref[2]) and close(dbeta, ref[1]) and not close(ref[1], ref[2]):
        raise Mismatch("dgamma and dbeta are swapped: return (dX, dgamma, dbeta)")
    expect_close(dbeta, ref[2], f"dbeta (compared with {what})", rtol=1e-5, atol=1e-7)
    expect_close(dgamma, ref[1], f"dgamma (compared with {what})", rtol=1e-5, atol=1e-6)
    if not close(dX, ref[0], rtol=1e-4, atol=1e-6):
        std = np.sqrt(var + eps)
        dx_hat = dout * gamma

        def full(d, axis=1, s=std):
            return (d - d.mean(axis=axis, keepdims=True)
                    - x_hat * (d * x_hat).mean(axis=axis, keepdims=True)) / s

        mistakes = [
            (dx_hat / std, "dX = dout·γ/σ treats each example's mean and variance as constants; "
                           "they are computed from that example's features, so add the two "
                           "terms through the mean and the variance (as in lesson 3)"),
            (full(dx_hat, axis=0, s=std), "you took the means over the batch (axis=0, batch "
                                          "norm's backward pass); layer norm's statistics are "
                                          "per example: average over the features, axis=1"),
            (full(dout), "you forgot γ in dX: start from dx_hat = dout·γ"),
            (full(dx_hat, s=np.sqrt(var)), "you forgot ε: divide by √(var + ε)"),
        ]
        for wrong, message in mistakes:
            if np.shape(wrong) == X.shape and close(dX, wrong) and not close(wrong, ref[0]):
                raise Mismatch(message)
    expect_close(dX, ref[0], f"dX (compared with {what})", rtol=1e-4, atol=1e-6)
