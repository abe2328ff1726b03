"""Random valid specs generate code that is formatted, lints, compiles, and passes its own tests."""

from __future__ import annotations

import keyword
import py_compile
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli.modelgen import (
    SpecError,
    generate_models,
    load_spec,
    naming,
    parse_spec,
    render_models,
)
from tac_bootstrap_cli.modelgen.spec import FIELD_KEYS

from .helpers import explain, generated_tests, ruff_check, ruff_format_check

PATTERNS = [r"^[a-z]+$", r"^[A-Z]{2,4}-\d{1,3}$", r"^(red|green|blue)$", r"\d", r"^v\d+(\.\d+)?$"]
WORDS = ["alpha", "beta", "gamma", "order", "key", "column", "type", "values", "select", "name"]
ENUM_VALUES = ["Pending", "running", "in-progress", "DONE", "1st", "a b", "x", "Ölçü", "it's"]


def _field_name_ok(name: str) -> bool:
    return not (
        keyword.iskeyword(name)
        or name in naming.BASE_MODEL_ATTRIBUTES
        or name in naming.RESERVED_FIELD_NAMES
        or name.endswith("_")
    )


field_names = st.one_of(
    st.sampled_from(WORDS), st.from_regex(r"[a-z][a-z0-9_]{0,14}[a-z0-9]", fullmatch=True)
).filter(_field_name_ok)

entity_names = st.from_regex(r"[A-Z][a-z]{1,10}([A-Z][a-z0-9]{1,8}){0,2}", fullmatch=True).filter(
    lambda n: n not in naming.RESERVED_CLASS_NAMES and not keyword.iskeyword(n)
)


def _text_constraints(draw: st.DrawFn, field: dict[str, Any], kind: str) -> None:
    low = draw(st.none() | st.integers(0, 5))
    high = draw(st.none() | st.integers(max(low or 0, 1), 60))
    if low is not None:
        field["min_length"] = low
    if high is not None:
        field["max_length"] = high
    if draw(st.integers(0, 3)) == 0 and (high is None or high >= 8) and (low or 0) <= 2:
        field["pattern"] = draw(st.sampled_from(PATTERNS))
    elif kind == "str" and draw(st.integers(0, 4)) == 0:
        field["secret"] = True
    if "pattern" not in field and draw(st.integers(0, 3)) == 0:
        length = max(low or 0, 1)
        if high is None or length <= high:
            field["default"] = "d" * length


def _number_constraints(draw: st.DrawFn, field: dict[str, Any], kind: str) -> None:
    low = draw(st.none() | st.integers(-1000, 1000))
    high = draw(st.none() | st.integers(low if low is not None else -1000, 2000))
    if low is not None:
        field["ge" if draw(st.booleans()) or low == high else "gt"] = low
    if high is not None and not (low == high and "gt" in field):
        field["le" if draw(st.booleans()) or low == high else "lt"] = high
    if kind == "int" and "gt" in field and "lt" in field and field["lt"] - field["gt"] < 2:
        field.pop("lt")
    if draw(st.integers(0, 3)) == 0 and low is not None and "ge" in field:
        field["default"] = low if kind == "int" else float(low)


def _bool_constraints(draw: st.DrawFn, field: dict[str, Any], _kind: str) -> None:
    if draw(st.booleans()):
        field["default"] = draw(st.booleans())


def _enum_constraints(draw: st.DrawFn, field: dict[str, Any], _kind: str) -> None:
    values = draw(st.lists(st.sampled_from(ENUM_VALUES), min_size=1, max_size=5, unique=True))
    members = {naming.enum_member(v) for v in values}
    if len(members) < len(values):
        values = values[:1]
    field["values"] = values
    if draw(st.booleans()):
        field["default"] = draw(st.sampled_from(values))


def _datetime_constraints(draw: st.DrawFn, field: dict[str, Any], _kind: str) -> None:
    choice = draw(st.integers(0, 3))
    if choice == 1:
        field["default"] = "now"
    elif choice == 2:
        field["auto_now"] = True
        field.pop("nullable", None)
    elif choice == 3:
        field["default"] = "2024-02-29T12:30:00.250000+02:00"


def _date_constraints(draw: st.DrawFn, field: dict[str, Any], _kind: str) -> None:
    if draw(st.booleans()):
        field["default"] = draw(st.sampled_from(["now", "2024-02-29"]))


def _uuid_constraints(draw: st.DrawFn, field: dict[str, Any], _kind: str) -> None:
    if draw(st.booleans()):
        field["default"] = "uuid4"


