"""What every hook of this project shares: read the event, decide, record it, exit.

Claude Code runs each hook as ``/bin/sh "$CLAUDE_PROJECT_DIR"/.claude/hooks/run.sh <hook>``
with the event as JSON on stdin; ``run.sh`` starts ``<hook>.py`` with the system ``python3``
(else ``uv run --script``). Everything here is standard library only, so a hook costs one Python start
and a few milliseconds. The contract kept for all of them:

- exit 2 (reason on stderr) only when a hook really blocks; Claude Code feeds the reason to Claude;
- a hook that decides (the PreToolUse guard) fails closed: invalid JSON on stdin or a rule that
  raises blocks, with a reason saying what to do, and is recorded like any block;
- for every other hook, invalid JSON on stdin, a missing module or an unwritable database never
  blocks: one note on stderr, exit 0 (any other non-zero code would only show a hook error);
- every event becomes one AgentLog row of the Claude session's Agent in the project database
  (``$TAC_DB_PATH`` or ``config.yml`` ``database.path``), written in-process with ``sqlite3``
  through the project's ``adws/adw_modules/adw_sqlite.py`` (the same pragmas and migrations as the
  workflows) as the pydantic repositories would write it, values that look like secrets redacted
  and long values truncated (``adws/adw_modules/utils.py``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # only for annotations
    import sqlite3
    from collections.abc import Callable
    from types import ModuleType

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
# A hook waits at most this long for another writer (workflows write in short transactions);
# adw_sqlite's own 10 s would hold Claude up on a database someone left locked.
BUSY_TIMEOUT_MS = 1000
# The same JSON text as adw_database writes for metadata.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# `database:` then `  path: <simple value>`, as config.yml is written, is read without PyYAML
# (hooks are standard library only); anything fancier falls back to the default path, with a note.
# A comment needs a blank before its `#` (YAML reads `0/#` as the value `0/#`).
_DB_PATH = re.compile(
    r"path:[ \t]*(?:'([^'\n]*)'|\"([^\"\\\n]*)\"|([\w][\w./-]*))(?:[ \t]+#.*)?[ \t]*"
)
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}
_DATABASE_KEY = re.compile(r"""^(?:database|"database"|'database')[ \t]*:""", re.MULTILINE)


def note(message: str) -> None:
    """One line on stderr, prefixed so a user knows which hook said it."""
    print(f"tac hook: {message}", file=sys.stderr)


def read_event(stream: Any = None) -> dict[str, Any] | None:
    """The hook event from stdin, or None (with a note) when it is not a JSON object."""
    try:
        raw = (stream or sys.stdin).read()
        event = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        note(f"invalid JSON on stdin ({exc}); event ignored")
        return None
    if not isinstance(event, dict):
        note("hook input is not a JSON object; event ignored")
        return None
    return event


def _base_modules() -> tuple[ModuleType, ModuleType]:
    """Import the project's stdlib-only ADW modules (``adws/adw_modules``) on demand."""
    if str(ADWS_DIR) not in sys.path:
        sys.path.insert(0, str(ADWS_DIR))
    from adw_modules import adw_sqlite, utils

    return adw_sqlite, utils


def describe(event_name: str, event: dict[str, Any], utils: Any) -> tuple[str, dict[str, Any]]:
    """A short log message and the metadata for one event (redacted, truncated)."""
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


def _now() -> str:
    """The fixed-width UTC timestamp the models store (``...T..:..:..ffffff+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _session_agent(conn: sqlite3.Connection, session_id: str, now: str) -> tuple[str, bool]:
    """The Agent id for this event and whether it is the session's own Agent (created on the
    session's first event); the caller holds the write transaction."""
    # The workflow that launched Claude passes its phase Agent: events land on that run.
    adw_agent = os.environ.get("ADW_AGENT_ID", "").lower()
    if adw_agent and conn.execute("SELECT 1 FROM agents WHERE id = ?", (adw_agent,)).fetchone():
        return adw_agent, False
    # One id per session, derived from the session id, so concurrent hooks agree without a lookup.
    agent_id = str(uuid.uuid5(_SESSION_NAMESPACE, session_id))
    if conn.execute("SELECT 1 FROM agents WHERE id = ?", (agent_id,)).fetchone() is None:
        conn.execute(
            "INSERT INTO orchestrator_agents (id, name, description, status, metadata,"
            " created_at, updated_at) VALUES (?, ?, NULL, 'active', NULL, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (str(uuid.uuid4()), SESSION_ORCHESTRATOR, now, now),
        )
        (orchestrator_id,) = conn.execute(
            "SELECT id FROM orchestrator_agents WHERE name = ?", (SESSION_ORCHESTRATOR,)
        ).fetchone()
        conn.execute(
            "INSERT INTO agents (id, orchestrator_agent_id, session_id, name, model, status,"
            " created_at, started_at, completed_at, metadata)"
            " VALUES (?, ?, ?, ?, NULL, 'running', ?, ?, NULL, ?)",
            (
                agent_id,
                orchestrator_id,
                session_id,
                SESSION_AGENT_NAME,
                now,
                now,
                _JSON.encode({"cwd": os.getcwd()}),
            ),
        )
    return agent_id, True


