"""Persistence of the orchestrator models: the repositories over SQLite or PostgreSQL.

One generic ``Repository`` holds all CRUD; the per-table classes only name table, model, filters.
The backend is ``adw_backend``'s business (``open_database``, ``init_schema``, ``atomic``,
``schema_version``, and the ``_Dialect`` a repository takes from the connection it is given); this
module re-exports it and ``adw_sqlite``'s names, so callers import one module.

Bulk writes (``create_many``) validate field mappings in one pydantic pass over the list, turn the
models into rows column by column, and run with the cyclic garbage collector paused: models and
rows make no reference cycles, and each collection would rescan everything built so far.

SQL is always parameterised; the only identifiers put into SQL text come from the model fields and
the fixed table names below. Every ``sqlite3`` or psycopg error leaves this module as
``DatabaseError`` (a constraint as ``ConstraintError``, worded as SQLite words it).
"""

from __future__ import annotations

import builtins
import gc
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from operator import attrgetter, itemgetter
from types import UnionType
from typing import Annotated, Any, ClassVar, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from .adw_backend import (
    _FAST_JSON,
    _SQLITE,
    Connection,
    Cursor,
    _Dialect,
    _dialect,
    _encode_json,
    _same,
    atomic,
    database_file,
    init_schema,
    is_postgres_url,
    open_database,
    schema_version,
)
from .adw_backend import _JSON as _JSON  # the metadata JSON encoder, importable here as before
from .adw_backend import POSTGRES_SCHEMES as POSTGRES_SCHEMES  # importable here, as before
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
    connect,
    split_statements,
)
from .orch_database_models import (
    LOG_TYPES,
    Agent,
    AgentLog,
    LogType,
    OrchestratorAgent,
    Prompt,
    SystemLog,
    _json_object,
    canonical_uuid,
    new_id,
    utc_now,
)

_IDENTIFIER = re.compile(r"[a-z_]+")
_instance_dict = attrgetter("__dict__")
# An id as the models store it: canonical lower-case 8-4-4-4-12 (canonical_uuid's output).
_STORED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


