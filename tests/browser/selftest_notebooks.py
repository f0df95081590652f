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


def stored_figures(broken: bool):
    """A never-run notebook with a stored figure (a corrupt PNG when ``broken``)."""
    png = _png()
    data = base64.b64encode(png[:40] if broken else png).decode()
    cell = new_code_cell("plt.plot([0, 1], [1, 0]); plt.show()", execution_count=1)
    cell.outputs = [new_output("display_data", data={"image/png": data,
                                                     "text/plain": "<Figure>"})]
    return _nb([new_markdown_cell("# Stored figure"), cell])


def write_all(folder: Path) -> dict[str, Path]:
    """Write the self-test notebooks; returns name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nbs = {
        "healthy_lesson": healthy(verdict=True),
        "healthy_solution": healthy(verdict=False),
        # the Image is displayed but never updated: the slider changes nothing
        "image_never_updated": healthy(verdict=False),
        # the Output widget is never displayed: the slider's figure goes nowhere
        "output_not_displayed": healthy(verdict=False),
        # a widget view whose model does not exist: "Error displaying widget"
        "model_not_found": healthy(verdict=False),
        # an untagged error stops Run All halfway
        "stops_halfway": healthy(verdict=False),
        # a lesson whose check cell raises something else than the one-line verdict
        "lesson_wrong_error": healthy(verdict=True),
        "stored_figure_ok": stored_figures(broken=False),
        "stored_figure_broken": stored_figures(broken=True),
    }
    nbs["image_never_updated"].cells[2].source = SLIDER_IMAGE.replace(
        'freq.observe(lambda change: setattr(image, "value", render(change["new"])), '
        'names="value")\n', "")
    nbs["output_not_displayed"].cells[3].source = SLIDER_OUTPUT.replace(
        "display(scale, out)", "display(scale)")
    nbs["model_not_found"].cells.insert(4, new_code_cell(
        'display({"application/vnd.jupyter.widget-view+json": {"model_id": "0" * 32, '
        '"version_major": 2, "version_minor": 0}, "text/plain": "a widget"}, raw=True)'))
    nbs["stops_halfway"].cells.insert(2, new_code_cell('raise ValueError("oops")'))
    nbs["lesson_wrong_error"].cells[4].source = 'raise ValueError("bad check")'
    paths = {}
    for name, nb in nbs.items():
        paths[name] = folder / f"{name}.ipynb"
        nbformat.write(nb, paths[name])
    for name in ("image_never_updated", "output_not_displayed", "model_not_found"):
        assert nbs[name].cells != nbs["healthy_solution"].cells, name
    return paths
