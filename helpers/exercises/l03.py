"""Exercises of lesson 3 (03_batch_norm): batch normalization of hidden layers.

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

from helpers.checks import (
    Case,
    Mismatch,
    expect_array,
    expect_close,
    expect_number,
    expect_tuple,
)
from helpers.exercises import Exercise, concept_question

CACHE_NAMES = "(X, x_hat, mean, var, gamma, eps)"


# --------------------------------------------------------------------------- references


def _normalize(X, eps, axis=0, ddof=0):
    mean = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, ddof=ddof, keepdims=True)
    return (X - mean) / np.sqrt(var + eps)


def _forward(X, gamma, beta, eps, **kw):
    return gamma * _normalize(X, eps, **kw) + beta


def _close(a, b, rtol=1e-6, atol=1e-8):
    try:
        return np.asarray(a).shape == np.asarray(b).shape and np.allclose(a, b, rtol=rtol,
                                                                          atol=atol)
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- forward


def _forward_cases(rng):
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


def _forward_judge(case, value):
    with np.errstate(all="ignore"):
        _forward_judge_quiet(case, value)


def _forward_judge_quiet(case, value):
    X, gamma, beta = case.args
    eps = case.kwargs.get("eps", 1e-5)
    out, cache = expect_tuple(value, 2, "(out, cache)")
    try:
        raw = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raw = None
    if raw is not None and raw.shape == X.shape and not np.isfinite(raw).all():
        if (X.var(axis=0) == 0).any():
            raise Mismatch("out contains NaN or inf for a constant feature: its variance is 0, "
                           "so without ε you divide 0 by 0. Divide by np.sqrt(var + eps)")
    out = expect_array(out, X.shape, "out")
    ref = _forward(X, gamma, beta, eps)
    if _close(out, ref):
        _check_cache(cache, X, gamma, eps)
        return
    if _close(out, _forward(X, gamma, beta, eps, axis=1)):
        raise Mismatch("you normalized each row (one example's features); batch norm normalizes "
                       "each column (one feature over the batch): use axis=0")
    if _close(out, _forward(X, gamma, beta, eps, axis=None)):
        raise Mismatch("you normalized with one mean and variance for the whole array; batch norm "
                       "uses one per feature (column): use axis=0")
    if _close(out, _forward(X, gamma, beta, eps, ddof=1)):
        raise Mismatch("you used the unbiased variance (divide by N − 1); the forward pass "
                       "normalizes with the biased batch variance (divide by N), as PyTorch does: "
                       "X.var(axis=0)")
    if _close(out, _forward(X, gamma, beta, 0.0)):
        raise Mismatch(f"you forgot ε (here eps={eps:g}): divide by np.sqrt(var + eps), not by "
                       "np.sqrt(var); it matters when a feature's variance is tiny")
    if _close(out, _forward(X, gamma, beta, 0.0, ddof=1)):
        raise Mismatch(f"two mistakes: you forgot ε (here eps={eps:g}) and used the unbiased "
                       "variance (divide by N − 1). Normalize with np.sqrt(X.var(axis=0) + eps): "
                       "biased variance, ε inside the square root")
    x_hat = _normalize(X, eps)
    if _close(out, gamma * x_hat) and not np.allclose(beta, 0):
        raise Mismatch("out is missing β: out = γ·x_hat + β")
    if _close(out, x_hat) and not np.allclose(gamma, 1):
        raise Mismatch("out is missing γ and β: out = γ·x_hat + β")
    if _close(out, x_hat + beta) and not np.allclose(gamma, 1):
        raise Mismatch("out is missing γ: out = γ·x_hat + β")
    if _close(out, beta * x_hat + gamma) and not np.allclose(beta, gamma):
        raise Mismatch("γ and β are swapped: γ multiplies x_hat and β is added, out = γ·x_hat + β")
    if eps != 1e-5 and _close(out, _forward(X, gamma, beta, 1e-5)):
        raise Mismatch(f"you used ε = 1e-5 instead of the eps argument ({eps:g}): use the "
                       "parameter eps in your formula")
    if _close(out, gamma * (X - X.mean(0)) / (np.sqrt(X.var(0)) + eps) + beta):
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
        if _close(arr, want):
            continue
        if name == "var" and _close(arr, X.var(axis=0, ddof=1)):
            raise Mismatch("out is right, but the cache's var is the unbiased variance; keep the "
                           "biased one that you normalized with")
        if name == "var" and (_close(arr, np.sqrt(want + eps)) or _close(arr, np.sqrt(want))):
            raise Mismatch("the cache's var holds the standard deviation; store the variance "
                           "itself, var = X.var(axis=0) (the backward pass computes "
                           "np.sqrt(var + eps) from it)")
        for other, value in zip(names, expected, strict=True):
            if other not in (name, "eps") and np.shape(value) == arr.shape and _close(arr, value):
                raise Mismatch(f"the cache's {name} holds {other}: keep the order "
                               f"{CACHE_NAMES}, which batchnorm_backward unpacks")
        expect_close(arr, want, f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- backward


def _backward_case(name, X, gamma, dout, eps=1e-5):
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return Case(name, (dout, (X, x_hat, mean, var, gamma, eps)))


def _backward_cases(rng):
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
        return float(np.sum(dout * _forward(X_, g_, 0.0, eps)))

    dX = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        e = np.zeros_like(X)
        e[i] = h
        dX[i] = (loss(X + e, gamma) - loss(X - e, gamma)) / (2 * h)
    dgamma = np.array([(loss(X, gamma + h * e) - loss(X, gamma - h * e)) / (2 * h)
                       for e in np.eye(len(gamma))])
    return dX, dgamma, dout.sum(axis=0)


def _backward_judge(case, value):
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
    if (_close(dgamma, ref_dbeta, rtol=1e-5, atol=1e-7) and _close(dbeta, ref_dgamma, rtol=1e-5,
                                                                    atol=1e-6)
            and not _close(ref_dgamma, ref_dbeta, rtol=1e-5, atol=1e-6)):
        raise Mismatch("dgamma and dbeta are swapped: return (dX, dgamma, dbeta), with "
                       "dgamma = Σ dout·x_hat and dbeta = Σ dout")
    expect_close(dbeta, ref_dbeta, "dbeta (compared with finite differences)", rtol=1e-5,
                 atol=1e-7)
    expect_close(dgamma, ref_dgamma, "dgamma (compared with finite differences)", rtol=1e-5,
                 atol=1e-6)
    std = np.sqrt(var + eps)
    dx_hat = dout * gamma
    if not _close(dX, ref_dX, rtol=1e-4, atol=1e-6):
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
             "dX includes the path through the mean but not the one through the variance: add "
             "the term −x_hat·mean(dx_hat·x_hat)/√(var+ε)"),
            ((dx_hat - x_hat * (dx_hat * x_hat).mean(axis=0)) / std,
             "dX includes the path through the variance but not the one through the mean: "
             "subtract mean(dx_hat) too"),
            (full(dout), "you forgot γ in dX: dx_hat = dout·γ, then "
                         "dX = (dx_hat − mean(dx_hat) − x_hat·mean(dx_hat·x_hat)) / √(var+ε)"),
            (full(dx_hat, reduce=np.sum),
             "the two extra terms use means over the batch (sum ÷ N), not sums"),
            (full(dx_hat, axis=1), "you took the means over each row (axis=1); the batch "
                                   "statistics are per feature, so average over the batch: "
                                   "axis=0"),
            (full(dx_hat, s=np.sqrt(var)), "you forgot ε: divide by √(var + ε), the same "
                                           "standard deviation as in the forward pass"),
        ]
        for wrong, message in mistakes:
            if _close(dX, wrong) and not _close(wrong, ref_dX, rtol=1e-4, atol=1e-6):
                raise Mismatch(message)
    expect_close(dX, ref_dX, "dX (compared with finite differences)", rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------- running stats


def _running_cases(rng):
    return [
        Case("first update from the starting values (mean 0, var 1), 4 examples × 2 features",
             (np.zeros(2), np.ones(2), np.array([[1.0, 10.0], [2.0, 14.0], [4.0, 12.0],
                                                 [5.0, 8.0]]))),
        Case("running values already away from the start, 2 examples × 3 features",
             (np.array([0.5, -1.0, 2.0]), np.array([2.0, 0.5, 1.0]),
              np.array([[1.0, 0.0, 3.0], [3.0, -4.0, 2.0]]))),
        Case("momentum = 0.5 passed explicitly",
             (np.array([1.0, 1.0]), np.array([1.0, 4.0]), rng.normal(size=(6, 2))),
             {"momentum": 0.5}),
        Case("random: 32 examples × 5 features",
             (rng.normal(size=5), rng.uniform(0.5, 2, size=5),
              rng.normal(3.0, 2.0, size=(32, 5)))),
    ]


def _running_judge(case, value):
    running_mean, running_var, X = case.args
    m = case.kwargs.get("momentum", 0.1)
    new_mean, new_var = expect_tuple(value, 2, "(new_mean, new_var)")
    if np.shape(new_mean) == (len(X),) != running_mean.shape:
        raise Mismatch(f"new_mean has one value per example (shape {np.shape(new_mean)}); take "
                       "the mean of each feature over the batch: X.mean(axis=0)")
    new_mean = expect_array(new_mean, running_mean.shape, "new_mean")
    new_var = expect_array(new_var, running_var.shape, "new_var")
    mean, var_u, var_b = X.mean(axis=0), X.var(axis=0, ddof=1), X.var(axis=0)
    ref_mean = (1 - m) * running_mean + m * mean
    ref_var = (1 - m) * running_var + m * var_u
    if not _close(new_mean, ref_mean):
        if _close(new_mean, m * running_mean + (1 - m) * mean):
            raise Mismatch(f"momentum is on the wrong side: in PyTorch's convention the *new batch* "
                           f"gets weight momentum ({m:g}) and the old running value 1 − momentum")
        if m != 0.1 and _close(new_mean, 0.9 * running_mean + 0.1 * mean):
            raise Mismatch(f"you used momentum 0.1 instead of the momentum argument ({m:g}): use "
                           "the parameter momentum in your formula")
        if _close(new_mean, mean):
            raise Mismatch("new_mean is just this batch's mean; the running estimate blends it "
                           "with the old value: (1 − momentum)·running_mean + momentum·batch mean")
        expect_close(new_mean, ref_mean, "new_mean", rtol=1e-6, atol=1e-9)
    if not _close(new_var, ref_var):
        if _close(new_var, (1 - m) * running_var + m * var_b):
            raise Mismatch("running_var uses the unbiased batch variance (divide by N − 1, "
                           "X.var(axis=0, ddof=1)), as PyTorch does; the biased one is only for "
                           "normalizing")
        if _close(new_var, m * running_var + (1 - m) * var_u):
            raise Mismatch(f"momentum is on the wrong side for the variance: the new batch gets "
                           f"weight momentum ({m:g})")
        if _close(new_var, (1 - m) * running_var + m * np.sqrt(var_u)):
            raise Mismatch("running_var tracks the variance, not the standard deviation")
        if any(_close(new_var, ref_var + e) for e in (m * 1e-5, 1e-5)):
            raise Mismatch("do not add ε to the running variance: ε is added only inside the "
                           "square root when normalizing")
        expect_close(new_var, ref_var, "new_var", rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- evaluation mode


def _eval_cases(rng):
    return [
        Case("one example (evaluation mode must work for a single input)",
             (np.array([[2.0, -1.0, 0.5]]), np.ones(3), np.zeros(3), np.array([1.0, 0.0, 0.5]),
              np.array([4.0, 1.0, 0.25]))),
        Case("5 examples × 2 features, random γ and β",
             (rng.normal(size=(5, 2)) * 3 + 1, rng.uniform(0.5, 2, size=2), rng.normal(size=2),
              np.array([1.0, -0.5]), np.array([9.0, 2.0]))),
        Case("a running variance of 1e-5 (ε matters)",
             (np.array([[0.01, 1.0], [0.02, 2.0], [0.0, 3.0]]), np.ones(2), np.zeros(2),
              np.array([0.0, 2.0]), np.array([1e-5, 1.0]))),
        Case("ε = 0.5 passed explicitly",
             (np.array([[1.0], [2.0]]), np.array([2.0]), np.array([1.0]), np.array([0.5]),
              np.array([1.5])), {"eps": 0.5}),
    ]


def _eval_judge(case, value):
    X, gamma, beta, running_mean, running_var = case.args
    eps = case.kwargs.get("eps", 1e-5)
    if value is not None and len(X) == 1 and not isinstance(value, (str, tuple)):
        try:
            raw = np.asarray(value, dtype=float)
            ref = gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta
            if raw.shape == X.shape and (not np.isfinite(raw).all() or (
                    _close(raw, beta[None]) and not _close(raw, ref))):
                raise Mismatch("with one example, the batch mean is the example itself: you used "
                               "the batch's statistics. Evaluation mode uses running_mean and "
                               "running_var")
        except (TypeError, ValueError):
            pass
    if isinstance(value, tuple):
        raise Mismatch(f"expected only out, an array of shape {X.shape}; got a tuple of "
                       f"{len(value)} values (unlike batchnorm_forward, there is no cache)")
    out = expect_array(value, X.shape, "out")
    std = np.sqrt(running_var + eps)
    ref = gamma * (X - running_mean) / std + beta
    if _close(out, ref):
        return
    if len(X) > 1 and (_close(out, _forward(X, gamma, beta, eps))
                       or _close(out, _forward(X, gamma, beta, eps, ddof=1))):
        raise Mismatch("you used this batch's mean and variance; evaluation mode uses "
                       "running_mean and running_var")
    if eps != 1e-5 and _close(out, gamma * (X - running_mean) / np.sqrt(running_var + 1e-5)
                              + beta):
        raise Mismatch(f"you used ε = 1e-5 instead of the eps argument ({eps:g}): use the "
                       "parameter eps in your formula")
    if _close(out, gamma * (X - running_mean) / std) and not np.allclose(beta, 0):
        raise Mismatch("out is missing β: out = γ·(X − running_mean)/√(running_var + ε) + β")
    if _close(out, (X - running_mean) / std + beta) and not np.allclose(gamma, 1):
        raise Mismatch("out is missing γ: out = γ·(X − running_mean)/√(running_var + ε) + β")
    if _close(out, gamma * (X - running_mean) / np.sqrt(running_var) + beta):
        raise Mismatch(f"you forgot ε (here eps={eps:g}): divide by np.sqrt(running_var + eps)")
    if _close(out, gamma * (X - running_mean) / running_var + beta) or _close(
            out, gamma * (X - running_mean) / (running_var + eps) + beta):
        raise Mismatch("divide by the standard deviation np.sqrt(running_var + eps), not by the "
                       "variance")
    expect_close(out, ref, "out", rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- exercises


EXERCISES = [
    Exercise(
        id="ex3_bn_forward",
        function="batchnorm_forward",
        title="Exercise 1: batch norm, forward pass (training mode)",
        points=2,
        cases=_forward_cases,
        judge=_forward_judge,
        hint="Per feature (axis=0): mean = X.mean(axis=0), var = X.var(axis=0) (biased), "
             "x_hat = (X − mean) / np.sqrt(var + eps), out = gamma * x_hat + beta; return "
             f"(out, {CACHE_NAMES}).",
    ),
    concept_question(
        id="ex3_concept_gamma",
        function="answer_gamma_beta_question",
        title="Exercise 2 (concept): what γ and β allow",
        digest="2108236574f0e6b1a6c38bfd65e80c7e5371b234f086ca2d04275ec56f903be8",
        wrong={"a": "They are learned; they equal the batch statistics only in the special "
                    "identity example.",
               "b": "ε prevents the division by zero.",
               "d": "The running statistics are updated from the batch mean and variance, "
                    "not from γ and β."},
        hint="Look at the identity demonstration: which γ and β give back the layer's input?",
    ),
    Exercise(
        id="ex3_bn_backward",
        function="batchnorm_backward",
        title="Exercise 3: batch norm, backward pass",
        points=3,
        cases=_backward_cases,
        judge=_backward_judge,
        hint="dbeta = Σ_i dout, dgamma = Σ_i dout·x_hat, and with dx_hat = dout·γ: "
             "dX = (dx_hat − mean(dx_hat) − x_hat·mean(dx_hat·x_hat)) / √(var+ε), means over "
             "the batch (axis=0).",
    ),
    Exercise(
        id="ex3_running_stats",
        function="update_running_stats",
        title="Exercise 4: running statistics (PyTorch's convention)",
        points=2,
        cases=_running_cases,
        judge=_running_judge,
        hint="new = (1 − momentum)·running + momentum·batch, with batch mean X.mean(axis=0) and "
             "the unbiased batch variance X.var(axis=0, ddof=1). Return new arrays; do not "
             "change the inputs in place.",
    ),
    Exercise(
        id="ex3_bn_eval",
        function="batchnorm_eval",
        title="Exercise 5: batch norm in evaluation mode",
        points=1,
        cases=_eval_cases,
        judge=_eval_judge,
        hint="Same formula as training, with the running statistics in place of the batch's: "
             "gamma * (X − running_mean) / np.sqrt(running_var + eps) + beta.",
    ),
    concept_question(
        id="ex3_concept_mode",
        function="answer_mode_question",
        title="Exercise 6 (concept): forgetting evaluation mode",
        digest="0b793ab28f7399478bad73b5bcb0d8d6c40cac20af0091b6877c69035385b832",
        wrong={"a": "The two modes use different statistics: the batch's, or the running "
                    "estimates.",
               "c": "Look at the single-example demonstration above: the output does not "
                    "depend on the input at all.",
               "d": "Training mode never reads the running statistics; it only updates them."},
        hint="Run batchnorm_forward on one example: what is X − mean?",
    ),
    concept_question(
        id="ex3_concept_batch",
        function="answer_batch_size_question",
        title="Exercise 7 (concept): why batch size matters",
        digest="2af89a263a251e3d02879c1d052bbe03dd571fdddc4ac418a4cc756fc222adf9",
        wrong={"b": "The learning rate is the same; the batch statistics are what change.",
               "c": "dγ = Σ dout·x_hat is not zero; look at what x_hat is for 2 examples.",
               "d": "Batch norm works with batches of 32 in this lesson, far from the "
                    "whole data set."},
        hint="Look at x_hat for a batch of 2 examples, and at the batch-size experiment.",
    ),
]
