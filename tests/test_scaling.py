"""helpers.core.scaling (and lesson 2's answers): fit on training data, apply anywhere, map weights back."""

import numpy as np
import pytest

from helpers.answers import l02 as course
from helpers.core import problems, scaling
from helpers.core.data import age_income, load_iris
from helpers.core.linreg import least_squares


def test_zscore_gives_zero_mean_unit_population_std():
    X = load_iris().X
    mean, std = course.zscore_fit(X)
    Z = course.zscore_transform(X, mean, std)
    assert np.allclose(Z.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(Z.std(axis=0), 1)  # population std (ddof=0)
    assert not np.allclose(Z.std(axis=0, ddof=1), 1)


def test_sample_std_option():
    X = np.array([[1.0], [2.0], [6.0]])
    assert course.zscore_fit(X, ddof=1)[1][0] == pytest.approx(np.std(X, ddof=1))
    assert course.zscore_fit(X)[1][0] == pytest.approx(np.sqrt(14 / 3))


def test_transform_does_not_mutate_and_returns_new_array():
    X = load_iris().X
    before = X.copy()
    Z = course.zscore_transform(X, *course.zscore_fit(X))
    assert np.array_equal(X, before) and Z is not X


def test_constant_feature_maps_to_zero_without_nan():
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    mean, std = course.zscore_fit(X)
    assert std[1] == 0
    with np.errstate(all="raise"):  # no division by zero anywhere
        Z = course.zscore_transform(X, mean, std)
        for kind in scaling.SCALINGS:
            S = scaling.apply_scaling(X, *scaling.fit_scaling(X, kind))
            assert np.isfinite(S).all()
    assert np.array_equal(Z[:, 1], np.zeros(5))
    assert np.allclose(scaling.apply_scaling(X, *scaling.fit_scaling(X, "minmax"))[:, 1], 0)


def test_safe_scale_does_not_mutate():
    s = np.array([0.0, 2.0])
    assert np.array_equal(scaling.safe_scale(s), [1.0, 2.0])
    assert s[0] == 0.0


@pytest.mark.parametrize("kind", scaling.SCALINGS)
def test_fit_scaling_kinds(kind):
    X, _ = age_income(n=50)
    S = scaling.apply_scaling(X, *scaling.fit_scaling(X, kind))
    if kind in ("center", "zscore"):
        assert np.allclose(S.mean(axis=0), 0, atol=1e-9)
    if kind in ("scale", "zscore"):
        assert np.allclose(S.std(axis=0), 1)
    if kind == "minmax":
        assert np.allclose(S.min(axis=0), 0) and np.allclose(S.max(axis=0), 1)
    if kind == "none":
        assert np.array_equal(S, X)
    if kind == "robust":  # half of the values on each side of 0, middle half spans 1
        assert np.allclose(np.median(S, axis=0), 0, atol=1e-12)
        assert np.allclose(np.subtract(*np.percentile(S, [75, 25], axis=0)), 1)
    if kind == "log":  # income (skewed) is logged, age (uniform) is not; then z-scored
        assert np.allclose(S.mean(axis=0), 0, atol=1e-9) and np.allclose(S.std(axis=0), 1)
        log_income = np.log(X[:, 1])
        assert np.allclose(S[:, 1], (log_income - log_income.mean()) / log_income.std())
        assert np.allclose(S[:, 0], (X[:, 0] - X[:, 0].mean()) / X[:, 0].std())


def test_unknown_kind_and_bad_shape_raise():
    with pytest.raises(ValueError, match="unknown scaling"):
        scaling.fit_scaling(np.ones((3, 2)), "whiten")
    with pytest.raises(ValueError, match="n_samples, n_features"):
        course.zscore_fit(np.ones(3))


def test_scale_features_uses_training_statistics_only():
    X_train, _ = age_income(n=100, seed=1)
    X_test = X_train[:5] + [20.0, 1e5]
    S_train, S_test, shift, scale = scaling.scale_features(X_train, X_test)
    assert np.allclose(shift, X_train.mean(axis=0))
    assert np.allclose(S_test, (X_test - X_train.mean(axis=0)) / X_train.std(axis=0))
    assert not np.allclose(S_test.mean(axis=0), 0)


def test_log_scaling_needs_positive_values_and_is_fitted_on_training_data():
    X, _ = age_income(n=100, seed=3)
    fitted = scaling.fit_scaling(X, "log")
    assert list(fitted.log) == [False, True]
    with pytest.raises(ValueError, match="log is undefined"):
        scaling.apply_scaling(np.array([[30.0, -5.0]]), *fitted)
    one = scaling.apply_scaling(np.array([[30.0, 40_000.0]]), *fitted)
    assert one[0, 1] == pytest.approx((np.log(40_000) - np.log(X[:, 1]).mean())
                                      / np.log(X[:, 1]).std())


def _percentile_by_hand(x, q):
    """NumPy's default (linear) percentile from its definition, for one column."""
    x = np.sort(x)
    pos = q / 100 * (len(x) - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(x) - 1)
    return x[lo] + (pos - lo) * (x[hi] - x[lo])


def test_robust_fit_matches_its_definition():
    rng = np.random.default_rng(5)
    X = rng.lognormal(size=(11, 3))
    median, iqr = course.robust_fit(X)
    for j in range(3):
        assert median[j] == np.sort(X[:, j])[5]  # odd n: the middle value
        assert iqr[j] == pytest.approx(_percentile_by_hand(X[:, j], 75)
                                       - _percentile_by_hand(X[:, j], 25))
    assert course.robust_fit(np.array([[1.0], [2.0], [3.0], [10.0]]))[0][0] == 2.5


def _shift_by_hand(X, extra, center, spread):
    """Largest change of X's scaled values, in std of the first scaled feature, by loops."""
    both = np.vstack([X, extra])
    worst = 0.0
    for j in range(X.shape[1]):
        before = [(v - center(X[:, j])) / spread(X[:, j]) for v in X[:, j]]
        after = [(v - center(both[:, j])) / spread(both[:, j]) for v in X[:, j]]
        sd = np.std(before)
        worst = max(worst, max(abs(a - b) / sd for a, b in zip(after, before, strict=True)))
    return worst


def test_outlier_shift_against_loops():
    X, _ = age_income(n=60, seed=4)
    rich = np.array([[40.0, 2e6], [45.0, 3e6], [50.0, 5e6]])
    z_ref = _shift_by_hand(X, rich, np.mean, np.std)
    iqr = lambda x: _percentile_by_hand(x, 75) - _percentile_by_hand(x, 25)  # noqa: E731
    r_ref = _shift_by_hand(X, rich, np.median, iqr)
    assert scaling.outlier_shift(X, rich, "zscore") == pytest.approx(z_ref)
    assert scaling.outlier_shift(X, rich, "robust") == pytest.approx(r_ref)
    assert r_ref < 1 < z_ref  # three rich people move the z-scores far more
    assert scaling.outlier_shift(X, X[:3], "none") == 0.0


def test_whitening_gives_identity_covariance():
    X, _ = age_income(n=200)
    mean, W = scaling.fit_whitening(X)
    Wh = (X - mean) @ W
    assert np.allclose(Wh.T @ Wh / len(X), np.eye(2), atol=1e-9)
    assert np.allclose(W, W.T)  # ZCA: symmetric, the closest whitening to the data
    Z = course.zscore_transform(X, *course.zscore_fit(X))
    assert np.corrcoef(Z.T)[0, 1] == pytest.approx(np.corrcoef(X.T)[0, 1])  # z-score keeps it
    with pytest.raises(ValueError, match="singular"):
        scaling.fit_whitening(np.column_stack([X[:, 0], 2 * X[:, 0]]))


@pytest.mark.parametrize("kind", scaling.AFFINE)
def test_weights_to_raw_gives_identical_predictions(kind):
    X, y = age_income(n=80, seed=2)
    shift, scale, _ = scaling.fit_scaling(X, kind)
    S = scaling.apply_scaling(X, shift, scale)
    w, b = least_squares(S, y, fit_bias=True)
    w_raw, b_raw = course.weights_to_raw(w, b, shift, scale)
    assert np.allclose(X @ w_raw + b_raw, S @ w + b, rtol=1e-10)


def test_weights_to_raw_recovers_raw_least_squares():
    X, y = age_income(n=200)
    mean, std = course.zscore_fit(X)
    w, b = least_squares(course.zscore_transform(X, mean, std), y, fit_bias=True)
    w_raw, b_raw = course.weights_to_raw(w, b, mean, std)
    w_ref, b_ref = least_squares(X, y, fit_bias=True)
    assert np.allclose(w_raw, w_ref, rtol=1e-6) and b_raw == pytest.approx(b_ref, rel=1e-6)


def test_skewness_is_unchanged_by_standardizing():
    X, _ = age_income()
    income = X[:, 1]
    z = course.zscore_transform(X, *course.zscore_fit(X))[:, 1]
    assert scaling.skewness(income) > 1
    assert scaling.skewness(z) == pytest.approx(scaling.skewness(income))
    assert scaling.skewness(np.array([-1.0, 0.0, 1.0])) == 0.0
    assert scaling.skewness(np.ones(4)) == 0.0


def test_compare_scalings_table():
    X, y = age_income()
    rows = {r["kind"]: r for r in scaling.compare_scalings(X, y, n_steps=500)}
    assert list(rows) == list(scaling.SCALINGS)
    assert rows["none"]["cond"] > 1e9 and rows["zscore"]["cond"] < 2
    assert rows["zscore"]["steps"] is not None and rows["zscore"]["steps"] <= 5
    assert rows["none"]["steps"] is None and rows["center"]["steps"] is None
    assert rows["zscore"]["steps"] < rows["robust"]["steps"] < rows["scale"]["steps"]
    assert rows["scale"]["steps"] < rows["minmax"]["steps"]
    assert all(rows[k]["target"] == rows["none"]["target"] for k in scaling.AFFINE)
    # log income changes the model (spending is linear in income): a worse best loss
    S = scaling.apply_scaling(X, *scaling.fit_scaling(X, "log"))
    log_best = np.mean((S @ least_squares(S, y, fit_bias=True)[0]
                        + least_squares(S, y, fit_bias=True)[1] - y) ** 2)
    assert rows["log"]["best_loss"] == pytest.approx(log_best)
    assert rows["log"]["best_loss"] > 1.5 * rows["none"]["best_loss"]
    assert rows["zscore"]["cond_no_bias"] == pytest.approx(rows["zscore"]["cond"])
    run = rows["scale"]["run"]  # the run counted is the run returned (lesson 1 draws it)
    assert run.steps_to(rows["scale"]["target"]) == rows["scale"]["steps"]
    assert run.losses[-1] == rows["scale"]["final_loss"] and run.lr == rows["scale"]["lr"]


# --------------------------------------------------------------------------- lesson-2 widget


def test_scaling_problem_matches_the_scalings():
    raw = problems.scaling_problem("none")
    assert raw.condition_number == pytest.approx(problems.scale_problem(0).condition_number)
    z = problems.scaling_problem("zscore")
    assert z.condition_number < 2 < raw.condition_number
    assert "std of income" in z.labels[1] and "bias b = ȳ" in z.title
    assert "no bias" in problems.scaling_problem("minmax").title


def test_explore_scaling_is_pure_data():
    state = problems.explore_scaling("zscore", 0.5, "GD", n_steps=20)
    assert state["ws"].shape == (21, 2) and not state["diverged"]
    assert state["final_loss"] == pytest.approx(state["loss_star"], rel=1e-3)
    unstable = problems.explore_scaling("none", 1.15, "GD", n_steps=30)  # above 2/λ_max
    assert unstable["losses"][-1] > 100 * unstable["losses"][0]


def test_scaling_explorer_callbacks_redraw():
    from helpers.widgets.contour_explorer import scaling_explorer

    explorer = scaling_explorer(kind="none", lr_fraction=0.9)
    first = explorer.image.value
    assert first[:4] == b"\x89PNG" and "8.98e+06" in explorer.status.value
    explorer.controls["kind"].value = "zscore"
    assert explorer.state["problem"] is problems.scaling_problem("zscore")
    assert explorer.image.value != first and "1.7" in explorer.status.value
    explorer.lr.value = 1.15
    assert explorer.state["lr_fraction"] == 1.15
    assert explorer.state["losses"][-1] > 100 * explorer.state["losses"][0]
    assert "kind" in repr(explorer)


def test_scaling_explorer_offers_robust_and_log():
    from helpers.widgets.contour_explorer import scaling_explorer

    explorer = scaling_explorer(kind="zscore", prerender=False)
    options = [value for _, value in explorer.controls["kind"].options]
    assert options == list(scaling.SCALINGS) and {"robust", "log"} <= set(options)
    X, y = age_income()
    for kind in ("robust", "log"):
        explorer.controls["kind"].value = kind
        problem = problems.scaling_problem(kind)
        assert explorer.state["problem"] is problem
        S = scaling.apply_scaling(X, *scaling.fit_scaling(X, kind))
        # the widget shows the scaling of helpers.core.scaling, bias at its best value
        assert np.allclose(problem.X, S - S.mean(axis=0))
        w, b = least_squares(S, y, fit_bias=True)
        assert np.allclose(problem.w_star, w)  # same weights as the full model with a bias
        assert problem.loss_star == pytest.approx(np.mean((S @ w + b - y) ** 2))
    assert "bias b = ȳ" in problems.scaling_problem("log").title  # log-z-scored: centred
    assert "bias b = ȳ − x̄·w" in problems.scaling_problem("robust").title  # median ≠ mean
    assert "IQR of income" in problems.scaling_problem("robust").labels[1]


def test_standardized_has_mean_zero_std_one_and_maps_a_constant_feature_to_zero():
    from helpers.core.scaling import standardized

    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(40, 12, 50), rng.lognormal(10, 1, 50), np.full(50, 7.0)])
    Z = standardized(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), [1, 1, 0], atol=1e-12)
    np.testing.assert_allclose(Z[:, 0], (X[:, 0] - X[:, 0].mean()) / X[:, 0].std())
    assert X[0, 2] == 7.0  # the input is left as it was
