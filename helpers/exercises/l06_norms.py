"""Lesson 6's first exercises: ``normalize(X, axes)``, ``batchnorm2d_forward`` and
``groupnorm_forward``: test cases and judges (the exercise list is in
:mod:`helpers.exercises.l06`; the axes of the four normalizations in
:mod:`helpers.exercises.l06_axes`).

Conventions (PyTorch's): the mean and the *biased* variance over the axes, ε inside the
square root; BatchNorm2d takes its statistics per channel over (N, H, W); GroupNorm per
example over a group of C/G consecutive channels and (H, W); γ and β are per channel.
Cases marked "PyTorch" compare with the numbers torch computed (stored in the package).
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import (
    Mismatch,
    expect_array,
    expect_close,
    expect_number,
    expect_tuple,
    has_nonfinite,
)
from helpers.core.data import torch_reference
from helpers.exercises.l03_training import close


def standardized(X, axes, eps=1e-5, ddof=0):
    """The judges' reference (and its variants for named mistakes)."""
    mean = X.mean(axis=axes, keepdims=True)
    return (X - mean) / np.sqrt(X.var(axis=axes, ddof=ddof, keepdims=True) + eps)


def _ints(values):
    return tuple(int(v) for v in values)


def _mistakes(X, axes, eps, ref, got, what="you"):
    """A sentence for a classic mistake that explains ``got``, or None."""
    with np.errstate(all="ignore"):
        variants = [
            (standardized(X, axes, eps, ddof=1), "used the unbiased variance (divide by n − 1); "
             "the convention is the biased one (divide by the number of values averaged)"),
            (standardized(X, axes, 0.0), f"forgot ε (here eps={eps:g})"),
            ((X - X.mean(axis=axes, keepdims=True)) / (X.std(axis=axes, keepdims=True) + eps),
             "added ε to the standard deviation; it goes with the variance, under the root"),
            (standardized(X, None, eps), "took one mean and one variance of the whole array "
             "(axis=None); each slice over the given axes gets its own"),
            (standardized(X, axes[:1], eps) if len(axes) > 1 else None,
             f"reduced over axis {axes[0]} only; the statistics run over every axis in axes "
             "at once (numpy takes a tuple: axis=axes)"),
        ]
        others = tuple(a for a in range(X.ndim) if a not in axes)
        if others:
            variants.append((standardized(X, others, eps), "normalized over the *other* axes: "
                             "the mean runs over the axes listed, the others index the slices"))
    for wrong, message in variants:
        if wrong is not None and not close(wrong, ref) and close(got, wrong):
            return f"{what} {message}"
    return None


# --------------------------------------------------------------------------- normalize


def normalize_cases(rng):
    torch_cases = []
    for c in torch_reference()["normalize"]:
        X, axes = c["X"], _ints(c["axes"])
        if "reshape" in c:
            X = X.reshape(_ints(c["reshape"]))
            expected = c["out"].reshape(X.shape)
        else:
            expected = c["out"]
        torch_cases.append(Case(f"PyTorch: {c['name']}", (X, axes),
                                {} if c["eps"] == 1e-5 else {"eps": c["eps"]}, expected=expected))
    return [
        Case("5 examples × 3 features, axes (0,): lesson 3's batch norm",
             (rng.normal(2.0, 3.0, size=(5, 3)), (0,))),
        Case("(N, C, H, W) = (3, 4, 2, 5), axes (0, 2, 3)",
             (rng.normal(-1.0, 2.0, size=(3, 4, 2, 5)), (0, 2, 3))),
        Case("(N, C, H, W) = (2, 3, 4, 4), axes (1, 2, 3)",
             (rng.normal(size=(2, 3, 4, 4)) * rng.uniform(0.5, 5, size=(2, 1, 1, 1)), (1, 2, 3))),
        Case("a slice whose values are all equal (variance 0), axes (2, 3)",
             (np.concatenate([np.full((1, 2, 3, 3), 4.0), rng.normal(size=(1, 2, 3, 3))]), (2, 3))),
        Case("eps = 0.5 passed explicitly, axes (1,)",
             (rng.normal(size=(4, 6)) * 0.5, (1,)), {"eps": 0.5}),
        *torch_cases,
    ]


