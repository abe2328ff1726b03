"""Emit ``schema.sql``: tables with NOT NULL, named CHECKs, UNIQUE and foreign keys; then indexes."""

from __future__ import annotations

from tac_bootstrap_cli.modelgen.common import (
    Origin,
    applied_bounds,
    gc_paused,
    quote_ident,
    sql_str,
)
from tac_bootstrap_cli.modelgen.pyfmt import comment, py_number
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec, ModelSpec

# Bounds in CHECKs: SQLite's decimal parser is not correctly rounded (3.40.1 reads
# -106323.488609 one ulp away from Python's double), so a decimal literal could put the database's
# bound one float away from Pydantic's. Decimals that every parser reads exactly stay as they are
# (short binary fractions: 0.5, 100.0, -2.25); any other float is written as its exact binary
# value, an integer times or divided by powers of two, which SQLite computes without rounding.
_EXACT_DENOMINATOR = 2**10
_EXACT_NUMERATOR = 2**53
_POW2_STEP = 62  # 2**62 is still an SQLite INTEGER literal

_SQL_TYPES = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER"}
_ON_DELETE = {"cascade": "CASCADE", "set_null": "SET NULL", "restrict": "RESTRICT"}


def sql_type(field: FieldSpec) -> str:
    """The column type: INTEGER, REAL or TEXT (datetimes, dates, UUIDs and JSON are text)."""
    return _SQL_TYPES.get(field.value_type, "TEXT")


def sql_number(value: int | float) -> str:
    """An SQL literal (or exact expression) whose value is exactly ``value`` in any SQLite."""
    if not isinstance(value, float):
        return str(int(value))
    numerator, denominator = value.as_integer_ratio()
    if denominator <= _EXACT_DENOMINATOR and abs(numerator) <= _EXACT_NUMERATOR:
        return py_number(value)
    if denominator > 1:  # |value| = m / 2**k, m < 2**53: one exact division per step
        mantissa, shift, op = numerator, denominator.bit_length() - 1, "/"
    else:  # a large integer: m * 2**k
        shift = (numerator & -numerator).bit_length() - 1
        mantissa, op = numerator >> shift, "*"
    parts = [f"CAST({mantissa} AS REAL)"]
    while shift > 0:
        step = min(shift, _POW2_STEP)
        parts.append(f"{op} {2**step}")
        shift -= step
    return "(" + " ".join(parts) + f" /* {py_number(value)} */)"


def check_expr(field: FieldSpec) -> str | None:
    """The CHECK expression of a column (enum values, 0/1, bounds, lengths), or None."""
    column = quote_ident(field.name)
    parts: list[str] = []
    if field.type == "enum":
        parts.append(f"{column} IN ({', '.join(sql_str(v) for v in field.values)})")
    if field.value_type == "bool":
        parts.append(f"{column} IN (0, 1)")
    bounded = applied_bounds(field)
    for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        bound = getattr(bounded, key)
        if bound is not None:
            parts.append(f"{column} {sign} {sql_number(bound)}")
    if field.min_length is not None:
        parts.append(f"length({column}) >= {field.min_length}")
    if field.max_length is not None:
        parts.append(f"length({column}) <= {field.max_length}")
    return " AND ".join(parts) if parts else None


def check_name(entity: EntitySpec, field: FieldSpec) -> str:
    """The CHECK constraint's name, ``table.column``: SQLite reports it, so the column is known."""
    return f"{entity.table}.{field.name}"


def index_plan(spec: ModelSpec) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
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
            name, n = base, 2
            while name.lower() in taken:
                name, n = f"{base}_{n}", n + 1
            taken.add(name.lower())
            result.append((name, columns))
        plan[entity.name] = result
    return plan


@gc_paused
def emit_schema(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``schema.sql`` (idempotent: every statement says IF NOT EXISTS)."""
    lines = origin.header("--")
    about = f"SQLite schema of {spec.module}"
    if spec.description:
        about += f": {spec.description}"
    lines.append(f"-- {comment(about)}")
    lines.append(
        "-- Datetimes are ISO 8601 UTC text with microseconds (text order is time order), dates"
    )
    lines.append("-- ISO text, UUIDs lower-case text, JSON text, bools 0/1, secrets plain text.")
    all_indexes = index_plan(spec)
    by_name = {e.name: e for e in spec.entities}  # spec.entity() scans: quadratic over refs
    for entity in spec.entities:
        lines.append("")
        lines.extend(_table(by_name, entity))
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


def _column(field: FieldSpec) -> str:
    """A column definition: name, type and the constraints that fit on its line."""
    column = f"{quote_ident(field.name)} {sql_type(field)}"
    if field.primary_key:
        return column + (" PRIMARY KEY" if field.value_type == "int" else " PRIMARY KEY NOT NULL")
    if not field.nullable:
        column += " NOT NULL"
    if field.unique:
        column += " UNIQUE"
    return column


def _table(by_name: dict[str, EntitySpec], entity: EntitySpec) -> list[str]:
    lines: list[str] = []
    if entity.description:
        lines.append(f"-- {entity.name}: {comment(entity.description)}")
    lines.append(f"CREATE TABLE IF NOT EXISTS {quote_ident(entity.table)} (")
    items = [_column(field) for field in entity.fields]
    for field in entity.fields:
        check = check_expr(field)
        if check:
            items.append(f"CONSTRAINT {quote_ident(check_name(entity, field))} CHECK ({check})")
    for columns in entity.unique:
        items.append(f"UNIQUE ({', '.join(quote_ident(c) for c in columns)})")
    for field in entity.fields:
        if field.is_ref and field.to is not None:
            target = by_name[field.to]
            items.append(
                f"FOREIGN KEY ({quote_ident(field.name)}) REFERENCES {quote_ident(target.table)} "
                f"({quote_ident(target.pk.name)}) ON DELETE {_ON_DELETE[field.on_delete]}"
            )
    lines.extend(f"    {item}," for item in items[:-1])
    lines.append(f"    {items[-1]}")
    lines.append(");")
    return lines
