"""Lesson 3's training-mode exercises: the test cases and judges of batch norm's forward and
backward passes (the exercise list is in :mod:`helpers.exercises.l03`).

Convention (PyTorch's ``BatchNorm1d``): training mode normalizes each feature
(column) with the batch mean and the *biased* batch variance, ε inside the
square root; running = (1 − momentum)·running + momentum·batch with momentum
0.1 and the *unbiased* batch variance for running_var.

The cache passed between ``batchnorm_forward`` and ``batchnorm_backward`` has
a documented format, ``(X, x_hat, mean, var, gamma, eps)``, so that the backward
cases are plain data. The backward judge compares with the gradient in closed form
(:func:`norm_backward`, shared with layer norm), and on a large case (32,768 entries, the
first) bounds its cost: at most ``MAX_FORWARDS`` forward passes of a plain layer timed
in the same process (:mod:`helpers.checking.calling`), which a finite-difference
gradient (one forward pass per input entry) cannot meet. The others recompute the
convention's formula and name the classic mistakes (wrong axis, unbiased variance in
the forward pass, missing ε, momentum on the wrong side, batch statistics at evaluation).
"""

from __future__ import annotations

import numpy as np

from helpers.answers.l03 import batchnorm_forward
from helpers.checking import expect
from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_number,
    expect_tuple,
    has_nonfinite,
)
from helpers.exercises.norm_backward import CACHE_NAMES, cost_case, judge_backward

# --------------------------------------------------------------------------- references


def course_forward(X, gamma, beta, eps):
    """The right output: the course's batch norm (helpers.answers.l03)."""
    return batchnorm_forward(X, gamma, beta, eps)[0]


def _normalize(X, eps, axis=0, ddof=0):
    """x_hat computed with a classic mistake: another axis, or the unbiased variance."""
    mean = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, ddof=ddof, keepdims=True)
    return (X - mean) / np.sqrt(var + eps)


def with_mistake(X, gamma, beta, eps, **kw):
    return gamma * _normalize(X, eps, **kw) + beta


def close(a, b, rtol=1e-6, atol=1e-8, scale=None):
    """Agree at lessons 3-5's tolerances (widened for an answer computed in float32)."""
    return expect.close(a, b, rtol, atol, scale)


# --------------------------------------------------------------------------- forward


def forward_cases(rng):
    tiny = np.column_stack([1.0 + 1e-3 * np.array([-1.0, 1.0, -1.0, 1.0, 0.0, 0.0]),
                            np.arange(6.0)])
    const = np.column_stack([np.arange(5.0), np.full(5, 3.0), np.array([1.0, 4, 2, 8, 5])])
    return [
        Case("4 examples × 3 features, γ = 1, β = 0",
             (np.array([[1.0, 2.0, 0.0], [3.0, 6.0, 1.0], [5.0, 4.0, 0.0], [7.0, 0.0, 3.0]]),
              np.ones(3), np.zeros(3))),
        Case("8 examples × 5 features on very different scales, random γ and β",
             (rng.normal(size=(8, 5)) * [0.01, 1, 10, 100, 1000] + [0, 5, -3, 50, 1e4],
              rng.uniform(0.5, 2, size=5), rng.normal(size=5))),
        Case("2 examples × 4 features (the smallest batch)",
             (rng.normal(size=(2, 4)), np.ones(4), np.zeros(4))),
        Case("a feature whose variance (1e-6 × ⅔) is below ε",
             (tiny, np.ones(2), np.zeros(2))),
        Case("a constant feature (variance 0), γ = 2, β = 1",
             (const, np.full(3, 2.0), np.ones(3))),
        Case("ε = 0.1 passed explicitly",
             (np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0]]), np.ones(2), np.zeros(2)),
             {"eps": 0.1}),
    ]


def forward_judge(case, value):
    with np.errstate(all="ignore"):
        _forward_judge_quiet(case, value)


