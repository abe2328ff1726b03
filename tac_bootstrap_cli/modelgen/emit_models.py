"""Emit ``models.py`` (per entity E: E, ECreate, EUpdate, enums, constrained types) and ``__init__.py``."""

from __future__ import annotations

import datetime

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.common import (
    Origin,
    annotation,
    applied_bounds,
    base_type,
    create_fields,
    gc_paused,
    type_name,
    update_fields,
)
from tac_bootstrap_cli.modelgen.dialects import dialect_of
from tac_bootstrap_cli.modelgen.pyfmt import (
    LINE,
    Expr,
    Group,
    Pre,
    annotated,
    call,
    docstring,
    py_literal,
    py_number,
    py_str,
    simple,
    statement,
)
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec, ModelSpec, needs_type_name

_PREAMBLE = '''

def as_utc(value: datetime.datetime) -> datetime.datetime:
    """Take a naive datetime as UTC and convert an aware one to UTC."""
    if value.tzinfo is datetime.UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00: make it a validation error
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from exc


def utc_now() -> datetime.datetime:
    """The current time, timezone-aware UTC."""
    return datetime.datetime.now(datetime.UTC)


def utc_today() -> datetime.date:
    """The current date in UTC."""
    return utc_now().date()


Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
"""An integer SQLite can store (signed 64-bit)."""

UtcDateTime = Annotated[datetime.datetime, AfterValidator(as_utc)]
"""A timezone-aware UTC datetime; naive input is taken as UTC."""

DateTime = datetime.datetime
"""Plain datetime (for literal defaults)."""

Date = datetime.date
"""A calendar date."""


class _Model(BaseModel):
    """Shared configuration: no unknown fields, patterns use re, finite floats."""

    model_config = ConfigDict(
        extra="forbid",
        regex_engine="python-re",
        allow_inf_nan=False,
        protected_namespaces=(),
    )


class _UpdateModel(_Model):
    """Base of the update models: a non-nullable field cannot be set to None."""

    _not_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _check_not_nullable(self) -> Self:
        fields = self.model_fields_set & self._not_nullable
        nulled = sorted(name for name in fields if getattr(self, name) is None)
        if nulled:
            raise ValueError(f"cannot be set to None: {', '.join(nulled)}")
        return self
'''


