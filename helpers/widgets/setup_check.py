"""Lesson 00 (start here): is this machine ready for the course?

``environment_report()`` compares installed package versions with the ones the
course needs; ``demo_widget()`` is a slider driving a figure, so a learner sees
at once whether widgets and figures work in their JupyterLab.
"""

from __future__ import annotations

import io
import sys
from importlib import metadata

import numpy as np

#: package -> minimum version the course is tested with (same as pyproject.toml)
REQUIRED = {"numpy": "1.24", "matplotlib": "3.7", "ipywidgets": "8.1", "jupyterlab": "4.2",
            "ipykernel": "6.29"}

FIXES = {
    "missing": "not installed: run `python -m pip install -e .` in the course folder, "
               "then restart JupyterLab",
    "old": "too old: run `python -m pip install -U {name}`, then restart the kernel",
}


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def environment_report(required: dict | None = None) -> list[dict]:
    """One row per package: name, installed version (or None), required minimum, ok, advice."""
    rows = []
    for name, minimum in (required or REQUIRED).items():
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = None
        ok = version is not None and _version_tuple(version) >= _version_tuple(minimum)
        advice = "" if ok else FIXES["missing" if version is None else "old"].format(name=name)
        rows.append({"package": name, "installed": version, "required": f">= {minimum}",
                     "ok": ok, "advice": advice})
    return rows


def print_environment_report(rows=None) -> bool:
    """Print the report as a table; returns True when everything is fine."""
    rows = environment_report() if rows is None else rows
    print(f"Python {sys.version.split()[0]}")
    for r in rows:
        mark = "✓" if r["ok"] else "✗"
        print(f"{mark} {r['package']:<11} {r['installed'] or 'missing':<10} "
              f"(needs {r['required']}) {r['advice']}")
    ok = all(r["ok"] for r in rows)
    print("All packages are ready." if ok else "Fix the lines marked ✗, then run this cell again.")
    return ok


def wave(frequency: float, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """t (n,) in seconds over one second, and sin(2π f t); the data the demo widget draws."""
    t = np.linspace(0.0, 1.0, n)
    return t, np.sin(2 * np.pi * frequency * t)


def wave_png(frequency: float) -> bytes:
    """The demo figure for one frequency, rendered to PNG bytes (no pyplot state touched)."""
    from matplotlib.figure import Figure

    from helpers.plots.style import OKABE_ITO

    fig = Figure(figsize=(4.8, 2.4), dpi=80)
    ax = fig.add_subplot()
    t, s = wave(frequency)
    ax.plot(t, s, color=OKABE_ITO["blue"])
    ax.set(xlabel="time (s)", ylabel="amplitude (no unit)",
           title=f"sin(2π · {frequency:g} Hz · t)", ylim=(-1.1, 1.1))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def demo_widget(frequency: int = 2):
    """A frequency slider driving a figure; ``.widget`` is the VBox (slider, image)."""
    import ipywidgets as w

    slider = w.IntSlider(value=frequency, min=1, max=10, description="frequency (Hz)",
                         style={"description_width": "initial"}, continuous_update=False)
    from helpers.widgets.display import WithText, png_image

    image = png_image(384, wave_png(frequency))  # the figure is 4.8 in x 80 dpi wide

    def redraw(change):
        image.value = wave_png(change["new"])

    slider.observe(redraw, names="value")
    return WithText(w.VBox([slider, image]),
                    "demo widget: a frequency slider and its figure (open in JupyterLab to see it)")
