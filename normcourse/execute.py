"""``normcourse execute``: run solution notebooks in a fresh kernel and save their outputs.

Authors run this after editing a solution notebook, then ``normcourse build``.
Widget state is stored so that a reader browsing the solutions sees the widgets;
per-cell timing metadata is dropped so that re-running changes nothing needlessly.

The kernel runs with :data:`REPRODUCIBLE_ENV`, as nbval does in the tests
(conftest.py), so that the stored outputs are the same on every x86-64 machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

#: OpenBLAS picks its matrix-product kernel by CPU, and the kernels round differently:
#: a training run at the edge of stability (lesson 3, lr = 3) ended at 45% accuracy with
#: the Haswell kernel and at 82% with the SkylakeX one, on the same machine. Stored
#: outputs are made, and compared, with one kernel that every x86-64 CPU since 2013 runs.
#: numpy picks its own loops (exp, log, tanh, ...) by CPU too, AVX-512 ones where the CPU
#: has them. Lesson 3's first training run had stored "final epoch loss 0.1588", made on
#: another machine; an AVX2 machine (2026-12-06) printed 0.1482 with the same OpenBLAS
#: kernel, in a script, nbclient and nbval alike. Switching numpy's AVX-512 loops off leaves
#: one set of loops for every x86-64 CPU with AVX2 (names a CPU lacks are ignored).
NUMPY_AVX512 = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL " \
    "AVX512_ICL AVX512_SPR AVX512FP16"
REPRODUCIBLE_ENV = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1",
                    "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512}


def execute_notebook(path: Path, timeout: int = 600, kernel_name: str = "python3") -> float:
    """Execute ``path`` in place in a fresh kernel (working folder: its own); returns seconds."""
    path = Path(path)
    os.environ.update(REPRODUCIBLE_ENV)  # inherited by the kernel started below
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
