"""The backend seam of the orchestrator database: SQLite or PostgreSQL, picked by the connection.

``adw_sqlite`` (standard library only, shared with the Claude Code hooks) owns the SQLite
connection, the schema migrations and transactions; ``adw_postgres`` the same for a
``postgresql://`` URL (psycopg, imported only then). This module picks one: ``open_database(target)``
opens either; ``init_schema``, ``atomic``, ``schema_version``, ``database_file`` take either.
What the repositories (``adw_database``) do differently per backend is one ``_Dialect`` value:
the parameter mark, how times and JSON are passed and read back, and the error translation; the
SQL text and the results are the same. The JSON text written for metadata is defined here too.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from operator import methodcaller
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, overload

from . import adw_sqlite
from .adw_sqlite import DatabaseError, _error, connect

if TYPE_CHECKING:  # adw_postgres is imported when a PostgreSQL connection is used, not before
    from .adw_postgres import PgConnection

# ensure_ascii=False keeps text readable in the file; separators drop the padding spaces.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# format_timestamp as one C call: the fixed-width text (microseconds always) stored for a time.
_format_time: Callable[[datetime], str] = methodcaller("isoformat", timespec="microseconds")


def _encode_json(value: Any) -> str:
    return _JSON.encode(value)


def _fast_json_encoder() -> Callable[[Any], str]:
    """``_JSON.encode`` for bulk writes and the logging API, without its per-call set-up (half
    its cost on small metadata): the standard library's C encoder built once, with the same
    settings but no circular-reference check, so only for metadata just checked by the model's
    rule, which is a tree (a validated model's metadata mutated into a loop later raises
    ``RecursionError``; ``to_rows`` then falls back to ``to_row``, whose encoder names it).
    ``_JSON.encode`` itself where the C encoder is missing or does not give the same text."""
    try:
        c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # CPython's _json
        if c_make_encoder is None:
            return _JSON.encode
        make = c_make_encoder(
            None, _JSON.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
        )

        def encode(value: Any) -> str:
            return "".join(make(value, 0))

        sample = {"a": [1, 2.5, -0.0, 1e16, 'é\n"\\', None, True, {"b": -(2**70)}], "": {}}
        if encode(sample) == _JSON.encode(sample):
            return encode
    except Exception:  # another Python's json module: keep the documented encoder
        pass
    return _JSON.encode


_FAST_JSON = _fast_json_encoder()


# An open orchestrator database: a SQLite file (adw_sqlite.connect) or a PostgreSQL server.
Connection: TypeAlias = "sqlite3.Connection | PgConnection"


class Cursor(Protocol):
    """What the repositories read from a statement, the same on both backends."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> builtins.list[Any]: ...


# -- the backends ---------------------------------------------------------------------------------


POSTGRES_SCHEMES: Final = ("postgresql", "postgres")


def is_postgres_url(target: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL: the PostgreSQL backend's."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in POSTGRES_SCHEMES


def open_database(target: str | Path, *, check_same_thread: bool = True) -> Connection:
    """Open the orchestrator database ``target``: a ``postgresql://`` URL, else a SQLite path."""
    if is_postgres_url(target):
        from . import adw_postgres  # here, not at the top: SQLite users never load it

        return adw_postgres.connect(str(target))
    return connect(target, check_same_thread=check_same_thread)


def init_schema(conn: Connection) -> None:
    """Create or migrate the schema to ``SCHEMA_VERSION`` (either backend; idempotent)."""
    if isinstance(conn, sqlite3.Connection):
        adw_sqlite.init_schema(conn)
    else:
        from . import adw_postgres

        adw_postgres.init_schema(conn)


def schema_version(conn: Connection) -> int:
    """The schema version stored in the database (0 = empty)."""
    if isinstance(conn, sqlite3.Connection):
        return adw_sqlite.schema_version(conn)
    from . import adw_postgres

    return adw_postgres.schema_version(conn)


@overload
def atomic(conn: sqlite3.Connection) -> AbstractContextManager[sqlite3.Connection]: ...
@overload
def atomic(conn: PgConnection) -> AbstractContextManager[PgConnection]: ...
@overload
def atomic(conn: Connection) -> AbstractContextManager[Connection]: ...
def atomic(conn: Connection) -> AbstractContextManager[Connection]:
    """Run the block in one transaction (a savepoint when already inside one), on either backend."""
    if isinstance(conn, sqlite3.Connection):
        return adw_sqlite.atomic(conn)
    from . import adw_postgres

    return adw_postgres.atomic(conn)


def database_file(conn: Connection) -> str:
    """Where ``conn`` points, for messages: the SQLite file, or the URL without its password."""
    if isinstance(conn, sqlite3.Connection):
        return adw_sqlite.database_file(conn)
    return conn.url


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class _Dialect:
    """What the repositories do differently per backend; the SQL text is otherwise the same."""

    name: str
    mark: str  # the parameter placeholder
    errors: tuple[type[BaseException], ...]  # what is translated into DatabaseError
    error: Callable[[BaseException, str], DatabaseError]
    encode: Mapping[str, Callable[[Any], Any]]  # column kind -> value as bound
    decode: Mapping[str, Callable[[Any], Any]]  # column kind -> model value from the row
    uuid_columns: bool  # ids are a UUID type: text that is no UUID matches nothing


_SQLITE = _Dialect(
    name="sqlite",
    mark="?",
    errors=(sqlite3.Error, OverflowError, UnicodeEncodeError),
    error=_error,
    # Fixed-width text, so text order is time order; JSON as text.
    encode={"time": _format_time, "json": _encode_json},
    # fromisoformat gives datetime.UTC for "+00:00", which the models accept without work;
    # pydantic's own text parsing would need a tz conversion per timestamp.
    decode={"time": datetime.fromisoformat, "json": json.loads},
    uuid_columns=False,
)


@cache
def _postgres() -> _Dialect:
    """PostgreSQL's dialect (built on first use: it names psycopg's error class)."""
    from . import adw_postgres

    return _Dialect(
        name="postgres",
        mark="%s",
        errors=adw_postgres.errors(),
        error=adw_postgres.error,
        # TIMESTAMPTZ takes and gives aware datetimes (the session is UTC); JSONB takes the JSON
        # text and is read back as Python values; UUIDs are read as lower-case text.
        encode={"time": _same, "json": _encode_json},
        decode={},
        uuid_columns=True,
    )


def _dialect(conn: Connection) -> _Dialect:
    return _SQLITE if isinstance(conn, sqlite3.Connection) else _postgres()


__all__ = [
    "POSTGRES_SCHEMES",
    "Connection",
    "Cursor",
    "atomic",
    "database_file",
    "init_schema",
    "is_postgres_url",
    "open_database",
    "schema_version",
]
