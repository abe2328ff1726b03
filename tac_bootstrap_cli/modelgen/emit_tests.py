"""Emit ``tests/test_<module>.py``: per entity, CRUD, filters, every constraint kind it has, and refs.

Records come from a ``Factory`` whose values are derived from each field's constraints
(``samples.py``). Record ``i`` of an entity takes value ``i % K`` of each field, so records stay
distinct on every unique set for ``lcm(K...)`` records; a test needing more records than an entity
(or a parent) can hold apart is left out, with a comment saying why.
"""

from __future__ import annotations

import datetime
import math
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.common import (
    Origin,
    create_fields,
    gc_paused,
    is_required,
    type_name,
    update_fields,
)
from tac_bootstrap_cli.modelgen.emit_models import import_from
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
from tac_bootstrap_cli.modelgen.samples import Repeat, invalid_values, valid_values
from tac_bootstrap_cli.modelgen.spec import EntitySpec, FieldSpec, ModelSpec

_UNBOUNDED = 10**6


@dataclass
class _Context:
    """What the test module imports, filled while the code is emitted."""

    std: set[str] = field(default_factory=set)  # "datetime", "time", "Any", "UUID", "Path"
    pydantic: set[str] = field(default_factory=set)
    package: set[str] = field(default_factory=set)
    constants: list[str] = field(default_factory=list)


