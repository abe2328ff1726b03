"""Emit ``repository.py``: connect, init_schema, ConstraintError, and one repository per entity."""

from __future__ import annotations

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.common import Origin, gc_paused, quote_ident
from tac_bootstrap_cli.modelgen.emit_models import import_from
from tac_bootstrap_cli.modelgen.pyfmt import (
    Expr,
    Group,
    Pre,
    assign_string,
    call,
    docstring,
    py_str,
    statement,
)
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec, ModelSpec

_PREAMBLE = '''
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

# Python value -> SQLite value, by stored type (None passes through every converter).
_CONVERTERS = {
    "datetime": "_timestamp",
    "date": "_day",
    "uuid": "_uuid",
}


def converter(field: FieldSpec) -> str:
    """The name of the function turning a field's Python value into its column value."""
    if field.value_type == "json":
        return "_json_or_null" if field.nullable else "_json"
    if field.secret:
        return "_secret"
    return _CONVERTERS.get(field.value_type, "_same")


@gc_paused
def emit_repository(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``repository.py``."""
    about = f"SQLite persistence of {spec.module}: connect, init_schema, one repository per entity"
    lines = origin.header("#")
    lines.append(docstring(about, ""))
    lines.append("")
    lines.extend(
        [
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
            "from pydantic import BaseModel, SecretStr",
            "",
        ]
    )
    names = ["as_utc", "utc_now"]
    for entity in spec.entities:
        names.extend([entity.name, entity.name + "Create", entity.name + "Update"])
    names.sort(key=naming.import_key)
    lines.extend(import_from(".models", names))
    lines.extend(_PREAMBLE.splitlines())
    for entity in spec.entities:
        lines.extend(_repository(entity))
    return "\n".join(lines) + "\n"


def _key_type(field: FieldSpec) -> str:
    return {"int": "int", "uuid": "UUID", "str": "str"}[field.value_type]


def _row_value(field: FieldSpec) -> Expr:
    if field.auto_now:
        return "now"
    name = converter(field)
    value = f"data.{field.name}"
    return value if name == "_same" else call(name, value)


def _method(name: str, params: list[str], returns: str) -> list[str]:
    """A method header at class level, one parameter per line when too long."""
    items: list[Expr] = list(params)
    return statement(Group(f"def {name}(", items, f") -> {returns}:"), 4)


def _repository(entity: EntitySpec) -> list[str]:
    e = entity.name
    pk = entity.pk
    key_type = _key_type(pk)
    inserted = [f for f in entity.fields if not (f.primary_key and f.value_type == "int")]
    columns = ", ".join(quote_ident(f.name) for f in entity.fields)
    insert_cols = ", ".join(quote_ident(f.name) for f in inserted)
    marks = ", ".join("?" for _ in inserted)
    table = quote_ident(entity.table)
    base = Group("_Repository[", [e, f"{e}Create", f"{e}Update", key_type], "]")
    lines = ["", ""]
    lines.extend(statement(Group(f"class {e}Repository(", [base], "):"), 0))
    about = f"Create, read, update and delete {e} records (table {entity.table})"
    lines.extend(["    " + docstring(None, about), ""])
    lines.extend(assign_string("table", entity.table, 4))
    lines.extend(assign_string("_key", pk.name, 4))
    column_names = Group("(", [py_str(f.name) for f in entity.fields], ")", one_tuple=True)
    lines.extend(statement(column_names, 4, "_columns = "))
    convert = Group("{", [Pre(f"{py_str(f.name)}: ", converter(f)) for f in entity.fields], "}")
    lines.extend(statement(convert, 4, "_convert: ClassVar[dict[str, Callable[[Any], Any]]] = "))
    auto_now = [f.name for f in entity.fields if f.auto_now]
    if auto_now:
        group = Group("(", [py_str(n) for n in auto_now], ")", one_tuple=True)
        lines.extend(statement(group, 4, "_auto_now = "))
    # Text for the generated file, from validated and quoted identifiers only.
    insert = f"INSERT INTO {table} ({insert_cols}) VALUES ({marks})"  # noqa: S608
    if not inserted:  # only an SQLite-assigned key: nothing to give
        insert = f"INSERT INTO {table} DEFAULT VALUES"
    lines.extend(assign_string("_insert", insert, 4))
    lines.extend(assign_string("_select", f"SELECT {columns} FROM {table}", 4))  # noqa: S608
    # _row: the column values of an insert, in _insert's order.
    lines.append("")
    lines.extend(_method("_row", ["self", f"data: {e}Create", "now: str"], "tuple[Any, ...]"))
    values = Group("(", [_row_value(f) for f in inserted], ")", one_tuple=True)
    lines.extend(statement(values, 8, "return "))
    # _record: a fetched row as the record model.
    lines.append("")
    lines.extend(_method("_record", ["self", "row: Any"], e))
    items: list[Expr] = []
    for index, field in enumerate(entity.fields):
        value: Expr = f"row[{index}]"
        if field.value_type == "json":
            value = call("_json_value", f"row[{index}]")
        items.append(Pre(f"{py_str(field.name)}: ", value))
    lines.extend(statement(call(f"{e}.model_validate", Group("{", items, "}")), 8, "return "))
    lines.append("")
    params = ["self", f"data: {e}Create", "cursor: sqlite3.Cursor"]
    lines.extend(_method("_created_key", params, key_type))
    if pk.value_type == "int":
        lines.append("        return _lastrowid(cursor)")
    else:
        lines.append(f"        return data.{pk.name}")
    return lines
