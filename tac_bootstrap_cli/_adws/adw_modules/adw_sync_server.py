"""The sync's server side: a batch of the local change log written to the team's PostgreSQL.

``prepare_server`` runs the orchestrator schema and the sync's own migrations
(``schema/sync_postgres.sql``) under an advisory lock; ``ship`` writes one batch in one
transaction (``COPY`` into a staging table, then ``INSERT ... SELECT ... ON CONFLICT`` with each
table's rule), leaving out the rows the server refuses. psycopg is imported only inside the
functions (through ``adw_postgres``). The design is described in ``adw_sync``, which re-exports this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .adw_sqlite import APPLICATION_ID, SCHEMA_PATH, TABLES, DatabaseError
from .adw_sync_log import COLUMNS, Batch

if TYPE_CHECKING:
    from .adw_postgres import PgConnection

SYNC_SCHEMA_VERSION: Final = 3
SYNC_SCHEMA_PATH: Final = SCHEMA_PATH.with_name("sync_postgres.sql")
SYNC_VERSION_TABLE: Final = "sync_schema_version"
CONNECT_TIMEOUT_S: Final = 5
APPEND_ONLY: Final = frozenset({"agent_logs", "system_logs"})
_ORCHESTRATOR_ID = COLUMNS["agents"].index("orchestrator_agent_id")
_MIGRATION_MARK = re.compile(r"^-- sync migration (\d+):", re.MULTILINE)
# SQLSTATE classes of a row PostgreSQL cannot take (data exception, integrity constraint): such a
# row is skipped and reported; any other error (connection lost, ...) stops the sync, retried later.
_REFUSED_CLASSES: Final = ("22", "23")


class SyncError(DatabaseError):
    """The sync could not run (local file, server schema); nothing was marked as shipped."""


class ServerUnreachable(SyncError):
    """The PostgreSQL server could not be reached; the rows stay local for the next sync."""


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


def _connect_server(url: str) -> PgConnection:
    from . import adw_postgres

    try:
        return adw_postgres.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        raise ServerUnreachable(reason) from exc


__all__ = [
    "APPEND_ONLY",
    "SYNC_SCHEMA_VERSION",
    "Origin",
    "ServerUnreachable",
    "SyncError",
    "prepare_server",
    "ship",
]
