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
==========  ==================  =====================

Standard deviations are population ones (divide by n, ``ddof=0``), as in the
lecture's formula, NumPy's default and scikit-learn's ``StandardScaler``.
A zero scale (a constant feature) is replaced by 1, as scikit-learn does: the
constant feature is then centred to 0 instead of becoming NaN (0/0).

Used in lesson 2 (02_standardization).
"""

from __future__ import annotations

import numpy as np

from helpers.answers.l02 import zscore_fit
from helpers.core.linreg import (
    condition_number,
    gradient_descent,
    hessian_eigenvalues,
    least_squares,
    mse_loss,
)

#: the scalings compared in lesson 2, in display order
SCALINGS = ("none", "center", "scale", "zscore", "minmax")
#: human-readable names for tables, legends and the widget
SCALING_LABELS = {
    "none": "none (raw)",
    "center": "centering only",
    "scale": "scaling only (÷ std)",
    "zscore": "z-score (both)",
    "minmax": "min–max to [0, 1]",
}


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


def fit_scaling(X, kind: str = "zscore"):
    """``(shift, scale)``, each (d,), of the scaling ``kind`` (see :data:`SCALINGS`) fitted on X.

    A zero scale is already replaced by 1, so :func:`apply_scaling` never divides by 0.
    """
    X = _as_2d(X)
    d = X.shape[1]
    if kind == "none":
        return np.zeros(d), np.ones(d)
    if kind == "center":
        return X.mean(axis=0), np.ones(d)
    if kind == "scale":
        return np.zeros(d), safe_scale(X.std(axis=0))
    if kind == "zscore":  # lesson 2's exercise: the course's own z-score
        mean, std = zscore_fit(X)
        return mean, safe_scale(std)
    if kind == "minmax":
        lo = X.min(axis=0)
        return lo, safe_scale(X.max(axis=0) - lo)
    raise ValueError(f"unknown scaling {kind!r}; choose one of {', '.join(SCALINGS)}")


def apply_scaling(X, shift, scale) -> np.ndarray:
    """``(X - shift) / scale`` as a new array; X (n, d) -> (n, d)."""
    return (_as_2d(X) - np.asarray(shift, float)) / safe_scale(scale)


def scale_features(X_train, *others, kind: str = "zscore"):
    """Fit ``kind`` on ``X_train`` only and apply it to X_train and each of ``others``.

    Returns a tuple ``(X_train', *others', shift, scale)``: the statistics come
    from the training data alone, so test data never influences the model.
    """
    shift, scale = fit_scaling(X_train, kind)
    return (apply_scaling(X_train, shift, scale),
            *(apply_scaling(X, shift, scale) for X in others), shift, scale)


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

    Every run starts from w = 0, b = 0 with lr = 1/λ_max (half the largest stable rate)
    and counts the steps until the loss is within ``target_factor`` of the best possible
    one (the same for every scaling: an affine rescaling does not change what the model
    can predict). Keys: kind, label, cond (with bias), cond_no_bias, lr_max (2/λ_max), lr,
    steps (None if not reached in n_steps), final_loss, target, estimated_steps (from the
    slowest direction, which shrinks by 1 - 1/κ per step). Used in lesson 2.
    """
    X = _as_2d(X)
    y = np.asarray(y, dtype=float)
    best = mse_loss(X, y, *least_squares(X, y, fit_bias=True))
    target = target_factor * best
    rows = []
    for kind in kinds:
        S = apply_scaling(X, *fit_scaling(X, kind))
        lam = hessian_eigenvalues(S, fit_bias=True)
        cond = float(lam[-1] / lam[0])
        run = gradient_descent(S, y, 1.0 / lam[-1], n_steps, fit_bias=True)
        excess0 = run.losses[0] - best
        estimate = (np.log(excess0 / (target - best)) / (-2.0 * np.log1p(-1.0 / cond))
                    if cond > 1 else 1.0)
        rows.append({"kind": kind, "label": SCALING_LABELS[kind], "cond": cond,
                     "cond_no_bias": condition_number(S), "lr_max": float(2.0 / lam[-1]),
                     "lr": float(1.0 / lam[-1]), "steps": run.steps_to(target),
                     "final_loss": float(run.losses[-1]), "target": float(target),
                     "estimated_steps": float(estimate)})
    return rows
