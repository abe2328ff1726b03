"""The observatory over a team's PostgreSQL server: read-only connections, snapshots, notices.

Imported only when the store is given a ``postgresql://`` URL: the SQLite view never loads this
module nor psycopg. Every session is ``default_transaction_read_only`` and every read a
``REPEATABLE READ READ ONLY`` transaction (one consistent snapshot, as SQLite's read transaction),
so the observatory can never write to the server. The queries are the SQLite ones translated
(``dialect.to_postgres``); rows come back as SQLite gives them: ids and JSON as text, timestamps
as the ISO text the local log stores (UTC, microseconds).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC
from functools import cache
from typing import Any, Final

from ..adw_postgres import VERSION_TABLE, connect, redact  # noqa: TID252
from ..adw_sqlite import SCHEMA_VERSION, TABLES, DatabaseError  # noqa: TID252
from .dialect import JsonList, to_postgres
from .readonly import ObserveError

# Connections kept open between requests (each request takes one for its snapshot).
IDLE_KEPT: Final = 4


# What moves when a sync ships a batch (the same transaction as the rows): the team view's
# change notice. A server written by other means: any write transaction's start or end.
_TEAM_STAMP: Final = (
    "SELECT count(*), coalesce(sum(last_seq), 0), max(last_sync_at) FROM sync_machines"
)


_ANY_STAMP: Final = "SELECT pg_current_snapshot()::text"


_TABLES_SQL: Final = (
    "SELECT c.relname FROM pg_class c WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)"
)


_MACHINE_SQL: Final = (
    "SELECT 1 FROM pg_attribute WHERE attrelid = 'agents'::regclass AND attname = 'machine'"
    " AND NOT attisdropped"
)


def is_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


@cache
def _psycopg_types() -> tuple[Any, type[Any], type[Any]]:
    """psycopg, its text loader, and a timestamptz loader giving the local log's text."""
    import psycopg
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.string import TextLoader

    class TimeText(TimestamptzLoader):
        """A timestamp as ``adw_database`` writes it to SQLite: ISO, UTC, microseconds."""

        def load(self, data: Any) -> str:  # type: ignore[override]
            value = super().load(data)
            return str(value.astimezone(UTC).isoformat(timespec="microseconds"))

    return psycopg, TextLoader, TimeText


def _bind(params: Sequence[Any] | Mapping[str, Any]) -> Any:
    """The parameters for psycopg: list parameters as lists (arrays)."""
    if isinstance(params, Mapping):
        return {k: v.values if isinstance(v, JsonList) else v for k, v in params.items()}
    return [v.values if isinstance(v, JsonList) else v for v in params]


class PgReader:
    """One snapshot's connection, as the store's queries use ``sqlite3.Connection``."""

    def __init__(self, raw: Any, team: bool) -> None:
        self.raw, self.team = raw, team

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """Run one of the observatory's queries (translated) with bound parameters."""
        return self.raw.execute(to_postgres(sql, self.team), _bind(params))


class PgSource:
    """A team server as the store reads it: checked once, then pooled read-only connections."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        """Connect and check the schema (``ObserveError`` naming the URL without its password)."""
        self.url, self.label = url, redact(url)
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._watch_lock = threading.Lock()
        self._watch = self._open()
        self.team = self._check(self._watch)

    def _open(self) -> Any:
        psycopg, text_loader, time_loader = _psycopg_types()
        try:
            raw = connect(self.url).raw
            for name in ("json", "jsonb"):
                raw.adapters.register_loader(name, text_loader)
            raw.adapters.register_loader("timestamptz", time_loader)
            raw.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except (DatabaseError, psycopg.Error) as exc:
            raise ObserveError(" ".join(str(exc).split())) from None
        return raw

    def _check(self, raw: Any) -> bool:
        """Refuse a server without the run log of this schema version; whether it is a team
        server (the sync's ``machine`` column and ``sync_machines``)."""
        names = {r[0] for r in raw.execute(_TABLES_SQL)}
        if not names.issuperset({*TABLES, VERSION_TABLE}):
            raise ObserveError(f"{self.label} holds no tac-bootstrap run log")
        row = raw.execute(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").fetchone()  # noqa: S608
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise ObserveError(
                f"{self.label} has schema version {version}, newer than this tac-bootstrap reads"
                f" ({SCHEMA_VERSION}): upgrade tac-bootstrap"
            )
        if version < SCHEMA_VERSION:
            raise ObserveError(
                f"{self.label} has the older schema version {version}: migrate it first"
                " (uv run adws/adw_sync.py)"
            )
        return "sync_machines" in names and raw.execute(_MACHINE_SQL).fetchone() is not None

    @contextmanager
    def snapshot(self) -> Iterator[PgReader]:
        """One read-only REPEATABLE READ transaction; a server error is an ``ObserveError``."""
        psycopg = _psycopg_types()[0]
        with self._lock:
            raw = self._idle.pop() if self._idle else None
        if raw is None:
            raw = self._open()
        try:
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield PgReader(raw, self.team)
        except psycopg.Error as exc:
            raise ObserveError(f"{self.label}: {' '.join(str(exc).split())}") from None
        finally:
            self._give_back(raw)

    def _give_back(self, raw: Any) -> None:
        try:
            raw.execute("ROLLBACK")
        except Exception:  # a broken connection is closed, never pooled
            raw.close()
            return
        with self._lock:
            if len(self._idle) < IDLE_KEPT:
                self._idle.append(raw)
                return
        raw.close()

    def stamp(self) -> int:
        """A number that changes whenever rows arrive (see ``_TEAM_STAMP``)."""
        psycopg = _psycopg_types()[0]
        with self._watch_lock:
            try:
                row = self._watch.execute(_TEAM_STAMP if self.team else _ANY_STAMP).fetchone()
            except psycopg.Error:
                self._watch.close()  # the server restarted, or the network moved: once more
                self._watch = self._open()
                row = self._watch.execute(_TEAM_STAMP if self.team else _ANY_STAMP).fetchone()
        return hash(tuple(row))

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()
        with self._watch_lock:
            self._watch.close()
