"""Feature scaling as pure functions: fit statistics on training data, apply them anywhere.

Every scaling is the affine map ``x' = (x - shift) / scale`` per feature, with
``shift`` and ``scale`` of shape (n_features,) fitted on the training data only:

==========  ==================  =====================
kind        shift               scale
==========  ==================  =====================
"none"      0                   1
"center"    mean                1
"scale"     0                   standard deviation
"zscore"    mean                standard deviation
"minmax"    minimum             maximum - minimum
"robust"    median              interquartile range (75th - 25th percentile)
"log"       mean of log x       standard deviation of log x   (see below)
==========  ==================  =====================

"log" is the one non-affine kind: the features that are positive and right-skewed
in the training data (skewness above 1; income here) are replaced by their
logarithm first, then every feature is z-scored. :func:`fit_scaling` returns a
:class:`Scaling` ``(shift, scale, log)`` whose ``log`` marks those features, and
``apply_scaling(X, *fit_scaling(X, kind))`` works for every kind.
:func:`fit_whitening` goes one step further than the z-score: it also removes
the correlation between features.

Standard deviations are population ones (divide by n, ``ddof=0``), as in the
lecture's formula, NumPy's default and scikit-learn's ``StandardScaler``.
A zero scale (a constant feature) is replaced by 1, as scikit-learn does: the
constant feature is then centred to 0 instead of becoming NaN (0/0).

Used in lesson 2 (02_standardization).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from helpers.answers.l02 import robust_fit, zscore_fit
from helpers.core.linreg import (
    condition_number,
    gradient_descent,
    hessian_eigenvalues,
    least_squares,
    mse_loss,
)

#: the scalings compared in lesson 2, in display order
SCALINGS = ("none", "center", "scale", "zscore", "minmax", "robust", "log")
#: the kinds that are affine maps x' = (x - shift) / scale (a linear model fits equally well)
AFFINE = ("none", "center", "scale", "zscore", "minmax", "robust")
#: human-readable names for tables, legends and the widget
SCALING_LABELS = {
    "none": "none (raw)",
    "center": "centering only",
    "scale": "scaling only (÷ std)",
    "zscore": "z-score (both)",
    "minmax": "min–max to [0, 1]",
    "robust": "robust (median, IQR)",
    "log": "log income, then z-score",
}


class Scaling(NamedTuple):
    """A fitted scaling: shift (d,), scale (d,) with no zeros, log (d,) bool (log first)."""

    shift: np.ndarray
    scale: np.ndarray
    log: np.ndarray


def _as_2d(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_features), got shape {X.shape}")
    return X


def safe_scale(scale) -> np.ndarray:
    """Scales with zeros replaced by 1 (so a constant feature is not divided by 0)."""
    scale = np.array(scale, dtype=float)
    scale[scale == 0] = 1.0
    return scale


def standardized(X) -> np.ndarray:
    """X (n, d) with every feature at mean 0 and standard deviation 1 (a constant feature at
    0): lesson 1's demonstrations, before lesson 2 derives it. Computed here, not with
    lesson 2's answer, so that it works in a grading sandbox too."""
    X = _as_2d(X)
    return apply_scaling(X, X.mean(axis=0), X.std(axis=0))


def fit_scaling(X, kind: str = "zscore") -> Scaling:
    """The :class:`Scaling` ``kind`` (see :data:`SCALINGS`) fitted on X (n, d).

    A zero scale is already replaced by 1, so :func:`apply_scaling` never divides by 0.
    """
    X = _as_2d(X)
    d = X.shape[1]
    no_log = np.zeros(d, dtype=bool)
    if kind == "log":  # log of the positive, right-skewed features, then the z-score
        log = np.array([X[:, j].min() > 0 and skewness(X[:, j]) > 1 for j in range(d)])
        mean, std = zscore_fit(np.where(log, np.log(np.where(log, X, 1.0)), X))
        return Scaling(mean, safe_scale(std), log)
    if kind == "none":
        shift, scale = np.zeros(d), np.ones(d)
    elif kind == "center":
        shift, scale = X.mean(axis=0), np.ones(d)
    elif kind == "scale":
        shift, scale = np.zeros(d), X.std(axis=0)
    elif kind == "zscore":  # lesson 2's exercise: the course's own z-score
        shift, scale = zscore_fit(X)
    elif kind == "minmax":
        shift = X.min(axis=0)
        scale = X.max(axis=0) - shift
    elif kind == "robust":
        shift, scale = robust_fit(X)
    else:
        raise ValueError(f"unknown scaling {kind!r}; choose one of {', '.join(SCALINGS)}")
    return Scaling(np.asarray(shift, float), safe_scale(scale), no_log)


