"""The course's plotting style, shared by every lesson: colour-blind-safe, labelled, small.

Nothing changes at import time (and pyplot is not imported); call
:func:`use_course_style` once in a notebook to apply the course's matplotlib style.
Figures by topic: :mod:`helpers.plots.linreg` (lessons 1-2), :mod:`helpers.plots.network`
(lesson 3), :mod:`helpers.plots.explorer` (the contour explorer's drawing).
"""

from __future__ import annotations

import matplotlib as mpl
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
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


#: start / end markers of a trajectory (shape differs, not only colour)
START_MARKER = "o"


END_MARKER = "X"


MINIMUM_MARKER = "*"


def style(i: int) -> dict:
    """The i-th (colour, linestyle) pair of the course cycle, as plot() keyword arguments,
    so that neighbouring curves differ by colour *and* line style."""
    return {"color": CYCLE[i % len(CYCLE)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def subplots(ncols: int = 2, nrows: int = 1, width: float = 4.2, height: float = 3.6, **kw):
    """Side-by-side axes for comparisons (constrained layout, so labels never overlap):
    returns (fig, axes) with axes a flat array of nrows * ncols axes. Lessons 1-2."""
    import matplotlib.pyplot as plt

    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, **kw)
    return fig, axes.ravel()


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


def thin_log_ticks(ax, axis="y", decades=4):
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
