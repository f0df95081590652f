"""Lesson 3: NumPy batch norm forward + backward, training steps, and the explorer's latency.

    python benchmarks/bench_batchnorm.py [--runs 7]

Prints a Markdown table, median (and min/max) of ``--runs`` runs (at least 5) per row:

- batch norm forward + backward on a (256, 512) batch: the course's layer
  (``helpers.core.nn.BatchNorm``) and the lesson's functions (``helpers.answers.l03`` and ``l04``
  / ``batchnorm_backward``, what a learner writes); the backward pass alone, staged node
  by node and in the compact form (the lesson's exercises 9 and 10);
- one training run of lesson 3's network (6 hidden layers of 32, 300 SGD steps), with
  and without batch norm;
- the activation explorer's update: a new step on the slider -> new PNG in the widget.
  Budget: median <= 50 ms; the exit status is 1 when it is over.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from helpers.answers import l03 as course
from helpers.answers import l04
from helpers.core import data, nn, training

BUDGET_MS = 50.0
SIZES = [2, 32, 32, 32, 32, 32, 32, 3]


def _time(fn, runs, setup=None):
    times = []
    for i in range(runs):
        state = setup(i) if setup else None
        start = time.perf_counter()
        fn(state) if setup else fn()
        times.append(1000 * (time.perf_counter() - start))
    return times


def bench_layer(runs):

    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 512))
    dout = rng.normal(size=(256, 512))
    bn = nn.BatchNorm(512)

    def layer():
        bn.forward(X)
        bn.backward(dout)

    gamma, beta = np.ones(512), np.zeros(512)

    def functions():
        _, cache = course.batchnorm_forward(X, gamma, beta)
        l04.batchnorm_backward(dout, cache)

    _, cache = course.batchnorm_forward(X, gamma, beta)

    def staged():
        l04.batchnorm_backward_staged(dout, cache)

    def compact():
        l04.batchnorm_backward(dout, cache)

    layer()  # warm-up
    return [("BatchNorm layer forward + backward, (256, 512)", _time(layer, runs), False),
            ("batchnorm_forward + batchnorm_backward, (256, 512)", _time(functions, runs),
             False),
            ("backward only, staged node by node (lesson 3, ex. 9), (256, 512)",
             _time(staged, runs), False),
            ("backward only, compact form (lesson 3, ex. 10), (256, 512)", _time(compact, runs),
             False)]


def bench_training(runs):

    X, y = data.spirals(100, seed=0)
    rows = []
    for bn in (False, True):
        def run(bn=bn):
            training.train(nn.mlp(SIZES, batchnorm=bn, seed=0), X, y, loss="cross_entropy",
                           lr=0.1, n_epochs=30, batch_size=32)
        label = "with" if bn else "without"
        rows.append((f"training, 300 steps, {label} batch norm", _time(run, runs), False))
    return rows


def bench_explorer(runs):
    from helpers.widgets.activation_explorer import ActivationExplorer

    X, y = data.spirals(100, seed=0)
    histories = {}
    for bn in (False, True):
        for lr in (0.1, 1.0):
            histories[bn, lr] = training.train(nn.mlp(SIZES, batchnorm=bn, seed=0), X, y,
                                               loss="cross_entropy", lr=lr, n_epochs=30,
                                               batch_size=32, record_activations=True,
                                               record_every=10, n_samples=1024)
    explorer = ActivationExplorer(histories, lr=0.1)
    n = explorer.record.max + 1

    def step(i):
        return (i * 7 + 3) % n

    def scrub(i):
        explorer.record.value = i

    rows = [("explorer: move the step slider", _time(scrub, runs, setup=step), True)]
    for key in histories:  # visit every view once, then time toggles between known views
        explorer.batchnorm.value, explorer.lr.value = key

    def toggle(value):
        explorer.batchnorm.value = value

    rows.append(("explorer: toggle batch norm (views seen before)",
                 _time(toggle, runs, setup=lambda i: i % 2 == 1), True))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per row (at least 5)")
    args = parser.parse_args(argv)
    runs = max(5, args.runs)
    rows = bench_layer(runs) + bench_training(runs) + bench_explorer(runs)
    print(f"| what (median of {runs} runs) | median ms | min ms | max ms | budget |")
    print("|---|---:|---:|---:|---|")
    over = False
    for name, times, budgeted in rows:
        median = statistics.median(times)
        budget = ""
        if budgeted:
            ok = median <= BUDGET_MS
            over |= not ok
            budget = f"≤ {BUDGET_MS:.0f} ms {'ok' if ok else 'OVER'}"
        print(f"| {name} | {median:.1f} | {min(times):.1f} | {max(times):.1f} | {budget} |")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
