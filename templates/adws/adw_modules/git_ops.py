"""The git steps of a workflow: a branch per ADW run and a commit after each changing phase.

Every function is best effort and returns what happened: a project that is not a git repository,
or a git without a configured identity, must not fail a workflow that otherwise succeeded. Nothing
here ever pushes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import NamedTuple

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


class GitStep(NamedTuple):
    """What a git step did: ``ok`` (done, or nothing to do), ``message`` for the run log and,
    when git itself refused, the first line of its message (``error``) and what to do (``fix``)."""

    ok: bool
    message: str
    error: str = ""
    fix: str = ""


IDENTITY_FIX = (
    'set a git identity: git config user.email "you@example.com" && '
    'git config user.name "Your Name" (add --global for every repository)'
)


def _refused(action: str, proc: subprocess.CompletedProcess[str], fix: str) -> GitStep:
    output = (proc.stderr or proc.stdout).strip()
    first = next((line.strip() for line in output.splitlines() if line.strip()), "")
    first = first or f"exit code {proc.returncode}"
    if "identity unknown" in output or "empty ident" in output or "user.email" in output:
        fix = IDENTITY_FIX
    return GitStep(False, f"{action} failed: {output or first}", first, fix)


def ensure_branch(name: str, root: Path | None = None) -> GitStep:
    """Switch to branch ``name``, creating it from HEAD when needed."""
    if not is_repo(root):
        return GitStep(False, "not a git repository; no branch created")
    if current_branch(root) == name:
        return GitStep(True, f"already on {name}")
    exists = _git(["rev-parse", "--verify", "--quiet", f"refs/heads/{name}"], root).returncode == 0
    proc = _git(["checkout", name] if exists else ["checkout", "-b", name], root)
    if proc.returncode != 0:
        return _refused(f"git checkout {name}", proc, "commit or stash your changes first")
    return GitStep(True, f"on branch {name}")


def commit_all(message: str, root: Path | None = None) -> GitStep:
    """Stage every change (``.gitignore`` keeps ``agents/`` out) and commit."""
    if not is_repo(root):
        return GitStep(False, "not a git repository; nothing committed")
    _git(["add", "-A"], root)
    if _git(["diff", "--cached", "--quiet"], root).returncode == 0:
        return GitStep(True, "nothing to commit")
    proc = _git(["commit", "-m", message], root)
    if proc.returncode != 0:
        return _refused("git commit", proc, "fix that")
    return GitStep(
        True, proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else "committed"
    )


def diff_summary(root: Path | None = None, limit: int = 20000) -> str:
    """``git status`` and the diff of the work tree, cut to ``limit`` characters (for a review)."""
    if not is_repo(root):
        return ""
    status = _git(["status", "--short"], root).stdout
    diff = _git(["diff", "HEAD"], root).stdout or _git(["diff"], root).stdout
    text = f"{status}\n{diff}"
    return text if len(text) <= limit else text[:limit] + "\n... [diff truncated]"