def _json_constraints(draw: st.DrawFn, field: dict[str, Any], _kind: str) -> None:
    choice = draw(st.integers(0, 3))
    if choice:
        field["default"] = [{}, [], {"a": [1, 2.5, None, True, "é"]}][choice - 1]


# Each kind's own constraints and default, drawn into the field (same signature: a table).
KIND_CONSTRAINTS: dict[str, Callable[[st.DrawFn, dict[str, Any], str], None]] = {
    "str": _text_constraints,
    "text": _text_constraints,
    "int": _number_constraints,
    "float": _number_constraints,
    "bool": _bool_constraints,
    "uuid": _uuid_constraints,
    "datetime": _datetime_constraints,
    "date": _date_constraints,
    "json": _json_constraints,
    "enum": _enum_constraints,
}


@st.composite
def scalar_field(draw: st.DrawFn) -> dict[str, Any]:
    """One non-ref, non-key field with random constraints and a valid default (sometimes)."""
    kind = draw(st.sampled_from(list(KIND_CONSTRAINTS)))
    field: dict[str, Any] = {"type": kind}
    if draw(st.booleans()):
        field["nullable"] = True
    KIND_CONSTRAINTS[kind](draw, field, kind)
    if draw(st.integers(0, 4)) == 0 and kind not in ("json",):
        field["unique"] = True
    if draw(st.integers(0, 4)) == 0:
        field["index"] = True
    if draw(st.integers(0, 5)) == 0:
        field["description"] = draw(st.sampled_from(['A "quoted" note.', "Ünïcode – dash", "x\\y"]))
    return field


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A spec dict with 1-3 entities; refs point to earlier entities (or nullable to themselves)."""
    names = draw(st.lists(entity_names, min_size=1, max_size=3, unique_by=naming.snake_case))
    entities: dict[str, Any] = {}
    for position, name in enumerate(names):
        pk_type = draw(st.sampled_from(["int", "uuid", "str"]))
        pk: dict[str, Any] = {"type": pk_type, "primary_key": True}
        if pk_type == "str" and draw(st.booleans()):
            pk["max_length"] = draw(st.integers(8, 40))
        fields: dict[str, Any] = {"id": pk}
        for field_name in draw(st.lists(field_names, min_size=1, max_size=6, unique=True)):
            if field_name == "id":
                continue
            fields[field_name] = draw(scalar_field())
        targets = names[: position + 1]
        for index in range(draw(st.integers(0, 2))):
            target = draw(st.sampled_from(targets))
            ref: dict[str, Any] = {"type": "ref", "to": target}
            nullable = target == name or draw(st.booleans())
            if nullable:
                ref["nullable"] = True
            actions = ["cascade", "restrict", *(["set_null"] if nullable else [])]
            ref["on_delete"] = draw(st.sampled_from(actions))
            if draw(st.integers(0, 3)) == 0:
                ref["unique"] = True
            fields[f"ref_{index}"] = ref
        entity: dict[str, Any] = {"fields": fields}
        plain = [n for n, f in fields.items() if n != "id" and f["type"] != "json"]
        if len(plain) >= 2 and draw(st.booleans()):
            entity["unique"] = [draw(st.permutations(plain))[:2]]
        if len(plain) >= 2 and draw(st.booleans()):
            entity["indexes"] = [draw(st.permutations(plain))[:2]]
        entities[name] = entity
    module = draw(st.sampled_from(["robot_ops", "boards", "trace_store", "m1"]))
    return {"module": module, "description": "Random spec.", "entities": entities}


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=specs())
def test_random_valid_specs_generate_working_code(
    tmp_path_factory: pytest.TempPathFactory, spec: dict[str, Any]
) -> None:
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    try:
        parse_spec(text, "random.yaml")
    except SpecError as exc:  # a rare name collision the strategy does not avoid: say which
        if all("collide" in p or "already" in p or "also the name" in p for p in exc.problems):
            return
        raise
    folder = tmp_path_factory.mktemp("random")
    path = folder / "random.yaml"
    path.write_text(text, encoding="utf-8")
    out = folder / "out"
    result = generate_models(path, out)
    for file in result.files:
        if file.suffix == ".py":
            py_compile.compile(str(file), doraise=True)
    for check in (ruff_check, ruff_format_check, generated_tests):
        outcome = check(out)
        assert outcome.returncode == 0, f"{check.__name__}: {explain(outcome)}\n{text}"


def test_strategy_produces_valid_specs() -> None:
    """The strategy itself (fast, no subprocesses): its specs validate."""

    @settings(max_examples=60, deadline=None)
    @given(spec=specs())
    def check(spec: dict[str, Any]) -> None:
        text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
        try:
            parse_spec(text, "random.yaml")
        except SpecError as exc:
            assert all(
                "collide" in p or "already" in p or "also the name" in p for p in exc.problems
            ), exc.problems

    check()


# --- malformed specs: whatever the input, a SpecError (or a spec that renders), never another error

# Pieces that have broken YAML loaders or validators: structure, anchors, tags, bad timestamps,
# huge or special numbers, characters YAML refuses, tabs and odd line breaks.
NASTY = [
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "? ",
    ", ",
    "&a ",
    "*a",
    "&a [*a]",
    "<<: *a",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!timestamp ",
    "!!binary ",
    "!!python/object:os.system ",
    "!!set ",
    "!!omap ",
    "2024-02-30",
    "2024-02-03 25:00:00",
    "0000-01-01",
    "9" * 5000,
    "-" + "9" * 400,
    "99999999999999999999",
    "1e300",
    ".nan",
    "-.inf",
    "0x",
    "1:2:3",
    "~",
    "null",
    "yes",
    "'",
    '"',
    '"\\ud800"',
    '"\\0"',
    "|",
    ">",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "#",
    "\t",
    "\n",
    "\r",
    "\x85",
    "\u2028",
    "\ufeff",
    "\x00",
    "\x07",
    "é",
    "[" * 200,
    "{a: " * 100,
    "(" * 300,
    "a{99999999999}",
]


def _check_outcome(text: str, folder: pytest.TempPathFactory) -> None:
    """``text`` is either refused with one-line SpecError problems, or renders without error."""
    try:
        parse_spec(text, "fuzz.yaml")
    except SpecError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert re.match(r"fuzz\.yaml:\d+:\d+: \S", problem), problem
            assert problem.isprintable(), repr(problem)
        return
    spec_path = folder.mktemp("fuzz") / "fuzz.yaml"
    spec_path.write_bytes(text.encode("utf-8"))
    _, files = render_models(spec_path, spec_path.parent / "out")
    for path, body in files.items():
        body.encode("utf-8")
        if path.suffix == ".py":
            compile(body, str(path), "exec")


@st.composite
def mutated_specs(draw: st.DrawFn) -> str:
    """A valid spec's YAML text with a few pieces inserted, deleted or replaced."""
    text = yaml.safe_dump(draw(specs()), sort_keys=False, allow_unicode=True)
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = min(len(text), start + draw(st.integers(0, 12)))
        piece = draw(st.sampled_from(NASTY) | st.text(max_size=4))
        text = text[:start] + piece + text[end:]
    return text


