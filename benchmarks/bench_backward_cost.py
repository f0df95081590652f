"""The cost judge of the backward passes (issue 18): K, and the check cells' time.

    python benchmarks/bench_backward_cost.py [--runs 7] [--checks-only]

Part 1 prints, for the large case (256 × 512) of ``ex3_bn_backward`` and ``ex5_ln_backward``,
the time of the plain forward pass the judge counts in (``helpers.checking.calling``)
and of backward passes written in several honest ways, in forward passes (median of
``--runs``), plain and under the learner's check (its profile hook, ``guard.watching``):
a finite-difference dX needs 2·N·D forward passes (extrapolated from one forward pass).
K (``calling.MAX_FORWARDS``) must sit well above every honest way and far below that.

Part 2 (alone with ``--checks-only``) times every check cell of lessons 0-4 with the
course's answers (median of ``--runs`` runs of ``helpers.exercises.evaluate`` under the
guard's profile hook, watching the course's functions and the exercise's shortcuts as
``check`` does; the cost judge included). Budget: 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from helpers.answers import guard, l01, l02, l03, l05
from helpers.checking import calling
from helpers.exercises import LESSONS, evaluate
from helpers.exercises.shortcuts import shortcut_table

SHAPES = {"batchnorm": (256, 128), "layernorm": (16, 2048), "square": (256, 512)}
COURSE = {name: fn for module in (l01, l02, l03, l05) for name, fn in vars(module).items()
          if callable(fn)}
COURSE["feature_ranges"] = lambda X: X.max(axis=0) - X.min(axis=0)  # lesson 0's one line


def _bn_rows(dout, cache):
    """Means computed once, dX filled one row (example) at a time."""
    X, x_hat, mean, var, gamma, eps = cache
    std, dx_hat = np.sqrt(var + eps), dout * gamma
    m1, m2 = dx_hat.mean(axis=0), (dx_hat * x_hat).mean(axis=0)
    dX = np.empty_like(dout)
    for i in range(len(dout)):
        dX[i] = (dx_hat[i] - m1 - x_hat[i] * m2) / std
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _bn_rows_sums(dout, cache):
    """Every sum accumulated by a loop over the rows as well."""
    X, x_hat, mean, var, gamma, eps = cache
    std, dx_hat = np.sqrt(var + eps), dout * gamma
    s1, s2, dgamma, dbeta = (np.zeros(dout.shape[1]) for _ in range(4))
    for i in range(len(dout)):
        s1 += dx_hat[i]
        s2 += dx_hat[i] * x_hat[i]
        dgamma += dout[i] * x_hat[i]
        dbeta += dout[i]
    n, dX = len(dout), np.empty_like(dout)
    for i in range(n):
        dX[i] = (dx_hat[i] - s1 / n - x_hat[i] * s2 / n) / std
    return dX, dgamma, dbeta


def _bn_columns(dout, cache):
    """One feature (column) at a time."""
    X, x_hat, mean, var, gamma, eps = cache
    dX = np.empty_like(dout)
    for j in range(dout.shape[1]):
        d = dout[:, j] * gamma[j]
        dX[:, j] = (d - d.mean() - x_hat[:, j] * (d * x_hat[:, j]).mean()) / np.sqrt(var[j] + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _ln_rows(dout, cache):
    """One example (row) at a time, each with its own statistics."""
    X, x_hat, mean, var, gamma, eps = cache
    dX = np.empty_like(dout)
    for i in range(len(dout)):
        d = dout[i] * gamma
        dX[i] = (d - d.mean() - x_hat[i] * (d * x_hat[i]).mean()) / np.sqrt(var[i, 0] + eps)
    return dX, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


WAYS = {
    "batchnorm": [("compact (the course's)", l03.batchnorm_backward),
                  ("staged, node by node", l03.batchnorm_backward_staged),
                  ("loop over rows", _bn_rows), ("loop over rows, sums too", _bn_rows_sums),
                  ("loop over columns", _bn_columns)],
    "layernorm": [("compact (the course's)", l05.layernorm_backward), ("loop over rows", _ln_rows)],
}


def _case(layer, shape):
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape) * rng.uniform(0.5, 2, size=shape[1]) + rng.normal(size=shape[1])
    forward = l03.batchnorm_forward if layer == "batchnorm" else l05.layernorm_forward
    gamma = rng.uniform(0.5, 2, size=shape[1])
    return rng.normal(size=shape), forward(X, gamma, np.zeros(shape[1]))[1]


def _median_ms(fn, runs, watched=False):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        if watched:
            with guard.watching():
                fn()
        else:
            fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def cost_table(runs):
    print("| layer | N × D | backward pass | ms | forward passes | in the check (profile "
          "hook) |\n|---|---|---|---:|---:|---:|")
    for layer, ways in WAYS.items():
        for shape in (SHAPES[layer], SHAPES["square"]):
            dout, cache = _case(layer, shape)
            forward = statistics.median(calling.forward_seconds(layer, cache[0],
                                                                time.perf_counter) * 1000
                                        for _ in range(runs))
            where = f"| {layer} | {shape[0]} × {shape[1]} |"
            print(f"{where} the judge's forward pass | {forward:.2f} | 1 | |")
            for name, fn in ways:
                def call(fn=fn, dout=dout, cache=cache):
                    fn(dout, cache)
                ms, hooked = _median_ms(call, runs), _median_ms(call, runs, watched=True)
                print(f"{where} {name} | {ms:.2f} | {ms / forward:.1f} | {hooked / forward:.1f} |")
            bn = layer == "batchnorm"
            smart, what = 2 * shape[0 if bn else 1], "a whole row (2·N)" if bn else \
                "a whole column (2·D)"
            print(f"{where} finite differences, {what} at once | {smart * forward:.0f} | "
                  f"{smart} | |")
            print(f"{where} finite differences, one entry at a time (2·N·D) | "
                  f"{2 * shape[0] * shape[1] * forward:.0f} | {2 * shape[0] * shape[1]} | |")


def check_table(runs):
    """Each check cell as the learner runs it: evaluate() under the guard's profile hook."""
    print("\n| check cell | median s | max s | within 1 s |\n|---|---:|---:|---|")
    worst = 0.0
    for exercises in LESSONS.values():
        for ex in exercises:
            fn = COURSE.get(ex.function)
            if fn is None:
                continue
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                with guard.watching(shortcuts=shortcut_table(tuple(ex.shortcuts))):
                    report = evaluate(ex.id, fn, time_limit=calling.CASE_TIME_LIMIT)
                times.append(time.perf_counter() - start)
                assert report.passed, report.to_text()
            med = statistics.median(times)
            worst = max(worst, med)
            print(f"| {ex.id} | {med:.3f} | {max(times):.3f} | {'yes' if med <= 1 else 'NO'} |")
    return worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--checks-only", action="store_true", help="part 2 only")
    args = parser.parse_args(argv)
    if not args.checks_only:
        cost_table(max(args.runs, 5))
    worst = check_table(max(args.runs, 5))
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
