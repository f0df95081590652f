"""Lesson 5's figures: sweeps by normalization, per-layer diagnostics over training, and
the loss along the gradient direction (data from :mod:`helpers.core.diagnostics`).

Every function draws on a given ``ax`` (or new axes) and returns it; colours are
Okabe-Ito with a line style and marker per normalization, so colour is not the only cue.
"""

from __future__ import annotations

import numpy as np

from helpers.plots.style import OKABE_ITO, get_ax

#: how each normalization is drawn, by the name nn.mlp's ``norm`` takes
NORM_STYLE = {
    None: dict(color=OKABE_ITO["vermillion"], linestyle="--", marker="s", label="no normalization"),
    "batch": dict(color=OKABE_ITO["blue"], linestyle="-", marker="o", label="batch norm"),
    "layer": dict(color=OKABE_ITO["green"], linestyle=":", marker="^", label="layer norm"),
}

#: a common rule of thumb for the update-to-data ratio (Karpathy, 2022): about 1e-3
UPDATE_RATIO_GUIDE = 1e-3


def norm_label(norm) -> str:
    return NORM_STYLE[norm]["label"]


def plot_norm_sweep(values, medians: dict, spread: dict, ax=None, *, xlabel="batch size (examples)",
                    ylabel="test accuracy (median and range over seeds)", chance=None):
    """medians: {norm: list of y}; spread: {norm: (lows, highs)}, one line per normalization
    with a bar from the lowest to the highest run at each x (log x axis, ticks at values)."""
    from matplotlib.ticker import PercentFormatter

    ax = get_ax(ax)
    n = len(medians)
    for k, (norm, ys) in enumerate(medians.items()):
        style = NORM_STYLE[norm]
        x = np.asarray(values, dtype=float) * 1.06 ** (k - (n - 1) / 2)  # side by side
        ys = np.asarray(ys, dtype=float)
        lo, hi = (np.asarray(v, dtype=float) for v in spread[norm])
        ax.errorbar(x, ys, yerr=[ys - lo, hi - ys], linestyle="none", capsize=4,
                    color=style["color"], linewidth=1.2, alpha=0.8)
        ax.plot(x, ys, **style)
    if chance is not None:
        ax.axhline(chance, color="#555555", linestyle=":", linewidth=1.2, label="chance level")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(fontsize=8, loc="lower right")
    return ax


#: Linear layer k (0 = the first) of a diagnostics figure: Okabe-Ito colours none of
#: NORM_STYLE uses, and a marker and line style each, so colour is not the only cue
LAYER_STYLES = [
    dict(color=OKABE_ITO["orange"], linestyle="-", marker="o"),
    dict(color=OKABE_ITO["sky"], linestyle="-.", marker="s"),
    dict(color=OKABE_ITO["purple"], linestyle=":", marker="^"),
]
OUTPUT_LAYER_STYLE = dict(color=OKABE_ITO["black"], linestyle="--", marker="D")


def layer_style(j: int, n_layers: int) -> dict:
    """plot() keywords for Linear layer j of n_layers (the last one is the output layer)."""
    if j == n_layers - 1:
        return OUTPUT_LAYER_STYLE
    return LAYER_STYLES[j % len(LAYER_STYLES)]


def plot_layer_curves(steps, values, ax=None, *, ylabel, title="", guide=None):
    """One line per Linear layer (columns of ``values``, shape (records, layers)) over the
    training steps, log y axis; ``guide`` draws a dotted reference level."""
    ax = get_ax(ax)
    n = values.shape[1]
    for j in range(n):
        ax.plot(steps, values[:, j], linewidth=1.5, markersize=4, **layer_style(j, n),
                label=f"layer {j + 1}" + (" (output)" if j == n - 1 else ""))
    if guide is not None:
        ax.axhline(guide, color="#555555", linestyle=(0, (1, 3)), linewidth=1.5,
                   label=f"{guide:g} (rule of thumb)")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def plot_diagnostics(diags: dict, axes):
    """Two rows of panels, one column per run {label: Diagnostics}: the standard deviation
    of dL/dW (top) and the update-to-data ratio (bottom), per layer, shared y axes."""
    for col, (label, diag) in enumerate(diags.items()):
        plot_layer_curves(diag.steps, diag.grad_std, axes[0, col], title=label,
                          ylabel="std of dL/dW" if col == 0 else "")
        plot_layer_curves(diag.steps, diag.update_ratio, axes[1, col],
                          ylabel="‖lr·dL/dW‖ / ‖W‖" if col == 0 else "", guide=UPDATE_RATIO_GUIDE)
    for ax in axes[0]:
        ax.set_xlabel("")  # the bottom row's label serves both (shared x axis)
    for row in axes:
        lo = min(ax.get_ylim()[0] for ax in row)
        hi = max(ax.get_ylim()[1] for ax in row)
        for ax in row:
            ax.set_ylim(lo, hi)
    axes[1, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return axes


def plot_landscape(diags: dict, axes):
    """Santurkar et al. (2018)'s two views, one band per run {norm: Diagnostics}: the range
    of the batch loss over the step sizes along −g (left) and the range of the gradient
    change ‖g(θ − ηg) − g(θ)‖ (right), at each recorded step."""
    handles, labels = [], []
    for norm, diag in diags.items():
        style = NORM_STYLE[norm]
        for k, (ax, data) in enumerate(zip(axes, (diag.landscape, diag.grad_change), strict=True)):
            band = ax.fill_between(diag.steps, data.min(axis=1), data.max(axis=1),
                                   color=style["color"], alpha=0.3,
                                   hatch="//" if norm is None else None,
                                   edgecolor=style["color"], linewidth=0.5)
            top = ax.plot(diag.steps, data.max(axis=1), color=style["color"],
                          linestyle=style["linestyle"], marker=style["marker"], markersize=3,
                          linewidth=1.2)[0]
            if k == 0:  # the legend shows band and edge together: hatch, line style, marker
                handles.append((band, top))
                labels.append(style["label"])
    sizes = ", ".join(f"{s:g}" for s in next(iter(diags.values())).step_sizes)
    axes[0].set_ylabel(f"batch loss after a step η along −g\n(range over η = {sizes})")
    axes[1].set_ylabel("gradient change ‖g(θ − ηg) − g(θ)‖\n(range over the same η)")
    for ax in axes:
        ax.set_xlabel("training step")
        ax.set_yscale("log")
    axes[0].legend(handles, labels, fontsize=8, loc="upper right")
    return axes
