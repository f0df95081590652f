"""A watchdog that cleans up after a grader that died (SIGKILL, a crash, a closed laptop lid).

    python -P -m normcourse.grading.reaper      # started by the grader, reads its stdin

The grader starts one reaper per run, in its own session, and tells it on a
pipe which kernel folders (and process tokens, and user ids) exist:
``+ TOKEN UID FOLDER`` when a kernel is made (UID ``-`` when it runs as the
grader's user), ``- FOLDER`` when it is closed. When the pipe closes -- the
grader exited, however it exited -- the reaper kills every process still
carrying one of the tokens, reclaims each user id that no other run took
meanwhile (every process of that user killed: :func:`normcourse.grading.uids.reap`),
removes the folders that are left (never following a link) and exits.
Sandboxed kernels die with the grader anyway (bwrap's ``--die-with-parent``); the
reaper also kills what is left in their sandboxes (:func:`in_sandboxes`) and removes
their folders.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

_LOCK = threading.Lock()
_PROC: subprocess.Popen | None = None


def _send(line: str) -> None:
    global _PROC
    with _LOCK:
        if _PROC is None or _PROC.poll() is not None:
            from normcourse.grading.kernel import SAFE_PATH

            _PROC = subprocess.Popen([sys.executable, *SAFE_PATH, "-m", "normcourse.grading.reaper"],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True,
                                     text=True)
        try:
            _PROC.stdin.write(line + "\n")
            _PROC.stdin.flush()
        except OSError:
            pass


def watch(folder, token: str, uid="") -> None:
    """Remove ``folder`` and kill the processes marked ``token`` (and those of ``uid``)
    if the grader dies."""
    _send(f"+ {token} {uid or '-'} {folder}")


def forget(folder) -> None:
    """``folder`` was cleaned up by the grader."""
    _send(f"- {folder}")


def _clean(live: dict) -> None:
    from normcourse.grading import safefs, uids
    from normcourse.grading.kernel import kill_marked

    for _ in range(3):  # processes first (a dying one may still write), then folders
        for token, _ in set(live.values()):
            kill_marked(token)
        for pid in in_sandboxes(live):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)
    for uid in {uid for _, uid in live.values() if uid.isdigit()}:
        try:
            uids.reap(int(uid))
        except Exception:
            pass
    for folder in live:
        safefs.remove_tree(folder)


def in_sandboxes(folders) -> list[int]:
    """The processes of the sandboxes of these kernel folders: those whose mounts (in a
    mount namespace not this one) include a folder's box. A kernel can strip a process of
    the token and of its parent-death signal (S4: it ptraced its sandbox's pid 1 into
    ``sleep``), not of the sandbox's mounts."""
    marks = [f" {os.fspath(folder)}/box " for folder in folders]
    try:
        mine = os.readlink("/proc/self/ns/mnt")
        pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []
    found = []
    for pid in pids:
        try:
            if os.readlink(f"/proc/{pid}/ns/mnt") == mine:
                continue
            with open(f"/proc/{pid}/mountinfo") as f:
                mounts = f.read(1 << 20)  # (bwrap's sandbox: a few dozen lines)
        except OSError:
            continue
        if any(mark in mounts for mark in marks):
            found.append(pid)
    return found


def main() -> None:
    live: dict = {}  # folder -> (token, uid)
    for line in sys.stdin:
        kind, _, rest = line.rstrip("\n").partition(" ")
        if kind == "+":
            token, uid, folder = rest.split(" ", 2)
            live[folder] = (token, uid)
        elif kind == "-":
            live.pop(rest, None)
    _clean(live)


if __name__ == "__main__":
    main()
