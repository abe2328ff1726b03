"""One read-only connection to a run-log database, and the schema's SQL expressions the observatory's queries repeat."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import quote

# Relative: the package is tac_bootstrap_cli._adws.adw_modules here and adw_modules in a generated project.
from ..adw_sqlite import APPLICATION_ID, SCHEMA_VERSION, TABLES  # noqa: TID252

SESSION_AGENT: Final = "claude-session"


_META = "CASE WHEN json_valid({col}) THEN json_extract({col}, '$.{key}') END"


class ObserveError(Exception):
    """The database cannot be observed: missing, damaged, foreign or of another schema."""


def _meta(key: str, col: str = "a.metadata") -> str:
    """SQL for one metadata key; a row with invalid JSON reads as NULL instead of failing."""
    return _META.format(col=col, key=key)


# The run an Agent belongs to is its metadata's adw_id (an Agent without one is a run of its own).
# With an index on this expression a run's Agents are one index lookup; the schema has none yet,
# so finding them reads the agents table (~40,000 rows at 10,000 runs; see specs/observatory.md).
ADW_ID_SQL: Final = _meta("adw_id", "metadata")


RUN_INDEX_SQL: Final = f"CREATE INDEX idx_agents_adw_id ON agents ({ADW_ID_SQL}, created_at)"


_RUN_OF = f"coalesce({ADW_ID_SQL}, id)"


# The text of a prompt's first <task> block ('' when it is not closed), and which prompts have
# one: schema migration 5 indexes exactly these (TASK_INDEX_SQL, character for character), so a
# search reads that index (agent_id and the task text) instead of every prompt's content.
TASK_TEXT_SQL: Final = (
    "substr(content, instr(content, '<task>') + 6,"
    " max(instr(substr(content, instr(content, '<task>') + 6), '</task>') - 1, 0))"
)


TASK_WHERE_SQL: Final = "instr(content, '<task>') > 0"


TASK_INDEX_SQL: Final = (
    f"CREATE INDEX idx_prompts_task ON prompts (agent_id, {TASK_TEXT_SQL}) WHERE {TASK_WHERE_SQL}"
)


_RUN_LOOKUP_PLAN = f"EXPLAIN QUERY PLAN SELECT id FROM agents a WHERE {_meta('adw_id')} = ?"  # noqa: S608


def open_readonly(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open ``path`` read-only and check it is a run-log database of the supported schema."""
    if not path.exists():
        raise ObserveError(
            f"no database at {path}: nothing was recorded there yet"
            " (an ADW run or a Claude Code session with the layer's hooks creates it)"
        )
    if not path.is_file():
        raise ObserveError(f"{path} is not a regular file")
    uri = "file:" + quote(path.resolve().as_posix(), safe="/") + "?mode=ro"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=5, isolation_level=None, check_same_thread=check_same_thread
        )
    except sqlite3.Error as exc:
        raise ObserveError(f"cannot open {path}: {exc}") from None
    try:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        conn.close()
        raise ObserveError(f"{path} is not a readable SQLite database ({exc})") from None
    problem = None
    if app_id not in (0, APPLICATION_ID) or not tables.issuperset(TABLES):
        problem = f"{path} is not a tac-bootstrap run-log database"
    elif version > SCHEMA_VERSION:
        problem = (
            f"{path} has schema version {version}, newer than this tac-bootstrap reads"
            f" ({SCHEMA_VERSION}): upgrade tac-bootstrap"
        )
    elif version < SCHEMA_VERSION:
        problem = (
            f"{path} has the older schema version {version}: migrate it first"
            " (tac-bootstrap upgrade, or any ADW run)"
        )
    if problem:
        conn.close()
        raise ObserveError(problem)
    return conn


class Reader(Protocol):
    """What the queries use of a snapshot's connection: ``sqlite3.Connection`` on a local file,
    ``pgread.PgReader`` on a team server (which translates the SQL)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...


class Source(Protocol):
    """Where the store reads: ``SqliteSource`` or ``pgread.PgSource``."""

    dialect: str
    team: bool
    label: str

    def stamp(self) -> int: ...

    def snapshot(self) -> AbstractContextManager[Reader]: ...

    def close(self) -> None: ...


class SqliteSource:
    """A local run-log file as the store reads it: checked once, a fresh read-only connection
    per snapshot, and one kept open to watch ``PRAGMA data_version``."""

    dialect = "sqlite"
    team = False

    def __init__(self, path: Path) -> None:
        """Check the file (``ObserveError``) and keep the watching connection."""
        self.path, self.label = path, str(path)
        # data_version moves when any other connection commits (hooks and workflows write from
        # their own processes).
        self._watch = open_readonly(path, check_same_thread=False)
        self._watch_lock = threading.Lock()

    def stamp(self) -> int:
        """A number that changes whenever another connection commits to the file."""
        with self._watch_lock:
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A fresh read-only connection inside one read transaction (a consistent snapshot)."""
        conn = open_readonly(self.path)
        try:
            conn.execute("BEGIN")
            yield conn
        finally:
            conn.close()

    def close(self) -> None:
        """Close the watching connection."""
        with self._watch_lock:
            self._watch.close()


def epoch_seconds(text: str | None) -> float | None:
    """Seconds since the epoch of a stored timestamp (None stays None)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _json(text: str | None) -> dict[str, Any]:
    """A metadata column as a dict ({} when NULL or not a JSON object)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
