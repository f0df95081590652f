"""Files and folders a kernel could have written, touched without following its links.

The rule (CONTRIBUTING.md, "Nothing a kernel writes is trusted"): the grader keeps
its own files where no kernel can write, and whatever it still touches inside a
kernel's folder (to measure it, to remove it) it opens relative to a folder it
already holds open, with ``O_NOFOLLOW``, never crossing into another file system.
A link a kernel planted is then removed as a link, never followed; a folder
swapped for a link is refused. The walks below hold a bounded number of open
folders and use no recursion, so a tree nested 100,000 deep costs no more than a
flat one.
"""

from __future__ import annotations

import os
import secrets
import stat

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def open_dir(name, dir_fd: int | None = None) -> int:
    """A folder opened without following a link (``OSError`` if ``name`` is one)."""
    return os.open(name, _DIR, dir_fd=dir_fd)


def open_log(path) -> int:
    """The grader's own log file, emptied (in a folder no kernel can write)."""
    return os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                   0o600)


def write_new(folder, name: str, data: bytes, mode: int = 0o444) -> None:
    """Create the file ``name`` in ``folder`` (it must not exist yet) holding ``data``."""
    dir_fd = open_dir(folder)
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode,
                     dir_fd=dir_fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    finally:
        os.close(dir_fd)


def usage_mb(path, max_entries: int, max_depth: int) -> float:
    """MB taken by the files below the folder ``path``; infinite when there are more than
    ``max_entries`` files and folders or folders nested more than ``max_depth`` deep."""
    try:
        top = open_dir(path)
    except OSError:
        return 0.0
    dev, total, seen = os.fstat(top).st_dev, 0, 0
    stack = [(top, os.scandir(top))]
    try:
        while stack:
            fd, entries = stack[-1]
            entry = next(entries, None)
            if entry is None:
                entries.close()
                os.close(fd)
                stack.pop()
                continue
            seen += 1
            if seen > max_entries:
                return float("inf")
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                total += st.st_blocks * 512
            elif st.st_dev == dev:
                if len(stack) >= max_depth:
                    return float("inf")
                try:
                    sub = open_dir(entry.name, fd)
                except OSError:
                    continue
                stack.append((sub, os.scandir(sub)))
    finally:
        for fd, entries in stack:
            entries.close()
            os.close(fd)
    return total / 2**20


def remove_tree(path) -> None:
    """Remove ``path`` and everything below it, as well as can be done; never raises.

    A link is removed, not followed. No recursion: the sub-folders of a sub-folder are
    first moved up into ``path`` (renamed within the folder, same file system), so two
    folders are open at a time whatever the depth. A mount point is left alone.
    """
    try:
        top = open_dir(path)
    except FileNotFoundError:
        return
    except OSError:  # a link or a file where a folder was
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    try:
        _empty(top, os.fstat(top).st_dev)
    finally:
        os.close(top)
    try:
        os.rmdir(path)
    except OSError:
        pass


def _empty(top: int, dev: int) -> None:
    tag, moved, progress = secrets.token_hex(4), 0, True
    while progress:  # each pass removes or moves something, or nothing is left to do
        progress, before = False, moved
        for name in os.listdir(top):
            try:
                st = os.stat(name, dir_fd=top, follow_symlinks=False)
                if not stat.S_ISDIR(st.st_mode):
                    os.unlink(name, dir_fd=top)
                    progress = True
                    continue
                if st.st_dev != dev:
                    continue
                sub = open_dir(name, top)
            except OSError:
                continue
            try:
                for inner in os.listdir(sub):
                    try:
                        st = os.stat(inner, dir_fd=sub, follow_symlinks=False)
                        if stat.S_ISDIR(st.st_mode):
                            os.rename(inner, f".removed-{tag}-{moved}", src_dir_fd=sub,
                                      dst_dir_fd=top)
                            moved += 1
                        else:
                            os.unlink(inner, dir_fd=sub)
                    except OSError:
                        pass
            finally:
                os.close(sub)
            try:
                os.rmdir(name, dir_fd=top)
                progress = True
            except OSError:
                pass
        progress = progress or moved > before


def deleted_open_mb(pids) -> float:
    """MB of the files that processes ``pids`` hold open after removing them from every
    folder (still on the disk, seen by no folder walk), each file counted once."""
    seen, total = set(), 0
    for pid in pids:
        try:
            entries = list(os.scandir(f"/proc/{pid}/fd"))
        except OSError:
            continue
        for e in entries:
            try:
                if not os.readlink(e.path).endswith(" (deleted)"):
                    continue
                st = os.stat(e.path)  # the open file itself, through /proc
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total / 2**20
