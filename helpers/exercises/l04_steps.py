"""Lesson 4's gradient-check exercises: the centred finite difference and the step-size
experiment (the exercise list is in :mod:`helpers.exercises.l04`).

Both differentiate the same scalar, L(X) = Σ G·x_hat with x_hat = batch norm of X (γ = 1,
β = 0, biased variance, ε inside the square root), so that dL/d(out) = G and the analytic
dL/dX is the learner's ``batchnorm_backward`` with γ = 1.

``centered_difference(X, G, h, eps)`` is judged against the judge's own centred difference
at the same h; the cases use steps large enough (1e-3 to 1e-1) that the truncation error
(∝ h²) separates it from the analytic gradient, and the tolerance is round-off's size
(:func:`roundoff`). ``step_size_experiment(X, G, eps)`` chooses its step sizes (several
decades), measures the relative error of the centred difference against the analytic dX
at each, and returns them with the best h; the judge re-runs the learner's step sizes and
accepts each error within a factor ``FACTOR`` (round-off differs between implementations
of the same formula by up to about 2×). On two of its three cases the textbook step,
h = 1e-5, is at least 300 times worse than the best one (the least over 300 seeds: 365 and
about 40,000): the best h scales with each feature's √(σ² + ε).
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_number,
)

#: each measured error may be off by this factor from the judge's re-run (round-off)
FACTOR = 30.0
MIN_STEPS, MIN_DECADES, MAX_STEPS = 6, 6, 40
TEXTBOOK_H = 1e-5


def bn_loss(X, G, eps):
    """L(X) = Σ G·x_hat, x_hat batch-normalized X (γ = 1, β = 0)."""
    xc = X - X.mean(axis=0)
    return float(np.sum(G * xc / np.sqrt((xc**2).mean(axis=0) + eps)))


def _losses(A, G, eps):
    """bn_loss of each X in the stack A (k, N, D), in one batched computation."""
    xc = A - A.mean(axis=1, keepdims=True)
    return (G * xc / np.sqrt((xc**2).mean(axis=1, keepdims=True) + eps)).sum(axis=(1, 2))


def judge_difference(X, G, h, eps):
    """The judge's own centred difference at step h, one entry at a time: every nudged X
    at once (entry i of X + h·e_i is computed as x_i + h, as in a loop)."""
    X = np.asarray(X, dtype=float)
    nudge = h * np.eye(X.size).reshape(X.size, *X.shape)
    return ((_losses(X + nudge, G, eps) - _losses(X - nudge, G, eps)) / (2 * h)).reshape(X.shape)


def analytic(X, G, eps):
    """dL/dX in closed form (γ = 1)."""
    xc = X - X.mean(axis=0)
    std = np.sqrt((xc**2).mean(axis=0) + eps)
    x_hat = xc / std
    return (G - G.mean(axis=0) - x_hat * (G * x_hat).mean(axis=0)) / std


def rel_error(a, b) -> float:
    """max |a − b| / max(|a| + |b|), as the lesson defines it."""
    return float(np.abs(a - b).max() / max(float((np.abs(a) + np.abs(b)).max()), 1e-300))


def roundoff(X, G, h, eps, unit=2.2e-16) -> float:
    """How far two honest centred differences may differ: 1000 roundings of the loss's
    terms (|G|·|x_hat| summed), and of the nudged entry (|X|·|dL/dX|), divided by h."""
    x_hat = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps)
    terms = float(np.abs(G * x_hat).sum()) + float(np.abs(X).max() * np.abs(analytic(X, G, eps)).max())
    return 1000 * unit * terms / h


# --------------------------------------------------------------------------- centred difference


def difference_cases(rng):
    return [
        Case("6 examples × 3 features, h = 0.01", (rng.normal(size=(6, 3)),
                                                   rng.normal(size=(6, 3)), 1e-2)),
        Case("4 examples × 2 features, h = 0.1 (a coarse step)",
             (rng.normal(2.0, 3.0, size=(4, 2)), rng.normal(size=(4, 2)), 0.1)),
        Case("5 examples × 3 features on different scales, h = 0.001",
             (rng.normal(size=(5, 3)) * [0.1, 1.0, 3.0], rng.normal(size=(5, 3)), 1e-3)),
        Case("3 examples × 2 features, h = 0.01, ε = 0.1 passed explicitly",
             (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), 1e-2), {"eps": 0.1}),
    ]


def difference_judge(case, value):
    X, G, h = case.args
    eps = case.kwargs.get("eps", 1e-5)
    got = expect_array(value, X.shape, "the centred difference")
    ref = judge_difference(X, G, h, eps)
    atol = roundoff(X, G, h, eps)
    if np.allclose(got, ref, rtol=0, atol=atol):
        return
    exact = analytic(X, G, eps)
    if np.abs(got).max() < 1e-9 * max(1.0, float(np.abs(exact).max())):
        raise Mismatch("every entry is 0: nudging a whole column (or all of X) at once only "
                       "shifts it, and batch norm removes a shift. Nudge one entry at a time",
                       "all-at-once")
    xc = X - X.mean(axis=0)
    std = np.sqrt((xc**2).mean(axis=0) + eps)
    one_sided = np.zeros(X.shape)
    base = bn_loss(X, G, eps)
    Xp = np.array(X, dtype=float)
    for i in np.ndindex(X.shape):
        old = Xp[i]
        Xp[i] = old + h
        one_sided[i] = (bn_loss(Xp, G, eps) - base) / h
        Xp[i] = old
    for wrong, message, mistake in [
            (exact, f"this is the analytic gradient, not the centred difference at h = {h:g}: "
             "the two differ by the truncation error, which is what this exercise measures",
             "analytic"),
            (one_sided, "this is the one-sided difference (L(X + h) − L(X)) / h; the centred "
             "one nudges both ways: (L(X + h) − L(X − h)) / (2h)", "one-sided"),
            (2 * ref, "twice the centred difference: the two nudges are 2h apart, so divide "
             "by 2h", "divides-by-h"),
            (G / std, "this is G/σ: the mean and the variance were kept from the unnudged X. "
             "Recompute the whole forward pass, statistics included, for each nudged X",
             "statistics-fixed")]:
        if np.allclose(got, wrong, rtol=0, atol=atol) and not np.allclose(wrong, ref, rtol=0,
                                                                            atol=atol):
            raise Mismatch(message, mistake)
    expect_close(got, ref, "the centred difference", rtol=0, atol=atol)


# --------------------------------------------------------------------------- the experiment


def step_cases(rng):
    return [
        Case("6 examples × 2 features, standard normal",
             (rng.normal(size=(6, 2)), rng.normal(size=(6, 2)))),
        Case("6 examples × 2 features of standard deviation 0.001, ε = 1e-8",
             (1e-3 * rng.normal(size=(6, 2)), rng.normal(size=(6, 2))), {"eps": 1e-8}),
        Case("6 examples × 2 features around 10,000, standard deviation 1,000",
             (1e4 + 1e3 * rng.normal(size=(6, 2)), rng.normal(size=(6, 2)))),
    ]


def judge_errors(X, G, hs, eps):
    """The judge's re-run: the relative error of its centred difference at each h."""
    exact = analytic(X, G, eps)
    return np.array([rel_error(exact, judge_difference(X, G, h, eps)) for h in hs])