class _Plan:
    """Samples, capacities and record demand for every entity of a spec."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        # By name: ModelSpec.entity() scans the entities, once per ref that made emitting quadratic.
        self.by_name = {e.name: e for e in spec.entities}
        self.referenced = {f.to for e in spec.entities for f in e.fields if f.is_ref}
        self._unique_sets: dict[str, list[tuple[str, ...]]] = {}
        self._demands: dict[str, tuple[Counter[str], frozenset[str]]] = {}
        self._verdicts: dict[tuple[tuple[str, str], ...], str | None] = {}
        self.values: dict[str, dict[str, list[Any]]] = {}
        for entity in spec.entities:
            self.values[entity.name] = {
                f.name: valid_values(f)
                for f in entity.fields
                if not f.is_ref and not (f.primary_key and f.value_type == "int") and not f.auto_now
            }
        self.capacity = {e.name: self._capacity(e) for e in spec.entities}
        self._summarise()

    def entity(self, name: str) -> EntitySpec:
        """The entity called ``name``."""
        return self.by_name[name]

    def _parents(self, entity: EntitySpec) -> tuple[list[str], list[str]]:
        """The entities one ``data()`` call makes a new one of, and those it takes the shared one of."""
        fresh: list[str] = []
        shared: list[str] = []
        for f in entity.fields:
            if f.is_ref and not f.nullable and f.to is not None:
                (fresh if self.fresh_parent(entity, f) else shared).append(f.to)
        return fresh, shared

    def _summarise(self) -> None:
        """Per entity, in one pass over the refs: bounds that decide most ``simulate`` calls.

        ``peak``: at most this many records of any one entity per ``data()`` call (fresh parents
        included); ``floor``: the smallest capacity among them. ``closure``: over the shared
        parents it needs (made once per test, with their own parents), the smallest capacity and
        whether any of them makes fresh parents. Non-nullable refs never form a cycle (the spec
        refuses them), so a post-order walk (iterative: chains can be thousands deep) suffices.
        """
        self.peak: dict[str, int] = {}
        self.floor: dict[str, int] = {}
        self.closure: dict[str, tuple[int, bool, bool]] = {}  # (min capacity, fresh inside, any)
        self.member: dict[str, tuple[int, bool, bool]] = {}
        parents = {e.name: self._parents(e) for e in self.spec.entities}
        for root in self.spec.entities:
            stack: list[tuple[str, bool]] = [(root.name, False)]
            while stack:
                name, ready = stack.pop()
                if name in self.peak:
                    continue
                fresh, shared = parents[name]
                if not ready:
                    stack.append((name, True))
                    stack.extend((p, False) for p in (*fresh, *shared) if p not in self.peak)
                    continue
                self.peak[name] = max(1, sum(self.peak[p] for p in fresh))
                self.floor[name] = min([self.capacity[name], *(self.floor[p] for p in fresh)])
                parts = [self.member[p] for p in shared] + [self.closure[p] for p in fresh]
                self.closure[name] = _combine(parts)
                own = (self.floor[name], bool(fresh), True)
                self.member[name] = _combine([own, self.closure[name]])

    def unique_sets(self, entity: EntitySpec) -> list[tuple[str, ...]]:
        """Minimal unique sets: the key (unless int), unique fields, composites not implied by others."""
        if entity.name in self._unique_sets:
            return self._unique_sets[entity.name]
        sets: list[tuple[str, ...]] = []
        if entity.pk.value_type != "int":
            sets.append((entity.pk.name,))
        sets.extend((f.name,) for f in entity.fields if f.unique and not f.primary_key)
        sets.extend(entity.unique)
        # A set containing another is implied by it: a record that differs on the smaller one
        # differs on the larger one too.
        minimal = [
            columns
            for index, columns in enumerate(sets)
            if not any(
                set(other) < set(columns) or (set(other) == set(columns) and other_index < index)
                for other_index, other in enumerate(sets)
            )
        ]
        self._unique_sets[entity.name] = minimal
        return minimal

    def fresh_parent(self, entity: EntitySpec, ref: FieldSpec) -> bool:
        """True when each record needs its own parent (the ref is part of a unique set)."""
        return any(ref.name in columns for columns in self.unique_sets(entity))

    def _demand(self, name: str) -> tuple[Counter[str], frozenset[str]]:
        """Records one ``data(name)`` call makes fresh, and the entities it needs shared ones of."""
        stack = [name]
        while stack:  # parents first, without recursion (chains of refs can be very deep)
            current = stack[-1]
            fresh_parents, shared_parents = self._parents(self.entity(current))
            missing = [p for p in fresh_parents if p not in self._demands]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            fresh: Counter[str] = Counter({current: 1})
            shared: set[str] = set(shared_parents)
            for parent in fresh_parents:
                more, needs = self._demands[parent]
                fresh.update(more)
                shared.update(needs)
            self._demands[current] = (fresh, frozenset(shared))
        return self._demands[name]

    def size(self, entity: EntitySpec, name: str) -> int:
        """How many distinct values the factory gives a field (for uniqueness)."""
        f = entity.field(name)
        if f.is_ref or (f.primary_key and f.value_type == "int"):
            return _UNBOUNDED  # fresh parents (or NULLs) and SQLite-assigned keys never repeat
        if f.auto_now:
            return 1  # create_many gives every row the same time
        return len(self.values[entity.name][name])

    def _capacity(self, entity: EntitySpec) -> int:
        """How many records the factory can make before a unique set repeats (0: not even one)."""
        for f in entity.fields:
            if f.name in self.values[entity.name] and not self.values[entity.name][f.name]:
                return 0
        capacity = _UNBOUNDED
        for columns in self.unique_sets(entity):
            sizes = [self.size(entity, name) for name in columns]
            capacity = min(capacity, min(_UNBOUNDED, math.lcm(*sizes)))
        return capacity

    def testable_unique_sets(self, entity: EntitySpec) -> list[tuple[str, ...]]:
        """Unique sets a second create can break by copying the first record's values.

        Not those with a nullable ref (the factory leaves it NULL, and NULLs never collide), an
        auto_now field or an SQLite-assigned key (create sets those itself).
        """
        return [
            columns
            for columns in self.unique_sets(entity)
            if not any(
                (f.is_ref and f.nullable) or f.auto_now or (f.primary_key and f.value_type == "int")
                for f in map(entity.field, columns)
            )
        ]

    def simulate(self, calls: list[tuple[str, str]]) -> str | None:
        """Replay factory calls ("data"/"new"/"shared", entity); why they cannot all succeed, or None."""
        key = tuple(calls)
        if key not in self._verdicts:
            self._verdicts[key] = None if self._surely_fits(calls) else self._replay(calls)
        return self._verdicts[key]

    def _surely_fits(self, calls: list[tuple[str, str]]) -> bool:
        """True when the per-entity bounds prove that every count stays within its capacity.

        A record of one entity is made at most ``peak`` times per data/new call, and at most once
        by the shared parents when none of them makes fresh parents of its own. Deciding this in
        constant time per call is what keeps emitting linear in the spec (replaying a call walks
        its whole chain of parents).
        """
        most, least, fresh_inside, any_shared = 0, _UNBOUNDED, False, False
        for kind, name in calls:
            if kind == "shared":
                low, inside, some = self.member[name]
            else:
                most += self.peak[name]
                least = min(least, self.floor[name])
                low, inside, some = self.closure[name]
            least = min(least, low)
            fresh_inside = fresh_inside or inside
            any_shared = any_shared or some
        return not fresh_inside and most + any_shared <= least

    def _replay(self, calls: list[tuple[str, str]]) -> str | None:
        """``simulate`` exactly: count the records of every entity the calls make."""
        counts: Counter[str] = Counter()
        created: set[str] = set()
        pending: list[str] = []
        for kind, name in calls:
            if kind == "shared":
                pending.append(name)
                continue
            fresh, needs = self._demand(name)
            counts.update(fresh)
            pending.extend(needs)
        while pending:  # each shared parent is made once, with its own (fresh and shared) parents
            name = pending.pop()
            if name in created:
                continue
            created.add(name)
            fresh, needs = self._demand(name)
            counts.update(fresh)
            pending.extend(needs)
        for name, count in sorted(counts.items()):
            if count > self.capacity[name]:
                if self.capacity[name] == 0:
                    return f"no valid example values could be derived for {name}"
                return f"{name} can hold only {self.capacity[name]} distinct record(s) apart"
        return None


def _combine(parts: list[tuple[int, bool, bool]]) -> tuple[int, bool, bool]:
    """Closure summaries merged: smallest capacity, fresh parents anywhere, anything at all.

    Min and "or" give the same result however often a shared parent is reached, so the summary
    of a union is the merge of the summaries.
    """
    return (
        min([_UNBOUNDED, *(p[0] for p in parts)]),
        any(p[1] for p in parts),
        any(p[2] for p in parts),
    )


@gc_paused
def emit_tests(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``tests/test_<module>.py``."""
    plan = _Plan(spec)
    ctx = _Context()
    ctx.package.update(["connect", "init_schema"])
    ctx.std.add("Path")
    factory = _factory(plan, ctx)
    body: list[str] = []
    for entity in spec.entities:
        body.extend(_EntityTests(plan, ctx, entity).emit())
    lines = origin.header("#")
    about = f"Tests of the generated {spec.module} package: CRUD, filters, constraints and refs"
    lines.append(docstring(about, ""))
    lines.append("")
    lines.extend(_imports(spec, ctx))
    lines.extend(ctx.constants)
    lines.extend(factory)
    lines.extend(_FIXTURES.splitlines())
    if "time" in ctx.std:
        lines.extend(WAIT_PAST.splitlines())
    lines.extend(body)
    return "\n".join(lines) + "\n"


