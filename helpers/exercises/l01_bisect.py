"""Lesson 1's experiment exercise: find the largest stable learning rate by bisection.

The learner's ``measure_max_lr(X, y, lo, hi)`` runs the lesson's ``gradient_descent``
(bias-free, 500 steps) between ``lo`` (converges) and ``hi`` (diverges) and returns the
largest learning rate it saw converge. A run only counts as diverged once its loss passes
10⁶ times its start, so the measured edge lies 0.3-1 % above the theory's 2/λ_max: the
formula alone is *not* the answer here. The judge

- runs ``gradient_descent`` at the returned rate: it must converge (``hi``, or a last
  midpoint where GD diverged, is refused);
- computes the measured edge in closed form: from w = 0 the error along each eigenvector
  of the Hessian H = (2/n) XᵀX is multiplied by (1 − α·λ_k) each step, so the loss after
  t steps is L* + Σ_k (λ_k / 2)·c_k²·(1 − α·λ_k)^(2t), with c = the least-squares weights
  in H's eigenbasis; the edge is the smallest α for which that passes 10⁶ × L(0) within
  500 steps (found on the formula to 1e-12, 32 rates at a time; rounding moves the runs' edge by
  far less than rtol);
- accepts a rate within the bisection's own tolerance below that edge: a bisection that
  stops when hi / lo < 1 + rtol returns lo ≥ edge / (1 + rtol); twice rtol is allowed.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_number, times
from helpers.core.data import age_income
from helpers.core.linreg import DIVERGENCE_FACTOR, gradient_descent

N_STEPS = 500  # the exercise's n_steps
RTOL = 1e-3  # the exercise's rtol


def bisect_cases(rng):
    """Two cases (the check cell's 1 s budget: benchmarks/bench_backward_cost.py): random data
    whose lo is moved up until the last midpoint of an honest bisection diverges (returning it
    is then wrong, whatever the seed), and the lesson's data, 13 powers of ten wide."""
    X, y = rng.normal(size=(30, 3)) * [1, 10, 100], rng.normal(size=30)
    lo, diverges = 1e-9, _divergence(X, y)
    while not _last_mid_diverges(diverges, lo, 10.0):
        lo *= 1.1
    X2, y2 = age_income(n=50, seed=2)
    return [
        Case(f"random: 30 examples, 3 features on scales 1, 10, 100, lo = {lo:.3g}, hi = 10",
             (X, y, lo, 10.0)),
        Case("age (years) and income (USD), 50 people, lo = 1e-13, hi = 1",
             (X2, y2, 1e-13, 1.0)),
    ]


def _last_mid_diverges(diverges, lo: float, hi: float) -> bool:
    """Whether an honest bisection's last midpoint is a rate where gradient descent diverges."""
    last = False
    while hi > lo * (1 + RTOL):
        mid = np.sqrt(lo * hi)
        last = bool(diverges(mid)[0])
        lo, hi = (lo, mid) if last else (mid, hi)
    return last


def _divergence(X, y, n_steps: int = N_STEPS):
    """rates -> whether ``gradient_descent`` diverges within n_steps at each, from the closed
    form: from w = 0 the error along each eigenvector of H = (2/n) XᵀX is multiplied by
    (1 − α·λ_k) each step; also 2/λ_max (the theory)."""
    n = len(y)
    lam, vec = np.linalg.eigh(2.0 / n * (X.T @ X))
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    c2 = (vec.T @ w_star) ** 2
    r_star = X @ w_star - y
    floor, limit = float(r_star @ r_star) / n, DIVERGENCE_FACTOR * max(float(y @ y) / n, 1e-12)
    t = np.arange(1, n_steps + 1)[:, None]

    def diverges(lrs):
        lrs = np.atleast_1d(np.asarray(lrs, float))[:, None, None]
        with np.errstate(all="ignore"):
            loss = floor + ((lam / 2 * c2) * (1 - lrs * lam) ** (2 * t)).sum(axis=2)
        return (~np.isfinite(loss) | (loss > limit)).any(axis=1)

    diverges.theory = 2.0 / lam[-1]
    return diverges


def measured_edge(X, y, n_steps: int = N_STEPS) -> tuple:
    """(2/λ_max, the smallest rate at which ``gradient_descent`` diverges within n_steps),
    the second from the closed form (:func:`_divergence`), refined 32 rates at a time (a
    run diverges at every rate above one where it does) to 1e-12."""
    diverges = _divergence(X, y, n_steps)
    theory = diverges.theory
    lo, hi = theory, 2 * theory
    while not diverges(hi)[0]:
        lo, hi = hi, 2 * hi
    while hi > lo * (1 + 1e-12):
        grid = np.geomspace(lo, hi, 33)
        first = int(np.argmax(diverges(grid[1:]))) + 1  # grid[-1] = hi diverges
        lo, hi = grid[first - 1], grid[first]
    return theory, hi


def bisect_judge(case, value):
    X, y, lo, hi = case.args
    lr = expect_number(value, "your learning rate")
    theory, edge = measured_edge(X, y)
    if np.isclose(lr, lo, rtol=1e-9, atol=0):
        raise Mismatch(f"you returned lo = {lo:.3g} unchanged: the bisection never moved it. "
                       "Does a midpoint where GD converges become the new lo? Is your stopping "
                       "rule relative (hi / lo > 1 + rtol)? An absolute one (hi − lo > rtol) "
                       "stops at once when the edge is near 1e-10", "lo-unchanged")
    if np.isclose(lr, hi, rtol=1e-9, atol=0):
        raise Mismatch(f"you returned hi = {hi:.3g} unchanged: gradient descent diverges "
                       "there. Return lo, the largest learning rate you saw converge",
                       "returns-hi")
    if not lo <= lr <= hi:
        raise Mismatch(f"your value ({lr:.4g}) is outside the interval [lo, hi] = "
                       f"[{lo:.3g}, {hi:.3g}]: a bisection only moves inside it", "outside")
    run = gradient_descent(X, y, lr, N_STEPS)
    if run.diverged:
        slow = (" Just above the edge a run blows up slowly: are your runs n_steps = 500 "
                "steps long?" if run.diverged_at > 50 else "")
        raise Mismatch(f"gradient descent diverges at your value ({lr:.4g}, at step "
                       f"{run.diverged_at} of {N_STEPS}): it is {times(lr / edge)} the measured "
                       f"edge {edge:.4g}. Return the largest rate you saw converge (lo), not "
                       "hi or the last midpoint; does a diverging midpoint become the new "
                       f"hi, and does your loop trust run.diverged?{slow}", "diverging-rate")
    if lr < edge / (1 + 2 * RTOL):
        if abs(lr / theory - 1) < 1e-6:
            raise Mismatch("your value is 2/λ_max to 7 digits: a formula, not a measurement. "
                           f"With {N_STEPS} steps gradient descent still converges up to "
                           f"{times(edge / theory)} 2/λ_max here: find that edge with "
                           "gradient_descent (the formula is the next exercise)",
                           "formula-not-measurement")
        raise Mismatch(f"gradient descent still converges above your value ({lr:.4g}): the "
                       f"measured edge is {edge:.4g}, {times(edge / lr)} yours. Keep halving "
                       f"the interval until hi / lo < 1 + rtol, with runs of {N_STEPS} steps "
                       "judged by run.diverged", "stops-below-edge")


BISECT_HINT = (
    "Bisection: keep two learning rates, lo (GD converges) and hi (GD diverges). Try one "
    "in between; what gradient descent does there tells you which end it replaces. Repeat "
    "until the two are close: the edge lies between them.",
    "Loop while hi / lo > 1 + rtol. Take the midpoint on a log scale, the geometric mean "
    "√(lo·hi): lo and hi can be 13 powers of ten apart, and the arithmetic mean would crawl "
    "down from hi for dozens of rounds. If a run of n_steps at the midpoint diverged (its "
    "run.diverged is True), the midpoint is the new hi, else the new lo. Return lo.",
    "while hi > lo * (1 + rtol):  mid = np.sqrt(lo * hi);  then `if gradient_descent(X, y, "
    "mid, n_steps).diverged: hi = mid` and `else: lo = mid`;  after the loop, return "
    "float(lo).",
)
