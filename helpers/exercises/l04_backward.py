"""Lesson 4's backward-pass exercises: the cases and the judge of batch norm's backward pass
(the exercise list is in :mod:`helpers.exercises.l04`).

The learner derives dX, dγ and dβ of the training-mode forward pass of lesson 3 (cache
``(X, x_hat, mean, var, gamma, eps)``) with no formula given, then writes it again in the
compact form of the derivation. Both are judged against the closed form
(:func:`helpers.exercises.norm_backward.norm_backward`, shared with layer norm), and on a
large case (32,768 entries, the first) their cost is bounded: at most ``MAX_FORWARDS``
forward passes of a plain layer timed in the same process, which a finite-difference
gradient cannot meet. Before the closed-form comparison the judge names the mistakes the
node-by-node derivation invites (:func:`node_mistakes`: the unbiased variance, a missing
½ or 2, 1/σ in place of 1/σ², dγ or dβ averaged instead of summed, a fork's second path
left out) and those every form of the backward pass makes
(:func:`helpers.exercises.norm_backward.backward_mistakes`).
"""

from __future__ import annotations

import numpy as np

from helpers.checking import expect
from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_tuple
from helpers.exercises.norm_backward import cost_case, judge_backward


def close(a, b, rtol=1e-6, atol=1e-8, scale=None):
    """Agree at lessons 3-5's tolerances (widened for an answer computed in float32)."""
    return expect.close(a, b, rtol, atol, scale)


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


def _paths(dout, x_hat, var, gamma, eps, mean_k=1.0, var_k=1.0, std=None):
    """dX = (dx_hat − mean_k·mean(dx_hat) − var_k·x_hat·mean(dx_hat·x_hat)) / σ: the direct
    path and the paths through the mean and the variance, each scaled (a node's mistake)."""
    dx_hat = dout * gamma
    s = np.sqrt(var + eps) if std is None else std
    return (dx_hat - mean_k * dx_hat.mean(axis=0)
            - var_k * x_hat * (dx_hat * x_hat).mean(axis=0)) / s


def node_mistakes(dout, x_hat, var, gamma, eps):
    """[(wrong dX, message, id)]: a mistake in one node of the derivation, seen in dX."""
    n, std = len(x_hat), np.sqrt(var + eps)
    return [
        (_paths(dout, x_hat, var, gamma, eps, var_k=n / (n - 1)) if n > 1 else None,
         f"the term through the variance is {n}/{n - 1} too large: you differentiated the "
         "unbiased variance (÷ (N − 1)); the forward pass normalizes with the biased one, "
         "σ² = mean of xc² (÷ N)", "sample-variance"),
        (_paths(dout, x_hat, var, gamma, eps, var_k=2.0), "the term through the variance is "
         "twice too large: the derivative of √u is 1/(2√u), with a ½", "sqrt-missing-half"),
        (_paths(dout, x_hat, var, gamma, eps, var_k=0.5), "the term through the variance is "
         "half what it should be: the derivative of xc² is 2·xc", "missing-factor-2"),
        (_paths(dout, x_hat, var, gamma, eps, var_k=std), "the term through the variance is "
         "off by a factor σ: the derivative of 1/σ is −1/σ², not −1/σ", "one-over-sigma"),
        (_paths(dout, x_hat, var, gamma, eps, mean_k=float(n)), f"the term through the mean "
         f"is {n} times too large: μ is a mean, so each example moves it by 1/N of its own "
         "change", "mean-missing-1-over-n"),
    ]


def backward_judge(case, value):
    """The closed form, after naming dγ or dβ averaged, and the mistakes of each node."""
    dout, (X, x_hat, mean, var, gamma, eps) = case.call_args
    try:
        dX, dgamma, dbeta = expect_tuple(value, 3, "(dX, dgamma, dbeta)")
        got = [np.asarray(v, dtype=float) for v in (dX, dgamma, dbeta)]
    except (Mismatch, TypeError, ValueError):
        got = None
    n = len(X)
    if got is not None and n > 1 and got[1].shape == gamma.shape:
        for name, arr, ref in (("dgamma", got[1], (dout * x_hat).sum(axis=0)),
                               ("dbeta", got[2], dout.sum(axis=0))):
            if close(arr, ref / n) and not close(ref / n, ref):
                raise Mismatch(f"{name} is averaged over the batch; the loss adds up every "
                               "example's contribution: a sum, not a mean", "averaged-not-summed")
    if got is not None and got[0].shape == X.shape:
        ref = _paths(dout, x_hat, var, gamma, eps)
        scale = float(np.abs(dout * gamma).max(initial=0.0) / np.sqrt(var + eps).min()) * \
            max(1.0, float(np.abs(x_hat).max()))
        if not close(got[0], ref, rtol=1e-7, atol=1e-9 * scale, scale=scale):
            for wrong, message, mistake in node_mistakes(dout, x_hat, var, gamma, eps):
                if wrong is not None and close(got[0], wrong) and not close(wrong, ref):
                    raise Mismatch(message, mistake)
    judge_backward(case, value, 0, "the batch")
