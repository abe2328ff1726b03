"""The SQLite repository's fixed part, as text: connect, init_schema, ConstraintError, the base class.

``emit_repository`` writes it after the imports and before the per-entity classes.
"""

IMPORTS = (
    "import builtins",
    "import contextlib",
    "import datetime",
    "import json",
    "import os",
    "import sqlite3",
    "from collections.abc import Callable, Iterable, Iterator",
    "from pathlib import Path",
    "from typing import Any, ClassVar, Generic, TypeVar",
    "from uuid import UUID",
    "",
)

PREAMBLE = '''
SCHEMA_PATH = Path(__file__).with_name("schema.sql")
"""The schema init_schema() runs: CREATE ... IF NOT EXISTS statements only."""

_KINDS = {
    "UNIQUE": "unique",
    "NOT NULL": "not_null",
    "CHECK": "check",
    "FOREIGN KEY": "foreign_key",
}


class ConstraintError(sqlite3.IntegrityError):
    """A foreign-key, unique, check or not-null constraint refused a write.

    ``kind``: "unique", "not_null", "check", "foreign_key" (else "integrity").
    ``table``: the table. ``columns``: the columns SQLite names (none for foreign
    keys); ``column``: the first of them, or None.
    """

    def __init__(
        self, kind: str, table: str, columns: tuple[str, ...], detail: str
    ) -> None:
        where = f"{table}.{columns[0]}" if len(columns) == 1 else table
        if len(columns) > 1:
            where += f" ({', '.join(columns)})"
        super().__init__(f"{kind} constraint failed on {where}: {detail}")
        self.kind = kind
        self.table = table
        self.columns = columns
        self.column = columns[0] if columns else None


def connect(
    path: str | os.PathLike[str] = ":memory:", *, timeout: float = 5.0
) -> sqlite3.Connection:
    """Open a database: foreign keys on, WAL for files, ``timeout`` s busy waiting.

    The connection is in autocommit mode; each repository write is atomic on its
    own, and joins the caller's transaction (as a savepoint) when one is open.
    """
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    if os.fspath(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    return conn


def init_schema(conn: sqlite3.Connection) -> None:
    """Create the tables and indexes that do not exist yet (idempotent)."""
    conn.executescript(SCHEMA_PATH.read_text(encoding="utf-8"))


def _constraint_error(exc: sqlite3.IntegrityError, table: str) -> ConstraintError:
    """SQLite's "UNIQUE constraint failed: t.a, t.b" as a ConstraintError."""
    message = str(exc)
    head, _, detail = message.partition(" constraint failed")
    kind = _KINDS.get(head.strip(), "integrity")
    columns: tuple[str, ...] = ()
    parts = detail.removeprefix(":").split(",")
    names = [part.strip() for part in parts if "." in part]
    if names and kind in ("unique", "not_null", "check"):
        table = names[0].partition(".")[0]
        columns = tuple(name.partition(".")[2] for name in names)
    return ConstraintError(kind, table, columns, message)


@contextlib.contextmanager
def _savepoint(conn: sqlite3.Connection, table: str) -> Iterator[None]:
    """Run a write atomically: a savepoint, nested in the caller's transaction."""
    conn.execute("SAVEPOINT repository_write")
    try:
        yield
    except BaseException as exc:
        conn.execute("ROLLBACK TO repository_write")
        conn.execute("RELEASE repository_write")
        if isinstance(exc, ConstraintError):
            raise
        if isinstance(exc, sqlite3.IntegrityError):
            raise _constraint_error(exc, table) from exc
        raise
    conn.execute("RELEASE repository_write")


def _now() -> str:
    return utc_now().isoformat(timespec="microseconds")


def _same(value: Any) -> Any:
    return value


def _timestamp(value: Any) -> Any:
    """A datetime as fixed-width UTC text: microseconds and +00:00 always."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not datetime.UTC:  # validated values already are UTC
            value = as_utc(value)
        return value.isoformat(timespec="microseconds")
    return value


def _day(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _uuid(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


def _secret(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _json(value: Any) -> str:
    """JSON text (a None value is the JSON null)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_or_null(value: Any) -> str | None:
    """JSON text, or SQL NULL for None (a nullable JSON column)."""
    return None if value is None else _json(value)


def _json_value(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


RecordT = TypeVar("RecordT", bound=BaseModel)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)
KeyT = TypeVar("KeyT")


class _Repository(Generic[RecordT, CreateT, UpdateT, KeyT]):
    """CRUD over one table; subclasses give its SQL and column conversions."""

    table: ClassVar[str]
    _key: ClassVar[str]
    _columns: ClassVar[tuple[str, ...]]
    _convert: ClassVar[dict[str, Callable[[Any], Any]]]
    _auto_now: ClassVar[tuple[str, ...]] = ()
    _insert: ClassVar[str]
    _select: ClassVar[str]

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _row(self, data: CreateT, now: str) -> tuple[Any, ...]:
        raise NotImplementedError

    def _record(self, row: Any) -> RecordT:
        raise NotImplementedError

    def _created_key(self, data: CreateT, cursor: sqlite3.Cursor) -> KeyT:
        raise NotImplementedError

    def create(self, data: CreateT) -> RecordT:
        """Insert one record and return it as stored."""
        with _savepoint(self.conn, self.table):
            cursor = self.conn.execute(self._insert, self._row(data, _now()))
        record = self.get(self._created_key(data, cursor))
        if record is None:
            raise LookupError(f"{self.table}: the inserted row could not be read back")
        return record

    def create_many(self, items: Iterable[CreateT]) -> int:
        """Insert many records in one transaction (all or none); return how many."""
        now = _now()
        row = self._row
        with _savepoint(self.conn, self.table):
            rows = (row(item, now) for item in items)
            cursor = self.conn.executemany(self._insert, rows)
        return max(cursor.rowcount, 0)

    def get(self, key: KeyT) -> RecordT | None:
        """The record with primary key ``key``, or None."""
        sql = f"{self._select} WHERE {_quote(self._key)} = ?"
        row = self.conn.execute(sql, (self._convert[self._key](key),)).fetchone()
        return None if row is None else self._record(row)

    def list(
        self,
        *,
        limit: int | None = 100,
        offset: int = 0,
        order_by: str | None = None,
        **filters: Any,
    ) -> builtins.list[RecordT]:
        """Records equal to ``filters`` (field=value), ordered by ``order_by``.

        ``order_by`` is "field" or "-field" (descending); the default is the key.
        ``limit=None`` returns all. Unknown field names raise ValueError.
        """
        if (limit is not None and limit < 0) or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where, params = self._where(filters)
        order = self._order(order_by)
        sql = f"{self._select}{where} ORDER BY {order} LIMIT ? OFFSET ?"
        params.extend([-1 if limit is None else limit, offset])
        return [self._record(row) for row in self.conn.execute(sql, params)]

    def count(self, **filters: Any) -> int:
        """How many records are equal to ``filters``."""
        where, params = self._where(filters)
        sql = f"SELECT COUNT(*) FROM {_quote(self.table)}{where}"
        return int(self.conn.execute(sql, params).fetchone()[0])

    def update(self, key: KeyT, data: UpdateT) -> RecordT | None:
        """Write the fields set in ``data`` (and auto_now); None if it is missing."""
        names = [name for name in self._columns if name in data.model_fields_set]
        params = [self._convert[name](getattr(data, name)) for name in names]
        now = _now()
        names.extend(self._auto_now)
        params.extend(now for _ in self._auto_now)
        if names:
            assignments = ", ".join(f"{_quote(name)} = ?" for name in names)
            where = f"{_quote(self._key)} = ?"
            sql = f"UPDATE {_quote(self.table)} SET {assignments} WHERE {where}"
            params.append(self._convert[self._key](key))
            with _savepoint(self.conn, self.table):
                cursor = self.conn.execute(sql, params)
            if cursor.rowcount == 0:
                return None
        return self.get(key)

    def delete(self, key: KeyT) -> bool:
        """Delete the record; False if there was none.

        Raises ConstraintError when a ``restrict`` ref of another record holds it.
        """
        sql = f"DELETE FROM {_quote(self.table)} WHERE {_quote(self._key)} = ?"
        with _savepoint(self.conn, self.table):
            cursor = self.conn.execute(sql, (self._convert[self._key](key),))
        return cursor.rowcount > 0

    def _where(self, filters: dict[str, Any]) -> tuple[str, builtins.list[Any]]:
        unknown = sorted(set(filters) - set(self._columns))
        if unknown:
            raise ValueError(
                f"unknown field(s) for {self.table}: {', '.join(unknown)} "
                f"(known: {', '.join(self._columns)})"
            )
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        for name, value in filters.items():
            converted = self._convert[name](value)
            if converted is None:
                clauses.append(f"{_quote(name)} IS NULL")
            else:
                clauses.append(f"{_quote(name)} = ?")
                params.append(converted)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _order(self, order_by: str | None) -> str:
        if order_by is None:
            return _quote(self._key)
        name = order_by.removeprefix("-")
        if name not in self._columns:
            raise ValueError(
                f"unknown order_by field for {self.table}: {name} "
                f"(known: {', '.join(self._columns)})"
            )
        direction = " DESC" if order_by.startswith("-") else ""
        if name == self._key:
            return _quote(name) + direction
        return f"{_quote(name)}{direction}, {_quote(self._key)}{direction}"


def _lastrowid(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:
        raise LookupError("SQLite returned no rowid for the insert")
    return cursor.lastrowid
'''

FIXTURES = '''

@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory database with the schema."""
    connection = connect()
    init_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def make(conn: sqlite3.Connection) -> Factory:
    """A factory of valid records in ``conn``."""
    return Factory(conn)


def test_init_schema_is_idempotent_and_files_use_wal(tmp_path: Path) -> None:
    db = connect(tmp_path / "test.sqlite3")
    init_schema(db)
    init_schema(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()'''
