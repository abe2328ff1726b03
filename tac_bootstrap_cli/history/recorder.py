"""Recording the generator's own runs: one Agent per command run, with plain ``sqlite3``.

One OrchestratorAgent ``tac-bootstrap``; one Agent per command run (its name is the command); one
Prompt holding the command line and the answers, with a one-line summary as its response; an
AgentLog per step and per file action; SystemLogs for warnings and errors. History must never cost
the user their command: if the database cannot be opened or written, one warning, then no-ops.
A file that is not ours (``adw_sqlite.check_owner``) is never written; ``TAC_BOOTSTRAP_DB=off``
turns history off. The rows are ``adw_logging``'s, written by ``writer`` through ``adw_sqlite``
without Pydantic or the models (imported only when history is on: ``runs`` imports this module).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from tac_bootstrap_cli.history.location import ORCHESTRATOR, db_path, warn_once

if TYPE_CHECKING:
    from tac_bootstrap_cli.history.writer import OpenRun
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
    """Records one command run (``writer.OpenRun``); a context manager."""

    def __init__(self, command: str, argv: list[str], *, dry_run: bool = False) -> None:
        self.command = command
        self.argv = argv
        self.answers: dict[str, Any] = {}
        self.summary = ""
        self.path = db_path()
        self._meta: dict[str, object] = {}
        self._run: OpenRun | None = None
        if self.path is None:  # TAC_BOOTSTRAP_DB=off: the user asked for no history, say nothing
            return
        if self.path.exists() and not os.access(self.path, os.W_OK):
            # SQLite would open it read-only and leave -wal/-shm files beside it it cannot remove.
            warn_once(f"run log disabled ({self.path}): the file is read-only; run not recorded")
            self.path = None
            return
        try:
            from tac_bootstrap_cli.history.writer import open_run
        except Exception as exc:  # a broken install (no schema file): the command still runs
            warn_once(f"run history disabled: {exc}")
            return
        # A failure prints one warning on stderr and turns the run into no-ops. The logs of a
        # sub-second command go in one transaction at its end.
        metadata = {"argv": argv, "dry_run": dry_run, "cwd": str(Path.cwd())}
        self._run = open_run(self.path, command, ORCHESTRATOR, metadata)

    @property
    def run_id(self) -> str | None:
        """The Agent id of this run, or None when history is off."""
        return self._run.agent_id if self._run is not None and self._run.healthy else None

    @property
    def active(self) -> bool:
        """True while the history database accepts writes."""
        return self._run is not None and self._run.healthy

    @contextmanager
    def step(self, name: str, **meta: object) -> Iterator[dict[str, object]]:
        """A step_start/step_end pair around the block; the yielded dict goes to the run's metadata."""
        result: dict[str, object] = {}
        run = self._run
        if run is None or not run.healthy:
            yield result
            return
        from tac_bootstrap_cli.history.writer import step_end

        run.log("step_start", name, meta)
        started = time.perf_counter()
        try:
            yield result
        except BaseException as exc:
            run.log("step_end", name, step_end(meta, started, exc))
            raise
        run.log("step_end", name, step_end(meta, started))
        if result:  # kept in the run's metadata: one write at the end, not one more log row
            self._meta[name] = dict(result)

    def file_action(self, fa: FileAction, *, written: bool) -> None:
        """An AgentLog ``event`` per file (path, action, bytes, reason)."""
        if self._run is not None:
            meta = {
                "path": fa.path,
                "action": fa.action.value,
                "bytes": fa.size if written else 0,
                "reason": fa.reason,
                "written": written,
            }
            self._run.log("event", f"{fa.action.value} {fa.path}", meta)

    def warning(self, message: str, **meta: object) -> None:
        """A ``warning`` SystemLog."""
        self._system_log("warning", message, meta)

    def error(self, message: str, **meta: object) -> None:
        """An ``error`` SystemLog."""
        self._system_log("error", message, meta)

    def note_answers(self, answers: Mapping[str, Any]) -> None:
        """Kept for the Prompt row written when the run ends."""
        self.answers = dict(answers)

    def set_metadata(self, **meta: object) -> None:
        """Merged into ``agents.metadata`` when the run ends (one write, not one per call)."""
        self._meta.update(meta)

    def set_summary(self, summary: str) -> None:
        """The Prompt's response."""
        self.summary = summary

    def _system_log(self, level: str, message: str, meta: Mapping[str, object]) -> None:
        """The row ``adw_logging.SystemLogHandler`` wrote for this record, through a logger of
        its own, ``tac_bootstrap.history.<id>`` (the caller: this method); a failure loses the
        record, not the run."""
        run = self._run
        if run is None or not run.healthy:
            return
        try:
            extra = f" {json.dumps(dict(meta), default=str)}" if meta else ""
        except Exception:  # a value json.dumps cannot hold even as text: the record is lost
            return
        where = {
            "logger": f"tac_bootstrap.history.{id(self)}",
            "module": __name__.rpartition(".")[2],
            "function": "_system_log",
            "line": sys._getframe().f_lineno,
            "process": os.getpid(),
            "thread": threading.current_thread().name,
        }
        run.system_log(level, f"{self.command}: {message}{extra}", ORCHESTRATOR, where)

    def __enter__(self) -> RunRecorder:
        """The recorder itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Write the logs, the Prompt row and the finished run (completed or failed) in one
        transaction (history off or broken: nothing to write)."""
        run = self._run
        if run is None or not run.healthy:
            return
        from tac_bootstrap_cli.history.writer import prompt_content, succeeded

        ok = succeeded(exc)
        if not ok:
            self.error(f"{type(exc).__name__}: {exc}", exit_code=getattr(exc, "exit_code", None))
            if not self.summary:
                self.summary = f"failed: {exc}"
        try:
            content = prompt_content(self.argv, self.answers)
        except Exception as failure:  # answers JSON cannot hold: one warning, as for any write
            run.fail(failure)
            return
        run.finish(None if ok else exc, content, self.summary, self._meta)
