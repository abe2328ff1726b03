"""The generator's own history: what each command records, and ``runs`` / ``runs show``."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import Run

from tac_bootstrap_cli import apply
from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentRepository,
    OrchestratorAgentRepository,
    SystemLogRepository,
    connect,
    init_schema,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent, OrchestratorAgent


def runs_json(cli: Run, *extra: str) -> list[dict[str, Any]]:
    result = cli("runs", "--json", *extra)
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def show_json(cli: Run, run_id: str) -> dict[str, Any]:
    result = cli("runs", "show", run_id, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_runs_show_without_an_id_is_a_usage_error(cli: Run) -> None:
    result = cli("runs", "show")
    assert result.exit_code == 2, result.output
    assert "RUN_ID" in result.output and "unexpected" not in result.output


def test_every_command_is_one_run(cli: Run, tmp_path: Path) -> None:
    assert cli("init", "one", "-o", tmp_path, "--dry-run").exit_code == 0
    assert cli("init", "one", "-o", tmp_path).exit_code == 0
    assert cli("init", "bad/name", "-o", tmp_path).exit_code == 2
    runs = runs_json(cli)
    assert [(r["command"], r["status"], r["dry_run"]) for r in runs] == [
        ("init", "failed", False),
        ("init", "completed", False),
        ("init", "completed", True),
    ]
    failed, done, dry = runs
    assert done["target"] == str(tmp_path / "one")
    assert done["files_changed"] > 10 and dry["files_changed"] == done["files_changed"]
    assert done["duration_s"] is not None and done["duration_s"] >= 0
    assert runs_json(cli, "--limit", "1") == [failed]


def test_run_detail_has_steps_file_actions_and_prompt(cli: Run, tmp_path: Path) -> None:
    assert cli("init", "one", "-o", tmp_path).exit_code == 0
    (run,) = runs_json(cli)
    detail = show_json(cli, run["id"][:8])  # a unique prefix is enough
    assert detail["id"] == run["id"]
    steps = [log["message"] for log in detail["logs"] if log["type"] == "step_end"]
    assert steps == ["answers", "render", "plan", "apply"]
    file_logs = [log for log in detail["logs"] if "action" in log["metadata"]]
    written = {log["metadata"]["path"] for log in file_logs}
    manifest = json.loads((tmp_path / "one" / ".tac-bootstrap" / "manifest.json").read_text())
    # The history logs every file written, the application skeleton too (which is not in the
    # manifest: it is the user's code).
    skeleton = {"pyproject.toml", "src/one/__init__.py", "src/one/__main__.py", "tests/test_one.py"}
    assert written == set(manifest["files"]) | skeleton
    assert all(
        log["metadata"]["bytes"] > 0
        for log in file_logs
        if log["metadata"]["path"] != "specs/inbox/.gitkeep"
    )
    prompt = json.loads(detail["prompt"]["content"])
    assert prompt["command_line"][:2] == ["tac-bootstrap", "init"]
    assert prompt["answers"]["name"] == "one"
    assert prompt["answers"]["language"] == "python"
    assert "wrote" in detail["prompt"]["response"]


def test_warnings_go_to_system_logs(cli: Run, tree: Callable[..., Path]) -> None:
    project = tree({"README.md": "<!-- >>> tac-bootstrap >>> -->\nbroken\n"}, name="proj")
    assert cli("add-agentic", project).exit_code == 0
    conn = connect(os.environ["TAC_BOOTSTRAP_DB"])
    try:
        logs = SystemLogRepository(conn).list(source="tac-bootstrap")
    finally:
        conn.close()
    assert any(log.log_level == "warning" and "README.md" in log.message for log in logs)


def test_failures_go_to_system_logs(cli: Run, tmp_path: Path) -> None:
    assert cli("init", "..", "-o", tmp_path).exit_code == 2
    conn = connect(os.environ["TAC_BOOTSTRAP_DB"])
    try:
        logs = SystemLogRepository(conn).list(log_level="error")
    finally:
        conn.close()
    assert logs and "UsageError" in logs[0].message


def test_table_output(cli: Run, tmp_path: Path) -> None:
    assert cli("runs").stdout.strip() == "No runs recorded yet."
    cli("init", "one", "-o", tmp_path)
    out = cli("runs").stdout
    assert "init" in out and "completed" in out
    (run,) = runs_json(cli)
    shown = cli("runs", "show", run["id"])
    assert shown.exit_code == 0 and "step_end" in shown.stdout


def test_unknown_run_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    cli("init", "one", "-o", tmp_path)
    result = cli("runs", "show", "ffffffff")
    assert result.exit_code == 2 and "no run" in result.stderr
    assert cli("runs", "--limit", "0").exit_code == 2


def seed_runs(*ids: str) -> None:
    """Runs with these ids in the history database (as tac-bootstrap records them)."""
    conn = connect(os.environ["TAC_BOOTSTRAP_DB"])
    try:
        init_schema(conn)
        orch = OrchestratorAgentRepository(conn).create(OrchestratorAgent(name="tac-bootstrap"))
        for run_id in ids:
            AgentRepository(conn).create(
                Agent(id=run_id, orchestrator_agent_id=orch.id, session_id=run_id, name="init")
            )
    finally:
        conn.close()


SEEDED = (
    "abc00000-0000-4000-8000-000000000001",
    "abd00000-0000-4000-8000-000000000002",
    "f0000000-0000-4000-8000-000000000003",
)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("f", SEEDED[2]), ("abc", SEEDED[0]), ("ABD", SEEDED[1]), (SEEDED[1], SEEDED[1])],
)
def test_any_unique_prefix_shows_its_run(cli: Run, prefix: str, expected: str) -> None:
    seed_runs(*SEEDED)
    assert show_json(cli, prefix)["id"] == expected


def test_ambiguous_prefix_says_how_many_runs(cli: Run) -> None:
    seed_runs(*SEEDED)
    for prefix, count in (("a", 2), ("ab", 2)):
        result = cli("runs", "show", prefix)
        assert result.exit_code == 2
        assert result.stderr == (
            f"error: run id prefix {prefix!r} is ambiguous ({count} runs); give more characters\n"
        )


@pytest.mark.parametrize("prefix", ["9", "abe", "f0000000-1", ""])
def test_prefix_of_no_run_says_where_to_look(cli: Run, prefix: str) -> None:
    seed_runs(*SEEDED)
    result = cli("runs", "show", prefix)
    assert result.exit_code == 2
    assert result.stderr == f"error: no run {prefix!r} (see tac-bootstrap runs)\n"


@pytest.mark.parametrize("kind", ["directory", "under-a-file", "not-sqlite"])
def test_broken_history_costs_one_warning_not_the_command(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "directory":
        db = tmp_path / "db-dir"
        db.mkdir()
    elif kind == "under-a-file":
        (tmp_path / "file").write_text("x")
        db = tmp_path / "file" / "history.db"
    else:
        db = tmp_path / "foreign.db"
        db.write_text("this is not a database\n" * 10)
    monkeypatch.setenv("TAC_BOOTSTRAP_DB", str(db))
    result = cli("init", "app", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "app" / "config.yml").is_file()
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and "disabled" in warnings[0], result.stderr
    if kind == "not-sqlite":
        assert db.read_text() == "this is not a database\n" * 10


def test_ctrl_c_during_add_agentic_stops_cleanly_and_rerun_completes(
    cli: Run, tree: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tree({"go.mod": "module x\n"}, name="proj")
    real = apply._Folders.write  # every file of an in-place apply
    calls = {"n": 0}

    def write_then_ctrl_c(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(apply._Folders, "write", write_then_ctrl_c)
    result = cli("add-agentic", project)
    assert result.exit_code == 130
    assert "interrupted after 2 of" in result.stderr
    assert f"rerun `tac-bootstrap add-agentic {project}`" in result.stderr
    assert not list(project.rglob("*.tac-tmp"))
    monkeypatch.setattr(apply._Folders, "write", real)
    again = cli("add-agentic", project)
    assert again.exit_code == 0, again.output
    assert "conflict" not in again.output  # the two files written before are known as ours
    (first, second) = runs_json(cli)[:2]
    assert (first["status"], second["status"]) == ("completed", "failed")
