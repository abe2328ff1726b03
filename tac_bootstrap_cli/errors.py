"""The one exception hierarchy of tac-bootstrap, with the exit code each error maps to.

Every error a user can meet is a ``TacError`` defined here, whichever module raises it; the front end prints it and exits with its ``exit_code``. ``render`` still re-exports
``TemplateRenderError``/``UnsafeTemplateError`` and ``modelgen`` ``SpecError`` (their public
APIs name them); everything else imports them from here. The base modules under ``_adws/`` ship into every project's ``adws/``
and never import the generator, so they keep their own errors (``DatabaseError``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DIRTY = 3  # upgrade refused: uncommitted changes; nothing was done
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class TacError(Exception):
    """Base of every error tac-bootstrap reports to a user; ``exit_code`` is what the CLI exits with."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.rerun_hint: str | None = None

    def completed_by_rerun(self, hint: str, command_line: str) -> TacError:
        """Mark this error as one that rerunning the same command completes: ``hint`` holds
        ``{rerun}`` where the command line goes. The core only knows the command's name
        (``command_line``); the front end, which knows the whole line, calls ``rerun_with``."""
        self.rerun_hint = hint
        self.rerun_with(command_line)
        return self

    def rerun_with(self, command_line: str) -> None:
        """Name ``command_line`` (shell-quoted) as the command to rerun, if a rerun completes."""
        if self.rerun_hint is not None:
            self.hint = self.rerun_hint.replace("{rerun}", command_line)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(TacError):
    """The command line or an answer is invalid: nothing was done."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file is malformed; names the file, and the line (column) and key when known."""

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = f"{path}:{line}" if line is not None else path
        if line is not None and column is not None:
            where += f":{column}"
        what = f"{key}: {problem}" if key else problem
        super().__init__(f"{where}: {what}", hint=hint)
        self.path = path
        self.line = line
        self.column = column
        self.key = key


def one_line(message: str) -> str:
    """``message`` with line breaks and other unprintable characters escaped: one problem, one line."""
    if message.isprintable():
        return message
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in message
    )


class YamlError(ConfigError):
    """A YAML file cannot be read: ``PATH:line:col: message`` (``problem`` is the message alone)."""

    def __init__(
        self, path: str, line: int, column: int, problem: str, *, key: str | None = None
    ) -> None:
        super().__init__(path, one_line(problem), line=line, column=column, key=key)
        self.problem = one_line(problem) if key is None else f"{key}: {one_line(problem)}"


class ValidationFailed(UsageError):
    """Several ``field: message`` problems found at once (converted from Pydantic at the boundary)."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems))


class SpecError(UsageError):
    """A model spec has problems; ``problems`` lists each as ``SPEC:line:col: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"the model spec has {count} problem{'s' if count != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(self.problems))


class UnsafeTemplateError(UsageError):
    """A template tried what templates may not (reach Python internals, a link, huge values)."""


class TemplateRenderError(TacError):
    """A template failed to render (a bug in a template, or an answer it cannot take)."""


class GitError(TacError):
    """A git command failed where the caller needed it to work."""


class Interrupted(TacError):
    """Ctrl-C stopped an in-place apply between two files; a rerun completes the job."""

    exit_code = EXIT_INTERRUPTED


class ConflictError(TacError):
    """Writing would overwrite something the user owns; rerun with ``--force`` to allow it."""


class UnsafePathError(TacError):
    """A path would lead outside the target directory (``..``, absolute, or through a symlink)."""


class DirtyTree(TacError):
    """The git work tree has uncommitted changes that are not an interrupted upgrade's own: nothing
    was done (its own exit code, so a script can tell it from "upgraded with conflicts")."""

    exit_code = EXIT_DIRTY


class Declined(TacError):
    """The user answered no to "Apply these changes?": nothing was written (exit 1, as ``apt``,
    ``terraform apply`` and Click's ``confirm(abort=True)`` do; only ever asked at a terminal)."""

    def __init__(self) -> None:
        super().__init__("cancelled: nothing was written")


class UntrustedTemplatesError(UsageError):
    """A team templates folder from the repository has not been trusted (as it is now)."""

    def __init__(self, folder: Path, *, changed: bool) -> None:
        state = "changed since you trusted it" if changed else "not trusted on this machine"
        super().__init__(
            f"team templates {folder} come from the repository and are {state}",
            hint="review the folder (its templates decide .claude/settings.json and hooks),"
            " then rerun the command with --trust",
        )
        self.folder = folder
        self.changed = changed
