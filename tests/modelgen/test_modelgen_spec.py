"""Spec validation: every bad-spec kind is reported as SPEC:line:col, all at once, nothing written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from typer.testing import CliRunner

from tac_bootstrap_cli import commands, yamlread
from tac_bootstrap_cli.errors import EXIT_USAGE, UsageError
from tac_bootstrap_cli.modelgen import SpecError, generate_models, load_spec, parse_spec
from tac_bootstrap_cli.modelgen.naming import (
    BASE_MODEL_ATTRIBUTES,
    enum_member,
    plural,
    snake_case,
    table_name,
)

from .helpers import EXAMPLES, write_spec

BASE = """\
module: demo
entities:
  Robot:
    fields:
      id: {type: int, primary_key: true}
      name: {type: str}
"""


def _with(*extra: str, base: str = BASE) -> str:
    return base + "".join(line + "\n" for line in extra)


def _position(text: str, at: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``at``."""
    index = text.index(at)
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


# (spec text, the text the problem points at, a fragment of the message)
BAD_SPECS = {
    "unknown type": (_with("      size: {type: integr}"), "integr", "unknown type 'integr'"),
    "unknown field key": (
        _with("      size: {type: int, colour: red}"),
        "colour",
        "unknown key 'colour'",
    ),
    "unknown entity key": (
        BASE.replace("    fields:", "    feilds: {}\n    fields:"),
        "feilds",
        "did you mean 'fields'",
    ),
    "unknown top-level key": ("modul: x\n" + BASE, "modul", "unknown key 'modul'"),
    "key not for this type": (
        _with("      size: {type: int, max_length: 3}"),
        "max_length",
        "does not apply to a int field",
    ),
    "missing type": (_with("      size: {nullable: true}"), "size", "has no 'type'"),
    "missing primary key": (
        BASE.replace("      id: {type: int, primary_key: true}\n", ""),
        "Robot",
        "has no primary key",
    ),
    "duplicate primary key": (
        _with("      code: {type: uuid, primary_key: yes}"),
        "yes}",
        "duplicate primary key",
    ),
    "primary key of the wrong type": (
        BASE.replace("{type: int, primary_key: true}", "{type: float, primary_key: true}"),
        "primary_key",
        "does not apply to a float field",
    ),
    "ref to an unknown entity": (
        _with("      owner: {type: ref, to: Persn}"),
        "Persn",
        "unknown entity 'Persn'",
    ),
    "set_null on a non-nullable ref": (
        _with(
            "  Task:",
            "    fields:",
            "      id: {type: int, primary_key: true}",
            "      robot: {type: ref, to: Robot, on_delete: set_null}",
        ),
        "set_null",
        "set_null needs nullable: true",
    ),
    "unknown on_delete": (
        _with("      boss: {type: ref, to: Robot, nullable: true, on_delete: cascad}"),
        "cascad",
        "on_delete must be one of",
    ),
    "ref without to": (_with("      boss: {type: ref, nullable: true}"), "boss", "has no 'to"),
    "enum without values": (_with("      status: {type: enum}"), "status", "has no 'values'"),
    "enum with empty values": (
        _with("      status: {type: enum, values: []}"),
        "[]",
        "empty 'values'",
    ),
    "enum values colliding after case conversion": (
        _with("      status: {type: enum, values: [in-progress, in_progress]}"),
        "in_progress]",
        "collide after case conversion",
    ),
    "enum value that is not a string": (
        _with("      answer: {type: enum, values: [yes, maybe]}"),
        "yes",
        "not a string",
    ),
    "default of the wrong type": (
        _with("      size: {type: int, default: big}"),
        "big",
        "is not an integer",
    ),
    "default outside its bounds": (
        _with("      size: {type: int, ge: 0, default: -1}"),
        "-1",
        "outside the bounds",
    ),
    "default longer than max_length": (
        _with("      code: {type: str, max_length: 2, default: abc}"),
        "abc",
        "longer than max_length",
    ),
    "default not matching the pattern": (
        _with("      code: {type: str, pattern: '^[0-9]+$', default: abc}"),
        "abc",
        "does not match the pattern",
    ),
    "default not among the enum values": (
        _with("      status: {type: enum, values: [a, b], default: c}"),
        "c}",
        "not one of the values",
    ),
    "default null on a non-nullable field": (
        _with("      size: {type: int, default: null}"),
        "null",
        "null needs nullable: true",
    ),
    "default datetime that is not one": (
        _with("      at: {type: datetime, default: yesterday}"),
        "yesterday",
        "not an ISO 8601 datetime",
    ),
    "default of a json field that is not JSON": (
        _with("      data: {type: json, default: {a: 2024-01-01}}"),
        "{a:",
        "not a JSON value",
    ),
    "default on an int primary key": (
        BASE.replace(
            "{type: int, primary_key: true}", "{type: int, primary_key: true, default: 1}"
        ),
        "1}",
        "SQLite assigns it",
    ),
    "invalid regex": (
        _with("      code: {type: str, pattern: '[a-'}"),
        "'[a-'",
        "invalid regex",
    ),
    "pattern on a secret": (
        _with("      token: {type: str, secret: true, pattern: '^a'}"),
        "'^a'",
        "pattern does not apply to a secret",
    ),
    "ge and gt together": (_with("      size: {type: int, ge: 0, gt: 1}"), "1}", "only one of ge"),
    "bounds leaving no value": (
        _with("      size: {type: int, gt: 3, lt: 4}"),
        "4}",
        "leave no value",
    ),
    "min_length above max_length": (
        _with("      code: {type: str, min_length: 5, max_length: 2}"),
        "2}",
        "max_length is smaller than min_length",
    ),
    "nullable auto_now": (
        _with("      at: {type: datetime, auto_now: true, nullable: yes}"),
        "yes}",
        "cannot be nullable",
    ),
    "non-boolean flag": (_with("      size: {type: int, unique: maybe}"), "maybe", "true or false"),
    "field name that is not snake_case": (
        _with("      RobotName: {type: str}"),
        "RobotName",
        "use 'robot_name'",
    ),
    "entity name that is not PascalCase": (
        _with("  task_run:", "    fields:", "      id: {type: int, primary_key: true}"),
        "task_run",
        "use 'TaskRun'",
    ),
    "module name that is not snake_case": (
        BASE.replace("module: demo", "module: Demo-Models"),
        "Demo-Models",
        "use 'demo_models'",
    ),
    "field name that is a keyword": (
        _with("      class: {type: str}"),
        "class:",
        "Python keyword; use 'class_'",
    ),
    "entity name that is a keyword": (
        _with("  None:", "    fields:", "      id: {type: int, primary_key: true}"),
        "None:",
        "use 'NoneRecord'",
    ),
    "module name that is a keyword": (
        BASE.replace("module: demo", "module: import"),
        "import",
        "use 'import_models'",
    ),
    "module name shadowing the standard library": (
        BASE.replace("module: demo", "module: json"),
        "json",
        "shadow the standard library",
    ),
    "field shadowing a BaseModel attribute": (
        _with("      json: {type: json}"),
        "json:",
        "would shadow pydantic.BaseModel.json",
    ),
    "field shadowing a list() argument": (
        _with("      limit: {type: int}"),
        "limit:",
        "use 'limit_value'",
    ),
    "entity shadowing an imported name": (
        _with("  UUID:", "    fields:", "      id: {type: int, primary_key: true}"),
        "UUID:",
        "use 'UUIDRecord'",
    ),
    "entity shadowing a generated name": (
        _with("  RobotCreate:", "    fields:", "      id: {type: int, primary_key: true}"),
        "RobotCreate:",
        "also the name of the create model of Robot",
    ),
    "field type shadowing a generated name": (
        _with("      create: {type: enum, values: [a]}"),
        "create:",
        "already the create model of Robot",
    ),
    "entities colliding after case conversion": (
        _with(
            "  APIKey:",
            "    fields:",
            "      id: {type: int, primary_key: true}",
            "  ApiKey:",
            "    table: other_keys",
            "    fields:",
            "      id: {type: int, primary_key: true}",
        ),
        "ApiKey:",
        "collide after case conversion",
    ),
    "tables colliding": (
        _with(
            "  Bot:", "    table: Robots", "    fields:", "      id: {type: int, primary_key: true}"
        ),
        "Robots",
        "also the table of Robot",
    ),
    "reserved table name": (
        BASE.replace("  Robot:\n", "  Robot:\n    table: sqlite_robots\n"),
        "sqlite_robots",
        "SQLite reserves",
    ),
    "duplicate mapping key": (
        _with("      name: {type: text}"),
        "name: {type: text}",
        "duplicate key",
    ),
    "index naming an unknown field": (
        BASE.replace("  Robot:\n", "  Robot:\n    indexes: [[nam]]\n"),
        "nam]]",
        "unknown field 'nam'",
    ),
    "cycle of non-nullable refs": (
        _with(
            "      task: {type: ref, to: Task}",
            "  Task:",
            "    fields:",
            "      id: {type: int, primary_key: true}",
            "      robot: {type: ref, to: Robot}",
        ),
        "task:",
        "form a cycle",
    ),
    "YAML syntax error": (_with("      size: {type: int"), "\n", "YAML syntax error"),
    "two YAML documents": (BASE + "---\nmodule: other\n", "---", "expected a single document"),
    "not a mapping": ("- module: demo\n", "- module", "the spec must be a mapping"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS), ids=list(BAD_SPECS))
