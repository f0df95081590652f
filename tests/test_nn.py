"""helpers.core.nn, training, gradcheck: every layer's backward pass against finite differences, PyTorch's batch-norm
convention, losses, the training loop's divergence report and activation records."""

import warnings

import numpy as np
import pytest

from helpers.answers import fallback, l04
from helpers.answers import l03 as course
from helpers.core import data, gradcheck, nn, training

TOL = 1e-6


def test_linear_gradients():
    layer = nn.Linear(4, 3, rng=np.random.default_rng(1))
    layer.params["b"][:] = [0.1, -0.2, 0.3]
    errors = gradcheck.gradient_check(layer, np.random.default_rng(2).normal(size=(5, 4)))
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < TOL, errors


def test_linear_without_bias():
    layer = nn.Linear(4, 3, bias=False)
    assert set(layer.params) == {"W"}
    assert max(gradcheck.gradient_check(layer, np.ones((2, 4))).values()) < TOL


def test_relu_gradient_away_from_kink():
    x = np.random.default_rng(3).normal(size=(6, 5))
    x[np.abs(x) < 0.05] = 0.5  # finite differences are wrong across the kink at 0
    assert gradcheck.gradient_check(nn.ReLU(), x)["x"] < TOL


@pytest.mark.parametrize("n", [2, 3, 16])
def test_batchnorm_training_gradients(n):
    bn = nn.BatchNorm(4)
    rng = np.random.default_rng(n)
    bn.params["gamma"][:] = rng.normal(size=4)
    bn.params["beta"][:] = rng.normal(size=4)
    errors = gradcheck.gradient_check(bn, rng.normal(2.0, 3.0, size=(n, 4)))
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < 1e-5, errors


def test_batchnorm_eval_gradients():
    bn = nn.BatchNorm(3)
    bn.running_mean[:] = [1.0, -1.0, 0.5]
    bn.running_var[:] = [4.0, 0.25, 1.0]
    bn.training = False
    errors = gradcheck.gradient_check(bn, np.random.default_rng(0).normal(size=(5, 3)))
    assert max(errors.values()) < TOL, errors


def test_batchnorm_forward_is_zscore_with_eps_inside_sqrt():
    X = np.random.default_rng(0).normal(5.0, 2.0, size=(8, 3))
    out = nn.BatchNorm(3).forward(X)
    expected = (X - X.mean(0)) / np.sqrt(X.var(0) + 1e-5)  # biased variance
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)


def test_batchnorm_running_stats_follow_pytorch():
    X = np.random.default_rng(0).normal(5.0, 2.0, size=(8, 3))
    bn = nn.BatchNorm(3)
    bn.forward(X)
    np.testing.assert_allclose(bn.running_mean, 0.9 * 0 + 0.1 * X.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.9 * 1 + 0.1 * X.var(0, ddof=1))
    # worked by hand for [[1], [2], [4]]: mean 7/3, unbiased var 7/3, biased var 14/9
    bn1 = nn.BatchNorm(1)
    out = bn1.forward(np.array([[1.0], [2.0], [4.0]]))
    np.testing.assert_allclose(bn1.running_mean, [0.23333333], rtol=1e-6)
    np.testing.assert_allclose(bn1.running_var, [1.13333333], rtol=1e-6)
    np.testing.assert_allclose(out[:, 0], [-1.0690, -0.2673, 1.3363], atol=1e-4)


def test_batchnorm_eval_uses_running_stats_and_update_flag():
    bn = nn.BatchNorm(2)
    bn.running_mean[:] = [1.0, 2.0]
    bn.running_var[:] = [4.0, 9.0]
    bn.training = False
    out = bn.forward(np.array([[3.0, 5.0]]))  # one example works in eval mode
    np.testing.assert_allclose(out, [[2 / np.sqrt(4 + 1e-5), 3 / np.sqrt(9 + 1e-5)]])
    bn.training, bn.update_running = True, False
    bn.forward(np.ones((4, 2)) * [7.0, 8.0])
    np.testing.assert_array_equal(bn.running_mean, [1.0, 2.0])


def test_batchnorm_refuses_one_example_in_training_mode():
    with pytest.raises(ValueError, match="at least 2 examples"):
        nn.BatchNorm(2).forward(np.ones((1, 2)))


