"""The git steps of a workflow: a branch per ADW run and a commit after each changing phase.

Every function is best effort and returns what happened: a project that is not a git repository,
or a git without a configured identity, must not fail a workflow that otherwise succeeded. Nothing
here ever pushes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from adw_modules.utils import PROJECT_ROOT


def _git(args: list[str], root: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=root or PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def is_repo(root: Path | None = None) -> bool:
    """True when the project is inside a git work tree."""
    try:
        return _git(["rev-parse", "--is-inside-work-tree"], root).stdout.strip() == "true"
    except OSError:  # git not installed
        return False


def current_branch(root: Path | None = None) -> str | None:
    """The checked-out branch (also on a repository without commits), or None."""
    proc = _git(["symbolic-ref", "--short", "HEAD"], root)
    if proc.returncode != 0:  # detached HEAD
        return None
    return proc.stdout.strip() or None


def ensure_branch(name: str, root: Path | None = None) -> tuple[bool, str]:
    """Switch to branch ``name``, creating it from HEAD when needed; returns (ok, message)."""
    if not is_repo(root):
        return False, "not a git repository; no branch created"
    if current_branch(root) == name:
        return True, f"already on {name}"
    exists = _git(["rev-parse", "--verify", "--quiet", f"refs/heads/{name}"], root).returncode == 0
    proc = _git(["checkout", name] if exists else ["checkout", "-b", name], root)
    if proc.returncode != 0:
        return False, f"git checkout {name} failed: {proc.stderr.strip()}"
    return True, f"on branch {name}"


def commit_all(message: str, root: Path | None = None) -> tuple[bool, str]:
    """Stage every change (``.gitignore`` keeps ``agents/`` out) and commit; returns (ok, message)."""
    if not is_repo(root):
        return False, "not a git repository; nothing committed"
    _git(["add", "-A"], root)
    if _git(["diff", "--cached", "--quiet"], root).returncode == 0:
        return True, "nothing to commit"
    proc = _git(["commit", "-m", message], root)
    if proc.returncode != 0:
        return False, f"git commit failed: {(proc.stderr or proc.stdout).strip()}"
    return True, proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else "committed"


def diff_summary(root: Path | None = None, limit: int = 20000) -> str:
    """``git status`` and the diff of the work tree, cut to ``limit`` characters (for a review)."""
    if not is_repo(root):
        return ""
    status = _git(["status", "--short"], root).stdout
    diff = _git(["diff", "HEAD"], root).stdout or _git(["diff"], root).stdout
    text = f"{status}\n{diff}"
    return text if len(text) <= limit else text[:limit] + "\n... [diff truncated]"
