"""Ship the local run log (a SQLite file) to a shared PostgreSQL server: incremental, idempotent.

Hooks and workflows keep writing the local file (fast, offline-safe); ``sync(path, url)`` sends
what changed since the last sync. How:

- **What changed**: on its first run against a file, the sync adds two tables and ten triggers to
  it (``sync_state``, ``sync_changes``, ``AFTER INSERT`` / ``AFTER UPDATE`` on the five tables):
  every write appends ``(seq, table, row id)`` to ``sync_changes``, ``seq`` a counter that only
  grows. In the same transaction every row already there is entered once, parents first, so the
  first sync ships the whole history through the same path. Files that never sync never pay for
  the triggers. An Agent that finishes after it was shipped is a new change: it is shipped again.
- **The high-water mark** lives in the same local file (``sync_state.mark``: the last ``seq`` the
  server has). It advances only after the server committed the batch; a crash in between means
  the batch is sent again, which the upserts make harmless. Kept beside the counter it counts, a
  restored backup of the file takes both back together (a mark kept on the server would then skip
  rows the restored file numbers again).
- **Batches**: ``BATCH_ROWS`` changes at a time, read in one SQLite read transaction (a consistent
  snapshot, so every parent a row needs is in this batch or an earlier one), written in one
  PostgreSQL transaction: ``COPY`` into a temporary staging table, then ``INSERT ... SELECT ...
  ON CONFLICT (id)``: ``DO NOTHING`` for the append-only logs, ``DO UPDATE ... WHERE
  sync_seq < EXCLUDED.sync_seq`` for Agents and Prompts (the version of a row is the snapshot's
  newest ``seq``, so a late or repeated send never replaces a newer version).
- **Machines**: a machine is one local file; its id (a UUID made by its first sync, kept in
  ``sync_state``) is stored in the ``machine`` column of every row it ships and in
  ``sync_machines`` (host, file, last ``seq``, rows sent), columns the server schema's own
  migrations add (``schema/sync_postgres.sql``). Orchestrator agents are shared by name (every
  machine has an ``adw``): the first one shipped keeps its id, the others' Agents point to it.
- **Two syncs at once** of one machine take turns on a PostgreSQL advisory lock (the second waits
  ``LOCK_WAIT_S``, then leaves it to the first). Without the lock they are still correct: a row
  is keyed by its UUID (no duplicate), a version only replaces an older one, and the mark only
  moves past what the server committed (no loss); the lock only saves the double work.
- Rows PostgreSQL refuses (NUL characters are replaced by U+FFFD first; e.g. an id that is no
  UUID) are skipped and reported, so one bad row never stops the sync. Deletions are not shipped:
  the server keeps the team's history.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from . import adw_sqlite
from .adw_sqlite import APPLICATION_ID, SCHEMA_PATH, TABLES, DatabaseError
from .orch_database_models import Agent, AgentLog, OrchestratorAgent, Prompt, SystemLog

if TYPE_CHECKING:
    from .adw_postgres import PgConnection

SYNC_SCHEMA_VERSION: Final = 2
SYNC_SCHEMA_PATH: Final = SCHEMA_PATH.with_name("sync_postgres.sql")
SYNC_VERSION_TABLE: Final = "sync_schema_version"
BATCH_ROWS: Final = 5000
LOCK_WAIT_S: Final = 10.0
CONNECT_TIMEOUT_S: Final = 5
RUN_LOG_SYNC_TIMEOUT_S: Final = 300
# The columns shipped: the models' fields, as the repositories store them; TABLES is parents first.
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "orchestrator_agents": tuple(OrchestratorAgent.model_fields),
    "agents": tuple(Agent.model_fields),
    "prompts": tuple(Prompt.model_fields),
    "agent_logs": tuple(AgentLog.model_fields),
    "system_logs": tuple(SystemLog.model_fields),
}
APPEND_ONLY: Final = frozenset({"agent_logs", "system_logs"})
_ORCHESTRATOR_ID = COLUMNS["agents"].index("orchestrator_agent_id")
_NO_LIMIT: Final = 2**63 - 1
_MIGRATION_MARK = re.compile(r"^-- sync migration (\d+):", re.MULTILINE)
# Two int4 keys (this application, the machine): apart from init_schema's one bigint key.
_LOCK_SQL: Final = "SELECT pg_try_advisory_lock(%s, hashtext(%s))"
_UNLOCK_SQL: Final = "SELECT pg_advisory_unlock(%s, hashtext(%s))"
# SQLSTATE classes of a row PostgreSQL cannot take (data exception, integrity constraint): such a
# row is skipped and reported; any other error (connection lost, ...) stops the sync, retried later.
_REFUSED_CLASSES: Final = ("22", "23")


class SyncError(DatabaseError):
    """The sync could not run (local file, server schema); nothing was marked as shipped."""


class ServerUnreachable(SyncError):
    """The PostgreSQL server could not be reached; the rows stay local for the next sync."""


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


@dataclass
class SyncResult:
    """What one ``sync`` did."""

    machine: str
    shipped: int = 0
    batches: int = 0
    mark: int = 0
    refused: list[str] = field(default_factory=list)
    skipped: str = ""  # why nothing was done (another sync held the lock), else ""

    def summary(self, where: str) -> str:
        """One line for the user."""
        if self.skipped:
            return f"sync: {self.skipped}"
        text = f"sync: {self.shipped} row(s) shipped to {where} in {self.batches} batch(es)"
        if self.refused:
            text += f"; {len(self.refused)} refused by the server (first: {self.refused[0]})"
        return text


# -- the local side -------------------------------------------------------------------------------


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


# -- the server side ------------------------------------------------------------------------------


def _server_migrations(path: Path = SYNC_SCHEMA_PATH) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    marks = list(_MIGRATION_MARK.finditer(text))
    ends = [mark.start() for mark in marks[1:]] + [len(text)]
    steps = [(int(m.group(1)), text[m.start() : end]) for m, end in zip(marks, ends, strict=True)]
    if [v for v, _ in steps] != list(range(1, SYNC_SCHEMA_VERSION + 1)):
        raise RuntimeError(f"{path}: sync migrations do not run 1..{SYNC_SCHEMA_VERSION}")
    return steps


def _server_version(pg: PgConnection) -> int:
    exists = pg.execute("SELECT to_regclass(%s) IS NOT NULL", (SYNC_VERSION_TABLE,)).fetchone()
    if not (exists and exists[0]):
        return 0
    row = pg.execute(f"SELECT coalesce(max(version), 0) FROM {SYNC_VERSION_TABLE}").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def prepare_server(pg: PgConnection) -> None:
    """The orchestrator schema (``adw_postgres.init_schema``), then the sync's own migrations,
    each in a transaction, all under an advisory lock taken *before* the transaction starts (so
    its snapshot, catalog included, sees what a sync that held the lock before committed)."""
    from . import adw_postgres

    adw_postgres.init_schema(pg)
    if _server_version(pg) < SYNC_SCHEMA_VERSION:
        pg.execute("SELECT pg_advisory_lock(%s)", (APPLICATION_ID,))
        try:
            for version, script in _server_migrations():
                if _server_version(pg) >= version:
                    continue  # another sync migrated while this one waited
                with adw_postgres.atomic(pg):
                    pg.execute(
                        f"CREATE TABLE IF NOT EXISTS {SYNC_VERSION_TABLE} (version INTEGER"
                        " PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                    )
                    pg.execute(script)
                    pg.execute(
                        f"INSERT INTO {SYNC_VERSION_TABLE} (version) VALUES (%s)",  # noqa: S608
                        (version,),
                    )
        finally:
            adw_postgres.unlock(pg, APPLICATION_ID)
    if _server_version(pg) > SYNC_SCHEMA_VERSION:
        raise SyncError(
            f"{pg.url} has sync schema version {_server_version(pg)}, newer than"
            f" {SYNC_SCHEMA_VERSION}; upgrade tac-bootstrap to sync to it"
        )
    for table, columns in COLUMNS.items():  # per session; emptied at every commit
        pg.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS sync_stage_{table} ON COMMIT DELETE ROWS AS"  # noqa: S608
            f" SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
        )


def _upsert_sql(table: str) -> str:
    """``INSERT ... SELECT`` from the staging table, with this table's conflict rule."""
    columns = COLUMNS[table]
    names = ", ".join(columns)
    insert = (
        f"INSERT INTO {table} ({names}, machine, sync_seq)"  # noqa: S608
        f" SELECT {names}, %s::uuid, %s FROM sync_stage_{table}"
    )
    if table in APPEND_ONLY:
        return f"{insert} ON CONFLICT (id) DO NOTHING"
    if table == "orchestrator_agents":
        # Shared by name: DO NOTHING on either key; the newest description/status wins below.
        return f"{insert} ON CONFLICT DO NOTHING"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*columns[1:], "sync_seq"))
    return (
        f"{insert} ON CONFLICT (id) DO UPDATE SET {updates}"
        f" WHERE {table}.sync_seq IS NULL OR {table}.sync_seq < EXCLUDED.sync_seq"
    )


