"""The Claude Code hooks: what PreToolUse blocks, and that every event is recorded safely."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Project

from adw_modules.adw_database import AgentLogRepository, AgentRepository, connect

SESSION = "0b9e7c4e-1111-4a7b-9d2e-5f3c2a1b0c9d"


def tool_event(tool: str, **tool_input: Any) -> dict[str, Any]:
    """A PreToolUse event as Claude Code sends it."""
    return {
        "session_id": SESSION,
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": "/tmp",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "toolu_01",
    }


BLOCKED_COMMANDS = [
    "rm -rf /",
    "rm -rf /*",
    "rm -fr ~",
    "rm -rf ~/",
    "rm -rf $HOME",
    'rm -rf "$HOME"',
    "rm -Rf *",
    "rm -rf .",
    "sudo rm -rf --no-preserve-root /",
    "ls && rm -rf /",
    "echo hi; rm -r ~",
    "bash -c 'rm -rf /'",
    "cat .env",
    "cp .env /tmp/x",
    "echo KEY=1 >> .env.local",
    "source .env",
    "git push --force origin main",
    "git push -f origin master",
    "git push origin +main",
    "git push --force-with-lease origin main",
    "chmod -R 777 .",
    "chmod -R 777 /var/www",
    # Wrappers with option arguments, and shells with grouped options, are seen through.
    "sudo -u root rm -rf /",
    "sudo -iu root rm -rf /",
    "nice -n 10 rm -rf /",
    "env -u X rm -rf /",
    "timeout 5 rm -rf /",
    "nohup rm -rf /",
    "bash -ec 'rm -rf /'",
    "sh -lc 'rm -rf /'",
    "bash -c -- 'rm -rf /'",
]

ALLOWED_COMMANDS = [
    "ls -la",
    "rm -rf build/",
    "rm -rf node_modules",
    "rm file.txt",
    "cat .env.example",
    "cp .env.example .env.sample",
    "git push origin feature-x",
    "git push --force origin feature-x",
    "chmod 755 script.sh",
    "chmod -R 755 dist",
    "python -m venv .venv",
    "echo 'rm is a command'",
    "rm -rf ./build",
    "git push origin main",
    "timeout 5 rm -rf tmp",
]


@pytest.mark.parametrize("command", BLOCKED_COMMANDS)
def test_pre_tool_use_blocks_dangerous_commands(project: Project, command: str) -> None:
    proc = project.hook("pre_tool_use", tool_event("Bash", command=command))
    assert proc.returncode == 2, (command, proc.stderr)
    assert "BLOCKED" in proc.stderr


@pytest.mark.parametrize("command", ALLOWED_COMMANDS)
def test_pre_tool_use_allows_ordinary_commands(project: Project, command: str) -> None:
    proc = project.hook("pre_tool_use", tool_event("Bash", command=command))
    assert proc.returncode == 0, (command, proc.stderr)


def test_pre_tool_use_blocks_rm_of_the_project_root(project: Project) -> None:
    proc = project.hook("pre_tool_use", tool_event("Bash", command=f"rm -rf {project.root}"))
    assert proc.returncode == 2


@pytest.mark.parametrize(
    "command",
    ['rm -rf "$CLAUDE_PROJECT_DIR"', "rm -rf ../{name}", "cd .. && rm -rf {name}"],
)
def test_pre_tool_use_resolves_targets_against_the_event_cwd(
    project: Project, command: str
) -> None:
    event = tool_event("Bash", command=command.format(name=project.root.name))
    event["cwd"] = str(project.root)
    assert project.hook("pre_tool_use", event).returncode == 2


@pytest.mark.parametrize("push", ["git push -f origin HEAD", "git push --force origin HEAD"])
def test_pre_tool_use_blocks_force_push_of_head_on_main(project: Project, push: str) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project.root, check=True)
    event = tool_event("Bash", command=push)
    event["cwd"] = str(project.root)
    assert project.hook("pre_tool_use", event).returncode == 2
    subprocess.run(["git", "checkout", "-q", "-b", "feature-x"], cwd=project.root, check=True)
    assert project.hook("pre_tool_use", event).returncode == 0


@pytest.mark.parametrize("tool", ["Read", "Write", "Edit"])
@pytest.mark.parametrize(
    ("path", "blocked"),
    [
        (".env", True),
        ("config/.env.production", True),
        (".env.example", False),
        ("src/app.py", False),
    ],
)
def test_pre_tool_use_guards_env_files(
    project: Project, tool: str, path: str, blocked: bool
) -> None:
    proc = project.hook("pre_tool_use", tool_event(tool, file_path=f"{project.root}/{path}"))
    assert proc.returncode == (2 if blocked else 0), proc.stderr


def test_pre_tool_use_records_the_tool_call(project: Project) -> None:
    proc = project.hook("pre_tool_use", tool_event("Bash", command="ls -la"))
    assert proc.returncode == 0, proc.stderr
    rows = project.rows(
        "SELECT l.message, l.metadata, a.session_id, a.name FROM agent_logs l JOIN agents a ON a.id = l.agent_id"
    )
    assert len(rows) == 1
    message, metadata, session, name = rows[0]
    assert message.startswith("PreToolUse: Bash")
    assert session == SESSION and name == "claude-session"
    meta = json.loads(metadata)
    assert meta["tool_name"] == "Bash" and "ls -la" in meta["tool_input"]


def test_blocked_call_is_recorded_as_blocked(project: Project) -> None:
    assert project.hook("pre_tool_use", tool_event("Bash", command="rm -rf /")).returncode == 2
    (metadata,) = project.rows("SELECT metadata FROM agent_logs")[0]
    assert json.loads(metadata)["blocked"] is True


def test_secrets_are_redacted_and_outputs_truncated(project: Project) -> None:
    event = tool_event(
        "Bash",
        command="curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456' x",
    )
    event["hook_event_name"] = "PostToolUse"
    event["tool_response"] = {"stdout": "sk-ant-api03-" + "a" * 40 + "\n" + "x" * 10000}
    assert project.hook("post_tool_use", event).returncode == 0
    (metadata,) = project.rows("SELECT metadata FROM agent_logs")[0]
    assert "abcdefghijklmnopqrstuvwxyz123456" not in metadata
    assert "sk-ant-api03-aaaa" not in metadata
    assert "[REDACTED]" in metadata
    assert len(json.loads(metadata)["tool_response"]) < 2200


EVENTS: dict[str, dict[str, Any]] = {
    "post_tool_use": {
        "hook_event_name": "PostToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": "a.py"},
        "tool_response": {"ok": True},
    },
    "user_prompt_submit": {
        "hook_event_name": "UserPromptSubmit",
        "prompt": "add a test",
    },
    "notification": {
        "hook_event_name": "Notification",
        "message": "Claude needs your permission",
    },
    "stop": {"hook_event_name": "Stop", "stop_hook_active": False},
    "subagent_stop": {"hook_event_name": "SubagentStop", "stop_hook_active": True},
    "pre_compact": {
        "hook_event_name": "PreCompact",
        "trigger": "manual",
        "custom_instructions": "",
    },
    "session_start": {"hook_event_name": "SessionStart", "source": "startup"},
    "session_end": {"hook_event_name": "SessionEnd", "reason": "prompt_input_exit"},
}


@pytest.mark.parametrize("script", sorted(EVENTS))
def test_every_hook_records_its_event(project: Project, script: str) -> None:
    event = {
        "session_id": SESSION,
        "transcript_path": "/tmp/t.jsonl",
        "cwd": str(project.root),
        **EVENTS[script],
    }
    proc = project.hook(script, event)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # stdout of some events would become Claude's context
    ((message,),) = project.rows("SELECT message FROM agent_logs")  # exactly one row
    assert message.startswith(EVENTS[script]["hook_event_name"])


def test_session_end_completes_the_session_agent(project: Project) -> None:
    base = {"session_id": SESSION, "cwd": str(project.root)}
    project.hook(
        "session_start",
        {**base, "hook_event_name": "SessionStart", "source": "startup"},
    )
    project.hook("session_end", {**base, "hook_event_name": "SessionEnd", "reason": "logout"})
    assert project.rows("SELECT status FROM agents") == [("completed",)]
    assert project.rows("SELECT count(*) FROM agent_logs") == [(2,)]


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]"])
def test_invalid_input_is_noted_blocks_only_in_the_guard(project: Project, stdin: str) -> None:
    # The guard fails closed: an event it cannot read could be anything.
    guard = project.hook("pre_tool_use", stdin)
    assert guard.returncode == 2
    assert "blocking to be safe" in guard.stderr
    # A hook that only records never blocks.
    proc = project.hook("post_tool_use", stdin)
    assert proc.returncode == 0
    assert "tac hook:" in proc.stderr


def test_unwritable_database_is_noted_and_never_blocks(project: Project) -> None:
    bad = project.root / "not-a-dir"
    bad.write_text("a file, so the database path below it cannot be created")
    proc = project.hook(
        "pre_tool_use", tool_event("Bash", command="ls"), TAC_DB_PATH=str(bad / "x.db")
    )
    assert proc.returncode == 0
    assert "not recorded" in proc.stderr
    blocked = project.hook(
        "pre_tool_use",
        tool_event("Bash", command="rm -rf /"),
        TAC_DB_PATH=str(bad / "x.db"),
    )
    assert blocked.returncode == 2  # the guard does not depend on the database


def test_workflow_agent_id_routes_events_to_the_phase_agent(project: Project) -> None:
    project.hook(
        "session_start",
        {"session_id": SESSION, "hook_event_name": "SessionStart", "source": "startup"},
    )
    (agent_id,) = project.rows("SELECT id FROM agents")[0]
    other = "1f0e2d3c-aaaa-4bbb-8ccc-000000000001"
    project.hook("stop", {"session_id": other, "hook_event_name": "Stop"}, ADW_AGENT_ID=agent_id)
    assert project.rows("SELECT count(*) FROM agents") == [(1,)]
    assert project.rows("SELECT count(*) FROM agent_logs WHERE agent_id = ?", agent_id) == [(2,)]


def test_session_end_never_completes_a_workflow_phase_agent(project: Project) -> None:
    base = {"session_id": SESSION, "cwd": str(project.root)}
    project.hook("session_start", {**base, "hook_event_name": "SessionStart", "source": "startup"})
    (agent_id,) = project.rows("SELECT id FROM agents")[0]
    project.hook(
        "session_end",
        {**base, "session_id": "other", "hook_event_name": "SessionEnd", "reason": "other"},
        ADW_AGENT_ID=agent_id.upper(),
    )
    assert project.rows("SELECT status FROM agents") == [("running",)]
    assert project.rows("SELECT count(*) FROM agent_logs WHERE agent_id = ?", agent_id) == [(2,)]


def test_hook_rows_read_back_through_the_repositories(project: Project) -> None:
    """The hooks write with plain sqlite3; the pydantic repositories must read every row."""
    base = {"session_id": SESSION, "cwd": str(project.root)}
    for script, fields in EVENTS.items():
        assert project.hook(script, {**base, **fields}).returncode == 0
    assert project.hook("pre_tool_use", tool_event("Bash", command="rm -rf /")).returncode == 2
    conn = connect(project.db)
    try:
        (agent,) = AgentRepository(conn).list()
        logs = AgentLogRepository(conn).list(agent_id=agent.id)
    finally:
        conn.close()
    assert (agent.name, agent.status, agent.session_id) == ("claude-session", "completed", SESSION)
    assert agent.metadata == {"cwd": str(project.root)}
    assert agent.completed_at is not None and agent.started_at is not None
    assert len(logs) == len(EVENTS) + 1 and {log.log_type for log in logs} == {"event"}
    assert logs[0].metadata is not None and logs[0].metadata["blocked"] is True
    stored = project.rows("SELECT id, created_at FROM agent_logs")
    for log_id, created_at in stored:  # canonical ids, fixed-width UTC timestamps
        assert log_id == log_id.lower() and len(log_id) == 36
        assert len(created_at) == 32 and created_at.endswith("+00:00")


# --- the hooks as Claude Code runs them: the settings.json command through a shell --------------


def settings_commands(project: Project) -> dict[str, str]:
    """Event name -> the command .claude/settings.json registers for it."""
    data = json.loads((project.root / ".claude" / "settings.json").read_text())
    return {name: entries[0]["hooks"][0]["command"] for name, entries in data["hooks"].items()}


def python_only_path(folder: Path) -> str:
    """A PATH holding only this interpreter as ``python3``: no uv, no site-packages needed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "python3").symlink_to(sys.executable)
    return str(folder)


