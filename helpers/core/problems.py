"""Two-weight least-squares problems and the runs the lesson-1/2 explorers show (pure data).

:func:`make_problem` precomputes what does not depend on the learning rate (minimum,
Hessian eigenvalues, contour grid and levels) for a bias-free problem ``(X, y)`` with
two features; :func:`explore` runs GD or SGD on it and returns a plain dict
(trajectory, losses, condition number, ...). :func:`scale_problem` (lesson 1: income
in units of 10^k USD) and :func:`scaling_problem` (lesson 2: each scaling of
:mod:`helpers.core.scaling`) are the lessons' problems. Drawing is in
:mod:`helpers.plots.explorer`, the widget in :mod:`helpers.widgets.contour_explorer`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from helpers.core.data import age_income
from helpers.core.linreg import (
    gradient_descent,
    hessian_eigenvalues,
    least_squares,
    loss_grid,
    mse_loss,
    sgd,
)
from helpers.core.scaling import SCALING_LABELS, apply_scaling, fit_scaling

METHODS = ("GD", "SGD")

#: income units offered by the lesson-1 explorer: exponent k -> "10^k USD" label
INCOME_UNITS = {0: "USD", 1: "10 USD", 2: "100 USD", 3: "1,000 USD", 4: "10,000 USD",
                5: "100,000 USD"}


def weight_label(feature: str, unit: str) -> str:
    """Axis label of a weight with its unit, e.g. weight_label("age", "thousand USD per year")
    gives "w_age (thousand USD per year)". Lessons 1-2."""
    return f"w_{feature} ({unit})"

def contour_levels(grid, n: int = 12, floor=None):
    """Contour levels spaced geometrically above the minimum, so both the narrow valley
    and the far walls of a badly scaled bowl get lines. grid: (k, m) loss values."""
    lo = float(np.min(grid)) if floor is None else float(floor)
    span = float(np.max(grid)) - lo
    if not np.isfinite(span) or span <= 0:
        return np.array([lo, lo + 1.0])
    return lo + span * np.geomspace(1e-3, 1.0, n)


@dataclass(frozen=True)
class Problem:
    """A bias-free least-squares problem with two weights, ready to explore.

    X (n, 2), y (n,); labels: the two weight axis labels (with units); w_star (2,) the
    minimum and loss_star its loss; eigenvalues (2,) of the Hessian, ascending; lr_max =
    2/lambda_max; w1 (m,), w2 (m,) the plotting window; grid (m, m) the loss on it;
    levels the contour levels; w0 (2,) the starting point of every run.
    """

    X: np.ndarray
    y: np.ndarray
    labels: tuple
    title: str
    w_star: np.ndarray
    loss_star: float
    eigenvalues: np.ndarray
    lr_max: float
    w1: np.ndarray
    w2: np.ndarray
    grid: np.ndarray
    levels: np.ndarray
    w0: np.ndarray

    @property
    def condition_number(self) -> float:
        return float(self.eigenvalues[-1] / self.eigenvalues[0])


def make_problem(X, y, labels=("w_1", "w_2"), title="", *, n_grid=50, start=(-0.8, 0.7),
                 n_levels=12):
    """Precompute a :class:`Problem` for X (n, 2), y (n,).

    The window is a square of half-width R = 1.25 max|w*| around the minimum w*, so
    that equal axis units show the true shape of the bowl; runs start at
    w* + R * start.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"the explorer needs exactly 2 features, got X of shape {X.shape}")
    w_star, _ = least_squares(X, y)
    radius = 1.25 * float(np.abs(w_star).max()) or 1.0
    w1 = np.linspace(w_star[0] - radius, w_star[0] + radius, n_grid)
    w2 = np.linspace(w_star[1] - radius, w_star[1] + radius, n_grid)
    grid = loss_grid(X, y, w1, w2)
    loss_star = mse_loss(X, y, w_star)
    lam = hessian_eigenvalues(X)
    return Problem(X, y, tuple(labels), title, w_star, loss_star, lam, float(2.0 / lam[-1]),
                   w1, w2, grid, contour_levels(grid, n_levels, floor=loss_star),
                   w_star + radius * np.asarray(start, dtype=float))


