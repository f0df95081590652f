"""Lesson 1's exercises: the solutions pass; classic wrong answers fail with the right message."""

import numpy as np
import pytest

from helpers.checking.verdict import CheckFailed, NotDoneYet, failed_messages
from helpers.exercises import check, evaluate, lesson_exercises
from helpers.exercises.spec import answer_digest

_report = evaluate
_messages = failed_messages


# --------------------------------------------------------------------------- solutions


def mse_gradient(X, y, w, b):
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), float(2 * r.mean())


def max_stable_learning_rate(X):
    return float(2 / np.linalg.eigvalsh(2 * X.T @ X / len(X))[-1])


def _hessian_eigs(X, n=None):
    return np.linalg.eigvalsh(2 * X.T @ X / (n or len(X)))


def test_ids_points_and_order_are_stable():
    exs = lesson_exercises("01_feature_scale")
    assert [e.id for e in exs] == ["ex1_gradient", "ex1_max_lr", "ex1_concept_scale"]
    assert [e.points for e in exs] == [2, 2, 1]
    assert [e.function for e in exs] == ["mse_gradient", "max_stable_learning_rate",
                                         "answer_scale_question"]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise_id,fn", [("ex1_gradient", mse_gradient),
                                            ("ex1_max_lr", max_stable_learning_rate),
                                            ("ex1_concept_scale", lambda: "b")])
def test_solutions_pass(exercise_id, fn, seed):
    report = _report(exercise_id, fn, seed)
    assert report.passed, _messages(report)


def test_concept_answer_variants_and_digest():
    assert _report("ex1_concept_scale", lambda: " B ").passed
    assert answer_digest("ex1_concept_scale", "b") == \
        "1b0fc77376007250764168d5b3846530638e3237aca965754457636ad07f8f22"
    wrong = _report("ex1_concept_scale", lambda: "a")
    assert not wrong.passed and "square" in _messages(wrong)
    assert "one of" in _messages(_report("ex1_concept_scale", lambda: "e"))
    assert "letter" in _messages(_report("ex1_concept_scale", lambda: 2))
    assert "steeper" in _messages(_report("ex1_concept_scale", lambda: "d"))


# --------------------------------------------------------------------------- gradient mistakes


def _scaled(k):
    return lambda X, y, w, b: tuple(np.asarray(g) * k for g in mse_gradient(X, y, w, b))


GRADIENT_MISTAKES = {
    "missing factor 2": (_scaled(0.5), "keep the factor 2"),
    "wrong sign": (_scaled(-1.0), "wrong sign"),
    "n - 1": (lambda X, y, w, b: tuple(np.asarray(g) * len(y) / (len(y) - 1)
                                      for g in mse_gradient(X, y, w, b)), "n − 1"),
    "sum instead of mean": (lambda X, y, w, b: tuple(np.asarray(g) * len(y)
                                                     for g in mse_gradient(X, y, w, b)),
                            "divide the sum by n"),
    "mean over the wrong axis": (lambda X, y, w, b: (2 * (X * (X @ w + b - y)[:, None]).mean(1),
                                                     2 * (X @ w + b - y).mean()),
                                 "one value per example"),
    "wrong shape (column vector)": (lambda X, y, w, b: (mse_gradient(X, y, w, b)[0][:, None],
                                                        mse_gradient(X, y, w, b)[1]), "shape"),
    "forgot return": (lambda X, y, w, b: None, "forget `return`"),
    "only grad_w": (lambda X, y, w, b: mse_gradient(X, y, w, b)[0], "expected a tuple"),
    "NaN": (lambda X, y, w, b: (np.full_like(w, np.nan), 0.0), "NaN"),
    "raises": (lambda X, y, w, b: X @ np.ones(len(w) + 1), "raised ValueError"),
    "forgot the bias": (lambda X, y, w, b: mse_gradient(X, y, w, 0.0), "ŷ = X @ w + b"),
    "string": (lambda X, y, w, b: ("grad", 0.0), "string"),
}


