"""The Claude Code hooks: what PreToolUse blocks, and that every event is recorded safely."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from conftest import Project

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


EVENTS = {
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
    (message,) = project.rows("SELECT message FROM agent_logs")[0]
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
def test_invalid_input_is_noted_and_never_blocks(project: Project, stdin: str) -> None:
    proc = project.hook("pre_tool_use", stdin)
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
