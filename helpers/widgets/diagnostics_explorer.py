"""Lesson 5's widget: a layer's update-to-data ratio and gradient size over training,
by normalization and learning rate.

A thin layer over :func:`helpers.core.diagnostics.diagnose` (the runs, made in the
notebook under a progress bar) and :func:`frame` (pure data, tested). Drawing reuses
one Agg figure whose axes are rendered once and restored from a bitmap; each update
draws only the lines.
"""

from __future__ import annotations

import numpy as np

from helpers.plots.norms import NORM_STYLE, UPDATE_RATIO_GUIDE, norm_label
from helpers.plots.style import canvas_png
from helpers.widgets.display import bundle_with_text, png_image

FIELDS = (("update_ratio", "‖lr·dL/dW‖ / ‖W‖"), ("grad_std", "std of dL/dW"))


def frame(diag, layer: int) -> dict:
    """What the explorer shows for one run and one Linear layer (1 = the first)."""
    j = layer - 1
    ratio, grad = diag.update_ratio[:, j], diag.grad_std[:, j]
    return {"steps": diag.steps, "update_ratio": ratio, "grad_std": grad,
            "median_ratio": float(np.median(ratio)), "first_grad": float(grad[0]),
            "last_grad": float(grad[-1]), "message": diag.history.message,
            "diverged": diag.history.diverged}


def describe(f: dict, norm, lr, layer, n_layers) -> str:
    """HTML status line: the run, the layer, its median update-to-data ratio."""
    where = "the output layer" if layer == n_layers else f"hidden layer {layer}"
    verdict = ("about the rule of thumb" if 3e-4 <= f["median_ratio"] <= 3e-3 else
               "above the rule of thumb: large steps" if f["median_ratio"] > 3e-3 else
               "below the rule of thumb: this layer learns slowly")
    warn = " style='color:#D55E00'" if f["diverged"] else ""
    return (f"<b>{norm_label(norm)}, lr = {lr:g}, Linear layer {layer} ({where})</b><br>"
            f"median update-to-data ratio {f['median_ratio']:.1e} ({verdict})<br>std of dL/dW "
            f"{f['first_grad']:.1e} at step 1, {f['last_grad']:.1e} at the last record<br>"
            f"<span{warn}>{'training ' if f['diverged'] else ''}{f['message']}</span>")


class Renderer:
    """Two log-scale panels (update ratio, gradient std) over training steps -> PNG bytes.

    The axes, ticks and legend (the slow part: text) are drawn once and kept as a bitmap;
    each update restores it and draws only the lines (matplotlib "blitting"), so a new
    run costs no more than a new layer.
    """

    def __init__(self, n_layers, limits: dict, max_step: int, dpi=80):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(8.4, 3.0), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.axes = self.fig.subplots(1, 2)
        self.grey, self.now = [], []
        for ax, (name, label) in zip(self.axes, FIELDS, strict=True):
            ax.set_yscale("log")
            ax.set_ylim(*limits[name])
            ax.set_xlim(0, max_step)
            ax.set_xlabel("training step")
            ax.set_ylabel(label)
            self.grey.append([ax.plot([], [], color="#AAAAAA", linewidth=1, animated=True)[0]
                              for _ in range(n_layers)])
            self.now.append(ax.plot([], [], linewidth=2.5, marker="o", markersize=3,
                                    animated=True)[0])
        self.axes[0].axhline(UPDATE_RATIO_GUIDE, color="#555555", linestyle=(0, (1, 3)),
                             label=f"{UPDATE_RATIO_GUIDE:g} (rule of thumb)")
        self.axes[0].plot([], [], color="#AAAAAA", label="other layers")
        self.axes[0].plot([], [], color="#555555", linewidth=2.5, marker="o", markersize=3,
                          label="the selected layer")
        self.axes[0].legend(fontsize=7, loc="lower left")
        self.fig.tight_layout()
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def png(self, diag, f: dict, norm) -> bytes:
        """Draw every layer of ``diag`` in grey and the frame's layer in the run's style."""
        self.canvas.restore_region(self._background)
        style = NORM_STYLE[norm]
        for ax, grey, line, (name, _) in zip(self.axes, self.grey, self.now, FIELDS,
                                             strict=True):
            values = getattr(diag, name)
            for j, g in enumerate(grey):
                g.set_data(diag.steps, values[:, j])
                ax.draw_artist(g)
            line.set_data(f["steps"], f[name])
            line.set_color(style["color"])
            line.set_linestyle(style["linestyle"])
            ax.draw_artist(line)
        return canvas_png(self.canvas)


def _limits(diags) -> dict:
    out = {}
    for name, _ in FIELDS:
        values = np.concatenate([getattr(d, name).ravel() for d in diags.values()])
        values = values[np.isfinite(values) & (values > 0)]
        out[name] = (np.percentile(values, 1) / 2, values.max() * 1.5)  # no stuck-run tail
    return out


class DiagnosticsExplorer:
    """Switch normalization, learning rate and layer; see that layer's update-to-data ratio
    and gradient size over training (the other layers in grey).

    diags: {(norm, lr): Diagnostics} from :func:`helpers.core.diagnostics.diagnose`, every
    run with the same network shape. ``widget`` is the box to display.
    """

    def __init__(self, diags: dict, *, norm="batch", lr=None, layer=1):
        import ipywidgets as W

        self.diags = dict(diags)
        norms = [n for n in NORM_STYLE if any(k[0] == n for k in self.diags)]
        lrs = sorted({lr for _, lr in self.diags})
        first = next(iter(self.diags.values()))
        self.n_layers = first.update_ratio.shape[1]
        style = {"description_width": "initial"}
        self.norm = W.ToggleButtons(options=[(norm_label(n), n) for n in norms], value=norm,
                                    description="network", style=style)
        self.lr = W.SelectionSlider(options=lrs, value=lrs[0] if lr is None else lr,
                                    description="learning rate", style=style)
        self.layer = W.IntSlider(value=layer, min=1, max=self.n_layers,
                                 description="Linear layer", style=style)
        self.status = W.HTML()
        max_step = max(int(d.steps[-1]) for d in self.diags.values())
        self._renderer = Renderer(self.n_layers, _limits(self.diags), max_step)
        self.image = png_image(self._renderer.canvas.get_width_height()[0])
        for control in (self.norm, self.lr, self.layer):
            control.observe(self._on_change, names="value")
        self.widget = W.VBox([self.norm, self.lr, self.layer, self.status, self.image])
        self.update()

    def key(self):
        return (self.norm.value, self.lr.value)

    def update(self) -> None:
        key = self.key()
        diag = self.diags[key]
        self.state = frame(diag, self.layer.value)
        self.image.value = self._renderer.png(diag, self.state, key[0])
        self.status.value = describe(self.state, key[0], key[1], self.layer.value, self.n_layers)

    def _on_change(self, _change) -> None:
        self.update()

    def __repr__(self) -> str:  # deterministic text: what nbval compares
        return (f"DiagnosticsExplorer: {len(self.diags)} training runs, {self.n_layers} Linear "
                f"layers (open in JupyterLab to use it)")

    def _repr_mimebundle_(self, **kwargs):
        return bundle_with_text(self.widget, repr(self), **kwargs)
