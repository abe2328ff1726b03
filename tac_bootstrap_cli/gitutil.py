"""The few git operations upgrade needs: find the work tree, check it is clean, mark conflicts.

Everything goes through the ``git`` executable (no library); without git, or outside a work tree,
callers get ``None``/empty answers and carry on without git integration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tac_bootstrap_cli.errors import TacError

_TIMEOUT = 60
_NULL_SHA = "0" * 40


class GitError(TacError):
    """A git command failed where the caller needed it to work."""


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


def dirty_paths(path: Path) -> list[str]:
    """Changed, staged, unmerged or untracked paths under ``path`` (ignored files don't count)."""
    proc = _git(path, ["status", "--porcelain", "-z", "--untracked-files=normal", "--", "."])
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


def _hash_object(repo: Path, data: bytes) -> str:
    proc = _git(repo, ["hash-object", "-w", "--stdin"], stdin=data)
    if proc.returncode != 0:
        raise GitError(f"git hash-object failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode().strip()


def stage_conflicts(repo: Path, files: Iterable[Unmerged]) -> list[str]:
    """Put each file into the index as unmerged stages 1 (base), 2 (ours), 3 (theirs), so that
    ``git status`` shows it as "both modified" and ``git add`` after resolving clears it."""
    lines: list[bytes] = []
    done: list[str] = []
    for f in files:
        mode = "100755" if f.executable else "100644"
        shas = [_hash_object(repo, data) for data in (f.base, f.ours, f.theirs)]
        path = f.path.encode("utf-8", "surrogateescape")
        lines.append(b"0 " + _NULL_SHA.encode() + b"\t" + path)
        for stage, sha in enumerate(shas, start=1):
            lines.append(f"{mode} {sha} {stage}\t".encode() + path)
        done.append(f.path)
    if not lines:
        return []
    proc = _git(repo, ["update-index", "-z", "--index-info"], stdin=b"\0".join(lines) + b"\0")
    if proc.returncode != 0:
        raise GitError(f"git update-index failed: {proc.stderr.decode(errors='replace').strip()}")
    return done


def unmerged_paths(path: Path) -> list[str]:
    """Paths under ``path`` with unmerged index entries (what ``git status`` calls conflicts)."""
    proc = _git(path, ["diff", "--name-only", "--diff-filter=U", "-z", "--", "."])
    if proc.returncode != 0:
        return []
    return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
