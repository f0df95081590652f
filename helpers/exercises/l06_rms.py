"""Lesson 6's RMSNorm exercises: test cases and judges of ``rmsnorm_forward`` and
``rmsnorm_backward`` (the exercise list is in :mod:`helpers.exercises.l06`).

Convention (PyTorch's ``nn.RMSNorm(D, eps)``): each example, the last axis, is divided by
√(mean of its squares + ε) and multiplied by γ; no mean is subtracted and there is no β.
The cache is ``(X, x_hat, rms, gamma)`` with ``rms`` of shape (..., 1). The backward
judge compares with the closed form (:func:`closed_form_backward`, exact up to rounding)
and, for the cases marked "PyTorch", with torch's gradients; its first case is large and
its cost is judged (:func:`helpers.exercises.norm_backward.cost_case`): a
finite-difference gradient takes far more than ``calling.MAX_FORWARDS`` forward passes.
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
from helpers.exercises.norm_backward import cost_case

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
                       "which ε is there for", "no-eps")
    out = expect_array(out, X.shape, "out")
    ref = reference(X, gamma, eps) if case.expected is None else case.expected
    if not close(out, ref, rtol=1e-6, atol=1e-8):
        with np.errstate(all="ignore"):
            centred = X - X.mean(axis=-1, keepdims=True)
            mistakes = [
                (gamma * centred / rms_of(centred, eps), "you subtracted each example's mean: "
                 "that is layer norm without β; RMSNorm leaves the mean in", "centred"),
                (gamma * X / np.sqrt((X * X).sum(axis=-1, keepdims=True) + eps),
                 "you divided by the root of the *sum* of squares; RMSNorm uses their mean",
                 "sum-of-squares"),
                (gamma * X / (np.sqrt((X * X).mean(axis=-1, keepdims=True)) + eps),
                 "ε goes inside the root, added to the mean square", "eps-outside-sqrt"),
                (gamma * X / np.sqrt((X * X).mean(axis=0, keepdims=True) + eps),
                 "you averaged over the examples (axis 0); RMSNorm takes each example on its own: "
                 "the last axis", "wrong-axis"),
                (X / rms_of(X, eps), "out is missing γ", "no-gamma"),
                (gamma * X / rms_of(X, 1e-6), f"you used ε = 1e-6 instead of the eps argument "
                 f"({eps:g})", "hard-coded-eps"),
                (gamma * X / np.sqrt(X.var(axis=-1, keepdims=True) + eps),
                 "you divided by the standard deviation, which subtracts the mean; RMSNorm "
                 "uses the root mean square of the values themselves", "std-not-rms"),
            ]
        for wrong, message, mistake in mistakes:
            if not close(wrong, ref) and close(out, wrong):
                raise Mismatch(message, mistake)
    expect_close(out, ref, "PyTorch's output" if case.expected is not None else "out",
                 rtol=1e-6, atol=1e-8)
    _check_cache(cache, X, gamma, eps)


def _check_cache(cache, X, gamma, eps):
    items = expect_tuple(cache, 4, "cache = (X, x_hat, rms, gamma) (the format rmsnorm_backward "
                                   "receives in its checks)")
    want = (X, X / rms_of(X, eps), rms_of(X, eps), np.asarray(gamma))
    for name, got, ref in zip(CACHE_NAMES, items, want, strict=True):
        if name == "rms" and np.shape(got) == X.shape[:-1]:
            raise Mismatch(f"the cache's rms has shape {np.shape(got)}; keep the reduced last "
                           f"axis with size 1, {ref.shape}: one value per example, ready to "
                           "divide X by", "cache-shape")
        arr = expect_array(got, ref.shape, f"the cache's {name}")
        if name == "rms" and close(arr, ref * ref):
            raise Mismatch("the cache's rms is the mean square; keep its root (with ε)",
                           "cache-mean-square")
        expect_close(arr, ref, f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- backward


def _case(name, X, gamma, dout, eps=1e-6, expected=None):
    """rmsnorm_backward(dout, cache) with the cache rmsnorm_forward(X, gamma, eps) makes."""
    rms = rms_of(X, eps)
    return Case(name, (dout, (X, X / rms, rms, gamma)), expected=expected)


def backward_cases(rng):
    torch_cases = [_case(f"PyTorch's RMSNorm: {c['name']}", c["X"], c["gamma"], c["dout"],
                         c["eps"], expected=(c["dX"], c["dgamma"]))
                   for c in torch_reference()["rmsnorm"]]
    X_flat = rng.normal(size=(3, 4))
    return [
        cost_case(rng, "rmsnorm"),
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


def closed_form_backward(dout, X, gamma, rms):
    """(dX, dgamma) of L = sum(dout · γ·X/rms), rms = √(mean(X²) + ε) over the last axis:
    ∂rms/∂x_j = x_j / (D·rms), so dX = (dx_hat − x_hat·mean(dx_hat·x_hat)) / rms."""
    x_hat, dx_hat = X / rms, dout * gamma
    dX = (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=-1, keepdims=True)) / rms
    return dX, (dout * x_hat).reshape(-1, X.shape[-1]).sum(axis=0)


def _dx_mistakes(dout, X, x_hat, rms, gamma):
    """[(wrong dX, message, id)] of the classic mistakes of RMSNorm's backward pass."""
    dx_hat, mean_square = dout * gamma, (X * X).mean(axis=-1, keepdims=True)
    eps = float((rms * rms - mean_square).mean())  # the forward pass's ε, read back

    def full(d, r=rms, reduce=np.mean, centre=False):
        extra = d.mean(axis=-1, keepdims=True) if centre else 0.0
        return (d - extra - x_hat * reduce(d * x_hat, axis=-1, keepdims=True)) / r

    return [
        (dx_hat / rms, "dX = dout·γ / rms treats the root mean square as a constant; it "
                       "depends on every feature of the example, which adds a second term",
         "rms-constant"),
        (full(dx_hat, centre=True), "you kept layer norm's term of the mean: RMSNorm never "
                                    "subtracts a mean, so that term has nothing to come from",
         "mean-term"),
        (full(dout), "you forgot γ: start from dL/dx_hat = dout·γ", "missing-gamma"),
        (full(dx_hat, r=np.sqrt(mean_square)),
         "you left ε out of the root mean square; use the rms of the cache", "no-eps"),
        (full(dx_hat, r=np.sqrt(mean_square + 1e-6)) if abs(eps - 1e-6) > 1e-9 else None,
         f"you recomputed the rms with ε = 1e-6, but this forward pass used ε = {eps:.3g}: "
         "use the rms of the cache", "hard-coded-eps"),
        (-full(dx_hat), "the sign is flipped: x_hat grows with X, so dX points the way "
                        "dout·γ does", "wrong-sign"),
        (full(dx_hat, reduce=np.sum), "the second term sums over the features where it should "
                                      "average (a factor D)", "sums-not-means"),
    ]


