"""Lesson 1's experiment exercise: find the largest stable learning rate by bisection.

The learner's ``measure_max_lr(X, y, lo, hi)`` runs the lesson's ``gradient_descent``
(bias-free) between ``lo`` (converges) and ``hi`` (diverges) and returns the largest
learning rate it saw converge. The judge checks the measured value against the
theory, 2/λ_max of the Hessian (2/n) XᵀX, computed here on the case's data (fresh
random data in the grader). A run only counts as diverged once its loss passes 10⁶
times its start, so just above 2/λ_max a run of 500 steps still looks stable: a
correct bisection lands 0.3-1 % above the edge, inside the accepted band.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_number
from helpers.core.data import age_income
from helpers.core.linreg import gradient_descent, hessian_eigenvalues

#: accepted band for (your value) / (2/λ_max)
LOW, HIGH = 0.99, 1.03


def bisect_cases(rng):
    X, y = age_income(n=50, seed=2)
    return [
        Case("one feature, 20 examples, lo = 1e-6, hi = 10",
             (rng.normal(size=(20, 1)) * 3, rng.normal(size=20), 1e-6, 10.0)),
        Case("age (years) and income (USD), 50 people, lo = 1e-13, hi = 1",
             (X, y, 1e-13, 1.0)),
        Case("random: 30 examples, 3 features on scales 1, 10, 100, lo = 1e-9, hi = 10",
             (rng.normal(size=(30, 3)) * [1, 10, 100], rng.normal(size=30), 1e-9, 10.0)),
    ]


def bisect_judge(case, value):
    X, y, lo, hi = case.args
    lr = expect_number(value, "your learning rate")
    edge = 2.0 / hessian_eigenvalues(X)[-1]
    ratio = lr / edge
    if np.isclose(lr, lo, rtol=1e-9, atol=0):
        raise Mismatch(f"you returned lo = {lo:.3g} unchanged: the bisection never moved it. "
                       "Does a midpoint where GD converges become the new lo? Is your stopping "
                       "rule relative (hi / lo > 1 + rtol)? An absolute one (hi − lo > rtol) "
                       "stops at once when the edge is near 1e-10")
    if np.isclose(lr, hi, rtol=1e-9, atol=0):
        raise Mismatch(f"you returned hi = {hi:.3g} unchanged: gradient descent diverges "
                       "there. Return lo, the largest learning rate you saw converge")
    if abs(ratio - 1) < 1e-7:
        raise Mismatch("your value is 2/λ_max to 7 digits: a formula, not a measurement (a "
                       "bisection stops within rtol of the edge). Find the edge with "
                       "gradient_descent; the formula is the next exercise")
    if not lo <= lr <= hi:
        raise Mismatch(f"your value ({lr:.4g}) is outside the interval [lo, hi] = "
                       f"[{lo:.3g}, {hi:.3g}]: a bisection only moves inside it")
    if ratio > HIGH:
        shown = gradient_descent(X, y, lr, 2000)
        blows = (f"gradient descent diverges at your value ({lr:.4g}, step "
                 f"{shown.diverged_at} of 2,000)" if shown.diverged else
                 f"your value ({lr:.4g}) is too large")
        slow = (" Just above the edge a run blows up slowly: are your runs n_steps = 500 "
                "steps long?" if shown.diverged and shown.diverged_at > 50 else "")
        raise Mismatch(f"{blows}: it is {ratio:.4g} times the edge 2/λ_max = {edge:.4g}. "
                       "How does your loop decide that a run diverged? gradient_descent stops "
                       "a run that blows up and sets run.diverged = True; does a diverging "
                       f"midpoint become the new hi?{slow}")
    if ratio < LOW:
        raise Mismatch(f"gradient descent still converges above your value ({lr:.4g}): it is "
                       f"{ratio:.4g} times the edge 2/λ_max = {edge:.4g}. Keep halving the "
                       "interval until hi / lo < 1 + rtol")


BISECT_HINT = (
    "Bisection: keep two learning rates, lo (GD converges) and hi (GD diverges). Try one "
    "in between; what gradient descent does there tells you which end it replaces. Repeat "
    "until the two are close: the edge lies between them.",
    "Loop while hi / lo > 1 + rtol. Take the midpoint on a log scale, mid = √(lo·hi): lo "
    "and hi can be 13 powers of ten apart, and (lo + hi) / 2 would crawl down from hi for "
    "dozens of rounds. If gradient_descent(X, y, mid, n_steps).diverged, mid is the new hi, "
    "else the new lo. Return lo.",
    "while hi > lo * (1 + rtol):  mid = np.sqrt(lo * hi);  then `if gradient_descent(X, y, "
    "mid, n_steps).diverged: hi = mid` and `else: lo = mid`;  after the loop, return "
    "float(lo).",
)
