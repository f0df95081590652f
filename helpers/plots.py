"""Plotting helpers shared by every lesson: colour-blind-safe, labelled, small.

Nothing changes at import time; call :func:`use_course_style` once in a
notebook to apply the course's matplotlib style. Every function draws on the
``ax`` it is given (or a new one) and returns it, so widgets and tests can
reuse it.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

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
