"""Lesson 3's backward pass, node by node: the cases and judges of each node's local gradient.

The forward graph of batch norm (per unit, over a batch of n examples):

    X -> mean -> xc = X - mean -> var = mean(xc²) -> std = √(var + ε) -> x_hat = xc / std
      -> out = γ·x_hat + β

Each node exercise receives the gradient of the node's output and returns the gradients
of its inputs. Every judge compares with central finite differences of that node's own
forward function (no answer shipped), after naming the classic mistakes: a gradient of a
shared value (one per unit) not summed over the batch, a missing factor (γ, 2, ½, 1/n),
a wrong sign, a missing ε. The assembled staged backward pass is judged like
``batchnorm_backward`` (:func:`helpers.exercises.l03_training.backward_judge`).
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_array, expect_close, expect_tuple
from helpers.exercises.l03_training import backward_judge, close


def numerical_gradient(forward, inputs, wrt, upstream, h=1e-6):
    """Central differences of L = Σ upstream · forward(*inputs) in inputs[wrt]."""
    inputs = [np.array(a, dtype=float) for a in inputs]
    x = inputs[wrt]
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        value = []
        for step in (h, -h):
            moved = list(inputs)
            moved[wrt] = x.copy()
            moved[wrt][i] += step
            value.append(float(np.sum(upstream * forward(*moved))))
        grad[i] = (value[0] - value[1]) / (2 * h)
    return grad


def _grad(value, ref, name, mistakes=(), shared=""):
    """Judge one returned gradient: shape (naming an unsummed shared gradient), then the
    named mistakes [(wrong value, message)], then the finite-difference reference."""
    if shared and np.ndim(ref) == 1:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.ndim == 2 and arr.shape[0] > 1 \
                and arr.shape[1] == ref.shape[0]:
            raise Mismatch(f"{name} has one row per example (shape {arr.shape}); {shared} is "
                           "one number per unit, shared by every example of the batch, so its "
                           "gradient adds up the contributions of all the examples")
    got = expect_array(value, np.shape(ref), name)
    if close(got, ref, rtol=1e-5, atol=1e-7):
        return
    for wrong, message in mistakes:
        if np.shape(wrong) == got.shape and close(got, wrong) and not close(wrong, ref):
            raise Mismatch(message)
    expect_close(got, ref, f"{name} (compared with finite differences)", rtol=1e-5, atol=1e-7)


def _units(rng, n, d, spread=(0.5, 2.0)):
    """A batch of pre-activations as a layer would give them: xc, std, var (ε = 1e-5)."""
    X = rng.normal(size=(n, d)) * rng.uniform(*spread, size=d) + rng.normal(size=d)
    var = X.var(axis=0)
    return X - X.mean(axis=0), np.sqrt(var + 1e-5), var


def _four_shapes(rng, make):
    """Cases on the shapes that catch axis mistakes: small, a batch of 2, n ≠ d, larger."""
    return [Case(f"{n} examples × {d} units", make(rng, n, d))
            for n, d in ((3, 2), (2, 4), (6, 3), (16, 5))]


# --------------------------------------------------------------------------- out = γ·x_hat + β


def scale_shift_cases(rng):
    return _four_shapes(rng, lambda r, n, d: (r.normal(size=(n, d)), r.normal(size=(n, d)),
                                              r.uniform(0.5, 2.0, size=d)))


def scale_shift_judge(case, value):
    dout, x_hat, gamma = case.args
    dx_hat, dgamma, dbeta = expect_tuple(value, 3, "(dx_hat, dgamma, dbeta)")

    def f(x_hat_, gamma_, beta_):
        return gamma_ * x_hat_ + beta_

    inputs = (x_hat, gamma, np.zeros_like(gamma))
    ref = [numerical_gradient(f, inputs, k, dout) for k in range(3)]
    if close(dgamma, ref[2]) and close(dbeta, ref[1]) and not close(ref[1], ref[2]):
        raise Mismatch("dgamma and dbeta are swapped: return (dx_hat, dgamma, dbeta)")
    _grad(dx_hat, ref[0], "dx_hat", [(dout, "dx_hat is dout itself: out = γ·x_hat + β, so a "
                                            "change of x_hat reaches out multiplied by γ")])
    mean_msg = "{} is averaged over the batch; the loss adds up every example's contribution: " \
               "a sum, not a mean"
    _grad(dgamma, ref[1], "dgamma", [(ref[1] / len(dout), mean_msg.format("dgamma")),
                                     (dout.sum(axis=0), "dgamma is Σ dout, the gradient of β: "
                                                        "γ multiplies x_hat")], shared="γ")
    _grad(dbeta, ref[2], "dbeta", [(ref[2] / len(dout), mean_msg.format("dbeta"))],
          shared="β")


# --------------------------------------------------------------------------- x_hat = xc / std


def divide_cases(rng):
    def make(r, n, d):
        xc, std, _ = _units(r, n, d)
        return r.normal(size=(n, d)), xc, std
    return _four_shapes(rng, make)


def divide_judge(case, value):
    dx_hat, xc, std = case.args
    dxc, dstd = expect_tuple(value, 2, "(dxc, dstd)")
    ref_dxc = numerical_gradient(lambda a, s: a / s, (xc, std), 0, dx_hat)
    ref_dstd = numerical_gradient(lambda a, s: a / s, (xc, std), 1, dx_hat)
    _grad(dxc, ref_dxc, "dxc", [(dx_hat * std, "x_hat = xc / std: a change of xc is divided "
                                               "by std, not multiplied")])
    _grad(dstd, ref_dstd, "dstd", [
        (-ref_dstd, "dstd has the wrong sign: x_hat = xc·(1/std), and 1/std decreases when "
                    "std grows (the derivative of 1/s is −1/s²)"),
        (ref_dstd * std, "dstd: the derivative of 1/s is −1/s², not −1/s"),
        (ref_dstd / len(xc), "dstd is averaged over the batch; the loss adds up every "
                             "example's contribution: a sum, not a mean")], shared="std")


# --------------------------------------------------------------------------- std = √(var + ε)


def sqrt_cases(rng):
    cases = []
    for n, d in ((3, 2), (6, 3), (16, 5)):
        _, std, var = _units(rng, n, d)
        cases.append(Case(f"{d} units", (rng.normal(size=d), var, 1e-5)))
    cases.append(Case("a unit whose variance (1e-7) is below ε (ε matters)",
                      (np.array([0.5, -1.0]), np.array([1e-7, 2.0]), 1e-5)))
    cases.append(Case("ε = 0.5 passed explicitly", (np.array([1.0, 2.0]), np.array([0.5, 1.5]),
                                                    0.5)))
    return cases


def sqrt_judge(case, value):
    dstd, var, eps = case.args
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    ref = numerical_gradient(lambda v: np.sqrt(v + eps), (var,), 0, dstd, h=1e-9)
    std = np.sqrt(var + eps)
    _grad(value, ref, "dvar", [
        (dstd / std, "dvar is missing a factor ½: the derivative of √u is 1/(2√u)"),
        (dstd * std / 2, "the derivative of √u is 1/(2√u): divide by 2·std, do not multiply"),
        (dstd / (2 * std**2), "you divided by 2·(var + ε); the derivative of √u is 1/(2√u): "
                              "divide by 2·std"),
        (dstd / (2 * np.sqrt(var)), f"you forgot ε (here eps={eps:g}): std = √(var + ε), so "
                                    "the derivative is 1/(2√(var + ε))"),
        (dstd / (2 * np.sqrt(var + 1e-5)), f"you used ε = 1e-5 instead of the eps argument "
                                           f"({eps:g})")])


# --------------------------------------------------------------------------- var = mean(xc²)


def variance_cases(rng):
    return _four_shapes(rng, lambda r, n, d: (r.normal(size=d), _units(r, n, d)[0]))


def variance_judge(case, value):
    dvar, xc = case.args
    ref = numerical_gradient(lambda a: (a**2).mean(axis=0), (xc,), 0, dvar)
    n = len(xc)
    if np.shape(value) == np.shape(dvar) and n != len(dvar):
        raise Mismatch(f"dxc has shape {np.shape(value)}, one value per unit; every example's "
                       f"xc moves var, so dxc has one value per example and unit, {xc.shape}")
    _grad(value, ref, "dxc", [
        (ref * n, "var is a mean over the batch: each example's xc² counts 1/n of it (you "
                  "left out the 1/n)"),
        (ref / 2, "dxc is missing a factor 2: the derivative of u² is 2u"),
        (ref * n / 2, "dxc is missing the factor 2/n: var is the *mean* of xc², and the "
                      "derivative of u² is 2u"),
        (ref * n / xc.shape[1], "you divided by the number of units; var is a mean over the "
                                f"batch, so divide by the number of examples, n = {n}"),
        (2 * dvar / n + 0 * xc, "the derivative of xc² is 2·xc: dxc depends on each "
                                "example's xc")])


# --------------------------------------------------------------------------- xc = X − mean


def center_cases(rng):
    return _four_shapes(rng, lambda r, n, d: (r.normal(size=(n, d)),))


def center_judge(case, value):
    (dxc,) = case.args
    dX, dmean = expect_tuple(value, 2, "(dX, dmean)")
    X = np.zeros_like(dxc)
    mean = np.zeros(dxc.shape[1])
    ref_dX = numerical_gradient(lambda a, m: a - m, (X, mean), 0, dxc, h=0.5)
    ref_dmean = numerical_gradient(lambda a, m: a - m, (X, mean), 1, dxc, h=0.5)
    _grad(dX, ref_dX, "dX", [(-dxc, "dX has the wrong sign: X enters xc = X − mean with a "
                                    "plus sign")])
    _grad(dmean, ref_dmean, "dmean", [
        (-ref_dmean, "dmean has the wrong sign: mean enters xc = X − mean with a minus sign"),
        (ref_dmean / len(dxc), "dmean is averaged over the batch; every example's xc "
                               "subtracts the same mean, so their contributions add up: a "
                               "sum, not a mean")], shared="mean")


# --------------------------------------------------------------------------- mean = X.mean(axis=0)


def mean_cases(rng):
    return [Case(f"{n} examples, {d} units", (rng.normal(size=d), n))
            for n, d in ((3, 2), (2, 4), (6, 3), (16, 5))]


def mean_judge(case, value):
    dmean, n = case.args
    ref = numerical_gradient(lambda a: a.mean(axis=0), (np.zeros((n, len(dmean))),), 0, dmean,
                             h=0.5)
    if np.shape(value) == np.shape(dmean):
        raise Mismatch(f"dX has shape {np.shape(value)}, one value per unit; every one of the "
                       f"{n} examples moves the mean, so dX has one value per example and "
                       f"unit: shape ({n}, {len(dmean)})")
    _grad(value, ref, "dX", [
        (ref * n, "the mean divides by n: each example moves it by 1/n of its own change "
                  "(you left out the 1/n)"),
        (-ref, "dX has the wrong sign: the mean grows when an example grows")])


# --------------------------------------------------------------------------- the staged assembly


def staged_judge(case, value):
    """The assembled backward pass: forks first (a value feeding two nodes gets the sum of
    both gradients), then everything :func:`backward_judge` checks."""
    dout, (X, x_hat, mean, var, gamma, eps) = case.args
    try:
        dX = np.asarray(expect_tuple(value, 3, "(dX, dgamma, dbeta)")[0], dtype=float)
    except (TypeError, ValueError):
        dX = None
    if dX is not None and dX.shape == X.shape:
        std, dx_hat = np.sqrt(var + eps), dout * gamma
        ref = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
        forks = [
            (dx_hat / std, "dX uses only the path X → xc → x_hat. X also feeds the mean, and "
                           "xc also feeds var: where a value feeds two nodes, add up the "
                           "gradients that come back from both"),
            ((dx_hat - dx_hat.mean(axis=0)) / std,
             "dX includes the path through the mean but not the one through the variance: xc "
             "feeds both x_hat and var, so dxc is the sum of what divide_backward and "
             "variance_backward return"),
            (ref + dx_hat.mean(axis=0) / std,
             "dX includes the path through the variance but not the one through the mean: X "
             "feeds both xc and the mean, so dX is the sum of what center_backward and "
             "mean_backward return"),
        ]
        for wrong, message in forks:
            if close(dX, wrong) and not close(wrong, ref):
                raise Mismatch(message)
    backward_judge(case, value)
