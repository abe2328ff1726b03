"""What every hook of this project shares: read the event, decide, record it, exit.

Claude Code runs each hook as ``uv run --script .claude/hooks/<event>.py`` with the event as JSON
on stdin; the PreToolUse guard runs with the system ``python3`` instead (its rules need only the
standard library, so they work even when uv cannot start) and hands the event to
``uv run --script <hook> --record`` for the database. The contract kept here for all of them:

- exit 2 (reason on stderr) only when a hook really blocks; Claude Code feeds the reason to Claude;
- invalid JSON on stdin, a missing module or an unwritable database never blocks: one note on
  stderr, exit 0 (any other non-zero code would only show a hook error);
- every event becomes an AgentLog row of the Claude session's Agent in the project database
  (``config.yml`` ``database.path`` or ``$TAC_DB_PATH``), written through the same base modules
  as the workflows, with values that look like secrets redacted and long values truncated.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # only for annotations: this module must import on any Python 3
    from collections.abc import Callable

    Decide = Callable[[dict[str, Any]], "str | None"]

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
# `<hook>.py --record`: the event (and the decision) arrive as JSON on stdin, only to be recorded.
RECORD_FLAG = "--record"
# Under the hook's 60 s timeout; the very first run of uv may resolve pydantic first.
RECORD_TIMEOUT_S = 45
MIN_PYTHON = (3, 11)
# `database:` then `  path: <simple value>`, as config.yml is written, is read without PyYAML
# (~60 ms of imports per hook); anything fancier goes through the YAML parser.
_DB_PATH = re.compile(r"path:[ \t]*(?:'([^'\n]*)'|\"([^\"\\\n]*)\"|([\w][\w./-]*))[ \t]*(?:#.*)?")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}


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
        event.get("tool_name") or event.get("source") or event.get("reason") or event.get("trigger")
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
        orchestrator = db.OrchestratorAgentRepository(conn).get_or_create(SESSION_ORCHESTRATOR)
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
        conn = db.connect(database_path(utils))
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
    except Exception as exc:  # a log that cannot be written must never break Claude's work
        note(f"event not recorded ({type(exc).__name__}: {exc})")
        return None


def fast_db_setting(text: str) -> str | None:
    """``database.path`` of a plainly written config.yml, or None when YAML must decide."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if re.fullmatch(r"database:[ \t]*(#.*)?", line)]
    if len(starts) != 1:
        return None
    found: list[str] = []
    indent = None
    for line in lines[starts[0] + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            break  # the next top-level key
        body = line.lstrip(" ")
        depth = len(line) - len(body)
        indent = depth if indent is None else indent
        if depth != indent or "\t" in line[:depth]:
            if depth < indent or "\t" in line[:depth]:
                return None  # odd indentation: let YAML read it
            continue  # a nested mapping below a sibling key
        if body.startswith("path:"):
            match = _DB_PATH.fullmatch(body)
            if match is None:
                return None
            single, double, plain = match.groups()
            if plain and (
                plain.lower() in _YAML_WORDS or not re.search(r"[/.]", plain) or _is_number(plain)
            ):
                return None  # YAML reads a null, a bool or a number here
            found.append(single if single is not None else double if double is not None else plain)
    return found[0] if len(found) == 1 else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def database_path(utils: Any) -> Path:
    """The run-log database, as ``utils.db_path`` finds it, without PyYAML when it can."""
    if not os.environ.get("TAC_DB_PATH"):
        try:
            text = (PROJECT_ROOT / utils.CONFIG_FILE).read_text(encoding="utf-8")
        except OSError:
            text = None
        value = fast_db_setting(text) if text is not None else None
        if value is not None:
            return utils.db_path(PROJECT_ROOT, {"database": {"path": value}})
    return utils.db_path(PROJECT_ROOT)


def can_record_here() -> bool:
    """True when this interpreter has the base modules' dependencies (the uv script env has)."""
    return all(importlib.util.find_spec(name) is not None for name in ("pydantic", "yaml"))


def record_with_uv(event_name: str, event: dict[str, Any], extra: dict[str, Any] | None) -> None:
    """Record through ``uv run --script <this hook> --record``; a failure is only a note."""
    uv = shutil.which("uv")
    if uv is None:
        note(f"{event_name} event not recorded (uv not found: https://docs.astral.sh/uv/)")
        return
    script = str(Path(sys.argv[0]).resolve())
    try:
        proc = subprocess.run(
            [uv, "run", "--quiet", "--script", script, RECORD_FLAG],
            input=json.dumps({"event": event, "extra": extra}),
            stdout=subprocess.DEVNULL,  # hook stdout can mean something to Claude Code
            text=True,
            timeout=RECORD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        note(f"{event_name} event not recorded ({type(exc).__name__}: {exc})")
        return
    if proc.returncode != 0:
        note(f"{event_name} event not recorded (uv exited {proc.returncode})")


def relaunch_with_uv(script: str, event_name: str) -> NoReturn:
    """Run ``script`` under uv's Python (this one is older than MIN_PYTHON); block without uv."""
    uv = shutil.which("uv")
    if uv is None:
        print(
            f"tac-bootstrap hook: {event_name} needs Python >= "
            f"{'.'.join(map(str, MIN_PYTHON))} or uv (https://docs.astral.sh/uv/); blocking",
            file=sys.stderr,
        )
        sys.exit(EXIT_BLOCK)
    os.execv(uv, [uv, "run", "--quiet", "--script", script])


def _finish_session(db: Any, models: Any, conn: Any, agent_id: str) -> None:
    agents = db.AgentRepository(conn)
    agent = agents.get(agent_id)
    if agent is not None and agent.name == SESSION_AGENT_NAME and agent.status == "running":
        agents.update(
            agent.model_copy(update={"status": "completed", "completed_at": models.utc_now()})
        )


def run(event_name: str, decide: Decide | None = None) -> NoReturn:
    """The whole life of a hook: read, decide (block or not), record, exit with the right code.

    Never exits with 2 unless ``decide`` returned a reason, so hooks without a ``decide`` can
    never block Claude (Stop/SubagentStop cannot keep it from stopping)."""
    if RECORD_FLAG in sys.argv[1:]:
        payload = read_event()
        if payload is not None and isinstance(payload.get("event"), dict):
            extra = payload.get("extra")
            record(event_name, payload["event"], extra if isinstance(extra, dict) else None)
        sys.exit(EXIT_OK)
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
            note(f"{event_name} check failed ({type(exc).__name__}: {exc}); not blocking")
    extra = {"blocked": True, "block_reason": reason} if reason else None
    if can_record_here():
        record(event_name, event, extra)
    else:  # the stdlib-only guard under the system python3
        record_with_uv(event_name, event, extra)
    if reason:
        print(reason, file=sys.stderr)
        sys.exit(EXIT_BLOCK)
    sys.exit(EXIT_OK)
