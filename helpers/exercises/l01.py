"""Exercises of lesson 1 (01_feature_scale): why feature scale breaks gradient descent.

The judges compute their references in closed form: the gradient (2/n) Xᵀr; the stable
learning rate from the Hessian's largest eigenvalue (and, when too large, by running
gradient descent below it); the bisection experiment against the edge that 500 steps of
gradient descent really have (:mod:`helpers.exercises.l01_bisect`). Known mistakes
(missing factor 2, n − 1, wrong sign, 1/λ_max, averaging over the wrong axis) get their
own sentence.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    close,
    expect_array,
    expect_close,
    expect_number,
    expect_tuple,
    times,
    tolerances,
)
from helpers.core.data import age_income
from helpers.exercises.l01_bisect import BISECT_HINT, bisect_cases, bisect_judge
from helpers.exercises.l01_horizon import HORIZON_HINT, horizon_cases, horizon_judge
from helpers.exercises.predict import prediction
from helpers.exercises.spec import Exercise
from helpers.exercises.written import written


def _gradient(X, y, w, b):
    """The MSE loss's gradient in closed form: ((2/n) Xᵀr, (2/n) Σ r), r = Xw + b − y."""
    r = X @ w + b - y
    return 2.0 / len(y) * (X.T @ r), 2.0 / len(y) * float(r.sum())


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


def _ratio(a, b):
    """The common ratio a/b when a is a constant multiple of b (else None)."""
    a, b = np.ravel(np.asarray(a, float)), np.ravel(np.asarray(b, float))
    keep = np.abs(b) > 1e-12 * max(1.0, float(np.abs(b).max()))
    if not keep.any():
        return None
    r = a[keep] / b[keep]
    return float(r[0]) if np.allclose(r, r[0], rtol=1e-6) else None


def _gradient_judge(case, value):
    X, y, w, b = case.args
    n, d = X.shape
    grad_w, grad_b = expect_tuple(value, 2, "(grad_w, grad_b)")
    shape = np.shape(grad_w) if not isinstance(grad_w, str) else None
    if shape is not None and n != d and shape in ((n,), (n, 1), (n, d)):
        raise Mismatch(f"grad_w has shape {shape}: one value per example. Sum or average "
                       f"over the examples (axis 0) to get one value per weight, shape ({d},)",
                       "per-example")
    gw = expect_array(grad_w, w.shape, "grad_w")
    gb = expect_number(grad_b, "grad_b")
    ref_w, ref_b = _gradient(X, y, w, b)
    k = _ratio(np.append(gw, gb), np.append(ref_w, ref_b))
    if k is not None and not np.isclose(k, 1.0, rtol=1e-4):
        if np.isclose(k, 0.5, rtol=1e-4):
            raise Mismatch("your gradient is half the right value: the derivative of (ŷ − y)² "
                           "is 2·(ŷ − y)·x_j, keep the factor 2", "missing-factor-2")
        if np.isclose(k, -1.0, rtol=1e-4):
            raise Mismatch("your gradient has the wrong sign: the residual is ŷ − y "
                           "(prediction minus target), not y − ŷ", "wrong-sign")
        if n > 1 and np.isclose(k, n / (n - 1), rtol=1e-4):
            raise Mismatch(f"your gradient is n/(n − 1) = {k:.4g}× too large: the loss "
                           "averages over n examples, divide by n (not n − 1)", "n-minus-1")
        if np.isclose(k, n, rtol=1e-4):
            raise Mismatch(f"your gradient is n = {n}× too large: the loss is a mean, "
                           "divide the sum by n", "sum-not-mean")
    scale = float(np.abs(X).max() * np.abs(X @ w + b - y).max())  # the size of a summand
    if b != 0 and not close(gw, ref_w, rtol=1e-7, atol=1e-12 * scale):
        if close(gw, _gradient(X, y, w, 0.0)[0], rtol=1e-7, atol=1e-12 * scale):
            raise Mismatch(f"grad_w is the gradient at b = 0, not at b = {b:.3g}: the "
                           "prediction includes the bias, ŷ = X·w + b", "bias-left-out")
    expect_close(gw, ref_w, "grad_w", rtol=1e-7, atol=1e-12 * scale)
    expect_close(gb, ref_b, "grad_b", rtol=1e-7, atol=1e-12 * scale)


