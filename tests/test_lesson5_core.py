"""Lesson 5's core: layer norm, folding, scale invariance, mlp's placements, diagnostics,
and the committed PyTorch reference vectors (independent references: finite differences,
PyTorch's own numbers, closed forms)."""

import numpy as np
import pytest

from helpers.answers import l03, l05
from helpers.core import data, diagnostics, gradcheck, nn, training

TOL = 1e-6
REF = data.torch_reference()


# ------------------------------------------------------------------ PyTorch's numbers


@pytest.mark.parametrize("case", REF["layernorm"], ids=lambda c: c["name"])
def test_layernorm_reproduces_pytorch(case):
    out, cache = l05.layernorm_forward(case["X"], case["gamma"], case["beta"], case["eps"])
    dX, dgamma, dbeta = l05.layernorm_backward(case["dout"], cache)
    for got, key in [(out, "out"), (dX, "dX"), (dgamma, "dgamma"), (dbeta, "dbeta")]:
        np.testing.assert_allclose(got, case[key], rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("case", REF["batchnorm1d"], ids=lambda c: c["name"])
def test_batchnorm_layer_reproduces_pytorch(case):
    bn = nn.BatchNorm(len(case["gamma"]), momentum=case["momentum"], eps=case["eps"])
    bn.params["gamma"][:], bn.params["beta"][:] = case["gamma"], case["beta"]
    out = bn.forward(case["X"])
    dX = bn.backward(case["dout"])
    got = {"out": out, "dX": dX, "dgamma": bn.grads["gamma"], "dbeta": bn.grads["beta"],
           "running_mean_1": bn.running_mean, "running_var_1": bn.running_var}
    bn.forward(case["X2"])
    got |= {"running_mean_2": bn.running_mean, "running_var_2": bn.running_var}
    bn.training = False
    got["out_eval"] = bn.forward(case["X_eval"])
    for key, value in got.items():
        np.testing.assert_allclose(value, case[key], rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("case", REF["fold"], ids=lambda c: c["name"])
def test_fold_reproduces_pytorch(case):
    W_f, b_f = l05.fold_batchnorm(case["W"], case["b"], case["gamma"], case["beta"],
                                  case["running_mean"], case["running_var"], case["eps"])
    np.testing.assert_allclose(W_f, case["W_folded"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b_f, case["b_folded"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(case["X"] @ W_f + b_f, case["out_eval"], rtol=1e-10, atol=1e-12)


def test_reference_file_is_what_the_script_makes():
    """Skipped without PyTorch (not a course dependency): the committed numbers are what
    tests/make_torch_reference.py computes now, up to the last digits."""
    pytest.importorskip("torch")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent / "make_torch_reference.py"
    spec = importlib.util.spec_from_file_location("make_torch_reference", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    fresh = script.reference()
    for kind in ("layernorm", "batchnorm1d", "fold"):
        for new, old in zip(fresh[kind], REF[kind], strict=True):
            assert new["name"] == old["name"]
            for key, value in new.items():
                if isinstance(value, list):
                    np.testing.assert_allclose(value, old[key], rtol=1e-12, atol=1e-14,
                                               err_msg=f"{kind}: {key}")


def test_reference_file_says_which_pytorch_made_it():
    assert REF["torch_version"].startswith("2.")
    assert {len(REF[k]) for k in ("layernorm", "batchnorm1d", "fold")} == {2, 3}


# ------------------------------------------------------------------ layer norm


@pytest.mark.parametrize("n", [1, 2, 7])
def test_layernorm_layer_gradients(n):
    ln = nn.LayerNorm(5)
    rng = np.random.default_rng(n)
    ln.params["gamma"][:] = rng.uniform(0.5, 2, size=5)
    ln.params["beta"][:] = rng.normal(size=5)
    errors = gradcheck.gradient_check(ln, rng.normal(2.0, 3.0, size=(n, 5)))
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL, errors


def test_layernorm_is_batchnorm_on_the_other_axis_and_mode_free():
    X = np.random.default_rng(0).normal(size=(6, 4))
    ln = l05.layernorm_forward(X, np.ones(4), np.zeros(4))[0]
    bn = l03.batchnorm_forward(X.T, np.ones(6), np.zeros(6))[0].T
    np.testing.assert_allclose(ln, bn, atol=1e-12)
    layer = nn.LayerNorm(4)
    train_out = layer.forward(X[:1])
    layer.training = False
    np.testing.assert_allclose(layer.forward(X[:1]), train_out)
    assert np.abs(train_out).max() > 0.5  # a batch of one is normalized, not zeroed


def test_layernorm_does_not_change_its_input():
    X = np.random.default_rng(1).normal(size=(3, 4))
    copy = X.copy()
    l05.layernorm_forward(X, np.ones(4), np.zeros(4))
    np.testing.assert_array_equal(X, copy)


def test_scale_invariance_closed_form():
    rng = np.random.default_rng(3)
    X, W, dout = rng.normal(size=(8, 3)), rng.normal(size=(3, 5)), rng.normal(size=(8, 5))
    for c in (0.5, 10.0):
        change, ratio = l05.scale_invariance(X, W, np.ones(5), np.zeros(5), dout, c)
        assert change < 1e-3 and ratio == pytest.approx(1 / c, rel=1e-3)  # exact but for ε


def test_fold_matches_the_course_layers_in_eval_mode():
    rng = np.random.default_rng(4)
    lin, bn = nn.Linear(3, 4, rng=rng), nn.BatchNorm(4)
    lin.params["b"][:] = rng.normal(size=4)
    for _ in range(3):
        bn.forward(rng.normal(2.0, 3.0, size=(16, 4)))
    bn.training = False
    X = rng.normal(size=(5, 3))
    W_f, b_f = l05.fold_batchnorm(lin.params["W"], lin.params["b"], bn.params["gamma"],
                                  bn.params["beta"], bn.running_mean, bn.running_var)
    np.testing.assert_allclose(X @ W_f + b_f, bn.forward(lin.forward(X)), atol=1e-12)


# ------------------------------------------------------------------ mlp and diagnostics


def test_mlp_placements_and_biases():
    kinds = [type(layer).__name__ for layer in nn.mlp([2, 4, 3], norm="batch").layers]
    assert kinds == ["Linear", "BatchNorm", "ReLU", "Linear"]
    after = nn.mlp([2, 4, 3], norm="batch", norm_after_relu=True)
    assert [type(layer).__name__ for layer in after.layers] == ["Linear", "ReLU", "BatchNorm",
                                                                "Linear"]
    assert "b" in after.layers[0].params  # no batch norm right after it: it keeps its bias
    assert "b" not in nn.mlp([2, 4, 3], norm="batch").layers[0].params
    assert "b" in nn.mlp([2, 4, 3], norm="batch", bias=True).layers[0].params
    assert isinstance(nn.mlp([2, 4, 3], norm="layer").layers[1], nn.LayerNorm)
    with pytest.raises(ValueError, match="norm must be"):
        nn.mlp([2, 4, 3], norm="group")
    # the same weights as lesson 3's batch-norm network
    a, b = nn.mlp([2, 4, 3], batchnorm=True, seed=5), nn.mlp([2, 4, 3], norm="batch", seed=5)
    np.testing.assert_array_equal(a.layers[0].params["W"], b.layers[0].params["W"])


def test_gradients_of_every_network_kind():
    x = np.random.default_rng(6).normal(size=(6, 3))
    for kw in ({"norm": "layer"}, {"norm": "batch", "norm_after_relu": True}):
        errors = gradcheck.gradient_check(nn.mlp([3, 5, 4, 2], seed=1, **kw), x)
        assert max(errors.values()) < 1e-5, (kw, errors)


def _spirals():
    return data.spirals(n_per_class=30, seed=0)


def test_probe_leaves_the_run_unchanged():
    X, y = _spirals()
    model = nn.mlp([2, 8, 8, 3], norm="batch", seed=0)
    loss, dout = nn.softmax_cross_entropy(model.forward(X), y)
    model.backward(dout)
    before = [(dict(layer.params), {k: v.copy() for k, v in layer.grads.items()})
              for layer in model.layers]
    params = [{k: v.copy() for k, v in layer.params.items()} for layer in model.layers]
    running = [bn.running_mean.copy() for bn in model.batchnorms()]
    losses, changes, gnorm, base = diagnostics.probe_direction(model, X, y, [1e-6, 0.1])
    assert base == pytest.approx(loss, abs=1e-12)  # the loss at θ itself
    for layer, p, (_, g) in zip(model.layers, params, before, strict=True):
        for k in p:
            np.testing.assert_array_equal(layer.params[k], p[k])
            np.testing.assert_array_equal(layer.grads[k], g[k])
    for bn, r in zip(model.batchnorms(), running, strict=True):
        np.testing.assert_array_equal(bn.running_mean, r)
    # a tiny step along -g lowers the loss by about eta * |g|^2 (first-order Taylor)
    assert losses[0] == pytest.approx(loss - 1e-6 * gnorm**2, abs=1e-9)
    assert changes[0] < 1e-4 * gnorm and changes[1] > changes[0]


def test_diagnose_records_and_does_not_change_training():
    X, y = _spirals()
    kw = dict(lr=0.1, n_epochs=3, batch_size=16, seed=2)
    plain = nn.mlp([2, 8, 8, 3], norm="batch", seed=0)
    h = training.train(plain, X, y, loss="cross_entropy", **kw)
    model = nn.mlp([2, 8, 8, 3], norm="batch", seed=0)
    diag = diagnostics.diagnose(model, X, y, record_every=5, **kw)
    np.testing.assert_allclose(diag.history.step_loss, h.step_loss)
    n_steps = len(h.step_loss)
    assert list(diag.steps) == [1, *range(5, n_steps + 1, 5)]
    assert diag.update_ratio.shape == (len(diag.steps), 3)
    assert diag.landscape.shape == (len(diag.steps), 4)
    # the first record, recomputed by hand: the first batch of the run, before any update
    fresh = nn.mlp([2, 8, 8, 3], norm="batch", seed=0)
    idx = np.random.default_rng(2).permutation(len(X))[:16]
    fresh.backward(nn.softmax_cross_entropy(fresh.forward(X[idx]), y[idx])[1])
    for j, layer in enumerate(diagnostics.linear_layers(fresh)):
        dW, W = layer.grads["W"], layer.params["W"]
        assert diag.update_ratio[0, j] == pytest.approx(0.1 * np.linalg.norm(dW) / np.linalg.norm(W))
        assert diag.grad_std[0, j] == pytest.approx(dW.std())
    assert np.all(diag.curvature > 0)
    # the loss change is measured from the current point: the first record's, by hand
    first = nn.softmax_cross_entropy(nn.mlp([2, 8, 8, 3], norm="batch", seed=0).forward(X[idx]),
                                     y[idx])[0]
    assert diag.base_loss[0] == pytest.approx(first)
    np.testing.assert_allclose(diag.loss_change, diag.landscape - diag.base_loss[:, None])
    np.testing.assert_allclose(diag.distance[:, 1], diag.step_sizes[1] * diag.grad_norm)
    np.testing.assert_allclose(diag.smoothness, (diag.grad_change / diag.distance).max(axis=1))
    row = diagnostics.summarize(diag, 0)
    assert set(row) == {"grad_std", "update_ratio", "weight_norm_growth"}