def _forward_judge_quiet(case, value):
    X, gamma, beta = case.args
    eps = case.kwargs.get("eps", 1e-5)
    out, cache = expect_tuple(value, 2, "(out, cache)")
    if has_nonfinite(out, X.shape):
        if (X.var(axis=0) == 0).any():
            raise Mismatch("out contains NaN or inf for a constant feature: its variance is 0, "
                           "so without ε you divide 0 by 0. Divide by √(var + ε)", "no-eps")
    out = expect_array(out, X.shape, "out")
    ref = course_forward(X, gamma, beta, eps)
    if close(out, ref):
        _check_cache(cache, X, gamma, eps)
        return
    x_hat = _normalize(X, eps)
    for wrong, message, mistake in [
            (with_mistake(X, gamma, beta, eps, axis=1), "you normalized each row (one example's "
             "features); batch norm normalizes each column (one feature over the batch): "
             "axis 0", "rows"),
            (with_mistake(X, gamma, beta, eps, axis=None), "you normalized with one mean and "
             "variance for the whole array; batch norm uses one per feature (column)",
             "whole-array"),
            (with_mistake(X, gamma, beta, eps, ddof=1), "you used the unbiased variance (divide "
             "by N − 1); the forward pass normalizes with the biased batch variance (divide by "
             "N), as PyTorch does", "unbiased-var"),
            (with_mistake(X, gamma, beta, 0.0), f"you forgot ε (here eps={eps:g}): divide by "
             "√(var + ε), not by √var; it matters when a feature's variance is tiny", "no-eps"),
            (with_mistake(X, gamma, beta, 0.0, ddof=1), f"two mistakes: you forgot ε (here "
             f"eps={eps:g}) and used the unbiased variance (divide by N − 1). Normalize with the "
             "biased variance, ε inside the square root", "no-eps-unbiased-var"),
            (gamma * x_hat if not np.allclose(beta, 0) else None, "out is missing β: out = "
             "γ·x_hat + β", "no-beta"),
            (x_hat if not np.allclose(gamma, 1) else None, "out is missing γ and β: out = "
             "γ·x_hat + β", "no-gamma-beta"),
            (x_hat + beta if not np.allclose(gamma, 1) else None, "out is missing γ: out = "
             "γ·x_hat + β", "no-gamma"),
            (beta * x_hat + gamma if not np.allclose(beta, gamma) else None, "γ and β are "
             "swapped: γ multiplies x_hat and β is added, out = γ·x_hat + β", "swapped"),
            (course_forward(X, gamma, beta, 1e-5) if eps != 1e-5 else None, f"you used "
             f"ε = 1e-5 instead of the eps argument ({eps:g}): use the parameter eps in your "
             "formula", "hard-coded-eps"),
            (gamma * (X - X.mean(0)) / (np.sqrt(X.var(0)) + eps) + beta, "ε goes inside the "
             "square root: √(var + ε), not √var + ε", "eps-outside-sqrt")]:
        if wrong is not None and close(out, wrong) and not close(wrong, ref):
            raise Mismatch(message, mistake)
    expect_close(out, ref, "out", rtol=1e-6, atol=1e-8)


def _check_cache(cache, X, gamma, eps):
    items = expect_tuple(cache, 6, f"cache = {CACHE_NAMES} (the format batchnorm_backward "
                                   "receives in its checks)")
    names = CACHE_NAMES.strip("()").split(", ")
    expected = (X, _normalize(X, eps), X.mean(axis=0), X.var(axis=0), gamma, eps)
    for name, got, want in zip(names, items, expected, strict=True):
        if name == "eps":
            if not np.isclose(expect_number(got, "the cache's eps"), eps):
                raise Mismatch(f"the cache's eps is {got}, expected {eps:g}")
            continue
        arr = expect_array(got, np.shape(want), f"the cache's {name}")
        if close(arr, want):
            continue
        if name == "var" and close(arr, X.var(axis=0, ddof=1)):
            raise Mismatch("out is right, but the cache's var is the unbiased variance; keep the "
                           "biased one that you normalized with", "cache-unbiased-var")
        if name == "var" and (close(arr, np.sqrt(want + eps)) or close(arr, np.sqrt(want))):
            raise Mismatch("the cache's var holds the standard deviation; store the variance "
                           "itself (the backward pass takes √(var + ε) of it)", "cache-std")
        for other, value in zip(names, expected, strict=True):
            if other not in (name, "eps") and np.shape(value) == arr.shape and close(arr, value):
                raise Mismatch(f"the cache's {name} holds {other}: keep the order "
                               f"{CACHE_NAMES}, which batchnorm_backward unpacks", "cache-order")
        expect_close(arr, want, f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- backward


def _backward_case(name, X, gamma, dout, eps=1e-5):
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return Case(name, (dout, (X, x_hat, mean, var, gamma, eps)))


def backward_cases(rng):
    return [
        cost_case(rng, "batchnorm"),
        _backward_case("2 examples × 3 features",
                       np.array([[1.0, -2.0, 0.5], [3.0, 1.0, 2.0]]), np.array([1.0, 0.5, 2.0]),
                       np.array([[0.3, -1.0, 0.2], [1.5, 0.4, -0.7]])),
        _backward_case("5 examples × 4 features, γ = 1",
                       rng.normal(2.0, 3.0, size=(5, 4)), np.ones(4), rng.normal(size=(5, 4))),
        _backward_case("16 examples × 3 features, random γ",
                       rng.normal(size=(16, 3)) * [1, 5, 0.2], rng.uniform(0.5, 2.0, size=3),
                       rng.normal(size=(16, 3))),
        _backward_case("dout = 1 everywhere (the gradient with respect to X is then 0)",
                       rng.normal(size=(6, 2)), np.array([1.5, -0.5]), np.ones((6, 2))),
        _backward_case("a feature whose variance (1e-6 × ⅔) is below ε (ε matters)",
                       np.column_stack([1.0 + 1e-3 * np.array([-1.0, 1.0, -1.0, 1.0, 0.0, 0.0]),
                                        np.arange(6.0)]),
                       np.array([1.0, 2.0]), rng.normal(size=(6, 2))),
        _backward_case("ε = 0.5 passed in the cache (a large ε)", rng.normal(size=(4, 3)) * 0.5,
                       rng.uniform(0.5, 2.0, size=3), rng.normal(size=(4, 3)), eps=0.5),
    ]


def backward_judge(case, value):
    judge_backward(case, value, 0, "the batch")
