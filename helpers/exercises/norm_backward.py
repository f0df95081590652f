"""The backward passes of batch norm (lesson 3) and layer norm (lesson 5): the closed-form
reference, the classic mistakes, and the large case whose cost is judged.

:func:`norm_backward` computes (dX, dgamma, dbeta) of out = γ·x_hat + β for a normalization
along axis 0 (batch norm) or 1 (layer norm) from X itself, exact up to rounding, so the
judge compares at rtol 1e-7 (with an absolute floor of 1e-9 of the size of dX's terms,
|dout·γ| / std, for entries that cancel to about 0). On the large case (:func:`cost_case`,
32,768 entries, first in the list) the call may take at most ``MAX_FORWARDS`` forward passes
of a plain layer timed in the same process (:mod:`helpers.checking.calling`): an analytic
backward pass takes 2-3, a finite-difference one 2·N·D.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import COST_KEY, MAX_FORWARDS, Case
from helpers.checking.expect import (
    Mismatch,
    close,
    expect_array,
    expect_close,
    expect_tuple,
)

CACHE_NAMES = "(X, x_hat, mean, var, gamma, eps)"


#: the large case whose cost is judged, per layer: 32,768 entries each (its inputs are
#: drawn where they are used, but dX and the inputs travel back to the grader), shaped so
#: that an honest loop over rows or columns stays cheap and a finite-difference dX costs
#: many forward passes even when it moves a whole row (batch norm: 2·N) or a whole column
#: (layer norm, RMSNorm: 2·D) at once (benchmarks/bench_backward_cost.py)
COST_SHAPES = {"batchnorm": (256, 128), "layernorm": (16, 2048), "rmsnorm": (16, 2048)}


def cost_case(rng, layer):
    """The large case, first (nothing of the learner's has run in the grader's fresh copy
    of the calling code yet), its cost bounded by the ``layer``'s forward pass. It travels
    as its seed: ``case.call_args`` draws (dout, cache) where it is used."""
    n, d = COST_SHAPES[layer]
    return Case(f"{n} examples × {d} features: at most {MAX_FORWARDS} forward passes' time",
                kwargs={COST_KEY: [layer, int(rng.integers(2**31)), n, d]})


def norm_backward(dout, X, gamma, eps, axis):
    """The gradients of out = γ·x_hat + β, x_hat normalized along ``axis`` (0: batch norm,
    1: layer norm), in closed form from X itself: (dX, dgamma, dbeta)."""
    mean = X.mean(axis=axis, keepdims=True)
    std = np.sqrt(((X - mean) ** 2).mean(axis=axis, keepdims=True) + eps)
    x_hat, dx_hat = (X - mean) / std, dout * gamma
    dX = (dx_hat - dx_hat.mean(axis=axis, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)) / std
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def backward_mistakes(dout, X, x_hat, var, gamma, eps, axis, over):
    """[(wrong dX, message, id)] of the classic mistakes of a normalization's backward pass;
    ``over``: what the statistics are taken over ("the batch" or "the features")."""
    std, dx_hat, n = np.sqrt(var + eps), dout * gamma, X.shape[axis]

    def full(d, s=std, reduce=np.mean, ax=axis, k=1.0):
        return (d - k * reduce(d, axis=ax, keepdims=True)
                - k * x_hat * reduce(d * x_hat, axis=ax, keepdims=True)) / s

    other = f"(axis {1 - axis})"
    return [
        (dx_hat / std, "dX = dout·γ/√(var + ε) treats the mean and variance as constants, but "
         "they are computed from X: add the two terms that flow through the mean and through "
         "the variance", "statistics-constant"),
        (dout / std, "dX = dout/√(var + ε) treats the mean and variance as constants (and "
         "forgets γ): start from dx_hat = dout·γ and add the terms through the mean and the "
         "variance", "statistics-constant"),
        ((dx_hat - dx_hat.mean(axis=axis, keepdims=True)) / std, "dX includes the path "
         "through the mean but not the one through the variance: the variance path adds a "
         "term proportional to x_hat", "no-variance-path"),
        ((dx_hat - x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)) / std, "dX "
         "includes the path through the variance but not the one through the mean: the mean "
         "path adds a term that is the same for every entry it averages over", "no-mean-path"),
        (full(dout), "you forgot γ in dX: the gradient that reaches x_hat is dout·γ, and every "
         "term of dX is built from it", "missing-gamma"),
        (full(dx_hat, reduce=np.sum), f"the two extra terms use means over {over} (sum ÷ "
         f"{n}), not sums", "sums-not-means"),
        (full(dx_hat) / n, f"you divided by N = {n} twice: with means over {over} the extra "
         "terms already carry the 1/N; the whole dX is not divided by N again",
         "divides-by-n-twice"),
        (full(dx_hat, k=1.0 / n), f"you divided by N = {n} twice: the extra terms are means "
         f"over {over} (sum ÷ N), not means divided by N again", "divides-by-n-twice"),
        (full(dx_hat, ax=1 - axis) if X.shape[1 - axis] > 1 else None, f"you took the means "
         f"over the other axis {other}; the statistics here are over {over}", "wrong-axis"),
        (-full(dx_hat), "dX has the wrong sign: x_hat grows with X, so dX points the way "
         "dx_hat does", "wrong-sign"),
        ((dx_hat + dx_hat.mean(axis=axis, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)) / std, "the term "
         "through the mean has the wrong sign: the mean is subtracted from X, so its term is "
         "subtracted", "mean-term-sign"),
        ((dx_hat - dx_hat.mean(axis=axis, keepdims=True)
          + x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)) / std, "the term "
         "through the variance has the wrong sign: a larger variance makes x_hat smaller, so "
         "its term is subtracted", "variance-term-sign"),
        (full(dx_hat, s=np.sqrt(var)), f"you forgot ε (here eps={eps:g}): divide by "
         "√(var + ε), the same standard deviation as in the forward pass", "no-eps"),
        (full(dx_hat, s=np.sqrt(var) + eps), "ε goes inside the square root: divide by "
         "√(var + ε), not √var + ε", "eps-outside-sqrt"),
        (full(dx_hat, s=np.sqrt(var + 1e-5)) if eps != 1e-5 else None, f"you used ε = 1e-5 "
         f"instead of the cache's eps ({eps:g})", "hard-coded-eps"),
    ]


def judge_backward(case, value, axis, over, expected=None, what=""):
    """Judge (dX, dgamma, dbeta) of a normalization's backward pass against the closed form
    (or ``expected``, e.g. PyTorch's numbers), naming the classic mistakes."""
    dout, (X, x_hat, mean, var, gamma, eps) = case.call_args
    dX, dgamma, dbeta = expect_tuple(value, 3, "(dX, dgamma, dbeta)")
    try:
        raw = np.asarray(dX, dtype=float)
    except (TypeError, ValueError):
        raw = None
    if raw is not None and raw.shape == X.shape and np.isnan(raw).any():
        raise Mismatch(f"dX contains NaN. Unpack the cache in its order, {CACHE_NAMES}: the "
                       "square root of a negative number (the mean where var should be, "
                       "say) gives NaN", "cache-order")
    if np.shape(dgamma) == X.shape:
        raise Mismatch("dgamma has one value per entry; γ_j is shared by every example, so "
                       "add up the contributions of all the examples", "not-summed")
    dX = expect_array(dX, X.shape, "dX")
    dgamma = expect_array(dgamma, gamma.shape, "dgamma")
    dbeta = expect_array(dbeta, gamma.shape, "dbeta")
    ref = norm_backward(dout, X, gamma, eps, axis) if expected is None else expected
    if (close(dgamma, ref[2]) and close(dbeta, ref[1]) and not close(ref[1], ref[2])):
        raise Mismatch("dgamma and dbeta are swapped: return (dX, dgamma, dbeta), with "
                       "dgamma = Σ dout·x_hat and dbeta = Σ dout", "swapped")
    sums = float(np.abs(dout).sum(axis=0).max()) * max(1.0, float(np.abs(x_hat).max()))
    expect_close(dbeta, ref[2], f"dbeta{what}", rtol=1e-7, atol=1e-12 * sums, scale=sums)
    expect_close(dgamma, ref[1], f"dgamma{what}", rtol=1e-7, atol=1e-12 * sums, scale=sums)
    # dX's entries are sums of terms of size |dout·γ|·|x_hat| / std: they may cancel to ~0
    scale = float(np.abs(dout * gamma).max(initial=0.0) / np.sqrt(var + eps).min()) * \
        max(1.0, float(np.abs(x_hat).max()))
    if not close(dX, ref[0], rtol=1e-7, atol=1e-9 * scale, scale=scale):
        for wrong, message, mistake in backward_mistakes(dout, X, x_hat, var, gamma, eps,
                                                         axis, over):
            if wrong is not None and close(dX, wrong) and not close(wrong, ref[0]):
                raise Mismatch(message, mistake)
    expect_close(dX, ref[0], f"dX{what}", rtol=1e-7, atol=1e-9 * scale, scale=scale)
