"""The orchestrator database on PostgreSQL (psycopg 3): connection, schema, transactions, errors.

The counterpart of ``adw_sqlite`` for a ``postgresql://`` URL; ``adw_database`` picks one by the
connection it is given, so the repositories and models are the same on both. psycopg is imported
only when a PostgreSQL connection is opened: a project that never configures a URL never needs it.

- ``connect(url)`` -> ``PgConnection`` (autocommit, session time zone UTC, uuid read as text);
- ``init_schema(conn)`` brings a database to ``SCHEMA_VERSION`` with PostgreSQL migrations built
  from the same ``schema_orchestrator.sql`` (``translate``; sections of
  ``schema_orchestrator.postgres.sql`` replace the ones that have no direct translation), the
  version kept in a ``schema_version`` table, one transaction per step under an advisory lock;
- ``atomic(conn)`` is one transaction, or a savepoint inside one;
- every psycopg error leaves as ``DatabaseError``; a constraint as ``ConstraintError`` whose text
  starts the way SQLite's does (``UNIQUE constraint failed``, ...), so callers see one wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from .adw_sqlite import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_PATH,
    SCHEMA_VERSION,
    TABLES,
    ConstraintError,
    DatabaseError,
    ForeignDatabaseError,
    Migration,
    SchemaVersionError,
    Transactions,
    split_statements,
    transaction,
)

if TYPE_CHECKING:
    import psycopg

OVERRIDES_PATH: Final = SCHEMA_PATH.with_name("schema_orchestrator.postgres.sql")
VERSION_TABLE: Final = "schema_version"
CONNECT_TIMEOUT_S: Final = 10

_MIGRATION_MARK = re.compile(r"^-- migration (\d+):", re.MULTILINE)

# SQLite's wording of each integrity error, by PostgreSQL SQLSTATE.
_CONSTRAINT_WORDS: Final = {
    "23505": "UNIQUE",
    "23503": "FOREIGN KEY",
    "23514": "CHECK",
    "23502": "NOT NULL",
}


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()


# -- the schema: SQLite's migrations translated --------------------------------------------------


class TranslationError(ValueError):
    """SQLite DDL the translator does not know: give the migration a PostgreSQL section."""


_COLUMN_TYPES: Final = {"TEXT": "TEXT", "INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION"}
# Functions that mean the same in both dialects (in the CHECKs and index expressions).
_SAME_FUNCTIONS: Final = frozenset({"trim", "lower", "upper", "coalesce", "substr"})
_JSON_VALID_CASE = re.compile(
    r"CASE WHEN json_valid\((\w+)\) THEN json_extract\(\1, '\$\.(\w+)'\) END"
)
_JSON_EXTRACT = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)")
_FUNCTION_CALL = re.compile(r"\b(\w+)\s*\(")
_REFERENCES = re.compile(r"REFERENCES \w+ \(\w+\)", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"CREATE TABLE (\w+) \((.*)\)", re.DOTALL)
_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (.*)", re.DOTALL)
_CREATE_INDEX = re.compile(
    r"CREATE (UNIQUE )?INDEX (\w+) ON (\w+) \((.*?)\)(?: WHERE (.*))?", re.DOTALL
)
_IDENTIFIER_ONLY = re.compile(r"\w+")
# The column every table gets: SQLite's implicit rowid, the order of insertion that breaks ties
# between equal timestamps in list(); SQLite's index entries end in it, PostgreSQL's are given it.
ROWID_COLUMN: Final = "rowid BIGINT GENERATED ALWAYS AS IDENTITY"


def _strip_comments(sql: str) -> str:
    lines = [line.split("--", 1)[0].rstrip() for line in sql.splitlines()]
    return " ".join(" ".join(line.split()) for line in lines if line.strip()).strip()


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _expression(sql: str) -> str:
    """A CHECK, DEFAULT or index expression in PostgreSQL; unknown functions are refused."""
    sql = _JSON_VALID_CASE.sub(r"(\1 ->> '\2')", sql)  # JSONB is always valid JSON
    sql = _JSON_EXTRACT.sub(r"(\1 ->> '\2')", sql)
    unquoted = _REFERENCES.sub("", re.sub(r"'[^']*'", "''", sql))
    for name in _FUNCTION_CALL.findall(unquoted):
        if name.lower() not in _SAME_FUNCTIONS and name.upper() not in {"IN", "CHECK", "KEY"}:
            raise TranslationError(f"no PostgreSQL translation for {name}(...) in: {sql}")
    return sql


def column_type(name: str, sqlite_type: str, constraints: str) -> str:
    """The PostgreSQL type of a column, by the schema file's conventions: the key and every
    reference are UUIDs, ``*_at`` are TIMESTAMPTZ, ``metadata`` is JSONB; else by SQLite type."""
    upper = constraints.upper()
    if sqlite_type == "TEXT" and ("PRIMARY KEY" in upper or "REFERENCES" in upper):
        return "UUID"
    if sqlite_type == "TEXT" and name.endswith("_at"):
        return "TIMESTAMPTZ"
    if sqlite_type == "TEXT" and name == "metadata":
        return "JSONB"
    try:
        return _COLUMN_TYPES[sqlite_type]
    except KeyError:
        raise TranslationError(f"no PostgreSQL type for {name} {sqlite_type}") from None


def _column(definition: str) -> str:
    name, sqlite_type, *rest = definition.split(" ", 2)
    constraints = rest[0] if rest else ""
    translated = f"{name} {column_type(name, sqlite_type.upper(), constraints)}"
    return f"{translated} {_expression(constraints)}" if constraints else translated


def translate_statement(statement: str) -> str:
    """One SQLite DDL statement of the schema file as PostgreSQL DDL."""
    sql = _strip_comments(statement).rstrip(";").strip()
    if match := _CREATE_TABLE.fullmatch(sql):
        table, body = match.groups()
        columns = [_column(part) for part in _split_top_level(body)]
        return f"CREATE TABLE {table} ({', '.join([*columns, ROWID_COLUMN])})"
    if match := _ADD_COLUMN.fullmatch(sql):
        table, definition = match.groups()
        return f"ALTER TABLE {table} ADD COLUMN {_column(definition)}"
    if match := _CREATE_INDEX.fullmatch(sql):
        unique, name, table, keys, where = match.groups()
        parts = [
            part if _IDENTIFIER_ONLY.fullmatch(part) else f"({_expression(part)})"
            for part in _split_top_level(keys)
        ]
        if not unique:
            parts.append("rowid")  # as in SQLite, where every index entry ends in the rowid
        index = f"CREATE {unique or ''}INDEX {name} ON {table} ({', '.join(parts)})"
        return f"{index} WHERE {_expression(where)}" if where else index
    raise TranslationError(f"no PostgreSQL translation for: {sql[:80]}")


def translate(script: str) -> str:
    """A SQLite migration section as PostgreSQL DDL (statements separated by ``;`` lines)."""
    return "".join(f"{translate_statement(s)};\n" for s in split_statements(script))


def _load_overrides(path: Path) -> dict[int, str]:
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    marks = list(_MIGRATION_MARK.finditer(text))
    ends = [mark.start() for mark in marks[1:]] + [len(text)]
    return {
        int(mark.group(1)): text[mark.start() : end] for mark, end in zip(marks, ends, strict=True)
    }


def postgres_migrations(
    sqlite_migrations: Sequence[Migration] = MIGRATIONS, overrides_path: Path = OVERRIDES_PATH
) -> tuple[Migration, ...]:
    """PostgreSQL's migrations, one per SQLite section: translated, or replaced by a section of
    ``schema_orchestrator.postgres.sql`` with the same number."""
    overrides = _load_overrides(overrides_path)
    unknown = set(overrides) - {m.version for m in sqlite_migrations}
    if unknown:
        raise RuntimeError(f"{overrides_path}: sections {sorted(unknown)} replace no migration")
    return tuple(
        Migration(m.version, overrides.get(m.version) or translate(m.script))
        for m in sqlite_migrations
    )


# -- the connection ---------------------------------------------------------------------------


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DatabaseError(
            "a PostgreSQL URL is configured but psycopg is not installed (uv add 'psycopg[binary]')"
        ) from exc
    return psycopg


class PgConnection:
    """A psycopg connection as the repositories use one: ``execute``/``executemany`` return a
    cursor, ``in_transaction`` as on ``sqlite3.Connection``; ``raw`` is the psycopg connection."""

    def __init__(self, raw: psycopg.Connection[Any], url: str) -> None:
        self.raw = raw
        self.url = redact(url)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        # Parameters go separately; the SQL text is the repositories' own.
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        cursor.executemany(sql, rows)
        return cursor

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Write ``rows`` into ``table`` (``columns`` in that order) with ``COPY ... FROM STDIN``:
        one statement for all of them, the fastest way in; returns how many. ``table`` and
        ``columns`` are the caller's own identifiers, never user input."""
        count = 0
        with self.raw.cursor() as cursor:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(sql) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
                    count += 1
        return count

    def close(self) -> None:
        self.raw.close()


