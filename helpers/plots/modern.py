"""Lesson 6's figures: the four normalizations on an (N, C, H, W) block (after Wu & He,
2018, drawn from a learner's own axes), and the studies over seeds (median and range).

Every function draws on a given ``ax`` (or new axes) and returns it. Colours are
Okabe-Ito; each series also has its own line style and marker, and the cells a statistic
covers are dark blue against white (a difference of lightness too), so nothing depends on
colour alone.
"""

from __future__ import annotations

import numpy as np

from helpers.plots.style import OKABE_ITO, get_ax

#: the block drawn: N examples (depth), C channels (across), H × W positions (up)
BLOCK = (3, 6, 2, 2)
GROUPS = 3
#: which index each axis that a statistic does not run over is fixed at
CHOSEN = {"N": 0, "C": 1, "G": 1, "C/G": 0, "H": 0, "W": 0}

SERIES = [dict(color=OKABE_ITO["blue"], linestyle="-", marker="o"),
          dict(color=OKABE_ITO["vermillion"], linestyle="--", marker="s"),
          dict(color=OKABE_ITO["green"], linestyle=":", marker="^"),
          dict(color=OKABE_ITO["purple"], linestyle="-.", marker="D")]


def statistic_cells(axes, grouped=False, block=BLOCK, groups=GROUPS) -> np.ndarray:
    """Which cells of an (N, C, H, W) block share one mean and variance when normalizing
    over ``axes`` -> boolean (N, C, H·W). ``grouped``: the axes are those of the block
    reshaped to (N, G, C/G, H, W). Raises ValueError for axes that do not fit."""
    N, C, H, W = block
    shape = (N, groups, C // groups, H, W) if grouped else block
    names = ("N", "G", "C/G", "H", "W") if grouped else ("N", "C", "H", "W")
    if any(not -len(shape) <= int(a) < len(shape) for a in axes):
        raise ValueError(f"axes {tuple(axes)} do not fit {len(shape)} dimensions")
    axes = {int(a) % len(shape) for a in axes}
    mask = np.ones(shape, dtype=bool)
    for a, name in enumerate(names):
        if a not in axes:
            keep = np.zeros(shape[a], dtype=bool)
            keep[CHOSEN[name]] = True
            mask &= keep.reshape([-1 if b == a else 1 for b in range(len(shape))])
    return mask.reshape(N, C, H * W)


#: how far one example further back is drawn, across and up (an oblique projection)
DEPTH = (0.6, 0.45)


def _faces(mask, depth=DEPTH):
    """Polygons and flags of the visible faces of the block: front (n = 0), top, right."""
    N, C, S = mask.shape
    dx, dy = depth
    polys, flags = [], []
    for c in range(C):                    # front face: channel across, position up
        for s in range(S):
            polys.append([(c, s), (c + 1, s), (c + 1, s + 1), (c, s + 1)])
            flags.append(mask[0, c, S - 1 - s])
    for n in range(N):                    # top face: the first position of every example
        for c in range(C):
            x0, y0 = c + n * dx, S + n * dy
            polys.append([(x0, y0), (x0 + 1, y0), (x0 + 1 + dx, y0 + dy), (x0 + dx, y0 + dy)])
            flags.append(mask[n, c, 0])
    for n in range(N):                    # right face: the last channel of every example
        for s in range(S):
            x0, y0 = C + n * dx, s + n * dy
            polys.append([(x0, y0), (x0 + dx, y0 + dy), (x0 + dx, y0 + 1 + dy), (x0, y0 + 1)])
            flags.append(mask[n, C - 1, S - 1 - s])
    return polys, np.array(flags)


def plot_block(mask, ax=None, *, title=""):
    """One block with the cells of ``mask`` (from :func:`statistic_cells`) filled in dark blue."""
    from matplotlib.collections import PolyCollection

    ax = get_ax(ax)
    polys, flags = _faces(mask)
    colours = np.where(flags, OKABE_ITO["blue"], "white")  # dark against white: no colour needed
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="#333333",
                                     linewidths=0.8))
    N, C, S = mask.shape
    ax.annotate("", xy=(C, -0.45), xytext=(0, -0.45),
                arrowprops=dict(arrowstyle="->", color="#333333"))
    ax.text(C / 2, -0.9, "C (channels)", ha="center", va="top", fontsize=9)
    ax.text(-0.3, S / 2, "H, W\n(positions)", ha="right", va="center", fontsize=9)
    dx, dy = DEPTH
    ax.annotate("", xy=(C + 0.15 + dx * N, dy * N - 0.1), xytext=(C + 0.15, -0.1),
                arrowprops=dict(arrowstyle="->", color="#333333"))
    ax.text(C + 0.3 + dx * N, dy * N - 0.2, "N\n(examples)", ha="left", va="center",
            fontsize=9)
    ax.set_xlim(-2.3, C + 3.5)
    ax.set_ylim(-1.4, S + 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=11)
    return ax


