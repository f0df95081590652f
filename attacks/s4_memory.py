"""S4: does a forked kernel hold earlier kernels' tokens, folders or stand-in marks in its
memory (inherited from the zygote)? python attacks/s4_memory.py [fresh] [N]
Starts N kernels (bwrap), restarts the first, then scans the last one's memory for
sha256 digests of every other kernel's secrets (the probe holds no secret itself)."""
from __future__ import annotations

import hashlib
import os
import sys

if "fresh" in sys.argv[1:]:
    os.environ["NORMCOURSE_FRESH_KERNELS"] = "1"
sys.path.insert(0, os.path.dirname(__file__))
from s4_probe import SCAN  # noqa: E402

from normcourse.grading.kernel import GradingKernel  # noqa: E402


def main():
    n = int(([a for a in sys.argv[1:] if a.isdigit()] or ["5"])[0])
    mode = "fresh" if os.environ.get("NORMCOURSE_FRESH_KERNELS") else "fork"
    ks = [GradingKernel(mode="bwrap") for _ in range(n)]
    try:
        secrets = {}
        for i, k in enumerate(ks[:-1]):
            k.start()
            secrets.update({f"{i}.token": k.token, f"{i}.folder": k.root.name,
                            f"{i}.mark": k.standins_mark, f"{i}.run": k.folders.run.name})
        ks[0].restart()
        secrets["0.run2"] = ks[0].folders.run.name
        last = ks[-1]
        last.start()
        secrets.update({"last.token": last.token, "last.mark": last.standins_mark})
        needles = {hashlib.sha256(v.split("-")[-1].encode()).hexdigest(): k
                   for k, v in secrets.items()}
        r = last.run(SCAN.format(NEEDLES=needles), 120, capture=True)
        print(mode, n, r.status, r.ename, r.evalue, "\n" + r.stdout)
    finally:
        for k in ks:
            k.close()


if __name__ == "__main__":
    main()
