"""helpers.core.linreg (and lesson 1's answers): gradients, Hessian, 2/lambda_max boundary,
divergence, SGD."""

import warnings

import numpy as np
import pytest

from helpers.answers.l01 import max_stable_learning_rate, mse_gradient
from helpers.core.data import age_income
from helpers.core.linreg import (
    condition_number,
    design,
    gradient_descent,
    hessian,
    hessian_eigenvalues,
    least_squares,
    loss_grid,
    lr_sweep,
    mse_loss,
    predict,
    sgd,
)


@pytest.fixture
def data():
    return age_income(n=100, seed=1)


def _numeric_grad(X, y, w, b):
    hs = 1e-4 / X.std(axis=0)
    gw = np.array([(mse_loss(X, y, w + h * e, b) - mse_loss(X, y, w - h * e, b)) / (2 * h)
                   for h, e in zip(hs, np.eye(len(w)), strict=True)])
    gb = (mse_loss(X, y, w, b + 1e-4) - mse_loss(X, y, w, b - 1e-4)) / 2e-4
    return gw, gb


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_gradient_matches_finite_differences(data, scale):
    X, y = data
    X = X / [1.0, scale]
    w, b = np.array([0.01, 3e-5 * scale]), 0.4
    gw, gb = mse_gradient(X, y, w, b)
    nw, nb = _numeric_grad(X, y, w, b)
    np.testing.assert_allclose(gw, nw, rtol=1e-7)
    assert gb == pytest.approx(nb, rel=1e-7)


def test_gradient_component_scales_with_its_feature(data):
    X, y = data
    g1 = mse_gradient(X, y, np.zeros(2))[0]
    g2 = mse_gradient(X * [1, 1000], y, np.zeros(2))[0]
    np.testing.assert_allclose(g2, g1 * [1, 1000])


def test_loss_and_predict(data):
    X, y = data
    w = np.array([0.1, 1e-5])
    np.testing.assert_allclose(predict(X, w, 2.0), X @ w + 2.0)
    assert mse_loss(X, y, w, 2.0) == pytest.approx(np.mean((X @ w + 2.0 - y) ** 2))


def test_hessian_is_second_derivative(data):
    X, y = data
    X = X / [1, 1000]
    H = hessian(X, fit_bias=True)
    theta = np.array([0.02, 0.01, 0.3])
    h = 1e-3
    for j in range(3):
        e = np.eye(3)[j] * h
        g_plus = np.append(*mse_gradient(X, y, (theta + e)[:2], (theta + e)[2]))
        g_minus = np.append(*mse_gradient(X, y, (theta - e)[:2], (theta - e)[2]))
        np.testing.assert_allclose((g_plus - g_minus) / (2 * h), H[:, j], rtol=1e-6)
    assert design(X, True).shape == (len(X), 3)


def test_condition_number_and_max_lr(data):
    X, _ = data
    lam = hessian_eigenvalues(X)
    assert lam[0] <= lam[1]
    assert condition_number(X) == pytest.approx(lam[1] / lam[0])
    assert max_stable_learning_rate(X) == pytest.approx(2 / lam[1])
    Xz = (X - X.mean(0)) / X.std(0)
    assert condition_number(Xz) < 3 < 1e6 < condition_number(X)


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_two_over_lambda_max_is_the_boundary(data, scale):
    X, y = data
    X = X / [1.0, scale]
    lr = max_stable_learning_rate(X)
    below = gradient_descent(X, y, 0.95 * lr, n_steps=2000)
    above = gradient_descent(X, y, 1.05 * lr, n_steps=2000)
    assert not below.diverged and below.losses[-1] < below.losses[0]
    assert above.diverged and above.diverged_at is not None


def test_divergence_is_reported_without_warnings(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = gradient_descent(X, y, 1e-3, n_steps=1000)
        run_sgd = sgd(X, y, 1e-3, n_epochs=3)
    assert run.diverged and run.diverged_at < 1000
    assert len(run.losses) == run.diverged_at + 1
    assert "diverged" in run.summary()
    assert run_sgd.diverged


def test_gd_converges_to_least_squares(data):
    X, y = data
    Xz = (X - X.mean(0)) / X.std(0)
    w_star, b_star = least_squares(Xz, y, fit_bias=True)
    run = gradient_descent(Xz, y, 0.5, n_steps=300, fit_bias=True)
    np.testing.assert_allclose(run.w, w_star, atol=1e-8)
    assert run.b == pytest.approx(b_star, abs=1e-8)
    assert run.steps_to(mse_loss(Xz, y, w_star, b_star) * 1.01) is not None
    assert run.steps_to(-1.0) is None


def test_per_weight_rates_equal_rescaling(data):
    X, y = data
    s = X.std(axis=0)
    lr = 0.9 * max_stable_learning_rate(X / s)
    a = gradient_descent(X / s, y, lr, 40)
    b = gradient_descent(X, y, lr, 40, lr_per_weight=1 / s**2)
    np.testing.assert_allclose(a.ws / s, b.ws, rtol=1e-10, atol=1e-20)


def test_sgd_is_deterministic_and_seeded(data):
    X, y = data
    Xz = (X - X.mean(0)) / X.std(0)
    r1 = sgd(Xz, y, 0.01, n_epochs=2, seed=3, fit_bias=True)
    r2 = sgd(Xz, y, 0.01, n_epochs=2, seed=3, fit_bias=True)
    r3 = sgd(Xz, y, 0.01, n_epochs=2, seed=4, fit_bias=True)
    np.testing.assert_array_equal(r1.ws, r2.ws)
    assert not np.array_equal(r1.ws, r3.ws)
    assert len(r1.losses) == 2 * len(y) + 1
    assert r1.losses[-1] < r1.losses[0]


def test_sgd_n_updates_and_batches(data):
    X, y = data
    Xz = (X - X.mean(0)) / X.std(0)
    assert len(sgd(Xz, y, 0.01, n_epochs=5, n_updates=30).losses) == 31
    assert len(sgd(Xz, y, 0.01, n_epochs=1, batch_size=10).losses) == 11


def test_loss_grid_matches_direct_loss(data):
    X, y = data
    w1, w2 = np.linspace(0, 0.1, 4), np.linspace(0, 4e-5, 3)
    grid = loss_grid(X, y, w1, w2, b=0.2)
    assert grid.shape == (3, 4)
    for i, b2 in enumerate(w2):
        for j, a1 in enumerate(w1):
            assert grid[i, j] == pytest.approx(mse_loss(X, y, np.array([a1, b2]), 0.2), rel=1e-9)
    with pytest.raises(ValueError, match="2 features"):
        loss_grid(np.ones((4, 3)), np.ones(4), w1, w2)


def test_lr_sweep(data):
    X, y = data
    Xz = (X - X.mean(0)) / X.std(0)
    target = 1.05 * mse_loss(Xz, y, *least_squares(Xz, y, fit_bias=True))
    out = lr_sweep(Xz, y, [1e-6, 0.3, 5.0], n_steps=100, target_loss=target, fit_bias=True)
    (lr0, _, s0), (_, _, s1), (_, r2, s2) = out
    assert lr0 == 1e-6 and s0 is None and s1 is not None and r2.diverged and s2 is None
