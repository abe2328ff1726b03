"""Reading the generator's history back (``tac-bootstrap runs``, ``runs show``): never written.

The file is opened read-only and never created, migrated or switched to WAL; a file that is not
ours, or cannot be read, costs one warning and reads as empty.

Rows are read with plain ``sqlite3`` in the columns of the shipped models
(``orch_database_models``; ``tests/cli/test_runs_columns.py`` holds the lists to them), without
importing the models: Pydantic and the persistence layer were half of what ``runs`` cost to
start. A row that does not decode (a time that is not ISO 8601, metadata that is not a JSON
object) is refused as the repositories refuse it, with ``DatabaseError``.
"""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tac_bootstrap_cli.errors import UsageError
from tac_bootstrap_cli.history.location import DB_ENV, OFF, ORCHESTRATOR, db_path, warn_once

# The columns read, in the models' field order (a test compares them with the models).
AGENT_COLUMNS = (
    "id",
    "orchestrator_agent_id",
    "session_id",
    "name",
    "model",
    "status",
    "created_at",
    "started_at",
    "completed_at",
    "metadata",
)
PROMPT_COLUMNS = (
    "id",
    "agent_id",
    "content",
    "response",
    "status",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_creation",
    "cost_usd",
    "num_turns",
    "duration_ms",
    "models",
    "created_at",
    "completed_at",
)
LOG_COLUMNS = ("id", "agent_id", "log_type", "message", "metadata", "created_at")
_TIMES = frozenset({"created_at", "started_at", "completed_at"})
_NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"


def _utc(text: str) -> datetime:
    """A stored time as the models make it: naive or zero-offset read as UTC, others converted."""
    value = datetime.fromisoformat(text)
    offset = value.utcoffset()
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if offset is None or not offset else value.astimezone(UTC)


def _decoded(table: str, columns: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    """A selected row as field values: times as UTC datetimes, metadata as a dict."""
    record = dict(zip(columns, row, strict=True))
    try:
        for name in _TIMES.intersection(columns):
            if record[name] is not None:
                record[name] = _utc(record[name])
        if record.get("metadata") is not None:
            record["metadata"] = json.loads(record["metadata"])
            if not isinstance(record["metadata"], dict):
                raise ValueError("metadata is not a JSON object")
    except (TypeError, ValueError, OverflowError) as exc:
        from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import DatabaseError

        raise DatabaseError(f"{table}: row {row[0]!r} is invalid: {exc}") from exc
    return record


def _select(
    conn: sqlite3.Connection,
    table: str,
    columns: tuple[str, ...],
    where: str,
    params: tuple[Any, ...],
) -> list[dict[str, Any]]:
    """Decoded rows of ``table`` (whitelisted names only) matching ``where``."""
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"  # noqa: S608 (our names)
    return [_decoded(table, columns, row) for row in conn.execute(sql, params)]


def _orchestrator_id(conn: sqlite3.Connection) -> str | None:
    """The id of the generator's orchestrator agent (the newest of that name), if any."""
    row = conn.execute(
        f"SELECT id FROM orchestrator_agents WHERE name = ? {_NEWEST_FIRST} LIMIT 1",  # noqa: S608
        (ORCHESTRATOR,),
    ).fetchone()
    return None if row is None else str(row[0])


def _get_agent(conn: sqlite3.Connection, agent_id: str) -> dict[str, Any] | None:
    found = _select(conn, "agents", AGENT_COLUMNS, "id = ?", (agent_id.lower(),))
    return found[0] if found else None


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


def _summary(agent: dict[str, Any]) -> RunSummary:
    meta = agent["metadata"] or {}
    started = agent["started_at"] or agent["created_at"]
    completed = agent["completed_at"]
    duration = (
        (completed - started).total_seconds()
        if completed is not None and started is not None
        else None
    )
    files = meta.get("files_changed")
    return RunSummary(
        id=agent["id"],
        command=agent["name"] or "?",
        status=agent["status"],
        started_at=_iso(started) or "",
        completed_at=_iso(completed),
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
        warn_once(f"run history is off ({DB_ENV}={OFF})")
        yield None
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        warn_once(f"run history unreadable ({path}): {exc.strerror or exc}")
        yield None
        return
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        if not stat.S_ISREG(st.st_mode):
            warn_once(f"run history unreadable ({path}): not a regular file")
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
        warn_once(f"run history unreadable ({path}): {reason}")
        yield None
        return
    try:
        yield conn
    finally:
        conn.close()


def list_runs(limit: int = 20, path: Path | None = None) -> list[RunSummary]:
    """The most recent runs, newest first."""
    with _open(path or db_path()) as conn:
        if conn is None:
            return []
        orch = _orchestrator_id(conn)
        if orch is None:
            return []
        agents = _select(
            conn,
            "agents",
            AGENT_COLUMNS,
            f"orchestrator_agent_id = ? {_NEWEST_FIRST} LIMIT ?",
            (orch, limit),
        )
        return [_summary(a) for a in agents]


def show_run(run_id: str, path: Path | None = None) -> RunDetail:
    """One run (by id or unique id prefix) with its prompt and logs."""
    with _open(path or db_path()) as conn:
        if conn is None:
            raise UsageError(f"no run {run_id!r}: the history is empty")
        agent = _find_agent(conn, run_id)
        if agent is None:
            raise UsageError(f"no run {run_id!r}", hint="see tac-bootstrap runs")
        logs = _select(
            conn,
            "agent_logs",
            LOG_COLUMNS,
            f"agent_id = ? {_NEWEST_FIRST} LIMIT 100000",
            (agent["id"],),
        )
        try:
            prompts = _select(
                conn,
                "prompts",
                PROMPT_COLUMNS,
                f"agent_id = ? {_NEWEST_FIRST} LIMIT 1",
                (agent["id"],),
            )
        except sqlite3.Error:  # an older schema (not migrated: runs only reads) lacks columns
            prompts = []
    prompt = None
    if prompts:
        p = prompts[0]
        prompt = {"content": p["content"], "response": p["response"], "status": p["status"]}
    meta = agent["metadata"] or {}
    argv = meta.get("argv")
    return RunDetail(
        run=_summary(agent),
        argv=[str(a) for a in argv] if isinstance(argv, list) else [],
        prompt=prompt,
        logs=[
            {
                "time": _iso(log["created_at"]),
                "type": log["log_type"],
                "message": log["message"],
                "metadata": log["metadata"] or {},
            }
            for log in reversed(logs)
        ],
    )


def _find_agent(conn: sqlite3.Connection, run_id: str) -> dict[str, Any] | None:
    """The run whose id is ``run_id`` or starts with it (any unique prefix, even one character);
    None when no run matches; a UsageError when several do."""
    prefix = run_id.strip().lower()
    if not prefix:
        return None
    try:
        found = _get_agent(conn, prefix)
    except Exception:  # a row that does not decode: try it as a prefix below
        found = None
    if found is not None:
        return found
    orch = _orchestrator_id(conn)
    if orch is None:
        return None
    # substr, not LIKE: no character of the prefix is a wildcard.
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM agents WHERE orchestrator_agent_id = ? AND substr(id, 1, ?) = ?",
            (orch, len(prefix), prefix),
        )
    ]
    if len(ids) > 1:
        raise UsageError(
            f"run id prefix {run_id!r} is ambiguous ({len(ids)} runs); give more characters"
        )
    return _get_agent(conn, ids[0]) if ids else None
