"""The generated tests of one entity: CRUD, filters, ordering, every constraint kind it has, refs.

Each test is emitted only when the ``RecordPlan`` says the Factory can make the records it
needs; otherwise a comment in the test module says why it is left out.
"""

from __future__ import annotations

from tac_bootstrap_cli.modelgen.common import create_fields, is_required, update_fields
from tac_bootstrap_cli.modelgen.pyfmt import Expr, Group, Pre, call, flat, py_str
from tac_bootstrap_cli.modelgen.samples import invalid_values
from tac_bootstrap_cli.modelgen.spec import FieldSpec
from tac_bootstrap_cli.modelgen.testfactory import raw_expr, ref_expr, sample_expr, value_expr
from tac_bootstrap_cli.modelgen.testwriter import CaseWriter


class EntityTests(CaseWriter):
    """The tests of one entity, each left out (with a comment) when its records do not fit."""

    def emit(self) -> list[str]:
        """Every test of the entity, as lines of the test module."""
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
        """test_<e>_create_with_defaults: only required fields given, defaults and keys checked."""
        entity = self.entity
        calls = [
            ("new" if self.plan.fresh_parent(entity, f) else "shared", str(f.to))
            for f in entity.fields
            if f.is_ref and not f.nullable
        ]
        name = f"test_{self.s}_create_with_defaults"
        if not self.test(name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*calls)):
            return
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
        self.stmt(Group(f"{self.e}Create(", self._required_kwargs(), ")"), "data = ")
        self.out("record = repo.create(data)")
        if timed:
            self.out("after = datetime.datetime.now(datetime.UTC)")
        for f in entity.fields:
            self._assert_default(f, f in timed, expected_names)
        self.out(f"assert repo.get(record.{self.pk.name}) == record")

    def _required_kwargs(self) -> list[Expr]:
        """``name=value`` for each required field of a create (refs made by the factory)."""
        entity = self.entity
        kwargs: list[Expr] = []
        for f in create_fields(entity):
            if not is_required(f):
                continue
            if f.is_ref:
                kwargs.append(Pre(f"{f.name}=", ref_expr(self.plan, entity, f, "make")))
            else:
                kwargs.append(Pre(f"{f.name}=", sample_expr(self.plan, self.ctx, entity, f, 0)))
        return kwargs

    def _assert_default(self, f: FieldSpec, timed: bool, expected_names: list[str]) -> None:
        """The asserts on field ``f`` of a record created from its required fields only."""
        attr = f"record.{f.name}"
        if f.primary_key and f.value_type == "int":
            self.out(f"assert isinstance({attr}, int)")
        elif (f.primary_key and f.value_type == "uuid") or (
            f.default is not None and f.default.kind == "uuid4"
        ):
            self.out(f"assert {attr} is not None")
            self.out(f"assert {attr}.version == 4")
        elif timed:
            if f.nullable:
                self.out(f"assert {attr} is not None")
            if f.value_type == "date":
                self.out(f"assert {attr} in (before.date(), after.date())")
            else:
                self.out(f"assert before <= {attr} <= after")
        elif f.default is not None:
            self._assert_default_value(f, attr, expected_names)
        elif f.nullable:
            self.out(f"assert {attr} is None")

    def _assert_default_value(self, f: FieldSpec, attr: str, expected_names: list[str]) -> None:
        """``attr`` holds the spec's default value of ``f``."""
        assert f.default is not None
        if f.default.kind == "empty_object":
            self.out(f"assert {attr} == {{}}")
        elif f.default.kind == "empty_array":
            self.out(f"assert {attr} == []")
        elif f.value_type == "bool":
            self.out(f"assert {attr} is {f.default.value!r}")
        else:
            value = value_expr(self.ctx, self.entity, f, f.default.value)
            if len(f"    assert {attr} == {flat(value)}") <= 88:
                self.out(f"assert {attr} == {flat(value)}")
            else:
                # One name per type: mypy keeps the type of a variable's first assignment.
                expected = "expected" + (f"_{len(expected_names)}" if expected_names else "")
                expected_names.append(expected)
                self.stmt(value, f"{expected} = ")
                self.out(f"assert {attr} == {expected}")

    def round_trip(self) -> None:
        """test_<e>_create_get_round_trip: what create stores, get returns."""
        name = f"test_{self.s}_create_get_round_trip"
        if not self.test(
            name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*self.data())
        ):
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
        """test_<e>_list_filter_order_count: list, count, filters, order and paging."""
        two = self.fits(*self.data(2)) is None
        name = f"test_{self.s}_list_filter_order_count"
        if not self.test(
            name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*self.data())
        ):
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
                return f, sample_expr(self.plan, self.ctx, self.entity, f, 1)
        for f in update_fields(self.entity):
            if f.nullable:
                return f, "None"
        return None

    def update(self) -> None:
        """test_<e>_update_one_field: one field changed, the rest (auto_now aside) kept."""
        name = f"test_{self.s}_update_one_field"
        if not self.test(
            name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*self.data())
        ):
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
        """test_<e>_delete: gone after delete; a second delete says so."""
        name = f"test_{self.s}_delete"
        if not self.test(
            name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*self.data())
        ):
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
                    return f.name, raw_expr(bad.value)
        for f in self.entity.fields:
            if f.is_ref:
                return f.name, self.missing_key(f)
        return None

    def create_many(self) -> None:
        """test_<e>_create_many_is_one_transaction: all rows or none."""
        name = f"test_{self.s}_create_many_is_one_transaction"
        two = self.fits(*self.data(2)) is None
        count = 2 if two else 1
        if not self.test(
            name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*self.data())
        ):
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
        """test_<e>_rejects_invalid_values: each constraint broken fails validation."""
        cases: list[Expr] = []
        for f in create_fields(self.entity):
            for bad in invalid_values(f):
                cases.append(Group("(", [py_str(f.name), raw_expr(bad.value)], ")"))
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
        """test_<e>_database_checks: the database's CHECKs refuse what skips validation."""
        dialect = self.ctx.dialect
        cases: list[Expr] = []
        for f in create_fields(self.entity):
            in_database = f.value_type != "bool" or dialect.bool_check  # else the column type
            for bad in invalid_values(f):
                if bad.database and in_database:
                    cases.append(Group("(", [py_str(f.name), raw_expr(bad.value)], ")"))
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
        params = f"conn: {self.ctx.conn_type}, make: Factory, field: str, value: Any"
        self.define(name, params)
        self.out(
            f"# model_copy skips validation, so the value reaches {dialect.title}'s CHECK constraint."
        )
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
        """test_<e>_not_null: SQLite's NOT NULL refuses a None that skips validation."""
        f = self.not_null_field()
        if f is None:
            return
        name = f"test_{self.s}_not_null"
        if not self.test(
            name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*self.data())
        ):
            return
        self.out("# model_copy skips validation, so None reaches SQLite's NOT NULL constraint.")
        self.copy_data([(f.name, "None")])
        self.raises_constraint(
            f"{self.repo}(conn).create(data)", "not_null", self.entity.table, f.name
        )

    def unique(self) -> None:
        """test_<e>_unique: each unique set refuses a copy of a stored record."""
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
        params = f"conn: {self.ctx.conn_type}, make: Factory, fields: tuple[str, ...]"
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
        """test_<e>__<ref>__*: a missing parent is refused; deleting one does what on_delete says."""
        assert f.to is not None
        target = self.plan.entity(f.to)
        base = f"test_{self.s}__{f.name}"
        if self.test(
            f"{base}__missing_parent",
            f"conn: {self.ctx.conn_type}, make: Factory",
            self.fits(*self.data()),
        ):
            missing = self.missing_key(f)
            self.copy_data([(f.name, missing)])
            self.raises_constraint(
                f"{self.repo}(conn).create(data)", "foreign_key", self.entity.table, None
            )
        why = self.fits(("new", target.name), *self.data())
        if not self.test(
            f"{base}__on_delete_{f.on_delete}", f"conn: {self.ctx.conn_type}, make: Factory", why
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
        """test_<e>_secrets_are_hidden: secret values never shown in repr, str or JSON."""
        secret = [f for f in self.entity.fields if f.secret]
        if not secret:
            return
        name = f"test_{self.s}_secrets_are_hidden"
        if not self.test(
            name, f"conn: {self.ctx.conn_type}, make: Factory", self.fits(*self.data())
        ):
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
        """test_<e>_naive_datetimes_are_utc: a naive datetime is taken as UTC."""
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
