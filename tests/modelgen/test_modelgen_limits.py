"""Valid specs at the limits: huge and inexact float bounds, 64-bit ints, 60-character names, deep chains.

Each case once generated code that failed its own gates (QA of the issue "the generated layer is
correct where it was only plausible"); the generated code is run here as a user would run it.
"""

from __future__ import annotations

import math
import random
import sqlite3
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli.modelgen import render_models
from tac_bootstrap_cli.modelgen.common import applied_bounds
from tac_bootstrap_cli.modelgen.emit_schema import sql_number
from tac_bootstrap_cli.modelgen.naming import MAX_NAME_LENGTH
from tac_bootstrap_cli.modelgen.pyfmt import py_float
from tac_bootstrap_cli.modelgen.samples import invalid_values, valid_values
from tac_bootstrap_cli.modelgen.spec import INT64_MAX, INT64_MIN, FieldSpec
from tac_bootstrap_cli.modelgen.testplan import RecordPlan

from .helpers import (
    EXAMPLES,
    explain,
    generate,
    generated_tests,
    mypy_strict,
    ruff_check,
    ruff_format_check,
    run,
    write_spec,
)

# The QA case: a json field beside a float bounded near ±1e308.
QA_SPEC = """\
module: qa_limits
entities:
  Measure:
    fields:
      id: {type: int, primary_key: true}
      data: {type: json}
      ratio: {type: float, ge: -1.7976931348623157e+308, le: 1.0e+308}
      spread: {type: float, gt: -1.0e+308, lt: 1.5e+308}
"""


def _name(prefix: str) -> str:
    """A snake_case name of exactly the maximum length."""
    return (prefix + "_" + "field" * 20)[:MAX_NAME_LENGTH]


ENTITY = ("Long" + "Entity" * 20)[:MAX_NAME_LENGTH]
CHILD = ("Other" + "Record" * 20)[:MAX_NAME_LENGTH]
TABLE = ("t_" + "table" * 20)[:MAX_NAME_LENGTH]
VALUE = ("value-" + "long" * 20)[:MAX_NAME_LENGTH]
MODULE = ("limits_" + "module" * 20)[:MAX_NAME_LENGTH]

# Every limit at once: names at MAX_NAME_LENGTH everywhere they appear, floats at ±1.8e308 and
# next to subnormals, bounds no decimal SQLite reads exactly, ints at the 64-bit limits (where
# ``x ± 1`` is no longer an int), int bounds on float fields that no float equals.
LIMITS_SPEC = f"""\
module: {MODULE}
description: Everything at its limit.
entities:
  {ENTITY}:
    table: {TABLE}
    description: {"A long description " * 8}
    fields:
      {_name("a")}: {{type: uuid, primary_key: true}}
      {_name("b")}: {{type: enum, values: [{VALUE}, {VALUE[:-1]}y], default: {VALUE}, index: true}}
      {_name("c")}: {{type: json}}
      {_name("d")}: {{type: float, ge: -1.7976931348623157e+308, le: 1.0e+308}}
      {_name("e")}: {{type: float, gt: -1.0e+308, lt: 1.7976931348623157e+308, default: 0.0}}
      {_name("f")}: {{type: float, ge: 0.1, le: 0.30000000000000004, nullable: true}}
      {_name("g")}: {{type: int, ge: {INT64_MIN}, le: {INT64_MAX}}}
      {_name("h")}: {{type: int, gt: {INT64_MIN}, lt: {INT64_MAX}, unique: true}}
      {_name("i")}: {{type: float, ge: {INT64_MIN}, le: {INT64_MAX}}}
      {_name("j")}: {{type: float, gt: {INT64_MAX - 1}, nullable: true}}
      {_name("k")}: {{type: float, ge: 5.0e-324, le: 1.0e-300}}
      {_name("l")}: {{type: float, gt: -106323.488609, lt: -106323.4886089}}
      {_name("m")}: {{type: float, ge: 1.0e+308, default: 1.7976931348623157e+308}}
      {_name("n")}: {{type: int, ge: {INT64_MAX - 7}, default: {INT64_MAX}}}
      {_name("o")}: {{type: str, min_length: 60, max_length: 60, default: "{"d" * 60}"}}
      {_name("p")}: {{type: str, secret: true, nullable: true}}
      {_name("q")}: {{type: datetime, auto_now: true}}
      {_name("r")}: {{type: date, default: 2024-02-29}}
      {_name("s")}: {{type: str, pattern: '^[a-z]{{3}}-[0-9]{{2}}$', description: {"Words " * 12}}}
    unique: [[{_name("b")}, {_name("o")}]]
    indexes: [[{_name("g")}, {_name("i")}]]
  {CHILD}:
    fields:
      {_name("id")}: {{type: int, primary_key: true}}
      {_name("parent")}: {{type: ref, to: {ENTITY}, on_delete: cascade}}
      {_name("other")}: {{type: ref, to: {CHILD}, nullable: true, on_delete: set_null}}
      {_name("kind")}: {{type: enum, values: [{VALUE}, short]}}
      {_name("json")}: {{type: json, default: {{"{VALUE}": [1.0e+308, -1.0e-300, "{VALUE}"]}}}}
      {_name("uu")}: {{type: uuid, default: uuid4}}
    unique: [[{_name("parent")}, {_name("kind")}]]
"""


