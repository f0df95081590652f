"""Lesson 3's exercises on using batch norm: running statistics, evaluation mode, and the
batch-size experiment (the exercise list is in :mod:`helpers.exercises.l03`).

PyTorch's convention: running = (1 − momentum)·running + momentum·batch, momentum 0.1,
the *unbiased* batch variance for running_var; evaluation mode normalizes with the
running statistics. The experiment, ``train_eval_gap``, measures how far training-mode
x_hat (each batch's own statistics) is from evaluation-mode x_hat (the data's statistics).
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
from helpers.exercises.l03_training import close, course_forward, with_mistake

# --------------------------------------------------------------------------- running stats


def running_cases(rng):
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


def running_judge(case, value):
    running_mean, running_var, X = case.args
    m = case.kwargs.get("momentum", 0.1)
    new_mean, new_var = expect_tuple(value, 2, "(new_mean, new_var)")
    if np.shape(new_mean) == (len(X),) != running_mean.shape:
        raise Mismatch(f"new_mean has one value per example (shape {np.shape(new_mean)}); take "
                       "the mean of each feature over the batch (axis 0)", "wrong-axis")
    new_mean = expect_array(new_mean, running_mean.shape, "new_mean")
    new_var = expect_array(new_var, running_var.shape, "new_var")
    mean, var_u, var_b = X.mean(axis=0), X.var(axis=0, ddof=1), X.var(axis=0)
    ref_mean = (1 - m) * running_mean + m * mean
    ref_var = (1 - m) * running_var + m * var_u
    if not close(new_mean, ref_mean):
        if close(new_mean, m * running_mean + (1 - m) * mean):
            raise Mismatch(f"momentum is on the wrong side: in PyTorch's convention the *new batch* "
                           f"gets weight momentum ({m:g}) and the old running value 1 − momentum",
                           "momentum-side")
        if m != 0.1 and close(new_mean, 0.9 * running_mean + 0.1 * mean):
            raise Mismatch(f"you used momentum 0.1 instead of the momentum argument ({m:g}): use "
                           "the parameter momentum in your formula", "hard-coded-momentum")
        if close(new_mean, mean):
            raise Mismatch("new_mean is just this batch's mean; the running estimate blends it "
                           "with the old value: (1 − momentum)·running_mean + momentum·batch mean",
                           "no-blend")
        expect_close(new_mean, ref_mean, "new_mean", rtol=1e-6, atol=1e-9)
    if not close(new_var, ref_var):
        if close(new_var, (1 - m) * running_var + m * var_b):
            raise Mismatch("running_var uses the unbiased batch variance (divide by N − 1), as "
                           "PyTorch does; the biased one is only for normalizing", "biased-var")
        if close(new_var, m * running_var + (1 - m) * var_u):
            raise Mismatch(f"momentum is on the wrong side for the variance: the new batch gets "
                           f"weight momentum ({m:g})", "momentum-side")
        if close(new_var, (1 - m) * running_var + m * np.sqrt(var_u)):
            raise Mismatch("running_var tracks the variance, not the standard deviation", "std")
        if any(close(new_var, ref_var + e) for e in (m * 1e-5, 1e-5)):
            raise Mismatch("do not add ε to the running variance: ε is added only inside the "
                           "square root when normalizing", "eps-in-running-var")
        expect_close(new_var, ref_var, "new_var", rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- evaluation mode


def eval_cases(rng):
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


def eval_judge(case, value):
    X, gamma, beta, running_mean, running_var = case.args
    eps = case.kwargs.get("eps", 1e-5)
    if value is not None and len(X) == 1 and not isinstance(value, (str, tuple)):
        try:
            raw = np.asarray(value, dtype=float)
            ref = gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta
            if raw.shape == X.shape and (not np.isfinite(raw).all() or (
                    close(raw, beta[None]) and not close(raw, ref))):
                raise Mismatch("with one example, the batch mean is the example itself: you used "
                               "the batch's statistics. Evaluation mode uses running_mean and "
                               "running_var", "batch-statistics")
        except (TypeError, ValueError):
            pass
    if isinstance(value, tuple):
        raise Mismatch(f"expected only out, an array of shape {X.shape}; got a tuple of "
                       f"{len(value)} values (unlike batchnorm_forward, there is no cache)",
                       "returns-cache")
    out = expect_array(value, X.shape, "out")
    std = np.sqrt(running_var + eps)
    ref = gamma * (X - running_mean) / std + beta
    if close(out, ref):
        return
    if len(X) > 1 and (close(out, course_forward(X, gamma, beta, eps))
                       or close(out, with_mistake(X, gamma, beta, eps, ddof=1))):
        raise Mismatch("you used this batch's mean and variance; evaluation mode uses "
                       "running_mean and running_var", "batch-statistics")
    for wrong, message, mistake in [
            (gamma * (X - running_mean) / np.sqrt(running_var + 1e-5) + beta if eps != 1e-5
             else None, f"you used ε = 1e-5 instead of the eps argument ({eps:g}): use the "
             "parameter eps in your formula", "hard-coded-eps"),
            (gamma * (X - running_mean) / std if not np.allclose(beta, 0) else None,
             "out is missing β: out = γ·(X − running_mean)/√(running_var + ε) + β", "no-beta"),
            ((X - running_mean) / std + beta if not np.allclose(gamma, 1) else None,
             "out is missing γ: out = γ·(X − running_mean)/√(running_var + ε) + β", "no-gamma"),
            (gamma * (X - running_mean) / np.sqrt(running_var) + beta, f"you forgot ε (here "
             f"eps={eps:g}): divide by √(running_var + ε)", "no-eps"),
            (gamma * (X - running_mean) / (np.sqrt(running_var) + eps) + beta, "ε goes inside "
             "the square root: divide by √(running_var + ε), not √running_var + ε",
             "eps-outside-sqrt"),
            (gamma * (X - running_mean) / running_var + beta, "divide by the standard "
             "deviation √(running_var + ε), not by the variance", "variance"),
            (gamma * (X - running_mean) / (running_var + eps) + beta, "divide by the standard "
             "deviation √(running_var + ε), not by the variance", "variance")]:
        if wrong is not None and close(out, wrong) and not close(wrong, ref):
            raise Mismatch(message, mistake)
    expect_close(out, ref, "out", rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- experiment: batch size


def _normalized(Z, mean, var, eps=1e-5):
    return (Z - mean) / np.sqrt(var + eps)


def _gap(Z, batch_size, ddof=0, rows=False, eval_ddof=0, eps=1e-5):
    """The measured gap; with the classic mistakes on request (unbiased variance, rows, no ε)."""
    B = Z.reshape(-1, batch_size, Z.shape[1])
    axis = 2 if rows else 1
    train = _normalized(B, B.mean(axis=axis, keepdims=True),
                        B.var(axis=axis, ddof=ddof, keepdims=True), eps).reshape(Z.shape)
    return np.abs(train - _normalized(Z, Z.mean(axis=0), Z.var(axis=0, ddof=eval_ddof), eps))


def gap_cases(rng):
    def layer(n, d):
        return rng.normal(size=(n, d)) * rng.uniform(0.3, 3.0, size=d) + rng.normal(size=d) * 2
    return [
        Case("8 examples × 2 units, batches of 2",
             (np.array([[0.0, 1.0], [2.0, 3.0], [1.0, -1.0], [4.0, 0.0], [3.0, 2.0],
                        [-1.0, 5.0], [2.0, 2.5], [0.5, 1.0]]), 2)),
        Case("64 examples × 5 units, batches of 4", (layer(64, 5), 4)),
        Case("96 examples × 3 units, batches of 32", (layer(96, 3), 32)),
        Case("one batch holding all 48 examples (the gap must then be 0)", (layer(48, 4), 48)),
        Case("skewed units (ReLU outputs + noise), 60 examples, batches of 6",
             (np.maximum(layer(60, 3), 0) + 0.1 * rng.normal(size=(60, 3)), 6)),
    ]


def gap_judge(case, value):
    Z, batch_size = case.args
    ref = _gap(Z, batch_size)
    if isinstance(value, (list, tuple)) or np.ndim(value) == 1 and np.size(value) > 1:
        if np.size(value) == Z.shape[1]:
            raise Mismatch("you returned one value per unit; return one number, the mean "
                           "over all examples and units", "per-unit")
    gap = expect_number(value, "the gap")
    if close(gap, ref.mean(), rtol=1e-6, atol=1e-9):
        return
    if batch_size < len(Z) and np.isclose(gap, 0.0, atol=1e-9):
        raise Mismatch("the gap is 0: you normalized all of Z as one batch. In training mode "
                       f"each batch of {batch_size} consecutive rows uses its own mean and "
                       "variance", "one-batch")
    mistakes = [
        (_gap(Z, batch_size, ddof=1).mean(), "you used the unbiased variance (N − 1) for the "
         "batches; batch norm's training mode normalizes with the biased one (divide by N)",
         "unbiased-var"),
        (_gap(Z, batch_size, rows=True).mean(), "you normalized each row (example) of a "
         "batch; normalize each unit (column) over the examples of the batch", "rows"),
        (_gap(Z, batch_size, eval_ddof=1).mean(), "evaluation mode here uses the biased "
         "variance of all of Z (divide by n), the value the running statistics settle near",
         "eval-unbiased-var"),
        (_gap(Z, batch_size, eps=0.0).mean(), "you forgot ε: both modes divide by "
         "√(variance + eps)", "no-eps"),
        (np.sqrt((ref**2).mean()), "you returned the root-mean-square difference; the gap is "
         "the mean of the absolute differences", "rms"),
        ((ref**2).mean(), "you returned the mean squared difference; the gap is the mean of "
         "the absolute differences", "mean-square"),
        (ref.mean(axis=0).max(), "you returned the largest unit's mean gap; average over all "
         "units too", "largest-unit"),
    ]
    for wrong, message, mistake in mistakes:
        if close(gap, wrong, rtol=1e-6, atol=0) and not close(wrong, ref.mean(), rtol=1e-6,
                                                              atol=0):
            raise Mismatch(message, mistake)
    expect_close(gap, ref.mean(), "the gap", rtol=1e-6, atol=1e-9)