def backward_judge(case, value):
    dout, (X, x_hat, rms, gamma) = case.call_args
    dX, dgamma = expect_tuple(value, 2, "(dX, dgamma)")
    D = X.shape[-1]
    if X.ndim > 2 and np.shape(dgamma) == X.shape[1:]:
        raise Mismatch(f"dgamma has shape {np.shape(dgamma)}: you summed over the first axis "
                       f"only; γ is shared by every example and every token, so sum over every "
                       f"axis but the last: shape ({D},)", "first-axis-only")
    if np.shape(dgamma) == X.shape:
        raise Mismatch("dgamma has one value per entry; γ is shared by every example: sum "
                       "over all the other axes", "not-summed")
    dX = expect_array(dX, X.shape, "dX")
    dgamma = expect_array(dgamma, (D,), "dgamma")
    ref = closed_form_backward(dout, X, gamma, rms) if case.expected is None else case.expected
    what = " (compared with PyTorch's)" if case.expected is not None else ""
    # dgamma sums dout·x_hat over the examples; dX's entries are differences of terms of
    # size |dout·γ| / rms · |x_hat| that may cancel to ~0: absolute floors from those sizes
    big = max(1.0, float(np.abs(x_hat).max()))
    sums = float(np.abs(dout).reshape(-1, D).sum(axis=0).max()) * big
    scale = float(np.abs(dout * gamma).max(initial=0.0) / rms.min()) * big
    if close(dgamma, (dout * X).reshape(-1, D).sum(axis=0)) and not close(dgamma, ref[1]):
        raise Mismatch("dgamma sums dout·X; γ multiplies x_hat, so it sums dout·x_hat",
                       "dgamma-uses-x")
    expect_close(dgamma, ref[1], f"dgamma{what}", rtol=1e-7, atol=1e-12 * sums, scale=sums)
    if not close(dX, ref[0], rtol=1e-7, atol=1e-9 * scale, scale=scale):
        for wrong, message, mistake in _dx_mistakes(dout, X, x_hat, rms, gamma):
            if wrong is not None and not close(wrong, ref[0]) and close(dX, wrong):
                raise Mismatch(message, mistake)
    expect_close(dX, ref[0], f"dX{what}", rtol=1e-7, atol=1e-9 * scale, scale=scale)