def test_bad_spec_is_reported_at_its_position_and_writes_nothing(tmp_path: Path, case: str) -> None:
    text, at, fragment = BAD_SPECS[case]
    spec = write_spec(tmp_path, text)
    out = tmp_path / "out"
    with pytest.raises(SpecError) as caught:
        generate_models(spec, out)
    problems = caught.value.problems
    assert len(problems) >= 1
    matching = [p for p in problems if fragment in p]
    assert matching, problems
    line, col = _position(text, at)
    if case == "YAML syntax error":
        line, col = text.count("\n") + 1, 1  # the parser notices at the end of the input
    assert matching[0].startswith(f"{spec}:{line}:{col}: "), problems
    assert caught.value.exit_code == EXIT_USAGE
    assert isinstance(caught.value, UsageError)
    assert not out.exists()


def test_all_problems_are_reported_together_in_file_order(tmp_path: Path) -> None:
    text = _with(
        "      size: {type: integr}",
        "      status: {type: enum}",
        "      owner: {type: ref, to: Persn}",
        "      count: {type: int, ge: 0, default: -1}",
        "      code: {type: str, pattern: '[a-'}",
        "      class: {type: str}",
        "  Task:",
        "    fields:",
        "      title: {type: str}",
    )
    spec = write_spec(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    problems = caught.value.problems
    assert len(problems) == 7, problems
    positions = [tuple(int(n) for n in p.split(":")[1:3]) for p in problems]
    assert positions == sorted(positions)
    message = str(caught.value)
    assert message.startswith("the model spec has 7 problems:")
    assert all(p in message for p in problems)


def test_existing_output_is_untouched_by_a_bad_spec(tmp_path: Path) -> None:
    good = write_spec(tmp_path, BASE, "good.yaml")
    out = tmp_path / "out"
    generate_models(good, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = write_spec(tmp_path, _with("      size: {type: integr}"), "bad.yaml")
    with pytest.raises(SpecError):
        generate_models(bad, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_unreadable_and_non_utf8_specs(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as missing:
        load_spec(tmp_path / "nope.yaml")
    assert missing.value.problems[0].startswith(f"{tmp_path / 'nope.yaml'}:1:1: cannot read")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"module: demo\n# caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_spec(latin)
    assert caught.value.problems == [f"{latin}:2:6: the spec is not UTF-8 text"]
    empty = write_spec(tmp_path, "", "empty.yaml")
    with pytest.raises(SpecError, match="the spec is empty"):
        load_spec(empty)


# --- malformed input: never a traceback, always a SpecError at SPEC:line:col -------------------


def _bomb(prefix: str, key: str, levels: int = 10, width: int = 9) -> str:
    """A "billion laughs": each line's anchor repeats the previous one ``width`` times."""
    first = ", ".join(["lol"] * width)
    lines = [f"{prefix}{key}0: {{type: json, default: &a0 [{first}]}}"]
    for level in range(1, levels):
        aliases = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"{prefix}{key}{level}: {{type: json, default: &a{level} [{aliases}]}}")
    return "\n".join(lines) + "\n"


def _top_level_bomb(levels: int = 10, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _ref_chain(count: int) -> str:
    """``count`` entities whose non-nullable refs form one long cycle."""
    parts = ["module: demo\nentities:\n"]
    for index in range(count):
        parts.append(
            f"  E{index}:\n    fields:\n      id: {{type: int, primary_key: true}}\n"
            f"      r: {{type: ref, to: E{(index + 1) % count}}}\n"
        )
    return "".join(parts)


_DEEP_DEFAULT = _with("      data: {type: json, default: " + "[" * 300 + "]" * 300 + "}")
_NESTED_ALIAS = "x: &a " + "[" * 40 + "]" * 40 + "\ny: " + "[" * 40 + "*a" + "]" * 40 + "\n"


@dataclass(frozen=True)
class Malformed:
    """Input that once escaped as another exception (ValueError, RecursionError, ...) or hung.

    ``data`` is the file's bytes or text (None: the spec path is a directory); ``at`` the text
    the problem points at, or its (line, column), or None when the position depends on the YAML
    parser; ``fragments`` are alternatives, one of which the problem contains.
    """

    data: bytes | str | None
    at: str | tuple[int, int] | None
    fragments: tuple[str, ...]


def _case(data: bytes | str | None, at: str | tuple[int, int] | None, *fragments: str) -> Malformed:
    return Malformed(data, at, fragments)


MALFORMED = {
    # Dates and times that YAML types as timestamps but Python's datetime refuses.
    "invalid date default (2024-02-30)": _case(
        _with("      day: {type: date, default: 2024-02-30}"),
        "2024-02-30",
        "'2024-02-30' is not a valid date or time (day is out of range for month); quote it",
    ),
    "invalid datetime default (hour 25)": _case(
        _with("      at: {type: datetime, default: 2024-02-03 25:00:00}"),
        "2024-02-03 25",
        "(hour must be in 0..23)",
    ),
    "invalid date as a str default": _case(
        _with("      code: {type: str, default: 2024-13-01}"),
        "2024-13-01",
        "quote it if it is text",
    ),
    "invalid date as a JSON key": _case(
        _with("      data: {type: json, default: {2024-02-30: 1}}"),
        "2024-02-30",
        "not a valid date or time",
    ),
    "invalid date as an enum value": _case(
        _with("      day: {type: enum, values: [2024-02-30]}"),
        "2024-02-30",
        "not a valid date or time",
    ),
    "year 0": _case(
        _with("      day: {type: date, default: 0000-01-01}"),
        "0000-01-01",
        "year 0 is out of range",
    ),
    "invalid date on an auto_now field (read twice)": _case(
        _with("      at: {type: datetime, auto_now: true, default: 2024-02-30}"),
        "2024-02-30",
        "not a valid date or time",
    ),
    "invalid date as the module name": _case(
        BASE.replace("module: demo", "module: 2024-02-30"),
        "2024-02-30",
        "not a valid date or time",
    ),
    # Nesting: the parser, construct_object and the walk must not recurse without bound.
    "5000 nested [": _case("[" * 5000, None, "nested more than 64 levels deep"),
    "5000 nested {a: ": _case(
        "{a: " * 5000 + "1" + "}" * 5000, None, "nested more than 64 levels deep"
    ),
    "5000 nested [ in a default": _case(
        _with("      data: {type: json, default: " + "[" * 5000 + "]" * 5000 + "}"),
        None,
        "nested more than 64 levels deep",
    ),
    "nesting just past the limit": _case(
        "[" * 70 + "]" * 70, (1, 65), "nested more than 64 levels deep"
    ),
    "300 nested [ in a JSON default": _case(
        _DEEP_DEFAULT,
        (7, _DEEP_DEFAULT.splitlines()[6].index("[") + 60),
        "nested more than 64 levels deep",
    ),
    "nesting through an alias": _case(_NESTED_ALIAS, (1, 4), "counting what aliases repeat"),
    "a cycle through 3000 non-nullable refs": _case(
        _ref_chain(3000), "r: {type: ref, to: E1}", "form a cycle (E0.r -> E1", "2993 more"
    ),
    # Bytes that are not YAML text.
    "NUL byte": _case(_with("      ti\x00tle: {type: str}"), "\x00", "a NUL byte"),
    "NUL byte after non-ASCII text": _case(
        _with('      titel: {type: str, description: "Größe \x00"}'), "\x00", "a NUL byte"
    ),
    "control character": _case(_with("      # bell \x07"), "\x07", "the character U+0007"),
    "binary garbage that is UTF-8": _case(b"\x00\x01\x02\x03garbage", (1, 1), "a NUL byte"),
    "binary garbage (PNG header)": _case(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", (1, 1), "the spec is not UTF-8 text"
    ),
    "Latin-1 text": _case(b"module: demo\n# caf\xe9\n", (2, 6), "the spec is not UTF-8 text"),
    "UTF-16 text": _case(BASE.encode("utf-16"), (1, 1), "the spec is not UTF-8 text"),
    "empty file": _case(b"", (1, 1), "the spec is empty"),
    "only a comment": _case("# nothing yet\n", (1, 1), "the spec is empty"),
    "a directory": _case(None, (1, 1), "cannot read the spec"),
    # Numbers.
    "5000-digit bound": _case(
        _with("      size: {type: int, ge: " + "9" * 5000 + "}"),
        "9999",
        "an integer of 5000 digits is far too large",
    ),
    "5000-digit default": _case(
        _with("      size: {type: int, default: -" + "9" * 5000 + "}"),
        "-9999",
        "an integer of 5001 digits is far too large",
    ),
    "5000-digit min_length": _case(
        _with("      code: {type: str, min_length: " + "1" * 5000 + "}"),
        "1111",
        "an integer of 5000 digits",
    ),
    "400-digit default of a float field": _case(
        _with("      ratio: {type: float, default: " + "9" * 400 + "}"),
        "9999",
        "is too large for a float",
    ),
    "20-digit max_length": _case(
        _with("      code: {type: str, max_length: 99999999999999999999}"),
        "9999",
        "outside SQLite's 64-bit integer range",
    ),
    "NaN default": _case(
        _with("      ratio: {type: float, default: .nan}"), ".nan", "not a finite number"
    ),
    "infinite default": _case(
        _with("      ratio: {type: float, default: -.inf}"), "-.inf", "not a finite number"
    ),
    "NaN bound": _case(
        _with("      ratio: {type: float, ge: .NaN}"), ".NaN", "ge must be a finite number"
    ),
    "infinite bound": _case(
        _with("      ratio: {type: float, le: .inf}"), ".inf", "le must be a finite number"
    ),
    "NaN inside a JSON default": _case(
        _with("      data: {type: json, default: [1, .nan]}"), "[1,", "not a JSON number"
    ),
    "exponent without a dot (text to YAML)": _case(
        _with("      ratio: {type: float, le: 1e300}"), "1e300", "write 1.0e+300"
    ),
    # Duplicate keys.
    "duplicate top-level key": _case(
        BASE + "module: other\n", "module: other", "duplicate key 'module' (first at line 1)"
    ),
    "duplicate entity": _case(
        _with("  Robot:", "    fields:", "      id: {type: int, primary_key: true}"),
        (7, 3),
        "duplicate key 'Robot' (first at line 3)",
    ),
    # Aliases.
    "billion laughs at the top level": _case(
        _top_level_bomb(), "&a5", "aliases expand this value to more than 100000 values"
    ),
    "billion laughs in JSON defaults": _case(
        _with(_bomb("      ", "lol").rstrip("\n")), "&a5", "an alias bomb?"
    ),
    "billion laughs in enum values": _case(
        _with(_bomb("      ", "lol").replace("type: json, default:", "type: enum, values:")),
        "&a5",
        "an alias bomb?",
    ),
    "recursive alias in a default": _case(
        _with("      data: {type: json, default: &loop [1, *loop]}"),
        "&loop",
        "contains itself through an alias",
    ),
    "recursive alias for the entities": _case(
        "module: demo\nentities: &e\n  Robot: *e\n", "&e", "contains itself through an alias"
    ),
    # Tabs.
    "tab indentation": _case(
        "module: demo\nentities:\n\tRobot: {}\n", (3, 1), "indentation must use spaces, not tabs"
    ),
    "tab before a key": _case(
        "module: demo\n\tentities: {}\n", (2, 1), "indentation must use spaces, not tabs"
    ),
    # Tags whose converters raised ValueError, KeyError or AttributeError.
    "!!int on a word": _case(
        _with("      size: {type: int, default: !!int abc}"),
        "!!int",
        "'abc' is not a valid integer",
    ),
    "!!float on a word": _case(
        _with("      ratio: {type: float, default: !!float abc}"), "!!float", "not a valid number"
    ),
    "!!bool on a word": _case(
        _with("      flag: {type: bool, default: !!bool maybe}"),
        "!!bool",
        "'maybe' is not a valid boolean (true or false)",
    ),
    "!!timestamp on a word": _case(
        _with("      day: {type: date, default: !!timestamp abc}"),
        "!!timestamp",
        "'abc' is not a valid date or time",
    ),
    # Regexes that re.compile refuses with other exceptions than re.error.
    "regex repetition too large": _case(
        _with("      code: {type: str, pattern: 'a{99999999999}'}"),
        "'a{",
        "the repetition number is too large",
    ),
    "regex nested 5000 groups": _case(
        _with("      code: {type: str, pattern: '" + "(" * 5000 + ")" * 5000 + "'}"),
        "'((",
        "invalid regex '(((",
        "nested too deeply",
    ),
    # Messages stay one line, without internal reprs.
    "enum value that is a mapping": _case(
        _with("      kind: {type: enum, values: [{a: 1}]}"), "{a: 1}", "{'a': 1} is not a string"
    ),
    "field name with a line break": _case(
        _with('      "ti\\ntle": {type: str}'), '"ti', "field name 'ti\\ntle' is not snake_case"
    ),
    "entity name with a line break": _case(
        'module: demo\nentities:\n  "A\\nB": {}\n', '"A', "entity A\\nB has no 'fields'"
    ),
    # The pure-Python parser accepts the escape, libyaml refuses it.
    "lone surrogate escape": _case(
        _with('      code: {type: str, default: "\\ud800"}'),
        None,
        "contains a lone surrogate",
        "invalid Unicode character escape code",
    ),
}


@pytest.fixture(params=["libyaml", "python"])
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with libyaml's parser (the default when installed) and with PyYAML's pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(yamlread, "LOADER", yamlread.PY_LOADER)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML is installed without libyaml")
    return str(request.param)


def _write_malformed(folder: Path, case: Malformed) -> Path:
    path = folder / "spec.yaml"
    if case.data is None:
        path.mkdir()
    elif isinstance(case.data, bytes):
        path.write_bytes(case.data)
    else:
        path.write_bytes(case.data.encode("utf-8", "surrogatepass"))
    return path


def _expected_position(case: Malformed) -> tuple[int, int] | None:
    if case.at is None or isinstance(case.at, tuple):
        return case.at
    assert isinstance(case.data, str)
    return _position(case.data, case.at)


def _counting_constructions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every value PyYAML builds from here on (cached ones too: each alias use counts once)."""
    built: list[object] = []
    construct = yaml.constructor.BaseConstructor.construct_object

    def counting(self: yaml.constructor.BaseConstructor, node: Any, deep: bool = False) -> Any:
        built.append(node)
        return construct(self, node, deep)

    monkeypatch.setattr(yaml.constructor.BaseConstructor, "construct_object", counting)
    return built


@pytest.mark.usefixtures("yaml_parser")
@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_spec_is_a_spec_error_at_its_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    malformed = MALFORMED[case]
    spec = _write_malformed(tmp_path, malformed)
    out = tmp_path / "out"
    built = _counting_constructions(monkeypatch)
    with pytest.raises(SpecError) as caught:
        generate_models(spec, out)
    # Work bounded by the input, not by the clock: a value takes at least one character of the
    # text, so building more values than it has characters means aliases were expanded.
    assert len(built) <= len(malformed.data or ""), "refused without expanding alias bombs"
    problems = caught.value.problems
    prefix = re.compile(re.escape(str(spec)) + r":\d+:\d+: \S")
    for problem in problems:
        assert prefix.match(problem), problem
        assert problem.isprintable(), f"one printable line: {problem!r}"
        assert "Node(" not in problem and "unconstructable" not in problem, problem
    matching = [p for p in problems if any(f in p for f in malformed.fragments)]
    assert matching, problems
    position = _expected_position(malformed)
    if position is not None:
        line, col = position
        assert matching[0].startswith(f"{spec}:{line}:{col}: "), problems
    assert caught.value.exit_code == EXIT_USAGE
    assert not out.exists()


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_spec_through_the_cli_exits_2_without_a_traceback(
    tmp_path: Path, case: str
) -> None:
    malformed = MALFORMED[case]
    spec = _write_malformed(tmp_path, malformed)
    out = tmp_path / "out"
    result = CliRunner().invoke(commands.app, ["generate", "models", str(spec), "--out", str(out)])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    assert "unexpected" not in result.stderr
    assert result.stderr.startswith("error: the model spec has ")
    assert re.search(re.escape(str(spec)) + r":\d+:\d+: ", result.stderr), result.stderr
    assert not out.exists()


def test_spec_path_with_a_nul_byte(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the spec"):
        load_spec(tmp_path / "bad\x00name.yaml")


def test_examples_load() -> None:
    orchestrator = load_spec(EXAMPLES / "orchestrator.yaml")
    assert [e.table for e in orchestrator.entities] == [
        "orchestrator_agents",
        "agents",
        "prompts",
        "agent_logs",
        "system_logs",
    ]
    workflows = load_spec(EXAMPLES / "workflows.yaml")
    assert len(workflows.entities) == 8
    robots = load_spec(EXAMPLES / "robots.yaml")
    assert [e.table for e in robots.entities] == [
        "robots",
        "robot_actions",
        "task_runs",
        "log_entries",
    ]
    observability = load_spec(EXAMPLES / "observability.yaml")  # seed 003's naming convention
    assert [e.table for e in observability.entities] == ["obs_runs", "obs_steps", "obs_artifacts"]


def test_spec_shapes_and_defaults() -> None:
    spec = parse_spec(
        """\
module: robot_ops
entities:
  TaskRun:
    fields:
      id: {type: uuid, primary_key: true}
      robot_name: str
      status: {type: enum, values: [Pending, Running], default: Pending}
      at: {type: datetime, default: "2024-01-02T03:04:05+02:00"}
      day: {type: date, default: 2024-01-02}
      data: {type: json, default: {a: [1, 2]}}
      maybe: {type: ref, to: TaskRun, nullable: true, on_delete: set_null}
    indexes: [robot_name, [robot_name, status]]
""",
        "spec.yaml",
    )
    entity = spec.entity("TaskRun")
    assert entity.table == "task_runs"
    assert entity.pk.name == "id"
    assert entity.field("robot_name").type == "str"
    assert entity.field("maybe").value_type == "uuid"
    at = entity.field("at").default
    assert at is not None and at.value.isoformat() == "2024-01-02T01:04:05+00:00"
    assert entity.indexes == (("robot_name",), ("robot_name", "status"))


def test_naming() -> None:
    assert snake_case("TaskRun") == "task_run"
    assert snake_case("HTTPLog") == "http_log"
    assert table_name("Category") == "categories"
    assert table_name("Status") == "statuses"
    assert plural("day") == "days"
    assert enum_member("in-progress") == "IN_PROGRESS"
    assert enum_member("1st") == "V_1ST"


def test_reserved_base_model_attributes_cover_pydantic() -> None:
    public = {name for name in dir(pydantic.BaseModel) if not name.startswith("_")}
    assert public <= BASE_MODEL_ATTRIBUTES
