"""``adws/adw_status.py --json`` reads through the observatory's store: for the same database it
prints the runs ``/api/runs`` serves (plus its flat totals), and fails the same way."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from observe_support import RUN_FAILED, RUN_OK, add_event, fill, serve

from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo, dump_config
from tac_bootstrap_cli.render import render_project

# Keys adw_status.py adds to each API run: its earlier output, kept.
FLAT = {
    "adw_id",
    "tokens_input",
    "tokens_cache_read",
    "tokens_cache_creation",
    "tokens_output",
    "num_turns",
    "models",
    "cost_usd",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("status")
    config = ProjectConfig(
        project=ProjectInfo(name="demo", language="python", package_manager="uv")
    )
    for rel, file in render_project(config.template_context()).items():
        if rel.startswith("adws/"):
            path = dest / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(file.content)
    (dest / "config.yml").write_text(dump_config(config), encoding="utf-8")
    fill(dest)
    return dest


def status(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The generated script, run by this interpreter (it has the script's dependencies)."""
    env = {k: v for k, v in os.environ.items() if k != "TAC_DB_PATH"}
    return subprocess.run(
        [sys.executable, "adws/adw_status.py", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _steady(run: dict[str, Any]) -> dict[str, Any]:
    """A run without what moves with the clock (a running run's duration)."""
    return {k: v for k, v in run.items() if not (k == "duration_s" and run["ended_at"] is None)}


def test_status_json_is_the_api_of_the_same_database(project: Path) -> None:
    made = status(project, "--json", "--limit", "100")
    assert made.returncode == 0, made.stderr
    printed = json.loads(made.stdout)
    with serve(str(project)) as running:
        served = running.json("/api/runs?per_page=100")["runs"]
        detail = running.json(f"/api/runs/{RUN_FAILED}?latest=1")
    assert [r["id"] for r in printed] == [r["id"] for r in served]
    assert len(printed) == 4
    for mine, api in zip(printed, served, strict=True):
        assert _steady({k: v for k, v in mine.items() if k not in FLAT}) == _steady(api)
        assert mine["adw_id"] == api["id"] and mine["cost_usd"] == api["totals"]["cost_usd"]
        assert mine["tokens_output"] == api["totals"]["tokens_output"]
    ok = next(r for r in printed if r["id"] == RUN_OK)
    assert ok["models"] == ["claude-haiku-4", "claude-sonnet-4"]
    assert [p["phase"] for p in ok["phases"]] == ["plan", "build"]
    one = status(project, "--json", "--adw-id", RUN_FAILED.upper())
    assert one.returncode == 0, one.stderr
    (run,) = json.loads(one.stdout)
    assert {k: v for k, v in run.items() if k not in FLAT} | {
        "phases": detail["run"]["phases"]
    } == (detail["run"])
    (phase,) = run["phases"]
    assert len(phase["logs"]) == len(detail["phases"][0]["events"])
    assert phase["logs"][-1].endswith("error: plan failed after 2 attempt(s)")


def test_status_logs_are_a_phases_latest(project: Path) -> None:
    db = project / "agents" / "orchestrator.db"
    conn = sqlite3.connect(db)
    (agent_id,) = conn.execute(
        "SELECT id FROM agents WHERE json_extract(metadata, '$.adw_id') = ?", (RUN_OK,)
    ).fetchone()
    conn.close()
    for i in range(205):
        add_event(db, agent_id, f"late event {i}")
    table = status(project, "--adw-id", RUN_OK)
    assert table.returncode == 0, table.stderr
    logs = [line.strip() for line in table.stdout.splitlines() if "event: late event" in line]
    assert len(logs) == 200 and logs[-1].endswith("late event 204")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a database, only text" * 40, "is not a SQLite database"),
        (None, "newer than"),
    ],
)
def test_status_of_an_unreadable_database_is_one_line(
    tmp_path: Path, project: Path, content: bytes | None, message: str
) -> None:
    copy = tmp_path / "p"
    (copy / "agents").mkdir(parents=True)
    for rel in ("adws", "config.yml"):
        src = project / rel
        if src.is_dir():
            subprocess.run(["cp", "-r", str(src), str(copy / rel)], check=True)
        else:
            (copy / rel).write_bytes(src.read_bytes())
    db = copy / "agents" / "orchestrator.db"
    if content is None:
        fill(copy)
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA user_version = 99")
        conn.close()
    else:
        db.write_bytes(content)
    made = status(copy, "--json")
    assert made.returncode == 1 and made.stdout == ""
    assert made.stderr.startswith("error: ") and made.stderr.count("\n") == 1, made.stderr
    assert message in made.stderr
