"""Lesson 6's experiment exercise: how much one example's batch-norm output depends on its
batch-mates (the exercise list is in :mod:`helpers.exercises.l06`).

The learner's ``coupling_experiment(pool, i)`` chooses its settings (batch sizes, number of
random batches, seed), runs the measurement and returns them with the measured spread:
for each batch size B, the standard deviation over random batches of example i's
training-mode batch-norm output (γ = 1, β = 0, ε = 1e-5), averaged over the features.
The judge re-runs the learner's batch sizes with its own draws (more of them) and accepts
a measurement within the sampling error of the learner's number of draws. On its cases
the rule of thumb "the spread falls like 1/√B" gives the wrong numbers: at B = 2 an
example's output is ±1, and the largest example of a pool always gets +1.
"""

from __future__ import annotations

import numpy as np

from helpers.checking.calling import Case
from helpers.checking.expect import Mismatch, expect_number

MIN_DRAWS = 200
#: accepted |yours − judge's| per batch size: ABS + REL · judge's spread · √(200 / n_draws)
ABS, REL = 0.03, 0.25
#: draws of the judge's own run (at least)
JUDGE_DRAWS = 1000


def coupling_cases(rng):
    typical = rng.normal(size=(200, 4))
    typical[7] = 0.1 * rng.normal(size=4)  # near the middle of every feature
    skewed = np.exp(rng.normal(size=(150, 3)))
    skewed[3] = skewed.max(axis=0) + 1.0   # the largest value of every feature
    mixed = rng.normal(size=(120, 5)) * rng.uniform(0.5, 3.0, size=5)
    return [
        Case("example 7, near the middle of a normal pool of 200 × 4", (typical, 7)),
        Case("example 3, the largest of a skewed pool of 150 × 3", (skewed, 3)),
        Case("example 0 of a pool of 120 × 5, features on different scales", (mixed, 0)),
    ]


def judge_spread(pool, i, batch_sizes, n_draws, seed=20260, eps=1e-5):
    """The judge's own measurement (its draws, its seed). Each draw ranks the other rows by
    random keys once: its B − 1 smallest keys are a uniform random set of B − 1 batch-mates
    for every B (the batch sizes share draws, which leaves each one's spread unbiased)."""
    rng = np.random.default_rng(seed)
    others = np.delete(np.arange(len(pool)), i)
    keys, most = rng.random((n_draws, len(others))), max(batch_sizes) - 1
    first = np.argpartition(keys, most - 1, axis=1)[:, :most]  # the `most` smallest, unordered
    ranked = np.take_along_axis(first, np.take_along_axis(keys, first, 1).argsort(axis=1), 1)
    out = []
    for B in batch_sizes:
        picks = ranked[:, :B - 1]
        batch = np.concatenate([np.broadcast_to(pool[i], (n_draws, 1, pool.shape[1])),
                                pool[others[picks]]], axis=1)
        mean = batch.mean(axis=1)
        mine = (pool[i] - mean) / np.sqrt(batch.var(axis=1) + eps)
        out.append(float(mine.std(axis=0).mean()))
    return np.array(out)


def _settings(value, pool_size):
    if not isinstance(value, dict):
        got = "None (did you forget `return`?)" if value is None else type(value).__name__
        raise Mismatch(f"expected a dict with the keys batch_sizes, n_draws, seed, spread; "
                       f"got {got}")
    missing = [k for k in ("batch_sizes", "n_draws", "seed", "spread") if k not in value]
    if missing:
        raise Mismatch(f"the dict lacks {', '.join(map(repr, missing))}: return your settings "
                       "with your measurement, so that they can be re-run")
    sizes = value["batch_sizes"]
    if not isinstance(sizes, (list, tuple)) or not all(
            isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in sizes):
        raise Mismatch(f"batch_sizes should be a list of whole numbers, got {sizes!r}"[:160])
    sizes = [int(b) for b in sizes]
    if len(set(sizes)) < 4:
        raise Mismatch(f"choose at least 4 different batch sizes (got {sizes})")
    if min(sizes) > 2 or max(sizes) < 32:
        raise Mismatch(f"your batch sizes {sizes} should reach from 2 (the smallest batch "
                       "norm can use) to 32 or more")
    if min(sizes) < 2 or max(sizes) > pool_size:
        raise Mismatch(f"every batch size must lie between 2 and the pool's {pool_size} rows "
                       f"(got {sizes})")
    n_draws = value["n_draws"]
    if not isinstance(n_draws, (int, np.integer)) or isinstance(n_draws, bool) or \
            n_draws < MIN_DRAWS:
        raise Mismatch(f"n_draws should be a whole number of at least {MIN_DRAWS} (got "
                       f"{n_draws!r}): fewer random batches measure the spread too roughly")
    if not isinstance(value["seed"], (int, np.integer)) or isinstance(value["seed"], bool):
        raise Mismatch(f"seed should be a whole number, got {value['seed']!r}")
    spread = value["spread"]
    if not isinstance(spread, (list, tuple, np.ndarray)) or len(spread) != len(sizes):
        raise Mismatch(f"spread should hold one number per batch size ({len(sizes)})")
    spread = np.array([expect_number(s, "each spread") for s in spread])
    if (spread < 0).any():
        raise Mismatch("a standard deviation cannot be negative")
    return sizes, int(n_draws), spread


def coupling_judge(case, value):
    pool, i = case.args
    sizes, n_draws, spread = _settings(value, len(pool))
    ref = judge_spread(pool, i, sizes, max(JUDGE_DRAWS, n_draws))
    allowed = ABS + REL * ref * np.sqrt(MIN_DRAWS / n_draws)
    off = np.abs(spread - ref) > allowed
    if not off.any():
        return
    k = int(np.argmax(np.abs(spread - ref) - allowed))
    with np.errstate(all="ignore"):
        law = spread * np.sqrt(np.array(sizes) / sizes[0])
    if (spread > 0).all() and np.allclose(law, law[0], rtol=1e-6):
        raise Mismatch("your spreads fall exactly like 1/√B: the rule of thumb, not a "
                       f"measurement. Measured, B = {sizes[k]} gives {ref[k]:.3f} (yours "
                       f"{spread[k]:.3f}); run the batches for every batch size",
                       "rule-of-thumb")
    if sizes[k] == 2 and ref[k] < 0.5 < spread[k]:
        hint = (" At B = 2 batch norm's output is ±1 (which sign depends only on which "
                "of the two is larger): how often does example i lose?")
        raise Mismatch(_off_message(sizes, k, spread, ref, allowed, n_draws) + hint, "b2-sign")
    raise Mismatch(_off_message(sizes, k, spread, ref, allowed, n_draws))


def _off_message(sizes, k, spread, ref, allowed, n_draws) -> str:
    return (f"for B = {sizes[k]} you measured a spread of {spread[k]:.3f}; re-running your "
            f"settings gives {ref[k]:.3f} (accepted: ±{allowed[k]:.3f} for {n_draws} "
            f"draws). Is example i in every batch, its {sizes[k] - 1} batch-mates drawn "
            f"from the other rows, and the standard deviation taken over the draws, "
            f"then averaged over the features?")
