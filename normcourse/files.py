"""Write an output file so that it is either the old file or the whole new one, never half.

:func:`write_atomic` writes a temporary file in the target's folder, flushes and syncs it,
then renames it over the target (``os.replace``, atomic on POSIX and Windows). A failure
on the way (an encoding error, a full disk, Ctrl-C) leaves the target as it was. Used for
``normcourse grade --out`` and ``--feedback`` and for the Gradescope zip.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _mode(path: Path) -> int:
    """The target's current permissions, or those a new file gets (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path, data: str | bytes) -> Path:
    """Write ``data`` (text is encoded as UTF-8) to ``path``, atomically; returns the path."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a crash
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return path
