"""The SQLite repository's fixed part, as text: connect, init_schema, ConstraintError, the base class.

``emit_repository`` writes it after the imports and before the per-entity classes.
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
    "import json",
    "import os",
    "import sqlite3",
    *IMPORTS_FROM,
)

_CREATE = '''\
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
'''
"""The insert methods: ``create`` and ``create_many``."""

_COUNT_RESULT = """\
        return int(self.conn.execute(sql, params).fetchone()[0])
"""

PREAMBLE = "".join(
    (
        '''
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

''',
        CONSTRAINT_ERROR_INIT,
        '''

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


''',
        repository(
            RepositorySlots(
                mark="?",
                connection="sqlite3.Connection",
                cursor="sqlite3.Cursor",
                now="str",
                class_vars="",
                create=_CREATE,
                limit="-1 if limit is None else limit",
                count_result=_COUNT_RESULT,
            )
        ),
        """

def _lastrowid(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:
        raise LookupError("SQLite returned no rowid for the insert")
    return cursor.lastrowid
""",
    )
)

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
