"""Lesson 3's widget: histograms of each hidden layer's pre-activations, step by step.

A thin layer over :mod:`helpers.plots.network` (pure frames and drawing) and the
histories of :func:`helpers.core.training.train`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from helpers.plots.network import activation_frame, activation_range, layer_style
from helpers.plots.style import canvas_png
from helpers.widgets.display import bundle_with_text, png_image


def frozen_record(history, atol=1e-6):
    """First record from which a run's recorded activations no longer change, or None.

    None when the last two records differ (the run was still moving) or when there are
    fewer than two records. A run whose hidden layers stopped learning (e.g. stuck at
    chance after a too-large step) shows identical histograms from this record on.
    """
    samples = history.act_samples
    if len(samples) < 2:
        return None
    last = samples[-1]
    r = len(samples) - 1
    while r > 0 and np.allclose(samples[r - 1], last, rtol=0, atol=atol):
        r -= 1
    return None if r == len(samples) - 1 else r


class HistogramRenderer:
    """Draws one histogram panel per hidden layer into a reusable Agg figure -> PNG bytes.

    The static part of a view (axes, limits, the grey step-0 histograms) is rendered
    once per view and restored from a saved bitmap; only the current histograms and
    labels are redrawn (matplotlib "blitting"), which keeps an update under 50 ms.
    """

    def __init__(self, n_hidden, *, bins=40, ncols=3, dpi=80):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        nrows = -(-n_hidden // ncols)
        self.fig = Figure(figsize=(2.4 * ncols + 0.4, 2.0 * nrows + 0.6), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        axes = self.fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[n_hidden:]:
            ax.set_visible(False)
        self.axes = axes[:n_hidden]
        self.bins = bins
        self._views: dict = {}
        edges = np.linspace(-1, 1, bins + 1)
        self.start, self.now = [], []
        for i, ax in enumerate(self.axes):
            style = layer_style(i)
            self.start.append(ax.stairs(np.zeros(bins), edges, color="#999999", fill=True,
                                        alpha=0.4, label="step 0"))
            self.now.append(ax.stairs(np.zeros(bins), edges, color=style["color"], linewidth=2,
                                      label="this step", animated=True))
            ax.set_title(f"layer {i + 1}", fontsize=10)
            ax.set_xlabel("pre-activation", fontsize=9)
            ax.tick_params(labelsize=8)
        self.axes[0].set_ylabel("density", fontsize=9)
        self.axes[0].legend(fontsize=7, loc="upper right")
        # what tight_layout gives for 2 rows of 3 panels, fixed: it costs 0.3-1 s per call
        self.fig.subplots_adjust(left=0.105, right=0.98, bottom=0.12, top=0.925, wspace=0.35,
                                 hspace=0.5)

    def view(self, key, start: dict, ymax: float) -> None:
        """Show the static part of view ``key``: limits and the step-0 histograms."""
        if key in self._views:
            self.canvas.restore_region(self._views[key])
            return
        edges = start["edges"]
        for i, ax in enumerate(self.axes):
            self.start[i].set_data(start["density"][i], edges)
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0, 1.05 * ymax)
        self.canvas.draw()
        self._views[key] = self.canvas.copy_from_bbox(self.fig.bbox)

    def png(self, frame: dict) -> bytes:
        """Draw ``frame`` over the current view and return PNG bytes.

        No text is drawn per update (text rendering is the slow part): the explorer
        shows the step and each layer's mean and std as HTML next to the image.
        """
        for i, ax in enumerate(self.axes):
            self.now[i].set_data(frame["density"][i], frame["edges"])
            ax.draw_artist(self.now[i])
        return canvas_png(self.canvas)


def stuck_note(history, record: int, chance_loss=None) -> str:
    """Why the histograms of a stuck run stop moving ("" for a run that keeps changing)."""
    r = frozen_record(history)
    if r is None:
        return ""
    step = int(history.steps[r])
    at_chance = (chance_loss is not None and np.isfinite(history.final_loss)
                 and abs(history.final_loss - chance_loss) < 0.1 * chance_loss)
    what = (f"stuck at chance (final loss {history.final_loss:.3f}, guessing gives "
            f"{chance_loss:.3f})" if at_chance else
            f"stuck (final loss {history.final_loss:.3f})")
    if record >= r:
        return (f"this run is {what}: its activations stop changing at step {step}, "
                f"so the histograms no longer move from here on")
    return f"this run gets {what}: its activations stop changing at step {step}"


def describe(frame: dict, key, history, chance_loss=None) -> str:
    """HTML shown under the histograms: the run, the step, each layer's mean and std."""
    bn = "with" if key[0] else "without"
    note = f"training {history.message}" if history.diverged else history.message
    record = int(np.searchsorted(history.steps, frame["step"]))
    stuck = stuck_note(history, record, chance_loss)
    stuck_html = f"<br><b style='color:#D55E00'>{stuck}</b>" if stuck else ""
    cells = "".join(f"<td style='padding:0 8px'>{frame['mean'][i]:+.2f}</td>"
                    for i in range(len(frame["mean"])))
    stds = "".join(f"<td style='padding:0 8px'>{frame['std'][i]:.2f}</td>"
                   for i in range(len(frame["std"])))
    heads = "".join(f"<th style='padding:0 8px'>layer {i + 1}</th>"
                    for i in range(len(frame["mean"])))
    return (f"<b>{bn} batch norm, lr = {key[1]:g}, step {frame['step']}</b> ({note}){stuck_html}"
            f"<table><tr><th></th>{heads}</tr><tr><th>mean</th>{cells}</tr>"
            f"<tr><th>std</th>{stds}</tr></table>")


