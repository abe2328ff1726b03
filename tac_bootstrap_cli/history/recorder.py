"""Recording the generator's own runs: one Agent per command run, through ``adw_logging``.

One OrchestratorAgent ``tac-bootstrap``; one Agent per command run (its name is the command); one
Prompt holding the command line and the answers, with a one-line summary as its response; an
AgentLog per step and per file action; SystemLogs for warnings and errors. History must never cost
the user their command: if the database cannot be opened or written, one warning, then no-ops.
A file that is not ours (``adw_sqlite.check_owner``) is never written; ``TAC_BOOTSTRAP_DB=off``
turns history off.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from tac_bootstrap_cli.history.location import ORCHESTRATOR, db_path, warn_once

if TYPE_CHECKING:
    from tac_bootstrap_cli._adws.adw_modules.adw_logging import AgentRun, SystemLogHandler
    from tac_bootstrap_cli.plan import FileAction


class Recorder(Protocol):
    """What the scaffolding pipeline tells the history; every method must be cheap and safe."""

    def step(self, name: str, **meta: object) -> AbstractContextManager[dict[str, object]]:
        """Context manager around one stage; yields a dict whose items are logged at its end."""
        ...

    def file_action(self, fa: FileAction, *, written: bool) -> None:
        """One file's action (path, action, bytes)."""
        ...

    def warning(self, message: str, **meta: object) -> None:
        """Something the user must hear about."""
        ...

    def note_answers(self, answers: Mapping[str, Any]) -> None:
        """The answers the run works with (part of the Prompt row)."""
        ...

    def set_metadata(self, **meta: object) -> None:
        """Merge into the run's metadata (target, dry_run, files_changed...)."""
        ...

    def set_summary(self, summary: str) -> None:
        """The one-line outcome (the Prompt's response)."""
        ...


class NullRecorder:
    """A Recorder that records nothing (library use without history)."""

    @contextmanager
    def step(self, name: str, **meta: object) -> Iterator[dict[str, object]]:
        """Run the block; nothing is recorded."""
        del name, meta  # the Recorder protocol's arguments, with nowhere to go
        yield {}

    def file_action(self, fa: FileAction, *, written: bool) -> None:
        """Nothing recorded."""

    def warning(self, message: str, **meta: object) -> None:
        """Nothing recorded."""

    def note_answers(self, answers: Mapping[str, Any]) -> None:
        """Nothing recorded."""

    def set_metadata(self, **meta: object) -> None:
        """Nothing recorded."""

    def set_summary(self, summary: str) -> None:
        """Nothing recorded."""