def _settings(value):
    if not isinstance(value, dict):
        got = "None (did you forget `return`?)" if value is None else type(value).__name__
        raise Mismatch(f"expected a dict with the keys hs, errors, best_h, best_error; got {got}")
    missing = [k for k in ("hs", "errors", "best_h", "best_error") if k not in value]
    if missing:
        raise Mismatch(f"the dict lacks {', '.join(map(repr, missing))}: return your step "
                       "sizes with your measurements, so that they can be re-run")
    hs, errors = value["hs"], value["errors"]
    if not isinstance(hs, (list, tuple, np.ndarray)) or not isinstance(
            errors, (list, tuple, np.ndarray)) or len(hs) != len(errors):
        raise Mismatch("hs and errors should be two lists of the same length: one error per "
                       "step size")
    hs = np.array([expect_number(h, "each step size") for h in hs])
    errors = np.array([expect_number(e, "each error") for e in errors])
    if len(set(hs.tolist())) < MIN_STEPS or len(hs) > MAX_STEPS:
        raise Mismatch(f"choose between {MIN_STEPS} and {MAX_STEPS} different step sizes "
                       f"(got {len(set(hs.tolist()))} different ones)")
    if (hs <= 0).any() or (hs > 1).any():
        raise Mismatch("every step size should lie between 0 (excluded) and 1")
    if hs.max() / hs.min() < 10.0**MIN_DECADES * (1 - 1e-9):
        raise Mismatch(f"your largest step size is {hs.max() / hs.min():.3g} times your "
                       f"smallest ({np.log10(hs.max() / hs.min()):.1f} decades); make it at least "
                       f"10^{MIN_DECADES} times (for example 1e-10 to 1e-2): the best step depends "
                       "on the problem", "too-narrow")
    if (errors < 0).any():
        raise Mismatch("a relative error cannot be negative")
    best_h = expect_number(value["best_h"], "best_h")
    best_error = expect_number(value["best_error"], "best_error")
    return hs, errors, best_h, best_error


