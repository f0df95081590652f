"""Exercises of lesson 1 (01_feature_scale): why feature scale breaks gradient descent.

The judges verify without shipping the answer: gradients against central finite
differences of the loss, the stable learning rate by running gradient descent
just below and just above the learner's value.
"""

from __future__ import annotations

import numpy as np

from helpers.checks import Case, Mismatch, expect_array, expect_close, expect_number, expect_tuple
from helpers.data import age_income
from helpers.exercises import Exercise, choice_judge


def _loss(X, y, w, b):
    r = X @ w + b - y
    return float(r @ r) / len(y)


def _numerical_gradient(X, y, w, b):
    """Central finite differences of the MSE loss in (w, b); exact for a quadratic up to rounding."""
    h = 1e-6 * max(1.0, float(np.abs(w).max()), abs(b))
    gw = np.array([(_loss(X, y, w + h * e, b) - _loss(X, y, w - h * e, b)) / (2 * h)
                   for e in np.eye(len(w))])
    gb = (_loss(X, y, w, b + h) - _loss(X, y, w, b - h)) / (2 * h)
    return gw, gb


def _gradient_cases(rng):
    X, y = age_income(n=8, seed=1)
    Xs = (X - X.mean(0)) / X.std(0)
    return [
        Case("2 features on the same scale, w = 0, b = 0",
             (Xs, y, np.zeros(2), 0.0)),
        Case("1 feature, 3 examples, w = [2], b = -1",
             (np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 0.0, 4.0]), np.array([2.0]), -1.0)),
        Case("age in years, income in units of 10,000 USD, w = [0.1, 0.2], b = 0.5",
             (X / [1.0, 1e4], y, np.array([0.1, 0.2]), 0.5)),
        Case("random: 20 examples, 3 features, random w and b",
             (rng.normal(size=(20, 3)), rng.normal(size=20), rng.normal(size=3),
              float(rng.normal()))),
    ]


def _gradient_judge(case, value):
    X, y, w, b = case.args
    grad_w, grad_b = expect_tuple(value, 2, "(grad_w, grad_b)")
    gw = expect_array(grad_w, w.shape, "grad_w")
    gb = expect_number(grad_b, "grad_b")
    ref_w, ref_b = _numerical_gradient(X, y, w, b)
    if np.allclose(gw, ref_w / 2, rtol=1e-4, atol=1e-8) and not np.allclose(ref_w, 0):
        raise Mismatch("grad_w is half the right value: the derivative of (ŷ − y)² is "
                       "2·(ŷ − y)·x_j, keep the factor 2")
    expect_close(gw, ref_w, "grad_w (compared with finite differences)", rtol=1e-4, atol=1e-6)
    expect_close(gb, ref_b, "grad_b (compared with finite differences)", rtol=1e-4, atol=1e-6)


def _lr_cases(rng):
    X, _ = age_income(n=50, seed=2)
    return [
        Case("two features on the same scale", (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),)),
        Case("age (years) and income (in 10,000 USD)", (X / [1.0, 1e4],)),
        Case("one feature, 5 examples", (np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]),)),
        Case("random: 30 examples, 4 features", (rng.normal(size=(30, 4)) * [1, 2, 5, 10],)),
    ]


def _gd_blows_up(X, lr, n_steps=4000):
    """Run GD on the bias-free MSE loss from a generic start; True when it diverges.

    With y = 0 the minimum is w = 0; the error along the top eigenvector is
    multiplied by |1 - lr * lambda_max| each step, so it shrinks just below
    2/lambda_max and grows just above it.
    """
    n, d = X.shape
    w = np.linspace(1.0, 2.0, d)
    start = np.linalg.norm(w)
    for _ in range(n_steps):
        w = w - lr * (2.0 / n) * (X.T @ (X @ w))
        size = np.linalg.norm(w)
        if not np.isfinite(size) or size > 1e3 * start:
            return True
    return np.linalg.norm(w) > start


def _lr_judge(case, value):
    (X,) = case.args
    lr = expect_number(value, "your learning rate")
    if lr <= 0:
        raise Mismatch(f"a learning rate must be positive, got {lr:.3g}")
    below, above = _gd_blows_up(X, 0.98 * lr), _gd_blows_up(X, 1.02 * lr)
    if below:
        raise Mismatch(f"gradient descent diverges already at 0.98 × your value ({lr:.4g}): "
                       "your learning rate is too large")
    if not above:
        raise Mismatch(f"gradient descent still converges at 1.02 × your value ({lr:.4g}): "
                       "the largest stable learning rate is larger")


EXERCISES = [
    Exercise(
        id="ex1_gradient",
        function="mse_gradient",
        title="Exercise 1: the gradient of the squared error",
        points=2,
        cases=_gradient_cases,
        judge=_gradient_judge,
        hint="With r = X @ w + b - y (shape (n,)): grad_w = (2/n) Xᵀr and grad_b = (2/n) Σ r. "
             "Each grad_w[j] contains the factor x_j: the feature scales its own gradient.",
    ),
    Exercise(
        id="ex1_max_lr",
        function="max_stable_learning_rate",
        title="Exercise 2: the largest stable learning rate",
        points=2,
        cases=_lr_cases,
        judge=_lr_judge,
        hint="The Hessian of L(w) = (1/n)‖Xw − y‖² is H = (2/n) XᵀX. Gradient descent converges "
             "when lr < 2/λ_max, with λ_max = np.linalg.eigvalsh(H).max().",
    ),
    Exercise(
        id="ex1_concept_scale",
        function="answer_scale_question",
        title="Exercise 3 (concept): a 1000× larger feature",
        points=1,
        cases=lambda rng: [Case("your answer")],
        judge=choice_judge(
            "ex1_concept_scale", "abcd",
            "1b0fc77376007250764168d5b3846530638e3237aca965754457636ad07f8f22",
            wrong={"a": "The gradient grows 1000×, but the curvature grows with the square "
                        "of the scale.",
                   "c": "Rescaling a feature changes the Hessian, so it changes the stable "
                        "learning rate."}),
        hint="Look at your measurement above: how did 2/λ_max change when income was "
             "multiplied by 10 and by 100?",
    ),
]
