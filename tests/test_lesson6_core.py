"""Lesson 6's core: the course's functions against PyTorch's stored numbers, the im2col
convolution against loops and finite differences, the layers batched over seeds against
finite differences and against one seed at a time, training and recalibration, the studies."""

import copy

import numpy as np
import pytest

from helpers.answers import l03, l06
from helpers.core import batched as bt
from helpers.core import conv, data, gradcheck, studies
from helpers.core import seeds as sd

REF = data.torch_reference()
TIGHT = dict(rtol=1e-12, atol=1e-12)


def _ints(v):
    return tuple(int(a) for a in v)


# ------------------------------------------------------------------ PyTorch's numbers


@pytest.mark.parametrize("case", REF["normalize"], ids=lambda c: c["name"])
def test_normalize_reproduces_pytorch(case):
    X = case["X"]
    shape = _ints(case["reshape"]) if "reshape" in case else X.shape
    out = l06.normalize(X.reshape(shape), _ints(case["axes"]), case["eps"]).reshape(X.shape)
    np.testing.assert_allclose(out, case["out"], **TIGHT)


@pytest.mark.parametrize("case", REF["batchnorm2d"], ids=lambda c: c["name"])
def test_batchnorm2d_reproduces_pytorch(case):
    out, (X, x_hat, mean, var, gamma, eps) = l06.batchnorm2d_forward(
        case["X"], case["gamma"], case["beta"], case["eps"])
    np.testing.assert_allclose(out, case["out"], **TIGHT)
    assert mean.shape == var.shape == (case["X"].shape[1],) and eps == case["eps"]


@pytest.mark.parametrize("case", REF["batchnorm2d"], ids=lambda c: c["name"])
def test_batched_norm_layer_is_pytorchs_batchnorm2d(case):
    """The Norm layer per channel: output, gradients, running statistics, evaluation mode."""
    X = case["X"][None]  # one seed
    C = X.shape[2]
    layer = bt.Norm(1, (C, 1, 1), axes=(1, 3, 4), eps=case["eps"], momentum=case["momentum"])
    layer.params["gamma"][:] = case["gamma"].reshape(1, 1, C, 1, 1)
    layer.params["beta"][:] = case["beta"].reshape(1, 1, C, 1, 1)
    np.testing.assert_allclose(layer.forward(X)[0], case["out"], **TIGHT)
    np.testing.assert_allclose(layer.backward(case["dout"][None])[0], case["dX"], rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"].ravel(), case["dgamma"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"].ravel(), case["dbeta"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean.ravel(), case["running_mean"], **TIGHT)
    np.testing.assert_allclose(layer.running_var.ravel(), case["running_var"], **TIGHT)
    layer.training = False
    np.testing.assert_allclose(layer.forward(case["X_eval"][None])[0], case["out_eval"], **TIGHT)


@pytest.mark.parametrize("case", REF["groupnorm"], ids=lambda c: c["name"])
def test_groupnorm_reproduces_pytorch(case):
    out = l06.groupnorm_forward(case["X"], int(case["G"]), case["gamma"], case["beta"], case["eps"])
    np.testing.assert_allclose(out, case["out"], **TIGHT)


@pytest.mark.parametrize("case", REF["rmsnorm"], ids=lambda c: c["name"])
def test_rmsnorm_reproduces_pytorch(case):
    out, cache = l06.rmsnorm_forward(case["X"], case["gamma"], case["eps"])
    dX, dgamma = l06.rmsnorm_backward(case["dout"], cache)
    for got, key in [(out, "out"), (dX, "dX"), (dgamma, "dgamma")]:
        np.testing.assert_allclose(got, case[key], err_msg=key, **TIGHT)


def test_pytorch_defaults_are_stored():
    d = REF["defaults"]
    assert d["InstanceNorm2d_affine"] is False and d["InstanceNorm2d_track_running_stats"] is False
    assert d["RMSNorm_eps"] is None and d["finfo_float64_eps"] == np.finfo(np.float64).eps
    assert d["finfo_float32_eps"] == np.finfo(np.float32).eps
    eps_none = next(c for c in REF["rmsnorm"] if c["eps_argument"] is None)
    assert eps_none["eps"] == np.finfo(np.float64).eps


