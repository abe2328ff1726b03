"""The generated tests' ``Factory`` class, and each field's example values written as source.

Every expression notes in the ``ModuleParts`` what it needs imported, so the test module imports
exactly what its code uses (ruff-clean output).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.common import create_fields, type_name
from tac_bootstrap_cli.modelgen.dialects import SQLITE, Dialect
from tac_bootstrap_cli.modelgen.pyfmt import (
    Expr,
    Group,
    Pre,
    call,
    docstring,
    flat,
    py_literal,
    py_number,
    py_str,
    simple,
    statement,
)
from tac_bootstrap_cli.modelgen.samples import Repeat
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec
from tac_bootstrap_cli.modelgen.testplan import RecordPlan


@dataclass
class ModuleParts:
    """What the test module imports and its constants, filled while the code is emitted."""

    std: set[str] = field(default_factory=set)  # "datetime", "time", "Any", "UUID", "Path"
    pydantic: set[str] = field(default_factory=set)
    package: set[str] = field(default_factory=set)
    constants: list[str] = field(default_factory=list)
    dialect: Dialect = SQLITE  # the database the tests run on

    @property
    def conn_type(self) -> str:
        """The annotation of a connection in the tests."""
        return self.dialect.conn_type


def value_expr(ctx: ModuleParts, entity: EntitySpec, f: FieldSpec, value: Any) -> Expr:
    """A valid value of ``f`` as a test expression (calls as groups, so long ones can split)."""
    if value is None:
        return "None"
    if f.type == "enum":
        name = type_name(entity, f)
        ctx.package.add(name)
        return f"{name}.{naming.enum_member(str(value))}"
    if f.secret:
        ctx.pydantic.add("SecretStr")
        return call("SecretStr", raw_expr(value))
    if isinstance(value, uuid.UUID):
        ctx.std.add("UUID")
        return call("UUID", f'"{value}"')
    if isinstance(value, datetime.datetime):
        ctx.std.add("datetime")
        parts = [value.year, value.month, value.day, value.hour, value.minute, value.second]
        args: list[Expr] = [str(p) for p in parts]
        if value.microsecond:
            args.append(str(value.microsecond))
        args.append(Pre("tzinfo=", "datetime.UTC"))
        return Group("datetime.datetime(", args, ")")
    if isinstance(value, datetime.date):
        ctx.std.add("datetime")
        return call("datetime.date", str(value.year), str(value.month), str(value.day))
    if f.value_type == "json":
        return py_literal(value)
    return raw_expr(value)


def raw_expr(value: Any) -> str:
    """A plain Python value (or ``Repeat``) as source text."""
    if isinstance(value, Repeat):
        return f"{py_str(value.char)} * {value.count}"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return py_number(value)
    if isinstance(value, str):
        return py_str(value)
    return flat(py_literal(value))


def _constant(entity: EntitySpec, f: FieldSpec) -> str:
    return f"_{entity.snake.upper()}__{f.name.upper()}"


def sample_expr(
    plan: RecordPlan, ctx: ModuleParts, entity: EntitySpec, f: FieldSpec, index: str | int
) -> Expr:
    """The expression of value ``index`` (``i`` in the factory, a number elsewhere) of field ``f``."""
    values = plan.values[entity.name][f.name]
    index_text = str(index % len(values)) if isinstance(index, int) else f"{index} % {len(values)}"
    if f.value_type == "json":
        ctx.pydantic.add("JsonValue")
        return Group(f"{_constant(entity, f)}[", [index_text], "]", comma=False)
    if isinstance(index, int) or len(values) == 1:
        return value_expr(
            ctx, entity, f, values[index % len(values) if isinstance(index, int) else 0]
        )
    items: list[Expr] = [value_expr(ctx, entity, f, v) for v in values]
    return Group("(", items, f")[{index_text}]")


def _json_constants(plan: RecordPlan, ctx: ModuleParts) -> None:
    for entity in plan.spec.entities:
        for f in entity.fields:
            values = plan.values[entity.name].get(f.name)
            if f.value_type == "json" and values:
                group = Group("(", [py_literal(v) for v in values], ")", one_tuple=True)
                # The constant's annotation needs the import even when no factory reads it (an
                # entity without examples for another field raises NotImplementedError instead).
                ctx.pydantic.add("JsonValue")
                ctx.constants.append("")
                ctx.constants.extend(
                    statement(group, 0, f"{_constant(entity, f)}: tuple[JsonValue, ...] = ")
                )


def ref_expr(plan: RecordPlan, entity: EntitySpec, f: FieldSpec, owner: str) -> str:
    """``owner.shared_x().key`` or ``owner.new_x().key`` for a non-nullable ref; None otherwise."""
    if f.nullable or f.to is None:
        return "None"
    target = plan.entity(f.to)
    kind = "new" if plan.fresh_parent(entity, f) else "shared"
    return f"{owner}.{kind}_{target.snake}().{target.pk.name}"


def factory_class(plan: RecordPlan, ctx: ModuleParts) -> list[str]:
    """The ``Factory`` class: ``data_x``/``new_x`` per entity, ``shared_x`` per ref target."""
    spec = plan.spec
    _json_constants(plan, ctx)
    targets = [e for e in spec.entities if e.name in plan.referenced]
    lines = [
        "",
        "",
        "class Factory:",
        '    """Valid records: new ones (new values each time), one shared parent each."""',
        "",
        f"    def __init__(self, conn: {ctx.conn_type}) -> None:",
        "        self.conn = conn",
        "        self._counts: dict[str, int] = {}",
    ]
    for target in targets:
        ctx.package.add(target.name)
        lines.extend(simple(f"self._shared_{target.snake}: {target.name} | None = None", 8))
    lines.extend(
        [
            "",
            "    def _next(self, name: str) -> int:",
            "        index = self._counts.get(name, 0)",
            "        self._counts[name] = index + 1",
            "        return index",
        ]
    )
    for entity in spec.entities:
        e = entity.name
        ctx.package.update([e, e + "Create", e + "Repository"])
        lines.append("")
        lines.extend(simple(f"def data_{entity.snake}(self) -> {e}Create:", 4))
        lines.append("        " + docstring(None, f"Valid create data for a new {e}"))
        if plan.capacity[e] == 0:
            why = py_str("no example values for " + e)
            lines.extend(statement(call("NotImplementedError", why), 8, "raise "))
        else:
            kwargs: list[Expr] = []
            uses_i = False
            for f in create_fields(entity):
                if f.is_ref:
                    kwargs.append(Pre(f"{f.name}=", ref_expr(plan, entity, f, "self")))
                    continue
                expr = sample_expr(plan, ctx, entity, f, "i")
                uses_i = uses_i or "[i % " in flat(expr)
                kwargs.append(Pre(f"{f.name}=", expr))
            if uses_i:
                lines.append(f"        i = self._next({py_str(e)})")
            lines.extend(statement(Group(f"{e}Create(", kwargs, ")"), 8, "return "))
        lines.append("")
        lines.extend(simple(f"def new_{entity.snake}(self) -> {e}:", 4))
        lines.append("        " + docstring(None, f"A new stored {e}"))
        lines.extend(simple(f"repo = {e}Repository(self.conn)", 8))
        lines.extend(simple(f"return repo.create(self.data_{entity.snake}())", 8))
        if entity.name in plan.referenced:
            lines.append("")
            lines.extend(simple(f"def shared_{entity.snake}(self) -> {e}:", 4))
            lines.append(
                "        " + docstring(None, f"The {e} shared by every record that needs one")
            )
            lines.extend(simple(f"if self._shared_{entity.snake} is None:", 8))
            lines.extend(simple(f"self._shared_{entity.snake} = self.new_{entity.snake}()", 12))
            lines.extend(simple(f"return self._shared_{entity.snake}", 8))
    return lines
