"""Lesson 3's training-mode exercises: the test cases and judges of batch norm's forward and
backward passes (the exercise list is in :mod:`helpers.exercises.l03`).

Convention (PyTorch's ``BatchNorm1d``): training mode normalizes each feature
(column) with the batch mean and the *biased* batch variance, ε inside the
square root; running = (1 − momentum)·running + momentum·batch with momentum
0.1 and the *unbiased* batch variance for running_var.

The cache passed between ``batchnorm_forward`` and ``batchnorm_backward`` has
a documented format, ``(X, x_hat, mean, var, gamma, eps)``, so that the backward
cases are plain data. The backward judge compares with central finite
differences of the forward pass; the others recompute the convention's formula
and name the classic mistakes (wrong axis, unbiased variance in the forward
pass, missing ε, momentum on the wrong side, batch statistics at evaluation).
"""

from __future__ import annotations

import numpy as np

from helpers.answers.l03 import batchnorm_forward
from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_number,
    expect_tuple,
    has_nonfinite,
)

CACHE_NAMES = "(X, x_hat, mean, var, gamma, eps)"


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


def close(a, b, rtol=1e-6, atol=1e-8):
    try:
        return np.asarray(a).shape == np.asarray(b).shape and np.allclose(a, b, rtol=rtol,
                                                                          atol=atol)
    except (TypeError, ValueError):
        return False


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
                           "so without ε you divide 0 by 0. Divide by np.sqrt(var + eps)")
    out = expect_array(out, X.shape, "out")
    ref = course_forward(X, gamma, beta, eps)
    if close(out, ref):
        _check_cache(cache, X, gamma, eps)
        return
    if close(out, with_mistake(X, gamma, beta, eps, axis=1)):
        raise Mismatch("you normalized each row (one example's features); batch norm normalizes "
                       "each column (one feature over the batch): use axis=0")
    if close(out, with_mistake(X, gamma, beta, eps, axis=None)):
        raise Mismatch("you normalized with one mean and variance for the whole array; batch norm "
                       "uses one per feature (column): use axis=0")
    if close(out, with_mistake(X, gamma, beta, eps, ddof=1)):
        raise Mismatch("you used the unbiased variance (divide by N − 1); the forward pass "
                       "normalizes with the biased batch variance (divide by N), as PyTorch does: "
                       "X.var(axis=0)")
    if close(out, with_mistake(X, gamma, beta, 0.0)):
        raise Mismatch(f"you forgot ε (here eps={eps:g}): divide by np.sqrt(var + eps), not by "
                       "np.sqrt(var); it matters when a feature's variance is tiny")
    if close(out, with_mistake(X, gamma, beta, 0.0, ddof=1)):
        raise Mismatch(f"two mistakes: you forgot ε (here eps={eps:g}) and used the unbiased "
                       "variance (divide by N − 1). Normalize with np.sqrt(X.var(axis=0) + eps): "
                       "biased variance, ε inside the square root")
    x_hat = _normalize(X, eps)
    if close(out, gamma * x_hat) and not np.allclose(beta, 0):
        raise Mismatch("out is missing β: out = γ·x_hat + β")
    if close(out, x_hat) and not np.allclose(gamma, 1):
        raise Mismatch("out is missing γ and β: out = γ·x_hat + β")
    if close(out, x_hat + beta) and not np.allclose(gamma, 1):
        raise Mismatch("out is missing γ: out = γ·x_hat + β")
    if close(out, beta * x_hat + gamma) and not np.allclose(beta, gamma):
        raise Mismatch("γ and β are swapped: γ multiplies x_hat and β is added, out = γ·x_hat + β")
    if eps != 1e-5 and close(out, course_forward(X, gamma, beta, 1e-5)):
        raise Mismatch(f"you used ε = 1e-5 instead of the eps argument ({eps:g}): use the "
                       "parameter eps in your formula")
    if close(out, gamma * (X - X.mean(0)) / (np.sqrt(X.var(0)) + eps) + beta):
        raise Mismatch("ε goes inside the square root: np.sqrt(var + eps)")
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
                           "biased one that you normalized with")
        if name == "var" and (close(arr, np.sqrt(want + eps)) or close(arr, np.sqrt(want))):
            raise Mismatch("the cache's var holds the standard deviation; store the variance "
                           "itself, var = X.var(axis=0) (the backward pass computes "
                           "np.sqrt(var + eps) from it)")
        for other, value in zip(names, expected, strict=True):
            if other not in (name, "eps") and np.shape(value) == arr.shape and close(arr, value):
                raise Mismatch(f"the cache's {name} holds {other}: keep the order "
                               f"{CACHE_NAMES}, which batchnorm_backward unpacks")
        expect_close(arr, want, f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- backward


def _backward_case(name, X, gamma, dout, eps=1e-5):
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return Case(name, (dout, (X, x_hat, mean, var, gamma, eps)))


def backward_cases(rng):
    return [
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
    ]


def _numerical_backward(dout, X, gamma, eps, h=1e-6):
    """Central differences of L = sum(dout * batchnorm(X)) in X and gamma."""
    def loss(X_, g_):
        return float(np.sum(dout * course_forward(X_, g_, 0.0, eps)))

    dX = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        e = np.zeros_like(X)
        e[i] = h
        dX[i] = (loss(X + e, gamma) - loss(X - e, gamma)) / (2 * h)
    dgamma = np.array([(loss(X, gamma + h * e) - loss(X, gamma - h * e)) / (2 * h)
                       for e in np.eye(len(gamma))])
    return dX, dgamma, dout.sum(axis=0)


def backward_judge(case, value):
    dout, (X, x_hat, mean, var, gamma, eps) = case.args
    dX, dgamma, dbeta = expect_tuple(value, 3, "(dX, dgamma, dbeta)")
    try:
        raw = np.asarray(dX, dtype=float)
    except (TypeError, ValueError):
        raw = None
    if raw is not None and raw.shape == X.shape and np.isnan(raw).any():
        raise Mismatch("dX contains NaN. Unpack the cache in its order, "
                       "X, x_hat, mean, var, gamma, eps = cache: np.sqrt of a negative number "
                       "(the mean where var should be, say) gives NaN")
    dX = expect_array(dX, X.shape, "dX")
    dgamma = expect_array(dgamma, gamma.shape, "dgamma")
    dbeta = expect_array(dbeta, gamma.shape, "dbeta")
    ref_dX, ref_dgamma, ref_dbeta = _numerical_backward(dout, X, gamma, eps)
    if (close(dgamma, ref_dbeta, rtol=1e-5, atol=1e-7) and close(dbeta, ref_dgamma, rtol=1e-5,
                                                                    atol=1e-6)
            and not close(ref_dgamma, ref_dbeta, rtol=1e-5, atol=1e-6)):
        raise Mismatch("dgamma and dbeta are swapped: return (dX, dgamma, dbeta), with "
                       "dgamma = Σ dout·x_hat and dbeta = Σ dout")
    expect_close(dbeta, ref_dbeta, "dbeta (compared with finite differences)", rtol=1e-5,
                 atol=1e-7)
    expect_close(dgamma, ref_dgamma, "dgamma (compared with finite differences)", rtol=1e-5,
                 atol=1e-6)
    std = np.sqrt(var + eps)
    dx_hat = dout * gamma
    if not close(dX, ref_dX, rtol=1e-4, atol=1e-6):
        def full(d, s=std, reduce=np.mean, axis=0):
            return (d - reduce(d, axis=axis, keepdims=True)
                    - x_hat * reduce(d * x_hat, axis=axis, keepdims=True)) / s

        mistakes = [
            (dx_hat / std, "dX = dout·γ/√(var+ε) treats the mean and variance as constants, but "
                           "they are computed from X: every example moves them. Add the two terms "
                           "that flow through the mean and through the variance"),
            (dout / std, "dX = dout/√(var+ε) treats the mean and variance as constants (and "
                         "forgets γ): they are computed from X, every example moves them. Start "
                         "from dx_hat = dout·γ and add the terms through the mean and the "
                         "variance"),
            ((dx_hat - dx_hat.mean(axis=0)) / std,
             "dX includes the path through the mean but not the one through the variance: "
             "the variance path adds a term proportional to x_hat"),
            ((dx_hat - x_hat * (dx_hat * x_hat).mean(axis=0)) / std,
             "dX includes the path through the variance but not the one through the mean: "
             "the mean path adds a term that is the same for every example of the batch"),
            (full(dout), "you forgot γ in dX: the gradient that reaches x_hat is dout·γ, and "
                         "every term of dX is built from it"),
            (full(dx_hat, reduce=np.sum),
             "the two extra terms use means over the batch (sum ÷ N), not sums"),
            (full(dx_hat, axis=1), "you took the means over each row (axis=1); the batch "
                                   "statistics are per feature, so average over the batch: "
                                   "axis=0"),
            (full(dx_hat, s=np.sqrt(var)), "you forgot ε: divide by √(var + ε), the same "
                                           "standard deviation as in the forward pass"),
        ]
        for wrong, message in mistakes:
            if close(dX, wrong) and not close(wrong, ref_dX, rtol=1e-4, atol=1e-6):
                raise Mismatch(message)
    expect_close(dX, ref_dX, "dX (compared with finite differences)", rtol=1e-4, atol=1e-6)
