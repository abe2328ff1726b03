"""`tac-bootstrap generate models SPEC --out DIR` through the CLI: output, dry run, bad specs, history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tac_bootstrap_cli.cli import app

SPEC = """\
module: robot_ops
entities:
  TaskRun:
    fields:
      id: {type: int, primary_key: true}
      robot_name: {type: str, max_length: 120, index: true}
      status: {type: enum, values: [Pending, Running, Success, Failed], default: Pending}
"""

runner = CliRunner()


def _spec(tmp_path: Path, text: str = SPEC) -> Path:
    path = tmp_path / "robots.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_generates_the_package_and_its_tests(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "models", str(_spec(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for rel in ("__init__.py", "models.py", "schema.sql", "repository.py"):
        assert (out / "robot_ops" / rel).is_file()
    assert (out / "tests" / "test_robot_ops.py").is_file()
    assert "robot_ops" in result.stdout
    assert "wrote 5 files (5 create, 0 update, 0 unchanged)" in result.stdout
    assert "python -m pytest tests/test_robot_ops.py" in result.stdout
    again = runner.invoke(app, ["generate", "models", str(_spec(tmp_path)), "--out", str(out)])
    assert again.exit_code == 0
    assert "wrote 0 files (0 create, 0 update, 5 unchanged)" in again.stdout


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["generate", "models", str(_spec(tmp_path)), "--out", str(out), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert not out.exists()
    assert "dry run" in result.stdout.lower()


def test_bad_spec_lists_every_problem_with_line_and_column_and_exits_2(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        "module: robot_ops\nentities:\n  TaskRun:\n    fields:\n"
        "      id: {type: integer}\n      owner: {type: ref, to: Nobody}\n",
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "models", str(spec), "--out", str(out)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{spec}:5:" in result.stderr
    assert f"{spec}:6:" in result.stderr
    assert not out.exists()


def test_missing_spec_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["generate", "models", str(tmp_path / "nope.yaml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr


def test_run_is_recorded_in_history(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        runner.invoke(
            app, ["generate", "models", str(_spec(tmp_path)), "--out", str(out)]
        ).exit_code
        == 0
    )
    listed = runner.invoke(app, ["runs", "--json"])
    runs = json.loads(listed.stdout)
    assert runs[0]["command"] == "generate models"
    assert runs[0]["status"] == "completed"


BAD_INPUTS = {
    "invalid date default": (
        SPEC + "      day: {type: date, default: 2024-02-30}\n",
        "robots.yaml:8:",
        "'2024-02-30' is not a valid date or time",
    ),
    "5000 nested brackets": ("[" * 5000, "robots.yaml:1:", "nested more than 64 levels deep"),
    "billion laughs": (
        "".join(
            f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}" if n else "lol"] * 9) + "]\n"
            for n in range(10)
        ),
        "robots.yaml:6:",
        "an alias bomb?",
    ),
    "NUL byte": (SPEC.replace("robot_name", "robot\x00name"), "robots.yaml:6:12:", "a NUL byte"),
    "5000-digit bound": (
        SPEC + "      size: {type: int, ge: " + "9" * 5000 + "}\n",
        "robots.yaml:8:",
        "an integer of 5000 digits",
    ),
    "tab indentation": ("module: robot_ops\n\tentities: {}\n", "robots.yaml:2:1:", "not tabs"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_malformed_spec_exits_2_with_one_line_per_problem(tmp_path: Path, case: str) -> None:
    text, where, fragment = BAD_INPUTS[case]
    spec = _spec(tmp_path, text)
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "models", str(spec), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "unexpected" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(tmp_path))]
    assert any(where in p and fragment in p for p in problems), result.stderr
    assert not out.exists()


@pytest.mark.parametrize("kind", ["directory", "non-UTF-8", "empty"])
def test_unreadable_spec_exits_2(tmp_path: Path, kind: str) -> None:
    spec = tmp_path / "robots.yaml"
    if kind == "directory":
        spec.mkdir()
    else:
        spec.write_bytes(b"module: caf\xe9\n" if kind == "non-UTF-8" else b"")
    result = runner.invoke(app, ["generate", "models", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{spec}:1:" in result.stderr
