"""SQLite persistence of the orchestrator models: the repositories over ``adw_sqlite``.

``adw_sqlite`` (standard library only, shared with the Claude Code hooks) owns the connection, the
schema migrations and transactions; this module re-exports them and adds one generic
``Repository`` that holds all CRUD; the per-table classes only name table, model, filters.

SQL is always parameterised; the only identifiers put into SQL text come from the model fields and
the fixed table names below. Every ``sqlite3`` error leaves this module as ``DatabaseError``.
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from operator import itemgetter
from types import UnionType
from typing import (
    Annotated,
    Any,
    ClassVar,
    Generic,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .adw_sqlite import (
    BUSY_TIMEOUT_S,
    MIGRATIONS,
    SCHEMA_PATH,
    SCHEMA_VERSION,
    TABLES,
    ConstraintError,
    DatabaseError,
    Migration,
    SchemaVersionError,
    _error,
    atomic,
    connect,
    database_file,
    init_schema,
    schema_version,
    split_statements,
)
from .orch_database_models import (
    Agent,
    AgentLog,
    OrchestratorAgent,
    Prompt,
    SystemLog,
    canonical_uuid,
    format_timestamp,
    utc_now,
)

_IDENTIFIER = re.compile(r"[a-z_]+")
# ensure_ascii=False keeps text readable in the file; separators drop the padding spaces.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


M = TypeVar("M", bound=BaseModel)
Row = tuple[Any, ...]


def _encode_json(value: Any) -> str:
    return _JSON.encode(value)


def _column_kind(field: FieldInfo) -> str:
    """How a field is stored: ``uuid`` / ``time`` / ``json`` need conversion, ``plain`` not."""
    types: set[object] = set()
    validators = [getattr(item, "func", None) for item in field.metadata]
    pending: builtins.list[object] = [field.annotation]
    while pending:  # unwrap Optional[...] and Annotated[...] down to the stored types
        annotation = pending.pop()
        origin = get_origin(annotation)
        if origin is Annotated:
            inner, *extra = get_args(annotation)
            pending.append(inner)
            validators += [getattr(item, "func", None) for item in extra]
        elif origin is Union or origin is UnionType:
            pending.extend(get_args(annotation))
        else:
            types.add(origin or annotation)
    if canonical_uuid in validators:
        return "uuid"
    if datetime in types:
        return "time"
    return "json" if dict in types else "plain"


class Repository(Generic[M]):
    """CRUD for one table; subclasses set ``table``, ``model`` and ``filters`` only.

    The column list is the model's field list, in order; timestamps are stored as fixed-width
    text, metadata as JSON text. ``list`` returns newest first (``created_at``, then insertion).
    """

    table: ClassVar[str]
    model: type[M]
    filters: ClassVar[frozenset[str]] = frozenset()

    _columns: ClassVar[tuple[str, ...]]
    _uuid_columns: ClassVar[frozenset[str]]
    _has_updated_at: ClassVar[bool]
    _values: ClassVar[itemgetter[Any]]
    _converters: ClassVar[tuple[tuple[int, Callable[[Any], Any]], ...]]
    _decoders: ClassVar[tuple[tuple[int, Callable[[Any], Any]], ...]]
    _insert_sql: ClassVar[str]
    _select_sql: ClassVar[str]
    _update_sql: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Derive columns and SQL once per table from the model's fields."""
        super().__init_subclass__(**kwargs)
        fields = cls.model.model_fields
        columns = tuple(fields)
        if cls.table not in TABLES or not all(_IDENTIFIER.fullmatch(c) for c in columns):
            raise TypeError(f"{cls.__name__}: unexpected table or column name")
        if columns[0] != "id" or not cls.filters <= set(columns):
            raise TypeError(f"{cls.__name__}: id must come first and filters must be columns")
        kinds = {name: _column_kind(field) for name, field in fields.items()}
        convert = {"time": format_timestamp, "json": _encode_json}
        # fromisoformat gives datetime.UTC for "+00:00", which the models accept without work;
        # pydantic's own text parsing would need a tz conversion per timestamp.
        decode = {"time": datetime.fromisoformat, "json": json.loads}
        cls._columns = columns
        cls._uuid_columns = frozenset(c for c in columns if kinds[c] == "uuid")
        cls._has_updated_at = "updated_at" in columns
        # itemgetter pulls every field value out of the model's __dict__ in one C call.
        cls._values = itemgetter(*columns)
        cls._converters = tuple(
            (i, convert[kinds[c]]) for i, c in enumerate(columns) if kinds[c] in convert
        )
        cls._decoders = tuple(
            (i, decode[kinds[c]]) for i, c in enumerate(columns) if kinds[c] in decode
        )
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        updates = ", ".join(f"{c} = ?" for c in columns[1:])
        # Identifiers below are the whitelisted table/column names checked above.
        cls._insert_sql = f"INSERT INTO {cls.table} ({names}) VALUES ({marks})"  # noqa: S608
        cls._select_sql = f"SELECT {names} FROM {cls.table}"  # noqa: S608
        cls._update_sql = f"UPDATE {cls.table} SET {updates} WHERE id = ?"  # noqa: S608

    def __init__(self, conn: sqlite3.Connection) -> None:
        """Work over ``conn`` (from ``connect``); the caller owns and closes it."""
        self.conn = conn

    # -- row mapping ---------------------------------------------------------------------------

    def to_row(self, model: M) -> Row:
        """The SQLite parameters for ``model``, in column order."""
        if type(model) is not self.model:
            raise TypeError(f"{self.table} stores {self.model.__name__}, not {type(model)!r}")
        row: Row = self._values(model.__dict__)
        if not self._converters:
            return row
        values = list(row)
        try:
            for index, convert in self._converters:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
        except (TypeError, ValueError) as exc:  # metadata mutated in place after validation
            raise ValueError(f"{self.table}.{self._columns[index]}: {exc}") from exc
        return tuple(values)

    def from_row(self, row: Row) -> M:
        """The model for a row selected in column order (validated: the file may be foreign)."""
        values = list(row)
        try:
            for index, decode in self._decoders:
                value = values[index]
                if value is not None:
                    values[index] = decode(value)
            return self.model.model_validate(dict(zip(self._columns, values, strict=True)))
        except (TypeError, ValueError, ValidationError) as exc:
            raise DatabaseError(f"{self.table}: row {row[0]!r} is invalid: {exc}") from exc

    # -- helpers -------------------------------------------------------------------------------

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, tuple(params))
        except (sqlite3.Error, OverflowError, UnicodeEncodeError) as exc:
            raise _error(exc, self.table) from exc

    def _where(self, filters: dict[str, Any]) -> tuple[str, list[Any]]:
        """``WHERE`` text and parameters for equality filters; ``None`` matches NULL."""
        unknown = sorted(set(filters) - self.filters)
        if unknown:
            allowed = ", ".join(sorted(self.filters)) or "none"
            raise ValueError(
                f"unknown filter(s) for {self.table}: {', '.join(unknown)} (allowed: {allowed})"
            )
        clauses: list[str] = []
        params: list[Any] = []
        for name, value in sorted(filters.items()):
            if value is None:
                clauses.append(f"{name} IS NULL")
                continue
            if name in self._uuid_columns and isinstance(value, str):
                value = value.lower()  # ids are stored lower-case
            clauses.append(f"{name} = ?")
            params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    # -- CRUD ----------------------------------------------------------------------------------

    def create(self, model: M) -> M:
        """Insert ``model``; ``ConstraintError`` if its id exists or a reference is missing."""
        self._execute(self._insert_sql, self.to_row(model))
        return model

    def create_many(self, models: Iterable[M]) -> int:
        """Insert many models in one transaction (all or none); returns how many."""
        rows = map(self.to_row, models)
        with atomic(self.conn):
            try:
                cursor = self.conn.executemany(self._insert_sql, rows)
            except (sqlite3.Error, OverflowError, UnicodeEncodeError) as exc:
                raise _error(exc, self.table) from exc
        return cursor.rowcount

    def get(self, id: str) -> M | None:
        """The model with ``id`` (any case), or ``None``."""
        row = self._execute(f"{self._select_sql} WHERE id = ?", (id.lower(),)).fetchone()
        return None if row is None else self.from_row(row)

    def list(self, *, limit: int = 100, offset: int = 0, **filters: Any) -> builtins.list[M]:
        """Rows matching all ``filters`` (column = value), newest first."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must be >= 0")
        where, params = self._where(filters)
        # rowid breaks ties between equal timestamps: later insert = newer.
        sql = f"{self._select_sql}{where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
        rows = self._execute(sql, [*params, limit, offset]).fetchall()
        return [self.from_row(row) for row in rows]

    def count(self, **filters: Any) -> int:
        """How many rows match all ``filters``."""
        where, params = self._where(filters)
        sql = f"SELECT count(*) FROM {self.table}{where}"  # noqa: S608 (whitelisted identifiers)
        return int(self._execute(sql, params).fetchone()[0])

    def update(self, model: M) -> M | None:
        """Write every field of ``model`` over its row (``updated_at`` moves to now, when the
        table has it); returns the stored model, or ``None`` when no row has that id."""
        if self._has_updated_at:
            model = model.model_copy(update={"updated_at": utc_now()})
        id_, *rest = self.to_row(model)
        cursor = self._execute(self._update_sql, [*rest, id_])
        return model if cursor.rowcount else None

    def delete(self, id: str) -> bool:
        """Delete the row with ``id`` (its children go with it, by cascade); True if one was."""
        sql = f"DELETE FROM {self.table} WHERE id = ?"  # noqa: S608 (whitelisted identifier)
        return self._execute(sql, (id.lower(),)).rowcount > 0


class OrchestratorAgentRepository(Repository[OrchestratorAgent]):
    """The ``orchestrator_agents`` table."""

    table = "orchestrator_agents"
    model = OrchestratorAgent
    filters = frozenset({"name", "status"})

    def get_or_create(self, name: str) -> OrchestratorAgent:
        """The orchestrator agent called ``name``, created (``active``) if missing."""
        found = self.list(name=name, limit=1)
        if found:
            return found[0]
        candidate = OrchestratorAgent(name=name)  # validate before taking the write lock
        with atomic(self.conn):
            found = self.list(name=name, limit=1)  # another process may have just created it
            return found[0] if found else self.create(candidate)


class AgentRepository(Repository[Agent]):
    """The ``agents`` table: one row per run."""

    table = "agents"
    model = Agent
    filters = frozenset({"orchestrator_agent_id", "session_id", "status"})


class PromptRepository(Repository[Prompt]):
    """The ``prompts`` table."""

    table = "prompts"
    model = Prompt
    filters = frozenset({"agent_id", "status"})


class AgentLogRepository(Repository[AgentLog]):
    """The ``agent_logs`` table."""

    table = "agent_logs"
    model = AgentLog
    filters = frozenset({"agent_id", "log_type"})


class SystemLogRepository(Repository[SystemLog]):
    """The ``system_logs`` table."""

    table = "system_logs"
    model = SystemLog
    filters = frozenset({"log_level", "source"})


__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "TABLES",
    "AgentLogRepository",
    "AgentRepository",
    "ConstraintError",
    "DatabaseError",
    "Migration",
    "OrchestratorAgentRepository",
    "PromptRepository",
    "Repository",
    "SchemaVersionError",
    "SystemLogRepository",
    "atomic",
    "connect",
    "database_file",
    "init_schema",
    "schema_version",
    "split_statements",
]
