"""The observatory ships into generated projects: the same files, served by
``uv run adws/adw_observe.py``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from observe_support import RUN_OK, fill, free_port, serve

from tac_bootstrap_cli.render import BASE_MODULES
from tests.layer.layer_support import UV_CACHE_DIR, write_project

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "tac_bootstrap_cli" / "_adws" / "adw_modules" / "observatory"


def test_every_file_of_the_observatory_is_a_base_module() -> None:
    """Pages and static files ship too, not only the Python (the base modules are a folder walk)."""
    files = {
        "adws/" + p.relative_to(PACKAGE.parents[1]).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {"adws/adw_modules/observatory/static/observe.js"} < files
    assert files == {rel for rel in BASE_MODULES if rel.startswith("adws/adw_modules/observatory/")}


@pytest.mark.slow
def test_a_generated_project_serves_the_same_app(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is required (python3 -m pip install uv)")
    project = write_project(tmp_path / "demo", "python-uv", delay_seconds=None)
    env = {k: v for k, v in os.environ.items() if k not in ("TAC_DB_PATH", "VIRTUAL_ENV")}
    if UV_CACHE_DIR:
        env["UV_CACHE_DIR"] = UV_CACHE_DIR
    missing = subprocess.run(
        [uv, "run", "--quiet", "adws/adw_observe.py"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert missing.returncode == 1, missing.stderr
    assert missing.stderr.splitlines()[-1].startswith("error: no database at ")
    fill(project)
    made = subprocess.run(
        [uv, "run", "--quiet", "adws/adw_observe.py", "--report", "report.html"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    assert "Add a health endpoint" in (project / "report.html").read_text(encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [uv, "run", "--quiet", "adws/adw_observe.py", "--port", str(port)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert re.fullmatch(rf"observatory: http://127\.0\.0\.1:{port}/\n", line), line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs", timeout=10) as resp:
            body = resp.read().decode()
        assert RUN_OK in body
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/runs/{RUN_OK}", timeout=10) as resp:
            page = resp.read().decode()
            assert "default-src 'self'" in resp.headers["content-security-policy"]
        assert "Add a health endpoint" in page and time.monotonic() - started < 5
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_runs_of_the_real_layer_are_observed(tmp_path: Path) -> None:
    """The generated workflow (with the stand-in agent CLI) and hooks fill the database."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is required (python3 -m pip install uv)")
    project = write_project(tmp_path / "demo", "python-uv", delay_seconds=None)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    fake = project / "adws" / "adw_tests" / "fake_claude.py"
    env = {k: v for k, v in os.environ.items() if k not in ("TAC_DB_PATH", "VIRTUAL_ENV")}
    env |= {
        "CLAUDE_CODE_PATH": str(fake),
        **({"UV_CACHE_DIR": UV_CACHE_DIR} if UV_CACHE_DIR else {}),
    }

    def workflow(task: str, **extra: str) -> int:
        return subprocess.run(
            [uv, "run", "--quiet", "adws/adw_plan_build.py", task],
            cwd=project,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
        ).returncode

    assert workflow("Add a health endpoint") == 0
    assert workflow("Add a metrics endpoint", FAKE_CLAUDE_FAIL="1") == 1
    for command in ("rm -rf /", "ls -la"):  # an interactive session's tool calls, one blocked
        payload = {
            "session_id": "observed-session",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command},
            "cwd": str(project),
        }
        subprocess.run(
            [str(project / ".claude" / "hooks" / "pre_tool_use.py")],
            cwd=project,
            input=json.dumps(payload),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    with serve(str(project)) as running:
        runs = {r["status"]: r for r in running.json("/api/runs")["runs"]}
        assert set(runs) == {"completed", "failed"}
        done = runs["completed"]
        phases = [p["phase"] for p in done["phases"]]
        assert (done["workflow"], phases, done["task"]) == (
            "plan_build",
            ["plan", "build"],
            "Add a health endpoint",
        )
        assert done["branch"].startswith(f"adw-{done['id']}-")
        assert (done["totals"]["tokens_input"], done["totals"]["cost_usd"]) == (2400, 0.0246)
        detail = running.json(f"/api/runs/{done['id']}")
        raw = detail["phases"][0]["prompts"][0]["raw_output"]
        assert raw == f"agents/{done['id']}/planner/raw_output.jsonl"
        status, _, body = running.get("/raw?path=" + raw)
        assert status == 200
        assert any(json.loads(line).get("type") == "result" for line in body.splitlines())
        assert runs["failed"]["task"] == "Add a metrics endpoint"
        costs = running.json("/api/costs")
        models = [r["key"] for r in costs["model"]]
        assert len(models) >= 2 and not any("," in m for m in models)  # split by model usage
        split = sum(r["cost_usd"] for r in costs["model"])
        assert round(split, 6) == costs["totals"]["cost_usd"]
        (session,) = running.json("/api/sessions")["sessions"]
        events = running.json("/api/events?after=0")["events"]
        mine = [e for e in events if e["agent_id"] == session["agent_id"]]
        assert [(e["tool_name"], e["blocked"]) for e in mine] == [("Bash", True), ("Bash", False)]
        assert "rm -rf /" in (mine[0]["tool_input"] or "")
