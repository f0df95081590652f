"""Lesson 3's backward pass, node by node: the cases and judges of each node's local gradient.

The forward graph of batch norm (per unit, over a batch of n examples):

    X -> mean -> xc = X - mean -> var = mean(xc²) -> std = √(var + ε) -> x_hat = xc / std
      -> out = γ·x_hat + β

Each node exercise receives the gradient of the node's output and returns the gradients
of its inputs. Every judge compares with the node's local derivative in closed form (exact
up to rounding: a finite-difference reference was off by up to 4e-7 at h = 1e-9), after
naming the classic mistakes: a gradient of a shared value (one per unit) not summed over
the batch, a missing factor (γ, 2, ½, 1/n), a wrong sign, a missing ε. The assembled staged backward pass is judged like
``batchnorm_backward`` (:func:`helpers.exercises.l03_training.backward_judge`).
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_array, expect_close, expect_tuple
from helpers.exercises.l03_training import backward_judge, close


def _grad(value, ref, name, mistakes=(), shared=""):
    """Judge one returned gradient: shape (naming an unsummed shared gradient), then the
    named mistakes [(wrong value, message, id)], then the closed-form reference (to 1e-7,
    1e-9 of its largest entry: rounding only)."""
    if shared and np.ndim(ref) == 1:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.ndim == 2 and arr.shape[0] > 1 \
                and arr.shape[1] == ref.shape[0]:
            raise Mismatch(f"{name} has one row per example (shape {arr.shape}); {shared} is "
                           "one number per unit, shared by every example of the batch, so its "
                           "gradient adds up the contributions of all the examples", "not-summed")
    got = expect_array(value, np.shape(ref), name)
    atol = 1e-9 * float(np.abs(ref).max(initial=0.0)) + 1e-15
    if close(got, ref, rtol=1e-7, atol=atol):
        return
    for wrong, message, mistake in mistakes:
        if np.shape(wrong) == got.shape and close(got, wrong) and not close(wrong, ref):
            raise Mismatch(message, mistake)
    expect_close(got, ref, name, rtol=1e-7, atol=atol)


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

    ref = [dout * gamma, (dout * x_hat).sum(axis=0), dout.sum(axis=0)]
    if close(dgamma, ref[2]) and close(dbeta, ref[1]) and not close(ref[1], ref[2]):
        raise Mismatch("dgamma and dbeta are swapped: return (dx_hat, dgamma, dbeta)", "swapped")
    _grad(dx_hat, ref[0], "dx_hat", [(dout, "dx_hat is dout itself: out = γ·x_hat + β, so a "
                                            "change of x_hat reaches out multiplied by γ",
                                      "missing-gamma")])
    mean_msg = "{} is averaged over the batch; the loss adds up every example's contribution: " \
               "a sum, not a mean"
    _grad(dgamma, ref[1], "dgamma", [(ref[1] / len(dout), mean_msg.format("dgamma"), "mean"),
                                     (dout.sum(axis=0), "dgamma is Σ dout, the gradient of β: "
                                                        "γ multiplies x_hat", "dbeta-as-dgamma")],
          shared="γ")
    _grad(dbeta, ref[2], "dbeta", [(ref[2] / len(dout), mean_msg.format("dbeta"), "mean")],
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
    ref_dxc, ref_dstd = dx_hat / std, -(dx_hat * xc).sum(axis=0) / std**2
    _grad(dxc, ref_dxc, "dxc", [(dx_hat * std, "x_hat = xc / std: a change of xc is divided "
                                               "by std, not multiplied", "multiplied")])
    _grad(dstd, ref_dstd, "dstd", [
        (-ref_dstd, "dstd has the wrong sign: x_hat = xc·(1/std), and 1/std decreases when "
                    "std grows (the derivative of 1/s is −1/s²)", "wrong-sign"),
        (ref_dstd * std, "dstd: the derivative of 1/s is −1/s², not −1/s", "one-over-s"),
        (ref_dstd / len(xc), "dstd is averaged over the batch; the loss adds up every "
                             "example's contribution: a sum, not a mean", "mean")],
          shared="std")


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
    std = np.sqrt(var + eps)
    ref = dstd / (2 * std)
    _grad(value, ref, "dvar", [
        (dstd / std, "dvar is missing a factor ½: the derivative of √u is 1/(2√u)", "half"),
        (dstd * std / 2, "the derivative of √u is 1/(2√u): divide by 2·std, do not multiply",
         "multiplied"),
        (dstd / (2 * std**2), "you divided by 2·(var + ε); the derivative of √u is 1/(2√u): "
                              "divide by 2·std", "variance"),
        (dstd / (2 * np.sqrt(var)), f"you forgot ε (here eps={eps:g}): std = √(var + ε), so "
                                    "the derivative is 1/(2√(var + ε))", "no-eps"),
        (dstd / (2 * (np.sqrt(var) + eps)), "ε goes inside the square root: std = √(var + ε), "
                                            "not √var + ε", "eps-outside-sqrt"),
        (dstd / (2 * np.sqrt(var + 1e-5)), f"you used ε = 1e-5 instead of the eps argument "
                                           f"({eps:g})", "hard-coded-eps")])


# --------------------------------------------------------------------------- var = mean(xc²)


def variance_cases(rng):
    return _four_shapes(rng, lambda r, n, d: (r.normal(size=d), _units(r, n, d)[0]))


def variance_judge(case, value):
    dvar, xc = case.args
    n = len(xc)
    ref = 2 * xc * dvar / n
    if np.shape(value) == np.shape(dvar) and n != len(dvar):
        raise Mismatch(f"dxc has shape {np.shape(value)}, one value per unit; every example's "
                       f"xc moves var, so dxc has one value per example and unit, {xc.shape}",
                       "per-unit")
    _grad(value, ref, "dxc", [
        (ref * n, "var is a mean over the batch: each example's xc² counts 1/n of it (you "
                  "left out the 1/n)", "no-1-over-n"),
        (ref / 2, "dxc is missing a factor 2: the derivative of u² is 2u", "missing-factor-2"),
        (ref * n / 2, "dxc is missing the factor 2/n: var is the *mean* of xc², and the "
                      "derivative of u² is 2u", "missing-2-over-n"),
        (ref * n / xc.shape[1], "you divided by the number of units; var is a mean over the "
                                f"batch, so divide by the number of examples, n = {n}",
         "divides-by-units"),
        (2 * dvar / n + 0 * xc, "the derivative of xc² is 2·xc: dxc depends on each "
                                "example's xc", "missing-xc")])


# --------------------------------------------------------------------------- xc = X − mean


def center_cases(rng):
    return _four_shapes(rng, lambda r, n, d: (r.normal(size=(n, d)),))


def center_judge(case, value):
    (dxc,) = case.args
    dX, dmean = expect_tuple(value, 2, "(dX, dmean)")
    ref_dX, ref_dmean = dxc, -dxc.sum(axis=0)
    _grad(dX, ref_dX, "dX", [(-dxc, "dX has the wrong sign: X enters xc = X − mean with a "
                                    "plus sign", "wrong-sign")])
    _grad(dmean, ref_dmean, "dmean", [
        (-ref_dmean, "dmean has the wrong sign: mean enters xc = X − mean with a minus sign",
         "wrong-sign"),
        (ref_dmean / len(dxc), "dmean is averaged over the batch; every example's xc "
                               "subtracts the same mean, so their contributions add up: a "
                               "sum, not a mean", "mean")], shared="mean")


# --------------------------------------------------------------------------- mean = X.mean(axis=0)


def mean_cases(rng):
    return [Case(f"{n} examples, {d} units", (rng.normal(size=d), n))
            for n, d in ((3, 2), (2, 4), (6, 3), (16, 5))]


def mean_judge(case, value):
    dmean, n = case.args
    ref = np.tile(dmean / n, (n, 1))
    if np.shape(value) == np.shape(dmean):
        raise Mismatch(f"dX has shape {np.shape(value)}, one value per unit; every one of the "
                       f"{n} examples moves the mean, so dX has one value per example and "
                       f"unit: shape ({n}, {len(dmean)})", "per-unit")
    _grad(value, ref, "dX", [
        (ref * n, "the mean divides by n: each example moves it by 1/n of its own change "
                  "(you left out the 1/n)", "no-1-over-n"),
        (-ref, "dX has the wrong sign: the mean grows when an example grows", "wrong-sign")])


# --------------------------------------------------------------------------- the staged assembly


def staged_judge(case, value):
    """The assembled backward pass: forks first (a value feeding two nodes gets the sum of
    both gradients), then everything :func:`backward_judge` checks."""
    dout, (X, x_hat, mean, var, gamma, eps) = case.call_args
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
                           "gradients that come back from both", "one-path"),
            ((dx_hat - dx_hat.mean(axis=0)) / std,
             "dX includes the path through the mean but not the one through the variance: xc "
             "feeds both x_hat and var, so dxc is the sum of what divide_backward and "
             "variance_backward return", "no-variance-path"),
            (ref + dx_hat.mean(axis=0) / std,
             "dX includes the path through the variance but not the one through the mean: X "
             "feeds both xc and the mean, so dX is the sum of what center_backward and "
             "mean_backward return", "no-mean-path"),
        ]
        for wrong, message, mistake in forks:
            if close(dX, wrong) and not close(wrong, ref):
                raise Mismatch(message, mistake)
    backward_judge(case, value)