def normalize_judge(case, value):
    X, axes = case.args
    eps = case.kwargs.get("eps", 1e-5)
    if has_nonfinite(value, X.shape):
        raise Mismatch("your result contains NaN or inf: a slice whose values are all equal "
                       "has variance 0, which ε is there for")
    got = expect_array(value, X.shape, "your result")
    ref = standardized(X, axes, eps) if case.expected is None else case.expected
    if not close(got, ref, rtol=1e-6, atol=1e-8):
        message = _mistakes(X, axes, eps, ref, got)
        if message:
            raise Mismatch(message)
    expect_close(got, ref, "PyTorch's output" if case.expected is not None else "your result",
                 rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- BatchNorm2d


def bn2d_cases(rng):
    torch_cases = [Case(f"PyTorch's BatchNorm2d: {c['name']}", (c["X"], c["gamma"], c["beta"]),
                        {} if c["eps"] == 1e-5 else {"eps": c["eps"]}, expected=c["out"])
                   for c in torch_reference()["batchnorm2d"]]
    C = 4
    return [
        Case("4 images, 2 channels of 3×3, γ = 1, β = 0",
             (rng.normal(1.0, 2.0, size=(4, 2, 3, 3)), np.ones(2), np.zeros(2))),
        Case("3 images, 4 channels of 5×4 (W = C = 4), random γ and β",
             (rng.normal(size=(3, C, 5, C)) * rng.uniform(0.5, 4, size=(1, C, 1, 1)),
              rng.uniform(0.5, 2, size=C), rng.normal(size=C))),
        Case("one image, 3 channels of 4×4 (H·W values per channel are enough)",
             (rng.normal(size=(1, 3, 4, 4)), rng.uniform(0.5, 2, size=3), rng.normal(size=3))),
        *torch_cases,
    ]


def _per_channel(v):
    return np.asarray(v).reshape(1, -1, 1, 1)


def bn2d_judge(case, value):
    X, gamma, beta = case.args
    eps = case.kwargs.get("eps", 1e-5)
    out, cache = expect_tuple(value, 2, "(out, cache)")
    if has_nonfinite(out, X.shape):
        raise Mismatch("out contains NaN or inf")
    out = expect_array(out, X.shape, "out")
    ref = (_per_channel(gamma) * standardized(X, (0, 2, 3), eps) + _per_channel(beta)
           if case.expected is None else case.expected)
    if not close(out, ref, rtol=1e-6, atol=1e-8):
        x_hat = standardized(X, (0, 2, 3), eps)
        if X.shape[1] == X.shape[3] and close(out, gamma * x_hat + beta):
            raise Mismatch("γ and β were applied along the last axis (W): an array of shape "
                           "(C,) broadcasts against the last axis; give it the shape (1, C, 1, 1)")
        if close(out, _per_channel(beta) * x_hat + _per_channel(gamma)):
            raise Mismatch("γ and β are swapped: out = γ·x_hat + β")
        if close(out, _per_channel(gamma) * standardized(X, (0,), eps) + _per_channel(beta)):
            raise Mismatch("you took the statistics per pixel, over the N images only; a channel "
                           "is one filter used at every position, so its statistics pool the "
                           "positions too")
        message = _mistakes(X, (0, 2, 3), eps, standardized(X, (0, 2, 3), eps),
                            (out - _per_channel(beta)) / _per_channel(gamma))
        if message:
            raise Mismatch(message)
    expect_close(out, ref, "PyTorch's output" if case.expected is not None else "out",
                 rtol=1e-6, atol=1e-8)
    _check_cache(cache, X, gamma, eps)


def _check_cache(cache, X, gamma, eps):
    names = ("X", "x_hat", "mean", "var", "gamma", "eps")
    items = expect_tuple(cache, 6, "cache = (X, x_hat, mean, var, gamma, eps)")
    C = X.shape[1]
    want = {"X": X, "x_hat": standardized(X, (0, 2, 3), eps), "mean": X.mean(axis=(0, 2, 3)),
            "var": X.var(axis=(0, 2, 3)), "gamma": np.asarray(gamma)}
    for name, got in zip(names, items, strict=True):
        if name == "eps":
            if not np.isclose(expect_number(got, "the cache's eps"), eps):
                raise Mismatch(f"the cache's eps is {got}, expected {eps:g}")
            continue
        if name in ("mean", "var", "gamma") and np.size(got) == C:
            got = np.reshape(got, C)  # (C,) or (1, C, 1, 1): both are one value per channel
        arr = expect_array(got, np.shape(want[name]), f"the cache's {name}")
        expect_close(arr, want[name], f"the cache's {name}", rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- GroupNorm


def gn_cases(rng):
    torch_cases = [Case(f"PyTorch's GroupNorm: {c['name']}",
                        (c["X"], int(c["G"]), c["gamma"], c["beta"]),
                        {} if c["eps"] == 1e-5 else {"eps": c["eps"]}, expected=c["out"])
                   for c in torch_reference()["groupnorm"]]
    return [
        Case("2 images, 4 channels in 2 groups, 3×3, γ = 1, β = 0",
             (rng.normal(size=(2, 4, 3, 3)) + np.arange(4)[None, :, None, None], 2, np.ones(4),
              np.zeros(4))),
        Case("3 images, 6 channels in 3 groups, 2×5, random γ and β",
             (rng.normal(size=(3, 6, 2, 5)) * rng.uniform(0.5, 3, size=(1, 6, 1, 1)), 3,
              rng.uniform(0.5, 2, size=6), rng.normal(size=6))),
        Case("one image, 6 channels in 2 groups, 4×4",
             (rng.normal(2.0, 1.0, size=(1, 6, 4, 4)), 2, rng.uniform(0.5, 2, size=6),
              rng.normal(size=6))),
        *torch_cases,
    ]


def gn_reference(X, G, gamma, beta, eps, reshape=None, axes=(2, 3, 4)):
    N, C, H, W = X.shape
    shape = reshape or (N, G, C // G, H, W)
    x_hat = standardized(X.reshape(shape), axes, eps).reshape(X.shape)
    return _per_channel(gamma) * x_hat + _per_channel(beta)


def gn_judge(case, value):
    X, G, gamma, beta = case.args
    eps = case.kwargs.get("eps", 1e-5)
    N, C, H, W = X.shape
    if has_nonfinite(value, X.shape):
        raise Mismatch("out contains NaN or inf")
    if np.shape(value) == (N, G, C // G, H, W):
        raise Mismatch(f"out has the grouped shape {np.shape(value)}: reshape it back to "
                       f"(N, C, H, W) = {X.shape} before γ and β")
    out = expect_array(value, X.shape, "out")
    ref = gn_reference(X, G, gamma, beta, eps) if case.expected is None else case.expected
    if not close(out, ref, rtol=1e-6, atol=1e-8):
        mistakes = [
            (gn_reference(X, G, gamma, beta, eps, (N, C // G, G, H, W), (1, 3, 4)),
             "your groups take every G-th channel; a group is C/G *consecutive* channels: "
             "reshape to (N, G, C/G, H, W), the group index first"),
            (gn_reference(X, G, gamma, beta, eps, axes=(3, 4)), "each channel was normalized "
             "on its own (instance norm): one group's statistics pool its C/G channels too"),
            (gn_reference(X, G, gamma, beta, eps, axes=(0, 2, 3, 4)), "the statistics pooled "
             "the examples of the batch; group norm takes each example on its own"),
            (gn_reference(X, G, gamma, beta, eps, axes=(1, 2, 3, 4)), "that is layer norm: "
             "one statistic per example over all its channels, not per group"),
            (gn_reference(X, G, gamma, beta, 0.0), f"you forgot ε (here eps={eps:g})"),
            (gn_reference(X, G, beta, gamma, eps), "γ and β are swapped: out = γ·x_hat + β"),
        ]
        if C == W:
            x_hat = gn_reference(X, G, np.ones(C), np.zeros(C), eps)
            mistakes.append((gamma * x_hat + beta, "γ and β were applied along the last axis "
                             "(W): give them the shape (1, C, 1, 1)"))
        for wrong, message in mistakes:
            if not close(wrong, ref) and close(out, wrong):
                raise Mismatch(message)
    expect_close(out, ref, "PyTorch's output" if case.expected is not None else "out",
                 rtol=1e-6, atol=1e-8)