def run_command(
    project: Project, command: str, event: dict[str, Any], **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a settings.json hook command through a shell, as Claude Code does."""
    return subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=project.root,
        env={**project.env, **env},
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def commands(project: Project) -> dict[str, str]:
    if not (project.root / ".claude" / "settings.json").exists():
        pytest.skip("no .claude/settings.json in this project")
    return settings_commands(project)


def test_settings_hooks_are_short_and_run_in_the_foreground(
    project: Project, commands: dict[str, str]
) -> None:
    """`claude -p` cancels background ("async") hooks when it exits: their events would be lost."""
    data = json.loads((project.root / ".claude" / "settings.json").read_text())
    for entries in data["hooks"].values():
        for hook in entries[0]["hooks"]:
            assert "async" not in hook, hook
    for command in commands.values():
        assert command.startswith('/bin/sh "$CLAUDE_PROJECT_DIR"/.claude/hooks/run.sh ')
        assert len(command) < 80


def test_each_command_records_one_row_per_event_without_uv(
    project: Project, commands: dict[str, str], tmp_path: Path
) -> None:
    path = python_only_path(tmp_path / "bin")
    for name, command in commands.items():
        event: dict[str, Any] = {
            "session_id": SESSION,
            "cwd": str(project.root),
            "hook_event_name": name,
        }
        if name == "PreToolUse":
            event |= {"tool_name": "Bash", "tool_input": {"command": "ls"}}
        proc = run_command(project, command, event, PATH=path)
        assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", (name, proc)
    messages = sorted(m.split(":")[0] for (m,) in project.rows("SELECT message FROM agent_logs"))
    assert messages == sorted(commands)
    assert project.rows("SELECT status FROM agents") == [("completed",)]


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("rm -rf /", "recursive rm"),
        ("sudo -u root rm -rf /" + "./" * 60, "recursive rm"),
        ("cat config/" + "deep/" * 30 + ".env.production", ".env files"),
        ("git push --force origin main", "force push to main"),
        ("chmod -R 777 .", "world-writable"),
    ],
)
def test_the_block_message_the_model_reads_is_short(
    project: Project, commands: dict[str, str], command: str, reason: str
) -> None:
    guard = commands["PreToolUse"]
    event = tool_event("Bash", command=command)
    event["cwd"] = str(project.root)
    proc = run_command(project, guard, event)
    assert proc.returncode == 2, proc.stderr
    # Claude Code shows the model the hook command and its stderr.
    message = f"[{guard}]: {proc.stderr.strip()}"
    assert len(message) < 200 and reason in message, message


def test_a_locked_database_never_holds_claude_up(
    project: Project, commands: dict[str, str]
) -> None:
    assert run_command(project, commands["SessionStart"], {"session_id": SESSION}).returncode == 0
    holder = sqlite3.connect(project.db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    try:
        start = time.monotonic()
        proc = run_command(project, commands["PostToolUse"], {"session_id": SESSION})
        assert proc.returncode == 0 and "not recorded" in proc.stderr
        blocked = run_command(
            project, commands["PreToolUse"], tool_event("Bash", command="rm -rf /")
        )
        assert blocked.returncode == 2 and "BLOCKED" in blocked.stderr  # the decision stands
        assert time.monotonic() - start < 8  # two hooks; each waits about a second, not ten
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_guard_fails_closed_and_other_hooks_never_block(
    project: Project, commands: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "python3").write_text("#!/bin/sh\necho 'python3: broken' >&2\nexit 1\n")
    (broken / "python3").chmod(0o755)
    event = tool_event("Bash", command="ls")
    guard = run_command(project, commands["PreToolUse"], event, PATH=str(broken))
    assert guard.returncode == 2 and "could not run with python3" in guard.stderr
    stop = run_command(project, commands["Stop"], {"session_id": SESSION}, PATH=str(broken))
    assert stop.returncode == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    guard = run_command(project, commands["PreToolUse"], event, PATH=str(empty))
    assert guard.returncode == 2 and "needs python3" in guard.stderr
    assert os.access(project.root / ".claude" / "hooks" / "run.sh", os.R_OK)
