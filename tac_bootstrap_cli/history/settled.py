"""A run recorded with plain ``sqlite3``: a command whose outcome was settled without the pipeline
(``render`` answered by its receipt), recorded without loading the models.

The rows are the ones ``RunRecorder`` writes for the same steps and events, made by the same
``writer`` functions (``tests/cli/test_receipts.py`` reads them back through the repositories,
which validate each row by its model, and compares them with a full run's). They go in one transaction, and only into
a database of ours already at the current schema: anything else (no database yet, an older schema,
a read-only or foreign file, a write that fails) returns False with nothing written, and the
caller runs the full command, which creates, migrates or reports the database as it always does.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tac_bootstrap_cli.history.location import ORCHESTRATOR, db_path


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
    from tac_bootstrap_cli.history.writer import orchestrator_id

    try:
        conn = adw_sqlite.connect(path)
    except (adw_sqlite.DatabaseError, sqlite3.Error, OSError):
        return False
    try:
        if adw_sqlite.schema_version(conn) != adw_sqlite.SCHEMA_VERSION:
            return False  # the full command migrates it
        parent = orchestrator_id(conn, ORCHESTRATOR)
        if parent is None:
            return False
        with adw_sqlite.atomic(conn):
            _insert(conn, parent, run)
    except (adw_sqlite.DatabaseError, sqlite3.Error, ValueError):
        return False  # rolled back: the full command records the run (or warns)
    finally:
        conn.close()
    return True


def _insert(conn: sqlite3.Connection, orchestrator_id: str, run: SettledRun) -> None:
    """The Agent, its logs and its Prompt, as ``RunRecorder`` leaves them at the end of a run."""
    from tac_bootstrap_cli.history import writer

    started, ended = writer.time_text(run.started), writer.now()
    meta = writer.metadata(
        {"argv": run.argv, "dry_run": False, "cwd": str(Path.cwd()), **run.metadata}
    )
    agent = writer.AgentRow(run.command, "completed", writer.json_text(meta), started, ended)
    agent_id = writer.insert_agent(conn, orchestrator_id, agent)
    step_end = {"duration_ms": round(run.step_ms, 3), "status": "completed"}
    logs = [
        writer.LogRow("step_start", run.step, None, started),
        writer.LogRow("step_end", run.step, writer.json_text(step_end), ended),
        *(
            writer.LogRow("event", m, writer.json_text(writer.metadata(e)), ended)
            for m, e in run.events
        ),
    ]
    writer.insert_logs(conn, agent_id, logs)
    content = writer.prompt_content(run.argv, run.answers)
    writer.insert_prompt(conn, agent_id, content, run.summary, "completed", ended)