def explore(problem: Problem, lr_fraction: float, method: str = "GD", n_steps: int = 30,
            seed: int = 0) -> dict:
    """Run GD (full batch) or SGD (one example per update, as many updates as GD steps)
    from ``problem.w0`` with lr = lr_fraction * 2/lambda_max. Pure: returns plain data.

    Keys: method, lr_fraction, lr, lr_max, condition_number, eigenvalues, ws (k+1, 2),
    losses (k+1,), final_loss, loss_star, diverged, diverged_at, n_steps, problem.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    lr = float(lr_fraction) * problem.lr_max
    if method == "GD":
        run = gradient_descent(problem.X, problem.y, lr, n_steps, w0=problem.w0)
    else:
        run = sgd(problem.X, problem.y, lr, n_epochs=n_steps // len(problem.y) + 1,
                  batch_size=1, w0=problem.w0, seed=seed, n_updates=n_steps)
    return {
        "method": method, "lr_fraction": float(lr_fraction), "lr": lr,
        "lr_max": problem.lr_max, "condition_number": problem.condition_number,
        "eigenvalues": problem.eigenvalues, "ws": run.ws, "losses": run.losses,
        "final_loss": float(run.losses[-1]), "loss_star": problem.loss_star,
        "diverged": run.diverged, "diverged_at": run.diverged_at, "n_steps": n_steps,
        "problem": problem,
    }


def describe(state: dict) -> str:
    """One line summarising a state from :func:`explore` (shown under the figure)."""
    head = (f"{state['method']}: α = {state['lr_fraction']:.2f} × 2/λ_max = {state['lr']:.3g}; "
            f"condition number {state['condition_number']:.3g}; ")
    if state["diverged"]:
        return head + f"diverged at step {state['diverged_at']}."
    text = head + (f"loss after {len(state['losses']) - 1} steps {state['final_loss']:.4g} "
                   f"(minimum {state['loss_star']:.4g}).")
    p = state.get("problem")
    if p is not None:  # the explorer's window is fixed: say when the path leaves it
        ws = np.asarray(state["ws"])
        inside = ((ws[:, 0] >= p.w1[0]) & (ws[:, 0] <= p.w1[-1])
                  & (ws[:, 1] >= p.w2[0]) & (ws[:, 1] <= p.w2[-1]))
        if not inside.all():
            text += f" {int((~inside).sum())} of {len(ws)} points lie outside the window."
    return text


def fit_window(problem: Problem, ws) -> Problem:
    """The problem with its square window grown (around the minimum) until it holds every
    finite point of the trajectory ws (k+1, 2), contours recomputed; unchanged if it
    already does. For static figures, so that an erratic SGD path is not cut off."""
    p = problem
    ws = np.asarray(ws, dtype=float)
    ws = ws[np.isfinite(ws).all(axis=1)]
    radius = (p.w1[-1] - p.w1[0]) / 2
    need = 1.05 * float(np.abs(ws - p.w_star).max(initial=0.0))
    if need <= radius:
        return p
    w1 = np.linspace(p.w_star[0] - need, p.w_star[0] + need, len(p.w1))
    w2 = np.linspace(p.w_star[1] - need, p.w_star[1] + need, len(p.w2))
    grid = loss_grid(p.X, p.y, w1, w2)
    return replace(p, w1=w1, w2=w2, grid=grid,
                   levels=contour_levels(grid, len(p.levels), floor=p.loss_star))


def zoom_window(problem: Problem, ws, margin: float = 0.1) -> Problem:
    """The problem seen through a window around the trajectory ws (k+1, 2) only: not square,
    not around the minimum, contours recomputed for it. Where a path's steps are tiny along
    one weight (raw features), this shows its zigzag; draw it with a free aspect ratio."""
    ws = np.asarray(ws, dtype=float)
    ws = ws[np.isfinite(ws).all(axis=1)]
    lo, hi = ws.min(axis=0), ws.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-9 * np.maximum(np.abs(hi), 1e-12))
    w1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], len(problem.w1))
    w2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], len(problem.w2))
    grid = loss_grid(problem.X, problem.y, w1, w2)
    return replace(problem, w1=w1, w2=w2, grid=grid,
                   levels=contour_levels(grid, len(problem.levels)))


@cache
def scale_problem(income_exp: int, n: int = 200, seed: int = 0) -> Problem:
    """Lesson 1's problem: age (years) and income measured in units of 10^income_exp USD."""
    X, y = age_income(n=n, seed=seed)
    unit = INCOME_UNITS.get(income_exp, f"10^{income_exp} USD")
    labels = (weight_label("age", "thousand USD per year"),
              weight_label("income", f"thousand USD per {unit}"))
    return make_problem(X / [1.0, 10.0**income_exp], y, labels,
                        title=f"income measured in units of {unit}")


