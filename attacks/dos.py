"""Write a planner bomb: lesson 1's handout, C copies of a course cell, learner cells with K names.

    python attacks/dos.py C K OUT.ipynb   (from the repository root)
"""

import copy
import json
import sys
from pathlib import Path

copies, names, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
nb = json.loads(Path("lessons/01_feature_scale.ipynb").read_text(encoding="utf-8"))
course = next(c for c in nb["cells"] if c["cell_type"] == "code"
              and "explorer = scale_explorer" in "".join(c["source"]))
extra = []
for _ in range(copies):
    c = copy.deepcopy(course)
    c["outputs"] = []
    extra.append(c)
PER = 4000  # names per learner cell (under the reader's 100,000 characters)
for start in range(0, names, PER):
    chunk = [f"a{j}" for j in range(start, min(names, start + PER))]
    src = " = ".join(chunk) + " = 0\nexplorer = [" + ", ".join(chunk) + "]"
    extra.append({"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
                  "execution_count": None})
nb["cells"] += extra
Path(out).write_text(json.dumps(nb), encoding="utf-8")
print("cells", len(nb["cells"]), "code chars",
      sum(len("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"))