def apply_scaling(X, shift, scale, log=None) -> np.ndarray:
    """``(X - shift) / scale`` as a new array, with log taken first where ``log`` is True;
    X (n, d) -> (n, d). A logged feature must be positive."""
    X = _as_2d(X)
    if log is not None and np.any(log):
        if (X[:, log] <= 0).any():
            raise ValueError("a feature scaled with 'log' has a value <= 0: log is undefined")
        X = np.where(log, np.log(np.where(log, X, 1.0)), X)
    return (X - np.asarray(shift, float)) / safe_scale(scale)


def scale_features(X_train, *others, kind: str = "zscore"):
    """Fit ``kind`` on ``X_train`` only and apply it to X_train and each of ``others``.

    Returns a tuple ``(X_train', *others', shift, scale)``: the statistics come
    from the training data alone, so test data never influences the model.
    """
    fitted = fit_scaling(X_train, kind)
    return (apply_scaling(X_train, *fitted),
            *(apply_scaling(X, *fitted) for X in others), fitted.shift, fitted.scale)


def skewness(x) -> float:
    """Sample skewness E[(x - mean)^3] / std^3 of a 1-d array (0 for a symmetric distribution).

    It is unchanged by any z-score (or other positive affine) scaling: the shape stays.
    """
    x = np.asarray(x, dtype=float)
    z = x - x.mean()
    s = z.std()
    return float((z**3).mean() / s**3) if s > 0 else 0.0


def compare_scalings(X, y, kinds=SCALINGS, *, target_factor=1.01, n_steps=2000):
    """Fit a linear model with a bias by full-batch GD after each scaling; one dict per kind.

    Every run starts from w = 0, b = 0 with lr = 1/λ_max (half the largest stable rate:
    lessons 1 and 2 share this convention) and counts the steps until the loss is within
    ``target_factor`` of the best possible one. That best loss is the same for every affine
    scaling (it does not change what the model can predict); "log" changes the model, so
    its target is its own best loss. Keys: kind, label, cond (with bias), cond_no_bias,
    lr_max (2/λ_max), lr, steps (None if not reached in n_steps), final_loss, best_loss,
    target, estimated_steps (from the slowest direction, which shrinks by 1 - 1/κ per step),
    run (the GD run itself, to draw its loss curve). Used in lessons 1 and 2.
    """
    X = _as_2d(X)
    y = np.asarray(y, dtype=float)
    best = mse_loss(X, y, *least_squares(X, y, fit_bias=True))
    rows = []
    for kind in kinds:
        S = apply_scaling(X, *fit_scaling(X, kind))
        own_best = best if kind in AFFINE else mse_loss(S, y, *least_squares(S, y, fit_bias=True))
        target = target_factor * own_best
        lam = hessian_eigenvalues(S, fit_bias=True)
        cond = float(lam[-1] / lam[0])
        run = gradient_descent(S, y, 1.0 / lam[-1], n_steps, fit_bias=True)
        excess0 = run.losses[0] - own_best
        estimate = (np.log(excess0 / (target - own_best)) / (-2.0 * np.log1p(-1.0 / cond))
                    if cond > 1 else 1.0)
        rows.append({"kind": kind, "label": SCALING_LABELS[kind], "cond": cond,
                     "cond_no_bias": condition_number(S), "lr_max": float(2.0 / lam[-1]),
                     "lr": float(1.0 / lam[-1]), "steps": run.steps_to(target),
                     "final_loss": float(run.losses[-1]), "best_loss": float(own_best),
                     "target": float(target), "estimated_steps": float(estimate), "run": run})
    return rows


def outlier_shift(X, extra, kind: str = "zscore") -> float:
    """How far adding the rows ``extra`` (k, d) to the fitting data moves the scaled X (n, d).

    Fit ``kind`` on X, and on X with ``extra`` appended; scale X with both; return the
    largest change of any scaled value, in standard deviations of that scaled feature
    (as first fitted), so that every kind is measured in the same unit. Lesson 2.
    """
    X, extra = _as_2d(X), _as_2d(extra)
    before = apply_scaling(X, *fit_scaling(X, kind))
    after = apply_scaling(X, *fit_scaling(np.vstack([X, extra]), kind))
    return float((np.abs(after - before) / safe_scale(before.std(axis=0))).max())


def fit_whitening(X):
    """``(mean, W)``: (X - mean) @ W has mean 0 and covariance I (ZCA whitening, W = C^(-1/2)).

    C is the population covariance of X (n, d); unlike the z-score this also removes
    the correlation between features. Needs C to be invertible. Lesson 2.
    """
    X = _as_2d(X)
    mean = X.mean(axis=0)
    lam, V = np.linalg.eigh((X - mean).T @ (X - mean) / len(X))
    if lam[0] <= 1e-12 * max(lam[-1], 1e-300):
        raise ValueError("the covariance of X is singular: a feature is constant or a "
                         "combination of the others, so it cannot be whitened")
    return mean, (V / np.sqrt(lam)) @ V.T
