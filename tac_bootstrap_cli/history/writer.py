"""The history's rows with plain ``sqlite3`` through ``adw_sqlite`` (its connection, pragmas,
schema, transactions): the rows ``adw_logging`` writes, without Pydantic or the models (~50 ms of
every command). ``open_run``/``OpenRun`` are ``start_run(..., buffered=True)``/``AgentRun`` for
``RunRecorder``: the Agent ``running`` at the start, the logs kept for one transaction at the end
with the Prompt and the finished Agent, the system logs (``SystemLogHandler``'s rows) written as
they come; ``record_settled`` writes a whole run with the row functions. The conversions are
``adw_logging``'s and the models'; ``tests/cli/test_history_writer.py`` proves the rows equal.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Final, NamedTuple

from tac_bootstrap_cli._adws.adw_modules import adw_sqlite

_MAX_DEPTH: Final = 32
_PLAIN: Final = frozenset({str, int, bool, type(None)})
# The repositories' metadata encoding (adw_backend._JSON): compact, readable, no NaN.
_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def time_text(moment: datetime) -> str:
    """The fixed-width UTC text the models store for a time."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now() -> str:
    """The current time as stored (``utc_now`` of the models, formatted)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def json_text(value: object) -> str | None:
    """Metadata as the repositories store it; empty is NULL."""
    return _JSON.encode(value) if value else None


def jsonable(value: object, _depth: int = 0) -> Any:
    """``adw_logging.jsonable``: paths, enums, datetimes and sets become strings/lists and
    anything unknown its ``str()``, so a log call never fails on a value."""
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


def metadata(values: Mapping[str, object] | None) -> dict[str, Any] | None:
    """``adw_logging``'s metadata rule: None when empty, scalars as they are, else ``jsonable``."""
    if not values:
        return None
    if type(values) is dict and all(type(v) in _PLAIN for v in values.values()):
        return values
    return jsonable(values)  # type: ignore[no-any-return]


def succeeded(exc: BaseException | None) -> bool:
    """``adw_logging.succeeded``: no exception, or ``sys.exit(0)`` / ``sys.exit()``."""
    return exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0))


def step_end(
    meta: Mapping[str, object], started: float, exc: BaseException | None = None
) -> dict[str, object]:
    """A ``step_end``'s metadata (``AgentRun.step``): the step's own, duration, status, error."""
    ended: dict[str, object] = {
        **meta,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "status": "completed" if exc is None else "failed",
    }
    if exc is not None:
        ended["error"] = f"{type(exc).__name__}: {exc}"
    return ended


def prompt_content(argv: list[str], answers: Mapping[str, Any]) -> str:
    """The Prompt's content of a generator run: its command line and its answers."""
    return json.dumps({"command_line": argv, "answers": answers}, ensure_ascii=False)


class LogRow(NamedTuple):
    """One ``agent_logs`` row but its id and agent."""

    log_type: str  # step_start, step_end, event, error
    message: str
    metadata: str | None  # JSON text
    created_at: str


def log_row(log_type: str, message: object, meta: Mapping[str, object] | None) -> LogRow:
    """A log row made now (``AgentRun._log``)."""
    return LogRow(log_type, str(message), json_text(metadata(meta)), now())


def orchestrator_id(conn: sqlite3.Connection, name: str) -> str | None:
    """The id of the orchestrator agent called ``name``, if there is one."""
    found = conn.execute("SELECT id FROM orchestrator_agents WHERE name = ?", (name,)).fetchone()
    return None if found is None else str(found[0])


def insert_orchestrator(conn: sqlite3.Connection, name: str) -> str:
    """A new ``active`` orchestrator agent called ``name``; its id."""
    new, at = str(uuid.uuid4()), now()
    conn.execute(
        "INSERT INTO orchestrator_agents (id, name, description, status, metadata, created_at,"
        " updated_at) VALUES (?, ?, NULL, 'active', NULL, ?, ?)",
        (new, name, at, at),
    )
    return new


class AgentRow(NamedTuple):
    """One ``agents`` row but its id, orchestrator agent and session (a new one per run)."""

    name: str  # the command
    status: str  # running, completed, failed
    metadata: str | None  # JSON text
    started_at: str  # also its created_at
    completed_at: str | None = None


def insert_agent(conn: sqlite3.Connection, parent: str, row: AgentRow) -> str:
    """A run's Agent under the orchestrator agent ``parent``; its id."""
    agent_id = str(uuid.uuid4())
    name, status, meta, started, completed = row
    conn.execute(
        "INSERT INTO agents (id, orchestrator_agent_id, session_id, name, model, status,"
        " created_at, started_at, completed_at, metadata)"
        " VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
        (agent_id, parent, str(uuid.uuid4()), name, status, started, started, completed, meta),
    )
    return agent_id


def insert_logs(conn: sqlite3.Connection, agent_id: str, rows: Iterable[LogRow]) -> None:
    """The run's ``agent_logs`` rows."""
    conn.executemany(
        "INSERT INTO agent_logs (id, agent_id, log_type, message, metadata, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(str(uuid.uuid4()), agent_id, *row) for row in rows],
    )


