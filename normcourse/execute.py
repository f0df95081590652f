"""``normcourse execute``: run solution notebooks in a fresh kernel and save their outputs.

Authors run this after editing a solution notebook, then ``normcourse build``.
Widget state is stored so that a reader browsing the solutions sees the widgets;
per-cell timing metadata is dropped so that re-running changes nothing needlessly.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute_notebook(path: Path, timeout: int = 600, kernel_name: str = "python3") -> float:
    """Execute ``path`` in place in a fresh kernel (working folder: its own); returns seconds."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=True)
    client.execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return elapsed
