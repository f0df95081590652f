"""Exercises of lesson 3 (03_batch_norm): batch normalization of hidden layers.

Convention (PyTorch's ``BatchNorm1d``): training mode normalizes each feature
(column) with the batch mean and the *biased* batch variance, ε inside the
square root; running = (1 − momentum)·running + momentum·batch with momentum
0.1 and the *unbiased* batch variance for running_var. The forward and backward
passes' cases and judges are in :mod:`helpers.exercises.l03_training`; the
running statistics' and evaluation mode's are here, with the exercise list.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_array, expect_close, expect_tuple
from helpers.exercises.l03_training import (
    CACHE_NAMES,
    backward_cases,
    backward_judge,
    close,
    course_forward,
    forward_cases,
    forward_judge,
    with_mistake,
)
from helpers.exercises.spec import Exercise, concept_question

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
    if not close(new_mean, ref_mean):
        if close(new_mean, m * running_mean + (1 - m) * mean):
            raise Mismatch(f"momentum is on the wrong side: in PyTorch's convention the *new batch* "
                           f"gets weight momentum ({m:g}) and the old running value 1 − momentum")
        if m != 0.1 and close(new_mean, 0.9 * running_mean + 0.1 * mean):
            raise Mismatch(f"you used momentum 0.1 instead of the momentum argument ({m:g}): use "
                           "the parameter momentum in your formula")
        if close(new_mean, mean):
            raise Mismatch("new_mean is just this batch's mean; the running estimate blends it "
                           "with the old value: (1 − momentum)·running_mean + momentum·batch mean")
        expect_close(new_mean, ref_mean, "new_mean", rtol=1e-6, atol=1e-9)
    if not close(new_var, ref_var):
        if close(new_var, (1 - m) * running_var + m * var_b):
            raise Mismatch("running_var uses the unbiased batch variance (divide by N − 1, "
                           "X.var(axis=0, ddof=1)), as PyTorch does; the biased one is only for "
                           "normalizing")
        if close(new_var, m * running_var + (1 - m) * var_u):
            raise Mismatch(f"momentum is on the wrong side for the variance: the new batch gets "
                           f"weight momentum ({m:g})")
        if close(new_var, (1 - m) * running_var + m * np.sqrt(var_u)):
            raise Mismatch("running_var tracks the variance, not the standard deviation")
        if any(close(new_var, ref_var + e) for e in (m * 1e-5, 1e-5)):
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
                    close(raw, beta[None]) and not close(raw, ref))):
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
    if close(out, ref):
        return
    if len(X) > 1 and (close(out, course_forward(X, gamma, beta, eps))
                       or close(out, with_mistake(X, gamma, beta, eps, ddof=1))):
        raise Mismatch("you used this batch's mean and variance; evaluation mode uses "
                       "running_mean and running_var")
    if eps != 1e-5 and close(out, gamma * (X - running_mean) / np.sqrt(running_var + 1e-5)
                              + beta):
        raise Mismatch(f"you used ε = 1e-5 instead of the eps argument ({eps:g}): use the "
                       "parameter eps in your formula")
    if close(out, gamma * (X - running_mean) / std) and not np.allclose(beta, 0):
        raise Mismatch("out is missing β: out = γ·(X − running_mean)/√(running_var + ε) + β")
    if close(out, (X - running_mean) / std + beta) and not np.allclose(gamma, 1):
        raise Mismatch("out is missing γ: out = γ·(X − running_mean)/√(running_var + ε) + β")
    if close(out, gamma * (X - running_mean) / np.sqrt(running_var) + beta):
        raise Mismatch(f"you forgot ε (here eps={eps:g}): divide by np.sqrt(running_var + eps)")
    if close(out, gamma * (X - running_mean) / running_var + beta) or close(
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
        cases=forward_cases,
        judge=forward_judge,
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
        cases=backward_cases,
        judge=backward_judge,
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