@pytest.mark.parametrize("text", [QA_SPEC, LIMITS_SPEC], ids=["qa", "limits"])
def test_limit_specs_lint_format_and_compile(tmp_path: Path, text: str) -> None:
    """The fast gates: ruff check, ruff format --check, and every module compiles."""
    result, out = generate(tmp_path, text)
    for check in (ruff_check, ruff_format_check):
        outcome = check(out)
        assert outcome.returncode == 0, f"{check.__name__}: {explain(outcome)}"
    tests = next(p for p in result.files if p.name.startswith("test_"))
    source = tests.read_text(encoding="utf-8")
    assert "JsonValue" not in source or "import JsonValue" in source or "    JsonValue," in source
    for path in result.files:
        if path.suffix == ".py":
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
    # Every entity gets its factory and its tests (no field lacks example values).
    assert "NotImplementedError" not in source
    assert "is left out" not in source


@pytest.mark.slow
@pytest.mark.parametrize("text", [QA_SPEC, LIMITS_SPEC], ids=["qa", "limits"])
def test_limit_specs_pass_mypy_and_their_own_tests(tmp_path: Path, text: str) -> None:
    """mypy --strict and the generated tests (invalid values really are refused, twice)."""
    _, out = generate(tmp_path, text)
    for check in (mypy_strict, generated_tests):
        outcome = check(out)
        assert outcome.returncode == 0, f"{check.__name__}: {explain(outcome)}"


def test_schema_bounds_are_exact_in_sqlite(tmp_path: Path) -> None:
    """The CHECK bounds of the limits spec are the very floats Pydantic compares with."""
    _, files = render_models(write_spec(tmp_path, LIMITS_SPEC), tmp_path / "out")
    schema = next(text for path, text in files.items() if path.suffix == ".sql")
    conn = sqlite3.connect(":memory:")
    conn.executescript(schema)
    table = f'"{TABLE}"'
    columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    assert _name("l") in columns
    # -106323.488609 is one of the decimals SQLite 3.40 reads one ulp off; the bound must not be.
    assert "-106323.488609" not in schema.split("CHECK", 1)[0]
    assert "/* -106323.488609 */" in schema


def _field(**bounds: int | float) -> FieldSpec:
    return FieldSpec(name="x", type="float", value_type="float", **bounds)  # type: ignore[arg-type]


finite = st.floats(allow_nan=False, allow_infinity=False)
bound_values = finite | st.integers(INT64_MIN, INT64_MAX)


def _sqlite_holds(conn: sqlite3.Connection, value: float, sign: str, bound: float) -> bool:
    """Whether SQLite's CHECK ``value <sign> <bound literal>`` holds (value bound exactly)."""
    return bool(conn.execute(f"SELECT ? {sign} {sql_number(bound)}", (value,)).fetchone()[0])


_CONN = sqlite3.connect(":memory:")
_SIGNS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _python_holds(value: float, key: str, bound: float) -> bool:
    return {
        "ge": value >= bound,
        "gt": value > bound,
        "le": value <= bound,
        "lt": value < bound,
    }[key]


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(["ge", "gt", "le", "lt"]), bound=bound_values)
def test_invalid_float_values_break_their_bound_in_python_and_sqlite(
    key: str, bound: int | float
) -> None:
    field = _field(**{key: bound})
    applied = getattr(applied_bounds(field), key)
    for bad in invalid_values(field):
        if isinstance(bad.value, str):
            continue  # the wrong-type case
        assert math.isfinite(bad.value)
        assert not _python_holds(float(bad.value), key, applied), (bound, bad.value)
        assert not _sqlite_holds(_CONN, float(bad.value), _SIGNS[key], applied)


@settings(max_examples=300, deadline=None)
@given(low=bound_values, high=bound_values, strict_low=st.booleans(), strict_high=st.booleans())
def test_valid_float_values_keep_their_bounds_in_python_and_sqlite(
    low: int | float, high: int | float, strict_low: bool, strict_high: bool
) -> None:
    if low > high:
        low, high = high, low
    low_key, high_key = ("gt" if strict_low else "ge"), ("lt" if strict_high else "le")
    field = _field(**{low_key: low, high_key: high})
    applied = applied_bounds(field)
    for value in valid_values(field):
        assert math.isfinite(value)
        for key in (low_key, high_key):
            bound = getattr(applied, key)
            assert _python_holds(value, key, bound), (key, bound, value)
            assert _sqlite_holds(_CONN, value, _SIGNS[key], bound), (key, bound, value)


