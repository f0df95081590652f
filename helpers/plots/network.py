"""Lesson 3's figures: hidden-activation statistics, histograms per layer, sweeps.

Pure data first (:func:`activation_frame`), then functions that
draw on the axes they are given and return them. Colours and line styles come from
:mod:`helpers.plots.style`, so curves differ by more than colour.
"""

from __future__ import annotations

import numpy as np

from helpers.plots.style import CYCLE, LINESTYLES, OKABE_ITO, get_ax

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
BN_STYLE = {False: {"color": OKABE_ITO["vermillion"], "linestyle": "--", "marker": "s",
                    "label": "without batch norm"},
            True: {"color": OKABE_ITO["blue"], "linestyle": "-", "marker": "o",
                   "label": "with batch norm"}}


#: margins (fractions of the figure) of the figures these functions create: room for the
#: axis labels without a tight bounding box, which costs a second drawing of the figure
FIXED_MARGINS = {"left": 0.13, "right": 0.97, "bottom": 0.15, "top": 0.9}


def layer_style(i: int) -> dict:
    """Colour, line style and marker of hidden layer i (0-based)."""
    return {"color": CYCLE[i % len(CYCLE)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


# --------------------------------------------------------------------------- data


def activation_range(history, quantile=0.995) -> float:
    """A symmetric histogram range covering ``quantile`` of every recorded value."""
    values = np.abs(history.act_samples[np.isfinite(history.act_samples)])
    return float(np.quantile(values, quantile)) if values.size else 1.0


def activation_frame(history, record: int, *, bins: int = 40, lim: float | None = None) -> dict:
    """Histograms of each hidden layer's pre-activations at one record of a history.

    Returns {"step", "edges" (bins+1,), "density" (n_hidden, bins), "mean" (n_hidden,),
    "std" (n_hidden,), "outside" (n_hidden,) fraction of values beyond ±lim}.
    """
    lim = activation_range(history) if lim is None else lim
    edges = np.linspace(-lim, lim, bins + 1)
    samples = history.act_samples[record]
    density = np.stack([np.histogram(s, edges, density=False)[0] for s in samples])
    density = density / (samples.shape[1] * np.diff(edges)[0])
    outside = (np.abs(samples) > lim).mean(axis=1)
    return {"step": int(history.steps[record]), "edges": edges, "density": density,
            "mean": history.act_mean[record].copy(), "std": history.act_std[record].copy(),
            "outside": outside}


# --------------------------------------------------------------------------- drawing


def plot_activation_stats(history, axes=None, title=""):
    """Mean and standard deviation of each hidden layer's pre-activations vs training step."""
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
        fig.subplots_adjust(**FIXED_MARGINS, wspace=0.25)
    n_hidden = history.act_mean.shape[1]
    every = max(1, len(history.steps) // 8)
    for i in range(n_hidden):
        style = layer_style(i)
        for ax, values in zip(axes, (history.act_mean, history.act_std), strict=True):
            ax.plot(history.steps, values[:, i], markevery=every, markersize=5,
                    label=f"layer {i + 1}", **style)
    axes[0].set_ylabel("mean of pre-activations")
    axes[1].set_ylabel("std of pre-activations")
    for ax in axes:
        ax.set_xlabel("training step (minibatch updates)")
    axes[1].legend(ncol=2, loc="upper left")
    if title:
        axes[0].figure.suptitle(title)
    return axes


def plot_layer_histograms(history, records=(0, -1), axes=None, *, bins=40, lim=None):
    """One panel per hidden layer: histograms of its pre-activations at the given records."""
    n_hidden = history.act_samples.shape[1]
    if axes is None:
        import matplotlib.pyplot as plt

        width = 1.7 * n_hidden + 1.8
        fig, axes = plt.subplots(1, n_hidden, figsize=(width, 2.6), sharey=True)
        # fixed margins (inches; the legend sits right of the last panel): constrained
        # layout costs more than drawing the histograms
        fig.subplots_adjust(left=0.7 / width, right=1 - 1.25 / width, bottom=0.19, top=0.9,
                            wspace=0.12)
    axes = np.atleast_1d(axes)
    lim = activation_range(history) if lim is None else lim
    styles = [{"color": OKABE_ITO["sky"], "linestyle": "-", "fill": True, "alpha": 0.6},
              {"color": OKABE_ITO["vermillion"], "linestyle": "-", "fill": False,
               "linewidth": 2.0}]
    for k, record in enumerate(records):
        frame = activation_frame(history, record, bins=bins, lim=lim)
        for i, ax in enumerate(axes):
            ax.stairs(frame["density"][i], frame["edges"],
                      label=f"step {frame['step']}", **styles[k % 2])
    for i, ax in enumerate(axes):
        ax.set_title(f"layer {i + 1}", fontsize=10)
        ax.set_xlabel("pre-activation")
    axes[0].set_ylabel("density")
    # outside the last panel, so that it covers no histogram peak
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    return axes


def plot_sweep(values, results: dict, ax=None, *, xlabel="learning rate", ylabel="test accuracy",
               log=True, chance=None, diverged: dict | None = None, percent=True,
               spread: dict | None = None, n_diverged: dict | None = None):
    """results: {batchnorm (bool): list of y values}; diverged: {batchnorm: list of bools}.

    ``n_diverged`` {batchnorm: runs that diverged at each value}: a value whose point is
    drawn although some of its runs diverged gets a ring and the count.

    Diverged runs leave a gap in their line and are drawn as a large ✕ at chance level
    (or at 0). The x ticks are the swept values. With ``percent``, y values are
    fractions shown as percentages (as the lesson prints accuracies). ``spread``
    {batchnorm: (lows, highs)} draws a bar from low to high at each value (e.g. the
    range over several seeds around their median).
    """
    created, ax = ax is None, get_ax(ax)
    if created:
        ax.figure.subplots_adjust(**FIXED_MARGINS)
    for bn, ys in results.items():
        style = dict(BN_STYLE[bn])
        ys = np.array(ys, dtype=float)
        if diverged:  # a diverged run has no meaningful accuracy: leave a gap in the line
            ys[np.array(diverged[bn], dtype=bool)] = np.nan
        if spread:
            lo, hi = (np.array(v, dtype=float) for v in spread[bn])
            keep = np.isfinite(ys)
            ax.errorbar(np.asarray(values)[keep], ys[keep], linestyle="none", capsize=4,
                        yerr=[ys[keep] - lo[keep], hi[keep] - ys[keep]], color=style["color"],
                        linewidth=1.2, alpha=0.8)
        ax.plot(values, ys, **style)
        partly = [(v, yv, k) for v, yv, k in zip(values, ys, (n_diverged or {}).get(bn, [0] * len(ys)),
                                                   strict=True) if k and np.isfinite(yv)]
        for v, yv, k in partly:  # one legend entry for the rings of every line
            ringed = any(line.get_label() == "some runs diverged" for line in ax.lines)
            ax.plot(v, yv, linestyle="none", marker="o", markersize=14, markerfacecolor="none",
                    color=style["color"], label=None if ringed else "some runs diverged")
            ax.annotate(f"{k} diverged", (v, yv), xytext=(0, -18), textcoords="offset points",
                        fontsize=7, color=style["color"], ha="center")
        if diverged:
            bad = [v for v, d in zip(values, diverged[bn], strict=True) if d]
            if bad:
                y0 = chance if chance is not None else 0.0
                ax.plot(bad, [y0] * len(bad), linestyle="none", marker="X", markersize=12,
                        color=style["color"], label=f"diverged ({style['label']})")
    if chance is not None:
        ax.axhline(chance, color="#555555", linestyle=":", linewidth=1.2, label="chance level")
    if log:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.set_xlabel(xlabel)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax


def plot_data(X, y, ax=None, title=""):
    """Scatter of a 2-feature classification set, one marker and colour per class."""
    created, ax = ax is None, get_ax(ax, figsize=(3.6, 3.4))
    if created:
        ax.figure.subplots_adjust(left=0.2, right=0.97, bottom=0.16, top=0.9)
    for c in np.unique(y):
        ax.scatter(*X[y == c].T, s=12, color=CYCLE[int(c) % len(CYCLE)],
                   marker=MARKERS[int(c) % len(MARKERS)], label=f"class {c}")
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def plot_unit_spread(before, after, ax=None, *, pooled=None, what="standard deviation"):
    """One column of dots per hidden layer: each unit's statistic at step 0 and at the end.

    before, after: lists (one per layer) of arrays, one value per unit. ``pooled``
    (pooled_before, pooled_after), one number per layer each, draws the statistic pooled
    over all units as a black bar across that layer's dots, for comparison.
    """
    ax = get_ax(ax, figsize=(8.0, 3.2))
    styles = [("each unit, step 0", OKABE_ITO["sky"], "o", -0.2),
              ("each unit, end of training", OKABE_ITO["vermillion"], "s", 0.2)]
    for k, (values, (label, color, marker, shift)) in enumerate(
            zip((before, after), styles, strict=True)):
        for i, v in enumerate(values):
            x = i + 1 + shift + np.linspace(-0.12, 0.12, len(v))
            ax.plot(x, v, linestyle="none", marker=marker, markersize=3.5, color=color,
                    alpha=0.75, label=label if i == 0 else None)
            if pooled is not None:
                ax.plot([i + 1 + shift - 0.16, i + 1 + shift + 0.16], [pooled[k][i]] * 2,
                        color="black", linewidth=2.2,
                        label="pooled over all units" if i == 0 and k == 0 else None)
    ax.set_xticks(range(1, len(before) + 1), [f"layer {i + 1}" for i in range(len(before))])
    ax.set_ylabel(f"{what} of each unit")
    ax.legend(fontsize=8, loc="upper left")
    return ax
