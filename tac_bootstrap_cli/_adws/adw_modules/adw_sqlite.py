"""The orchestrator database's SQLite layer, standard library only: connection, schema, transactions.

- ``connect(path)`` is the only place that opens SQLite (foreign keys on, WAL, NORMAL sync, busy
  timeout, autocommit so that ``atomic`` alone decides where transactions start and end);
- ``init_schema(conn)`` brings a database to ``SCHEMA_VERSION`` using the numbered sections of
  ``schema/schema_orchestrator.sql``;
- ``atomic(conn)`` is one transaction, or a savepoint inside one.

It imports nothing beyond the standard library so that the Claude Code hooks, which run on every
tool call with the system ``python3``, write through the same pragmas and migrations as the
workflows (``adw_database`` adds the pydantic models and repositories on top).
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Final, NamedTuple, Protocol, TypeVar

SCHEMA_VERSION: Final = 5
SCHEMA_PATH: Final = Path(__file__).resolve().parent.parent / "schema" / "schema_orchestrator.sql"
BUSY_TIMEOUT_S: Final = 10.0
MIN_PAGE_SIZE: Final = 512
TABLES: Final = ("orchestrator_agents", "agents", "prompts", "agent_logs", "system_logs")
# PRAGMA application_id of every database this module creates ("TACB" in ASCII): with it a file
# names its owner, so a path pointing at someone else's SQLite file is never taken over.
APPLICATION_ID: Final = 0x54414342

_MIGRATION_MARK = re.compile(r"^-- migration (\d+):", re.MULTILINE)
_savepoint_ids = itertools.count(1)


class DatabaseError(Exception):
    """Any failure of the orchestrator database (open, schema, query)."""


class ConstraintError(DatabaseError):
    """A foreign-key, unique, not-null or check constraint rejected a write to ``table``."""

    def __init__(self, table: str, message: str) -> None:
        super().__init__(f"{table}: {message}")
        self.table = table


class SchemaVersionError(DatabaseError):
    """The database was written by a newer schema version than this code knows."""


class ForeignDatabaseError(DatabaseError):
    """The file is not an orchestrator database (nor empty); it was left exactly as it was."""


class Migration(NamedTuple):
    """One step of the registry: the SQL that takes a database to ``version``."""

    version: int
    script: str


def split_statements(script: str) -> list[str]:
    """Split SQL text into single statements (``sqlite3.execute`` takes one at a time)."""
    statements: list[str] = []
    start = 0
    end = script.find(";")
    while end != -1:
        candidate = script[start : end + 1]
        if sqlite3.complete_statement(candidate):  # a ';' inside a string or comment is not an end
            statements.append(candidate.strip())
            start = end + 1
        end = script.find(";", end + 1)
    rest = [line for line in script[start:].splitlines() if line.strip()]
    if any(not line.lstrip().startswith("--") for line in rest):
        raise ValueError(f"unterminated SQL statement: {script[start:].strip()[:80]!r}")
    return statements


def _load_migrations(path: Path) -> tuple[Migration, ...]:
    """Cut the schema file into its ``-- migration N:`` sections and check they run 1..N."""
    text = path.read_text(encoding="utf-8")
    marks = list(_MIGRATION_MARK.finditer(text))
    ends = [mark.start() for mark in marks[1:]] + [len(text)]
    migrations = tuple(
        Migration(int(mark.group(1)), text[mark.start() : end])
        for mark, end in zip(marks, ends, strict=True)
    )
    versions = [m.version for m in migrations]
    if versions != list(range(1, SCHEMA_VERSION + 1)):
        raise RuntimeError(f"{path}: migrations {versions} do not run 1..{SCHEMA_VERSION}")
    return migrations


MIGRATIONS: Final = _load_migrations(SCHEMA_PATH)


def _error(exc: BaseException, where: str) -> DatabaseError:
    """Translate an sqlite3 (or binding) error into this module's exceptions."""
    if isinstance(exc, sqlite3.IntegrityError):
        return ConstraintError(where, str(exc))
    return DatabaseError(f"{where}: {exc}")


def database_file(conn: sqlite3.Connection) -> str:
    """The file behind ``conn`` (``:memory:`` for an in-memory database), for messages."""
    try:
        for _, name, file in conn.execute("PRAGMA database_list"):
            if name == "main":
                return str(file) or ":memory:"
    except sqlite3.Error:
        pass
    return "<closed database>"


