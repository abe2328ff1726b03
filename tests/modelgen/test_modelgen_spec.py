"""Spec validation: every bad-spec kind is reported as SPEC:line:col, all at once, nothing written."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from tac_bootstrap_cli.errors import EXIT_USAGE, UsageError
from tac_bootstrap_cli.modelgen import SpecError, generate_models, load_spec
from tac_bootstrap_cli.modelgen.naming import (
    BASE_MODEL_ATTRIBUTES,
    enum_member,
    plural,
    snake_case,
    table_name,
)
from tac_bootstrap_cli.modelgen.spec import parse_spec

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
