"""The PostgreSQL repository's fixed part, as text: connect, init_schema, ConstraintError, the
base class; and the generated tests' fixtures.

``emit_repository`` writes ``PREAMBLE`` after the imports; the module's ``_CONSTRAINT_COLUMNS``
(constraint name -> columns, from the spec) follows it. The public API is the SQLite one's
(``runtime_sqlite``): the same classes, methods, arguments, returns and ``ConstraintError``.
"""

IMPORTS = (
    "import builtins",
    "import contextlib",
    "import datetime",
    "from collections.abc import Callable, Iterable, Iterator",
    "from pathlib import Path",
    "from typing import Any, ClassVar, Generic, TypeVar",
    "from uuid import UUID",
    "",
    "import psycopg",
    "import psycopg.errors",
    "from psycopg.rows import TupleRow",
    "from psycopg.types.json import Jsonb",
)

PREAMBLE = '''
SCHEMA_PATH = Path(__file__).with_name("schema.sql")
"""The schema init_schema() runs: CREATE ... IF NOT EXISTS statements only."""

Connection = psycopg.Connection[TupleRow]
Cursor = psycopg.Cursor[TupleRow]

_KINDS = {
    "23505": "unique",
    "23502": "not_null",
    "23514": "check",
    "23503": "foreign_key",
}


class ConstraintError(psycopg.errors.IntegrityError):
    """A foreign-key, unique, check or not-null constraint refused a write.

    ``kind``: "unique", "not_null", "check", "foreign_key" (else "integrity").
    ``table``: the table. ``columns``: the columns of the constraint (none for
    foreign keys); ``column``: the first of them, or None.
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


def connect(url: str, *, timeout: float = 5.0) -> Connection:
    """Open a connection to ``url`` (a ``postgresql://`` URL or a conninfo string).

    Autocommit, like the SQLite connection: each repository write is atomic on its
    own, and joins the caller's transaction (as a savepoint) when one is open.
    Times are read in UTC; ``timeout`` s for connecting and for waiting on locks.
    """
    conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout)))
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute(
        "SELECT set_config('lock_timeout', %s, false)", (f"{int(timeout * 1000)}ms",)
    )
    return conn


def init_schema(conn: Connection) -> None:
    """Create the tables and indexes that do not exist yet (idempotent)."""
    with conn.transaction():
        conn.execute(SCHEMA_PATH.read_text(encoding="utf-8"))


def _constraint_error(
    exc: psycopg.errors.IntegrityError, table: str
) -> ConstraintError:
    """PostgreSQL's report (SQLSTATE, table, column, constraint) as a ConstraintError."""
    diag = exc.diag
    kind = _KINDS.get(exc.sqlstate or "", "integrity")
    columns: tuple[str, ...] = ()
    if kind == "not_null" and diag.column_name:
        columns = (diag.column_name,)
    elif kind in ("unique", "check"):
        columns = _CONSTRAINT_COLUMNS.get(diag.constraint_name or "", ())
    if kind != "foreign_key" and diag.table_name:
        table = diag.table_name
    return ConstraintError(kind, table, columns, str(exc).strip())


@contextlib.contextmanager
def _savepoint(conn: Connection, table: str) -> Iterator[None]:
    """Run a write atomically: a transaction, or a savepoint in the caller's."""
    try:
        with conn.transaction():
            yield
    except ConstraintError:
        raise
    except psycopg.errors.IntegrityError as exc:
        raise _constraint_error(exc, table) from exc


def _now() -> datetime.datetime:
    return utc_now()


def _same(value: Any) -> Any:
    return value


def _timestamp(value: Any) -> Any:
    """A datetime in UTC (naive ones are taken as UTC, as the models do)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not datetime.UTC:
        return as_utc(value)
    return value


def _uuid(value: Any) -> Any:
    """UUID text as a UUID; any other value as it is (the database refuses it)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return UUID(value)
    return value


def _secret(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _json(value: Any) -> Jsonb:
    """A JSONB parameter (a None value is the JSON null)."""
    return Jsonb(value)


def _json_or_null(value: Any) -> Jsonb | None:
    """A JSONB parameter, or SQL NULL for None (a nullable JSON column)."""
    return None if value is None else Jsonb(value)


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
    _copy: ClassVar[str | None] = None
    _select: ClassVar[str]

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _row(self, data: CreateT, now: datetime.datetime) -> tuple[Any, ...]:
        raise NotImplementedError

    def _record(self, row: Any) -> RecordT:
        raise NotImplementedError

    def _created_key(self, data: CreateT, cursor: Cursor) -> KeyT:
        raise NotImplementedError

    def create(self, data: CreateT) -> RecordT:
        """Insert one record and return it as stored."""
        with _savepoint(self.conn, self.table):
            cursor = self.conn.execute(self._insert, self._row(data, _now()))
            key = self._created_key(data, cursor)
        record = self.get(key)
        if record is None:
            raise LookupError(f"{self.table}: the inserted row could not be read back")
        return record

    def create_many(self, items: Iterable[CreateT]) -> int:
        """Insert many records in one transaction (all or none); return how many."""
        now = _now()
        row = self._row
        count = 0
        with _savepoint(self.conn, self.table), self.conn.cursor() as cursor:
            if self._copy is None:  # only a database-assigned key: nothing to copy
                rows = [row(item, now) for item in items]
                cursor.executemany(self._insert, rows)
                return len(rows)
            with cursor.copy(self._copy) as copy:
                for item in items:
                    copy.write_row(row(item, now))
                    count += 1
        return count

    def get(self, key: KeyT) -> RecordT | None:
        """The record with primary key ``key``, or None."""
        sql = f"{self._select} WHERE {_quote(self._key)} = %s"
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
        sql = f"{self._select}{where} ORDER BY {order} LIMIT %s OFFSET %s"
        params.extend([limit, offset])
        return [self._record(row) for row in self.conn.execute(sql, params)]

    def count(self, **filters: Any) -> int:
        """How many records are equal to ``filters``."""
        where, params = self._where(filters)
        sql = f"SELECT COUNT(*) FROM {_quote(self.table)}{where}"
        row = self.conn.execute(sql, params).fetchone()
        return 0 if row is None else int(row[0])

    def update(self, key: KeyT, data: UpdateT) -> RecordT | None:
        """Write the fields set in ``data`` (and auto_now); None if it is missing."""
        names = [name for name in self._columns if name in data.model_fields_set]
        params = [self._convert[name](getattr(data, name)) for name in names]
        now = _now()
        names.extend(self._auto_now)
        params.extend(now for _ in self._auto_now)
        if names:
            assignments = ", ".join(f"{_quote(name)} = %s" for name in names)
            where = f"{_quote(self._key)} = %s"
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
        sql = f"DELETE FROM {_quote(self.table)} WHERE {_quote(self._key)} = %s"
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
                clauses.append(f"{_quote(name)} = %s")
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


def _returned_key(cursor: Cursor) -> int:
    row = cursor.fetchone()
    if row is None:
        raise LookupError("PostgreSQL returned no key for the insert")
    return int(row[0])
'''

_FIXTURES = '''

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL,
    reason="TEST_DATABASE_URL is not set: these tests need a PostgreSQL server"
    " (e.g. TEST_DATABASE_URL=postgresql://localhost/test)",
)


@pytest.fixture
def conn() -> Iterator[Connection]:
    """A connection to TEST_DATABASE_URL in a new schema of its own, dropped after."""
    connection = connect(DATABASE_URL)
    schema = f"test_{secrets.token_hex(8)}"
    connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        connection.execute(f'SET search_path TO "{schema}"')
        init_schema(connection)
        yield connection
    finally:
        connection.rollback()
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()


@pytest.fixture
def make(conn: Connection) -> Factory:
    """A factory of valid records in ``conn``."""
    return Factory(conn)


def test_init_schema_is_idempotent(conn: Connection) -> None:
    init_schema(conn)
    init_schema(conn)
    sql = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
    row = conn.execute(sql).fetchone()
    assert row is not None
    assert row[0] == TABLES'''


def fixtures(tables: int) -> str:
    """The test module's fixtures and schema test, for a spec of ``tables`` tables."""
    return _FIXTURES.replace("== TABLES", f"== {tables}")