class RunRecorder(NullRecorder):
    """Records one command run through ``tac_bootstrap_cli._adws.adw_modules.adw_logging``; a context manager."""

    def __init__(self, command: str, argv: list[str], *, dry_run: bool = False) -> None:
        self.command = command
        self.argv = argv
        self.answers: dict[str, Any] = {}
        self.summary = ""
        self.path = db_path()
        self._meta: dict[str, object] = {}
        self._run: AgentRun | None = None
        self._syslog: logging.Logger | None = None
        self._handler: SystemLogHandler | None = None
        if self.path is None:  # TAC_BOOTSTRAP_DB=off: the user asked for no history, say nothing
            return
        if self.path.exists() and not os.access(self.path, os.W_OK):
            # SQLite would open it read-only and leave -wal/-shm files beside it it cannot remove.
            warn_once(f"run log disabled ({self.path}): the file is read-only; run not recorded")
            self.path = None
            return
        try:
            from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
        except ImportError as exc:  # a broken install: the command still runs
            warn_once(f"run history disabled: {exc}")
            return
        # Non-strict: a failure prints one warning on stderr and turns the run into no-ops.
        # Buffered: the logs of a sub-second command go in one transaction at its end.
        self._run = start_run(
            self.path,
            command,
            orchestrator=ORCHESTRATOR,
            metadata={"argv": argv, "dry_run": dry_run, "cwd": str(Path.cwd())},
            buffered=True,
        )

    @property
    def run_id(self) -> str | None:
        """The Agent id of this run, or None when history is off."""
        return self._run.agent_id if self._run is not None else None

    @property
    def active(self) -> bool:
        """True while the history database accepts writes."""
        return self._run is not None and self._run.healthy

    @contextmanager
    def step(self, name: str, **meta: object) -> Iterator[dict[str, object]]:
        """A step_start/step_end pair around the block; the yielded dict goes to the run's metadata."""
        result: dict[str, object] = {}
        if not self.active:
            yield result
            return
        assert self._run is not None
        with self._run.step(name, **meta):
            yield result
        if result:  # kept in the run's metadata: one write at the end, not one more log row
            self._meta[name] = dict(result)

    def file_action(self, fa: FileAction, *, written: bool) -> None:
        """An AgentLog ``event`` per file (path, action, bytes, reason)."""
        if self.active:
            assert self._run is not None
            self._run.event(
                f"{fa.action.value} {fa.path}",
                path=fa.path,
                action=fa.action.value,
                bytes=fa.size if written else 0,
                reason=fa.reason,
                written=written,
            )

    def warning(self, message: str, **meta: object) -> None:
        """A ``warning`` SystemLog."""
        self._system_log(logging.WARNING, message, meta)

    def error(self, message: str, **meta: object) -> None:
        """An ``error`` SystemLog."""
        self._system_log(logging.ERROR, message, meta)

    def note_answers(self, answers: Mapping[str, Any]) -> None:
        """Kept for the Prompt row written when the run ends."""
        self.answers = dict(answers)

    def set_metadata(self, **meta: object) -> None:
        """Merged into ``agents.metadata`` when the run ends (one write, not one per call)."""
        self._meta.update(meta)

    def set_summary(self, summary: str) -> None:
        """The Prompt's response."""
        self.summary = summary

    def _system_log(self, level: int, message: str, meta: Mapping[str, object]) -> None:
        if not self.active:
            return
        if self._syslog is None:
            from tac_bootstrap_cli._adws.adw_modules.adw_logging import SystemLogHandler

            assert self.path is not None  # active implies a path
            # Strict: a failure here must not print a second warning; the run log reports it.
            self._handler = SystemLogHandler(self.path, ORCHESTRATOR, strict=True)
            self._syslog = logging.getLogger(f"tac_bootstrap.history.{id(self)}")
            self._syslog.propagate = False
            self._syslog.setLevel(logging.DEBUG)
            self._syslog.addHandler(self._handler)
        try:
            extra = f" {json.dumps(dict(meta), default=str)}" if meta else ""
            self._syslog.log(level, f"{self.command}: {message}{extra}")
        except Exception:  # the handler raised (strict): history is best effort
            self._close_syslog()

    def _close_syslog(self) -> None:
        if self._syslog is not None and self._handler is not None:
            self._syslog.removeHandler(self._handler)
            self._handler.close()
        self._syslog = None
        self._handler = None

    def __enter__(self) -> RunRecorder:
        """The recorder itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Write the Prompt row, then finish the run as completed or failed (history off or
        broken: nothing to write)."""
        if not self.active:
            self._close_syslog()
            return
        # Active: adw_logging is loaded already, so its rule costs no import on history-off runs.
        from tac_bootstrap_cli._adws.adw_modules.adw_logging import succeeded

        ok = succeeded(exc)
        if not ok:
            self.error(f"{type(exc).__name__}: {exc}", exit_code=getattr(exc, "exit_code", None))
            if not self.summary:
                self.summary = f"failed: {exc}"
        if self.active:
            assert self._run is not None
            if self._meta:
                self._run.set_metadata(**self._meta)
            content = json.dumps(
                {"command_line": self.argv, "answers": self.answers}, ensure_ascii=False
            )
            self._run.prompt(content, response=self.summary, status="completed" if ok else "failed")
            self._run.__exit__(exc_type, exc, tb)
        self._close_syslog()
