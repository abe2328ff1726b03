"""The PostgreSQL repository's fixed part, as text: connect, init_schema, ConstraintError, the
base class; and the generated tests' fixtures.

``emit_repository`` writes ``PREAMBLE`` after the imports; the module's ``_CONSTRAINT_COLUMNS``
(constraint name -> columns, from the spec) follows it. The public API is the SQLite one's
(``runtime_sqlite``): the same classes, methods, arguments, returns and ``ConstraintError``.
"""

from tac_bootstrap_cli.modelgen.runtime_shared import (
    CONSTRAINT_ERROR_INIT,
    IMPORTS_FROM,
    IMPORTS_HEAD,
    RepositorySlots,
    repository,
)

IMPORTS = (
    *IMPORTS_HEAD,
    *IMPORTS_FROM,
    "import psycopg",
    "import psycopg.errors",
    "from psycopg.rows import TupleRow",
    "from psycopg.types.json import Jsonb",
)

_CREATE = '''\
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
'''
"""The insert methods: ``create`` and ``create_many``."""

_COUNT_RESULT = """\
        row = self.conn.execute(sql, params).fetchone()
        return 0 if row is None else int(row[0])
"""

PREAMBLE = "".join(
    (
        '''
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

''',
        CONSTRAINT_ERROR_INIT,
        '''

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


''',
        repository(
            RepositorySlots(
                mark="%s",
                connection="Connection",
                cursor="Cursor",
                now="datetime.datetime",
                class_vars="    _copy: ClassVar[str | None] = None\n",
                create=_CREATE,
                limit="limit",
                count_result=_COUNT_RESULT,
            )
        ),
        """

def _returned_key(cursor: Cursor) -> int:
    row = cursor.fetchone()
    if row is None:
        raise LookupError("PostgreSQL returned no key for the insert")
    return int(row[0])
""",
    )
)

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
