"""Emit ``repository.py``: connect, init_schema, ConstraintError, and one repository per entity."""

from __future__ import annotations

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.common import Origin, gc_paused, quote_ident
from tac_bootstrap_cli.modelgen.dialects import SQLITE, Dialect, dialect_of
from tac_bootstrap_cli.modelgen.emit_models import import_from
from tac_bootstrap_cli.modelgen.emit_schema import constraints
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


def converter(field: FieldSpec, dialect: Dialect = SQLITE) -> str:
    """The name of the function turning a field's Python value into its column value.

    None passes through every converter; the dialect's runtime defines them.
    """
    if field.value_type == "json":
        return "_json_or_null" if field.nullable else "_json"
    if field.secret:
        return "_secret"
    return dialect.converters.get(field.value_type, "_same")


@gc_paused
def emit_repository(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``repository.py``."""
    dialect = dialect_of(origin.dialect)
    about = (
        f"{dialect.title} persistence of {spec.module}: connect, init_schema, one repository"
        " per entity"
    )
    lines = origin.header("#")
    lines.append(docstring(about, ""))
    lines.append("")
    lines.extend(dialect.repo_imports)
    lines.extend(["from pydantic import BaseModel, SecretStr", ""])
    names = ["as_utc", "utc_now"]
    for entity in spec.entities:
        names.extend([entity.name, entity.name + "Create", entity.name + "Update"])
    names.sort(key=naming.import_key)
    lines.extend(import_from(".models", names))
    lines.extend(dialect.preamble.splitlines())
    if dialect.names_keys:
        lines.extend(_constraint_columns(spec, dialect))
    for entity in spec.entities:
        lines.extend(_repository(entity, dialect))
    return "\n".join(lines) + "\n"


def _constraint_columns(spec: ModelSpec, dialect: Dialect) -> list[str]:
    """``_CONSTRAINT_COLUMNS``: each named constraint's columns, for ConstraintError."""
    items: list[Expr] = []
    for entity in spec.entities:
        for kind, columns in constraints(entity, dialect):
            name = dialect.constraint_name(entity.table, kind, columns)
            if name is not None:
                value = Group("(", [py_str(c) for c in columns], ")", one_tuple=True)
                items.append(Pre(f"{py_str(name)}: ", value))
    lines = ["", ""]
    target = "_CONSTRAINT_COLUMNS: dict[str, tuple[str, ...]] = "
    lines.extend(statement(Group("{", items, "}"), 0, target))
    lines.append('"""Constraint name -> its columns (PostgreSQL reports the name)."""')
    return lines


def _key_type(field: FieldSpec) -> str:
    return {"int": "int", "uuid": "UUID", "str": "str"}[field.value_type]


def _row_value(field: FieldSpec, dialect: Dialect) -> Expr:
    if field.auto_now:
        return "now"
    name = converter(field, dialect)
    value = f"data.{field.name}"
    return value if name == "_same" else call(name, value)


def _method(name: str, params: list[str], returns: str) -> list[str]:
    """A method header at class level, one parameter per line when too long."""
    items: list[Expr] = list(params)
    return statement(Group(f"def {name}(", items, f") -> {returns}:"), 4)


def _inserted(entity: EntitySpec) -> list[FieldSpec]:
    """The columns an insert gives: all but an int key (the database assigns it)."""
    return [f for f in entity.fields if not (f.primary_key and f.value_type == "int")]


def _repository(entity: EntitySpec, dialect: Dialect) -> list[str]:
    e = entity.name
    base = Group("_Repository[", [e, f"{e}Create", f"{e}Update", _key_type(entity.pk)], "]")
    lines = ["", ""]
    lines.extend(statement(Group(f"class {e}Repository(", [base], "):"), 0))
    about = f"Create, read, update and delete {e} records (table {entity.table})"
    lines.extend(["    " + docstring(None, about), ""])
    lines.extend(assign_string("table", entity.table, 4))
    lines.extend(assign_string("_key", entity.pk.name, 4))
    column_names = Group("(", [py_str(f.name) for f in entity.fields], ")", one_tuple=True)
    lines.extend(statement(column_names, 4, "_columns = "))
    convert = Group(
        "{", [Pre(f"{py_str(f.name)}: ", converter(f, dialect)) for f in entity.fields], "}"
    )
    lines.extend(statement(convert, 4, "_convert: ClassVar[dict[str, Callable[[Any], Any]]] = "))
    auto_now = [f.name for f in entity.fields if f.auto_now]
    if auto_now:
        group = Group("(", [py_str(n) for n in auto_now], ")", one_tuple=True)
        lines.extend(statement(group, 4, "_auto_now = "))
    lines.extend(_statements(entity, dialect))
    lines.extend(_row_methods(entity, dialect))
    return lines


def _statements(entity: EntitySpec, dialect: Dialect) -> list[str]:
    """The class's ``_insert``, ``_copy`` (when the dialect copies) and ``_select``."""
    inserted = _inserted(entity)
    table = quote_ident(entity.table)
    columns = ", ".join(quote_ident(f.name) for f in entity.fields)
    insert_cols = ", ".join(quote_ident(f.name) for f in inserted)
    marks = ", ".join(dialect.mark for _ in inserted)
    # Text for the generated file, from validated and quoted identifiers only.
    insert = f"INSERT INTO {table} ({insert_cols}) VALUES ({marks})"  # noqa: S608
    if not inserted:  # only a database-assigned key: nothing to give
        insert = f"INSERT INTO {table} DEFAULT VALUES"
    if dialect.returning and entity.pk.value_type == "int":
        insert += f" RETURNING {quote_ident(entity.pk.name)}"
    lines = assign_string("_insert", insert, 4)
    if dialect.copy and inserted:
        lines.extend(assign_string("_copy", f"COPY {table} ({insert_cols}) FROM STDIN", 4))
    lines.extend(assign_string("_select", f"SELECT {columns} FROM {table}", 4))  # noqa: S608
    return lines


def _row_methods(entity: EntitySpec, dialect: Dialect) -> list[str]:
    """``_row`` (an insert's values), ``_record`` (a fetched row) and ``_created_key``."""
    e = entity.name
    lines = [""]
    params = ["self", f"data: {e}Create", f"now: {dialect.now_type}"]
    lines.extend(_method("_row", params, "tuple[Any, ...]"))
    values = Group("(", [_row_value(f, dialect) for f in _inserted(entity)], ")", one_tuple=True)
    lines.extend(statement(values, 8, "return "))
    lines.append("")
    lines.extend(_method("_record", ["self", "row: Any"], e))
    items: list[Expr] = []
    for index, field in enumerate(entity.fields):
        value: Expr = f"row[{index}]"
        if field.value_type == "json" and dialect.decode_json:
            value = call("_json_value", f"row[{index}]")
        items.append(Pre(f"{py_str(field.name)}: ", value))
    lines.extend(statement(call(f"{e}.model_validate", Group("{", items, "}")), 8, "return "))
    lines.append("")
    params = ["self", f"data: {e}Create", f"cursor: {dialect.cursor_type}"]
    lines.extend(_method("_created_key", params, _key_type(entity.pk)))
    if entity.pk.value_type != "int":
        lines.append(f"        return data.{entity.pk.name}")
    elif dialect.returning:
        lines.append("        return _returned_key(cursor)")
    else:
        lines.append("        return _lastrowid(cursor)")
    return lines
