"""Fixtures of the doctor tests: a freshly generated project with a fake agent CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import Run

from tac_bootstrap_cli import scaffold


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A generated project; the agent CLI is a fake executable so the tools check passes."""
    fake = tmp_path / "fake-claude"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CLAUDE_CODE_PATH", str(fake))
    return scaffold.init_project("app", tmp_path).target


def doctor_json(cli: Run, project: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """Exit code and parsed ``doctor --json`` output."""
    result = cli("doctor", project, "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def findings(report: dict[str, Any], status: str) -> list[str]:
    """``name: message`` of every check with ``status``."""
    return [f"{c['name']}: {c['message']}" for c in report["checks"] if c["status"] == status]
