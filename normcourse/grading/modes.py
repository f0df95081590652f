"""Choosing the run's isolation (:mod:`normcourse.grading.isolation` describes the modes).

:func:`choose` is called with ``--isolation``'s value; each mode's probe runs once per
process (bwrap: :func:`normcourse.grading.sandbox.unavailable`, uid: its self-test,
:func:`normcourse.grading.uidbox.unavailable`). :func:`announce` says on stderr what
the command line needs to know.
"""

from __future__ import annotations

import os
import re
import sys

from normcourse.grading import sandbox, uidbox, zygote
from normcourse.grading.isolation import MODES, Mode, UnavailableError, passed_environment


def choose(name: str = "auto") -> Mode:
    """The mode called ``name``; for ``auto`` the best one that works here (each probe
    runs once per process). Raises :class:`UnavailableError` when the mode asked for by
    name cannot be had."""
    if name not in MODES:
        raise UnavailableError(f"unknown isolation {name!r} (choose from {', '.join(MODES)})")
    if name == "none":
        return Mode("asked for with --isolation none")
    if name == "auto" and os.environ.get(sandbox.OFF_VAR):
        return Mode(sandbox.unavailable())  # switched off on purpose
    missing = sandbox.unavailable() if name in ("auto", "bwrap") else ""
    if name == "bwrap" and missing:
        raise UnavailableError(f"{missing}; {sandbox.INSTALL}")
    if name == "bwrap" or (name == "auto" and not missing):
        return sandbox.Bwrap()
    refused = uidbox.unavailable()
    if not refused:
        return uidbox.Uid()
    if name == "uid":
        raise UnavailableError(refused)
    return Mode(f"{missing}; and kernels cannot run as separate users: {refused}")


def announce(name: str, *, pass_env=(), required: bool = False, verbose: bool = False):
    """The run's mode, said on stderr: an error (returns None) when it cannot be had or
    ``required`` (``--require-sandbox``) finds no isolation; the loud warning without
    isolation; with ``verbose``, the mode and the names in a kernel's environment."""
    bad = [item for item in pass_env if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(=.*)?", item)]
    if bad:
        print(f"error: --pass-env {bad[0]!r}: expected NAME or NAME=VALUE", file=sys.stderr)
        return None
    try:
        mode = choose(name)
    except UnavailableError as exc:
        print(f"error: --isolation {name}: {exc}", file=sys.stderr)
        return None
    if not mode.isolated and required:
        print(f"error: --require-sandbox: {mode.reason}; {sandbox.INSTALL}", file=sys.stderr)
        return None
    if not mode.isolated:
        print(f"WARNING: {sandbox.warning(mode.reason)}", file=sys.stderr)
    if verbose:
        names = {*passed_environment(pass_env), "HOME", "TMPDIR", "MPLCONFIGDIR", "MPLBACKEND",
                 "IPYTHONDIR", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "PYDEVD_DISABLE_FILE_VALIDATION", *(("USER", "LOGNAME") if mode.name == "uid"
                                                     else ())}
        if mode.name == "bwrap":
            print("kernels: " + ("each started afresh (NORMCOURSE_FRESH_KERNELS is set)"
                                 if os.environ.get(zygote.OFF_VAR) else
                                 "forked from a process that imported ipykernel and NumPy, "
                                 "each into a new sandbox"), file=sys.stderr)
        print(f"isolation: {mode.describe()}\nkernel environment (besides the grader's own "
              f"NORMCOURSE_* variables): {', '.join(sorted(names))}", file=sys.stderr)
    return mode