# A value for any key of the spec: scalars of every YAML type, and nested lists and mappings.
nasty_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["now", "uuid4", "str", "int", "ref", "enum", "set_null", "Robot", "id"])
    | st.dates()
    | st.datetimes(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def spec_with_a_wrong_value(draw: st.DrawFn) -> str:
    """A valid spec with one key (known or not) of the spec, an entity or a field set to anything."""
    spec = draw(specs())
    entity = spec["entities"][draw(st.sampled_from(sorted(spec["entities"])))]
    field = entity["fields"][draw(st.sampled_from(sorted(entity["fields"])))]
    target = draw(st.sampled_from([spec, entity, field]))
    known = {
        id(spec): ["module", "description", "entities"],
        id(entity): ["table", "description", "fields", "indexes", "unique"],
        id(field): list(FIELD_KEYS),
    }[id(target)]
    key = draw(st.sampled_from(known) | st.text(max_size=6))
    target[key] = draw(nasty_values)
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(text=mutated_specs())
def test_mutated_specs_fail_only_with_spec_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _check_outcome(text, tmp_path_factory)


@FUZZ
@given(text=spec_with_a_wrong_value())
def test_wrong_values_fail_only_with_spec_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _check_outcome(text, tmp_path_factory)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64) | st.text(max_size=64).map(lambda t: t.encode("utf-8")))
def test_arbitrary_bytes_fail_only_with_spec_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "fuzz.yaml"
    path.write_bytes(data)
    try:
        load_spec(path)
    except SpecError as exc:
        assert all(p.startswith(f"{path}:") and p.isprintable() for p in exc.problems)
