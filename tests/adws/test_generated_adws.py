"""A generated project's workflows over these base modules, from outside the project.

The agent call against the fake Claude CLI: the Prompt rows equal the totals of the stream the CLI
printed, counted independently here. And the project's own ``pytest`` at its root, which the ADW
phases run, does not trip over the workflow scripts. The project comes from ``tac-bootstrap
init``; scripts run in subprocesses with this interpreter (pydantic and PyYAML are installed here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_database import PromptRepository, connect, init_schema
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Prompt

TOKENS = ("input", "cache_read", "cache_creation", "output")
USAGE_KEYS = dict(
    zip(
        TOKENS,
        (
            "input_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "output_tokens",
        ),
        strict=True,
    )
)
MODEL_USAGE_KEYS = dict(
    zip(
        TOKENS,
        ("inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens", "outputTokens"),
        strict=True,
    )
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``tac-bootstrap init demo`` for the module; tests copy it."""
    where = tmp_path_factory.mktemp("init")
    proc = subprocess.run(
        # the layer alone: these tests are about the workflows (one writes its own tests/)
        [sys.executable, "-m", "tac_bootstrap_cli", "init", "demo", "--yes", "--layer-only"],
        cwd=where,
        env={**os.environ, "TAC_BOOTSTRAP_DB": str(where / "history.db")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return where / "demo"


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the generated project."""
    root = tmp_path / "demo"
    shutil.copytree(template, root, symlinks=True)
    return root


def plan(root: Path, adw_id: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``adws/adw_plan.py`` with the fake agent."""
    clean = {k: v for k, v in os.environ.items() if k not in ("TAC_DB_PATH", "ADW_AGENT_ID")}
    return subprocess.run(
        [sys.executable, "adws/adw_plan.py", "Add a health endpoint", "--adw-id", adw_id],
        cwd=root,
        env={
            **clean,
            "CLAUDE_CODE_PATH": str(root / "adws" / "adw_tests" / "fake_claude.py"),
            "FAKE_CLAUDE_LOG": str(root / "calls.jsonl"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def stream(root: Path, adw_id: str) -> list[dict[str, Any]]:
    raw = root / "agents" / adw_id / "planner" / "raw_output.jsonl"
    return [json.loads(line) for line in raw.read_text().splitlines()]


def prompt_rows(root: Path) -> list[Prompt]:
    conn = connect(root / "agents" / "orchestrator.db")
    try:
        init_schema(conn)
        return PromptRepository(conn).list()
    finally:
        conn.close()


def tokens_of(prompt: Prompt) -> dict[str, int]:
    return {
        "input": prompt.tokens_input,
        "cache_read": prompt.tokens_cache_read,
        "cache_creation": prompt.tokens_cache_creation,
        "output": prompt.tokens_output,
    }


def test_prompt_row_equals_model_usage_summed_over_models(project: Path) -> None:
    proc = plan(project, "0a0a0a0a", FAKE_CLAUDE_INPUT_TOKENS="2100")
    assert proc.returncode == 0, proc.stderr
    (result,) = [line for line in stream(project, "0a0a0a0a") if line["type"] == "result"]
    per_model = result["modelUsage"]
    assert len(per_model) == 2  # the main model and a side call without assistant lines
    expected = {t: sum(m[key] for m in per_model.values()) for t, key in MODEL_USAGE_KEYS.items()}
    (prompt,) = prompt_rows(project)
    assert (
        tokens_of(prompt)
        == expected
        == {
            "input": 2100,
            "cache_read": 6000,
            "cache_creation": 500,
            "output": 340,
        }
    )
    assert (prompt.cost_usd, prompt.num_turns, prompt.duration_ms) == (
        result["total_cost_usd"],
        result["num_turns"],
        result["duration_ms"],
    )
    assert prompt.models == ",".join(per_model)
    (call,) = [json.loads(line) for line in (project / "calls.jsonl").read_text().splitlines()]
    argv = call["argv"]
    assert argv[argv.index("--settings") + 1] == str(project / ".claude" / "settings.json")


def test_repeated_message_lines_count_once(project: Path) -> None:
    proc = plan(project, "0b0b0b0b", FAKE_CLAUDE_NO_MODEL_USAGE="1")
    assert proc.returncode == 0, proc.stderr
    lines = stream(project, "0b0b0b0b")
    messages = [line["message"] for line in lines if line["type"] == "assistant"]
    assert len(messages) > len({m["id"] for m in messages})  # a message spans several lines
    once = {m["id"]: m["usage"] for m in messages}
    per_message = {t: sum(u[key] for u in once.values()) for t, key in USAGE_KEYS.items()}
    every_line = {t: sum(m["usage"][key] for m in messages) for t, key in USAGE_KEYS.items()}
    (result,) = [line for line in lines if line["type"] == "result"]
    (prompt,) = prompt_rows(project)
    assert tokens_of(prompt) == per_message != every_line
    assert per_message == {t: result["usage"][key] for t, key in USAGE_KEYS.items()}


def test_the_projects_own_pytest_does_not_import_the_workflows(project: Path) -> None:
    """`adws/adw_test.py` matches pytest's `*_test.py`: a root `pytest` must find nothing in it,
    even where pydantic is missing (here: shadowed by a package that cannot be imported)."""
    blocker = project.parent / "no-pydantic" / "pydantic"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('pydantic is not installed here')\n")
    (project / "tests").mkdir()
    (project / "tests" / "test_app.py").write_text("def test_app() -> None:\n    assert True\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(blocker.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout and "error" not in proc.stdout.lower()
