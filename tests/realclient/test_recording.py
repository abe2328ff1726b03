"""Every hook event the settings register is recorded exactly once, in -p and interactive sessions.

Claude Code cancels hooks still running in the background when a ``-p`` session exits; a
recording that is lost there is lost for every workflow run. The scripted session makes a known
number of tool calls (one of them blocked), runs a subagent and ends, so the expected count of
each event is known exactly; the project's run log must hold that many rows, no more, no fewer.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import MODES, Sessions, db_rows, hook_event_counts, interactive_session
from fake_api import FakeAPI, call, say

SUBAGENT_KEY = "SUBAGENT-RECORDING"


def _script(api: FakeAPI, key: str, *, subagent: bool) -> dict[str, int]:
    """A session of 3 tool calls (1 blocked), with a subagent making 1 more; the least counts
    of each event (a subagent that runs in the background adds a turn when it reports back)."""
    turns = [
        call("Bash", command="ls", description="list"),
        call("Read", file_path="README.md"),
        call("Bash", command="rm -rf ~", description="blocked by the guard"),
    ]
    if subagent:
        prompt = f"{SUBAGENT_KEY} review the README"
        turns.append(call("Task", subagent_type="reviewer", description="review", prompt=prompt))
        api.script(SUBAGENT_KEY, call("Read", file_path="README.md"), say("looks fine"))
    api.script(key, *turns, say("finished"))
    tool_calls = len(turns) + (1 if subagent else 0)
    least = {
        "SessionStart": 1,
        "UserPromptSubmit": 1,
        "PreToolUse": tool_calls,
        "PostToolUse": tool_calls - 1,  # the blocked call never ran
        "Stop": 1,
        "SessionEnd": 1,
    }
    if subagent:
        least["SubagentStop"] = 1
    return least


def _registered_events(project: Path) -> set[str]:
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    return set(settings["hooks"])


def _session_agent(project: Path) -> tuple[str, str]:
    rows = db_rows(project, "SELECT session_id, status FROM agents WHERE name = 'claude-session'")
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("mode", list(MODES))
def test_headless_session_records_every_event_once(
    sessions: Sessions, api: FakeAPI, project: Path, mode: str
) -> None:
    least = _script(api, "RECORDING-P", subagent=True)

    run = sessions.run(project, "RECORDING-P go", mode=mode)

    assert run.returncode == 0, run.stderr
    assert not [o for o in run.hook_outcomes() if o[1] == "cancelled"], run.hook_outcomes()
    assert set(least) <= _registered_events(project)
    # The stream lists every hook Claude Code started; SessionEnd runs after the stream ends.
    expected = Counter(
        str(m["hook_event"]) for m in run.messages if m.get("subtype") == "hook_started"
    )
    expected["SessionEnd"] += 1
    assert all(expected[event] >= count for event, count in least.items()), expected
    session_id, status = _session_agent(project)
    assert session_id == run.result["session_id"]
    assert hook_event_counts(project, session_id) == expected
    assert status == "completed"


def test_interactive_session_records_every_event_once(
    sessions: Sessions, api: FakeAPI, python_project: Path
) -> None:
    expected = _script(api, "RECORDING-I", subagent=False)
    last_turn = len(api.conversations[0].turns) - 1

    interactive_session(
        sessions,
        python_project,
        "RECORDING-I go",
        done=lambda: any(e.turn == last_turn for e in api.scripted("RECORDING-I")),
    )

    session_id, status = _session_agent(python_project)
    assert hook_event_counts(python_project, session_id) == expected
    assert status == "completed"


def test_settings_given_twice_still_record_each_event_once(
    sessions: Sessions, api: FakeAPI, python_project: Path
) -> None:
    """The ADWs pass ``--settings <project>/.claude/settings.json``; in a trusted project the
    same hooks then come from two sources, and Claude Code must run each only once."""
    least = _script(api, "RECORDING-TWICE", subagent=False)
    sessions.trust(python_project)
    settings = str(python_project / ".claude" / "settings.json")

    run = sessions.run(python_project, "RECORDING-TWICE go", "--settings", settings)

    assert run.returncode == 0, run.stderr
    session_id, status = _session_agent(python_project)
    assert hook_event_counts(python_project, session_id) == least
    assert status == "completed"
