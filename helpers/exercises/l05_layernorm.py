"""Lesson 5's layer-norm exercises: test cases and judges of ``layernorm_forward`` and
``layernorm_backward`` (the exercise list is in :mod:`helpers.exercises.l05`).

Convention (PyTorch's ``nn.LayerNorm`` over the last axis): each example (row) is
normalized over its features with its own mean and *biased* variance, ε inside the
square root; out = γ·x_hat + β with γ, β per feature. The cache is
``(X, x_hat, mean, var, gamma, eps)`` with mean and var of shape (N, 1). Judges compare
with the formula (the backward pass with its closed form,
:mod:`helpers.exercises.norm_backward`, and its cost on a large first case) and, for the
cases marked "PyTorch", with the numbers ``torch.nn.LayerNorm`` computed (stored in the
package), among them one with eps = 0.1, where no ε, a hard-coded ε or ε outside the
square root are far off.
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
from helpers.exercises.norm_backward import CACHE_NAMES, cost_case, judge_backward


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
                       "the variance is 0; divide by √(var + ε)", "no-eps")
    out = expect_array(out, X.shape, "out")
    ref = reference(X, gamma, beta, eps) if case.expected is None else case.expected
    if close(out, ref, rtol=1e-6, atol=1e-8):
        _check_cache(cache, X, gamma, eps)
        return
    if len(X) == 1 and close(out, np.broadcast_to(beta, X.shape)):
        raise Mismatch("every output equals β: you normalized each feature over the batch "
                       "(axis 0, batch norm). Layer norm normalizes each example over its "
                       "features (axis 1)", "batch-norm-axis")
    mistakes = [
        (gamma * normalize(X, eps, axis=0) + beta, "you normalized each feature (column) over "
         "the batch, which is batch norm; layer norm normalizes each example (row) over its "
         "features (axis 1, one mean and variance per row)", "batch-norm-axis"),
        (gamma * normalize(X, eps, ddof=1) + beta, "you used the unbiased variance (divide by "
         "D − 1); PyTorch's LayerNorm uses the biased one (divide by the number of features)",
         "unbiased-var"),
        (gamma * normalize(X, 0.0) + beta, f"you forgot ε (here eps={eps:g}): divide by "
         "√(var + ε)", "no-eps"),
        (gamma * (X - X.mean(1, keepdims=True)) / (X.std(1, keepdims=True) + eps) + beta,
         "ε goes inside the square root: √(var + ε), not √var + ε", "eps-outside-sqrt"),
        (gamma * normalize(X, eps), "out is missing β: out = γ·x_hat + β", "no-beta"),
        (normalize(X, eps) + beta, "out is missing γ: out = γ·x_hat + β", "no-gamma"),
        (beta * normalize(X, eps) + gamma, "γ and β are swapped: out = γ·x_hat + β", "swapped"),
        (gamma * normalize(X, 1e-5) + beta, f"you used ε = 1e-5 instead of the eps argument "
         f"({eps:g})", "hard-coded-eps"),
    ]
    for wrong, message, mistake in mistakes:
        if not close(wrong, ref) and close(out, wrong):
            raise Mismatch(message, mistake)
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
                           f"of shape ({len(X)}, 1), one value per example", "cache-shape")
        arr = expect_array(got, np.shape(want), f"the cache's {name}")
        if name == "var" and close(arr, X.var(axis=1, ddof=1, keepdims=True)):
            raise Mismatch("the cache's var is the unbiased variance; keep the biased one",
                           "cache-unbiased-var")
        expect_close(arr, want, f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- backward


def _case(name, X, gamma, dout, eps=1e-5, expected=None):
    mean, var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return Case(name, (dout, (X, x_hat, mean, var, gamma, eps)), expected=expected)


def backward_cases(rng):
    torch_cases = [_case(f"PyTorch's nn.LayerNorm: {c['name']}", c["X"], c["gamma"], c["dout"],
                         c["eps"], expected=(c["dX"], c["dgamma"], c["dbeta"]))
                   for c in torch_reference()["layernorm"]]
    return [
        cost_case(rng, "layernorm"),
        _case("3 examples × 4 features, γ = 1", rng.normal(1.0, 2.0, size=(3, 4)), np.ones(4),
              rng.normal(size=(3, 4))),
        _case("a batch of one example, random γ", rng.normal(size=(1, 5)),
              rng.uniform(0.5, 2, size=5), rng.normal(size=(1, 5))),
        _case("8 examples × 6 features, random γ", rng.normal(size=(8, 6)) * 3,
              rng.uniform(0.5, 2, size=6), rng.normal(size=(8, 6))),
        _case("dout = 1 everywhere, γ = 1 (the gradient with respect to X is then 0)",
              rng.normal(size=(4, 3)), np.ones(3), np.ones((4, 3))),
        _case("rows whose variance (about 1e-5) is near ε (ε matters)",
              rng.normal(size=(3, 4)) * 3e-3, rng.uniform(0.5, 2, size=4),
              rng.normal(size=(3, 4))),
        *torch_cases,
    ]


def backward_judge(case, value):
    judge_backward(case, value, 1, "the features of each example", expected=case.expected,
                   what=" (compared with PyTorch's)" if case.expected is not None else "")