def connect(url: str, *, connect_timeout: int = CONNECT_TIMEOUT_S) -> PgConnection:
    """Open the database at a ``postgresql://`` URL (the password, if any, from the environment
    or ``~/.pgpass``, never the URL in a committed file); ``connect_timeout`` in seconds, unless
    the URL sets one."""
    psycopg = _psycopg()
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.types.string import TextLoader

    try:
        params = conninfo_to_dict(url)
        # Timestamps read back as UTC datetimes; the URL's own options (search_path) are kept.
        options = f"{params.pop('options', '') or ''} -c TimeZone=UTC".strip()
        params.setdefault("connect_timeout", connect_timeout)
        params.setdefault("application_name", "tac-bootstrap")
        raw = psycopg.connect(
            autocommit=True,  # atomic() alone decides where transactions start and end
            options=options,
            **params,
        )
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot open database {redact(url)}: {exc}") from exc
    raw.adapters.register_loader("uuid", TextLoader)  # ids as the models hold them: lower-case
    return PgConnection(raw, url)


def error(exc: BaseException, where: str) -> DatabaseError:
    """Translate a psycopg (or binding) error into the DatabaseError family."""
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if sqlstate.startswith("23"):
        word = _CONSTRAINT_WORDS.get(sqlstate, "constraint")
        return ConstraintError(where, f"{word} constraint failed: {str(exc).strip()}")
    return DatabaseError(f"{where}: {str(exc).strip()}")