def _lr_cases(rng):
    X, _ = age_income(n=50, seed=2)
    return [
        # not symmetric, so that no two known mistakes give the same value
        Case("two features on the same scale",
             (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]),)),
        Case("age (years) and income (in 10,000 USD)", (X / [1.0, 1e4],)),
        Case("age (years) and income (USD), as in the lecture", (X.copy(),)),
        Case("one feature, 5 examples", (np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]),)),
        Case("random: 30 examples, 4 features", (rng.normal(size=(30, 4)) * [1, 2, 5, 10],)),
    ]


def _gd_blows_up(X, lr, n_steps=3000):
    """Run GD on the bias-free MSE loss with y = 0 from a generic start; True when it diverges.

    The minimum is w = 0; the error along the top eigenvector is multiplied by
    |1 - lr * lambda_max| each step, so it shrinks just below 2/lambda_max and grows
    just above it.
    """
    n, d = X.shape
    lam, vec = np.linalg.eigh(2.0 / n * (X.T @ X))
    w = vec[:, -1] + 0.1 * vec.sum(axis=1)  # mostly along the steepest direction
    start = np.linalg.norm(w)
    for _ in range(n_steps):
        w = w - lr * (2.0 / n) * (X.T @ (X @ w))
        size = np.linalg.norm(w)
        if not np.isfinite(size) or size > 1e3 * start:
            return True
    return bool(np.linalg.norm(w) > start)


#: known mistakes, recognised by the ratio (learner's value) / (2 / lambda_max)
_LR_MISTAKES = (
    (0.5, "one-over-lambda", "you returned 1/λ_max: gradient descent still converges up to 2/λ_max "
          "(the error along the steepest direction is multiplied by |1 − α·λ_max| each step)"),
    (2.0, "hessian-factor-2", "your value is 2 times too large: the Hessian of (1/n)‖Xw − y‖² is (2/n) XᵀX, "
          "did you drop its factor 2?"),
)


def _lr_judge(case, value):
    (X,) = case.args
    n = len(X)
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.size > 1):
        raise Mismatch(f"expected one number, got {np.size(value)} values: take the largest "
                       "eigenvalue λ_max (the steepest direction decides) and return 2/λ_max",
                       "all-eigenvalues")
    lr = expect_number(value, "your learning rate")
    if lr <= 0:
        raise Mismatch(f"a learning rate must be positive, got {lr:.3g}", "not-positive")
    lam = np.linalg.eigvalsh(2.0 / n * (X.T @ X))
    ratio = lr * lam[-1] / 2.0
    if abs(ratio - 1.0) <= tolerances(1e-6, 0.0, 1.0)[0]:
        return
    if len(lam) > 1 and np.isclose(lr, 2.0 / lam[0], rtol=1e-4, atol=0) and lam[0] < lam[-1]:
        raise Mismatch("you used the smallest eigenvalue: the steepest direction (λ_max) "
                       "limits the learning rate", "smallest-eigenvalue")
    mistakes = list(_LR_MISTAKES)
    if n > 2:  # with n = 2, (n - 1)/n = 1/2 is the 1/λ_max mistake
        mistakes += [((n - 1) / n, "n-minus-1", "your value is (n − 1)/n times the right one: "
                      "the loss averages over n examples, not n − 1"),
                     (1.0 / n, "sum-not-mean", "your value is n times too small: the loss is "
                      "a mean, so its Hessian (2/n) XᵀX has a factor 1/n")]
    for k, mistake, message in mistakes:
        if np.isclose(ratio, k, rtol=1e-4):
            raise Mismatch(message, mistake)
    if np.isclose(lr, lam[-1], rtol=1e-4, atol=0):
        raise Mismatch("you returned λ_max itself: the largest stable learning rate is "
                       "2/λ_max", "lambda-max")
    if n > 1:
        Xc = X - X.mean(axis=0)
        for ddof in (0, 1):
            lam_c = np.linalg.eigvalsh(2.0 / (n - ddof) * (Xc.T @ Xc))[-1]
            if lam_c > 0 and any(np.isclose(lr, f * 2.0 / lam_c, rtol=1e-4, atol=0)
                                 for f in (1.0, 2.0, 0.5)):
                raise Mismatch("you centered X (as a covariance does): this loss has no bias, "
                               "so its Hessian is (2/n) XᵀX with X exactly as given", "centered")
    if ratio > 1 and _gd_blows_up(X, 0.5 * (lr + 2.0 / lam[-1])):
        raise Mismatch(f"gradient descent diverges below your value ({lr:.4g}): it is "
                       f"{times(ratio)} the largest stable learning rate", "too-large")
    raise Mismatch(f"your value ({lr:.4g}) is {times(ratio)} the largest stable learning "
                   "rate: gradient descent still converges above it" if ratio < 1 else
                   f"your value ({lr:.4g}) is {times(ratio)} the largest stable learning rate: "
                   "too large", "too-small" if ratio < 1 else "too-large")


