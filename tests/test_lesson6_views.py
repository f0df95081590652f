"""Lesson 6's figures: the block drawing follows the axes it is given, the studies' plots
carry labels with units, Okabe-Ito colours with markers or line styles, plain log labels."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from helpers.answers.l06 import family_axes  # noqa: E402
from helpers.plots import modern, style  # noqa: E402

OKABE = {v.lower() for v in style.OKABE_ITO.values()}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_statistic_cells_of_the_four_normalizations():
    fam = family_axes()
    N, C, S = 3, 6, 4
    batch = modern.statistic_cells(fam["batch"])
    assert batch.shape == (N, C, S) and batch.sum() == N * S and batch[:, 1].all()
    layer = modern.statistic_cells(fam["layer"])
    assert layer.sum() == C * S and layer[0].all()
    instance = modern.statistic_cells(fam["instance"])
    assert instance.sum() == S and instance[0, 1].all()
    group = modern.statistic_cells(fam["group"], grouped=True)
    assert group.sum() == 2 * S and group[0, 2:4].all()  # group 1 = channels 2 and 3
    assert modern.statistic_cells((0, 1, 2, 3)).all()
    np.testing.assert_array_equal(modern.statistic_cells((-4, -2, -1)), batch)
    with pytest.raises(ValueError):
        modern.statistic_cells((0, 4))


def test_the_block_drawing_fills_the_visible_cells_of_the_statistic():
    mask = modern.statistic_cells((1, 2, 3))  # layer norm: example 0
    polys, flags = modern._faces(mask)
    N, C, S = mask.shape
    assert len(polys) == C * S + N * C + N * S
    assert flags[:C * S].all()                          # the whole front face
    assert flags[C * S:C * S + C].all() and not flags[C * S + C:C * S + N * C].any()  # top: n = 0


def test_norm_family_figure_follows_the_learners_axes_and_survives_nonsense():
    axes = modern.plot_norm_family({**family_axes(), "layer": (7,), "group": "no"})
    titles = [ax.get_title() for ax in axes]
    assert titles[0] == "batch norm: axes (0, 2, 3)"
    assert "do not fit" in titles[1] and "do not fit" in titles[3]
    filled = [sum(to_hex(c) == style.OKABE_ITO["blue"].lower()
                  for c in ax.collections[0].get_facecolors()) for ax in axes]
    assert filled[0] > 0 and filled[1] == 0 and filled[2] > 0 and filled[3] == 0
    assert len(modern.plot_norm_family("not a dict")) == 4


def test_runs_plot_median_band_labels_and_smoothing():
    rng = np.random.default_rng(0)
    curves = {"γ = 1": rng.uniform(1, 3, size=(30, 10)), "γ = 0": rng.uniform(0.5, 1, size=(30, 10))}
    ax = modern.plot_runs(curves, ylabel="training loss (cross-entropy, nats)", log=True, smooth=5)
    lines = [ln for ln in ax.lines if "median" in ln.get_label()]
    assert len(lines) == 2 and lines[0].get_linestyle() != lines[1].get_linestyle()
    assert {to_hex(ln.get_color()) for ln in lines} <= OKABE
    x, y = lines[0].get_data()
    assert x[0] == 5 and len(x) == 26
    np.testing.assert_allclose(y, np.median(modern.moving_average(curves["γ = 1"], 5), axis=1))
    assert "10 seeds" in lines[0].get_label() and "averaged over 5 steps" in ax.get_xlabel()
    assert ax.get_yscale() == "log" and "nats" in ax.get_ylabel()


def test_moving_average():
    v = np.arange(10.0)[:, None]
    np.testing.assert_allclose(modern.moving_average(v, 3)[:, 0], np.arange(1.0, 9.0))
    np.testing.assert_array_equal(modern.moving_average(v, 1), v)


def test_plain_log_labels():
    _, ax = plt.subplots()
    ax.plot([1, 2], [0.1, 5.0])
    modern.plain_log_axis(ax)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "0.2" in labels and "1" in labels and not any("$" in t or "10" in t for t in labels)


def test_by_position_spread_and_seed_dots():
    rng = np.random.default_rng(1)
    ax = modern.plot_by_position({"post-LN": rng.uniform(1, 3, (16, 10))}, xlabel="block",
                                 ylabel="‖dL/dW‖ (dimensionless)")
    assert ax.get_yscale() == "log" and ax.get_legend() is not None
    ax = modern.plot_spread([2, 4, 8, 16], {"typical": [0.9, 0.6, 0.4, 0.25]}, rule_from="typical")
    rule = next(ln for ln in ax.lines if "rule" in ln.get_label())
    np.testing.assert_allclose(rule.get_ydata(), 0.25 * np.sqrt(16 / np.array([2, 4, 8, 16])))
    assert "examples" in ax.get_xlabel() and "no unit" in ax.get_ylabel()
    ax = modern.plot_seed_dots({"a": rng.uniform(size=10), "b": rng.uniform(size=10)},
                               xlabel="test accuracy (fraction)", chance=0.25)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    markers = {c.get_paths()[0].vertices.shape for c in ax.collections}
    assert len(markers) == 2  # the rows differ by marker, not only by colour