_FIXTURES = '''

@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory database with the schema."""
    connection = connect()
    init_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def make(conn: sqlite3.Connection) -> Factory:
    """A factory of valid records in ``conn``."""
    return Factory(conn)


def test_init_schema_is_idempotent_and_files_use_wal(tmp_path: Path) -> None:
    db = connect(tmp_path / "test.sqlite3")
    init_schema(db)
    init_schema(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()'''


def _imports(spec: ModelSpec, ctx: _Context) -> list[str]:
    lines: list[str] = []
    if "datetime" in ctx.std:
        lines.append("import datetime")
    lines.append("import sqlite3")
    if "time" in ctx.std:
        lines.append("import time")
    lines.append("from collections.abc import Iterator")
    lines.append("from pathlib import Path")
    if "Any" in ctx.std:
        lines.append("from typing import Any")
    if "UUID" in ctx.std:
        lines.append("from uuid import UUID")
    lines.append("")
    lines.append("import pytest")
    if ctx.pydantic:
        lines.extend(import_from("pydantic", sorted(ctx.pydantic, key=naming.import_key)))
    lines.append("")
    names = sorted(ctx.package, key=naming.import_key)
    lines.extend(import_from(spec.module, names))
    return lines


def _value_expr(ctx: _Context, entity: EntitySpec, f: FieldSpec, value: Any) -> Expr:
    """A valid value of ``f`` as a test expression (calls as groups, so long ones can split)."""
    if value is None:
        return "None"
    if f.type == "enum":
        name = type_name(entity, f)
        ctx.package.add(name)
        return f"{name}.{naming.enum_member(str(value))}"
    if f.secret:
        ctx.pydantic.add("SecretStr")
        return call("SecretStr", _raw_expr(value))
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
    return _raw_expr(value)


def _raw_expr(value: Any) -> str:
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


