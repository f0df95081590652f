"""Lesson 5's figures and explorer: what they draw is the data they were given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.core import data, diagnostics, nn  # noqa: E402
from helpers.plots import norms  # noqa: E402
from helpers.widgets.diagnostics_explorer import DiagnosticsExplorer, frame  # noqa: E402


@pytest.fixture(scope="module")
def runs():
    X, y = data.spirals(n_per_class=20, seed=0)
    return {(n, lr): diagnostics.diagnose(nn.mlp([2, 8, 8, 3], norm=n, seed=0), X, y, lr=lr,
                                          n_epochs=4, batch_size=10, record_every=2,
                                          step_sizes=(0.1, 1.0))
            for n in (None, "batch") for lr in (0.1, 0.5)}


def test_norm_sweep_draws_medians_and_ranges():
    fig, ax = plt.subplots()
    norms.plot_norm_sweep([2, 32], {None: [0.5, 0.9], "layer": [0.6, 0.8]},
                          {None: ([0.4, 0.8], [0.6, 1.0]), "layer": ([0.5, 0.7], [0.7, 0.9])},
                          ax=ax, chance=1 / 3)
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["no normalization"].get_ydata(), [0.5, 0.9])
    np.testing.assert_allclose(lines["layer norm"].get_ydata(), [0.6, 0.8])
    assert lines["no normalization"].get_linestyle() != lines["layer norm"].get_linestyle()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "32"]
    plt.close(fig)


def test_diagnostics_and_landscape_figures(runs):
    fig, axes = plt.subplots(2, 2)
    norms.plot_diagnostics({"a": runs[None, 0.1], "b": runs["batch", 0.1]}, axes)
    d = runs["batch", 0.1]
    first = [line for line in axes[1, 1].get_lines() if line.get_label() == "layer 1"][0]
    np.testing.assert_allclose(first.get_ydata(), d.update_ratio[:, 0])
    assert axes[1, 0].get_ylim() == axes[1, 1].get_ylim()  # shared scale across runs
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    norms.plot_landscape({None: runs[None, 0.1], "batch": d}, axes)
    top = [line for line in axes[0].get_lines() if line.get_color() == norms.NORM_STYLE["batch"]["color"]]
    np.testing.assert_allclose(top[0].get_ydata(), d.landscape.max(axis=1))
    plt.close(fig)


def test_explorer_frame_is_the_selected_layer(runs):
    d = runs["batch", 0.5]
    f = frame(d, 2)
    np.testing.assert_array_equal(f["update_ratio"], d.update_ratio[:, 1])
    assert f["median_ratio"] == pytest.approx(np.median(d.update_ratio[:, 1]))


def test_explorer_controls_switch_run_and_layer(runs):
    explorer = DiagnosticsExplorer(runs, norm="batch", lr=0.1, layer=1)
    first_png = bytes(explorer.image.value)
    assert first_png.startswith(b"\x89PNG")
    explorer.layer.value = 3
    np.testing.assert_array_equal(explorer.state["grad_std"], runs["batch", 0.1].grad_std[:, 2])
    assert "Linear layer 3 (the output layer)" in explorer.status.value
    explorer.norm.value = None
    explorer.lr.value = 0.5
    np.testing.assert_array_equal(explorer.state["update_ratio"],
                                  runs[None, 0.5].update_ratio[:, 2])
    assert "no normalization, lr = 0.5" in explorer.status.value
    assert bytes(explorer.image.value) != first_png
    assert repr(explorer) == ("DiagnosticsExplorer: 4 training runs, 3 Linear layers "
                              "(open in JupyterLab to use it)")
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)


def test_fold_batchnorms_keeps_the_outputs():
    X, y = data.spirals(n_per_class=20, seed=1)
    model = nn.mlp([2, 8, 8, 3], norm="batch", seed=0)
    for _ in range(3):
        model.forward(X)  # move the running statistics away from 0 and 1
    from helpers.answers.l05 import fold_batchnorm
    folded = nn.fold_batchnorms(model, fold_batchnorm)
    assert [type(layer).__name__ for layer in folded.layers] == ["Linear", "ReLU"] * 2 + ["Linear"]
    model.eval()
    np.testing.assert_allclose(folded.forward(X), model.forward(X), atol=1e-12)
