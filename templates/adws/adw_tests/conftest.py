"""Fixtures of the agentic layer's tests: a throw-away copy of the project and a fake ``claude``.

Run with ``cd adws && uv run pytest``. Each test works in a copy of ``.claude/``, ``adws/`` and
``config.yml`` under a temporary folder, so the real ``agents/`` and database are never touched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# A Python project's own `pytest` may recurse into adws/ without pydantic or PyYAML installed:
# then this suite is skipped instead of failing its collection.
if importlib.util.find_spec("pydantic") is None or importlib.util.find_spec("yaml") is None:
    collect_ignore_glob = ["*.py"]

ADWS = Path(__file__).resolve().parents[1]
ROOT = ADWS.parent


def pytest_ignore_collect(config: pytest.Config) -> bool | None:
    """Collect this suite from adws/ (``cd adws && uv run pytest``) or when named explicitly,
    never as a side effect of the application's own ``pytest`` at the project root (pluggy
    passes a hook only the arguments it names: the answer is the same for every path)."""
    if config.rootpath.resolve() == ADWS or any("adw_tests" in str(arg) for arg in config.args):
        return None
    return True


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say where the layer's tests run when a root-level ``pytest`` passed them by."""
    if pytest_ignore_collect(config):
        terminalreporter.write_line(
            "agentic layer tests (adws/adw_tests) not run from here: cd adws && uv run pytest"
        )


_IGNORE = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", "*.pyc", "uv.lock")


class Project:
    """A copy of the layer in a temporary folder, with helpers to run its scripts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fake = root / "adws" / "adw_tests" / "fake_claude.py"
        self.env = {k: v for k, v in os.environ.items() if k not in ("TAC_DB_PATH", "ADW_AGENT_ID")}
        self.env["CLAUDE_CODE_PATH"] = str(self.fake)
        self.env["FAKE_CLAUDE_LOG"] = str(root / "fake_calls.jsonl")
        self.env["CLAUDE_PROJECT_DIR"] = str(root)

    @property
    def db(self) -> Path:
        """The run-log database (the default path of config.yml)."""
        return self.root / "agents" / "orchestrator.db"

    def run(
        self, rel: str, *args: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run a script of the layer with this interpreter (pydantic and PyYAML are here)."""
        return subprocess.run(
            [sys.executable, str(self.root / rel), *args],
            cwd=self.root,
            env={**self.env, **env},
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def hook(
        self, script: str, event: dict[str, Any] | str, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Pipe ``event`` (a dict becomes JSON) into ``.claude/hooks/<script>.py``."""
        payload = event if isinstance(event, str) else json.dumps(event)
        return self.run(f".claude/hooks/{script}.py", stdin=payload, **env)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Query the run-log database directly."""
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def calls(self) -> list[dict[str, Any]]:
        """The calls the fake agent received."""
        log = Path(self.env["FAKE_CLAUDE_LOG"])
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fresh copy of the layer whose retries have no delay."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(ADWS, root / "adws", ignore=_IGNORE)
    if (ROOT / ".claude").is_dir():
        shutil.copytree(ROOT / ".claude", root / ".claude", ignore=_IGNORE)
    import yaml

    config_file = ROOT / "config.yml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    config = config or {}
    config.setdefault("workflows", {})["on_failure"] = {
        "retries": 2,
        "delay_seconds": 0,
    }
    config["database"] = {"path": "agents/orchestrator.db"}
    config.setdefault("commands", {})["test"] = f"{sys.executable} -c \"print('tests pass')\""
    (root / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    fake = root / "adws" / "adw_tests" / "fake_claude.py"
    fake.chmod(0o755)
    return Project(root)
