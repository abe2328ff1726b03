"""Atomic file replacement: the one way tac-bootstrap and the layer it generates write a file.

Standard library only (the cron trigger and the workflows import it). Every writer (the
generator's apply step, ``generate models``, its caches and trust records, the workflows' state,
the cron trigger's state, the observatory's report) goes through ``write_atomic``, so a reader or a
crash sees the old content or the new one, never half a file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

# Temporary files are named ``.<name>.<pid>-<8 random>.tac-tmp`` in the target's folder: the pid
# lets a later run tell a killed writer's leftover from a live one (tac-bootstrap sweeps them).
TEMP_SUFFIX = ".tac-tmp"


def _umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread writes.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _umask()


def write_atomic(
    path: Path, data: bytes, *, mode: int | None = None, durable: bool = False
) -> None:
    """Replace ``path`` with ``data`` through a temporary file in its folder and a rename.

    ``mode`` defaults to the replaced file's permissions, or what ``open()`` would give a new file
    (0o666 less the umask). ``durable`` also flushes the data to the disk before the rename, for
    state whose loss would redo work (the cron trigger's record of what already ran).
    """
    if mode is None:
        try:
            st = path.lstat()
            mode = 0o666 & ~UMASK if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~UMASK
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=TEMP_SUFFIX
    )
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if not hasattr(os, "fchmod"):  # Windows: only the read-only bit exists anyway
            tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
