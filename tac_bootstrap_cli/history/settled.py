"""A run recorded with plain ``sqlite3``: a command whose outcome was settled without the pipeline
(``render`` answered by its receipt), recorded without loading the models.

The rows are the ones ``RunRecorder`` writes through ``adw_logging`` for the same steps and events
(``tests/cli/test_receipts.py`` reads them back through the repositories, which validate each
row by its model, and compares them with a full run's). They go in one transaction, and only into
a database of ours already at the current schema: anything else (no database yet, an older schema,
a read-only or foreign file, a write that fails) returns False with nothing written, and the
caller runs the full command, which creates, migrates or reports the database as it always does.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tac_bootstrap_cli.history.location import ORCHESTRATOR, db_path


def _time(moment: datetime) -> str:
    """The fixed-width UTC text the models store for a time."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _json(value: object) -> str | None:
    """Metadata as the repositories store it (compact, readable, no NaN); empty is NULL."""
    if not value:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclass
class SettledRun:
    """One completed command run: its one step, its events, its answers and outcome."""

    command: str
    argv: list[str]
    started: datetime
    step: str  # the one step the run took (its name)
    step_ms: float  # how long it took
    metadata: dict[str, object] = field(default_factory=dict)  # beyond argv, dry_run and cwd
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)  # message, metadata
    answers: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


def record_settled(run: SettledRun) -> bool:
    """Record ``run`` in the history; True when it is recorded, or history is off."""
    path = db_path()
    if path is None:  # TAC_BOOTSTRAP_DB=off: nothing to record
        return True
    if not path.is_file() or not os.access(path, os.W_OK):
        return False  # the full command creates it, or says why it cannot
    from tac_bootstrap_cli._adws.adw_modules import adw_sqlite

    try:
        conn = adw_sqlite.connect(path)
    except (adw_sqlite.DatabaseError, sqlite3.Error, OSError):
        return False
    try:
        if adw_sqlite.schema_version(conn) != adw_sqlite.SCHEMA_VERSION:
            return False  # the full command migrates it
        found = conn.execute(
            "SELECT id FROM orchestrator_agents WHERE name = ?", (ORCHESTRATOR,)
        ).fetchone()
        if found is None:
            return False
        with adw_sqlite.atomic(conn):
            _insert(conn, str(found[0]), run)
    except (adw_sqlite.DatabaseError, sqlite3.Error, ValueError):
        return False  # rolled back: the full command records the run (or warns)
    finally:
        conn.close()
    return True


def _insert(conn: sqlite3.Connection, orchestrator_id: str, run: SettledRun) -> None:
    """The Agent, its logs and its Prompt, as ``RunRecorder`` leaves them at the end of a run."""
    started, ended = _time(run.started), _time(datetime.now(UTC))
    agent_id = str(uuid.uuid4())
    metadata = {"argv": run.argv, "dry_run": False, "cwd": str(Path.cwd()), **run.metadata}
    conn.execute(
        "INSERT INTO agents (id, orchestrator_agent_id, session_id, name, model, status,"
        " created_at, started_at, completed_at, metadata)"
        " VALUES (?, ?, ?, ?, NULL, 'completed', ?, ?, ?, ?)",
        (agent_id, orchestrator_id, str(uuid.uuid4()), run.command, started, started, ended,
         _json(metadata)),
    )  # fmt: skip
    step_end = {"duration_ms": round(run.step_ms, 3), "status": "completed"}
    logs = [
        ("step_start", run.step, None, started),
        ("step_end", run.step, _json(step_end), ended),
        *(("event", message, _json(meta), ended) for message, meta in run.events),
    ]
    conn.executemany(
        "INSERT INTO agent_logs (id, agent_id, log_type, message, metadata, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(str(uuid.uuid4()), agent_id, *row) for row in logs],
    )
    content = json.dumps({"command_line": run.argv, "answers": run.answers}, ensure_ascii=False)
    conn.execute(
        "INSERT INTO prompts (id, agent_id, content, response, status, created_at, completed_at)"
        " VALUES (?, ?, ?, ?, 'completed', ?, ?)",
        (str(uuid.uuid4()), agent_id, content, run.summary, ended, ended),
    )
