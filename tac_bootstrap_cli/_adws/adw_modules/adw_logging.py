"""Run logging for workflow scripts and the generator: runs, steps, events, prompts, system logs.

``start_run`` records one run of a named agent; ``SystemLogHandler`` sends ``logging`` records to
the ``system_logs`` table. Logging must never break the work it observes: unless ``strict=True``,
the first failure (missing permissions, full disk, locked or foreign file, bad value) prints one
line on stderr and turns every later call into a no-op. The warning goes straight to stderr, not
through ``logging``, because a ``SystemLogHandler`` on the root logger would send it back into the
database that just failed.

One module (a reason for its length): the run recorder and the system-log handler are the two
doors of one fail-safe rule (``_FailSafe``: warn once, then no-ops) and one metadata conversion
(``jsonable``); apart, each would import the other's half of it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, TypedDict, TypeVar, Unpack

from .adw_database import (
    AgentLogRepository,
    AgentRepository,
    DatabaseError,
    OrchestratorAgentRepository,
    PromptRepository,
    SystemLogRepository,
    connect,
    database_file,
    init_schema,
)
from .orch_database_models import (
    Agent,
    AgentLog,
    LogLevel,
    LogType,
    Prompt,
    RunStatus,
    SystemLog,
    new_id,
    utc_now,
)

DEFAULT_ORCHESTRATOR: Final = "tac-bootstrap"
_MAX_DEPTH: Final = 32
_PLAIN: Final = frozenset({str, int, bool, type(None)})
_T = TypeVar("_T")


def jsonable(value: object, _depth: int = 0) -> Any:
    """``value`` made JSON-friendly for metadata: paths, enums, datetimes and sets become
    strings/lists and anything unknown its ``str()``, so a log call never fails on a value."""
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if _depth >= _MAX_DEPTH:
        return str(value)
    if isinstance(value, Enum):
        return jsonable(value.value, _depth + 1)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    if isinstance(value, Mapping):
        return {str(key): jsonable(item, _depth + 1) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item, _depth + 1) for item in value), key=repr)
    if isinstance(value, list | tuple):
        return [jsonable(item, _depth + 1) for item in value]
    return str(value)


def _metadata(values: Mapping[str, object] | None) -> dict[str, Any] | None:
    if not values:
        return None
    if type(values) is dict and all(type(v) in _PLAIN for v in values.values()):
        return values  # the usual case (kwargs of scalars): nothing to convert
    return jsonable(values)  # type: ignore[no-any-return]


class _FailSafe:
    """Strict/non-strict failure policy shared by runs and the handler: warn once, then off."""

    def __init__(self, what: str, target: str, strict: bool) -> None:
        self.what = what
        self.target = target
        self.strict = strict
        self.healthy = True

    def failed(self, exc: Exception) -> None:
        """Re-raise in strict mode; otherwise warn (first time only) and disable."""
        if self.strict:
            raise exc
        if self.healthy:
            self.healthy = False
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, always
            with suppress(Exception):  # a closed or broken stderr must not break the caller
                sys.stderr.write(f"tac-bootstrap: {self.what} disabled ({self.target}): {reason}\n")
                sys.stderr.flush()


class PromptOutcome(TypedDict, total=False):
    """What one prompt produced: the keyword arguments of ``AgentRun.prompt`` (all optional)."""

    response: str | None
    tokens_input: int
    tokens_output: int
    tokens_cache_read: int
    tokens_cache_creation: int
    cost_usd: float
    num_turns: int
    duration_ms: int
    models: str | Sequence[str] | None
    status: RunStatus
    metadata: Mapping[str, object] | None


_PROMPT_DEFAULTS: Final[PromptOutcome] = {
    "response": None,
    "tokens_input": 0,
    "tokens_output": 0,
    "tokens_cache_read": 0,
    "tokens_cache_creation": 0,
    "cost_usd": 0.0,
    "num_turns": 0,
    "duration_ms": 0,
    "models": None,
    "status": "completed",
    "metadata": None,
}


class RunOptions(TypedDict, total=False):
    """How ``start_run`` records a run: its keyword arguments (all optional)."""

    orchestrator: str  # default DEFAULT_ORCHESTRATOR
    session_id: str | None
    model: str | None
    metadata: Mapping[str, object] | None
    strict: bool
    buffered: bool


def _known_keywords(function: str, given: Mapping[str, object], allowed: frozenset[str]) -> None:
    """A misspelt keyword is a ``TypeError``, as it would be for a plain keyword parameter."""
    unknown = given.keys() - allowed
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {min(unknown)!r}")


class AgentRun:
    """One run of an agent: a row in ``agents`` plus its logs and prompts.

    Made by ``start_run``; a context manager that finishes the run as ``completed``, or as
    ``failed`` with an ``error`` log when the block raises. Safe to share between threads.
    """

    def __init__(
        self, db_path: str | Path, *, strict: bool = False, buffered: bool = False
    ) -> None:
        """An unopened run; use ``start_run`` instead."""
        self._safe = _FailSafe("run log", str(db_path), strict)
        self._db_path = db_path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._logs: AgentLogRepository | None = None
        self._agent: Agent | None = None
        self._buffer: list[AgentLog] | None = [] if buffered else None

    def _open(
        self,
        agent_name: str,
        orchestrator: str,
        session_id: str | None,
        model: str | None,
        metadata: Mapping[str, object] | None,
    ) -> None:
        try:
            # check_same_thread=False: the run may be used from worker threads; _lock serialises.
            conn = connect(self._db_path, check_same_thread=False)
        except Exception as exc:
            self._safe.failed(exc)
            return
        try:
            init_schema(conn)
            parent = OrchestratorAgentRepository(conn).get_or_create(orchestrator)
            now = utc_now()
            agent = Agent(
                orchestrator_agent_id=parent.id,
                session_id=session_id or new_id(),
                name=agent_name,
                model=model,
                status="running",
                created_at=now,
                started_at=now,
                metadata=_metadata(metadata),
            )
            AgentRepository(conn).create(agent)
        except Exception as exc:
            conn.close()
            self._safe.failed(exc)
            return
        self._conn, self._agent = conn, agent
        self._logs = AgentLogRepository(conn)

    @property
    def agent_id(self) -> str | None:
        """The ``agents.id`` of this run; ``None`` when the run log is disabled."""
        return self._agent.id if self._agent is not None and self._safe.healthy else None

    @property
    def healthy(self) -> bool:
        """False once a write failed in non-strict mode (later calls are no-ops)."""
        return self._safe.healthy

    def _write(self, action: Callable[[sqlite3.Connection, Agent], _T]) -> _T | None:
        """Run one write under the lock; failures go through the fail-safe policy."""
        with self._lock:
            if self._conn is None or self._agent is None or not self._safe.healthy:
                return None
            try:
                return action(self._conn, self._agent)
            except Exception as exc:
                self._safe.failed(exc)  # raises in strict mode; the run stays usable then
                self._close()
                return None

    def _log(self, log_type: LogType, message: str, metadata: Mapping[str, object] | None) -> None:
        if self._buffer is None:
            # One committed row per call: AgentLogRepository.append checks the fields by the
            # model's rules and writes the row without building a model (the hot path).
            with self._lock:
                logs, agent = self._logs, self._agent
                if logs is None or agent is None or not self._safe.healthy:
                    return
                try:
                    logs.append(agent.id, log_type, str(message), _metadata(metadata))
                except Exception as exc:
                    self._safe.failed(exc)  # raises in strict mode; the run stays usable then
                    self._close()
            return
        with self._lock:
            if self._agent is None or not self._safe.healthy:
                return
            try:  # built now: created_at is the time of the call, not of the flush
                self._buffer.append(
                    AgentLog(
                        agent_id=self._agent.id,
                        log_type=log_type,
                        message=str(message),
                        metadata=_metadata(metadata),
                    )
                )
            except Exception as exc:
                self._safe.failed(exc)
                self._close()

    def flush(self) -> int:
        """Write the buffered log rows (``buffered=True``) in one transaction; returns how many.

        ``finish`` flushes too. Without a buffer every row is already written and this returns 0.
        """
        with self._lock:
            if not self._buffer:
                return 0
            rows, self._buffer = self._buffer, []
        return self._write(lambda conn, _agent: AgentLogRepository(conn).create_many(rows)) or 0

    @contextmanager
    def step(self, name: str, /, **meta: object) -> Iterator[None]:
        """Log ``step_start``, run the block, log ``step_end`` with ``duration_ms`` and
        ``status`` (``failed`` plus the error if the block raised; the exception propagates)."""
        self._log("step_start", name, meta)
        started = time.perf_counter()
        try:
            yield
        except BaseException as exc:
            self._log("step_end", name, {**meta, **_ended(started, "failed", exc)})
            raise
        self._log("step_end", name, {**meta, **_ended(started, "completed")})

    def event(self, message: str, /, **meta: object) -> None:
        """Log an ``event``; keyword arguments become its metadata."""
        self._log("event", message, meta)

    def error(self, message: str, /, **meta: object) -> None:
        """Log an ``error``; keyword arguments become its metadata."""
        self._log("error", message, meta)

    def prompt(self, content: str, **outcome: Unpack[PromptOutcome]) -> Prompt | None:
        """Record a prompt and its outcome; ``None`` when the run log is disabled.

        ``tokens_input`` is the uncached input, the cache reads and writes are counted apart;
        ``models`` is a model id or a sequence of them (stored comma-separated, empty = unknown).
        The ``prompts`` table has no metadata column, so ``metadata`` is logged as an ``event``
        carrying the prompt's id.
        """
        _known_keywords("prompt", outcome, PromptOutcome.__optional_keys__)
        fields: dict[str, Any] = {**_PROMPT_DEFAULTS, **outcome}
        metadata = fields.pop("metadata")
        models = fields.pop("models")
        model_ids = models if models is None or isinstance(models, str) else ",".join(models)

        def write(conn: sqlite3.Connection, agent: Agent) -> Prompt:
            now = utc_now()
            record = Prompt(
                agent_id=agent.id,
                content=content,
                models=model_ids or None,
                created_at=now,
                completed_at=now if fields["status"] in ("completed", "failed") else None,
                **fields,
            )
            return PromptRepository(conn).create(record)

        record = self._write(write)
        if record is not None and metadata:
            self._log("event", "prompt metadata", {**metadata, "prompt_id": record.id})
        return record

    def set_metadata(self, **meta: object) -> None:
        """Merge ``meta`` into the run's metadata (``agents.metadata``)."""
        self._write(lambda conn, agent: self._update_agent(conn, agent, meta))

    def _update_agent(
        self,
        conn: sqlite3.Connection,
        agent: Agent,
        meta: Mapping[str, object],
        **fields: object,
    ) -> Agent:
        changes: dict[str, Any] = dict(fields)
        if meta:
            changes["metadata"] = {**(agent.metadata or {}), **(_metadata(meta) or {})}
        # model_validate of the merged dict validates the new values like any new record.
        stored = AgentRepository(conn).update(Agent.model_validate({**agent.__dict__, **changes}))
        if stored is None:
            raise DatabaseError(f"agents: the row of this run ({agent.id}) was deleted")
        self._agent = stored
        return stored

    def finish(self, status: Literal["completed", "failed"] = "completed", **meta: object) -> None:
        """End the run with ``status`` (and ``completed_at``); later calls do nothing."""
        if status not in ("completed", "failed"):
            raise ValueError(f"finish() takes 'completed' or 'failed', not {status!r}")
        self.flush()
        self._write(
            lambda conn, agent: self._update_agent(
                conn, agent, meta, status=status, completed_at=utc_now()
            )
        )
        with self._lock:
            self._close()

    def _close(self) -> None:
        self._logs = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with suppress(sqlite3.Error):  # cannot lose data: writes are committed, finish flushes
                conn.close()

    def __enter__(self) -> AgentRun:
        """The run itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Finish as ``completed``, or log the exception and finish as ``failed``."""
        if succeeded(exc):
            self.finish("completed")
            return
        self.error(
            f"{type(exc).__name__}: {exc}",
            exception=type(exc).__name__,
            traceback="".join(traceback.format_exception(exc)),
        )
        self.finish("failed")


