"""The generated layer as the real Claude Code CLI loads it: settings, slash commands, agents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Sessions, claude_doctor
from fake_api import FakeAPI, call, first_user_text, say


def _frontmatter(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    block = text.split("---", 2)[1]
    pairs = (line.split(":", 1) for line in block.splitlines() if ":" in line)
    return {key.strip(): value.strip().strip('"') for key, value in pairs}


def test_settings_pass_the_clients_own_diagnostics(sessions: Sessions, project: Path) -> None:
    report = claude_doctor(sessions, project)
    # Older versions draw the report with cursor moves instead of spaces: compare squashed.
    squashed = "".join(report.split())
    assert "doctor" in squashed.lower() or "Diagnostics" in squashed, report
    # Every complaint the client has about a settings file names the file.
    assert "settings.json" not in squashed, report
    assert "maynotworkaswritten" not in squashed, report


def test_init_lists_every_generated_command_and_agent(
    sessions: Sessions, api: FakeAPI, project: Path
) -> None:
    api.script("LIST-LAYER", say("nothing to do"))
    sessions.trust(project)  # an untrusted folder says so on stderr; this test wants errors only
    run = sessions.run(project, "LIST-LAYER")
    assert run.returncode == 0, run.stderr
    commands = {p.stem for p in (project / ".claude" / "commands").glob("*.md")}
    agents = {p.stem for p in (project / ".claude" / "agents").glob("*.md")}
    assert commands and agents
    assert commands <= set(run.init["slash_commands"])
    assert agents <= set(run.init["agents"])
    assert "settings.json" not in run.stderr, run.stderr  # no settings error on start


def test_slash_command_substitutes_its_arguments(
    sessions: Sessions, api: FakeAPI, python_project: Path
) -> None:
    api.script("Add a health endpoint", say("planned"))
    run = sessions.run(python_project, "/feature Add a health endpoint", mode="acceptEdits")
    assert run.returncode == 0, run.stderr
    [exchange] = api.scripted("Add a health endpoint")
    prompt = first_user_text(exchange.body)
    assert "<feature>\nAdd a health endpoint\n</feature>" in prompt
    assert "$ARGUMENTS" not in prompt


@pytest.mark.parametrize("agent", ["planner", "reviewer", "builder", "docs-writer"])
def test_subagent_gets_exactly_its_declared_tools_and_model(
    sessions: Sessions, api: FakeAPI, python_project: Path, agent: str
) -> None:
    key = f"SUBAGENT-{agent.upper()}"
    api.script(
        "DELEGATE",
        call("Task", subagent_type=agent, description="delegate", prompt=f"{key} do your part"),
        say("delegated"),
    )
    api.script(key, say("my part is done"))

    run = sessions.run(python_project, "DELEGATE now", mode="acceptEdits")

    assert run.returncode == 0, run.stderr
    exchanges = api.scripted(key)
    assert exchanges, "the subagent never called the API"
    body = exchanges[0].body
    declared = _frontmatter(python_project / ".claude" / "agents" / f"{agent}.md")
    wanted = {t.strip() for t in declared["tools"].split(",")}
    given = {tool["name"] for tool in body.get("tools") or []}
    # Since 2.1.3xx an agent that has Bash searches through it: Glob and Grep are folded in.
    folded = {"Glob", "Grep"} if "Bash" in given else set()
    assert given == wanted - folded, (given, wanted)
    assert re.search(declared["model"], str(body["model"])), body["model"]