def _sample_expr(
    plan: _Plan, ctx: _Context, entity: EntitySpec, f: FieldSpec, index: str | int
) -> Expr:
    """The expression of value ``index`` (``i`` in the factory, a number elsewhere) of field ``f``."""
    values = plan.values[entity.name][f.name]
    index_text = str(index % len(values)) if isinstance(index, int) else f"{index} % {len(values)}"
    if f.value_type == "json":
        ctx.pydantic.add("JsonValue")
        return Group(f"{_constant(entity, f)}[", [index_text], "]", comma=False)
    if isinstance(index, int) or len(values) == 1:
        return _value_expr(
            ctx, entity, f, values[index % len(values) if isinstance(index, int) else 0]
        )
    items: list[Expr] = [_value_expr(ctx, entity, f, v) for v in values]
    return Group("(", items, f")[{index_text}]")


def _json_constants(plan: _Plan, ctx: _Context) -> None:
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


def _ref_expr(plan: _Plan, entity: EntitySpec, f: FieldSpec, owner: str) -> str:
    """``owner.shared_x().key`` or ``owner.new_x().key`` for a non-nullable ref; None otherwise."""
    if f.nullable or f.to is None:
        return "None"
    target = plan.entity(f.to)
    kind = "new" if plan.fresh_parent(entity, f) else "shared"
    return f"{owner}.{kind}_{target.snake}().{target.pk.name}"


