"""The few git operations upgrade needs: find the work tree, check it is clean, mark conflicts.

Everything goes through the ``git`` executable (no library); without git, or outside a work tree,
callers get ``None``/empty answers and carry on without git integration.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tac_bootstrap_cli.errors import GitError

_TIMEOUT = 60
_NULL_SHA = "0" * 40


def _env() -> dict[str, str]:
    # No pager, no prompts, and no optional index lock from `git status` (an editor's git
    # integration running at the same time must not make either side fail).
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def _git(
    cwd: Path, args: Sequence[str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which("git")
    if exe is None:
        raise GitError("git not found on PATH")
    try:
        return subprocess.run(
            [exe, *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env=_env(),
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]}: {exc}") from None


def repo_root(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None (no git, not a repository, bare)."""
    if shutil.which("git") is None:
        return None
    proc = _git(path, ["rev-parse", "--show-toplevel"])
    if proc.returncode != 0:
        return None
    top = proc.stdout.decode("utf-8", "surrogateescape").strip()
    return Path(top) if top else None


def dirty_paths(path: Path, *, every_file: bool = False) -> list[str]:
    """Changed, staged, unmerged or untracked paths under ``path``, relative to the repository
    (ignored files don't count); ``every_file`` lists the files inside untracked folders too."""
    untracked = "all" if every_file else "normal"
    proc = _git(path, ["status", "--porcelain", "-z", f"--untracked-files={untracked}", "--", "."])
    if proc.returncode != 0:
        raise GitError(f"git status failed: {proc.stderr.decode(errors='replace').strip()}")
    entries = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    out: list[str] = []
    skip = False
    for entry in entries:
        if skip:  # the source path of a rename
            skip = False
            continue
        if not entry:
            continue
        out.append(entry[3:])
        skip = entry[0] in "RC"
    return out


@dataclass(frozen=True)
class Unmerged:
    """One conflicted file for the index: its path relative to the repository and three versions."""

    path: str
    base: bytes
    ours: bytes
    theirs: bytes
    executable: bool = False


@dataclass(frozen=True)
class Blobs:
    """A conflicted file's three stages as blobs already in the object store: staging it is then
    one quick index update (no content needed, e.g. on the rerun after an interrupt)."""

    path: str
    mode: str
    shas: tuple[str, str, str]


def _hash_object(repo: Path, data: bytes) -> str:
    proc = _git(repo, ["hash-object", "-w", "--stdin"], stdin=data)
    if proc.returncode != 0:
        raise GitError(f"git hash-object failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode().strip()


def write_blobs(repo: Path, f: Unmerged) -> Blobs:
    """Store ``f``'s three versions in the object store (writes nothing in the work tree)."""
    base, ours, theirs = (_hash_object(repo, data) for data in (f.base, f.ours, f.theirs))
    return Blobs(f.path, "100755" if f.executable else "100644", (base, ours, theirs))


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C until the block ends, here and in the git child (which inherits the signal
    mask): a git killed halfway through an index update would leave ``index.lock`` behind."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def mark_unmerged(repo: Path, entries: Iterable[Blobs]) -> list[str]:
    """Put each entry into the index as unmerged stages 1 (base), 2 (ours), 3 (theirs), so that
    ``git status`` shows it as "both modified" and ``git add`` after resolving clears it."""
    lines: list[bytes] = []
    done: list[str] = []
    for e in entries:
        path = e.path.encode("utf-8", "surrogateescape")
        lines.append(b"0 " + _NULL_SHA.encode() + b"\t" + path)
        for stage, sha in enumerate(e.shas, start=1):
            lines.append(f"{e.mode} {sha} {stage}\t".encode() + path)
        done.append(e.path)
    if not lines:
        return []
    with _sigint_held():
        proc = _git(repo, ["update-index", "-z", "--index-info"], stdin=b"\0".join(lines) + b"\0")
    if proc.returncode != 0:
        raise GitError(f"git update-index failed: {proc.stderr.decode(errors='replace').strip()}")
    return done


def stage_conflicts(repo: Path, files: Iterable[Unmerged]) -> list[str]:
    """Store each file's three versions and mark it unmerged in the index (``mark_unmerged``)."""
    return mark_unmerged(repo, [write_blobs(repo, f) for f in files])


def unmerged_paths(path: Path) -> list[str]:
    """Paths under ``path`` with unmerged index entries (what ``git status`` calls conflicts)."""
    proc = _git(path, ["diff", "--name-only", "--diff-filter=U", "-z", "--", "."])
    if proc.returncode != 0:
        return []
    return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
