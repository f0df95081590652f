"""Printed text in the executed solution notebooks fits a JupyterLab notebook area.

At 950 px, lines longer than about 100 characters wrap mid-word or mid-number (the
browser test found "0.017 to 0.5" | "1" read as two numbers). Every stream line and
every text/plain line of a stored output must stay within MAX_CHARS. Widgets count too:
their text/plain form is what an untrusted or stored view shows instead of the widget.
"""

from pathlib import Path

import nbformat
import pytest

MAX_CHARS = 100
SOLUTIONS = sorted((Path(__file__).resolve().parents[1] / "solutions").glob("[0-9][0-9]_*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"


def _lines(path, widgets):
    """(cell number, line) of each stored output line; widget outputs or all others."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text = "" if widgets else out.text
            else:
                data = out.get("data", {})
                text = data.get("text/plain", "") if (WIDGET in data) == widgets else ""
            for line in text.splitlines():
                yield i, line


def _too_long(path, widgets):
    return [f"cell {i} ({len(line)} chars): {line[:60]}…"
            for i, line in _lines(path, widgets) if len(line) > MAX_CHARS]


def test_there_are_solution_notebooks():
    assert len(SOLUTIONS) >= 4


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_printed_lines_fit_the_notebook_width(path):
    assert _too_long(path, widgets=False) == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_widget_text_forms_are_short(path):
    assert _too_long(path, widgets=True) == []


def test_the_check_catches_a_long_line(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 101 + "\nshort\n"),
                    nbformat.v4.new_output("display_data", data={"text/plain": "y" * 100})]
    nb.cells.append(cell)
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    assert len(_too_long(path, widgets=False)) == 1
    assert _too_long(path, widgets=True) == []
