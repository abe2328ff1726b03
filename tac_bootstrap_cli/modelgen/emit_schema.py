"""Emit ``schema.sql``: tables with NOT NULL, named CHECKs, UNIQUE and foreign keys; then indexes."""

from __future__ import annotations

from tac_bootstrap_cli.modelgen.common import (
    Origin,
    applied_bounds,
    gc_paused,
    quote_ident,
    sql_str,
)
from tac_bootstrap_cli.modelgen.dialects import SQLITE, Dialect, dialect_of, sqlite_number
from tac_bootstrap_cli.modelgen.pyfmt import comment
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec, ModelSpec

_ON_DELETE = {"cascade": "CASCADE", "set_null": "SET NULL", "restrict": "RESTRICT"}

sql_number = sqlite_number  # the SQLite dialect's bound literal, under its former name


def sql_type(field: FieldSpec, dialect: Dialect = SQLITE) -> str:
    """The column type (SQLite: INTEGER, REAL or TEXT; datetimes, UUIDs and JSON are text)."""
    return dialect.column_type(field)


def check_expr(field: FieldSpec, dialect: Dialect = SQLITE) -> str | None:
    """The CHECK expression of a column (enum values, 0/1, bounds, lengths), or None."""
    column = quote_ident(field.name)
    parts: list[str] = []
    if field.type == "enum":
        parts.append(f"{column} IN ({', '.join(sql_str(v) for v in field.values)})")
    if field.value_type == "bool" and dialect.bool_check:
        parts.append(f"{column} IN (0, 1)")
    bounded = applied_bounds(field)
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        bound = getattr(bounded, key)
        if bound is not None:
            parts.append(f"{column} {sign} {dialect.number(bound)}")
    if field.min_length is not None:
        parts.append(f"{dialect.length_function}({column}) >= {field.min_length}")
    if field.max_length is not None:
        parts.append(f"{dialect.length_function}({column}) <= {field.max_length}")
    return " AND ".join(parts) if parts else None


def constraints(entity: EntitySpec, dialect: Dialect) -> list[tuple[str, tuple[str, ...]]]:
    """The entity's key, unique and check constraints as (kind, columns), in schema order."""
    found: list[tuple[str, tuple[str, ...]]] = [("pk", (entity.pk.name,))]
    found.extend(("unique", (f.name,)) for f in entity.fields if f.unique and not f.primary_key)
    found.extend(("check", (f.name,)) for f in entity.fields if check_expr(f, dialect))
    found.extend(("unique", columns) for columns in entity.unique)
    return found


def index_plan(
    spec: ModelSpec, dialect: Dialect = SQLITE
) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Entity name -> (index name, columns): ``index: true`` fields, ``indexes``, and ref columns.

    A ref column gets an index unless it is unique or leads another index: cascades and filters by
    parent then look rows up instead of scanning. Index names share SQLite's namespace with tables,
    so a name already taken gets a numeric suffix.
    """
    taken = {e.table.lower() for e in spec.entities}
    plan: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for entity in spec.entities:
        wanted: list[tuple[str, ...]] = [
            (f.name,) for f in entity.fields if f.index and not f.primary_key
        ]
        wanted.extend(entity.indexes)
        covered = {cols[0] for cols in (*wanted, *entity.unique)}
        covered.update(f.name for f in entity.fields if f.unique or f.primary_key)
        wanted.extend((f.name,) for f in entity.fields if f.is_ref and f.name not in covered)
        result: list[tuple[str, tuple[str, ...]]] = []
        seen: set[tuple[str, ...]] = set()
        for columns in wanted:
            if columns in seen:
                continue
            seen.add(columns)
            base = f"ix_{entity.table}_{'_'.join(columns)}"
            name, n = dialect.short_name(base), 2
            while name.lower() in taken:
                name, n = dialect.short_name(f"{base}_{n}"), n + 1
            taken.add(name.lower())
            result.append((name, columns))
        plan[entity.name] = result
    return plan


@gc_paused
def emit_schema(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``schema.sql`` (idempotent: every statement says IF NOT EXISTS)."""
    dialect = dialect_of(origin.dialect)
    lines = origin.header("--")
    about = f"{dialect.title} schema of {spec.module}"
    if spec.description:
        about += f": {spec.description}"
    lines.append(f"-- {comment(about)}")
    lines.extend(dialect.schema_notes)
    all_indexes = index_plan(spec, dialect)
    by_name = {e.name: e for e in spec.entities}  # spec.entity() scans: quadratic over refs
    later = set() if dialect.forward_refs else set(by_name)  # refs to these are added after
    deferred: list[str] = []
    for entity in spec.entities:
        later.discard(entity.name)
        lines.append("")
        lines.extend(_table(by_name, entity, dialect, later))
        deferred.extend(
            _added_foreign_key(by_name, entity, field, dialect)
            for field in entity.fields
            if field.to in later
        )
    if deferred:
        lines.append("")
        lines.append("-- Foreign keys to tables created after their own table.")
        lines.extend(deferred)
    if any(all_indexes.values()):
        lines.append("")
    for entity in spec.entities:
        for name, columns in all_indexes[entity.name]:
            cols = ", ".join(quote_ident(c) for c in columns)
            lines.append(
                f"CREATE INDEX IF NOT EXISTS {quote_ident(name)} "
                f"ON {quote_ident(entity.table)} ({cols});"
            )
    return "\n".join(lines) + "\n"


