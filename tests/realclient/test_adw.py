"""``adw_plan_build.py`` end to end with the real Claude Code CLI, in a never-trusted project.

The planner writes its spec with the real Write tool; the builder runs the project's allowed test
command (which only works when the workflow hands the CLI the project's settings: an untrusted
folder's own allow-list is ignored); the Prompt rows hold exactly the tokens the API billed and
the cost of the result lines; ``raw_output.jsonl`` is the real stream; no commit holds ``.env``.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

from conftest import Sessions, claude_env, db_rows
from fake_api import FakeAPI, Usage, call, say

ADW_ID = "deadbeef"
SPEC = f"specs/{ADW_ID}-add-a-health-endpoint.md"


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def test_plan_build_with_the_real_cli(
    sessions: Sessions, api: FakeAPI, python_project: Path
) -> None:
    project = python_project  # `init` made its application: a package, one test, pytest
    canary = f"CANARY{secrets.token_hex(12)}"
    (project / ".env").write_text(f"API_TOKEN={canary}\n")
    api.script(
        "You are the planner of AI Developer Workflow",
        call(
            "Write",
            Usage(2100, 120, 6000, 500),
            file_path=str(project / SPEC),
            content="# Plan: health endpoint\n\n## Steps\n1. add health.py\n",
        ),
        say(SPEC, Usage(300, 15, 8100, 0)),
    )
    api.script(
        "You are the builder of AI Developer Workflow",
        call(
            "Write",
            Usage(1800, 200, 5000, 700),
            file_path=str(project / "health.py"),
            content='def health() -> str:\n    return "ok"\n',
        ),
        call("Bash", Usage(40, 30, 5700, 0), command="uv run pytest -q", description="tests"),
        say("Added health.py; tests pass.", Usage(60, 25, 5900, 0)),
    )
    env = claude_env(sessions.home, api, CLAUDE_CODE_PATH=str(sessions.cli.path))

    proc = subprocess.run(
        ["uv", "run", "adws/adw_plan_build.py", "Add a health endpoint", "--adw-id", ADW_ID],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The plan came from the real Write tool.
    assert (project / SPEC).read_text().startswith("# Plan: health endpoint")
    # The builder's test command ran (allowed by the project's settings, though never trusted).
    builder_saw = api.seen_tool_results("You are the builder of AI Developer Workflow")
    assert any("1 passed" in text for text in builder_saw), "\n---\n".join(builder_saw)
    # Tokens and cost: what the API billed, what the result lines said.
    billed = api.total_usage()
    stored = db_rows(
        project,
        "SELECT sum(tokens_input), sum(tokens_cache_read), sum(tokens_cache_creation),"
        " sum(tokens_output), sum(cost_usd), count(*) FROM prompts",
    )[0]
    assert stored[:4] == (
        billed.input_tokens,
        billed.cache_read_input_tokens,
        billed.cache_creation_input_tokens,
        billed.output_tokens,
    )
    raws = sorted((project / "agents" / ADW_ID).glob("*/raw_output.jsonl"))
    assert len(raws) == stored[5] == 2
    results = []
    for raw in raws:
        lines = [json.loads(line) for line in raw.read_text().splitlines() if line.strip()]
        assert any(m.get("subtype") == "init" and m.get("tools") for m in lines)  # the real stream
        results.append([m for m in lines if m.get("type") == "result"][-1])
    assert abs(stored[4] - sum(r["total_cost_usd"] for r in results)) < 1e-9
    # The build was committed, without the secret.
    committed = _git(project, "log", "--all", "--name-only", "--format=")
    assert "health.py" in committed
    assert ".env" not in committed.split()
    assert canary not in _git(project, "log", "--all", "-p")
    assert canary not in api.all_request_text()