def explore_scale(income_exp: int, lr_fraction: float, method: str = "GD", n_steps: int = 30,
                  seed: int = 0) -> dict:
    """Pure core of :func:`scale_explorer`: the state drawn for these slider values."""
    return explore(scale_problem(int(income_exp)), lr_fraction, method, n_steps, seed)


#: units of the two weights after each scaling of helpers.scaling (lesson 2's explorer)
SCALING_WEIGHT_UNITS = {
    "none": ("thousand USD per year", "thousand USD per USD"),
    "center": ("thousand USD per year", "thousand USD per USD"),
    "scale": ("thousand USD per std of age", "thousand USD per std of income"),
    "zscore": ("thousand USD per std of age", "thousand USD per std of income"),
    "minmax": ("thousand USD per age range", "thousand USD per income range"),
    "robust": ("thousand USD per IQR of age", "thousand USD per IQR of income"),
    "log": ("thousand USD per std of age", "thousand USD per std of log income"),
}


@cache
def scaling_problem(kind: str, n: int = 200, seed: int = 0) -> Problem:
    """Lesson 2's problem: the age/income data after the scaling ``kind`` of helpers.scaling.

    The explorer has two weights. With inputs centred at their mean ("center", "zscore",
    "log") the best bias is exactly the mean spending ȳ whatever the weights, so y - ȳ is
    used (bias fixed at its optimum). "robust" centres at the median, near the mean: its
    bias is kept at its best value for each w, b = ȳ - x̄·w, which is the same as centring
    the scaled inputs at their mean. Otherwise there is no bias, as in the lecture and
    lesson 1.
    """
    X, y = age_income(n=n, seed=seed)
    S = apply_scaling(X, *fit_scaling(X, kind))
    units = SCALING_WEIGHT_UNITS[kind]
    labels = (weight_label("age", units[0]), weight_label("income", units[1]))
    if kind in ("center", "zscore", "log"):
        return make_problem(S, y - y.mean(), labels, title=f"{SCALING_LABELS[kind]}, bias b = ȳ")
    if kind == "robust":
        return make_problem(S - S.mean(axis=0), y - y.mean(), labels,
                            title=f"{SCALING_LABELS[kind]}, bias b = ȳ − x̄·w")
    return make_problem(S, y, labels, title=f"{SCALING_LABELS[kind]}, no bias")


def explore_scaling(kind: str, lr_fraction: float, method: str = "GD", n_steps: int = 30,
                    seed: int = 0) -> dict:
    """Pure core of :func:`scaling_explorer`: the state drawn for these control values."""
    return explore(scaling_problem(kind), lr_fraction, method, n_steps, seed)
