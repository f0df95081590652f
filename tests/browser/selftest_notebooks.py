"""Small notebooks for the harness's self-test: one healthy, several broken on purpose.

The healthy notebook has what the course notebooks have: an ``import helpers``, an
ipywidgets slider driving an ``ipywidgets.Image``, a slider driving an ``Output`` with a
matplotlib figure, and a check cell that raises a one-line ``NotDoneYet`` verdict
(tagged ``raises-exception``). Each broken variant differs from it in one way a learner
would notice; the self-test asserts that the harness reports exactly that.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

SETUP = '''\
import io
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

import helpers  # the kernel must see the installed course package


def render(freq):
    """A small sine figure as PNG bytes."""
    fig, ax = plt.subplots(figsize=(3, 2), dpi=80)
    xs = [i / 50 for i in range(101)]
    ax.plot(xs, [math.sin(freq * x) for x in xs], "-o", markersize=2)
    ax.set_title(f"freq = {freq}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()'''

SLIDER_IMAGE = '''\
freq = widgets.IntSlider(value=1, min=1, max=10, description="freq")
image = widgets.Image(value=render(1), format="png")
freq.observe(lambda change: setattr(image, "value", render(change["new"])), names="value")
display(widgets.VBox([freq, image]))'''

SLIDER_OUTPUT = '''\
scale = widgets.FloatSlider(value=1.0, min=0.5, max=3.0, step=0.5, description="scale")
out = widgets.Output()


def draw(s):
    with out:
        out.clear_output(wait=True)
        fig, ax = plt.subplots(figsize=(3, 2), dpi=80)
        ax.plot([0, 1, 2], [0, s, 2 * s], "s--")
        ax.set_ylim(0, 6)
        plt.show()


scale.observe(lambda change: draw(change["new"]), names="value")
draw(scale.value)
display(scale, out)'''

NOT_DONE = '''\
class NotDoneYet(AssertionError):
    def _render_traceback_(self):
        return [f"NotDoneYet: {self}"]


raise NotDoneYet("ex1_demo: not done yet. Write your code in the exercise cell above.")'''

LAST = 'print("last cell reached")'


def _nb(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _tagged(source, *tags):
    cell = new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    return cell


def healthy(verdict: bool = True):
    cells = [new_markdown_cell("# Self-test notebook"), new_code_cell(SETUP),
             new_code_cell(SLIDER_IMAGE), new_code_cell(SLIDER_OUTPUT)]
    if verdict:
        cells.append(_tagged(NOT_DONE, "raises-exception"))
    cells.append(new_code_cell(LAST))
    return _nb(cells)


def _png() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=60)
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def stored_figures():
    """A never-run notebook with two stored figures: cell 1 fine, cell 2 a corrupt PNG."""
    png = _png()
    cells = [new_markdown_cell("# Stored figures")]
    for n, data in enumerate((png, png[:40]), start=1):
        cell = new_code_cell(f"plt.plot([0, 1], [1, 0]); plt.show()  # figure {n}",
                             execution_count=n)
        cell.outputs = [new_output("display_data", data={
            "image/png": base64.b64encode(data).decode(), "text/plain": "<Figure>"})]
        cells.append(cell)
    return _nb(cells)


def write_all(folder: Path) -> dict[str, Path]:
    """Write the self-test notebooks; returns name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nbs = {
        "healthy_lesson": healthy(verdict=True),
        # slider 0: its Image is displayed but never updated;
        # slider 1: its Output widget is never displayed (the figure goes nowhere)
        "broken_sliders": healthy(verdict=False),
        # a widget view whose model does not exist: "Error displaying widget"
        "model_not_found": healthy(verdict=False),
        # a check cell (tagged) raising a real error instead of the verdict, then an
        # untagged error that stops Run All before the last cell
        "broken_run": healthy(verdict=True),
        "stored_figures": stored_figures(),
    }
    broken = nbs["broken_sliders"].cells
    broken[2].source = SLIDER_IMAGE.replace(
        'freq.observe(lambda change: setattr(image, "value", render(change["new"])), '
        'names="value")\n', "")
    broken[3].source = SLIDER_OUTPUT.replace("display(scale, out)", "display(scale)")
    nbs["model_not_found"].cells.insert(4, new_code_cell(
        'display({"application/vnd.jupyter.widget-view+json": {"model_id": "0" * 32, '
        '"version_major": 2, "version_minor": 0}, "text/plain": "a widget"}, raw=True)'))
    run = nbs["broken_run"].cells
    run[4].source = 'raise ValueError("bad check")'
    run.insert(5, new_code_cell('raise RuntimeError("stops here")'))
    healthy_sources = [c.source for c in nbs["healthy_lesson"].cells]
    for name in ("broken_sliders", "model_not_found", "broken_run"):
        assert [c.source for c in nbs[name].cells] != healthy_sources, name
    assert broken[2].source != SLIDER_IMAGE and broken[3].source != SLIDER_OUTPUT
    paths = {}
    for name, nb in nbs.items():
        paths[name] = folder / f"{name}.ipynb"
        nbformat.write(nb, paths[name])
    return paths