def _doubles(count: int, seed: int) -> list[float]:
    """Finite doubles from random bit patterns: every exponent, subnormals included."""
    rng = random.Random(seed)
    found: list[float] = []
    while len(found) < count:
        value = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(value):
            found.append(value)
    return found


def test_sql_numbers_are_exact_in_sqlite() -> None:
    values = [0.1, -106323.488609, 1e308, -1.7976931348623157e308, 5e-324, -0.0, 100.0, 0.5]
    values += [float(INT64_MAX), float(INT64_MIN), *_doubles(20_000, seed=1)]
    for value in values:
        got = _CONN.execute(f"SELECT {sql_number(value)}").fetchone()[0]
        assert got == value and math.copysign(1, got) == math.copysign(1, value), value
    assert sql_number(INT64_MIN) == str(INT64_MIN)  # ints are SQLite INTEGER literals
    assert sql_number(0.5) == "0.5"  # short binary fractions stay readable


def test_float_literals_read_back_and_are_ruff_formatted(tmp_path: Path) -> None:
    values = [1e308, -1e-05, 1.5e16, 5e-324, 0.1, 1e22, 1e-7, *_doubles(3_000, seed=2)]
    lines = [f"x{i} = {py_float(v)}" for i, v in enumerate(values)]
    for i, value in enumerate(values):
        assert float(py_float(value)) == value
        assert "e+" not in lines[i]
    source = tmp_path / "literals.py"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = run([sys.executable, "-m", "ruff", "format", "--isolated", "--check", "."], tmp_path)
    assert outcome.returncode == 0, explain(outcome)


def test_int_invalid_values_stay_in_the_64_bit_range() -> None:
    for bounds in ({"ge": INT64_MIN}, {"le": INT64_MAX}, {"gt": INT64_MIN, "lt": INT64_MAX}):
        field = FieldSpec(name="n", type="int", value_type="int", **bounds)  # type: ignore[arg-type]
        numbers = [i.value for i in invalid_values(field) if isinstance(i.value, int)]
        assert all(INT64_MIN <= n <= INT64_MAX for n in numbers)
        assert all(INT64_MIN <= v <= INT64_MAX for v in valid_values(field))


def _chain_spec(count: int) -> str:
    """``count`` entities, each needing a new parent of the one before (a unique ref)."""
    lines = ["module: deep_chain", "entities:"]
    for i in range(count):
        lines += [f"  Node{i}:", "    fields:", "      id: {type: uuid, primary_key: true}"]
        if i:
            lines.append(f"      parent: {{type: ref, to: Node{i - 1}, on_delete: cascade}}")
            lines.append("    unique: [[parent]]")
    return "\n".join(lines) + "\n"


def test_a_chain_deeper_than_the_recursion_limit_is_planned_without_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linear planning: per-entity bounds decide every test of a long chain of fresh parents.

    Replaying a call walks its whole chain of parents, so replays on a chain are quadratic.
    """
    replays: list[object] = []
    original = RecordPlan._replay

    def counting(plan: object, calls: list[tuple[str, str]]) -> str | None:
        replays.append(calls)
        result: str | None = original(plan, calls)
        return result

    monkeypatch.setattr(RecordPlan, "_replay", counting)
    depth = sys.getrecursionlimit() + 100
    _, files = render_models(write_spec(tmp_path, _chain_spec(depth)), tmp_path / "out")
    tests = next(text for path, text in files.items() if path.name.startswith("test_"))
    assert f"def test_node{depth - 1}_unique(" in tests
    assert replays == []


TIGHT = """\
module: tight
entities:
  Flag:
    fields:
      id: {type: int, primary_key: true}
      on: {type: bool, unique: true}
  User:
    fields:
      id: {type: int, primary_key: true}
      flag: {type: ref, to: Flag}
      team: {type: ref, to: Team}
    unique: [[flag]]
  Team:
    fields:
      id: {type: uuid, primary_key: true}
      lead: {type: ref, to: Flag}
    unique: [[lead]]
"""


@pytest.mark.parametrize(
    "text",
    [TIGHT, _chain_spec(30), (EXAMPLES / "workflows.yaml").read_text(encoding="utf-8")],
    ids=["tight", "chain", "workflows"],
)
def test_the_fast_verdict_never_contradicts_the_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """Whenever the bounds say "fits", replaying the calls finds no entity over its capacity."""
    checked: list[bool] = []
    original = RecordPlan._surely_fits

    def checking(plan: object, calls: list[tuple[str, str]]) -> bool:
        fits: bool = original(plan, calls)
        if fits:
            assert RecordPlan._replay(plan, calls) is None, calls
        checked.append(fits)
        return fits

    monkeypatch.setattr(RecordPlan, "_surely_fits", checking)
    _, files = render_models(write_spec(tmp_path, text), tmp_path / "out")
    assert True in checked
    tests = next(text for path, text in files.items() if path.name.startswith("test_"))
    if text is TIGHT:  # two flags only: a fourth User cannot get a new Flag of its own
        assert False in checked
        assert "def test_user_list_filter_order_count(" in tests