def _prepare_path(file: Path) -> None:
    """Refuse what must never be opened for writing; create the parent folders of a new file.

    The file itself is never opened here: closing
    any descriptor of a database file drops every POSIX lock this process holds on it, including
    the locks of connections already open, which lets other processes checkpoint under them."""
    try:
        st = file.stat()
    except FileNotFoundError:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot open database {file}: {exc}") from exc
        return  # a new database; SQLite creates it
    except OSError as exc:
        raise DatabaseError(f"cannot open database {file}: {exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise DatabaseError(f"cannot open database {file}: it is a folder")
    if not stat.S_ISREG(st.st_mode):
        # /dev/null reads as an empty database: SQLite would create "/dev/null-journal" beside it.
        raise DatabaseError(
            f"cannot open database {file}: not a regular file (a device, FIFO or socket)"
        )
    # A database is empty or at least one 512-byte page. SQLite itself takes a shorter file for
    # an empty database and would write over it; a longer foreign file fails its header check.
    if 0 < st.st_size < MIN_PAGE_SIZE:
        raise DatabaseError(f"{file} is not a SQLite database")


def check_owner(conn: sqlite3.Connection, path: str | Path) -> None:
    """Raise ``ForeignDatabaseError`` unless the file is ours, an older file of ours (from before
    ``application_id``), empty, or from a newer schema (``init_schema`` refuses that one).

    Reads only, so a refused file stays byte-identical; read-only connections use it too."""
    name = str(path)
    # (A truncated file fails SQLite's own check, "database disk image is malformed", on the
    # first of these reads: the header promises more pages than the file holds.)
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise ForeignDatabaseError(
            f"{name} is not a tac-bootstrap database (application_id {app_id:#010x});"
            " left untouched"
        )
    if app_id == APPLICATION_ID or version > SCHEMA_VERSION:
        return
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if version == 0 and not tables:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            return  # empty: ours to create
    elif version >= 1 and tables.issuperset(TABLES):
        return  # made by an earlier release, before application_id; init_schema adds it
    shown = ", ".join(sorted(tables)[:5]) or "none"
    raise ForeignDatabaseError(
        f"{name} is not a tac-bootstrap database (schema version {version}, tables: {shown});"
        " left untouched"
    )


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL; retried because the switch needs a brief exclusive lock that new
    databases opened by several processes at once contend for, and SQLite does not always
    run the busy handler for it."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def connect(path: str | Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open (creating it and its folders if needed) the database at ``path`` or ``":memory:"``.

    ``check_same_thread=False`` is for callers that serialise access themselves (a lock).
    """
    name = str(path)
    if not name:
        raise DatabaseError("empty database path")
    in_memory = name == ":memory:"
    if not in_memory:
        _prepare_path(Path(path))
    try:
        conn = sqlite3.connect(
            name,
            timeout=BUSY_TIMEOUT_S,  # sets SQLite's busy_timeout
            isolation_level=None,  # autocommit: atomic() issues BEGIN/COMMIT itself
            check_same_thread=check_same_thread,
        )
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open database {name}: {exc}") from exc
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # NORMAL in WAL mode: a commit survives a crash of the process, only not a power loss.
        conn.execute("PRAGMA synchronous = NORMAL")
        # Reading the header first: a file that is not a database, or not ours, fails here,
        # before the WAL switch (which rewrites the header) or anything else could write to it.
        # A file from a newer schema is left exactly as it is: init_schema will refuse it.
        if not in_memory:
            check_owner(conn, name)
            if schema_version(conn) <= SCHEMA_VERSION:
                _enable_wal(conn)
    except ForeignDatabaseError:
        conn.close()
        raise
    except (sqlite3.Error, DatabaseError) as exc:
        conn.close()
        if "not a database" in str(exc):  # SQLite read the header and stopped: nothing written
            raise DatabaseError(f"{name} is not a SQLite database") from exc
        raise DatabaseError(f"cannot open database {name}: {exc}") from exc
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version stored in the database (``PRAGMA user_version``; 0 = empty)."""
    try:
        row = conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.Error as exc:
        raise _error(exc, database_file(conn)) from exc
    return int(row[0])


def _application_id(conn: sqlite3.Connection) -> int:
    try:
        return int(conn.execute("PRAGMA application_id").fetchone()[0])
    except sqlite3.Error as exc:
        raise _error(exc, database_file(conn)) from exc


def _next_step(version: int) -> Migration:
    """A new database gets the whole file at once; an older one the next section."""
    if version == 0:
        return Migration(SCHEMA_VERSION, "\n".join(m.script for m in MIGRATIONS))
    return next(m for m in MIGRATIONS if m.version > version)


def init_schema(conn: sqlite3.Connection) -> None:
    """Create or migrate the schema to ``SCHEMA_VERSION``; idempotent and safe across processes."""
    while True:
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{database_file(conn)} has schema version {version}, newer than "
                f"{SCHEMA_VERSION}; upgrade tac-bootstrap to use it"
            )
        if version == SCHEMA_VERSION:
            if _application_id(conn) != APPLICATION_ID:  # ours from before application_id
                with atomic(conn):
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            return
        step = _next_step(version)
        with atomic(conn):
            # Another process may have migrated while this one waited for the write lock.
            if schema_version(conn) != version:
                continue
            try:
                for statement in split_statements(step.script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(step.version)}")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            except sqlite3.Error as exc:
                raise DatabaseError(
                    f"{database_file(conn)}: migration to schema version {step.version} "
                    f"failed: {exc}"
                ) from exc