@pytest.mark.parametrize("name", list(GRADIENT_MISTAKES))
def test_gradient_mistake_is_named(name):
    fn, phrase = GRADIENT_MISTAKES[name]
    report = _report("ex1_gradient", fn)
    assert report.status == "failed"
    assert phrase in _messages(report), _messages(report)


def test_gradient_mutation_is_caught():
    def mutating(X, y, w, b):
        X -= X.mean(axis=0)
        return mse_gradient(X, y, w, b)

    report = _report("ex1_gradient", mutating)
    assert not report.passed and "changed its input X in place" in _messages(report)


def test_gradient_list_return_is_accepted():
    report = _report("ex1_gradient", lambda X, y, w, b: [list(mse_gradient(X, y, w, b)[0]),
                                                        mse_gradient(X, y, w, b)[1]])
    assert report.passed, _messages(report)


def test_gradient_small_error_says_how_far_off():
    def off(X, y, w, b):
        gw, gb = mse_gradient(X, y, w, b)
        return gw + 0.01 * np.arange(1, len(gw) + 1), gb

    msg = _messages(_report("ex1_gradient", off))
    assert "off by up to" in msg and "relative error" in msg


# --------------------------------------------------------------------------- learning-rate mistakes

LR_MISTAKES = {
    "1/lambda_max": (lambda X: max_stable_learning_rate(X) / 2, "1/λ_max"),
    "no factor 2 in the Hessian": (lambda X: float(2 / np.linalg.eigvalsh(X.T @ X / len(X))[-1]),
                                   "factor 2"),
    "n - 1": (lambda X: float(2 / _hessian_eigs(X, len(X) - 1)[-1]), "n − 1"),
    "no 1/n": (lambda X: float(2 / np.linalg.eigvalsh(2 * X.T @ X)[-1]), "factor 1/n"),
    "smallest eigenvalue": (lambda X: float(2 / _hessian_eigs(X)[0]), "smallest eigenvalue"),
    "all eigenvalues": (lambda X: 2 / _hessian_eigs(X), "one number"),
    "list": (lambda X: [max_stable_learning_rate(X)] * 2, "one number"),
    "None": (lambda X: None, "None"),
    "NaN": (lambda X: float("nan"), "NaN"),
    "negative": (lambda X: -max_stable_learning_rate(X), "positive"),
    "raises": (lambda X: np.linalg.inv(X), "raised"),
    "1% too large": (lambda X: 1.01 * max_stable_learning_rate(X), "diverges below your value"),
    "10% too small": (lambda X: 0.9 * max_stable_learning_rate(X), "still converges above it"),
    "lambda_max itself": (lambda X: float(_hessian_eigs(X)[-1]), "λ_max itself"),
    "centered (np.cov)": (lambda X: float(2 / np.linalg.eigvalsh(2 * np.atleast_2d(np.cov(X.T)))[-1]),
                          "you centered X"),
}


@pytest.mark.parametrize("name", list(LR_MISTAKES))
def test_lr_mistake_is_named(name):
    fn, phrase = LR_MISTAKES[name]
    report = _report("ex1_max_lr", fn)
    assert report.status == "failed"
    assert phrase in _messages(report), _messages(report)


def test_lr_mutation_is_caught():
    def mutating(X):
        X *= 2
        return max_stable_learning_rate(X / 2)

    assert "changed its input" in _messages(_report("ex1_max_lr", mutating))


# --------------------------------------------------------------------------- the check cell


def test_check_raises_not_done_and_failed_and_passes(capsys):
    def stub(X, y, w, b):
        raise NotImplementedError()

    with pytest.raises(NotDoneYet):
        check("ex1_gradient", stub)
    with pytest.raises(CheckFailed):
        check("ex1_gradient", _scaled(0.5))
    check("ex1_gradient", mse_gradient)
    check("ex1_max_lr", max_stable_learning_rate)
    check("ex1_concept_scale", lambda: "b")