def succeeded(exc: BaseException | None) -> bool:
    """Whether a block that ended with ``exc`` (None: no exception) succeeded; ``sys.exit(0)``
    and ``sys.exit()`` are successes (the one rule for every run recorder)."""
    return exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0))


def _ended(started: float, status: str, exc: BaseException | None = None) -> dict[str, object]:
    """The metadata a ``step_end`` adds: duration, status and, on failure, the error."""
    ended: dict[str, object] = {
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "status": status,
    }
    if exc is not None:
        ended["error"] = f"{type(exc).__name__}: {exc}"
    return ended


def start_run(db_path: str | Path, agent_name: str, **options: Unpack[RunOptions]) -> AgentRun:
    """Open (creating if needed) the database and record a ``running`` run of ``agent_name``.

    ``buffered=True`` keeps log rows (steps, events, errors) in memory until ``flush`` or the end
    of the run, then writes them in one transaction: for short runs, such as a CLI command, whose
    per-row commits would cost more than their work. A killed process loses the unflushed rows;
    the run itself stays ``running``.
    """
    _known_keywords("start_run", options, RunOptions.__optional_keys__)
    run = AgentRun(
        db_path, strict=options.get("strict", False), buffered=options.get("buffered", False)
    )
    run._open(
        agent_name,
        options.get("orchestrator", DEFAULT_ORCHESTRATOR),
        options.get("session_id"),
        options.get("model"),
        options.get("metadata"),
    )
    return run


