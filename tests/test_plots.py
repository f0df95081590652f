"""helpers.plots (style, linreg): artists exist, axes carry units, colours are Okabe-Ito, no import side effects."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from helpers.answers.l01 import max_stable_learning_rate  # noqa: E402
from helpers.core import problems  # noqa: E402
from helpers.core.data import age_income  # noqa: E402
from helpers.core.linreg import gradient_descent, loss_grid, lr_sweep  # noqa: E402
from helpers.plots import linreg, style  # noqa: E402

OKABE = {v.lower() for v in style.OKABE_ITO.values()}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def problem():
    X, y = age_income(n=100)
    X = X / [1, 1000]
    w1, w2 = np.linspace(-0.05, 0.15, 30), np.linspace(-0.08, 0.12, 30)
    return X, y, w1, w2, loss_grid(X, y, w1, w2)


def _has_unit(label):
    return "(" in label and ")" in label and label.index("(") < label.rindex(")")


def test_import_changes_no_global_state():
    # read the stored values: dict(rcParams) would resolve the backend, which imports pyplot
    code = ("import sys, matplotlib as mpl; "
            "snap = lambda: {k: dict.__getitem__(mpl.rcParams, k) for k in mpl.rcParams}; "
            "before = snap(); "
            "import helpers.plots.style, helpers.plots.linreg, helpers.plots.explorer, "
            "helpers.plots.network, helpers.widgets.contour_explorer; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
            "assert snap() == before, 'rcParams changed'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_course_style_is_explicit():
    with matplotlib.rc_context():
        style.use_course_style()
        assert matplotlib.rcParams["figure.dpi"] == 80
        colours = [c["color"].lower() for c in matplotlib.rcParams["axes.prop_cycle"]]
        assert set(colours) <= OKABE


def test_palette_and_styles_distinguishable():
    assert len(set(style.CYCLE)) == len(style.CYCLE)
    assert linreg.METHOD_STYLE["GD"][1] != linreg.METHOD_STYLE["SGD"][1]  # not colour alone
    assert {linreg.METHOD_STYLE[m][0].lower() for m in ("GD", "SGD")} <= OKABE


def test_contours_with_trajectories(problem):
    X, y, w1, w2, grid = problem
    run = gradient_descent(X, y, 0.5 * max_stable_learning_rate(X), 20, w0=[0.0, 0.08])
    label_x = problems.weight_label("age", "thousand USD per year")
    ax = linreg.plot_contour_trajectories(w1, w2, grid, {"GD": run, "SGD": run.ws[::2]},
                                         xlabel=label_x, ylabel="w_income (per kUSD)",
                                         w_star=[0.05, 0.02])
    assert ax.get_xlabel() == "w_age (thousand USD per year)"
    assert _has_unit(ax.get_ylabel())
    assert ax.collections, "no contour lines drawn"
    labels = [line.get_label() for line in ax.lines]
    assert "GD" in labels and "SGD" in labels and "minimum" in labels
    assert labels.count("start") == 2 and sum(lb.startswith("end") for lb in labels) == 2
    gd = next(line for line in ax.lines if line.get_label() == "GD")
    np.testing.assert_allclose(gd.get_xydata(), run.ws)
    assert ax.get_legend() is not None
    assert {to_hex(line.get_color()) for line in ax.lines if line.get_label() in ("GD", "SGD")} \
        <= OKABE


def test_contour_levels_are_increasing_and_above_minimum(problem):
    *_, grid = problem
    lv = problems.contour_levels(grid, 10)
    assert len(lv) == 10 and np.all(np.diff(lv) > 0) and lv[0] > grid.min()
    assert len(problems.contour_levels(np.ones((3, 3)))) == 2  # flat grid: still valid levels


def test_loss_curves_log_scale_and_divergence_marker(problem):
    X, y, *_ = problem
    lr = max_stable_learning_rate(X)
    runs = {"below": gradient_descent(X, y, 0.9 * lr, 100),
            "above": gradient_descent(X, y, 1.1 * lr, 1000)}
    ax = linreg.plot_loss_curves(runs, target=0.1)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step" and _has_unit(ax.get_ylabel())
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "above (diverged)" in texts and any("target" in t for t in texts)
    assert any(line.get_marker() == "^" for line in ax.lines)


def test_lr_sweep_plot(problem):
    X, y, *_ = problem
    sweep = lr_sweep(X, y, np.geomspace(1e-6, 1e-2, 6), n_steps=50, target_loss=0.1)
    for quantity in ("steps", "final_loss"):
        fig, ax = plt.subplots()
        out = linreg.plot_lr_sweep({"thousand USD": sweep}, ax, quantity=quantity, target=0.1)
        assert out is ax and ax.get_xscale() == "log"
        assert "learning rate" in ax.get_xlabel()
        assert ax.lines
    with pytest.raises(ValueError):
        linreg.plot_lr_sweep({"x": sweep}, quantity="nope")


def test_functions_draw_on_given_ax_and_return_it(problem):
    X, y, w1, w2, grid = problem
    fig, axes = style.subplots(2)
    assert len(axes) == 2
    assert linreg.plot_contours(w1, w2, grid, axes[1]) is axes[1]
    assert style.get_ax(axes[0]) is axes[0]
    assert linreg.plot_trajectory(np.zeros((3, 2)), axes[0]) is axes[0]


def test_power_of_ten_labels_are_plain_text():
    assert style.power_of_ten(1e-12) == "10⁻¹²" and style.power_of_ten(100.0) == "10²"
    assert style.power_of_ten(0.0) == "0" and style.power_of_ten(3e5) == ""
    assert style.power_of_ten(-1000.0) == "−10³"
    _, ax = plt.subplots()
    ax.plot([1, 2, 3], [1e-3, 1.0, 1e3])
    ax.set_yscale("log")
    style.power_of_ten_labels(ax)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "10⁰" in labels and not any("$" in t for t in labels)
