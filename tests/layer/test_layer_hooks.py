"""The hooks as Claude Code runs them, fast: in-process recording read back by the pydantic
repositories, one row per event, the short block message, a locked database, the stdlib-only
hot path. (tests/layer/test_layer_runtime.py covers the launcher's fallbacks, slowly.)"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from layer_support import run_env, write_project

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    connect,
)

SESSION = "9a1f9a7e-2c3b-4d5e-8f90-a1b2c3d4e5f6"
SH = "/bin/sh"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    if shutil.which("python3") is None:
        pytest.skip("no python3 on PATH")
    return write_project(tmp_path / "project", "go")


def commands(root: Path) -> dict[str, str]:
    """Event name -> the settings.json command."""
    data = json.loads((root / ".claude" / "settings.json").read_text())
    return {name: entries[0]["hooks"][0]["command"] for name, entries in data["hooks"].items()}


def run(root: Path, name: str, **fields: Any) -> subprocess.CompletedProcess[str]:
    """Run the settings.json command of event ``name`` through a shell, as Claude Code does."""
    event = {"session_id": SESSION, "cwd": str(root), "hook_event_name": name, **fields}
    return subprocess.run(
        [SH, "-c", commands(root)[name]],
        cwd=root,
        input=json.dumps(event),
        env=run_env(CLAUDE_PROJECT_DIR=str(root)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_session_reads_back_through_the_repositories(root: Path) -> None:
    names = list(commands(root))
    for name in names:
        fields = {"tool_name": "Bash", "tool_input": {"command": "ls"}} if "Tool" in name else {}
        proc = run(root, name, **fields)
        assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", (name, proc)
    blocked = run(root, "PreToolUse", tool_name="Bash", tool_input={"command": "rm -rf ~"})
    assert blocked.returncode == 2
    conn = connect(root / "agents" / "orchestrator.db")
    try:
        (agent,) = AgentRepository(conn).list()
        logs = AgentLogRepository(conn).list(agent_id=agent.id, limit=1000)
    finally:
        conn.close()
    assert (agent.name, agent.status, agent.metadata) == (
        "claude-session",
        "completed",
        {"cwd": str(root)},
    )
    assert sorted(log.message.split(":")[0] for log in logs) == sorted([*names, "PreToolUse"])
    assert logs[0].metadata is not None and logs[0].metadata["blocked"] is True


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("rm -rf /", "recursive rm of '/'"),
        ("bash -c 'rm -rf " + "/." * 80 + "'", "recursive rm"),
        ("cat " + "very/deep/folder/" * 10 + ".env.production.local", ".env files"),
        ("git push -f origin master", "force push to master"),
    ],
)
def test_the_block_message_the_model_reads_is_short(root: Path, command: str, reason: str) -> None:
    proc = run(root, "PreToolUse", tool_name="Bash", tool_input={"command": command})
    assert proc.returncode == 2
    # Claude Code shows the model the hook command and its stderr.
    message = f"[{commands(root)['PreToolUse']}]: {proc.stderr.strip()}"
    assert len(message) < 200 and reason in message, message


def test_a_locked_database_costs_about_a_second_and_never_blocks(root: Path) -> None:
    assert run(root, "SessionStart", source="startup").returncode == 0
    holder = sqlite3.connect(root / "agents" / "orchestrator.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        start = time.monotonic()
        proc = run(root, "PostToolUse", tool_name="Read")
        elapsed = time.monotonic() - start
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 0 and "PostToolUse event not recorded" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line
    assert elapsed < 4, elapsed


def test_the_hot_path_imports_only_the_standard_library(root: Path) -> None:
    event = {"session_id": SESSION, "tool_name": "Bash", "tool_input": {"command": "ls"}}
    proc = subprocess.run(
        [SH, "-c", commands(root)["PreToolUse"]],
        cwd=root,
        input=json.dumps(event),
        env=run_env(CLAUDE_PROJECT_DIR=str(root), PYTHONPROFILEIMPORTTIME="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert {"_hook_support", "adw_modules.adw_sqlite", "adw_modules.utils"} <= imported
    assert not {m for m in imported if m.split(".")[0] in {"pydantic", "yaml"}}


def test_an_unreadable_database_setting_records_to_the_default_with_a_note(root: Path) -> None:
    config = root / "config.yml"
    text = config.read_text()
    assert "\ndatabase:\n" in text
    config.write_text(text.replace("\ndatabase:\n", "\ndatabase: &db\n"))
    proc = run(root, "Stop")
    assert proc.returncode == 0 and "recording to agents/orchestrator.db" in proc.stderr
    assert (root / "agents" / "orchestrator.db").exists()
