"""Widget update latency: slider change -> new PNG in the widget (median of N runs).

    python benchmarks/bench_widgets.py [--runs 7]

Prints a Markdown table, one row per (widget, change). Budget (issue text): median
update <= 50 ms on the course's 2-core machine; the exit status is 1 when a budgeted
row is over it. To add another lesson's widget, append
a ``Entry(name, make_widget, change)`` to ``ENTRIES``: ``make_widget()`` returns an
object with ``.image`` (an ``ipywidgets.Image``), ``change(widget, i)`` moves one control
for run ``i`` to a value different from run ``i - 1``. The time measured is from the
control's new value to the new PNG bytes in ``.image.value`` (the callbacks run
synchronously in the kernel; sending the bytes to the browser is not included).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

BUDGET_MS = 50.0


@dataclass(frozen=True)
class Entry:
    name: str
    make_widget: Callable
    change: Callable  # (widget, run index) -> None: sets one control's value
    budgeted: bool = True  # False: shown for information, not held to the budget
    rebuild: bool = False  # True: a new widget for every run (measures first visits)


def _lesson1(prerender):
    def make():
        from helpers.widgets.contour_explorer import scale_explorer

        return scale_explorer(income_exp=0, lr_fraction=0.9, prerender=prerender)

    return make


def _set(attr, values):
    def change(widget, i):
        control = widget.controls[attr]
        control.value = values[i % len(values)]

    return change


def _lesson2():
    from helpers.widgets.contour_explorer import scaling_explorer

    return scaling_explorer(kind="none", lr_fraction=0.9, prerender=True)  # as when shown


_L5_RUNS: dict = {}


def _lesson5():
    """Lesson 5's explorer over the lesson's 9 runs (3 networks × 3 learning rates, seed 0),
    trained once per benchmark process."""
    from helpers.core import data, diagnostics, nn
    from helpers.widgets.diagnostics_explorer import DiagnosticsExplorer

    if not _L5_RUNS:
        X, y = data.spirals(n_per_class=100, seed=0)
        for norm in (None, "batch", "layer"):
            for lr in (0.1, 0.3, 1.0):
                _L5_RUNS[norm, lr] = diagnostics.diagnose(
                    nn.mlp([2, 32, 32, 32, 32, 32, 32, 3], norm=norm, seed=0), X, y, lr=lr,
                    n_epochs=30, batch_size=32, step_sizes=())
    return DiagnosticsExplorer(_L5_RUNS, norm="batch", lr=0.1, layer=1)


def _control(name, values):
    def change(widget, i):
        getattr(widget, name).value = values[i % len(values)]

    return change


LR_VALUES = [0.3, 0.5, 0.7, 0.9, 1.1, 0.4, 0.6, 0.8, 1.0, 0.2]
UNIT_VALUES = [1, 2, 3, 4, 5, 0]

ENTRIES = [
    Entry("L1 scale explorer: learning-rate slider", _lesson1(False),
          _set("lr_fraction", LR_VALUES)),
    Entry("L1 scale explorer: GD/SGD toggle", _lesson1(False),
          _set("method", ["SGD", "GD"])),
    # the lesson builds its explorer with prerender=True (every background drawn up front):
    Entry("L1 scale explorer: income-unit slider (prerendered, as in the lesson)",
          _lesson1(True), _set("income_exp", UNIT_VALUES)),
    # without prerendering, the first visit of each unit draws its axes and text (why the
    # lesson prerenders); later visits reuse the saved background
    Entry("L1 scale explorer: income-unit slider, first visit, no prerender (info)",
          _lesson1(False), _set("income_exp", UNIT_VALUES[:-1]), budgeted=False,
          rebuild=True),
    # lesson 2 reuses the same ContourExplorer with a scaling dropdown (prerendered)
    Entry("L2 scaling explorer: scaling dropdown", _lesson2,
          _set("kind", ["center", "scale", "zscore", "minmax", "robust", "log", "none"])),
    Entry("L2 scaling explorer: learning-rate slider", _lesson2,
          _set("lr_fraction", LR_VALUES)),
    Entry("L5 diagnostics explorer: layer slider", _lesson5,
          _control("layer", [2, 3, 4, 5, 6, 7, 1])),
    Entry("L5 diagnostics explorer: network toggle", _lesson5,
          _control("norm", [None, "layer", "batch"])),
    Entry("L5 diagnostics explorer: learning-rate slider", _lesson5,
          _control("lr", [0.3, 1.0, 0.1])),
]


def measure(entry: Entry, runs: int) -> list[float]:
    """Milliseconds per change; the widget is built once, outside the timing."""
    widget = entry.make_widget()
    times = []
    for i in range(runs):
        if entry.rebuild and i:
            widget = entry.make_widget()
        before = bytes(widget.image.value)
        start = time.perf_counter()
        entry.change(widget, i)
        after = widget.image.value  # the callback has already set the new PNG
        times.append((time.perf_counter() - start) * 1000)
        if bytes(after) == before:
            raise RuntimeError(f"{entry.name}: change {i} did not produce a new PNG")
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6,
                        help="changes per row (>= 5; the unit rows visit each of 6 units once)")
    args = parser.parse_args(argv)
    runs = max(5, args.runs)
    print(f"| widget update (slider change -> new PNG) | runs | median ms | max ms | "
          f"budget {BUDGET_MS:.0f} ms |")
    print("|---|---:|---:|---:|---|")
    worst = 0.0
    for entry in ENTRIES:
        times = measure(entry, runs)
        med = statistics.median(times)
        if entry.budgeted:
            worst = max(worst, med)
            ok = "ok" if med <= BUDGET_MS else "OVER"
        else:
            ok = "not budgeted"
        print(f"| {entry.name} | {runs} | {med:.1f} | {max(times):.1f} | {ok} |")
    return 0 if worst <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
