"""The git steps of a workflow: a branch per ADW run and a commit after each changing phase.

Every function is best effort and returns what happened: a project that is not a git repository,
or a git without a configured identity, must not fail a workflow that otherwise succeeded. Nothing
here ever pushes, and no file that holds secrets (``.env``, ``.env.local``...) is ever committed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from .utils import PROJECT_ROOT

# The PreToolUse guard's rule (.claude/hooks/pre_tool_use.py): `.env` and `.env.*` hold secrets,
# except the templates that document them. Case-insensitive here: on macOS and Windows `.ENV` is
# the same file, and a secret is no less secret in capitals.
SAFE_ENV_SUFFIXES = (".example", ".sample", ".template", ".dist")
_SECRET_NAME = re.compile(r"\.env(\..+)?", re.IGNORECASE)
# How many withheld names a warning spells out.
_NAMES_SHOWN = 10


def is_secret_file(path: str) -> bool:
    """True when the file name (in any folder) is ``.env`` or ``.env.*``, except templates."""
    name = PurePosixPath(path).name
    return bool(_SECRET_NAME.fullmatch(name)) and not name.lower().endswith(SAFE_ENV_SUFFIXES)


def _git(args: list[str], root: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=root or PROJECT_ROOT,
        capture_output=True,
        text=True,
        # File names are bytes to git: keep any that are not UTF-8 round-trippable.
        errors="surrogateescape",
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
    when git itself refused, the first line of its message (``error``) and what to do (``fix``);
    ``withheld``: secret files that had changes but were left out of the commit."""

    ok: bool
    message: str
    error: str = ""
    fix: str = ""
    withheld: tuple[str, ...] = ()


def withheld_note(names: tuple[str, ...]) -> str:
    """``names`` for a one-line message (the first few, then how many more)."""
    shown = ", ".join(names[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


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


def _staged(root: Path | None) -> list[str]:
    """The paths whose staged content differs from HEAD (from nothing, before a first commit)."""
    proc = _git(["diff", "--cached", "--name-only", "--no-renames", "-z"], root)
    return [path for path in proc.stdout.split("\0") if path]


def unstage_secrets(root: Path | None = None) -> tuple[str, ...]:
    """Take every staged secret file (``is_secret_file``) out of the index again; returns them.

    The files stay on disk untouched. A tracked one keeps its committed version in the index, so
    the next commit neither changes nor deletes it; a new one (or a force-added one) becomes
    untracked again.
    """
    secrets = tuple(sorted(path for path in _staged(root) if is_secret_file(path)))
    if not secrets:
        return ()
    has_head = _git(["rev-parse", "--verify", "--quiet", "HEAD"], root).returncode == 0
    # --literal-pathspecs: a file called `.env[1]` or `*.env` is a name, not a pattern.
    unstage = ["reset", "-q", "HEAD", "--"] if has_head else ["rm", "--cached", "-q", "--"]
    _git(["--literal-pathspecs", *unstage, *secrets], root)
    return secrets


def commit_all(message: str, root: Path | None = None) -> GitStep:
    """Stage every change the ignore rules allow (``git add -A``), take secret files out again
    (see ``unstage_secrets``) and commit the rest."""
    if not is_repo(root):
        return GitStep(False, "not a git repository; nothing committed")
    _git(["add", "-A"], root)
    withheld = unstage_secrets(root)
    left = [path for path in _staged(root) if is_secret_file(path)]
    if left:  # git would not unstage them: commit nothing rather than a secret
        return GitStep(
            False,
            f"nothing committed: cannot unstage secret files {', '.join(left)}",
            f"cannot unstage {withheld_note(tuple(left))}",
            f"unstage them (git rm --cached -- {left[0]}), then commit",
            tuple(left),
        )
    note = f" (secret files left out: {withheld_note(withheld)})" if withheld else ""
    if _git(["diff", "--cached", "--quiet"], root).returncode == 0:
        return GitStep(True, f"nothing to commit{note}", withheld=withheld)
    proc = _git(["commit", "-m", message], root)
    if proc.returncode != 0:
        return _refused("git commit", proc, "fix that")._replace(withheld=withheld)
    first = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else "committed"
    return GitStep(True, first + note, withheld=withheld)


def diff_summary(root: Path | None = None, limit: int = 20000) -> str:
    """``git status`` and the diff of the work tree, cut to ``limit`` characters (for a review)."""
    if not is_repo(root):
        return ""
    status = _git(["status", "--short"], root).stdout
    # The content of a tracked secret file must not reach the reviewer's prompt (templates such as
    # .env.example are left out too: the pathspec cannot tell them apart, and they hold no value).
    hide = ["--", ".", ":(exclude,icase,glob)**/.env", ":(exclude,icase,glob)**/.env.*"]
    diff = _git(["diff", "HEAD", *hide], root).stdout or _git(["diff", *hide], root).stdout
    text = f"{status}\n{diff}"
    return text if len(text) <= limit else text[:limit] + "\n... [diff truncated]"