_ORCHESTRATOR_UPDATE: Final = (
    "UPDATE orchestrator_agents o SET description = s.description, status = s.status,"
    " metadata = s.metadata, updated_at = s.updated_at FROM sync_stage_orchestrator_agents s"
    " WHERE o.name = s.name AND o.updated_at < s.updated_at"
)


def _clean(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """``row`` with NUL characters (which PostgreSQL text cannot hold) replaced by U+FFFD."""
    if not any(type(v) is str and "\x00" in v for v in row):
        return row
    return tuple(v.replace("\x00", "\ufffd") if type(v) is str else v for v in row)


def _shared_orchestrators(
    pg: PgConnection, rows: list[tuple[Any, ...]], names: dict[str, str]
) -> list[tuple[Any, ...]]:
    """Agents pointing to the server's orchestrator agent of the same name (shared by name)."""
    wanted = {names[r[_ORCHESTRATOR_ID]] for r in rows if r[_ORCHESTRATOR_ID] in names}
    found = pg.execute(
        "SELECT name, id FROM orchestrator_agents WHERE name = ANY(%s)", (sorted(wanted),)
    ).fetchall()
    server = dict(found)
    remapped = []
    for row in rows:
        target = server.get(names.get(row[_ORCHESTRATOR_ID], ""))
        if target is not None and target != row[_ORCHESTRATOR_ID]:
            row = (*row[:_ORCHESTRATOR_ID], target, *row[_ORCHESTRATOR_ID + 1 :])
        remapped.append(row)
    return remapped


def _ship_table(
    pg: PgConnection, table: str, rows: list[tuple[Any, ...]], batch: Batch, machine: str
) -> None:
    if table == "agents":
        rows = _shared_orchestrators(pg, rows, batch.orchestrator_names)
    pg.copy_rows(f"sync_stage_{table}", COLUMNS[table], rows)
    pg.execute(_upsert_sql(table), (machine, batch.version))
    if table == "orchestrator_agents":
        pg.execute(_ORCHESTRATOR_UPDATE)
    pg.execute(f"TRUNCATE sync_stage_{table}")


@dataclass
class Origin:
    """Where a batch comes from: the machine id, its host name and local file (for people)."""

    machine: str
    hostname: str
    source: str


def _note_machine(pg: PgConnection, origin: Origin, batch: Batch, sent: int) -> None:
    pg.execute(
        "INSERT INTO sync_machines (machine, hostname, source, last_seq, rows_sent)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (machine) DO UPDATE SET"
        " hostname = EXCLUDED.hostname, source = EXCLUDED.source, last_sync_at = now(),"
        " last_seq = GREATEST(sync_machines.last_seq, EXCLUDED.last_seq),"
        " rows_sent = sync_machines.rows_sent + EXCLUDED.rows_sent",
        (origin.machine, origin.hostname, origin.source, batch.high, sent),
    )


def ship(pg: PgConnection, batch: Batch, origin: Origin) -> list[str]:
    """Write ``batch`` in one PostgreSQL transaction; returns the rows the server refused (then
    the batch is written again row by row, each in a savepoint, leaving those out)."""
    from . import adw_postgres

    psycopg = adw_postgres._psycopg()
    rows = {table: [_clean(r) for r in found] for table, found in batch.rows.items()}
    try:
        with adw_postgres.atomic(pg):
            for table in TABLES:
                if rows.get(table):
                    _ship_table(pg, table, rows[table], batch, origin.machine)
            _note_machine(pg, origin, batch, batch.count)
        return []
    except psycopg.Error as exc:
        if not _refused(exc):
            raise
    refused: list[str] = []
    with adw_postgres.atomic(pg):
        for table in TABLES:
            for row in rows.get(table, []):
                try:
                    with adw_postgres.atomic(pg):  # a savepoint per row
                        _ship_table(pg, table, [row], batch, origin.machine)
                except psycopg.Error as exc:
                    if not _refused(exc):
                        raise
                    refused.append(f"{table} {row[0]}: {str(exc).strip().splitlines()[0]}")
        _note_machine(pg, origin, batch, batch.count - len(refused))
    return refused


def _refused(exc: BaseException) -> bool:
    return str(getattr(exc, "sqlstate", "") or "")[:2] in _REFUSED_CLASSES


# -- one sync ---------------------------------------------------------------------------------------


def _connect_server(url: str) -> PgConnection:
    from . import adw_postgres

    try:
        return adw_postgres.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        raise ServerUnreachable(reason) from exc


def _lock(pg: PgConnection, machine: str, wait_s: float) -> bool:
    """Take this machine's advisory lock, waiting up to ``wait_s``; False when another sync of
    the same machine keeps it."""
    deadline = time.monotonic() + wait_s
    while True:
        row = pg.execute(_LOCK_SQL, (APPLICATION_ID, machine)).fetchone()
        if row and row[0]:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


OnBatch = Callable[[Batch], None]


@dataclass
class Syncer:
    """Syncs one local file to one server, keeping both connections between runs (``--watch``).

    ``on_batch`` is called after the server committed a batch and before the local mark moves:
    a crash there (what the tests provoke) makes the next sync send the batch again."""

    path: Path
    url: str
    batch_rows: int = BATCH_ROWS
    lock: bool = True
    lock_wait_s: float = LOCK_WAIT_S
    on_batch: OnBatch | None = None
    _local: sqlite3.Connection | None = None
    _pg: PgConnection | None = None

    def _open(self) -> tuple[sqlite3.Connection, PgConnection]:
        if self._local is None:
            self._local = adw_sqlite.connect(self.path)
            adw_sqlite.init_schema(self._local)
        if self._pg is None:
            pg = _connect_server(self.url)
            try:
                prepare_server(pg)
            except BaseException:
                pg.close()
                raise
            self._pg = pg
        return self._local, self._pg

    def run(self) -> SyncResult:
        """Ship every change made before this run began; a server error drops the connection (the
        next run reconnects) and leaves the mark where the last committed batch put it."""
        try:
            return self._run()
        except BaseException:
            self._drop_server()
            raise

    def _run(self) -> SyncResult:
        local, pg = self._open()
        machine, mark = prepare_local(local)
        result = SyncResult(machine=machine, mark=mark)
        if self.lock and not _lock(pg, machine, self.lock_wait_s):
            result.skipped = (
                "another sync of this file held its lock; the next sync ships what it leaves"
            )
            return result
        origin = Origin(machine, socket.gethostname(), str(self.path.resolve()))
        # Bounded: the changes made before this run began (a writer faster than the server
        # would otherwise keep it running); later ones are the next run's.
        upto = newest_change(local)
        try:
            while (batch := read_batch(local, result.mark, self.batch_rows, upto)) is not None:
                result.refused += ship(pg, batch, origin)
                if self.on_batch is not None:
                    self.on_batch(batch)
                mark_shipped(local, batch.high)
                result.mark = batch.high
                result.batches += 1
                result.shipped += batch.count
        finally:
            if self.lock:
                self._unlock(pg, machine)
        return result

    def _unlock(self, pg: PgConnection, machine: str) -> None:
        """Release the lock; on a broken connection drop it instead (the server then releases
        the lock itself), never hiding the error that broke it."""
        try:
            pg.execute(_UNLOCK_SQL, (APPLICATION_ID, machine))
        except Exception:
            self._drop_server()

    def _drop_server(self) -> None:
        if self._pg is not None:
            try:
                self._pg.close()
            finally:
                self._pg = None

    def close(self) -> None:
        """Close both connections."""
        self._drop_server()
        if self._local is not None:
            self._local.close()
            self._local = None


def sync(path: str | Path, url: str, **options: Any) -> SyncResult:
    """Ship the changes of the local file ``path`` to ``url`` once (options: ``Syncer``'s)."""
    syncer = Syncer(Path(path), url, **options)
    try:
        return syncer.run()
    finally:
        syncer.close()


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


# -- at the end of a workflow ------------------------------------------------------------------------


def _sync_command(script: Path) -> list[str] | None:
    """How to run ``adws/adw_sync.py``: with this interpreter when it has psycopg, else through
    ``uv run`` (which installs the script's own dependencies); None when neither can."""
    if importlib.util.find_spec("psycopg") is not None:
        return [sys.executable, str(script)]
    uv = shutil.which("uv")
    return [uv, "run", "--quiet", str(script)] if uv else None


def sync_run_log(root: Path, config: dict[str, Any]) -> None:
    """Ship the run log to the team's server when one is configured (``TAC_DB_URL`` or
    ``database.url``): ``adws/adw_sync.py`` in a process of its own (psycopg is its dependency,
    not the workflows'), its one line repeated on stderr. Never raises: an unreachable server, a
    missing script, a timeout are a line on stderr and the workflow's outcome stays its own."""
    from .utils import db_url

    try:
        url = db_url(root, config)
    except ValueError as exc:
        print(f"warning: run log not synced: {exc}", file=sys.stderr, flush=True)
        return
    if not url:
        return
    script = root / "adws" / "adw_sync.py"
    command = _sync_command(script) if script.is_file() else None
    if command is None:
        why = "neither psycopg nor uv found" if script.is_file() else f"{script} is missing"
        print(f"warning: run log not synced: {why}", file=sys.stderr, flush=True)
        return
    try:
        proc = subprocess.run(
            command,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=RUN_LOG_SYNC_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"warning: run log not synced: {exc}", file=sys.stderr, flush=True)
        return
    output = (proc.stdout + proc.stderr).strip()
    if output:
        print(output, file=sys.stderr, flush=True)


__all__ = [
    "APPEND_ONLY",
    "BATCH_ROWS",
    "COLUMNS",
    "SYNC_SCHEMA_VERSION",
    "Batch",
    "Origin",
    "ServerUnreachable",
    "SyncError",
    "SyncResult",
    "Syncer",
    "local_ddl",
    "machine_of",
    "mark_shipped",
    "newest_change",
    "pending",
    "prepare_local",
    "prepare_server",
    "read_batch",
    "ship",
    "sync",
    "sync_run_log",
]