class LazyHistories(Mapping):
    """{key: History}, each trained by ``run(*key)`` the first time it is read, then kept.

    An explorer shows one run at a time: with this mapping, executing the notebook trains
    only the run it opens on (the saved widget state shows that view; the others need a
    live kernel anyway). ``n_records``: how many records a run that does not diverge has.
    """

    def __init__(self, run, keys, n_records):
        self.run, self.keys_, self.n_records = run, list(keys), n_records
        self._done: dict = {}

    def __getitem__(self, key):
        if key not in self.keys_:
            raise KeyError(key)
        if key not in self._done:
            self._done[key] = self.run(*key)
        return self._done[key]

    def __iter__(self):
        return iter(self.keys_)

    def __len__(self):
        return len(self.keys_)


class ActivationExplorer:
    """Toggle batch norm, pick a learning rate, scrub through training steps.

    histories: {(batchnorm: bool, lr: float): History recorded with
    ``record_activations=True``}, every history with the same hidden layers and the
    same record steps (a diverged run has fewer: the slider then shows its last record);
    or a :class:`LazyHistories`, whose runs are trained when first shown.
    ``record=None`` starts at the end of training. ``chance_loss`` (e.g. ln 3 for
    three classes) lets the status line say when a stuck run is stuck at chance.
    ``widget`` is the box to display; :meth:`update` redraws.
    """

    def __init__(self, histories: dict, *, bins=40, batchnorm=False, lr=None, record=None,
                 chance_loss=None):
        import ipywidgets as W

        self.chance_loss = chance_loss

        lazy = isinstance(histories, LazyHistories)
        self.histories = histories if lazy else dict(histories)
        lrs = sorted({lr for _, lr in self.histories})
        lr = lrs[0] if lr is None else lr
        first = self.histories[batchnorm, lr]
        n_records = (histories.n_records if lazy else
                     max(len(h.steps) for h in self.histories.values()))
        self.bins = bins
        self._lims, self._starts = {}, {}
        style = {"description_width": "initial"}
        self.batchnorm = W.ToggleButtons(options=[("without batch norm", False),
                                                  ("with batch norm", True)],
                                         value=batchnorm, description="model", style=style)
        self.lr = W.SelectionSlider(options=lrs, value=lr,
                                    description="learning rate", style=style)
        self.record = W.IntSlider(value=n_records - 1 if record is None else record, min=0, max=n_records - 1, step=1,
                                  description="record (training progress)", style=style,
                                  layout=W.Layout(width="460px"))
        self.status = W.HTML()
        self._renderer = HistogramRenderer(first.act_samples.shape[1], bins=bins)
        self.image = png_image(self._renderer.canvas.get_width_height()[0])
        for control in (self.batchnorm, self.lr, self.record):
            control.observe(self._on_change, names="value")
        self.widget = W.VBox([self.batchnorm, self.lr, self.record, self.status, self.image])
        self.update()

    def key(self):
        return (self.batchnorm.value, self.lr.value)

    def lim(self, key) -> float:
        """The histogram range of one run (computed once)."""
        if key not in self._lims:
            self._lims[key] = activation_range(self.histories[key])
        return self._lims[key]

    def frame(self) -> dict:
        """The frame the controls select (pure data; see activation_frame)."""
        key = self.key()
        h = self.histories[key]
        return activation_frame(h, min(self.record.value, len(h.steps) - 1), bins=self.bins,
                                lim=self.lim(key))

    def update(self) -> None:
        key = self.key()
        h = self.histories[key]
        if key not in self._starts:
            frames = [activation_frame(h, r, bins=self.bins, lim=self.lim(key))
                      for r in range(len(h.steps))]
            self._starts[key] = (frames[0], max(float(f["density"].max()) for f in frames))
        self._renderer.view(key, *self._starts[key])
        self.state = self.frame()
        self.image.value = self._renderer.png(self.state)
        self.status.value = describe(self.state, key, h, self.chance_loss)

    def _on_change(self, _change) -> None:
        self.update()

    def __repr__(self) -> str:  # deterministic text: what nbval compares
        return (f"ActivationExplorer: {len(self.histories)} training runs, "
                f"{self.record.max + 1} records each (open in JupyterLab to use it)")

    def _repr_mimebundle_(self, **kwargs):
        return bundle_with_text(self.widget, repr(self), **kwargs)