def step_judge(case, value):
    X, G = case.args
    eps = case.kwargs.get("eps", 1e-5)
    hs, errors, best_h, best_error = _settings(value)
    ref = judge_errors(X, G, hs, eps)
    floor = 1e-15
    off = (errors > FACTOR * ref + floor) | (errors < ref / FACTOR - floor)
    k_best = int(np.argmin(ref))
    if best_h == TEXTBOOK_H and ref[k_best] * FACTOR < rel_error(
            analytic(X, G, eps), judge_difference(X, G, TEXTBOOK_H, eps)):
        textbook = rel_error(analytic(X, G, eps), judge_difference(X, G, TEXTBOOK_H, eps))
        raise Mismatch(f"best_h = 1e-5 is the textbook step, not this problem's: re-running "
                       f"it gives a relative error of {textbook:.1e}, while h = {hs[k_best]:g} "
                       f"gives {ref[k_best]:.1e}. Choose the h where your measured error is "
                       "smallest", "textbook-h")
    if off.any():
        k = int(np.argmax(np.abs(np.log10((errors + floor) / (ref + floor)))))
        raise Mismatch(f"at h = {hs[k]:g} you measured a relative error of {errors[k]:.2e}; "
                       f"re-running it gives {ref[k]:.2e} (accepted within a factor "
                       f"{FACTOR:g}). Is it max|analytic − numeric| / max(|analytic| + "
                       "|numeric|), with your analytic dX at γ = 1 and the centred difference "
                       "at that h?", "errors-off")
    if not np.isclose(hs, best_h, rtol=1e-12).any():
        raise Mismatch(f"best_h = {best_h:g} is not one of your step sizes")
    k = int(np.argmin(np.abs(np.log(hs / best_h))))
    if not np.isclose(best_error, errors[k], rtol=1e-9, atol=0) or \
            errors[k] > FACTOR * errors.min() + floor:
        raise Mismatch(f"best_h = {best_h:g} with best_error {best_error:.2e} is not where "
                       f"your measured errors are smallest (h = {hs[int(np.argmin(errors))]:g}, "
                       f"{errors.min():.2e}): return that step and its error", "not-the-best")
    if ref[k] > FACTOR * ref.min() + floor:
        raise Mismatch(f"re-running h = {best_h:g} gives {ref[k]:.2e}, but h = "
                       f"{hs[k_best]:g} gives {ref[k_best]:.2e}: your best step is not this "
                       "problem's best", "not-the-best")