@gc_paused
def emit_models(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``models.py``."""
    uses = _uses(spec)
    about = f"Pydantic models of {spec.module}"
    if spec.description:
        about += f": {spec.description}"
    lines = origin.header("#")
    lines.append(docstring(about, ""))
    lines.append("")
    lines.append("import datetime")
    if "StrEnum" in uses:
        lines.append("from enum import StrEnum")
    lines.append("from typing import Annotated, ClassVar, Self")
    uuid_names = [n for n in ("UUID", "uuid4") if n in uses]
    if uuid_names:
        lines.append(f"from uuid import {', '.join(uuid_names)}")
    lines.append("")
    pydantic_names = ["AfterValidator", "BaseModel", "ConfigDict", "Field", "model_validator"]
    pydantic_names += [n for n in ("JsonValue", "SecretStr") if n in uses]
    pydantic_names.sort(key=naming.import_key)
    lines.extend(import_from("pydantic", pydantic_names))
    lines.extend(_PREAMBLE.splitlines())
    for entity in spec.entities:
        lines.extend(_entity(entity))
    return "\n".join(lines) + "\n"


def _uses(spec: ModelSpec) -> set[str]:
    names: set[str] = set()
    for entity in spec.entities:
        for field in entity.fields:
            base = base_type(field)
            if base in ("UUID", "JsonValue", "SecretStr"):
                names.add(base)
            if field.type == "enum":
                names.add("StrEnum")
            if field.default is not None and field.default.kind == "uuid4":
                names.add("uuid4")
            if field.primary_key and field.value_type == "uuid":
                names.add("uuid4")
    return names


def _entity(entity: EntitySpec) -> list[str]:
    lines: list[str] = []
    for field in entity.fields:
        if field.type == "enum":
            lines.extend(_enum(entity, field))
    aliases = [f for f in entity.fields if needs_type_name(f) and f.type != "enum"]
    if aliases:
        lines.extend(["", ""])
    for field in aliases:
        lines.extend(statement(_alias_expr(field), 0, f"{type_name(entity, field)} = "))
    lines.extend(_record_class(entity))
    lines.extend(_create_class(entity))
    lines.extend(_update_class(entity))
    return lines


def _enum(entity: EntitySpec, field: FieldSpec) -> list[str]:
    name = type_name(entity, field)
    about = f"Values of {entity.name}.{field.name}"
    if field.description:
        about += f": {field.description}"
    head = f"class {name}(StrEnum):"
    # A class line too long for one line is split the way ruff format splits it.
    split = [f"class {name}(", "    StrEnum", "):"]
    lines = ["", "", *(split if len(head) > LINE else [head])]
    lines.extend(["    " + docstring(about, ""), ""])
    for value in field.values:
        lines.extend(simple(f"{naming.enum_member(value)} = {py_str(value)}", 4))
    return lines


def _alias_expr(field: FieldSpec) -> Expr:
    kwargs: list[Expr] = []
    bounded = applied_bounds(field)
    for key in ("ge", "gt", "le", "lt"):
        bound = getattr(bounded, key)
        if bound is not None:
            kwargs.append(Pre(f"{key}=", py_number(bound)))
    for key in ("min_length", "max_length"):
        length = getattr(field, key)
        if length is not None:
            kwargs.append(Pre(f"{key}=", str(length)))
    if field.pattern is not None:
        kwargs.append(Pre("pattern=", py_str(field.pattern)))
    if field.description is not None:
        kwargs.append(Pre("description=", py_str(field.description)))
    return Group("Annotated[", [base_type(field), Group("Field(", kwargs, ")")], "]")


def _class_head(name: str, base: str, doc: str) -> list[str]:
    return ["", "", f"class {name}({base}):", "    " + doc]


def _record_class(entity: EntitySpec) -> list[str]:
    doc = docstring(entity.description, f"A stored {entity.name} record (table {entity.table})")
    lines = _class_head(entity.name, "_Model", doc)
    lines.append("")
    for field in entity.fields:
        lines.extend(annotated(field.name, annotation(entity, field), None, 4))
    return lines


def default_expr(entity: EntitySpec, field: FieldSpec) -> Expr | None:
    """The default of a field in ECreate as an expression, or None when the field is required."""
    if field.primary_key and field.value_type == "uuid":
        return call("Field", default_factory="uuid4")
    default = field.default
    if default is None:
        return "None" if field.nullable else None
    factories = {"uuid4": "uuid4", "empty_object": "dict", "empty_array": "list"}
    if default.kind == "now":
        factory = "utc_today" if field.value_type == "date" else "utc_now"
        return call("Field", default_factory=factory)
    if default.kind in factories:
        return call("Field", default_factory=factories[default.kind])
    return literal(entity, field, default.value)


def literal(entity: EntitySpec, field: FieldSpec, value: object) -> Expr:
    """A value of the field's Python type as an expression (in models.py's namespace)."""
    kind = field.value_type
    if value is None:
        return "None"
    if field.type == "enum":
        return f"{type_name(entity, field)}.{naming.enum_member(str(value))}"
    if field.secret:
        return call("SecretStr", py_str(str(value)))
    if kind in ("str", "text"):
        return py_str(str(value))
    if kind in ("int", "float"):
        assert isinstance(value, int | float)
        return py_number(value)
    if kind == "bool":
        return repr(bool(value))
    if kind == "uuid":
        return call("UUID", f'"{value}"')
    if kind == "datetime":
        assert isinstance(value, datetime.datetime)
        return call("DateTime.fromisoformat", f'"{value.isoformat(timespec="microseconds")}"')
    if kind == "date":
        assert isinstance(value, datetime.date)
        return call("Date", str(value.year), str(value.month), str(value.day))
    return py_literal(value)


def _create_class(entity: EntitySpec) -> list[str]:
    doc = docstring(None, f"What a caller gives to create a new {entity.name} record")
    lines = _class_head(entity.name + "Create", "_Model", doc)
    fields = create_fields(entity)
    if fields:
        lines.append("")
    for field in fields:
        default = default_expr(entity, field)
        lines.extend(annotated(field.name, annotation(entity, field), default, 4))
    return lines


def _update_class(entity: EntitySpec) -> list[str]:
    doc = docstring(
        None, f"Changes to one {entity.name} record: only the fields set explicitly are written"
    )
    lines = _class_head(entity.name + "Update", "_UpdateModel", doc)
    fields = update_fields(entity)
    not_nullable = [f.name for f in fields if not f.nullable and f.value_type != "json"]
    if fields:
        lines.append("")
    if not_nullable:
        names = Group("{", [py_str(n) for n in not_nullable], "}")
        lines.extend(
            statement(call("frozenset", names), 4, "_not_nullable: ClassVar[frozenset[str]] = ")
        )
    for field in fields:
        lines.extend(annotated(field.name, annotation(entity, field, optional=True), "None", 4))
    return lines


@gc_paused
def emit_init(spec: ModelSpec, origin: Origin) -> str:
    """The text of the package's ``__init__.py``: re-exports of the models and repositories."""
    model_names: list[str] = []
    dialect = dialect_of(origin.dialect)
    repo_names = ["ConstraintError", "connect", "init_schema", *dialect.package_extra]
    for entity in spec.entities:
        model_names.extend(type_name(entity, f) for f in entity.fields if f.type == "enum")
        model_names.extend([entity.name, entity.name + "Create", entity.name + "Update"])
        repo_names.append(entity.name + "Repository")
    model_names.sort(key=naming.import_key)
    repo_names.sort(key=naming.import_key)
    about = f"{spec.module}: generated models, {dialect.title} schema and repositories"
    lines = origin.header("#")
    lines.append(docstring(about, ""))
    lines.append("")
    lines.extend(import_from(".models", model_names))
    lines.extend(import_from(".repository", repo_names))
    lines.append("")
    everything = sorted([*model_names, *repo_names], key=naming.all_key)
    lines.extend(statement(Group("[", [py_str(n) for n in everything], "]"), 0, "__all__ = "))
    return "\n".join(lines) + "\n"


def import_from(module: str, names: list[str]) -> list[str]:
    """``from module import a, b`` on one line, or one name per line in parentheses."""
    one = f"from {module} import {', '.join(names)}"
    if len(one) <= 88:
        return [one]
    return [f"from {module} import (", *(f"    {n}," for n in names), ")"]