def _factory(plan: _Plan, ctx: _Context) -> list[str]:
    spec = plan.spec
    _json_constants(plan, ctx)
    targets = [e for e in spec.entities if e.name in plan.referenced]
    lines = [
        "",
        "",
        "class Factory:",
        '    """Valid records: new ones (new values each time), one shared parent each."""',
        "",
        "    def __init__(self, conn: sqlite3.Connection) -> None:",
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
                    kwargs.append(Pre(f"{f.name}=", _ref_expr(plan, entity, f, "self")))
                    continue
                expr = _sample_expr(plan, ctx, entity, f, "i")
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


class _EntityTests:
    """The tests of one entity."""

    def __init__(self, plan: _Plan, ctx: _Context, entity: EntitySpec) -> None:
        self.plan = plan
        self.ctx = ctx
        self.entity = entity
        self.e = entity.name
        self.s = entity.snake
        self.pk = entity.pk
        self.repo = entity.name + "Repository"
        self.lines: list[str] = []

    # helpers

    def fits(self, *calls: tuple[str, str]) -> str | None:
        return self.plan.simulate(list(calls))

    def data(self, n: int = 1) -> list[tuple[str, str]]:
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
        self.lines.extend(simple(text, indent))

    def stmt(self, expr: Expr, prefix: str = "", indent: int = 4) -> None:
        self.lines.extend(statement(expr, indent, prefix))

    def sort_key(self) -> str:
        return f"str(r.{self.pk.name})" if self.pk.value_type == "uuid" else f"r.{self.pk.name}"

    def missing_key(self, f: FieldSpec) -> str:
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
        self.ctx.package.add("ConstraintError")
        self.out("with pytest.raises(ConstraintError) as caught:")
        self.out(call_text, 8)
        self.out(f"assert caught.value.kind == {py_str(kind)}")
        self.out(f"assert caught.value.table == {py_str(table)}")
        if column is not None:
            self.out(f"assert caught.value.column == {py_str(column)}")

    # tests

    def emit(self) -> list[str]:
        if self.plan.capacity[self.e] == 0:
            self.lines.extend(["", ""])
            self.lines.append(
                f"# Tests of {self.e} are left out: no example value matching every constraint "
                "could be derived for a required field."
            )
            return self.lines
        self.defaults()
        self.round_trip()
        self.list_filter_order()
        self.update()
        self.delete()
        self.create_many()
        self.invalid_values()
        self.database_checks()
        self.not_null()
        self.unique()
        for f in self.entity.fields:
            if f.is_ref:
                self.ref(f)
        self.secrets()
        self.naive_datetimes()
        return self.lines

    def defaults(self) -> None:
        entity = self.entity
        calls = [
            ("new" if self.plan.fresh_parent(entity, f) else "shared", str(f.to))
            for f in entity.fields
            if f.is_ref and not f.nullable
        ]
        name = f"test_{self.s}_create_with_defaults"
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*calls)):
            return
        kwargs: list[Expr] = []
        for f in create_fields(entity):
            if not is_required(f):
                continue
            if f.is_ref:
                kwargs.append(Pre(f"{f.name}=", _ref_expr(self.plan, entity, f, "make")))
            else:
                kwargs.append(Pre(f"{f.name}=", _sample_expr(self.plan, self.ctx, entity, f, 0)))
        timed = [
            f
            for f in entity.fields
            if f.auto_now or (f.default is not None and f.default.kind == "now")
        ]
        expected_names: list[str] = []
        self.out(f"repo = {self.repo}(conn)")
        if timed:
            self.ctx.std.add("datetime")
            self.out("before = datetime.datetime.now(datetime.UTC)")
        self.stmt(Group(f"{self.e}Create(", kwargs, ")"), "data = ")
        self.out("record = repo.create(data)")
        if timed:
            self.out("after = datetime.datetime.now(datetime.UTC)")
        for f in entity.fields:
            attr = f"record.{f.name}"
            if f.primary_key and f.value_type == "int":
                self.out(f"assert isinstance({attr}, int)")
            elif (f.primary_key and f.value_type == "uuid") or (
                f.default is not None and f.default.kind == "uuid4"
            ):
                self.out(f"assert {attr} is not None")
                self.out(f"assert {attr}.version == 4")
            elif f in timed and f.nullable:
                self.out(f"assert {attr} is not None")
                compare = f"{attr} in (before.date(), after.date())"
                if f.value_type != "date":
                    compare = f"before <= {attr} <= after"
                self.out(f"assert {compare}")
            elif f in timed and f.value_type == "date":
                self.out(f"assert {attr} in (before.date(), after.date())")
            elif f in timed:
                self.out(f"assert before <= {attr} <= after")
            elif f.default is not None and f.default.kind == "empty_object":
                self.out(f"assert {attr} == {{}}")
            elif f.default is not None and f.default.kind == "empty_array":
                self.out(f"assert {attr} == []")
            elif f.default is not None and f.value_type == "bool":
                self.out(f"assert {attr} is {f.default.value!r}")
            elif f.default is not None:
                value = _value_expr(self.ctx, entity, f, f.default.value)
                if len(f"    assert {attr} == {flat(value)}") <= 88:
                    self.out(f"assert {attr} == {flat(value)}")
                else:
                    # One name per type: mypy keeps the type of a variable's first assignment.
                    expected = "expected" + (f"_{len(expected_names)}" if expected_names else "")
                    expected_names.append(expected)
                    self.stmt(value, f"{expected} = ")
                    self.out(f"assert {attr} == {expected}")
            elif f.nullable:
                self.out(f"assert {attr} is None")
        self.out(f"assert repo.get(record.{self.pk.name}) == record")

    def round_trip(self) -> None:
        name = f"test_{self.s}_create_get_round_trip"
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*self.data())):
            return
        self.out(f"repo = {self.repo}(conn)")
        self.out(f"data = make.data_{self.s}()")
        self.out("record = repo.create(data)")
        self.out("for name, value in data:")
        self.out("assert getattr(record, name) == value, name", 8)
        self.out(f"assert repo.get(record.{self.pk.name}) == record")
        self.out(f"assert repo.get({self.missing_key(self.pk)}) is None")

    def filter_field(self) -> FieldSpec | None:
        """A field whose first two factory values differ and that orders like its column."""
        for f in self.entity.fields:
            values = self.plan.values[self.e].get(f.name)
            if f.primary_key or f.secret or f.nullable or f.value_type in ("json", "bool"):
                continue
            if not values:
                continue
            if len(values) >= 2:
                return f
        return None

    def list_filter_order(self) -> None:
        two = self.fits(*self.data(2)) is None
        name = f"test_{self.s}_list_filter_order_count"
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*self.data())):
            return
        pk = self.pk.name
        self.out(f"repo = {self.repo}(conn)")
        self.out(f"first = repo.create(make.data_{self.s}())")
        if two:
            self.out(f"second = repo.create(make.data_{self.s}())")
            self.out(f"ordered = sorted([first, second], key=lambda r: {self.sort_key()})")
            self.out("assert repo.count() == 2")
            self.out("assert repo.list() == ordered")
            self.out(f"assert repo.list(order_by={py_str('-' + pk)}) == ordered[::-1]")
            self.out("assert repo.list(limit=1, offset=1) == ordered[1:]")
            self.out("assert repo.list(limit=None) == ordered")
            f = self.filter_field()
            if f is not None:
                self.out(f"assert repo.list({f.name}=first.{f.name}) == [first]")
                self.out(f"assert repo.count({f.name}=second.{f.name}) == 1")
                key = f"str(r.{f.name})" if f.value_type == "uuid" else f"r.{f.name}"
                self.out(f"by_field = sorted([first, second], key=lambda r: {key})")
                self.out(f"assert repo.list(order_by={py_str(f.name)}) == by_field")
                self.out(f"assert repo.list(order_by={py_str('-' + f.name)}) == by_field[::-1]")
            else:
                self.out(f"assert repo.list({pk}=first.{pk}) == [first]")
        else:
            self.out("assert repo.list() == [first]")
            self.out("assert repo.count() == 1")
            self.out(f"assert repo.list({pk}=first.{pk}) == [first]")
        self.out('with pytest.raises(ValueError, match="no_such_field"):')
        self.out("repo.list(no_such_field=1)", 8)
        self.out('with pytest.raises(ValueError, match="no_such_field"):')
        self.out('repo.list(order_by="-no_such_field")', 8)
        self.out('with pytest.raises(ValueError, match="no_such_field"):')
        self.out("repo.count(no_such_field=1)", 8)

    def update_choice(self) -> tuple[FieldSpec, Expr] | None:
        """A field to change and its new value (record 0 holds value 0 of every field)."""
        for f in update_fields(self.entity):
            values = self.plan.values[self.e].get(f.name)
            if f.is_ref or values is None:
                continue
            if len(values) >= 2:
                return f, _sample_expr(self.plan, self.ctx, self.entity, f, 1)
        for f in update_fields(self.entity):
            if f.nullable:
                return f, "None"
        return None

    def update(self) -> None:
        name = f"test_{self.s}_update_one_field"
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*self.data())):
            return
        self.ctx.package.add(self.e + "Update")
        pk = self.pk.name
        auto_now = [f.name for f in self.entity.fields if f.auto_now]
        choice = self.update_choice()
        self.out(f"repo = {self.repo}(conn)")
        self.out(f"record = repo.create(make.data_{self.s}())")
        if auto_now:
            self.ctx.std.update(["datetime", "time"])
            self.out(f"_wait_past(record.{auto_now[0]})")
        if choice is not None:
            f, value = choice
            self.stmt(value, "value = ")
            self.stmt(
                call(
                    "repo.update",
                    f"record.{pk}",
                    call(f"{self.e}Update", Pre(f"{f.name}=", "value")),
                ),
                "changed = ",
            )
        else:
            self.out(f"changed = repo.update(record.{pk}, {self.e}Update())")
        self.out("assert changed is not None")
        changed_names = list(auto_now)
        if choice is not None:
            self.out(f"assert changed.{choice[0].name} == value")
            changed_names.append(choice[0].name)
        for name_ in auto_now:
            self.out(f"assert changed.{name_} > record.{name_}")
        if changed_names:
            self.stmt(Group("{", [py_str(n) for n in changed_names], "}"), "changed_names = ")
            self.out("kept = record.model_dump(exclude=changed_names)")
            self.out("assert changed.model_dump(exclude=changed_names) == kept")
        else:
            self.out("assert changed == record")
        self.out(f"assert repo.get(record.{pk}) == changed")
        self.out(f"assert repo.update({self.missing_key(self.pk)}, {self.e}Update()) is None")

    def delete(self) -> None:
        name = f"test_{self.s}_delete"
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*self.data())):
            return
        pk = self.pk.name
        self.out(f"repo = {self.repo}(conn)")
        self.out(f"record = repo.create(make.data_{self.s}())")
        self.out(f"assert repo.delete(record.{pk}) is True")
        self.out(f"assert repo.get(record.{pk}) is None")
        self.out(f"assert repo.delete(record.{pk}) is False")

    def violation(self) -> tuple[str, str] | None:
        """A (field, value) that the database refuses: a NOT NULL, CHECK or FOREIGN KEY failure."""
        not_null = self.not_null_field()
        if not_null is not None:
            return not_null.name, "None"
        for f in self.entity.fields:
            for bad in invalid_values(f):
                if bad.database:
                    return f.name, _raw_expr(bad.value)
        for f in self.entity.fields:
            if f.is_ref:
                return f.name, self.missing_key(f)
        return None

    def create_many(self) -> None:
        name = f"test_{self.s}_create_many_is_one_transaction"
        two = self.fits(*self.data(2)) is None
        count = 2 if two else 1
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*self.data())):
            return
        items = Group("[", [f"make.data_{self.s}()" for _ in range(count)], "]")
        self.out(f"repo = {self.repo}(conn)")
        self.stmt(items, "items = ")
        self.out(f"assert repo.create_many(items) == {count}")
        self.out(f"assert repo.count() == {count}")
        bad = self.violation()
        if bad is not None and self.fits(*self.data(count + 2)) is None:
            field_name, value = bad
            self.out(f"bad = make.data_{self.s}()")
            update = Group("{", [Pre(f"{py_str(field_name)}: ", value)], "}")
            self.stmt(call("bad.model_copy", Pre("update=", update)), "bad = ")
            self.ctx.package.add("ConstraintError")
            self.out("with pytest.raises(ConstraintError):")
            self.out(f"repo.create_many([make.data_{self.s}(), bad])", 8)
            self.out(f"assert repo.count() == {count}")

    def invalid_values(self) -> None:
        cases: list[Expr] = []
        for f in create_fields(self.entity):
            for bad in invalid_values(f):
                cases.append(Group("(", [py_str(f.name), _raw_expr(bad.value)], ")"))
            if not f.nullable and f.value_type != "json" and not f.auto_now:
                cases.append(Group("(", [py_str(f.name), "None"], ")"))
        name = f"test_{self.s}_rejects_invalid_values"
        why = self.fits(*self.data()) or (None if cases else "no field has a constraint to break")
        self.lines.extend(["", ""])
        if why:
            self.lines.append(f"# {name} is left out: {why}.")
            return
        self.ctx.std.add("Any")
        self.ctx.pydantic.add("ValidationError")
        self.stmt(
            call("@pytest.mark.parametrize", '("field", "value")', Group("[", cases, "]")), "", 0
        )
        self.define(name, "make: Factory, field: str, value: Any")
        self.out(f"data = make.data_{self.s}().model_dump()")
        self.out("data[field] = value")
        self.out("with pytest.raises(ValidationError):")
        self.out(f"{self.e}Create.model_validate(data)", 8)
        self.ctx.package.add(self.e + "Update")
        self.out(f"if field in {self.e}Update.model_fields:")
        self.out("with pytest.raises(ValidationError):", 8)
        self.out(f"{self.e}Update.model_validate({{field: value}})", 12)

    def database_checks(self) -> None:
        cases: list[Expr] = []
        for f in create_fields(self.entity):
            for bad in invalid_values(f):
                if bad.database:
                    cases.append(Group("(", [py_str(f.name), _raw_expr(bad.value)], ")"))
        if not cases:
            return
        name = f"test_{self.s}_database_checks"
        why = self.fits(*self.data())
        self.lines.extend(["", ""])
        if why:
            self.lines.append(f"# {name} is left out: {why}.")
            return
        self.ctx.std.add("Any")
        self.stmt(
            call("@pytest.mark.parametrize", '("field", "value")', Group("[", cases, "]")), "", 0
        )
        params = "conn: sqlite3.Connection, make: Factory, field: str, value: Any"
        self.define(name, params)
        self.out("# model_copy skips validation, so the value reaches SQLite's CHECK constraint.")
        self.copy_data("{field: value}")
        self.raises_constraint(f"{self.repo}(conn).create(data)", "check", self.entity.table, None)
        self.out("assert caught.value.column == field")

    def not_null_field(self) -> FieldSpec | None:
        """A non-nullable field whose None reaches SQLite as NULL (the key last)."""
        fields = sorted(create_fields(self.entity), key=lambda f: f.primary_key)
        for f in fields:
            if not f.nullable and f.value_type != "json" and not f.auto_now:
                return f
        return None

    def not_null(self) -> None:
        f = self.not_null_field()
        if f is None:
            return
        name = f"test_{self.s}_not_null"
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*self.data())):
            return
        self.out("# model_copy skips validation, so None reaches SQLite's NOT NULL constraint.")
        self.copy_data([(f.name, "None")])
        self.raises_constraint(
            f"{self.repo}(conn).create(data)", "not_null", self.entity.table, f.name
        )

    def unique(self) -> None:
        sets = self.plan.testable_unique_sets(self.entity)
        if not sets:
            return
        name = f"test_{self.s}_unique"
        self.lines.extend(["", ""])
        why = self.fits(*self.data(2))
        if why:
            self.lines.append(f"# {name} is left out: {why}.")
            return
        cases: list[Expr] = [
            Group("(", [py_str(n) for n in columns], ")", one_tuple=True) for columns in sets
        ]
        self.stmt(call("@pytest.mark.parametrize", '"fields"', Group("[", cases, "]")), "", 0)
        params = "conn: sqlite3.Connection, make: Factory, fields: tuple[str, ...]"
        self.define(name, params)
        self.out(f"repo = {self.repo}(conn)")
        self.out(f"first = repo.create(make.data_{self.s}())")
        self.out("same = {name: getattr(first, name) for name in fields}")
        self.out(f"second = make.data_{self.s}()")
        self.out("second = second.model_copy(update=same)")
        self.raises_constraint("repo.create(second)", "unique", self.entity.table, None)
        # SQLite names the first constraint broken: this one, or a wider one containing it.
        self.out("assert set(fields) <= set(caught.value.columns)")

    def ref(self, f: FieldSpec) -> None:
        assert f.to is not None
        target = self.plan.entity(f.to)
        base = f"test_{self.s}__{f.name}"
        if self.test(
            f"{base}__missing_parent",
            "conn: sqlite3.Connection, make: Factory",
            self.fits(*self.data()),
        ):
            missing = self.missing_key(f)
            self.copy_data([(f.name, missing)])
            self.raises_constraint(
                f"{self.repo}(conn).create(data)", "foreign_key", self.entity.table, None
            )
        why = self.fits(("new", target.name), *self.data())
        if not self.test(
            f"{base}__on_delete_{f.on_delete}", "conn: sqlite3.Connection, make: Factory", why
        ):
            return
        self.ctx.package.add(target.name + "Repository")
        tpk = target.pk.name
        self.out(f"repo = {self.repo}(conn)")
        self.out(f"parent = make.new_{target.snake}()")
        self.copy_data([(f.name, f"parent.{tpk}")])
        self.out("child = repo.create(data)")
        delete = f"{target.name}Repository(conn).delete(parent.{tpk})"
        if f.on_delete == "cascade":
            self.out(f"assert {delete} is True")
            self.out(f"assert repo.get(child.{self.pk.name}) is None")
        elif f.on_delete == "set_null":
            self.out(f"assert {delete} is True")
            self.out(f"kept = repo.get(child.{self.pk.name})")
            self.out("assert kept is not None")
            self.out(f"assert kept.{f.name} is None")
        else:
            self.raises_constraint(delete, "foreign_key", target.table, None)
            self.out(f"assert repo.get(child.{self.pk.name}) == child")

    def secrets(self) -> None:
        secret = [f for f in self.entity.fields if f.secret]
        if not secret:
            return
        name = f"test_{self.s}_secrets_are_hidden"
        if not self.test(name, "conn: sqlite3.Connection, make: Factory", self.fits(*self.data())):
            return
        self.out(f"data = make.data_{self.s}()")
        self.out(f"record = {self.repo}(conn).create(data)")
        self.out("shown = repr(record) + str(record) + record.model_dump_json()")
        for f in secret:
            self.out(f"assert data.{f.name} is not None")
            self.out(f"assert record.{f.name} == data.{f.name}")
            values = self.plan.values[self.e][f.name]
            if min(len(str(v)) for v in values) >= 8:
                self.out(f"assert data.{f.name}.get_secret_value() not in shown")
        self.out('assert "**********" in shown')

    def naive_datetimes(self) -> None:
        fields = [
            f for f in create_fields(self.entity) if f.value_type == "datetime" and not f.is_ref
        ]
        if not fields:
            return
        f = fields[0]
        name = f"test_{self.s}_naive_datetimes_are_utc"
        if not self.test(name, "make: Factory", self.fits(*self.data())):
            return
        self.ctx.std.add("datetime")
        self.out(f"data = make.data_{self.s}().model_dump()")
        self.out(f"data[{py_str(f.name)}] = datetime.datetime(2024, 5, 6, 7, 8, 9)")
        self.out(f"created = {self.e}Create.model_validate(data)")
        self.out("expected = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)")
        self.out(f"assert created.{f.name} == expected")
        self.out(f"assert created.{f.name}.tzinfo is datetime.UTC")


WAIT_PAST = '''

def _wait_past(moment: datetime.datetime) -> None:
    """Sleep until the UTC clock is past ``moment`` (so auto_now visibly moves)."""
    while datetime.datetime.now(datetime.UTC) <= moment:
        time.sleep(0.001)'''