def _column(entity: EntitySpec, field: FieldSpec, dialect: Dialect) -> str:
    """A column definition: name, type and the constraints that fit on its line."""
    column = f"{quote_ident(field.name)} {dialect.column_type(field)}"
    if field.primary_key:
        named = dialect.constraint(entity.table, "pk", (field.name,))
        if field.value_type == "int":
            return f"{column}{dialect.int_key} {named}PRIMARY KEY"
        return f"{column} {named}PRIMARY KEY NOT NULL"
    if not field.nullable:
        column += " NOT NULL"
    if field.unique:
        column += f" {dialect.constraint(entity.table, 'unique', (field.name,))}UNIQUE"
    return column


def _foreign_key(by_name: dict[str, EntitySpec], field: FieldSpec) -> str:
    """``FOREIGN KEY (...) REFERENCES ... ON DELETE ...`` of a ref field."""
    target = by_name[str(field.to)]
    return (
        f"FOREIGN KEY ({quote_ident(field.name)}) REFERENCES {quote_ident(target.table)} "
        f"({quote_ident(target.pk.name)}) ON DELETE {_ON_DELETE[field.on_delete]}"
    )


def _added_foreign_key(
    by_name: dict[str, EntitySpec], entity: EntitySpec, field: FieldSpec, dialect: Dialect
) -> str:
    """A foreign key added once its target exists (PostgreSQL checks targets at CREATE TABLE).

    ``ADD CONSTRAINT`` has no ``IF NOT EXISTS``: a block that ignores ``duplicate_object``
    keeps the file idempotent.
    """
    name = quote_ident(dialect.short_name(f"fk.{entity.table}.{field.name}"))
    alter = f"ALTER TABLE {quote_ident(entity.table)} ADD CONSTRAINT {name} "
    alter += _foreign_key(by_name, field)
    return f"DO $$ BEGIN {alter}; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"


def _table(
    by_name: dict[str, EntitySpec], entity: EntitySpec, dialect: Dialect, later: set[str]
) -> list[str]:
    """CREATE TABLE of ``entity``; its refs to ``later`` entities are added afterwards."""
    lines: list[str] = []
    if entity.description:
        lines.append(f"-- {entity.name}: {comment(entity.description)}")
    lines.append(f"CREATE TABLE IF NOT EXISTS {quote_ident(entity.table)} (")
    items = [_column(entity, field, dialect) for field in entity.fields]
    for field in entity.fields:
        check = check_expr(field, dialect)
        if check:
            named = dialect.constraint(entity.table, "check", (field.name,))
            items.append(f"{named}CHECK ({check})")
    for columns in entity.unique:
        named = dialect.constraint(entity.table, "unique", columns)
        items.append(f"{named}UNIQUE ({', '.join(quote_ident(c) for c in columns)})")
    items.extend(
        _foreign_key(by_name, f)
        for f in entity.fields
        if f.is_ref and f.to is not None and f.to not in later
    )
    lines.extend(f"    {item}," for item in items[:-1])
    lines.append(f"    {items[-1]}")
    lines.append(");")
    return lines
