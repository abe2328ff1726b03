"""The guard and the secret rules, as the real Claude Code CLI applies them.

Every dangerous command here is harmless if it ever ran (it aims at this test's throwaway HOME
or project), and the test checks its target survived: blocked means blocked *before* it ran.
"""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest
from conftest import MODES, Sessions
from fake_api import FakeAPI, call, say

# (command, what the model must be told): the guard's list, also through `bash -c`.
DANGEROUS = [
    ("rm -rf ~", "recursive rm"),
    ('rm -fr "$HOME"/', "recursive rm"),
    ("bash -c 'rm -rf \"$CLAUDE_PROJECT_DIR\"'", "recursive rm"),
    ("cd .. && rm -rf *", "recursive rm"),
    ("git push --force origin main", "force push"),
    ("sudo git push -f origin HEAD:master", "force push"),
    ("chmod -R 777 .", "chmod -R 777"),
]


def _blocked(result: dict[str, object], reason: str) -> bool:
    text = str(result.get("content"))
    return bool(result.get("is_error")) and "BLOCKED" in text and reason in text


@pytest.mark.parametrize("mode", list(MODES))
def test_dangerous_calls_are_blocked_before_they_run_and_benign_ones_run(
    sessions: Sessions, api: FakeAPI, project: Path, mode: str
) -> None:
    home_marker = sessions.home / "still-here"
    home_marker.write_text("x")
    project_marker = project / "still-here"
    project_marker.write_text("x")
    mode_before = stat.S_IMODE(project_marker.stat().st_mode)
    turns = [call("Bash", command=command, description="step") for command, _ in DANGEROUS]
    api.script(
        "GUARD-SCENARIO",
        *turns,
        call("Bash", command="ls", description="benign"),
        say("finished"),
    )

    run = sessions.run(project, "GUARD-SCENARIO go", mode=mode)

    assert run.returncode == 0, run.stderr
    results = api.seen_tool_results("GUARD-SCENARIO")
    assert len(results) == len(DANGEROUS) + 1
    blocks = run.tool_results()
    for (command, reason), block in zip(DANGEROUS, blocks, strict=False):
        assert _blocked(block, reason), (command, block)
        # The model sees the reason, not a wall of shell: the message stays short.
        assert len(str(block["content"])) < 400, block["content"]
    assert "still-here" in results[-1] and "README.md" in results[-1]  # `ls` really ran
    assert home_marker.exists() and project_marker.exists()
    assert stat.S_IMODE(project_marker.stat().st_mode) == mode_before


@pytest.mark.parametrize("mode", ["acceptEdits", "bypass"])
def test_env_content_never_reaches_the_model(
    sessions: Sessions, api: FakeAPI, project: Path, mode: str
) -> None:
    canary = f"CANARY{secrets.token_hex(12)}"
    (project / ".env").write_text(f"API_TOKEN={canary}\n")
    (project / "config" / ".env.local").parent.mkdir()
    (project / "config" / ".env.local").write_text(f"DB_PASSWORD={canary}\n")
    (project / ".env.example").write_text("API_TOKEN=changeme\n")
    api.script(
        "SECRET-SCENARIO",
        call("Read", file_path=str(project / ".env")),
        call("Read", file_path=str(project / "config" / ".env.local")),
        call("Grep", pattern="CANARY", path=str(project), output_mode="content"),
        call("Grep", pattern="API_TOKEN", output_mode="content", glob="*"),
        call("Bash", command="cat .env", description="read"),
        call("Bash", command="bash -c 'cat config/.env.local'", description="read"),
        call("Bash", command="grep -rn CANARY .", description="search"),
        call("Bash", command="cat .env.example", description="read the example"),
        call("Task", subagent_type="planner", description="search", prompt="SECRET-SUBAGENT go"),
        say("finished"),
    )
    # The planner has no Bash, so it gets the Grep and Glob tools themselves.
    api.script(
        "SECRET-SUBAGENT",
        call("Grep", pattern="CANARY", path=str(project), output_mode="content"),
        call("Grep", pattern="TOKEN", output_mode="content", glob="**/.env*"),
        call("Glob", pattern="**/.env*"),
        call("Read", file_path=".env"),
        say("searched"),
    )

    run = sessions.run(project, "SECRET-SCENARIO go", mode=mode)

    assert run.returncode == 0, run.stderr
    assert api.scripted("SECRET-SUBAGENT"), "the subagent never ran"
    assert canary not in api.all_request_text()
    assert canary not in run.stdout
    results = api.seen_tool_results("SECRET-SCENARIO")
    assert any("changeme" in text for text in results), "\n---\n".join(
        results
    )  # the example is readable
