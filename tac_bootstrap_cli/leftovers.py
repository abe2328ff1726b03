"""What killed writers leave behind, and the sweep that removes it.

Staging folders and temporary files carry the pid of the process that made them
(``.NAME.tac-bootstrap-staging-<pid>-<random>``, ``.FILE.<pid>-<random>.tac-tmp``): what a
process that is gone left is removed by the next writing command (``sweep_leftovers``; a
``render`` answered by its receipt sweeps too), and ``find_leftovers`` lets ``doctor`` report it.
Standard library only, like the receipt check that uses it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from tac_bootstrap_cli._adws.adw_modules.adw_files import TEMP_SUFFIX
from tac_bootstrap_cli.projectstate import BASES_PATH, MANIFEST_PATH

STAGING_MARK = ".tac-bootstrap-staging-"
_STALE_SECONDS = 60  # a staging folder without a pid (older releases) may be a concurrent init's
# What mkdtemp/mkstemp add after our prefix: 8 characters of this alphabet.
_RANDOM = r"[a-z0-9_]{8}"
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)-" + _RANDOM + re.escape(TEMP_SUFFIX))


def _process_gone(pid: int) -> bool:
    """True when no process ``pid`` exists (any doubt counts as alive: nothing is removed)."""
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: someone else's live process
        return False
    return False


def _staging_pid(entry: str, name: str) -> int | None:
    """The pid in ``entry`` when it is a staging folder of project ``name`` (exact match; the
    name's characters are literal, never a pattern); -1 for one without a pid (older releases);
    None when it is something else."""
    prefix = f".{name}{STAGING_MARK}"
    if not entry.startswith(prefix):
        return None
    rest = entry[len(prefix) :]
    match = re.fullmatch(r"([0-9]+)-" + _RANDOM, rest)
    if match is not None:
        return int(match.group(1))
    return -1 if re.fullmatch(_RANDOM, rest) else None


def find_leftovers(root: Path, paths: Iterable[str], *, all_pids: bool = False) -> list[Path]:
    """Staging folders of ``root``'s name beside it and temporary files of ``paths`` (relative to
    ``root``, plus the manifest and bases) that a process which is gone left behind; with
    ``all_pids`` also those of live processes (a concurrent run)."""
    found: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root.parent):
            pid = _staging_pid(entry.name, root.name)
            if pid is None or not entry.is_dir(follow_symlinks=False):
                continue
            if all_pids or _process_gone(pid) or (pid == -1 and _old(Path(entry.path))):
                found.append(Path(entry.path))
    wanted: dict[str, set[str]] = {}
    for rel in (*paths, MANIFEST_PATH, BASES_PATH):
        folder, _, name = rel.rpartition("/")
        wanted.setdefault(folder, set()).add(name)
    for folder, names in sorted(wanted.items()):
        where = root / folder if folder else root
        try:
            entries = list(os.scandir(where))
        except OSError:
            continue
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match is None or match.group("name") not in names:
                continue
            gone = all_pids or _process_gone(int(match.group("pid")))
            if gone and entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
    return found


def _old(path: Path) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > _STALE_SECONDS
    except OSError:
        return False


def sweep_leftovers(root: Path, paths: Iterable[str]) -> list[Path]:
    """Remove what ``find_leftovers`` finds (best effort); returns what was removed."""
    removed: list[Path] = []
    for path in find_leftovers(root, paths):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def remove_stale_staging(parent: Path, name: str) -> None:
    """Remove staging folders a killed ``init`` of the same name left behind."""
    sweep_leftovers(parent / name, [])