M = TypeVar("M", bound=BaseModel)
Row = tuple[Any, ...]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk write (restored as it was afterwards).

    Validating 200,000 mappings with the collector on cost twice as much CPU: every collection
    rescans all the models and rows built so far, none of which can be part of a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    _kinds: ClassVar[dict[str, str]]
    _uuid_columns: ClassVar[frozenset[str]]
    _has_updated_at: ClassVar[bool]
    _values: ClassVar[itemgetter[Any]]
    # Per backend (the class holds SQLite's; an instance over PostgreSQL sets its own).
    _converters: tuple[tuple[int, Callable[[Any], Any]], ...]
    _decoders: tuple[tuple[int, Callable[[Any], Any]], ...]
    _insert_sql: str
    _select_sql: str
    _update_sql: str
    _mark: str
    _dialect: _Dialect

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Derive columns and SQL once per table from the model's fields."""
        super().__init_subclass__(**kwargs)
        fields = cls.model.model_fields
        columns = tuple(fields)
        if cls.table not in TABLES or not all(_IDENTIFIER.fullmatch(c) for c in columns):
            raise TypeError(f"{cls.__name__}: unexpected table or column name")
        if columns[0] != "id" or not cls.filters <= set(columns):
            raise TypeError(f"{cls.__name__}: id must come first and filters must be columns")
        cls._kinds = {name: _column_kind(field) for name, field in fields.items()}
        cls._columns = columns
        cls._uuid_columns = frozenset(c for c in columns if cls._kinds[c] == "uuid")
        cls._has_updated_at = "updated_at" in columns
        # itemgetter pulls every field value out of the model's __dict__ in one C call.
        cls._values = itemgetter(*columns)
        cls._use(cls, _SQLITE)  # the class itself holds SQLite's SQL and conversions

    @staticmethod
    def _use(target: Any, dialect: _Dialect) -> None:
        """Set the SQL text and value conversions of ``dialect`` on a class or an instance."""
        columns, kinds, mark = target._columns, target._kinds, dialect.mark
        target._dialect = dialect
        target._mark = mark
        target._converters = tuple(
            (i, dialect.encode[kinds[c]])
            for i, c in enumerate(columns)
            if dialect.encode.get(kinds[c], _same) is not _same
        )
        target._decoders = tuple(
            (i, dialect.decode[kinds[c]])
            for i, c in enumerate(columns)
            if kinds[c] in dialect.decode
        )
        names = ", ".join(columns)
        marks = ", ".join(mark for _ in columns)
        updates = ", ".join(f"{c} = {mark}" for c in columns[1:])
        table = target.table
        # Identifiers below are the whitelisted table/column names checked above.
        target._insert_sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        target._select_sql = f"SELECT {names} FROM {table}"  # noqa: S608
        target._update_sql = f"UPDATE {table} SET {updates} WHERE id = {mark}"  # noqa: S608

    def __init__(self, conn: Connection) -> None:
        """Work over ``conn`` (from ``open_database`` or ``connect``); the caller owns and
        closes it. A PostgreSQL connection gets that dialect's SQL and conversions."""
        self.conn = conn
        dialect = _dialect(conn)
        if dialect is not self._dialect:
            self._use(self, dialect)

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

    @classmethod
    def _list_adapter(cls) -> TypeAdapter[builtins.list[M]]:
        """The validator of a list of this table's records (built on first use: it is only
        needed by bulk writes, and building it at import would slow every start-up)."""
        adapter: TypeAdapter[builtins.list[M]] | None = cls.__dict__.get("_adapter")
        if adapter is None:
            adapter = TypeAdapter(builtins.list[cls.model])  # type: ignore[name-defined]
            cls._adapter = adapter  # type: ignore[attr-defined]
        return adapter

    def validate_many(self, items: Iterable[M | Mapping[str, Any]]) -> builtins.list[M]:
        """``items`` as models: models of this table are kept as they are, field mappings are
        validated in one pass. A ``ValidationError`` locates each problem by the item's index
        and the field (``3.agent_id``); a model of another table is a ``TypeError``."""
        records = items if isinstance(items, builtins.list) else builtins.list(items)
        model = self.model
        if all(type(item) is model for item in records):
            return records  # type: ignore[return-value]  # every item is an M
        for item in records:
            if isinstance(item, BaseModel) and type(item) is not model:
                raise TypeError(f"{self.table} stores {model.__name__}, not {type(item)!r}")
        # Models in the list pass through unchanged (pydantic does not revalidate instances).
        return self._list_adapter().validate_python(records)

    def to_rows(self, models: builtins.list[M]) -> Iterable[Row]:
        """The rows of ``models`` (validated, of this table), in order: ``to_row`` of each,
        built a column at a time (one C call pulls every value, converters run per column)."""
        rows: builtins.list[Row] = builtins.list(map(self._values, map(_instance_dict, models)))
        if not self._converters or not rows:
            return rows
        columns: builtins.list[Any] = builtins.list(zip(*rows, strict=True))
        try:
            for index, convert in self._converters:
                if convert is _encode_json:
                    convert = _FAST_JSON
                columns[index] = [None if v is None else convert(v) for v in columns[index]]
        except (TypeError, ValueError, RecursionError):  # metadata mutated after validation
            for model in models:
                self.to_row(model)  # raises the same error, naming the table and column
            raise
        return zip(*columns, strict=True)

    # -- helpers -------------------------------------------------------------------------------

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> Cursor:
        try:
            return self.conn.execute(sql, tuple(params))
        except self._dialect.errors as exc:
            raise self._dialect.error(exc, self.table) from exc

    def _is_id(self, value: object) -> bool:
        """False for text that cannot be an id where ids are a UUID type (PostgreSQL would
        refuse the comparison; no row can match it)."""
        return not (
            self._dialect.uuid_columns
            and isinstance(value, str)
            and _STORED_UUID.fullmatch(value.lower()) is None
        )

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
                if not self._is_id(value):
                    clauses.append("1 = 0")
                    continue
            clauses.append(f"{name} = {self._mark}")
            params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    # -- CRUD ----------------------------------------------------------------------------------

    def create(self, model: M) -> M:
        """Insert ``model``; ``ConstraintError`` if its id exists or a reference is missing."""
        self._execute(self._insert_sql, self.to_row(model))
        return model

    def create_many(self, items: Iterable[M | Mapping[str, Any]]) -> int:
        """Insert many records in one transaction (all or none); returns how many.

        ``items`` are models or field mappings (``{"agent_id": ..., "message": ...}``); the
        mappings are validated together before anything is written (``validate_many``: a
        ``ValidationError`` names the item's index and field).
        """
        with _gc_paused():
            rows = self.to_rows(self.validate_many(items))
            with atomic(self.conn):
                try:
                    if isinstance(self.conn, sqlite3.Connection):
                        return self.conn.executemany(self._insert_sql, rows).rowcount
                    # PostgreSQL: COPY, one statement for all rows (psycopg's executemany is a
                    # round of Bind/Execute per row: 2.2x the COPY floor, measured at 20,000).
                    return self.conn.copy_rows(self.table, self._columns, rows)
                except self._dialect.errors as exc:
                    raise self._dialect.error(exc, self.table) from exc

    def get(self, id: str) -> M | None:
        """The model with ``id`` (any case), or ``None``."""
        if not self._is_id(id):
            return None
        row = self._execute(f"{self._select_sql} WHERE id = {self._mark}", (id.lower(),)).fetchone()
        return None if row is None else self.from_row(row)

    def list(self, *, limit: int = 100, offset: int = 0, **filters: Any) -> builtins.list[M]:
        """Rows matching all ``filters`` (column = value), newest first."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must be >= 0")
        where, params = self._where(filters)
        # rowid breaks ties between equal timestamps: later insert = newer.
        mark = self._mark
        sql = f"{self._select_sql}{where} ORDER BY created_at DESC, rowid DESC LIMIT {mark} OFFSET {mark}"
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
        if not self._is_id(id):
            return False
        sql = f"DELETE FROM {self.table} WHERE id = {self._mark}"  # noqa: S608 (whitelisted identifier)
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
        try:
            with atomic(self.conn):
                found = self.list(name=name, limit=1)  # another process may have just created it
                return found[0] if found else self.create(candidate)
        except ConstraintError:
            # PostgreSQL takes no table lock here: another writer created it in between.
            found = self.list(name=name, limit=1)
            if found:
                return found[0]
            raise


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

    def append(
        self,
        agent_id: str,
        log_type: LogType,
        message: str,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Insert one log entry made now; returns its id. The logging API's path, one per event.

        The same row as ``create(AgentLog(agent_id=..., log_type=..., message=...,
        metadata=...))`` after the same checks (canonical id, known type, text, metadata by the
        model's own rule), without building a model. Anything those quick checks do not take
        as it is goes through the model, so a bad value raises the model's ``ValidationError``.
        """
        row: Row | None = None
        if (
            type(agent_id) is str
            and _STORED_UUID.fullmatch(agent_id)
            and type(log_type) is str
            and log_type in LOG_TYPES
            and type(message) is str
        ):
            try:
                now = self._dialect.encode["time"](utc_now())
                if metadata is None:
                    row = (new_id(), agent_id, log_type, message, None, now)
                elif type(metadata) is dict:
                    # _json_object's result is a tree: the encoder without a loop check is safe.
                    meta = _FAST_JSON(_json_object(metadata))
                    row = (new_id(), agent_id, log_type, message, meta, now)
            except ValueError:
                row = None  # the model says what is wrong, in its own words
        if row is None:
            model = AgentLog(
                agent_id=agent_id,
                log_type=log_type,
                message=message,
                metadata=metadata,
            )
            row = self.to_row(model)
        try:
            self.conn.execute(self._insert_sql, row)
        except self._dialect.errors as exc:
            raise self._dialect.error(exc, self.table) from exc
        return str(row[0])


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
    "Connection",
    "ConstraintError",
    "Cursor",
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
    "is_postgres_url",
    "open_database",
    "schema_version",
    "split_statements",
]
