"""Drawing the explorers' states (from :mod:`helpers.core.problems`) with matplotlib.

:func:`draw_state` draws one state on an ``ax`` (static figures in lessons 1-2);
:class:`Renderer` turns states into PNG bytes with one reusable figure and no pyplot
state, redrawing only the trajectory (the widget in :mod:`helpers.widgets.contour_explorer`).
"""

from __future__ import annotations

import numpy as np

from helpers.core.problems import METHODS, Problem, fit_window, zoom_window
from helpers.plots.linreg import METHOD_STYLE, plot_contours, plot_trajectory
from helpers.plots.style import END_MARKER, MINIMUM_MARKER, OKABE_ITO, START_MARKER, canvas_png


def draw_background(problem: Problem, ax) -> object:
    """What does not change with the learning rate: contours, minimum, labels, limits."""
    p = problem
    plot_contours(p.w1, p.w2, p.grid, ax, xlabel=p.labels[0], ylabel=p.labels[1],
                  levels=p.levels, w_star=p.w_star, title=p.title or None)
    return ax


def draw_run(state: dict, ax) -> list:
    """The run's trajectory (start circle, end cross) on ax; returns the new artists.

    A diverging run leaves the window: it is clipped to a margin around it, so the line
    still shows where it went.
    """
    p = state["problem"]
    r = p.w1[-1] - p.w1[0]
    lo = np.array([p.w1[0], p.w2[0]]) - r
    hi = np.array([p.w1[-1], p.w2[-1]]) + r
    ws = np.clip(np.nan_to_num(state["ws"], nan=0.0, posinf=hi.max(), neginf=lo.min()), lo, hi)
    colour, ls, mk = METHOD_STYLE[state["method"]]
    n_before = len(ax.lines)
    plot_trajectory(ws, ax, label=state["method"], color=colour, linestyle=ls, marker=mk)
    ax.set_xlim(p.w1[0], p.w1[-1])
    ax.set_ylim(p.w2[0], p.w2[-1])
    return ax.lines[n_before:]


def _legend(ax):
    return ax.legend(loc="upper right", fontsize=8, framealpha=0.9)