_LEVELS: Final[tuple[tuple[int, LogLevel], ...]] = (
    (logging.CRITICAL, "critical"),
    (logging.ERROR, "error"),
    (logging.WARNING, "warning"),
    (logging.INFO, "info"),
)


def _level_name(levelno: int) -> LogLevel:
    """Map any numeric level (custom ones too) to the nearest standard level at or below it."""
    for threshold, name in _LEVELS:
        if levelno >= threshold:
            return name
    return "debug"


class SystemLogHandler(logging.Handler):
    """A ``logging.Handler`` that writes each record as a ``SystemLog`` row.

    Given a path it opens its own connection on the first record (and closes it in ``close``);
    given a connection it uses it as is, which then must allow use from the logging threads.
    """

    def __init__(
        self,
        db_path_or_conn: str | Path | sqlite3.Connection,
        source: str | None = None,
        *,
        strict: bool = False,
        level: int = logging.NOTSET,
    ) -> None:
        """``source`` names the origin in each row; ``None`` uses the logger's name."""
        super().__init__(level)
        self.source = source
        self._target = db_path_or_conn
        self._own_conn = not isinstance(db_path_or_conn, sqlite3.Connection)
        self._repo: SystemLogRepository | None = None
        if isinstance(db_path_or_conn, sqlite3.Connection):
            described = database_file(db_path_or_conn)
        else:
            described = str(db_path_or_conn)
        self._safe = _FailSafe("system log", described, strict)

    @property
    def healthy(self) -> bool:
        """False once a write failed in non-strict mode (later records are dropped)."""
        return self._safe.healthy

    def _repository(self) -> SystemLogRepository:
        if self._repo is None:
            target = self._target
            if isinstance(target, sqlite3.Connection):
                conn = target
            else:
                # The handler lock serialises emit(), which may run on any thread.
                conn = connect(target, check_same_thread=False)
            try:
                init_schema(conn)
            except Exception:
                if self._own_conn:
                    conn.close()
                raise
            self._repo = SystemLogRepository(conn)
        return self._repo

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record``; in non-strict mode a failure disables the handler after one warning."""
        if not self._safe.healthy:
            return
        try:
            message = self.format(record)
        except Exception:
            # A bad format string is the caller's bug in one record, not a broken database:
            # report it the standard logging way and keep the handler on.
            self.handleError(record)
            return
        meta = {
            "logger": record.name,
            "module": record.module,
            "function": record.funcName,
            "line": record.lineno,
            "process": record.process,
            "thread": record.threadName,
        }
        try:
            self._repository().create(
                SystemLog(
                    log_level=_level_name(record.levelno),
                    message=message,
                    source=self.source or record.name,
                    metadata=_metadata(meta),
                    created_at=datetime.fromtimestamp(record.created, UTC),
                )
            )
        except Exception as exc:
            self._safe.failed(exc)

    def close(self) -> None:
        """Close the handler's own connection (a connection passed in stays open)."""
        self.acquire()
        try:
            if self._repo is not None and self._own_conn:
                self._repo.conn.close()
            self._repo = None
        finally:
            self.release()
        super().close()


__all__ = [
    "DEFAULT_ORCHESTRATOR",
    "AgentRun",
    "SystemLogHandler",
    "jsonable",
    "start_run",
    "succeeded",
]
