"""Lesson 1's experiment: how the measured edge of stability depends on the number of steps.

The learner's ``edge_vs_steps(X, y)`` chooses the horizons (how many steps of gradient
descent count as "converged"), measures the edge at each with its own bisection and
returns ``{"n_steps": [...], "edges": [...]}``. The judge re-runs every chosen horizon:
the edge that ``gradient_descent`` really has within n steps, from the closed form of
:func:`helpers.exercises.l01_bisect.measured_edge` (GD from w = 0 on a quadratic), and
one run of ``gradient_descent`` at the learner's rate. A run counts as diverged once its
loss passes 10⁶ times its start, so within n steps the edge lies about 3.5/n above
2/λ_max (0.35 % at n = 1000, the most a horizon may be): outside the accepted interval,
so the textbook formula alone is refused.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_number, times
from helpers.core.data import age_income
from helpers.core.linreg import gradient_descent
from helpers.exercises.l01_bisect import RTOL, measured_edge

MIN_STEPS, MAX_STEPS = 10, 1000  # at 1000 steps the edge is still > 2·RTOL above 2/λ_max
MIN_HORIZONS, MIN_SPAN = 3, 10  # at least 3 horizons, the largest ≥ 10 × the smallest


def horizon_cases(rng):
    X, y = age_income(n=50, seed=2)
    Xr, yr = rng.normal(size=(30, 3)) * [1, 10, 100], rng.normal(size=30)
    return [Case("age (years) and income (USD), 50 people", (X, y)),
            Case("random: 30 examples, 3 features on scales 1, 10, 100", (Xr, yr))]


def _settings(value):
    if not isinstance(value, dict):
        got = "None (did you forget `return`?)" if value is None else type(value).__name__
        raise Mismatch(f"expected a dict with the keys n_steps and edges; got {got}",
                       "not-a-dict")
    missing = [k for k in ("n_steps", "edges") if k not in value]
    if missing:
        raise Mismatch(f"the dict lacks {', '.join(map(repr, missing))}: return your "
                       "horizons with your edges, so that they can be re-run", "missing-key")
    steps = value["n_steps"]
    if not isinstance(steps, (list, tuple)) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in steps):
        raise Mismatch(f"n_steps should be a list of whole numbers, got {steps!r}"[:160],
                       "bad-horizons")
    steps = [int(s) for s in steps]
    if len(set(steps)) < MIN_HORIZONS or min(steps) < MIN_STEPS or max(steps) > MAX_STEPS \
            or max(steps) < MIN_SPAN * min(steps):
        raise Mismatch(f"choose at least {MIN_HORIZONS} different numbers of steps between "
                       f"{MIN_STEPS} and {MAX_STEPS}, the largest at least {MIN_SPAN} times "
                       f"the smallest (got {steps})", "bad-horizons")
    edges = value["edges"]
    if not isinstance(edges, (list, tuple, np.ndarray)) or len(edges) != len(steps):
        raise Mismatch(f"edges should hold one number per horizon ({len(steps)})",
                       "bad-horizons")
    return steps, np.array([expect_number(e, "each edge") for e in edges])


def horizon_judge(case, value):
    X, y = case.args
    steps, edges = _settings(value)
    measured = [measured_edge(X, y, n) for n in steps]
    theory = measured[0][0]
    refs = np.array([edge for _, edge in measured])
    if np.allclose(edges, theory, rtol=1e-6, atol=0):
        raise Mismatch(f"every edge is 2/λ_max: a formula, not a measurement. Within "
                       f"{steps[0]} steps gradient descent still converges up to "
                       f"{times(refs[0] / theory)} 2/λ_max here: measure each horizon with "
                       "your bisection (n_steps is its argument)", "formula-not-measurement")
    low = edges < refs / (1 + 2 * RTOL)
    if len(set(np.round(edges, 12))) == 1 and low.any():
        raise Mismatch(f"you returned the same edge ({edges[0]:.4g}) for every horizon: "
                       "pass each n_steps to your bisection", "n-steps-ignored")
    for n, lr, ref in zip(steps, edges, refs, strict=True):
        run = gradient_descent(X, y, lr, n) if lr > 0 else None
        if run is None or run.diverged:
            where = "" if run is None else f", at step {run.diverged_at}"
            raise Mismatch(f"with n_steps = {n}, gradient descent diverges at your edge "
                           f"({lr:.4g}{where}): the measured edge is {ref:.4g}. Return the "
                           "largest rate your bisection saw converge (its lo)",
                           "diverging-rate")
        if lr < ref / (1 + 2 * RTOL):
            raise Mismatch(f"with n_steps = {n}, gradient descent still converges above your "
                           f"edge ({lr:.4g}): re-running your horizon gives {ref:.4g}, "
                           f"{times(ref / lr)} yours. Bisect until hi / lo < 1 + {RTOL:g} "
                           "with runs of exactly n_steps", "stops-below-edge")


HORIZON_HINT = (
    "A horizon is the n_steps you give your Exercise 2 bisection: the edge is the largest "
    "rate whose run has not blown up by then. Pick a few, a factor of ten or more apart, "
    "and bracket each bisection so that it converges at lo and diverges at hi.",
    "For each horizon, call your Exercise 2 bisection with that number as its n_steps. "
    "Your Exercise 3 formula gives a bracket: at 2/λ_max itself the error never grows, and "
    "at twice that rate it grows 3-fold every step, at four times 7-fold.",
    "steps = [10, 100, 1000];  edge = max_stable_learning_rate(X);  edges = "
    "[measure_max_lr(X, y, edge, 4 * edge, n_steps=n) for n in steps];  return "
    "{'n_steps': steps, 'edges': edges}.",
)
