"""The course's data sets; generated from a seeded process or read from a shipped CSV.

Nothing is downloaded: the course works offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

IRIS_FEATURES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                 "petal width (cm)")
IRIS_SPECIES = ("setosa", "versicolor", "virginica")

#: true weights of the age/income process: thousand USD per year, per USD
AGE_INCOME_TRUE_W = np.array([0.05, 0.00002])


def age_income(n: int = 200, seed: int = 0, noise: float = 0.3):
    """The lecture's data set: age and income predicting monthly spending.

    Generating process (documented so learners can reason about it):

    - age    ~ Uniform(10, 50) years
    - income ~ LogNormal(median 40,000 USD * exp(0.02 * (age - 30)), sigma 0.6),
      clipped to [10,000, 500,000] USD: right-skewed, like real incomes
    - y      = 0.05 * age + 0.00002 * income + Normal(0, noise), in thousand USD
      of monthly spending (no intercept: the lecture ignores the bias)

    Returns ``X`` of shape (n, 2) with columns (age in years, income in USD) and
    ``y`` of shape (n,). Used in lessons 1 and 2.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(seed)
    age = rng.uniform(10, 50, size=n)
    log_income = np.log(40_000) + 0.02 * (age - 30) + 0.6 * rng.standard_normal(n)
    income = np.clip(np.exp(log_income), 10_000, 500_000)
    X = np.column_stack([age, income])
    y = X @ AGE_INCOME_TRUE_W + noise * rng.standard_normal(n)
    return X, y


@dataclass(frozen=True)
class Iris:
    """Iris measurements: ``X`` (150, 4) in cm, ``y`` (150,) species index 0-2."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple = IRIS_FEATURES
    species: tuple = IRIS_SPECIES


def load_iris() -> Iris:
    """Fisher's iris flowers from the CSV shipped in ``helpers/core/datasets``. Used in lesson 2."""
    path = Path(__file__).parent / "datasets" / "iris.csv"
    table = np.loadtxt(path, delimiter=",", skiprows=2)
    return Iris(X=table[:, :4].copy(), y=table[:, 4].astype(int))


def spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one class per arm: a task a linear model cannot solve.

    Generating process: for arm c, radius r ~ Uniform(0, 1) and angle
    t = 4·r + 2π·c / n_classes + noise·N(0, 1); x = r·(sin t, cos t).
    Returns X (n, 2), roughly zero-mean with both features in [-1, 1], and
    y (n,) class indices. Used in lesson 3 (use another seed for a test set).
    """
    rng = np.random.default_rng(seed)
    r = rng.uniform(0, 1, size=(n_classes, n_per_class))
    t = 4.0 * r + 2 * np.pi * np.arange(n_classes)[:, None] / n_classes
    t = t + noise * rng.standard_normal(t.shape)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=-1).reshape(-1, 2)
    y = np.repeat(np.arange(n_classes), n_per_class)
    order = rng.permutation(len(y))
    return X[order], y[order]


#: the four classes of :func:`bars`
BAR_CLASSES = ("horizontal", "vertical", "diagonal ↘", "diagonal ↗")


def bars(n=256, size=8, length=4, noise=0.3, seed=0):
    """Small grey images of one short bar each; the class is the bar's direction.

    Generating process: class c ~ uniform over :data:`BAR_CLASSES`; a bar of ``length``
    pixels of brightness 1 in that direction, at a uniformly random position inside the
    ``size`` × ``size`` image; then Gaussian noise of standard deviation ``noise`` on
    every pixel. Returns X (n, 1, size, size), one channel as PyTorch's Conv2d expects,
    and y (n,) class indices. The position carries no information: a small convolution
    (the same filter at every position) can solve it. Used in lesson 6.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    steps = np.array([(0, 1), (1, 0), (1, 1), (-1, 1)])[y]            # (row, column) per pixel
    span = size - length + 1
    start_row = rng.integers(0, span, size=n) + np.where(steps[:, 0] < 0, length - 1, 0)
    start_col = rng.integers(0, span, size=n)
    X = noise * rng.standard_normal((n, 1, size, size))
    along = np.arange(length)
    rows = start_row[:, None] + steps[:, :1] * along
    cols = start_col[:, None] + steps[:, 1:] * along
    X[np.arange(n)[:, None], 0, rows, cols] += 1.0
    return X, y


def torch_reference() -> dict:
    """PyTorch's numbers for lesson 5, from ``helpers/core/datasets/torch_reference.json``.

    Keys "layernorm", "batchnorm1d", "fold": lists of cases (dicts of arrays and numbers),
    made by ``tests/make_torch_reference.py`` with PyTorch (float64), which the course
    does not need to run. Weights follow the course: W (d_in, d_out) for y = X @ W + b.
    """
    import json

    raw = json.loads((Path(__file__).parent / "datasets" / "torch_reference.json").read_text())

    def arrays(case):
        return {k: np.array(v, dtype=float) if isinstance(v, list) else v for k, v in case.items()}

    return {k: [arrays(c) for c in v] if isinstance(v, list) else v for k, v in raw.items()}
