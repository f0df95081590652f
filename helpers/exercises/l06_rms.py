"""Lesson 6's RMSNorm exercises: test cases and judges of ``rmsnorm_forward`` and
``rmsnorm_backward`` (the exercise list is in :mod:`helpers.exercises.l06`).

Convention (PyTorch's ``nn.RMSNorm(D, eps)``): each example, the last axis, is divided by
√(mean of its squares + ε) and multiplied by γ; no mean is subtracted and there is no β.
The cache is ``(X, x_hat, rms, gamma)`` with ``rms`` of shape (..., 1). The backward
judge compares with complex-step derivatives of the forward pass, exact to rounding
(no subtraction of nearby numbers, unlike finite differences), and, for the cases
marked "PyTorch", with torch's gradients.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_tuple,
    has_nonfinite,
)
from helpers.core.data import torch_reference
from helpers.exercises.l03_training import close

CACHE_NAMES = ("X", "x_hat", "rms", "gamma")


def rms_of(X, eps):
    return np.sqrt((X * X).mean(axis=-1, keepdims=True) + eps)


def reference(X, gamma, eps):
    return gamma * X / rms_of(X, eps)


# --------------------------------------------------------------------------- forward


def forward_cases(rng):
    torch_cases = [Case(f"PyTorch's RMSNorm: {c['name']}", (c["X"], c["gamma"]),
                        {"eps": c["eps"]}, expected=c["out"]) for c in torch_reference()["rmsnorm"]]
    return [
        Case("3 examples × 4 features, γ = 1", (rng.normal(1.0, 2.0, size=(3, 4)), np.ones(4))),
        Case("2 sequences × 5 tokens × 6 features, random γ",
             (rng.normal(size=(2, 5, 6)) * 3, rng.uniform(0.5, 2, size=6))),
        Case("an example of zeros (ε keeps it finite), eps = 1e-6",
             (np.vstack([np.zeros(5), rng.normal(size=5)]), rng.uniform(0.5, 2, size=5))),
        Case("eps = 0.5 passed explicitly", (rng.normal(size=(4, 3)) * 0.5, np.ones(3)),
             {"eps": 0.5}),
        *torch_cases,
    ]


def forward_judge(case, value):
    X, gamma = case.args
    eps = case.kwargs.get("eps", 1e-6)
    out, cache = expect_tuple(value, 2, "(out, cache)")
    if has_nonfinite(out, X.shape):
        raise Mismatch("out contains NaN or inf: an example of zeros has a mean square of 0, "
                       "which ε is there for")
    out = expect_array(out, X.shape, "out")
    ref = reference(X, gamma, eps) if case.expected is None else case.expected
    if not close(out, ref, rtol=1e-6, atol=1e-8):
        with np.errstate(all="ignore"):
            centred = X - X.mean(axis=-1, keepdims=True)
            mistakes = [
                (gamma * centred / rms_of(centred, eps), "you subtracted each example's mean: "
                 "that is layer norm without β; RMSNorm leaves the mean in"),
                (gamma * X / np.sqrt((X * X).sum(axis=-1, keepdims=True) + eps),
                 "you divided by the root of the *sum* of squares; RMSNorm uses their mean"),
                (gamma * X / (np.sqrt((X * X).mean(axis=-1, keepdims=True)) + eps),
                 "ε goes inside the root, added to the mean square"),
                (gamma * X / np.sqrt((X * X).mean(axis=0, keepdims=True) + eps),
                 "you averaged over the examples (axis 0); RMSNorm takes each example on its own: "
                 "the last axis"),
                (X / rms_of(X, eps), "out is missing γ"),
                (gamma * X / rms_of(X, 1e-6), f"you used ε = 1e-6 instead of the eps argument "
                 f"({eps:g})"),
                (gamma * X / np.sqrt(X.var(axis=-1, keepdims=True) + eps),
                 "you divided by the standard deviation, which subtracts the mean; RMSNorm "
                 "uses the root mean square of the values themselves"),
            ]
        for wrong, message in mistakes:
            if not close(wrong, ref) and close(out, wrong):
                raise Mismatch(message)
    expect_close(out, ref, "PyTorch's output" if case.expected is not None else "out",
                 rtol=1e-6, atol=1e-8)
    _check_cache(cache, X, gamma, eps)


def _check_cache(cache, X, gamma, eps):
    items = expect_tuple(cache, 4, "cache = (X, x_hat, rms, gamma) (the format rmsnorm_backward "
                                   "receives in its checks)")
    want = (X, X / rms_of(X, eps), rms_of(X, eps), np.asarray(gamma))
    for name, got, ref in zip(CACHE_NAMES, items, want, strict=True):
        if name == "rms" and np.shape(got) == X.shape[:-1]:
            raise Mismatch(f"the cache's rms has shape {np.shape(got)}; keep the last axis "
                           f"(keepdims=True): {ref.shape}, one value per example")
        arr = expect_array(got, ref.shape, f"the cache's {name}")
        if name == "rms" and close(arr, ref * ref):
            raise Mismatch("the cache's rms is the mean square; keep its root (with ε)")
        expect_close(arr, ref, f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- backward


def _case(name, X, gamma, dout, eps=1e-6, expected=None):
    """rmsnorm_backward(dout, cache) with the cache rmsnorm_forward(X, gamma, eps) makes
    (the judge reads ε back from it: rms² − mean(X²))."""
    rms = rms_of(X, eps)
    return Case(name, (dout, (X, X / rms, rms, gamma)), expected=expected)


def backward_cases(rng):
    torch_cases = [_case(f"PyTorch's RMSNorm: {c['name']}", c["X"], c["gamma"], c["dout"],
                         c["eps"], expected=(c["dX"], c["dgamma"]))
                   for c in torch_reference()["rmsnorm"]]
    X_flat = rng.normal(size=(3, 4))
    return [
        _case("3 examples × 4 features, γ = 1", rng.normal(1.0, 2.0, size=(3, 4)), np.ones(4),
              rng.normal(size=(3, 4))),
        _case("2 sequences × 3 tokens × 5 features, random γ", rng.normal(size=(2, 3, 5)),
              rng.uniform(0.5, 2, size=5), rng.normal(size=(2, 3, 5))),
        _case("one example, 6 features, ε = 0.5 (not negligible)", rng.normal(size=(1, 6)) * 0.5,
              rng.uniform(0.5, 2, size=6), rng.normal(size=(1, 6)), eps=0.5),
        _case("dout = x_hat, γ = 1 (the gradient with respect to X is almost 0)", X_flat,
              np.ones(4), X_flat / rms_of(X_flat, 1e-6)),
        *torch_cases,
    ]


def complex_step_backward(dout, X, gamma, eps, h=1e-30):
    """dL/dX and dL/dγ of L = sum(dout · rmsnorm(X)) by complex steps: one forward pass per
    feature, each example's loss kept apart (an example's output depends on it alone)."""
    dX = np.zeros_like(X)
    for j in range(X.shape[-1]):
        Z = X.astype(complex)
        Z[..., j] += 1j * h
        out = gamma * Z / np.sqrt((Z * Z).mean(axis=-1, keepdims=True) + eps)
        dX[..., j] = (dout * out).sum(axis=-1).imag / h
    return dX, (dout * X / rms_of(X, eps)).reshape(-1, X.shape[-1]).sum(axis=0)


def backward_judge(case, value):
    dout, (X, x_hat, rms, gamma) = case.args
    eps = float((rms * rms - (X * X).mean(axis=-1, keepdims=True)).mean())
    dX, dgamma = expect_tuple(value, 2, "(dX, dgamma)")
    D = X.shape[-1]
    if X.ndim > 2 and np.shape(dgamma) == X.shape[1:]:
        raise Mismatch(f"dgamma has shape {np.shape(dgamma)}: you summed over the first axis "
                       f"only; γ is shared by every example and every token, so sum over every "
                       f"axis but the last: shape ({D},)")
    if np.shape(dgamma) == X.shape:
        raise Mismatch("dgamma has one value per entry; γ is shared by every example: sum "
                       "over all the other axes")
    dX = expect_array(dX, X.shape, "dX")
    dgamma = expect_array(dgamma, (D,), "dgamma")
    ref = complex_step_backward(dout, X, gamma, eps) if case.expected is None else case.expected
    what = "PyTorch's" if case.expected is not None else "the exact gradient"
    expect_close(dgamma, ref[1], f"dgamma (compared with {what})", rtol=1e-6, atol=1e-8)
    if not close(dX, ref[0], rtol=1e-6, atol=1e-8):
        dx_hat = dout * gamma

        def full(d, r=rms, centre=False):
            extra = d.mean(axis=-1, keepdims=True) if centre else 0.0
            return (d - extra - x_hat * (d * x_hat).mean(axis=-1, keepdims=True)) / r

        mistakes = [
            (dx_hat / rms, "dX = dout·γ / rms treats the root mean square as a constant; it "
                           "depends on every feature of the example, which adds a second term"),
            (full(dx_hat, centre=True), "you kept layer norm's term of the mean: RMSNorm never "
                                        "subtracts a mean, so that term has nothing to come from"),
            (full(dout), "you forgot γ: start from dL/dx_hat = dout·γ"),
            (full(dx_hat, r=np.sqrt((X * X).mean(axis=-1, keepdims=True))),
             "you left ε out of the root mean square; use the rms of the cache"),
            (-full(dx_hat), "the sign is flipped"),
            ((dx_hat - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True)) / rms,
             "the second term sums over the features where it should average (a factor D)"),
        ]
        for wrong, message in mistakes:
            if not close(wrong, ref[0]) and close(dX, wrong):
                raise Mismatch(message)
    expect_close(dX, ref[0], f"dX (compared with {what})", rtol=1e-6, atol=1e-8)