def errors() -> tuple[type[BaseException], ...]:
    """What the repositories translate: every psycopg error and the values it cannot bind."""
    return (_psycopg().Error, OverflowError, UnicodeEncodeError)


# -- versions and migrations --------------------------------------------------------------------


def _has_table(conn: PgConnection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def schema_version(conn: PgConnection) -> int:
    """The newest migration applied (0: no schema yet)."""
    try:
        if not _has_table(conn, VERSION_TABLE):
            return 0
        row = conn.execute(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").fetchone()  # noqa: S608
    except _psycopg().Error as exc:
        raise error(exc, conn.url) from exc
    return int(row[0]) if row else 0


def _check_owner(conn: PgConnection) -> None:
    """Our tables without our version table: someone else's; refuse before writing."""
    if _has_table(conn, VERSION_TABLE):
        return
    present = [t for t in TABLES if _has_table(conn, t)]
    if present:
        raise ForeignDatabaseError(
            f"{conn.url} is not a tac-bootstrap database (tables {', '.join(present)} without"
            f" {VERSION_TABLE}); left untouched"
        )


@cache
def migrations() -> tuple[Migration, ...]:
    """PostgreSQL's migrations, built on first use (SQLite users never pay for the translation)."""
    return postgres_migrations()


_VERSION_DDL: Final = (
    f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER PRIMARY KEY,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)


def init_schema(conn: PgConnection) -> None:
    """Create or migrate the schema to ``SCHEMA_VERSION``; idempotent, safe across processes.

    The advisory lock is taken before each migration's transaction begins, not inside it: a
    transaction that waited for the lock inside would still read the catalog as it was when it
    began (``to_regclass`` missing the tables another process just committed) and migrate again.
    """
    version = schema_version(conn)
    _refuse_newer(conn, version)
    if version == SCHEMA_VERSION:
        return
    conn.execute("SELECT pg_advisory_lock(%s)", (APPLICATION_ID,))
    try:
        while (version := schema_version(conn)) != SCHEMA_VERSION:
            _refuse_newer(conn, version)
            _migrate(conn, version)
    finally:
        unlock(conn, APPLICATION_ID)


def unlock(conn: PgConnection, key: int) -> None:
    """Release the session advisory lock ``key``; a broken connection has released it."""
    try:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    except _psycopg().Error:
        pass


def _refuse_newer(conn: PgConnection, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{conn.url} has schema version {version}, newer than {SCHEMA_VERSION};"
            " upgrade tac-bootstrap to use it"
        )


def _migrate(conn: PgConnection, version: int) -> None:
    """From ``version``: all migrations in one transaction for a new schema, else the next one."""
    psycopg = _psycopg()
    steps = [m for m in migrations() if m.version > version]
    if version > 0:
        steps = steps[:1]  # an older database: one section per transaction
    try:
        with atomic(conn):
            if version == 0:
                _check_owner(conn)
                conn.execute(_VERSION_DDL)
            for step in steps:
                conn.execute(step.script)  # one script: PostgreSQL runs its statements
                conn.execute(
                    f"INSERT INTO {VERSION_TABLE} (version) VALUES (%s)",  # noqa: S608
                    (step.version,),
                )
    except psycopg.Error as exc:
        raise DatabaseError(
            f"{conn.url}: migration to schema version {steps[-1].version} failed: {exc}"
        ) from exc


# -- transactions -------------------------------------------------------------------------------


_PG_TRANSACTIONS: Final = Transactions(
    "BEGIN", "RELEASE SAVEPOINT {name}", lambda: (_psycopg().Error,), lambda e, c: error(e, c.url)
)


def atomic(conn: PgConnection) -> AbstractContextManager[PgConnection]:
    """Run the block in one transaction (a savepoint when already inside one): the protocol of
    ``adw_sqlite.transaction``, spelled for PostgreSQL."""
    return transaction(conn, _PG_TRANSACTIONS)


__all__ = [
    "OVERRIDES_PATH",
    "ROWID_COLUMN",
    "PgConnection",
    "TranslationError",
    "atomic",
    "column_type",
    "connect",
    "error",
    "errors",
    "init_schema",
    "migrations",
    "postgres_migrations",
    "redact",
    "schema_version",
    "translate",
    "translate_statement",
    "unlock",
]
