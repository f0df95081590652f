"""The user ids of the separate-user mode: leased under a lock, reclaimed by killing.

As ioi/isolate does it: each ``--jobs`` slot has its own user id (:data:`FIRST_UID`
and up, no account needed), leased under a lock file (``flock``, in a folder only
root may use) so that two grader processes on one machine never share one. Whoever
holds the lease -- and only they -- kills every process of that user
(``kill(-1)`` run as that user reaches all of them and nothing else) and removes
what it left at the top of the folders any user may write in (:data:`SHARED`):
when it leases the id (a grader that died may have left some), at each restart
of a kernel, and before the id goes to the next kernel. The reaper of a grader
that died does the same once it can take the lock (:func:`reap`).
"""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import tempfile
import threading

import psutil

from normcourse.grading import isolation, safefs

FIRST_UID, UIDS = 61000, 1000  # user ids used by the grader (Debian reserves 60000-64999)
LOCKS = ("/run/normcourse-uids", os.path.join(tempfile.gettempdir(), "normcourse-uids-root"))
SHARED = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")  # where any user may write
#: run as the user: kill(-1, SIGKILL) reaches every process of that user but the caller
KILL = ["/bin/sh", "-c", "kill -9 -1"]


def run_as(uid: int) -> dict:
    """subprocess's arguments that run a command as ``uid`` (no groups, private files)."""
    return {"user": uid, "group": uid, "extra_groups": [], "umask": 0o077}


def processes_of(uid: int) -> list:
    found = []
    for p in psutil.process_iter(["uids", "status"]):
        try:
            if uid in p.info["uids"] and p.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.Error, TypeError):
            pass
    return found


def kill_uid(uid: int) -> bool:
    """Kill every process of ``uid`` (call it only while holding its lease)."""
    for _ in range(10):
        if not processes_of(uid):
            return True
        subprocess.run(KILL, env={}, cwd="/",
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, **run_as(uid))
    return not processes_of(uid)


def _elsewhere(uid: int, limit: int = 0) -> list:
    """What ``uid`` owns at the top of the folders any user may write in (at most
    ``limit`` + 1 paths when ``limit``)."""
    found = []
    for top in dict.fromkeys(os.path.realpath(p) for p in (*SHARED, tempfile.gettempdir())):
        try:
            with os.scandir(top) as entries:
                for e in entries:
                    try:
                        if e.stat(follow_symlinks=False).st_uid == uid:
                            found.append(e.path)
                    except OSError:
                        pass
                    if limit and len(found) > limit:
                        return found
        except OSError:
            pass
    return found


def usage_elsewhere_mb(uid: int, max_entries: int) -> float:
    """MB that ``uid`` wrote at the top of the shared folders (infinite: too many entries)."""
    found = _elsewhere(uid, max_entries)
    if len(found) > max_entries:
        return float("inf")
    return sum(_usage_mb(p, max_entries) for p in found)


def _usage_mb(path: str, max_entries: int) -> float:
    try:
        st = os.lstat(path)
    except OSError:
        return 0.0
    if stat.S_ISDIR(st.st_mode):
        return safefs.usage_mb(path, max_entries, 64)
    return st.st_blocks * 512 / 2**20


def _lock_dir() -> str:
    for folder in LOCKS:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            st = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o077:
            return folder
    raise isolation.UnavailableError(f"no private folder for its lock files ({LOCKS[0]})")


class _Pool:
    """The user ids this process holds: one per kernel alive, reused by the next kernel."""

    def __init__(self):
        self.lock, self.held, self.free = threading.Lock(), {}, set()

    def lease(self) -> int:
        with self.lock:
            if self.free:
                uid = min(self.free)
                self.free.discard(uid)
                return uid
            folder = _lock_dir()
            for uid in range(FIRST_UID, FIRST_UID + UIDS):
                if uid in self.held or _has_account(uid):
                    continue
                fd = os.open(os.path.join(folder, f"{uid}.lock"),
                             os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self.held[uid] = fd
                reclaim(uid)  # what a grader that died left running as this user
                return uid
            raise isolation.UnavailableError(f"every user id from {FIRST_UID} to "
                                             f"{FIRST_UID + UIDS - 1} is in use")

    def release(self, uid: int) -> None:
        with self.lock:
            self.free.add(uid)


POOL = _Pool()


def _has_account(uid: int) -> bool:
    import pwd

    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def reclaim(uid: int) -> None:
    """Kill what runs as ``uid`` and remove what it left in the shared folders and in
    System V shared memory (a separate user has no IPC namespace of its own)."""
    kill_uid(uid)
    for path in _elsewhere(uid):
        safefs.remove_tree(path)
    remove_shared_memory(uid)


def remove_shared_memory(uid: int) -> None:
    """Remove the System V shared-memory segments ``uid`` owns (found by attack: 1.35 GB
    detached in a cell outlived the run)."""
    import ctypes

    try:
        with open("/proc/sysvipc/shm", encoding="ascii") as f:
            rows = [line.split() for line in f.readlines()[1:]]
        shmctl = ctypes.CDLL(None, use_errno=True).shmctl
    except (OSError, AttributeError):
        return
    for row in rows:
        if len(row) > 7 and row[7] == str(uid):
            shmctl(int(row[1]), 0, None)  # IPC_RMID


def reap(uid: int) -> None:
    """After the grader died (the reaper): reclaim ``uid`` if no other run took it."""
    fd = os.open(os.path.join(_lock_dir(), f"{uid}.lock"),
                 os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        reclaim(uid)
    except OSError:
        pass  # leased again: the run that holds it reclaimed it first
    finally:
        os.close(fd)
