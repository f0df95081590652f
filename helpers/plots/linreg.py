"""Lesson 1-2's figures: loss contours, weight trajectories, loss curves, learning-rate sweeps.

Every function draws on the ``ax`` it is given (or a new one) and returns it.
"""

from __future__ import annotations

import numpy as np

from helpers.core.problems import contour_levels
from helpers.plots.style import (
    CYCLE,
    END_MARKER,
    LINESTYLES,
    MINIMUM_MARKER,
    OKABE_ITO,
    START_MARKER,
    get_ax,
    style,
    thin_log_ticks,
)

#: contour lines are grey so that the coloured trajectories stand out
CONTOUR_COLOUR = "#9a9a9a"


#: one (colour, linestyle, marker) per method so GD and SGD differ by more than colour
METHOD_STYLE = {
    "GD": (OKABE_ITO["vermillion"], "-", "."),
    "SGD": (OKABE_ITO["blue"], "--", None),
}


def plot_contours(w1, w2, grid, ax=None, *, xlabel="w_1", ylabel="w_2", levels=12,
                  w_star=None, equal=True, title=None, colors=CONTOUR_COLOUR):
    """Contour lines of a loss over two weights.

    w1 (m,), w2 (k,) grid axes; grid (k, m) loss values (helpers.optimisation.loss_grid);
    ``w_star`` (2,) marks the minimum with a star. ``equal`` gives both axes the same
    units, so the contours show the bowl's true shape and gradient steps look perpendicular
    to them. Used in lessons 1-2 and by the widgets.
    """
    ax = get_ax(ax)
    lv = contour_levels(grid, levels) if np.isscalar(levels) else levels
    ax.contour(w1, w2, grid, levels=lv, colors=colors, linewidths=0.9)
    if w_star is not None:
        ax.plot([w_star[0]], [w_star[1]], linestyle="none", marker=MINIMUM_MARKER,
                markersize=14, color=OKABE_ITO["black"], label="minimum")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if equal:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(w1[0], w1[-1])
    ax.set_ylim(w2[0], w2[-1])
    if title:
        ax.set_title(title)
    return ax


def plot_trajectory(ws, ax=None, *, label="GD", color=None, linestyle="-", marker=".",
                    linewidth=1.5):
    """A weight trajectory ws (k+1, 2): a line through the steps, a circle at the start and
    a cross at the end. Only the first two weights are drawn. Lessons 1-2, widgets."""
    ax = get_ax(ax)
    color = color or OKABE_ITO["vermillion"]
    ax.plot(ws[:, 0], ws[:, 1], color=color, linestyle=linestyle, marker=marker,
            markersize=4, linewidth=linewidth, label=label)
    ax.plot([ws[0, 0]], [ws[0, 1]], linestyle="none", marker=START_MARKER, markersize=9,
            markerfacecolor="white", markeredgecolor=color, markeredgewidth=2, label="start")
    ax.plot([ws[-1, 0]], [ws[-1, 1]], linestyle="none", marker=END_MARKER, markersize=10,
            color=color, markeredgecolor="black", label=f"end ({len(ws) - 1} steps)")
    return ax


def plot_contour_trajectories(w1, w2, grid, runs: dict, ax=None, *, xlabel="w_1",
                              ylabel="w_2", w_star=None, title=None, legend=True):
    """Contours plus one trajectory per run; runs maps a label ("GD", "SGD", ...) to ws (k+1, 2)
    or to a helpers.optimisation.Run. Used in lesson 1."""
    ax = plot_contours(w1, w2, grid, ax, xlabel=xlabel, ylabel=ylabel, w_star=w_star,
                       title=title)
    for i, (label, run) in enumerate(runs.items()):
        ws = getattr(run, "ws", run)
        colour, ls, mk = METHOD_STYLE.get(label.split()[0], (CYCLE[(i + 3) % len(CYCLE)],
                                                             LINESTYLES[i % 4], "."))
        plot_trajectory(ws, ax, label=label, color=colour, linestyle=ls, marker=mk)
    if legend:
        ax.legend(loc="best", framealpha=0.9)
    return ax