EXERCISES = [
    Exercise(
        id="ex1_gradient",
        function="mse_gradient",
        title="Exercise 1 (2 points, derive): the gradient of the squared error",
        points=2,
        cases=_gradient_cases,
        judge=_gradient_judge,
        shortcuts=("core.linreg:gradient_descent", "core.linreg:sgd", "core.linreg:lr_sweep",
                   "core.gradcheck:numerical_gradient"),
        hint=("The chain rule, one example at a time: how does one squared error "
              "(ŷ_i − y_i)² change when w_j moves, given how ŷ_i depends on w_j? Then "
              "average over the n examples, as L does; b works the same way.",
              "∂L/∂w_j = (2/n) Σ_i (ŷ_i − y_i)·x_ij and ∂L/∂b = (2/n) Σ_i (ŷ_i − y_i). "
              "With the residual vector r = ŷ − y, the sums over i for every j at once are "
              "one matrix–vector product.",
              "r = X @ w + b - y  (shape (n,));  grad_w = 2 * X.T @ r / n  (shape (d,));  "
              "grad_b = 2 * r.sum() / n  (a number)."),
    ),
    Exercise(
        id="ex1_measure_lr",
        function="measure_max_lr",
        title="Exercise 2 (2 points, experiment): the largest stable learning rate, by bisection",
        points=2,
        cases=bisect_cases,
        judge=bisect_judge,
        hint=BISECT_HINT,
        shortcuts=("core.linreg:hessian_eigenvalues", "core.linreg:hessian",
                   "core.linreg:condition_number", "core.linreg:lr_sweep"),
    ),
    Exercise(
        id="ex1_max_lr",
        function="max_stable_learning_rate",
        title="Exercise 3 (2 points, derive): the largest stable learning rate, from the curvature",
        points=2,
        cases=_lr_cases,
        judge=_lr_judge,
        shortcuts=("core.linreg:hessian_eigenvalues", "core.linreg:hessian",
                   "core.linreg:condition_number"),
        hint=("Differentiate your gradient from Exercise 1 once more with respect to w: that "
              "is the Hessian H. Its largest eigenvalue plays the part of L'' in the "
              "one-weight case.",
              "grad_w = (2/n) Xᵀ(Xw + b − y), so H = (2/n) XᵀX: it depends on neither w nor "
              "y. Every axis of the bowl shrinks only if α < 2/λ for its curvature λ, so the "
              "largest stable rate is 2/λ_max.",
              "H = 2 * X.T @ X / len(X);  lam_max = np.linalg.eigvalsh(H)[-1]  (ascending "
              "order: the last is the largest);  return float(2 / lam_max)."),
    ),
    Exercise(
        id="ex1_edge_steps",
        function="edge_vs_steps",
        title="Exercise 4 (1 point, experiment): how far above 2/λ_max is the edge?",
        points=1,
        cases=horizon_cases,
        judge=horizon_judge,
        hint=HORIZON_HINT,
        shortcuts=("core.linreg:hessian_eigenvalues", "core.linreg:hessian",
                   "core.linreg:condition_number", "core.linreg:lr_sweep"),
    ),
    written(
        id="ex1_interpret_edge",
        function="interpret_edge",
        title="Exercise 5 (0 points, written): what sets the gap?",
    ),
    prediction(
        id="ex1_predict_scale",
        function="predict_scale",
        title="Exercise 6 (0 points, predict): a 1000× larger feature",
        options={"a": "about 1000× smaller",
                 "b": "about 10⁶× smaller",
                 "c": "unchanged",
                 "d": "about 1000× larger"},
        observed="f7ec5d206d607a4969eaf27ac1b5af29aa70e8332cddad15a484312f694881cd",
    ),
]