def test_whole_model_gradients_with_batchnorm():
    model = nn.mlp([3, 5, 4, 2], batchnorm=True, seed=1)
    x = np.random.default_rng(4).normal(size=(6, 3))
    errors = gradcheck.gradient_check(model, x)
    assert max(errors.values()) < 1e-5, errors


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_loss_gradients(loss):
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 3))
    y = rng.integers(0, 3, size=6) if loss == "cross_entropy" else rng.normal(size=(6, 3))
    value, grad = nn.LOSSES[loss](logits, y)
    num = gradcheck.numerical_gradient(lambda: nn.LOSSES[loss](logits, y)[0], logits)
    assert gradcheck.rel_error(grad, num) < TOL


def test_cross_entropy_values_and_stability():
    loss, _ = nn.softmax_cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2, 0]))
    assert loss == pytest.approx(np.log(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = nn.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0) and np.isfinite(grad).all()


def test_mse_accepts_flat_targets():
    loss, grad = nn.mse(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(2.5)
    np.testing.assert_allclose(grad, [[1.0], [2.0]])


def test_mlp_structure():
    model = nn.mlp([2, 8, 8, 3], batchnorm=True)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "BatchNorm", "ReLU", "Linear", "BatchNorm", "ReLU", "Linear"]
    assert model.hidden_indices() == [2, 5]
    assert "b" not in model.layers[0].params and "b" in model.layers[-1].params
    a, b = nn.mlp([2, 8, 3], seed=3), nn.mlp([2, 8, 3], seed=3)
    np.testing.assert_array_equal(a.layers[0].params["W"], b.layers[0].params["W"])
    w = nn.mlp([400, 400, 3], init_scale=2.0).layers[0].params["W"]
    assert w.std() == pytest.approx(2.0 * np.sqrt(2 / 400), rel=0.02)


def test_train_learns_spirals_and_is_reproducible():
    X, y = data.spirals(60, seed=0)
    runs = []
    for _ in range(2):
        model = nn.mlp([2, 32, 32, 3], seed=0)
        h = training.train(model, X, y, loss="cross_entropy", lr=0.1, n_epochs=30, batch_size=20)
        runs.append(h.loss)
    assert not h.diverged and h.loss.shape == (30,)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert h.loss[-1] < 0.5 * h.loss[0]
    assert training.accuracy(model, X, y) > 0.8
    assert model.training  # accuracy() restores the mode


def test_train_mse_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = X @ [1.0, -2.0] + 0.5
    h = training.train(nn.mlp([2, 1]), X, y, loss="mse", lr=0.05, n_epochs=40, batch_size=10)
    assert h.final_loss < 1e-3


def test_divergence_is_reported_without_warnings():
    X, y = data.spirals(50, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = training.train(nn.mlp([2, 32, 32, 3], init_scale=3.0), X, y, loss="cross_entropy",
                     lr=5.0, n_epochs=5, batch_size=10)
    assert h.diverged and "diverged at step" in h.message
    assert np.isnan(h.loss[-1]) and np.isnan(h.final_loss)


def test_activation_records():
    X, y = data.spirals(40, seed=0)
    model = nn.mlp([2, 16, 16, 3], batchnorm=True)
    h = training.train(model, X, y, loss="cross_entropy", lr=0.1, n_epochs=2, batch_size=30,
                 record_activations=True, record_every=2, n_samples=100)
    assert list(h.steps) == [0, 2, 4, 6, 8]  # 4 batches per epoch
    assert h.act_mean.shape == h.act_std.shape == (5, 2)
    assert h.act_samples.shape == (5, 2, 100) and h.act_samples.dtype == np.float32
    # at initialization batch norm's output on the probe is standardized (gamma=1, beta=0)
    assert np.allclose(h.act_mean[0], 0, atol=1e-6) and np.allclose(h.act_std[0], 1, atol=1e-3)


def test_hidden_preactivations_leave_model_untouched():
    model = nn.mlp([2, 4, 3], batchnorm=True).eval()
    before = model.batchnorms()[0].running_mean.copy()
    acts = training.hidden_preactivations(model, np.random.default_rng(0).normal(size=(10, 2)))
    assert len(acts) == 1 and acts[0].shape == (10, 4)
    assert not model.training
    np.testing.assert_array_equal(model.batchnorms()[0].running_mean, before)


def test_batches_of_one_are_skipped_with_batchnorm():
    X, y = data.spirals(7, seed=0)  # 21 examples, batch 4: the last batch has 1 example
    h = training.train(nn.mlp([2, 4, 3], batchnorm=True), X, y, loss="cross_entropy", lr=0.1,
                 n_epochs=1, batch_size=4)
    assert len(h.step_loss) == 5 and not h.diverged


def test_spirals():
    X, y = data.spirals(50, n_classes=3, seed=0)
    assert X.shape == (150, 2) and np.bincount(y).tolist() == [50, 50, 50]
    assert np.abs(X).max() <= 1.0
    assert not np.array_equal(X, data.spirals(50, seed=1)[0])


def test_rel_error_and_numerical_gradient():
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(gradcheck.numerical_gradient(lambda: float(np.sum(x**3)), x),
                               3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    assert gradcheck.rel_error([1.0], [1.0]) == 0.0


def test_lesson3_functions_agree_with_the_layer():
    X = np.random.default_rng(0).normal(3.0, 2.0, size=(10, 4))
    gamma, beta = np.array([1.0, 2.0, 0.5, 1.5]), np.array([0.0, 1.0, -1.0, 0.5])
    bn = nn.BatchNorm(4)
    bn.params["gamma"][:], bn.params["beta"][:] = gamma, beta
    out, cache = course.batchnorm_forward(X, gamma, beta)
    np.testing.assert_allclose(bn.forward(X), out)
    dout = np.random.default_rng(1).normal(size=X.shape)
    dX, dgamma, dbeta = l04.batchnorm_backward(dout, cache)
    np.testing.assert_allclose(bn.backward(dout), dX)
    np.testing.assert_allclose(bn.grads["gamma"], dgamma)
    np.testing.assert_allclose(bn.grads["beta"], dbeta)
    rm, rv = course.update_running_stats(np.zeros(4), np.ones(4), X)
    np.testing.assert_allclose(bn.running_mean, rm)
    np.testing.assert_allclose(bn.running_var, rv)
    bn.training = False
    np.testing.assert_allclose(bn.forward(X), course.batchnorm_eval(X, gamma, beta, rm, rv))


def test_yours_or_course(capsys):
    def batchnorm_forward(X, gamma, beta, eps=1e-5):
        raise NotImplementedError()
    assert fallback.yours_or_course(batchnorm_forward) is course.batchnorm_forward
    out = capsys.readouterr().out
    assert "not written yet" in out and "uses the course's version" in out

    def batchnorm_eval(X, gamma, beta, running_mean, running_var, eps=1e-5):
        return X
    assert fallback.yours_or_course(batchnorm_eval) is batchnorm_eval
    assert capsys.readouterr().out == "[this cell uses your batchnorm_eval]\n"

    def update_running_stats(running_mean, running_var, X, momentum=0.1):
        raise ValueError("a bug")
    assert fallback.yours_or_course(update_running_stats) is course.update_running_stats
    out = capsys.readouterr().out
    assert "your update_running_stats raised ValueError" in out and "course's version" in out

    def batchnorm_backward(dout, cache):
        dX = dout  # noqa: F841 -- forgot to return
    assert fallback.yours_or_course(batchnorm_backward) is l04.batchnorm_backward
    assert "returned None" in capsys.readouterr().out


# --------------------------------------------------------------------------- plots and widgets


@pytest.fixture(scope="module")
def recorded():
    X, y = data.spirals(40, seed=0)
    out = {}
    for bn in (False, True):
        for lr in (0.1, 50.0):
            out[bn, lr] = training.train(nn.mlp([2, 8, 8, 8, 3], batchnorm=bn, seed=0), X, y,
                                   loss="cross_entropy", lr=lr, n_epochs=3, batch_size=20,
                                   record_activations=True, record_every=2, n_samples=64)
    return out


def test_activation_frame(recorded):
    from helpers.plots.network import activation_frame, activation_range

    h = recorded[False, 0.1]
    frame = activation_frame(h, 2, bins=10, lim=3.0)
    assert frame["step"] == 4 and frame["density"].shape == (3, 10)
    np.testing.assert_allclose(frame["edges"][[0, -1]], [-3, 3])
    inside = 1 - frame["outside"]
    np.testing.assert_allclose(frame["density"].sum(axis=1) * 0.6, inside)  # bin width 0.6
    np.testing.assert_allclose(frame["std"], h.act_std[2])
    assert activation_range(h) > 0


def test_plots_draw_what_they_are_given(recorded):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plots.network import (
        plot_activation_stats,
        plot_data,
        plot_layer_histograms,
        plot_sweep,
    )

    h = recorded[False, 0.1]
    axes = plot_activation_stats(h)
    assert len(axes[0].lines) == 3 and axes[0].get_xlabel().startswith("training step")
    np.testing.assert_allclose(axes[1].lines[2].get_ydata(), h.act_std[:, 2])
    axes = plot_layer_histograms(h, records=(0, -1))
    assert len(axes) == 3 and len(axes[0].patches) == 2
    ax = plot_sweep([0.1, 1.0, 10.0], {False: [0.9, 0.5, 0.3], True: [0.95, 0.9, 0.8]},
                    diverged={False: [False, False, True], True: [False, False, False]},
                    chance=1 / 3)
    line = ax.lines[0]
    assert np.isnan(line.get_ydata()[2])  # diverged: a gap, not a value
    assert any(ln.get_marker() == "X" for ln in ax.lines)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "1", "10"]
    X, y = data.spirals(10, seed=0)
    assert len(plot_data(X, y).collections) == 3
    plt.close("all")


def test_explorer_callbacks_redraw(recorded):
    from helpers.widgets.activation_explorer import ActivationExplorer

    e = ActivationExplorer(recorded, lr=0.1)
    assert e.record.value == e.record.max  # opens at the end of training
    first = e.image.value
    assert first[:4] == b"\x89PNG"
    assert e.state["step"] == recorded[False, 0.1].steps[-1]
    e.record.value = 0
    assert e.state["step"] == 0 and e.image.value != first
    e.batchnorm.value = True
    np.testing.assert_allclose(e.state["std"], recorded[True, 0.1].act_std[0])
    e.lr.value = 50.0  # a diverged run: fewer records, the slider shows its last one
    e.record.value = e.record.max
    h = recorded[True, 50.0]
    assert h.diverged and len(h.steps) < e.record.max + 1
    assert e.state["step"] == h.steps[-1] and "diverged" in e.status.value
    assert repr(e).startswith("ActivationExplorer: 4 training runs")
    assert e._repr_mimebundle_()["text/plain"] == repr(e)


def test_lazy_explorer_trains_a_run_only_when_shown(recorded):
    from helpers.widgets.activation_explorer import ActivationExplorer, LazyHistories

    trained = []

    def run(bn, lr):
        trained.append((bn, lr))
        return recorded[bn, lr]

    lazy = LazyHistories(run, list(recorded), n_records=len(recorded[False, 0.1].steps))
    e = ActivationExplorer(lazy, lr=0.1)
    assert trained == [(False, 0.1)]  # executing the notebook trains the first view only
    eager = ActivationExplorer(recorded, lr=0.1)
    assert e.image.value == eager.image.value and e.status.value == eager.status.value
    assert e.record.max == eager.record.max and repr(e) == repr(eager)
    e.batchnorm.value = True
    assert trained == [(False, 0.1), (True, 0.1)]
    np.testing.assert_allclose(e.state["std"], recorded[True, 0.1].act_std[-1])
    e.batchnorm.value = False  # a run already trained is not trained again
    assert len(trained) == 2 and len(lazy) == 4 and set(lazy) == set(recorded)


def test_progress_yields_everything_and_fills_the_bar(monkeypatch):
    import IPython.display

    from helpers.widgets import display as nn_widgets

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    assert list(nn_widgets.progress(range(4), "sweep")) == [0, 1, 2, 3]
    bar = shown[0].bar
    assert bar.value == bar.max == 4 and bar.bar_style == "success"
    text = "progress: sweep, 4 runs (open in JupyterLab to see the bar)"
    assert repr(shown[0]) == text
    bundle = shown[0]._repr_mimebundle_()
    assert bundle["text/plain"] == text
    assert "application/vnd.jupyter.widget-view+json" in bundle


def _lesson3_history(lr):
    """Lesson 3's network and data; at lr = 1 without batch norm it gets stuck at chance."""
    X, y = data.spirals(n_per_class=100, seed=0)
    m = nn.mlp([2, 32, 32, 32, 32, 32, 32, 3], seed=0)
    return training.train(m, X, y, loss="cross_entropy", lr=lr, n_epochs=30, batch_size=32,
                    record_activations=True, record_every=10, n_samples=256)


def test_stuck_run_is_named_in_the_explorer_status(recorded):
    from helpers.widgets.activation_explorer import ActivationExplorer, frozen_record, stuck_note

    h = _lesson3_history(1.0)
    r = frozen_record(h)
    assert r is not None and 0 < r < len(h.steps) - 1
    np.testing.assert_array_equal(h.act_samples[r], h.act_samples[-1])
    assert not np.array_equal(h.act_samples[r - 1], h.act_samples[-1])
    chance = np.log(3)
    assert abs(h.final_loss - chance) < 0.1 * chance
    note = stuck_note(h, len(h.steps) - 1, chance)
    assert "stuck at chance" in note and "stop changing" in note
    assert f"step {h.steps[r]}" in note
    assert "stuck" in stuck_note(h, 0, chance) and "from here on" not in stuck_note(h, 0, chance)
    assert "at chance" not in stuck_note(h, len(h.steps) - 1, None)
    # runs that keep learning get no note
    for key, other in recorded.items():
        if not other.diverged:
            assert frozen_record(other) is None, key
            assert stuck_note(other, len(other.steps) - 1, chance) == ""

    e = ActivationExplorer({(False, 0.1): _lesson3_history(0.1), (False, 1.0): h}, lr=1.0,
                           chance_loss=chance)
    assert "stuck at chance" in e.status.value and "from here on" in e.status.value
    e.record.value = 0
    assert "from here on" not in e.status.value
    e.lr.value = 0.1
    assert "stuck" not in e.status.value


# --------------------------------------------------------------------------- lesson 3's second edition


def test_repeat_runs_median_spread_and_divergence():
    X, y = data.spirals(30, seed=0)
    seeds = [0, 1, 2]
    r = training.repeat_runs(lambda s: nn.mlp([2, 8, 3], seed=s), X, y, X, y, seeds,
                             loss="cross_entropy", lr=0.1, n_epochs=2, batch_size=30,
                             record_first=dict(record_activations=True, record_every=1))
    # each run is the same as a run made by hand with that seed
    by_hand = []
    for s in seeds:
        m = nn.mlp([2, 8, 3], seed=s)
        training.train(m, X, y, loss="cross_entropy", lr=0.1, n_epochs=2, batch_size=30, seed=s)
        by_hand.append(training.accuracy(m, X, y))
    np.testing.assert_allclose(r.accuracy, by_hand)
    assert r.histories[0].act_std.shape[0] == 7 and r.histories[1].act_std.size == 0
    assert r.median() == np.median(by_hand) and r.spread() == (min(by_hand), max(by_hand))
    assert not r.diverged and r.n_diverged == 0
    two_bad = training.Repeats(np.array([0.5, np.nan, np.nan]), [])
    assert two_bad.diverged and two_bad.median() == 0.5
    assert two_bad.describe() == "50.0% (50.0–50.0%), 2 of 3 diverged"
    assert training.Repeats(np.array([0.9, 0.8, 0.95]), []).describe() == "90.0% (80.0–95.0%)"
    all_bad = training.Repeats(np.full(3, np.nan), [])
    assert all_bad.describe() == "3 of 3 diverged" and np.isnan(all_bad.median())


def test_sweep_spread_and_unit_spread_plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plots.network import plot_sweep, plot_unit_spread

    ax = plot_sweep([1, 2, 4], {True: [0.5, 0.7, 0.9]},
                    spread={True: ([0.4, 0.6, 0.9], [0.6, 0.75, 0.95])})
    bars = ax.containers[0]  # the error bars: from each low to each high
    segments = bars.lines[2][0].get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segments], [[0.4, 0.6], [0.6, 0.75], [0.9, 0.95]])
    ax = plot_sweep([1, 2, 4], {True: [0.5, 0.7, 0.9]}, n_diverged={True: [0, 3, 0]})
    rings = [ln for ln in ax.lines if ln.get_label() == "some runs diverged"]
    assert [tuple(ln.get_xydata()[0]) for ln in rings] == [(2.0, 0.7)]
    assert [t.get_text() for t in ax.texts] == ["3 diverged"]
    before = [np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])]
    after = [np.array([0.5, 0.5]), np.array([6.0, 7.0, 8.0])]
    ax = plot_unit_spread(before, after, pooled=([1.5, 4.0], [0.5, 7.0]))
    dots = [ln for ln in ax.lines if ln.get_linestyle() == "None"]
    assert sorted(np.concatenate([d.get_ydata() for d in dots])) == sorted(
        np.concatenate(before + after))
    bars = [ln for ln in ax.lines if ln.get_linestyle() != "None"]
    assert sorted(b.get_ydata()[0] for b in bars) == [0.5, 1.5, 4.0, 7.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layer 1", "layer 2"]
    plt.close("all")


def test_node_by_node_backward_matches_finite_differences():
    rng = np.random.default_rng(4)
    X, gamma, dout = rng.normal(1, 2, size=(7, 3)), rng.uniform(0.5, 2, 3), rng.normal(size=(7, 3))
    _, cache = course.batchnorm_forward(X, gamma, np.zeros(3))
    staged = l04.batchnorm_backward_staged(dout, cache)

    def loss():  # numerical_gradient nudges X in place
        return float(np.sum(dout * course.batchnorm_forward(X, gamma, np.zeros(3))[0]))

    assert gradcheck.rel_error(staged[0], gradcheck.numerical_gradient(loss, X)) < 1e-7
    for a, b in zip(staged, l04.batchnorm_backward(dout, cache), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
