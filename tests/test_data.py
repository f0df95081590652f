"""helpers.core.data: the lecture's data sets have the documented ranges, skew and determinism."""

import numpy as np
import pytest

from helpers.core.data import age_income, load_iris


def test_age_income_shapes_and_ranges():
    X, y = age_income(n=500, seed=3)
    assert X.shape == (500, 2) and y.shape == (500,)
    age, income = X.T
    assert 10 <= age.min() and age.max() <= 50
    assert 10_000 <= income.min() and income.max() <= 500_000
    assert np.isfinite(y).all()


def test_age_income_scales_differ_by_thousands():
    X, _ = age_income()
    ratio = X[:, 1].std() / X[:, 0].std()
    assert 1_000 < ratio < 10_000


def test_age_income_is_seeded():
    X1, y1 = age_income(seed=7)
    X2, y2 = age_income(seed=7)
    X3, _ = age_income(seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_income_is_right_skewed():
    X, _ = age_income(n=2000)
    income = X[:, 1]
    skew = np.mean((income - income.mean()) ** 3) / income.std() ** 3
    assert skew > 1.0
    assert income.mean() > np.median(income)


def test_target_follows_documented_process():
    X, y = age_income(n=5000, noise=0.3)
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(w, [0.05, 0.00002], rtol=0.05)
    assert abs(np.std(y - X @ [0.05, 0.00002]) - 0.3) < 0.02


def test_age_income_rejects_empty():
    with pytest.raises(ValueError):
        age_income(n=0)


def test_iris_loads():
    iris = load_iris()
    assert iris.X.shape == (150, 4) and iris.y.shape == (150,)
    assert set(np.unique(iris.y)) == {0, 1, 2}
    assert 4.0 < iris.X[:, 0].min() < iris.X[:, 0].max() < 8.0