def test_lesson6_reference_is_what_the_script_makes():
    """Skipped without PyTorch (not a course dependency)."""
    pytest.importorskip("torch")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent / "make_torch_reference.py"
    spec = importlib.util.spec_from_file_location("make_torch_reference", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    fresh = script.reference()
    assert fresh["defaults"] == REF["defaults"]
    for kind in ("normalize", "batchnorm2d", "groupnorm", "rmsnorm"):
        for new, old in zip(fresh[kind], REF[kind], strict=True):
            assert new["name"] == old["name"]
            for key, value in new.items():
                if isinstance(value, list):
                    np.testing.assert_allclose(value, old[key], rtol=1e-12, atol=1e-14,
                                               err_msg=f"{kind}: {key}")


# ------------------------------------------------------------------ the course's functions


def test_family_axes_reproduce_the_named_layers():
    rng = np.random.default_rng(0)
    X = rng.normal(2.0, 3.0, size=(3, 4, 2, 5))
    fam = l06.family_axes()
    bn = l03.batchnorm_forward(X.transpose(0, 2, 3, 1).reshape(-1, 4), np.ones(4), np.zeros(4))[0]
    np.testing.assert_allclose(l06.normalize(X, fam["batch"]),
                               bn.reshape(3, 2, 5, 4).transpose(0, 3, 1, 2), atol=1e-12)
    gn1 = l06.groupnorm_forward(X, 1, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(l06.normalize(X, fam["layer"]), gn1, atol=1e-12)
    gn4 = l06.groupnorm_forward(X, 4, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(l06.normalize(X, fam["instance"]), gn4, atol=1e-12)


def test_rmsnorm_backward_matches_finite_differences_on_three_axes():
    rng = np.random.default_rng(1)
    X, G, gamma = rng.normal(size=(2, 3, 5)), rng.normal(size=(2, 3, 5)), rng.uniform(0.5, 2, 5)
    dX, dgamma = l06.rmsnorm_backward(G, l06.rmsnorm_forward(X, gamma, eps=0.3)[1])

    def loss():
        return float(np.sum(l06.rmsnorm_forward(X, gamma, eps=0.3)[0] * G))

    assert gradcheck.rel_error(dX, gradcheck.numerical_gradient(loss, X)) < 1e-8
    assert gradcheck.rel_error(dgamma, gradcheck.numerical_gradient(loss, gamma)) < 1e-8


def test_coupling_spread_properties():
    rng = np.random.default_rng(2)
    pool = rng.normal(size=(100, 3))
    spread = l06.coupling_spread(pool, 0, [2, 8, 32, 100], 300, seed=0)
    assert spread[-1] < 1e-6  # B = P: every batch is the whole pool
    assert spread[0] > spread[1] > spread[2] > spread[3]
    pool[5] = pool.max(axis=0) + 10  # the largest in every feature: always +1 at B = 2
    assert l06.coupling_spread(pool, 5, [2], 200, seed=1)[0] < 1e-6
    assert l06.coupling_spread(pool, 5, [2], 50, seed=3) == l06.coupling_spread(pool, 5, [2], 50, 3)


# ------------------------------------------------------------------ the convolution


@pytest.mark.parametrize("pad, k", [(0, 3), (1, 3), (2, 5), (0, 1)])
def test_im2col_convolution_equals_the_loops(pad, k):
    rng = np.random.default_rng(pad + k)
    X, W, b = rng.normal(size=(3, 2, 6, 5)), rng.normal(size=(4, 2, k, k)), rng.normal(size=4)
    out, _ = conv.conv2d_forward(X, W, b, pad=pad)
    np.testing.assert_allclose(out, conv.conv2d_direct(X, W, b, pad=pad), atol=1e-12)
    assert out.shape == (3, 4, 6 + 2 * pad - k + 1, 5 + 2 * pad - k + 1)


def test_im2col_rows_are_patches():
    X = np.arange(2 * 1 * 4 * 4, dtype=float).reshape(2, 1, 4, 4)
    cols = conv.im2col(X, 3)
    assert cols.shape == (2 * 2 * 2, 9)
    np.testing.assert_array_equal(cols[3], X[0, 0, 1:4, 1:4].ravel())  # image 0, row 1, column 1
    np.testing.assert_array_equal(cols[4], X[1, 0, 0:3, 0:3].ravel())


def test_convolution_gradients_match_finite_differences_with_a_seed_axis():
    rng = np.random.default_rng(3)
    X, W, b = rng.normal(size=(2, 2, 3, 4, 4)), rng.normal(size=(2, 3, 3, 3, 3)), rng.normal(size=(2, 3))
    G = rng.normal(size=(2, 2, 3, 4, 4))
    dX, dW, db = conv.conv2d_backward(G, conv.conv2d_forward(X, W, b, pad=1)[1])

    def loss():
        return float(np.sum(conv.conv2d_forward(X, W, b, pad=1)[0] * G))

    for mine, wrt in [(dX, X), (dW, W), (db, b)]:
        assert gradcheck.rel_error(mine, gradcheck.numerical_gradient(loss, wrt)) < 1e-8
    for s in range(2):  # each seed is its own convolution
        np.testing.assert_allclose(conv.conv2d_forward(X, W, b, pad=1)[0][s],
                                   conv.conv2d_direct(X[s], W[s], b[s], pad=1), atol=1e-12)
    assert conv.conv2d_backward(G, conv.conv2d_forward(X, W, None, pad=1)[1],
                                input_grad=False)[0::2] == (None, None)


# ------------------------------------------------------------------ layers over seeds


def _layer_gradcheck(layer, x, seed=0):
    """Relative errors of a batched layer's dx and parameter gradients (L = sum(out * g))."""
    g = np.random.default_rng(seed).normal(size=layer.forward(x).shape)
    dx = layer.backward(g)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    x = x.copy()

    def loss():
        return float(np.sum(layer.forward(x) * g))

    errors = {"x": gradcheck.rel_error(dx, gradcheck.numerical_gradient(loss, x))}
    for name, value in layer.params.items():
        errors[name] = gradcheck.rel_error(grads[name], gradcheck.numerical_gradient(loss, value))
    return errors


def _randomized(norm, rng):
    norm.params["gamma"][:] = rng.uniform(0.5, 2.0, size=norm.params["gamma"].shape)
    norm.params["beta"][:] = rng.normal(size=norm.params["beta"].shape)
    return norm


@pytest.mark.parametrize("shape, param_shape, axes", [
    ((2, 5, 4), (4,), (1,)),               # batch norm of a dense layer
    ((2, 5, 4), (4,), (-1,)),              # layer norm
    ((2, 3, 2, 3, 3), (2, 1, 1), (1, 3, 4)),   # batch norm per channel
    ((2, 3, 2, 3, 3), (2, 1, 1), (1,)),        # per pixel, γ per channel
    ((2, 3, 2, 3, 3), (2, 1, 1), (3, 4)),      # instance norm with γ per channel
])
def test_norm_layer_gradients(shape, param_shape, axes):
    rng = np.random.default_rng(len(shape) + len(axes))
    layer = _randomized(bt.Norm(shape[0], param_shape, axes), rng)
    layer.momentum = 0.0  # the running statistics stay put while finite differences run
    errors = _layer_gradcheck(layer, rng.normal(1.0, 2.0, size=shape))
    assert max(errors.values()) < 1e-7, errors


def test_norm_layer_in_evaluation_mode_uses_running_statistics_and_its_gradient():
    rng = np.random.default_rng(5)
    layer = _randomized(bt.Norm(2, (3,), axes=(1,)), rng)
    for _ in range(4):
        layer.forward(rng.normal(2.0, 3.0, size=(2, 8, 3)))
    layer.training = False
    x = rng.normal(size=(2, 5, 3))
    expected = (layer.params["gamma"] * (x - layer.running_mean)
                / np.sqrt(layer.running_var + layer.eps) + layer.params["beta"])
    np.testing.assert_allclose(layer.forward(x), expected, atol=1e-12)
    assert max(_layer_gradcheck(layer, x).values()) < 1e-7


def test_running_statistics_follow_pytorch_momentum_and_none():
    rng = np.random.default_rng(6)
    batches = [rng.normal(size=(1, 6, 2)) for _ in range(3)]
    layer = bt.Norm(1, (2,), axes=(1,))
    mean, var = np.zeros(2), np.ones(2)
    for b in batches:
        layer.forward(b)
        mean = 0.9 * mean + 0.1 * b[0].mean(0)
        var = 0.9 * var + 0.1 * b[0].var(0, ddof=1)
    np.testing.assert_allclose(layer.running_mean.ravel(), mean)
    np.testing.assert_allclose(layer.running_var.ravel(), var)
    plain = bt.Norm(1, (2,), axes=(1,), momentum=None)
    for b in batches:
        plain.forward(b)
    np.testing.assert_allclose(plain.running_mean.ravel(), np.mean([b[0].mean(0) for b in batches], 0))


@pytest.mark.parametrize("placement", ["pre", "post"])
def test_a_residual_stack_gradients(placement):
    rng = np.random.default_rng(7)
    model = studies.ln_stack(2, 2, seed=1, placement=placement, width=4, n_in=3, n_classes=2)
    for layer in model.modules():
        if isinstance(layer, bt.Norm):
            _randomized(layer, rng)
    x = rng.normal(size=(2, 5, 3))
    g = rng.normal(size=model.forward(x).shape)
    dx = model.backward(g)

    def loss():
        return float(np.sum(model.forward(x) * g))

    assert gradcheck.rel_error(dx, gradcheck.numerical_gradient(loss, x)) < 1e-7
    for layer in model.modules():
        for name, value in layer.params.items():
            numerical = gradcheck.numerical_gradient(loss, value)
            assert gradcheck.rel_error(layer.grads[name], numerical) < 1e-7, (layer, name)


def test_conv_layers_and_pooling_gradients():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 3, 2, 4, 4))
    for layer in (bt.Conv2d(2, 2, 3, rng), bt.GlobalAvgPool(), bt.ReLU()):
        assert max(_layer_gradcheck(layer, x).values()) < 1e-7, layer


def test_dropout_keeps_the_mean_and_is_off_in_evaluation():
    layer = bt.Dropout(0.5, np.random.default_rng(9))
    x = np.ones((1, 20000, 1))
    kept = layer.forward(x)
    assert set(np.unique(kept)) == {0.0, 2.0} and abs(kept.mean() - 1) < 0.03
    np.testing.assert_array_equal(layer.backward(x), kept)
    layer.training = False
    np.testing.assert_array_equal(layer.forward(x), x)


def test_seeds_in_one_computation_equal_one_seed_at_a_time():
    """Seed s of a batched model computes what a one-seed model with its weights computes."""
    model = studies.convnet(3, seed=4, channels=3)
    x = data.bars(6, seed=1)[0]
    together = model.forward(np.broadcast_to(x, (3, *x.shape)))
    for s in range(3):
        single = copy.deepcopy(model)
        for layer in single.modules():
            for name in layer.params:
                layer.params[name] = layer.params[name][s:s + 1]
        np.testing.assert_allclose(single.forward(x[None])[0], together[s], atol=1e-12)


# ------------------------------------------------------------------ training over seeds


def test_batches_cover_each_epoch_once_per_seed():
    idx = sd.batches(12, S=3, batch_size=4, steps=6, seed=0)
    assert idx.shape == (6, 3, 4)
    for s in range(3):
        for epoch in (idx[:3, s], idx[3:, s]):
            assert sorted(epoch.ravel()) == list(range(12))
    assert not np.array_equal(idx[:, 0], idx[:, 1])


def test_cross_entropy_and_its_gradient():
    rng = np.random.default_rng(10)
    logits, y = rng.normal(size=(2, 4, 3)), rng.integers(0, 3, size=(2, 4))
    loss, d = sd.cross_entropy(logits, y)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(loss, -np.log(np.take_along_axis(p, y[..., None], -1))[..., 0].mean(-1))
    numerical = gradcheck.numerical_gradient(lambda: float(sd.cross_entropy(logits, y)[0].sum()), logits)
    assert gradcheck.rel_error(d, numerical) < 1e-8


def test_training_lowers_the_loss_for_every_seed_and_frozen_layers_stay():
    X, y = data.spirals(n_per_class=40, seed=0)
    model = studies.dropout_net(4, 0.0, seed=0, width=16)
    first = model.layers[0]
    before = first.params["W"].copy()
    losses = sd.train(model, X, y, lr=0.3, steps=120, batch_size=30, frozen=[first])
    assert (losses[-20:].mean(0) < 0.8 * losses[:5].mean(0)).all()
    np.testing.assert_array_equal(first.params["W"], before)
    assert model.training


def test_recalibrate_gives_the_whole_sets_statistics():
    X, _ = data.spirals(n_per_class=30, seed=1)
    model = studies.dropout_net(2, 0.5, seed=3, width=8)
    norm = studies.batch_norms(model)[0]
    sd.recalibrate(model, X)  # one batch: the plain statistics of X's pre-activations
    z = np.maximum(X @ model.layers[0].params["W"] + model.layers[0].params["b"], 0) @ model.layers[3].params["W"]
    np.testing.assert_allclose(norm.running_mean, z.mean(axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(norm.running_var, z.var(axis=1, ddof=1, keepdims=True), atol=1e-12)
    assert norm.momentum == 0.1 and model.training


def test_predict_is_evaluation_mode_and_leaves_the_mode():
    X, _ = data.spirals(n_per_class=10, seed=2)
    model = studies.dropout_net(2, 0.5, seed=0)
    sd.recalibrate(model, X)
    a, b = sd.predict(model, X), sd.predict(model, X)
    np.testing.assert_array_equal(a, b)  # no dropout, no batch statistics
    assert model.training and all(m.training for m in model.modules())


# ------------------------------------------------------------------ the studies


def test_zero_gamma_blocks_start_as_the_identity():
    model = studies.bn_resnet(2, depth=3, seed=0, zero_gamma=True)
    x = np.random.default_rng(0).normal(size=(2, 8, 16))
    for block in model.layers[3:6]:
        np.testing.assert_array_equal(block.forward(x), x)
    ones = studies.bn_resnet(2, depth=3, seed=0)
    assert not np.allclose(ones.layers[3].forward(x), x)


def test_block_grad_norms_and_norm_scales_shapes_and_pre_ln_stream_grows():
    X, y = data.spirals(n_per_class=20, seed=0)
    model = studies.ln_stack(3, 5, seed=0, placement="pre", width=8)
    g = studies.block_grad_norms(model, X, y, batch_size=16)
    assert g.shape == (5, 3) and (g > 0).all()
    manual = np.linalg.norm(model.layers[3].layers[-1].grads["W"], axis=(1, 2))
    np.testing.assert_allclose(g[2], manual)
    scales = studies.norm_scales(model)
    assert scales.shape == (5, 3) and (scales[-1] > scales[0]).all()
    with pytest.raises(ValueError, match="placement"):
        studies.ln_stack(1, 1, seed=0, placement="middle")


def test_variance_shift_is_one_without_dropout_and_below_with_it():
    X, _ = data.spirals(n_per_class=50, seed=0)
    none = studies.variance_shift(studies.dropout_net(3, 0.0, seed=0), X)
    half = studies.variance_shift(studies.dropout_net(3, 0.5, seed=0), X)
    np.testing.assert_allclose(none, 1.0, atol=1e-12)
    assert none.shape == (3, 32) and np.median(half) < 0.6


def test_fine_tune_frozen_keeps_the_statistics_and_updated_moves_them():
    X, y = data.bars(64, seed=0)
    model = studies.convnet(2, seed=0)
    sd.train(model, X, y, lr=1.0, steps=10, batch_size=16)
    before = studies.batch_norms(model)[0].running_mean.copy()
    frozen = studies.fine_tune(model, 2 * X + 1, y, statistics="frozen", lr=0.05, steps=5, batch_size=16)
    updated = studies.fine_tune(model, 2 * X + 1, y, statistics="updated", lr=0.05, steps=5, batch_size=16)
    np.testing.assert_array_equal(studies.batch_norms(frozen)[0].running_mean, before)
    assert not np.allclose(studies.batch_norms(updated)[0].running_mean, before)
    np.testing.assert_array_equal(studies.batch_norms(model)[0].running_mean, before)  # a copy
    with pytest.raises(ValueError, match="statistics"):
        studies.fine_tune(model, X, y, statistics="thawed", lr=0.1, steps=1, batch_size=4)


def test_bars_images():
    X, y = data.bars(200, seed=0, noise=0.0)
    assert X.shape == (200, 1, 8, 8) and set(np.unique(y)) == {0, 1, 2, 3}
    assert (X.sum(axis=(1, 2, 3)) == 4).all()  # one bar of 4 pixels
    rows, cols = np.nonzero(X[np.argmax(y == 0), 0])
    assert len(set(rows)) == 1  # horizontal
    rows, cols = np.nonzero(X[np.argmax(y == 3), 0])
    assert list(np.diff(rows[np.argsort(cols)])) == [-1, -1, -1]  # ↗
    np.testing.assert_array_equal(data.bars(10, seed=3)[0], data.bars(10, seed=3)[0])
