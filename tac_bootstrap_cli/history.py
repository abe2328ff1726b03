"""The generator's own run history, kept with the ``adws`` base modules in a local SQLite file.

One OrchestratorAgent ``tac-bootstrap``; one Agent per command run (its name is the command); one
Prompt holding the command line and the answers, with a one-line summary as its response; an
AgentLog per step and per file action; SystemLogs for warnings and errors. History must never cost
the user their command: if the database cannot be opened or written, one warning, then no-ops.
A file that is not ours (``adw_sqlite.check_owner``) is never written; ``TAC_BOOTSTRAP_DB=off``
turns history off; ``runs`` only ever reads.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tac_bootstrap_cli._adws.adw_modules.adw_logging import AgentRun, SystemLogHandler
    from tac_bootstrap_cli.plan import FileAction

ORCHESTRATOR = "tac-bootstrap"
DB_ENV = "TAC_BOOTSTRAP_DB"
OFF = "off"  # TAC_BOOTSTRAP_DB=off: no history at all (a file named off: ./off)


def db_path() -> Path | None:
    """``$TAC_BOOTSTRAP_DB`` (None when it is ``off``), else ``history.db`` in the user state
    directory."""
    override = os.environ.get(DB_ENV)
    if override:
        if override.strip().lower() == OFF:
            return None
        return Path(override).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("tac-bootstrap", appauthor=False)) / "history.db"


class Recorder(Protocol):
    """What the scaffolding pipeline tells the history; every method must be cheap and safe."""

    def step(self, name: str, **meta: object) -> Any:
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
            _warn_once(f"run log disabled ({self.path}): the file is read-only; run not recorded")
            self.path = None
            return
        try:
            from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
        except ImportError as exc:  # a broken install: the command still runs
            _warn_once(f"run history disabled: {exc}")
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
        """Write the Prompt row, then finish the run as completed or failed."""
        ok = exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0))
        if exc is not None and not ok:
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


_warned = False


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        sys.stderr.write(f"tac-bootstrap: {message}\n")


# --- reading the history -----------------------------------------------------------------------


@dataclass
class RunSummary:
    """One run as the ``runs`` table shows it."""

    id: str
    command: str
    status: str
    started_at: str
    completed_at: str | None
    duration_s: float | None
    target: str
    files_changed: int | None
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return dict(vars(self))


@dataclass
class RunDetail:
    """One run with its prompt and logs (oldest first)."""

    run: RunSummary
    argv: list[str]
    prompt: dict[str, Any] | None
    logs: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            **self.run.as_dict(),
            "argv": self.argv,
            "prompt": self.prompt,
            "logs": self.logs,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(agent: Any) -> RunSummary:
    meta = agent.metadata or {}
    started = agent.started_at or agent.created_at
    duration = (
        (agent.completed_at - started).total_seconds()
        if agent.completed_at is not None and started is not None
        else None
    )
    files = meta.get("files_changed")
    return RunSummary(
        id=agent.id,
        command=agent.name or "?",
        status=agent.status,
        started_at=_iso(started) or "",
        completed_at=_iso(agent.completed_at),
        duration_s=round(duration, 3) if duration is not None else None,
        target=str(meta.get("target", "")),
        files_changed=files if isinstance(files, int) else None,
        dry_run=bool(meta.get("dry_run", False)),
    )


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that creates nothing beside the file: SQLite's ``mode=ro`` on a WAL
    database makes ``-wal``/``-shm`` files it cannot remove, so without a ``-wal`` (no writer has
    the file open) the file is read as immutable; with one, those files exist already."""
    uri = "file:" + path.as_posix().replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    if not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return sqlite3.connect(uri, uri=True, timeout=10)