def insert_prompt(
    conn: sqlite3.Connection, agent_id: str, content: str, response: str, status: str, at: str
) -> None:
    """The run's Prompt, finished at ``at`` (no tokens, cost, turns or models: no model ran)."""
    conn.execute(
        "INSERT INTO prompts (id, agent_id, content, response, status, tokens_input,"
        " tokens_output, tokens_cache_read, tokens_cache_creation, cost_usd, num_turns,"
        " duration_ms, models, created_at, completed_at)"
        " VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 0.0, 0, 0, NULL, ?, ?)",
        (str(uuid.uuid4()), agent_id, content, response, status, at, at),
    )


# -- a run written as it goes ----------------------------------------------------------------------


class OpenRun:
    """One ``running`` Agent: its logs buffered, its system logs written at once, finished by
    ``finish``. The first failure prints one warning and turns every later call into a no-op."""

    def __init__(self, path: Path, conn: sqlite3.Connection, agent_id: str, meta: dict[str, Any]):
        self.path = path
        self.agent_id = agent_id
        self._conn: sqlite3.Connection | None = conn
        self._meta = meta  # the Agent's metadata as written at the start
        self._logs: list[LogRow] = []
        self._lock = threading.Lock()

    @property
    def healthy(self) -> bool:
        """False once a write failed (or the run finished)."""
        return self._conn is not None

    def log(self, log_type: str, message: object, meta: Mapping[str, object] | None) -> None:
        """An ``agent_logs`` row made now, written at the end."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._logs.append(log_row(log_type, message, meta))
                except Exception as exc:
                    self.fail(exc)

    def system_log(self, level: str, message: str, source: str, meta: Mapping[str, object]) -> bool:
        """A ``system_logs`` row, written now; False (and nothing else) when it cannot be."""
        with self._lock:
            if self._conn is None:
                return False
            try:
                self._conn.execute(
                    "INSERT INTO system_logs (id, log_level, message, source, metadata,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (str(uuid.uuid4()), level, message, source, json_text(metadata(meta)), now()),
                )
            except Exception:  # one record lost; the run log reports a broken database
                return False
            return True

    def finish(
        self,
        failure: BaseException | None,
        content: str,
        response: str,
        meta: Mapping[str, object],
    ) -> None:
        """The logs, the Prompt and the Agent finished (``failed`` when ``failure`` is not None,
        with its ``error`` log) in one transaction; then the connection is closed."""
        with self._lock:
            conn = self._conn
            if conn is None:
                return
            try:
                status = "completed" if failure is None else "failed"
                prompted = now()
                if failure is not None:
                    self._logs.append(_error_row(failure))
                merged = {**self._meta, **(metadata(meta) or {})}
                with adw_sqlite.atomic(conn):
                    insert_logs(conn, self.agent_id, self._logs)
                    insert_prompt(conn, self.agent_id, content, response, status, prompted)
                    _finish_agent(conn, self.agent_id, status, json_text(merged))
            except Exception as exc:
                self.fail(exc)
            self._close()

    def fail(self, exc: Exception) -> None:
        """Give up on the run after one warning (it stays ``running``, as a killed one)."""
        _disabled(self.path, exc)
        self._close()

    def _close(self) -> None:
        self._logs = []
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with suppress(sqlite3.Error):
                conn.close()


def _error_row(exc: BaseException) -> LogRow:
    """The ``error`` log of a failed run (``AgentRun.__exit__``)."""
    import traceback

    trace = "".join(traceback.format_exception(exc))
    meta = {"exception": type(exc).__name__, "traceback": trace}
    return log_row("error", f"{type(exc).__name__}: {exc}", meta)


def _finish_agent(conn: sqlite3.Connection, agent_id: str, status: str, meta: str | None) -> None:
    cursor = conn.execute(
        "UPDATE agents SET status = ?, completed_at = ?, metadata = ? WHERE id = ?",
        (status, now(), meta, agent_id),
    )
    if cursor.rowcount != 1:
        raise adw_sqlite.DatabaseError(f"agents: the row of this run ({agent_id}) was deleted")


def _disabled(path: Path, exc: Exception) -> None:
    """A run's one warning, as ``adw_logging`` gives it: straight to stderr, which may be broken."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, always
    with suppress(Exception):
        sys.stderr.write(f"tac-bootstrap: run log disabled ({path}): {reason}\n")
        sys.stderr.flush()


def open_run(
    path: Path, name: str, orchestrator: str, meta: Mapping[str, object]
) -> OpenRun | None:
    """Open (creating or migrating) the database at ``path`` and write a ``running`` Agent
    called ``name`` under ``orchestrator``; None, after one warning, when it cannot be."""
    try:
        # check_same_thread=False: the run may be used from worker threads; its lock serialises.
        conn = adw_sqlite.connect(path, check_same_thread=False)
    except Exception as exc:
        _disabled(path, exc)
        return None
    started = metadata(meta) or {}
    try:
        adw_sqlite.init_schema(conn)
        text = json_text(started)
        with adw_sqlite.atomic(conn):
            parent = orchestrator_id(conn, orchestrator) or insert_orchestrator(conn, orchestrator)
            agent_id = insert_agent(conn, parent, AgentRow(name, "running", text, now()))
    except Exception as exc:
        with suppress(sqlite3.Error):
            conn.close()
        _disabled(path, exc)
        return None
    return OpenRun(path, conn, agent_id, started)