def record(
    event_name: str, event: dict[str, Any], extra: dict[str, Any] | None = None
) -> str | None:
    """Write the event as an AgentLog row; returns the Agent id, or None (with a note) on failure."""
    try:
        sqlite, utils = _base_modules()
        message, metadata = describe(event_name, event, utils)
        metadata.update(extra or {})
        conn = sqlite.connect(database_path(utils))
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
            sqlite.init_schema(conn)
            session_id = str(event.get("session_id") or "unknown-session")
            now = _now()
            with sqlite.atomic(conn):
                agent_id, own = _session_agent(conn, session_id, now)
                conn.execute(
                    "INSERT INTO agent_logs (id, agent_id, log_type, message, metadata,"
                    " created_at) VALUES (?, ?, 'event', ?, ?, ?)",
                    (str(uuid.uuid4()), agent_id, message, _JSON.encode(metadata), now),
                )
                if event_name == "SessionEnd" and own:
                    conn.execute(
                        "UPDATE agents SET status = 'completed', completed_at = ?"
                        " WHERE id = ? AND name = ? AND status = 'running'",
                        (now, agent_id, SESSION_AGENT_NAME),
                    )
        finally:
            conn.close()
        return agent_id
    except Exception as exc:  # a log that cannot be written must never break Claude's work
        note(f"{event_name} event not recorded ({type(exc).__name__}: {exc})")
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
    """The run-log database: ``$TAC_DB_PATH``, else config.yml ``database.path``, else the default.

    config.yml is read without PyYAML. A ``database:`` section the plain reader cannot follow
    (flow style, anchors, escapes...) means the default path, with a note saying so: hooks stay
    standard library only, and ``tac-bootstrap`` itself writes the plain form."""
    value = utils.DEFAULT_DB_PATH
    if not os.environ.get("TAC_DB_PATH"):  # utils.db_path takes the override first
        try:
            text = (PROJECT_ROOT / utils.CONFIG_FILE).read_text(encoding="utf-8")
        except OSError:
            text = ""  # no config.yml: the defaults, as the workflows see it
        if _DATABASE_KEY.search(text):
            found = fast_db_setting(text)
            if found is None:
                note(
                    "config.yml database.path is not a plain `path: <file>` line (hooks read it"
                    f" without PyYAML); recording to {value}"
                )
            else:
                value = found
    return Path(utils.db_path(PROJECT_ROOT, {"database": {"path": value}}))


def run(event_name: str, decide: Decide | None = None) -> NoReturn:
    """The whole life of a hook: read, decide (block or not), record, exit with the right code.

    Hooks without a ``decide`` never exit with 2, so they can never block Claude
    (Stop/SubagentStop cannot keep it from stopping). A hook with one fails closed: an event it
    cannot read or a ``decide`` that raises blocks (a guard that lets through what it could not
    examine is no guard). The decision is taken before anything touches the database, so a
    broken database cannot change it."""
    event = read_event()
    if event is None:
        if decide is None:
            _exit(EXIT_OK)
        event = {}
        reason: str | None = (
            f"{event_name}: the hook input is not a JSON object, so nothing could be checked;"
            " blocking to be safe (is .claude/settings.json running the right command?)"
        )
    else:
        reason = None
    # A Stop hook that blocked once makes Claude continue with stop_hook_active set; blocking
    # again would loop forever, so no decision is taken then.
    if decide is not None and event and not event.get("stop_hook_active"):
        try:
            reason = decide(event)
        except Exception as exc:  # a guard that cannot decide must not let the call through
            reason = (
                f"{event_name} check failed ({type(exc).__name__}: {shown_error(exc)}); blocking"
                " to be safe: simplify the call or run it yourself"
            )
    record(event_name, event, {"blocked": True, "block_reason": reason} if reason else None)
    if reason:
        print(reason, file=sys.stderr)
        _exit(EXIT_BLOCK)
    _exit(EXIT_OK)


def shown_error(exc: BaseException, limit: int = 60) -> str:
    """An exception's message cut to ``limit`` characters (a block reason stays short)."""
    text = str(exc).replace("\0", "\\0")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _exit(code: int) -> NoReturn:
    """Exit at once: everything is written and closed, and tearing down the interpreter's
    modules would only add a few ms to every tool call."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