LOSS_LABEL = "loss: mean squared error ((thousand USD)²)"


def plot_loss_curves(runs: dict, ax=None, *, ylabel=LOSS_LABEL, target=None, title=None):
    """Loss per step on a log scale, one line per run; runs maps labels to Runs (or loss arrays).

    A diverged run ends with a marker at its last finite loss. ``target`` draws a dotted
    horizontal line. Used in lessons 1-2.
    """
    ax = get_ax(ax)
    for i, (label, run) in enumerate(runs.items()):
        losses = np.asarray(getattr(run, "losses", run), dtype=float)
        ok = np.isfinite(losses)
        steps = np.arange(len(losses))
        diverged = bool(getattr(run, "diverged", False))
        line, = ax.plot(steps[ok], losses[ok], label=label + (" (diverged)" if diverged else ""),
                        **style(i))
        if diverged and ok.any():
            ax.plot(steps[ok][-1:], losses[ok][-1:], marker="^", color=line.get_color(),
                    markersize=9, linestyle="none")
    if target is not None:
        ax.axhline(target, color=OKABE_ITO["black"], linestyle=":", linewidth=1,
                   label=f"target loss {target:.3g}")
    ax.set_yscale("log")
    thin_log_ticks(ax)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", framealpha=0.9)
    return ax


def plot_lr_sweep(sweeps: dict, ax=None, *, quantity="steps", n_steps=None, target=None,
                  ylabel=None, title=None):
    """A learning-rate sweep (log x), one line per setting (e.g. "raw", "normalized").

    sweeps maps a label to helpers.optimisation.lr_sweep's list of (lr, Run, steps_to_target).
    quantity="steps": steps needed to reach the target loss; rates that never reach it are
    open circles at the top, rates that diverge are triangles above them.
    quantity="final_loss": the loss after the last step (units: ``ylabel``, default
    LOSS_LABEL); diverged rates are triangles at the top. ``target`` draws a dotted line
    (final_loss only). Lesson 1.
    """
    ax = get_ax(ax)
    if quantity not in ("steps", "final_loss"):
        raise ValueError("quantity must be 'steps' or 'final_loss'")
    top = n_steps or max((len(r.losses) - 1 for s in sweeps.values() for _, r, _ in s),
                         default=1)
    if quantity == "final_loss":
        finals = [r.losses[-1] for s in sweeps.values() for _, r, _ in s if not r.diverged]
        top = 3 * max(finals, default=1.0)
    for i, (label, sweep) in enumerate(sweeps.items()):
        st = style(i)
        lrs = np.array([lr for lr, _, _ in sweep])
        diverged = np.array([run.diverged for _, run, _ in sweep])
        if quantity == "steps":
            value = np.array([np.nan if s is None else s for _, _, s in sweep], dtype=float)
        else:
            value = np.array([np.nan if run.diverged else run.losses[-1] for _, run, _ in sweep])
        ax.plot(lrs, value, marker="o", markersize=4, label=label, **st)
        offset = 1 + 0.15 * i  # settings get their own row of markers, so none hides another
        slow = np.isnan(value) & ~diverged
        if slow.any():
            ax.plot(lrs[slow], np.full(slow.sum(), top * offset), linestyle="none", marker="o",
                    markerfacecolor="none", markeredgecolor=st["color"], markersize=6,
                    label=f"{label}: target not reached")
        if diverged.any():
            ax.plot(lrs[diverged], np.full(diverged.sum(), top * 1.6 * offset),
                    linestyle="none", marker="^", color=st["color"], markersize=7,
                    label=f"{label}: diverged")
    if target is not None and quantity == "final_loss":
        ax.axhline(target, color=OKABE_ITO["black"], linestyle=":", linewidth=1,
                   label="target loss")
    ax.set_xscale("log")
    ax.set_yscale("log")
    thin_log_ticks(ax, "x")
    thin_log_ticks(ax)
    ax.set_xlabel("learning rate α (log scale)")
    ax.set_ylabel(ylabel or ("steps to reach the target loss" if quantity == "steps"
                             else "loss after the last step ((thousand USD)²)"))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", framealpha=0.9, fontsize=8)
    return ax