@contextmanager
def _open(path: Path | None) -> Iterator[sqlite3.Connection | None]:
    """The history read-only (never created, migrated or switched to WAL); None when there is
    nothing to read. A file that cannot be read costs one warning, not the command."""
    from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import (
        SCHEMA_VERSION,
        DatabaseError,
        check_owner,
    )

    if path is None:
        _warn_once(f"run history is off ({DB_ENV}={OFF})")
        yield None
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        _warn_once(f"run history unreadable ({path}): {exc.strerror or exc}")
        yield None
        return
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        if not stat.S_ISREG(st.st_mode):
            _warn_once(f"run history unreadable ({path}): not a regular file")
        yield None
        return
    conn: sqlite3.Connection | None = None
    try:
        conn = _read_only(path)
        check_owner(conn, path)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"schema version {version} is newer than {SCHEMA_VERSION}; upgrade tac-bootstrap"
            )
    except (sqlite3.Error, DatabaseError) as exc:
        if conn is not None:
            conn.close()
        reason = " ".join(str(exc).split())
        if "not a database" in reason:
            reason = f"{path} is not a SQLite database"
        _warn_once(f"run history unreadable ({path}): {reason}")
        yield None
        return
    try:
        yield conn
    finally:
        conn.close()


def list_runs(limit: int = 20, path: Path | None = None) -> list[RunSummary]:
    """The most recent runs, newest first."""
    from tac_bootstrap_cli._adws.adw_modules.adw_database import (
        AgentRepository,
        OrchestratorAgentRepository,
    )

    with _open(path or db_path()) as conn:
        if conn is None:
            return []
        orch = OrchestratorAgentRepository(conn).list(name=ORCHESTRATOR, limit=1)
        if not orch:
            return []
        agents = AgentRepository(conn).list(limit=limit, orchestrator_agent_id=orch[0].id)
        return [_summary(a) for a in agents]


def show_run(run_id: str, path: Path | None = None) -> RunDetail:
    """One run (by id or unique id prefix) with its prompt and logs."""
    from tac_bootstrap_cli._adws.adw_modules.adw_database import (
        AgentLogRepository,
        AgentRepository,
        DatabaseError,
        OrchestratorAgentRepository,
        PromptRepository,
    )
    from tac_bootstrap_cli.errors import UsageError

    with _open(path or db_path()) as conn:
        if conn is None:
            raise UsageError(f"no run {run_id!r}: the history is empty")
        agent = _find_agent(conn, run_id, AgentRepository, OrchestratorAgentRepository)
        if agent is None:
            raise UsageError(f"no run {run_id!r}", hint="see tac-bootstrap runs")
        logs = AgentLogRepository(conn).list(limit=100_000, agent_id=agent.id)
        try:
            prompts = PromptRepository(conn).list(limit=1, agent_id=agent.id)
        except DatabaseError:  # an older schema (not migrated: runs only reads) lacks columns
            prompts = []
    prompt = None
    if prompts:
        p = prompts[0]
        prompt = {"content": p.content, "response": p.response, "status": p.status}
    meta = agent.metadata or {}
    argv = meta.get("argv")
    return RunDetail(
        run=_summary(agent),
        argv=[str(a) for a in argv] if isinstance(argv, list) else [],
        prompt=prompt,
        logs=[
            {
                "time": _iso(log.created_at),
                "type": log.log_type,
                "message": log.message,
                "metadata": log.metadata or {},
            }
            for log in reversed(logs)
        ],
    )


def _find_agent(conn: Any, run_id: str, agents_repo: Any, orch_repo: Any) -> Any:
    """The run whose id is ``run_id`` or starts with it (any unique prefix, even one character);
    None when no run matches; a UsageError when several do."""
    from tac_bootstrap_cli.errors import UsageError

    repo = agents_repo(conn)
    prefix = run_id.strip().lower()
    if not prefix:
        return None
    try:
        found = repo.get(prefix)
    except Exception:  # not a well-formed id: try it as a prefix below
        found = None
    if found is not None:
        return found
    orch = orch_repo(conn).list(name=ORCHESTRATOR, limit=1)
    if not orch:
        return None
    # substr, not LIKE: no character of the prefix is a wildcard.
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM agents WHERE orchestrator_agent_id = ? AND substr(id, 1, ?) = ?",
            (orch[0].id, len(prefix), prefix),
        )
    ]
    if len(ids) > 1:
        raise UsageError(
            f"run id prefix {run_id!r} is ambiguous ({len(ids)} runs); give more characters"
        )
    return repo.get(ids[0]) if ids else None
