"""Time and memory of load() and skipping.plan() on one notebook, under an address-space limit.

    python attacks/plan_time.py NOTEBOOK MB
"""

import resource
import sys
import time
from pathlib import Path

resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]) * 2**20,) * 2)
from normcourse.grading import skipping  # noqa: E402
from normcourse.grading.load import load  # noqa: E402

t0 = time.monotonic()
sub = load(Path(sys.argv[1]))
t1 = time.monotonic()
print("load", round(t1 - t0, 1), "s; statuses", {c.status for c in sub.cells}, flush=True)
plan = skipping.plan(sub)
t2 = time.monotonic()
print("plan", round(t2 - t1, 1), "s; maxrss MB",
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
      "; skipped", skipping.summary(sub, plan))
