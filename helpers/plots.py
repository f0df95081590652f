"""Plotting helpers shared by every lesson: colour-blind-safe, labelled, small.

Nothing changes at import time; call :func:`use_course_style` once in a
notebook to apply the course's matplotlib style. Every function draws on the
``ax`` it is given (or a new one) and returns it, so widgets and tests can
reuse it.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Okabe-Ito palette: distinguishable with every common colour-vision deficiency
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "sky", "purple", "black")]
#: line styles to pair with colours, so curves differ by more than colour
LINESTYLES = ["-", "--", ":", "-."]
#: perceptually uniform, colour-blind-safe colormap for contour fills
CMAP = "viridis"

COURSE_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "lines.linewidth": 2.0,
    "image.cmap": CMAP,
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (call once, at the top of a notebook)."""
    mpl.rcParams.update(COURSE_STYLE)


def get_ax(ax=None, figsize=None):
    """The given axes, or a new figure's axes."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


# --------------------------------------------------------------------------- labels

#: start / end markers of a trajectory (shape differs, not only colour)
START_MARKER = "o"
END_MARKER = "X"
MINIMUM_MARKER = "*"
#: contour lines are grey so that the coloured trajectories stand out
CONTOUR_COLOUR = "#9a9a9a"
#: one (colour, linestyle, marker) per method so GD and SGD differ by more than colour
METHOD_STYLE = {
    "GD": (OKABE_ITO["vermillion"], "-", "."),
    "SGD": (OKABE_ITO["blue"], "--", None),
}


def weight_label(feature: str, unit: str) -> str:
    """Axis label of a weight with its unit, e.g. weight_label("age", "thousand USD per year")
    gives "w_age (thousand USD per year)". Lessons 1-2."""
    return f"w_{feature} ({unit})"


def style(i: int) -> dict:
    """The i-th (colour, linestyle) pair of the course cycle, as plot() keyword arguments,
    so that neighbouring curves differ by colour *and* line style."""
    return {"color": CYCLE[i % len(CYCLE)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def subplots(ncols: int = 2, nrows: int = 1, width: float = 4.2, height: float = 3.6, **kw):
    """Side-by-side axes for comparisons (constrained layout, so labels never overlap):
    returns (fig, axes) with axes a flat array of nrows * ncols axes. Lessons 1-2."""
    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, **kw)
    return fig, axes.ravel()


# --------------------------------------------------------------------------- contours


def contour_levels(grid, n: int = 12, floor=None):
    """Contour levels spaced geometrically above the minimum, so both the narrow valley
    and the far walls of a badly scaled bowl get lines. grid: (k, m) loss values."""
    lo = float(np.min(grid)) if floor is None else float(floor)
    span = float(np.max(grid)) - lo
    if not np.isfinite(span) or span <= 0:
        return np.array([lo, lo + 1.0])
    return lo + span * np.geomspace(1e-3, 1.0, n)


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


# --------------------------------------------------------------------------- curves


#: unicode superscripts: tick labels such as 10⁻¹² without mathtext
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value, _pos=None) -> str:
    """Tick label of a log or symlog axis: "10⁻³" for a power of ten, "0" for 0, else "".

    Plain unicode text, drawn like the default mathtext label 10^{-3} but about three
    times faster (mathtext labels were most of a log plot's rendering time)."""
    if value == 0:
        return "0"
    exponent = float(np.log10(abs(value)))
    n = round(exponent)
    if abs(exponent - n) > 1e-6:
        return ""
    return ("−" if value < 0 else "") + "10" + str(n).translate(_SUPERSCRIPTS)


def power_of_ten_labels(ax, axis: str = "y"):
    """Label the decades of a log or symlog axis 10ⁿ in plain text (see :func:`power_of_ten`);
    call after setting the scale. Lesson 1."""
    from matplotlib.ticker import FuncFormatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(power_of_ten))
    return ax


def _thin_log_ticks(ax, axis="y", decades=4):
    """Drop the minor ticks of a log axis spanning more than ``decades`` decades: they are
    too dense to read there and cost a third of the figure's rendering time. An axis
    spanning two decades or more (so at least two labelled decades) gets plain-text
    labels 10ⁿ (:func:`power_of_ten_labels`)."""
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if lo > 0 and hi / lo > 10**decades:
        from matplotlib.ticker import NullLocator

        (ax.yaxis if axis == "y" else ax.xaxis).set_minor_locator(NullLocator())
    if lo > 0 and hi / lo >= 100:
        power_of_ten_labels(ax, axis)

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
    _thin_log_ticks(ax)
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
    _thin_log_ticks(ax, "x")
    _thin_log_ticks(ax)
    ax.set_xlabel("learning rate α (log scale)")
    ax.set_ylabel(ylabel or ("steps to reach the target loss" if quantity == "steps"
                             else "loss after the last step ((thousand USD)²)"))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", framealpha=0.9, fontsize=8)
    return ax


def canvas_png(canvas) -> bytes:
    """The current pixels of an Agg canvas as PNG bytes, fast (for widgets' Image values).

    Reads the buffer directly (no re-draw), so blitted artists are included;
    ``compress_level=1`` keeps encoding to a few milliseconds.
    """
    import io

    from PIL import Image as PILImage

    width, height = canvas.get_width_height()
    image = PILImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()