class Transactions(NamedTuple):
    """How one dialect spells a transaction for ``transaction``: the outermost ``begin``, the
    ``release`` of a savepoint (``{name}`` in it), the driver errors a statement may raise
    (``errors()``, called only when needed, so psycopg is imported by its dialect alone), and how
    one becomes a ``DatabaseError`` (``translate(exc, conn)``, naming the database)."""

    begin: str
    release: str
    errors: Callable[[], tuple[type[BaseException], ...]]
    translate: Callable[[BaseException, Any], DatabaseError]


class _Transactional(Protocol):
    """What ``transaction`` uses of a connection (``sqlite3.Connection``, ``PgConnection``)."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, /) -> Any: ...


_C = TypeVar("_C", bound=_Transactional)


def _rollback(conn: _Transactional, sql: str, errors: tuple[type[BaseException], ...]) -> None:
    """Undo after a failure; the engine may already have rolled back (e.g. disk full), so a
    failing rollback must not hide the original error."""
    try:
        if conn.in_transaction:
            conn.execute(sql)
    except errors:
        pass


@contextmanager
def transaction(conn: _C, spelled: Transactions) -> Iterator[_C]:
    """The protocol of ``atomic`` on both dialects: the block in one transaction, or in a
    savepoint when already inside one; rolled back (and the savepoint dropped) on any exception,
    committed otherwise; a failing BEGIN or COMMIT leaves as ``spelled.translate``'s error."""
    if conn.in_transaction:
        name = f"adw_sp_{next(_savepoint_ids)}"
        begin, commit = f"SAVEPOINT {name}", spelled.release.format(name=name)
        undo = f"ROLLBACK TO {name}"
    else:
        begin, commit, undo = spelled.begin, "COMMIT", "ROLLBACK"
    errors = spelled.errors()
    try:
        conn.execute(begin)
    except errors as exc:
        raise spelled.translate(exc, conn) from exc
    try:
        yield conn
    except BaseException:
        _rollback(conn, undo, errors)
        if begin.startswith("SAVEPOINT"):
            _rollback(conn, commit, errors)  # ROLLBACK TO keeps the savepoint open; drop it
        raise
    try:
        conn.execute(commit)
    except errors as exc:
        _rollback(conn, undo, errors)
        raise spelled.translate(exc, conn) from exc


# IMMEDIATE takes the write lock up front, under busy_timeout; a deferred transaction that later
# upgrades to a write can fail with SQLITE_BUSY at once in WAL mode.
_SQLITE_TRANSACTIONS: Final = Transactions(
    "BEGIN IMMEDIATE",
    "RELEASE {name}",
    lambda: (sqlite3.Error,),
    lambda e, c: _error(e, database_file(c)),
)


def atomic(conn: sqlite3.Connection) -> AbstractContextManager[sqlite3.Connection]:
    """Run the block in one transaction (a savepoint when already inside one)."""
    return transaction(conn, _SQLITE_TRANSACTIONS)


__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "TABLES",
    "ConstraintError",
    "DatabaseError",
    "ForeignDatabaseError",
    "Migration",
    "SchemaVersionError",
    "Transactions",
    "atomic",
    "check_owner",
    "connect",
    "database_file",
    "init_schema",
    "schema_version",
    "split_statements",
    "transaction",
]
