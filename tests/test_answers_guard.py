"""The learner's check refuses the course's own implementation, whatever the route (issue 10).

The grader's sandbox replaces ``helpers/answers`` by stand-ins (tests/test_sandbox.py);
in the learner's own kernel the real functions are there, and ``check`` must give the
same verdict: 0 of N cases, "uses the course's own implementation of `NAME`".
"""

import importlib
import inspect

import numpy as np
import pytest

import helpers.answers.l02 as course2
import helpers.answers.l03 as course3
from helpers.answers import guard
from helpers.checking.verdict import CheckFailed
from helpers.core import nn, scaling
from helpers.exercises import check, evaluate

REASON = "uses the course's own implementation of `{}`; write your own"


def honest_forward(X, gamma, beta, eps=1e-5):
    mean, var = X.mean(axis=0), X.var(axis=0)
    x_hat = (X - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (X, x_hat, mean, var, gamma, eps)


def direct(X, gamma, beta, eps=1e-5):
    return course3.batchnorm_forward(X, gamma, beta, eps)


_found = getattr(importlib.import_module("helpers." + "ans" + "wers.l" + "03"), "batchnorm_" + "forward")


def by_importlib(X, gamma, beta, eps=1e-5):
    return _found(X, gamma, beta, eps)


def through_the_layer(X, gamma, beta, eps=1e-5):
    layer = nn.BatchNorm(X.shape[1], eps=eps)
    layer.params["gamma"], layer.params["beta"] = gamma, beta
    out = layer.forward(X)
    return out, layer.cache


_ns = {"np": np}
exec(inspect.getsource(course3.batchnorm_forward), _ns)


def copied_with_getsource(X, gamma, beta, eps=1e-5):
    return _ns["batchnorm_forward"](X, gamma, beta, eps)


def honest_backward(dout, cache):
    """My own: the same formula as the course's, typed by a learner."""
    X, x_hat, mean, var, gamma, eps = cache
    d = dout * gamma
    dX = (d - d.mean(axis=0) - x_hat * (d * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@pytest.mark.parametrize("fn", [direct, by_importlib, through_the_layer, copied_with_getsource],
                         ids=lambda f: f.__name__)
def test_every_route_to_the_course_version_fails_with_the_reason(fn):
    report = evaluate("ex3_bn_forward", fn, own_work=True)
    assert report.status == "failed" and report.n_passed == 0
    assert {r.message for r in report.results} == {REASON.format("batchnorm_forward")}
    assert evaluate("ex3_bn_forward", fn).passed  # the same function without the guard


def test_honest_work_passes_with_the_guard():
    assert evaluate("ex3_bn_forward", honest_forward, own_work=True).passed
    assert evaluate("ex4_bn_backward", honest_backward, own_work=True).passed


def test_a_course_layer_of_another_lesson_counts_too():
    def zscore_fit(X):  # lesson 2 through helpers.core.scaling (built on the course's)
        return scaling.fit_scaling(X, "zscore")

    report = evaluate("ex2_zscore_fit", zscore_fit, own_work=True)
    assert report.results[0].message == REASON.format("zscore_fit")


def test_check_says_it_in_the_learner_kernel(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    with pytest.raises(CheckFailed):
        check("ex2_zscore_transform", course2.zscore_transform)
    assert REASON.format("zscore_transform") in shown[0].to_text()


def test_the_guard_is_off_outside_the_block():
    with guard.watching() as used:
        course3.batchnorm_eval(np.eye(2), 1.0, 0.0, 0.0, 1.0)
    course3.batchnorm_forward(np.eye(2), 1.0, 0.0)
    assert used == ["batchnorm_eval"]
