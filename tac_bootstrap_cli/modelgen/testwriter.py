"""Writing one generated test: the ``def`` line, statements, left-out comments, constraint checks.

``testcases.EntityTests`` builds on it, one method per kind of test.
"""

from __future__ import annotations

import re

from tac_bootstrap_cli.modelgen.pyfmt import Expr, Group, Pre, call, py_str, simple, statement
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec
from tac_bootstrap_cli.modelgen.testfactory import ModuleParts
from tac_bootstrap_cli.modelgen.testplan import RecordPlan


class CaseWriter:
    """Writes test functions of one entity into ``lines``, noting imports in ``ctx``."""

    def __init__(self, plan: RecordPlan, ctx: ModuleParts, entity: EntitySpec) -> None:
        self.plan = plan
        self.ctx = ctx
        self.entity = entity
        self.e = entity.name
        self.s = entity.snake
        self.pk = entity.pk
        self.repo = entity.name + "Repository"
        self.lines: list[str] = []

    def fits(self, *calls: tuple[str, str]) -> str | None:
        """Why the Factory cannot make these calls' records (``RecordPlan.simulate``), or None."""
        return self.plan.simulate(list(calls))

    def data(self, n: int = 1) -> list[tuple[str, str]]:
        """``n`` calls of ``make.data_<entity>()``, for ``fits``."""
        return [("data", self.e)] * n

    def test(self, name: str, params: str, why_not: str | None) -> bool:
        """Start test ``name``; when ``why_not`` is given, emit a comment instead and return False."""
        self.lines.extend(["", ""])
        if why_not:
            self.lines.append(f"# {name} is left out: {why_not}.")
            return False
        self.define(name, params)
        return True

    def define(self, name: str, params: str) -> None:
        """``def name(params) -> None:``, one parameter per line when too long."""
        # Split at ", " followed by a parameter name (not inside ``tuple[str, ...]``).
        items: list[Expr] = [p.strip() for p in re.split(r", (?=\w+: )", params)]
        group = Group(f"def {name}(", items, ") -> None:")
        self.lines.extend(statement(group, 0))

    def out(self, text: str, indent: int = 4) -> None:
        """One simple statement at ``indent``."""
        self.lines.extend(simple(text, indent))

    def stmt(self, expr: Expr, prefix: str = "", indent: int = 4) -> None:
        """A statement ``prefix + expr``, wrapped the way ruff format would."""
        self.lines.extend(statement(expr, indent, prefix))

    def sort_key(self) -> str:
        """The sort key (a lambda body over ``r``) that orders records as ``list()`` does."""
        return f"str(r.{self.pk.name})" if self.pk.value_type == "uuid" else f"r.{self.pk.name}"

    def missing_key(self, f: FieldSpec) -> str:
        """A key value of ``f``'s type that no record has."""
        if f.value_type == "int":
            return "-1"
        if f.value_type == "uuid":
            self.ctx.std.add("UUID")
            return "UUID(int=0)"
        return py_str("no-such-key")

    def copy_data(self, updates: str | list[tuple[str, str]]) -> None:
        """``data = make.data_e()`` then ``data = data.model_copy(update=...)``."""
        self.out(f"data = make.data_{self.s}()")
        if isinstance(updates, str):
            update: Expr = updates
        else:
            update = Group("{", [Pre(f"{py_str(k)}: ", v) for k, v in updates], "}")
        self.stmt(call("data.model_copy", Pre("update=", update)), "data = ")

    def raises_constraint(self, call_text: str, kind: str, table: str, column: str | None) -> None:
        """``call_text`` raises the generated ``ConstraintError`` of ``kind`` on ``table``."""
        self.ctx.package.add("ConstraintError")
        self.out("with pytest.raises(ConstraintError) as caught:")
        self.out(call_text, 8)
        self.out(f"assert caught.value.kind == {py_str(kind)}")
        self.out(f"assert caught.value.table == {py_str(table)}")
        if column is not None:
            self.out(f"assert caught.value.column == {py_str(column)}")