def _legend_handles(methods=METHODS):
    """Legend entries: minimum, one line per method, start (circle), end (cross)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none", marker=MINIMUM_MARKER, markersize=11,
                      color=OKABE_ITO["black"], label="minimum")]
    for method in methods:
        colour, ls, mk = METHOD_STYLE[method]
        handles.append(Line2D([], [], color=colour, linestyle=ls, marker=mk, label=method))
    handles += [Line2D([], [], linestyle="none", marker=START_MARKER, markerfacecolor="white",
                       markeredgecolor="black", markersize=8, label="start"),
                Line2D([], [], linestyle="none", marker=END_MARKER, color="0.4",
                       markeredgecolor="black", markersize=8, label="end")]
    return handles


def _explorer_legend(ax):
    """A fixed legend (both methods), drawn once with the background, to the right of the
    axes so that it covers no contour or trajectory."""
    return ax.legend(handles=_legend_handles(), loc="upper left", bbox_to_anchor=(1.02, 1.0),
                     borderaxespad=0.0, fontsize=8, framealpha=0.9)


def draw_state(state: dict, ax, *, legend: bool = True, fit: bool = False) -> object:
    """Draw a state from :func:`explore` on ax: contours, minimum and trajectory.

    ``legend=False`` leaves the legend to the caller (e.g. :func:`figure_legend` below
    the panels, where it hides no contour); ``fit=True`` grows the window to hold the
    whole trajectory (:func:`fit_window`)."""
    if fit:
        state = {**state, "problem": fit_window(state["problem"], state["ws"])}
    draw_background(state["problem"], ax)
    draw_run(state, ax)
    if legend:
        _legend(ax)
    return ax


def draw_zoomed_path(state: dict, ax, *, labelled_steps: int = 5) -> object:
    """A state's trajectory in a window around the path only (:func:`zoom_window`), with a
    free aspect ratio and the first steps numbered: on a narrow valley, where the whole
    window shows GD as a line, this shows it jumping across the valley floor and back.
    The w_1 axis gets its own scale (e.g. 1e-5), written into its label. Lessons 1-2."""
    draw_state({**state, "problem": zoom_window(state["problem"], state["ws"], margin=0.3)},
               ax, legend=False)
    ax.set_aspect("auto")
    lo, hi = ax.get_xlim()
    power = int(np.floor(np.log10(max(abs(lo), abs(hi)))))
    if abs(power) >= 3:  # tick values 1-10 and the power in the label, not an offset text
        ax.xaxis.set_major_formatter(lambda value, _: f"{value / 10.0**power:g}")
        name, _, unit = state["problem"].labels[0].partition(" (")
        scale = f"$10^{{{power}}}$"
        ax.set_xlabel(f"{name} ({scale} {unit}" if unit else f"{name} (× {scale})")
    for k, (w1, w2) in enumerate(state["ws"][:labelled_steps]):
        ax.annotate(f"step {k}", (w1, w2), xytext=(6, -3), textcoords="offset points",
                    fontsize=8)
    ax.set_title("zoomed on the path")
    return ax


def draw_steps_across(state: dict, ax, *, weight: int = 1) -> object:
    """One weight of a state's trajectory against the step number, with its value at the
    minimum as a dotted line: on a narrow valley, where the weights plane shows GD's path
    as a line traced back and forth, this shows the zigzag itself (the weight jumps from
    one side of the valley floor to the other at every step). Lesson 1."""
    p, ws = state["problem"], np.asarray(state["ws"], dtype=float)
    colour, ls, mk = METHOD_STYLE[state["method"]]
    steps = np.arange(len(ws))
    ax.axhline(p.w_star[weight], color=OKABE_ITO["black"], linestyle=":", linewidth=1.2,
               label="valley floor (the minimum's value)")
    ax.plot(steps, ws[:, weight], color=colour, linestyle=ls, marker=mk or "o", markersize=5,
            linewidth=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel(p.labels[weight])
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    return ax


def figure_legend(fig, methods=("GD",)):
    """One legend for a figure of :func:`draw_state` panels, outside the axes (below them,
    so it covers no data; needs a constrained layout, e.g. helpers.plots.subplots):
    minimum, one line per method, start and end. Lesson 1."""
    return fig.legend(handles=_legend_handles(methods), loc="outside lower center",
                      ncols=len(methods) + 3, fontsize=9, frameon=False)


class Renderer:
    """Draws states into one reusable Agg figure and returns PNG bytes (dpi 80).

    The background (contours, axes, labels) is rendered once per problem and restored
    from a saved bitmap on later updates; only the trajectory and legend are redrawn
    (matplotlib "blitting"), which keeps an update well under 50 ms. Every problem's
    window is a square, so all backgrounds share the same axes box.
    """

    def __init__(self, figsize=(5.8, 4.2), dpi=80):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.fig.subplots_adjust(left=0.14, right=0.80, bottom=0.12, top=0.92)  # legend: right
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        self._backgrounds: dict = {}  # id(problem) -> (problem, saved bitmap)
        self._artists: list = []

    def draw_background(self, problem: Problem) -> None:
        """Render and keep the bitmap of a problem's background (about 40 ms).

        The axes are reused rather than cleared (clearing rebuilds every tick, a quarter
        of the cost): the previous contours, minimum and trajectory are removed, and the
        fixed legend stays.
        """
        for artist in [*self.ax.collections, *self.ax.lines]:
            artist.remove()
        self._artists = []
        draw_background(problem, self.ax)
        self.ax.set_title(problem.title)
        if self.ax.get_legend() is None:
            _explorer_legend(self.ax)
        self.canvas.draw()
        self._backgrounds[id(problem)] = (problem, self.canvas.copy_from_bbox(self.fig.bbox))

    def png(self, state: dict) -> bytes:
        problem = state["problem"]
        for artist in self._artists:
            artist.remove()
        cached = self._backgrounds.get(id(problem))
        if cached is None or cached[0] is not problem:
            self.draw_background(problem)
        else:
            self.canvas.restore_region(cached[1])
        self._artists = draw_run(state, self.ax)
        for artist in self._artists:
            artist.set_animated(True)
            self.ax.draw_artist(artist)
        return canvas_png(self.canvas)