def plot_norm_family(family: dict, axes=None):
    """Four blocks, one per normalization, each filled where one statistic is computed,
    from ``family`` = {"batch": axes, "layer": ..., "instance": ..., "group": axes of
    (N, G, C/G, H, W)} (a learner's ``family_axes()``). Axes that do not fit are named in
    the panel's title instead of drawn."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 4, figsize=(11.5, 2.6), layout="constrained")
    for ax, name in zip(axes, ("batch", "layer", "instance", "group"), strict=True):
        value = family.get(name, ()) if isinstance(family, dict) else ()
        try:
            mask = statistic_cells(value, grouped=name == "group")
            title = f"{name} norm: axes {tuple(value)}"
        except (TypeError, ValueError):
            mask = np.zeros((BLOCK[0], BLOCK[1], BLOCK[2] * BLOCK[3]), dtype=bool)
            title = f"{name} norm: axes {value!r} do not fit"[:40]
        plot_block(mask, ax, title=title)
    return axes


# --------------------------------------------------------------------------- studies over seeds


def plain_log_axis(ax, axis="y"):
    """A log axis labelled 0.1, 0.2, 0.5, 1, 2, 5, ... in plain numbers (no 10ⁿ notation)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    which = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    which.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    which.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    which.set_minor_formatter(NullFormatter())
    return ax


def moving_average(values, window):
    """The mean of each ``window`` consecutive rows (steps) of ``values`` (steps, ...)."""
    values = np.asarray(values, dtype=float)
    if window <= 1:
        return values
    sums = np.cumsum(np.concatenate([np.zeros((1, *values.shape[1:])), values]), axis=0)
    return (sums[window:] - sums[:-window]) / window


def plot_runs(curves: dict, ax=None, *, xlabel="training step", ylabel="training loss",
              log=False, smooth=1):
    """curves: {label: array (steps, S)}; the median over the seeds as a line, the range
    (lowest to highest seed) as a band. ``smooth``: each seed's curve is first averaged
    over that many consecutive steps (drawn at the window's last step)."""
    ax = get_ax(ax)
    for k, (label, values) in enumerate(curves.items()):
        values = moving_average(values, smooth)
        steps = np.arange(smooth, smooth + len(values))
        style = SERIES[k % len(SERIES)]
        with np.errstate(all="ignore"):
            lo, med, hi = np.nanmin(values, 1), np.nanmedian(values, 1), np.nanmax(values, 1)
        ax.fill_between(steps, lo, hi, color=style["color"], alpha=0.18, linewidth=0)
        ax.plot(steps, med, label=f"{label} (median, range of {values.shape[1]} seeds)",
                markevery=max(1, len(steps) // 8), markersize=5, **style)
    if log:
        plain_log_axis(ax)
    ax.set_xlabel(xlabel + (f" (each curve averaged over {smooth} steps)" if smooth > 1 else ""))
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax


def plot_by_position(values: dict, ax=None, *, xlabel, ylabel, log=True):
    """values: {label: array (positions, S)}, e.g. the gradient norm of each block; the
    median over the seeds with a bar from the lowest to the highest seed."""
    ax = get_ax(ax)
    for k, (label, v) in enumerate(values.items()):
        v = np.asarray(v, dtype=float)
        x = np.arange(1, len(v) + 1) + 0.12 * (k - (len(values) - 1) / 2)
        med = np.median(v, axis=1)
        style = SERIES[k % len(SERIES)]
        ax.errorbar(x, med, yerr=[med - v.min(1), v.max(1) - med], linestyle="none",
                    color=style["color"], capsize=2, linewidth=1, alpha=0.7)
        ax.plot(x, med, markersize=5, label=f"{label} (median, range of {v.shape[1]} seeds)",
                **style)
    if log:
        plain_log_axis(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax


def plot_spread(batch_sizes, spreads: dict, ax=None, *, rule_from=None):
    """spreads: {label: one spread per batch size}; log-log. ``rule_from``: a label whose
    largest batch size anchors the rule of thumb spread ∝ 1/√B (dotted)."""
    ax = get_ax(ax)
    B = np.asarray(batch_sizes, dtype=float)
    for k, (label, s) in enumerate(spreads.items()):
        ax.plot(B, np.maximum(np.asarray(s, dtype=float), 1e-3), label=label,
                **SERIES[k % len(SERIES)])
    if rule_from is not None:
        anchor = float(np.asarray(spreads[rule_from])[-1])
        ax.plot(B, anchor * np.sqrt(B[-1] / B), color="#555555", linestyle=(0, (1, 2)),
                label=f"1/√B rule through {rule_from}'s last point")
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(B, [f"{b:g}" for b in B])
    plain_log_axis(ax)
    ax.set_xlabel("batch size B (examples)")
    ax.set_ylabel("spread of its output (std over batches, no unit)")
    ax.legend(fontsize=8, loc="upper right")  # the lines fall to the lower right
    return ax


def plot_seed_dots(results: dict, ax=None, *, xlabel, chance=None):
    """results: {label: values (S,)}, one row per label: every seed as a dot, the median
    as a bar; ``xlabel`` says what the values are (with units)."""
    ax = get_ax(ax)
    labels = list(results)
    for k, label in enumerate(labels):
        v = np.asarray(results[label], dtype=float)
        y = len(labels) - 1 - k
        jitter = np.linspace(-0.15, 0.15, len(v))
        style = SERIES[k % len(SERIES)]
        ax.scatter(v, y + jitter, color=style["color"], marker=style["marker"], s=22,
                   alpha=0.8, zorder=3)
        ax.plot([np.median(v)] * 2, [y - 0.3, y + 0.3], color="#000000", linewidth=2.5)
    if chance is not None:
        ax.axvline(chance, color="#555555", linestyle=":", linewidth=1.2, label="chance level")
        ax.legend(fontsize=8, loc="upper right")  # above the first row's dots
    ax.set_yticks(range(len(labels)), labels[::-1])
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xlabel(xlabel)
    return ax
