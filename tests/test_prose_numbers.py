"""Every number in a lesson's prose comes from the run (issue 19, item 4).

A number of three or more significant digits in a Markdown cell of a solution notebook
must be shown by one of its stored outputs, to the digits the prose gives ("1.23" is
shown by an output 1.2295). Formulas (``$…$``), years, citations and links are not
read. What is neither (a constant of the world or of the exercise) is listed in
CONSTANTS with the reason. A take-away whose numbers depend on the run renders them
from the run's values (``display(Markdown(...))``), so prose and output never disagree.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest

SOLUTIONS = sorted((Path(__file__).resolve().parents[1] / "solutions").glob("[0-9][0-9]_*.ipynb"))

#: (lesson file stem, number as written) -> why it needs no output
CONSTANTS = {
    ("01_feature_scale", "65,504"): "float16's largest finite value",
    ("02_standardization", "99.7"): "the 68-95-99.7 rule of the normal distribution",
    ("06_modern_normalization", "256"): "the shape of the timed batch (an exercise constant)",
    ("06_modern_normalization", "2.13"): "the PyTorch version that made the reference",
}

NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w])")
NOT_READ = re.compile(r"\$[^$]*\$|\([^()]*\b(?:19|20)\d\d[a-z]?\)|\b(?:19|20)\d\d\b"
                      r"|arXiv:\S+|https?://\S+|`[^`]*`")
OUTPUT_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def significant(text: str) -> int:
    digits = text.replace(",", "")
    if "." in digits:
        return len(digits.replace(".", "").lstrip("0"))
    return len(digits.lstrip("0").rstrip("0"))


def _rounded(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}") if x else 0.0


def _output_texts(nb):
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                yield out.text
            for kind, value in (out.get("data") or {}).items():
                if kind.startswith("text/") and kind != "text/html":
                    yield value if isinstance(value, str) else "".join(value)


def shown(number: str, outputs: list[float]) -> bool:
    """Whether an output, rounded to the prose's significant digits, is ``number``."""
    value, digits = float(number.replace(",", "")), significant(number)
    return any(math.isclose(_rounded(x, digits), value, rel_tol=1e-9) for x in outputs)


def unproduced(nb, stem: str) -> list[str]:
    outputs = [float(m.group()) for text in _output_texts(nb)
               for m in OUTPUT_NUMBER.finditer(text.replace(",", ""))]
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = NOT_READ.sub(" ", cell.source)
        for m in NUMBER.finditer(text):
            n = m.group(1)
            if significant(n) >= 3 and (stem, n) not in CONSTANTS and not shown(n, outputs):
                found.append(f"cell {i}: {n} in …{text[max(0, m.start() - 50):m.end() + 10]}…"
                             .replace("\n", " "))
    return found


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_prose_number_is_in_an_output(path):
    assert unproduced(nbformat.read(path, as_version=4), path.stem) == []


def test_the_check_catches_a_stale_number_and_accepts_a_rounded_one():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(x)", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="loss 1.2295, std 2.42\n")]),
        nbformat.v4.new_markdown_cell("The loss ends at 1.23 and the std at 2.39 "
                                      "(Ioffe & Szegedy 2015, $1.234$, `0.123`)."),
    ])
    assert [f.split(" in ")[0] for f in unproduced(nb, "x")] == ["cell 1: 2.39"]


def test_every_constant_is_still_in_its_lesson():
    """A constant whose number left the prose is removed from CONSTANTS (none goes stale)."""
    prose = {p.stem: " ".join(c.source for c in nbformat.read(p, as_version=4).cells
                              if c.cell_type == "markdown") for p in SOLUTIONS}
    assert [k for k in CONSTANTS if k[1] not in prose.get(k[0], "")] == []
