"""The repository text both dialects share: imports, ConstraintError's constructor, the base class.

``runtime_sqlite`` and ``runtime_postgres`` build their ``IMPORTS`` and ``PREAMBLE`` around
these. The base class (``_quote`` to ``_Repository._order``) is one ``string.Template``;
``repository`` fills its slots with what a dialect does differently: the SQL placeholder, the
connection, cursor and timestamp types, the insert methods, ``LIMIT`` for "no limit" and reading
``COUNT(*)``. A slot that holds lines holds whole lines, each ending in a newline.
"""

from dataclasses import asdict, dataclass
from string import Template

IMPORTS_HEAD = ("import builtins", "import contextlib", "import datetime")
"""The repository module's first imports, in both dialects."""

IMPORTS_FROM = (
    "from collections.abc import Callable, Iterable, Iterator",
    "from pathlib import Path",
    "from typing import Any, ClassVar, Generic, TypeVar",
    "from uuid import UUID",
    "",
)
"""The standard library ``from`` imports of the repository module, and the blank line after."""

CONSTRAINT_ERROR_INIT = """\
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
"""
"""``ConstraintError.__init__``: the message names the kind, table and columns."""

_REPOSITORY = Template(
    '''\
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
${class_vars}    _select: ClassVar[str]

    def __init__(self, conn: ${connection}) -> None:
        self.conn = conn

    def _row(self, data: CreateT, now: ${now}) -> tuple[Any, ...]:
        raise NotImplementedError

    def _record(self, row: Any) -> RecordT:
        raise NotImplementedError

    def _created_key(self, data: CreateT, cursor: ${cursor}) -> KeyT:
        raise NotImplementedError

${create}
    def get(self, key: KeyT) -> RecordT | None:
        """The record with primary key ``key``, or None."""
        sql = f"{self._select} WHERE {_quote(self._key)} = ${mark}"
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
        sql = f"{self._select}{where} ORDER BY {order} LIMIT ${mark} OFFSET ${mark}"
        params.extend([${limit}, offset])
        return [self._record(row) for row in self.conn.execute(sql, params)]

    def count(self, **filters: Any) -> int:
        """How many records are equal to ``filters``."""
        where, params = self._where(filters)
        sql = f"SELECT COUNT(*) FROM {_quote(self.table)}{where}"
${count_result}
    def update(self, key: KeyT, data: UpdateT) -> RecordT | None:
        """Write the fields set in ``data`` (and auto_now); None if it is missing."""
        names = [name for name in self._columns if name in data.model_fields_set]
        params = [self._convert[name](getattr(data, name)) for name in names]
        now = _now()
        names.extend(self._auto_now)
        params.extend(now for _ in self._auto_now)
        if names:
            assignments = ", ".join(f"{_quote(name)} = ${mark}" for name in names)
            where = f"{_quote(self._key)} = ${mark}"
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
        sql = f"DELETE FROM {_quote(self.table)} WHERE {_quote(self._key)} = ${mark}"
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
                clauses.append(f"{_quote(name)} = ${mark}")
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
'''
)


@dataclass(frozen=True, kw_only=True)
class RepositorySlots:
    """What one dialect puts in the shared base class text."""

    mark: str
    """The SQL parameter placeholder: ``?`` or ``%s``."""
    connection: str
    """The connection type, as written in the generated module."""
    cursor: str
    """The cursor type ``_created_key`` takes."""
    now: str
    """The type of ``_now()``, the auto_now value."""
    class_vars: str
    """ClassVar lines declared after ``_insert`` (or nothing)."""
    create: str
    """The ``create`` and ``create_many`` methods."""
    limit: str
    """The ``LIMIT`` parameter for ``limit`` (None: no limit)."""
    count_result: str
    """``count``'s last line(s): the fetched ``COUNT(*)`` as an int."""


def repository(slots: RepositorySlots) -> str:
    """The base class text, from ``_quote`` to ``_Repository._order``, for one dialect."""
    return _REPOSITORY.substitute(asdict(slots))
