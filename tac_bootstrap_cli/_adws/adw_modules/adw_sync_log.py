"""The sync's local change log: what changed in the local run log (a SQLite file) since the last sync.

On its first sync a file gets ``sync_state`` (the machine id, the high-water mark) and
``sync_changes`` (``seq``, table, row id), filled by ``AFTER INSERT`` / ``AFTER UPDATE`` triggers
on the five tables; ``read_batch`` reads the next changes and the rows they name in one snapshot,
``mark_shipped`` moves the mark once the server committed them. Standard library only; the design
is described in ``adw_sync``, which ships these batches (``adw_sync_server``) and re-exports this.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from . import adw_sqlite
from .adw_sqlite import TABLES
from .orch_database_models import Agent, AgentLog, OrchestratorAgent, Prompt, SystemLog

BATCH_ROWS: Final = 5000
# The columns shipped: the models' fields, as the repositories store them; TABLES is parents first.
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "orchestrator_agents": tuple(OrchestratorAgent.model_fields),
    "agents": tuple(Agent.model_fields),
    "prompts": tuple(Prompt.model_fields),
    "agent_logs": tuple(AgentLog.model_fields),
    "system_logs": tuple(SystemLog.model_fields),
}
_NO_LIMIT: Final = 2**63 - 1


@dataclass
class Batch:
    """Changes ``(after, high]`` of the local file and the rows they name, read in one snapshot
    whose newest change is ``version``."""

    after: int
    high: int
    version: int
    rows: dict[str, list[tuple[Any, ...]]]
    orchestrator_names: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def local_ddl() -> list[str]:
    """The sync's own tables and triggers in a local file (``IF NOT EXISTS``: idempotent)."""
    statements = [
        "CREATE TABLE IF NOT EXISTS sync_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " machine TEXT NOT NULL, mark INTEGER NOT NULL DEFAULT 0)",
        # seq: INTEGER PRIMARY KEY is max + 1 on insert; trimming always keeps the newest entry,
        # so the counter never goes back (no AUTOINCREMENT, which costs a write per change).
        "CREATE TABLE IF NOT EXISTS sync_changes (seq INTEGER PRIMARY KEY,"
        " tbl INTEGER NOT NULL, row_id TEXT NOT NULL)",
    ]
    for code, table in enumerate(TABLES):
        for event in ("INSERT", "UPDATE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS sync_{table}_{event.lower()} AFTER {event} ON"  # noqa: S608
                f" {table} BEGIN INSERT INTO sync_changes (tbl, row_id) VALUES ({code}, NEW.id);"
                " END"
            )
    return statements


def _local_state(conn: sqlite3.Connection) -> tuple[str, int] | None:
    try:
        row = conn.execute("SELECT machine, mark FROM sync_state WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # no such table: this file never synced
        return None
    return None if row is None else (str(row[0]), int(row[1]))


def prepare_local(conn: sqlite3.Connection) -> tuple[str, int]:
    """``(machine, mark)`` of the local file; on its first sync, add the change log and its
    triggers and enter every existing row, parents first, in one write transaction (no write can
    fall between the rows entered and the triggers)."""
    state = _local_state(conn)
    if state is not None:
        return state
    with adw_sqlite.atomic(conn):
        state = _local_state(conn)  # another sync may have done it while this one waited
        if state is not None:
            return state
        for statement in local_ddl():
            conn.execute(statement)
        for code, table in enumerate(TABLES):
            conn.execute(
                f"INSERT INTO sync_changes (tbl, row_id) SELECT {code}, id FROM {table}"  # noqa: S608
                " ORDER BY rowid"
            )
        machine = str(uuid.uuid4())
        conn.execute("INSERT INTO sync_state (id, machine, mark) VALUES (1, ?, 0)", (machine,))
    return machine, 0


def newest_change(conn: sqlite3.Connection) -> int:
    """The ``seq`` of the newest change of the local file (0: none)."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM sync_changes").fetchone()[0])


def read_batch(
    conn: sqlite3.Connection, after: int, limit: int = BATCH_ROWS, upto: int | None = None
) -> Batch | None:
    """The next ``limit`` changes after ``after`` (up to ``upto``, if given) and the current rows
    they name (one read transaction: a consistent snapshot); ``None`` when nothing changed."""
    conn.execute("BEGIN")  # deferred: a read snapshot, no lock on writers
    try:
        high, version = conn.execute(
            "SELECT (SELECT max(seq) FROM (SELECT seq FROM sync_changes WHERE seq > ?"
            " AND seq <= ? ORDER BY seq LIMIT ?)), (SELECT max(seq) FROM sync_changes)",
            (after, upto if upto is not None else _NO_LIMIT, limit),
        ).fetchone()
        if high is None:
            return None
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for code, table in enumerate(TABLES):
            found = conn.execute(
                f"SELECT {', '.join(COLUMNS[table])} FROM {table} WHERE id IN"  # noqa: S608
                " (SELECT row_id FROM sync_changes WHERE seq > ? AND seq <= ? AND tbl = ?)"
                # in the file's order: the server's rowids (which break ties of equal times, as
                # the local ones do, e.g. in the observatory) then follow it
                " ORDER BY rowid",
                (after, high, code),
            ).fetchall()
            if found:
                rows[table] = found
        names: dict[str, str] = {}
        if "agents" in rows:
            names = dict(conn.execute("SELECT id, name FROM orchestrator_agents").fetchall())
        return Batch(after, int(high), int(version), rows, names)
    finally:
        conn.execute("COMMIT")


def mark_shipped(conn: sqlite3.Connection, high: int) -> None:
    """Move the mark to ``high`` (never back) and drop the change entries before it (the newest
    stays, so the counter never restarts)."""
    with adw_sqlite.atomic(conn):
        conn.execute("UPDATE sync_state SET mark = max(mark, ?) WHERE id = 1", (high,))
        conn.execute(
            "DELETE FROM sync_changes WHERE seq < (SELECT mark FROM sync_state WHERE id = 1)"
        )


def machine_of(path: str | Path) -> str | None:
    """The machine id of a local file (None before its first sync); reads only."""
    conn = adw_sqlite.connect(path)
    try:
        state = _local_state(conn)
    finally:
        conn.close()
    return None if state is None else state[0]


def pending(path: str | Path) -> int:
    """How many change entries of the local file the server does not have yet."""
    conn = adw_sqlite.connect(path)
    try:
        state = _local_state(conn)
        if state is None:
            return int(sum(_count(conn, table) for table in TABLES))
        row = conn.execute("SELECT count(*) FROM sync_changes WHERE seq > ?", (state[1],))
        return int(row.fetchone()[0])
    finally:
        conn.close()


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


__all__ = [
    "BATCH_ROWS",
    "COLUMNS",
    "Batch",
    "local_ddl",
    "machine_of",
    "mark_shipped",
    "newest_change",
    "pending",
    "prepare_local",
    "read_batch",
]
