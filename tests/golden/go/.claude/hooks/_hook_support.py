"""What every hook of this project shares: read the event, decide, record it, exit.

Claude Code runs each hook as ``uv run --script .claude/hooks/<event>.py`` with the event as JSON
on stdin. The contract kept here for all of them:

- exit 2 (reason on stderr) only when a hook really blocks; Claude Code feeds the reason to Claude;
- invalid JSON on stdin, a missing module or an unwritable database never blocks: one note on
  stderr, exit 0 (any other non-zero code would only show a hook error);
- every event becomes an AgentLog row of the Claude session's Agent in the project database
  (``config.yml`` ``database.path`` or ``$TAC_DB_PATH``), written through the same base modules
  as the workflows, with values that look like secrets redacted and long values truncated.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

# .claude/hooks/_hook_support.py -> the project root is two folders up.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ADWS_DIR = PROJECT_ROOT / "adws"
EXIT_OK = 0
EXIT_BLOCK = 2
SESSION_ORCHESTRATOR = "claude-code"
SESSION_AGENT_NAME = "claude-session"
# Fields that already have a column, or that only repeat the event name.
_NOT_METADATA = {"session_id", "hook_event_name"}
_SESSION_NAMESPACE = uuid.UUID("6f1c2a4e-2b1d-4c2e-9a8f-7d3b5e0c1a90")

Decide = Callable[[dict[str, Any]], "str | None"]


def note(message: str) -> None:
    """One line on stderr, prefixed so a user knows which hook said it."""
    print(f"tac hook: {message}", file=sys.stderr)


def read_event(stream: Any = None) -> dict[str, Any] | None:
    """The hook event from stdin, or None (with a note) when it is not a JSON object."""
    raw = (stream or sys.stdin).read()
    try:
        event = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        note(f"invalid JSON on stdin ({exc}); event ignored")
        return None
    if not isinstance(event, dict):
        note("hook input is not a JSON object; event ignored")
        return None
    return event


def _base_modules() -> Any:
    """Import the project's ADW modules (``adws/adw_modules``) on demand."""
    if str(ADWS_DIR) not in sys.path:
        sys.path.insert(0, str(ADWS_DIR))
    from adw_modules import adw_database, orch_database_models, utils

    return adw_database, orch_database_models, utils


def describe(event_name: str, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A short log message and the metadata for one event (redacted, truncated)."""
    _, _, utils = _base_modules()
    metadata: dict[str, Any] = {"hook_event": event_name}
    for key, value in event.items():
        if key in _NOT_METADATA:
            continue
        if value is None or isinstance(value, bool | int | float):
            metadata[key] = value
        else:
            metadata[key] = utils.summarize(value)
    detail = (
        event.get("tool_name")
        or event.get("source")
        or event.get("reason")
        or event.get("trigger")
    )
    message = f"{event_name}: {detail}" if detail else event_name
    command = (
        (event.get("tool_input") or {}).get("command")
        if isinstance(event.get("tool_input"), dict)
        else None
    )
    if isinstance(command, str):
        message += f" {utils.summarize(command, 200)}"
    return message, metadata


def _session_agent(db: Any, models: Any, conn: Any, session_id: str) -> str:
    """The Agent row of this Claude session, created on its first event; returns its id."""
    # The workflow that launched Claude passes its phase Agent: events land on that run.
    adw_agent = os.environ.get("ADW_AGENT_ID")
    agents = db.AgentRepository(conn)
    if adw_agent and agents.get(adw_agent) is not None:
        return adw_agent
    # One id per session, derived from the session id, so concurrent hooks agree without a lookup.
    agent_id = str(uuid.uuid5(_SESSION_NAMESPACE, session_id))
    if agents.get(agent_id) is None:
        orchestrator = db.OrchestratorAgentRepository(conn).get_or_create(
            SESSION_ORCHESTRATOR
        )
        agent = models.Agent(
            id=agent_id,
            orchestrator_agent_id=orchestrator.id,
            session_id=session_id,
            name=SESSION_AGENT_NAME,
            status="running",
            started_at=models.utc_now(),
            metadata={"cwd": os.getcwd()},
        )
        # Another hook of the same session may have created it first: same id, same row.
        with contextlib.suppress(db.ConstraintError):
            agents.create(agent)
    return agent_id


def record(
    event_name: str, event: dict[str, Any], extra: dict[str, Any] | None = None
) -> str | None:
    """Write the event as an AgentLog row; returns the Agent id, or None (with a note) on failure."""
    try:
        db, models, utils = _base_modules()
        message, metadata = describe(event_name, event)
        metadata.update(extra or {})
        conn = db.connect(utils.db_path(PROJECT_ROOT))
        try:
            db.init_schema(conn)
            session_id = str(event.get("session_id") or "unknown-session")
            agent_id = _session_agent(db, models, conn, session_id)
            db.AgentLogRepository(conn).create(
                models.AgentLog(
                    agent_id=agent_id,
                    log_type="event",
                    message=message,
                    metadata=metadata,
                )
            )
            if event_name == "SessionEnd":
                _finish_session(db, models, conn, agent_id)
        finally:
            conn.close()
        return agent_id
    except (
        Exception
    ) as exc:  # a log that cannot be written must never break Claude's work
        note(f"event not recorded ({type(exc).__name__}: {exc})")
        return None


def _finish_session(db: Any, models: Any, conn: Any, agent_id: str) -> None:
    agents = db.AgentRepository(conn)
    agent = agents.get(agent_id)
    if (
        agent is not None
        and agent.name == SESSION_AGENT_NAME
        and agent.status == "running"
    ):
        agents.update(
            agent.model_copy(
                update={"status": "completed", "completed_at": models.utc_now()}
            )
        )


def run(event_name: str, decide: Decide | None = None) -> NoReturn:
    """The whole life of a hook: read, decide (block or not), record, exit with the right code."""
    event = read_event()
    if event is None:
        sys.exit(EXIT_OK)
    reason = None
    # A Stop hook that blocked once makes Claude continue with stop_hook_active set; blocking
    # again would loop forever, so no decision is taken then.
    if decide is not None and not event.get("stop_hook_active"):
        try:
            reason = decide(event)
        except Exception as exc:  # a bug in a rule must not block every tool call
            note(
                f"{event_name} check failed ({type(exc).__name__}: {exc}); not blocking"
            )
    record(
        event_name, event, {"blocked": True, "block_reason": reason} if reason else None
    )
    if reason:
        print(reason, file=sys.stderr)
        sys.exit(EXIT_BLOCK)
    sys.exit(EXIT_OK)
