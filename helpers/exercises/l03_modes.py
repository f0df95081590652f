"""Lesson 3's exercises on using batch norm: running statistics, evaluation mode, and the
batch-size experiment (the exercise list is in :mod:`helpers.exercises.l03`).

PyTorch's convention: running = (1 − momentum)·running + momentum·batch, momentum 0.1,
the *unbiased* batch variance for running_var; evaluation mode normalizes with the
running statistics. The experiment, ``train_eval_gap(Z)``, measures how far training-mode
x_hat (each batch's own statistics) is from evaluation-mode x_hat (the data's statistics):
the learner chooses the batch sizes (at least 4, among them 2 and all rows) and the seed
of a random split of the rows, and returns them with the measured gaps; the judge re-runs
those batch sizes on its own random splits and accepts a gap within the spread of one
split's. On its cases the rule of thumb "the gap falls like 1/√B" is wrong (one batch of
all rows gives 0), and rows stored class by class make consecutive batches far off.
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
)
from helpers.exercises.l03_training import close, course_forward, with_mistake

# --------------------------------------------------------------------------- running stats


def running_cases(rng):
    return [
        Case("first update from the starting values (mean 0, var 1), 4 examples × 2 features",
             (np.zeros(2), np.ones(2), np.array([[1.0, 10.0], [2.0, 14.0], [4.0, 12.0],
                                                 [5.0, 8.0]]))),
        Case("running values already away from the start, 2 examples × 3 features",
             (np.array([0.5, -1.0, 2.0]), np.array([2.0, 0.5, 1.0]),
              np.array([[1.0, 0.0, 3.0], [3.0, -4.0, 2.0]]))),
        Case("momentum = 0.5 passed explicitly",
             (np.array([1.0, 1.0]), np.array([1.0, 4.0]), rng.normal(size=(6, 2))),
             {"momentum": 0.5}),
        Case("random: 32 examples × 5 features",
             (rng.normal(size=5), rng.uniform(0.5, 2, size=5),
              rng.normal(3.0, 2.0, size=(32, 5)))),
    ]


def running_judge(case, value):
    running_mean, running_var, X = case.args
    m = case.kwargs.get("momentum", 0.1)
    new_mean, new_var = expect_tuple(value, 2, "(new_mean, new_var)")
    if np.shape(new_mean) == (len(X),) != running_mean.shape:
        raise Mismatch(f"new_mean has one value per example (shape {np.shape(new_mean)}); take "
                       "the mean of each feature over the batch (axis 0)", "wrong-axis")
    new_mean = expect_array(new_mean, running_mean.shape, "new_mean")
    new_var = expect_array(new_var, running_var.shape, "new_var")
    mean, var_u, var_b = X.mean(axis=0), X.var(axis=0, ddof=1), X.var(axis=0)
    ref_mean = (1 - m) * running_mean + m * mean
    ref_var = (1 - m) * running_var + m * var_u
    if not close(new_mean, ref_mean):
        if close(new_mean, m * running_mean + (1 - m) * mean):
            raise Mismatch(f"momentum is on the wrong side: in PyTorch's convention the *new batch* "
                           f"gets weight momentum ({m:g}) and the old running value 1 − momentum",
                           "momentum-side")
        if m != 0.1 and close(new_mean, 0.9 * running_mean + 0.1 * mean):
            raise Mismatch(f"you used momentum 0.1 instead of the momentum argument ({m:g}): use "
                           "the parameter momentum in your formula", "hard-coded-momentum")
        if close(new_mean, mean):
            raise Mismatch("new_mean is just this batch's mean; the running estimate blends it "
                           "with the old value: (1 − momentum)·running_mean + momentum·batch mean",
                           "no-blend")
        expect_close(new_mean, ref_mean, "new_mean", rtol=1e-6, atol=1e-9)
    if not close(new_var, ref_var):
        if close(new_var, (1 - m) * running_var + m * var_b):
            raise Mismatch("running_var uses the unbiased batch variance (divide by N − 1), as "
                           "PyTorch does; the biased one is only for normalizing", "biased-var")
        if close(new_var, m * running_var + (1 - m) * var_u):
            raise Mismatch(f"momentum is on the wrong side for the variance: the new batch gets "
                           f"weight momentum ({m:g})", "momentum-side")
        if close(new_var, (1 - m) * running_var + m * np.sqrt(var_u)):
            raise Mismatch("running_var tracks the variance, not the standard deviation", "std")
        if any(close(new_var, ref_var + e) for e in (m * 1e-5, 1e-5)):
            raise Mismatch("do not add ε to the running variance: ε is added only inside the "
                           "square root when normalizing", "eps-in-running-var")
        expect_close(new_var, ref_var, "new_var", rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- evaluation mode


def eval_cases(rng):
    return [
        Case("one example (evaluation mode must work for a single input)",
             (np.array([[2.0, -1.0, 0.5]]), np.ones(3), np.zeros(3), np.array([1.0, 0.0, 0.5]),
              np.array([4.0, 1.0, 0.25]))),
        Case("5 examples × 2 features, random γ and β",
             (rng.normal(size=(5, 2)) * 3 + 1, rng.uniform(0.5, 2, size=2), rng.normal(size=2),
              np.array([1.0, -0.5]), np.array([9.0, 2.0]))),
        Case("a running variance of 1e-5 (ε matters)",
             (np.array([[0.01, 1.0], [0.02, 2.0], [0.0, 3.0]]), np.ones(2), np.zeros(2),
              np.array([0.0, 2.0]), np.array([1e-5, 1.0]))),
        Case("ε = 0.5 passed explicitly",
             (np.array([[1.0], [2.0]]), np.array([2.0]), np.array([1.0]), np.array([0.5]),
              np.array([1.5])), {"eps": 0.5}),
    ]


def eval_judge(case, value):
    X, gamma, beta, running_mean, running_var = case.args
    eps = case.kwargs.get("eps", 1e-5)
    if value is not None and len(X) == 1 and not isinstance(value, (str, tuple)):
        try:
            raw = np.asarray(value, dtype=float)
            ref = gamma * (X - running_mean) / np.sqrt(running_var + eps) + beta
            if raw.shape == X.shape and (not np.isfinite(raw).all() or (
                    close(raw, beta[None]) and not close(raw, ref))):
                raise Mismatch("with one example, the batch mean is the example itself: you used "
                               "the batch's statistics. Evaluation mode uses running_mean and "
                               "running_var", "batch-statistics")
        except (TypeError, ValueError):
            pass
    if isinstance(value, tuple):
        raise Mismatch(f"expected only out, an array of shape {X.shape}; got a tuple of "
                       f"{len(value)} values (unlike batchnorm_forward, there is no cache)",
                       "returns-cache")
    out = expect_array(value, X.shape, "out")
    std = np.sqrt(running_var + eps)
    ref = gamma * (X - running_mean) / std + beta
    if close(out, ref):
        return
    if len(X) > 1 and (close(out, course_forward(X, gamma, beta, eps))
                       or close(out, with_mistake(X, gamma, beta, eps, ddof=1))):
        raise Mismatch("you used this batch's mean and variance; evaluation mode uses "
                       "running_mean and running_var", "batch-statistics")
    for wrong, message, mistake in [
            (gamma * (X - running_mean) / np.sqrt(running_var + 1e-5) + beta if eps != 1e-5
             else None, f"you used ε = 1e-5 instead of the eps argument ({eps:g}): use the "
             "parameter eps in your formula", "hard-coded-eps"),
            ((X - running_mean) / std if not (np.allclose(gamma, 1) or np.allclose(beta, 0))
             else None, "out is missing γ and β: out = γ·(X − running_mean)/√(running_var + ε) "
             "+ β", "no-gamma-beta"),
            (gamma * (X - running_mean) / std if not np.allclose(beta, 0) else None,
             "out is missing β: out = γ·(X − running_mean)/√(running_var + ε) + β", "no-beta"),
            ((X - running_mean) / std + beta if not np.allclose(gamma, 1) else None,
             "out is missing γ: out = γ·(X − running_mean)/√(running_var + ε) + β", "no-gamma"),
            (gamma * (X - running_mean) / np.sqrt(running_var) + beta, f"you forgot ε (here "
             f"eps={eps:g}): divide by √(running_var + ε)", "no-eps"),
            (gamma * (X - running_mean) / (np.sqrt(running_var) + eps) + beta, "ε goes inside "
             "the square root: divide by √(running_var + ε), not √running_var + ε",
             "eps-outside-sqrt"),
            (gamma * (X - running_mean) / running_var + beta, "divide by the standard "
             "deviation √(running_var + ε), not by the variance", "variance"),
            (gamma * (X - running_mean) / (running_var + eps) + beta, "divide by the standard "
             "deviation √(running_var + ε), not by the variance", "variance")]:
        if wrong is not None and close(out, wrong) and not close(wrong, ref):
            raise Mismatch(message, mistake)
    expect_close(out, ref, "out", rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- experiment: batch size

#: the judge's own random splits of the rows (its re-run of the learner's batch sizes)
JUDGE_SPLITS = 64
#: accepted |yours − judge's| per batch size: ABS + SDS × the spread of one split's gap
ABS, SDS = 2e-3, 6.0  # 4.0 failed the reference on 3 of 1,000 seeds (one split is not Gaussian)


def _normalized(Z, mean, var, eps=1e-5):
    return (Z - mean) / np.sqrt(var + eps)


def split_gaps(Z, batch_size, orders, eps=1e-5, ddof=0, rows=False, eval_ddof=0):
    """The gap of each split (one row order per split, consecutive blocks of batch_size
    rows): mean |x_hat_train − x_hat_eval| -> (n_splits,). With the classic mistakes on
    request (unbiased variance, rows instead of units, evaluation with N − 1, no ε)."""
    n, d = Z.shape
    shuffled = Z[orders]                                    # (splits, n, d)
    B = shuffled.reshape(len(orders), -1, batch_size, d)
    axis = 3 if rows else 2
    train = _normalized(B, B.mean(axis=axis, keepdims=True),
                        B.var(axis=axis, ddof=ddof, keepdims=True), eps)
    evaluate = _normalized(shuffled, Z.mean(axis=0), Z.var(axis=0, ddof=eval_ddof), eps)
    return np.abs(train.reshape(shuffled.shape) - evaluate).mean(axis=(1, 2))


def judge_gaps(Z, sizes, seed=20261, n_splits=JUDGE_SPLITS):
    """The judge's re-run: for each batch size, the mean and the standard deviation of the
    gap over its own random splits -> (means, sds)."""
    rng = np.random.default_rng(seed)
    orders = np.argsort(rng.random((n_splits, len(Z))), axis=1)
    gaps = np.array([split_gaps(Z, b, orders) for b in sizes])
    return gaps.mean(axis=1), gaps.std(axis=1)


def gap_cases(rng):
    def layer(n, d):
        return rng.normal(size=(n, d)) * rng.uniform(0.3, 3.0, size=d) + rng.normal(size=d) * 2
    sorted_layer = np.concatenate([layer(48, 4) + 4.0 * k for k in range(3)])  # 3 classes
    return [
        Case("a layer of 96 examples × 4 units", (layer(96, 4),)),
        Case("skewed units (ReLU outputs + noise), 120 examples × 3 units",
             (np.maximum(layer(120, 3), 0) + 0.1 * rng.normal(size=(120, 3)),)),
        Case("144 examples × 4 units stored class by class (48 rows of each class in turn)",
             (sorted_layer,)),
        Case("a layer of 128 examples × 4 units", (layer(128, 4),)),
    ]


def _settings(value, n):
    if not isinstance(value, dict):
        got = "None (did you forget `return`?)" if value is None else type(value).__name__
        raise Mismatch(f"expected a dict with the keys batch_sizes, seed, gap; got {got}",
                       "not-a-dict")
    missing = [k for k in ("batch_sizes", "seed", "gap") if k not in value]
    if missing:
        raise Mismatch(f"the dict lacks {', '.join(map(repr, missing))}: return your settings "
                       "with your measurement, so that they can be re-run", "missing-keys")
    sizes = value["batch_sizes"]
    if isinstance(sizes, np.ndarray) and sizes.ndim == 1 and sizes.dtype.kind in "iu":
        sizes = sizes.tolist()  # np.array([2, 4, 8]): as good as a list
    if not isinstance(sizes, (list, tuple)) or not all(
            isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in sizes):
        raise Mismatch(f"batch_sizes should be a list of whole numbers, got {sizes!r}"[:160],
                       "bad-sizes")
    sizes = [int(b) for b in sizes]
    if len(set(sizes)) < 4 or 2 not in sizes or n not in sizes:
        raise Mismatch(f"choose at least 4 different batch sizes, among them 2 and all "
                       f"{n} rows of Z (one batch); got {sizes}", "too-few-sizes")
    if any(b < 2 or n % b for b in sizes):
        raise Mismatch(f"every batch size must divide the {n} rows of this Z, so that every "
                       f"row is in one batch (got {sizes}). Your function is called on layers "
                       "of different sizes: choose the sizes from len(Z)", "bad-sizes")
    if not isinstance(value["seed"], (int, np.integer)) or isinstance(value["seed"], bool):
        raise Mismatch(f"seed should be a whole number, got {value['seed']!r}", "bad-seed")
    gap = value["gap"]
    if not isinstance(gap, (list, tuple, np.ndarray)) or len(gap) != len(sizes):
        if np.ndim(gap) == 1 and np.size(gap) == n:
            raise Mismatch("gap should hold one number per batch size; you returned one per "
                           "example", "per-example")
        raise Mismatch(f"gap should hold one number per batch size ({len(sizes)})",
                       "gap-length")
    gap = np.array([expect_number(g, "each gap") for g in gap])
    if (gap < 0).any():
        raise Mismatch("a mean absolute difference cannot be negative", "negative")
    return sizes, gap


def gap_judge(case, value):
    (Z,) = case.args
    sizes, gap = _settings(value, len(Z))
    ref, sd = judge_gaps(Z, sizes)
    allowed = ABS + SDS * sd
    off = np.abs(gap - ref) > allowed
    if not off.any():
        return
    k = int(np.argmax(np.abs(gap - ref) - allowed))
    b = sizes[k]
    with np.errstate(all="ignore"):
        law = gap * np.sqrt(np.array(sizes) / sizes[0])
    if (gap > 0).all() and np.allclose(law, law[0], rtol=1e-6):
        raise Mismatch("your gaps fall exactly like 1/√(batch size): a rule of thumb, not a "
                       f"measurement. Measured, batches of {b} give {ref[k]:.3f} (yours "
                       f"{gap[k]:.3f}), and one batch of all rows gives 0", "rule-of-thumb")
    if b == len(Z) and gap[k] > allowed[k]:
        raise Mismatch(f"with one batch of all {b} rows, training mode uses the same mean and "
                       f"variance as evaluation mode, so the gap is 0; you measured "
                       f"{gap[k]:.3f}. Do both modes use the biased variance and the same ε?",
                       "full-batch")
    whole = np.arange(len(Z))[None]
    named = [(split_gaps(Z, b, whole)[0], "you took consecutive rows as they are stored; "
              "here they are stored class by class, so a batch of consecutive rows is one "
              "class. Training shuffles the examples: split the rows at random (your seed)",
              "no-shuffle"),
             (split_gaps(Z, b, whole, ddof=1)[0], "you used the unbiased variance (N − 1) for "
              "the batches; training mode normalizes with the biased one (divide by N)",
              "unbiased-var"),
             (split_gaps(Z, b, whole, rows=True)[0], "you normalized each row (example) of a "
              "batch; normalize each unit (column) over the examples of the batch", "rows"),
             (split_gaps(Z, b, whole, eval_ddof=1)[0], "evaluation mode here uses the biased "
              "variance of all of Z (divide by n), the value the running statistics settle "
              "near", "eval-unbiased-var"),
             (split_gaps(Z, b, whole, eps=0.0)[0], "you forgot ε: both modes divide by "
              "√(variance + eps)", "no-eps")]
    for wrong, message, mistake in named:
        if close(gap[k], wrong, rtol=1e-6, atol=1e-9) and abs(wrong - ref[k]) > allowed[k]:
            raise Mismatch(message, mistake)
    raise Mismatch(f"for batches of {b} you measured a gap of {gap[k]:.4f}; re-running your "
                   f"settings on random splits gives {ref[k]:.4f} (accepted: ±{allowed[k]:.4f}). "
                   "Is every row in exactly one batch, each batch normalized per unit with its "
                   "own mean and biased variance, evaluation mode with all of Z's, and the gap "
                   "the mean absolute difference over all entries?", "off")
