"""Fixtures of the doctor tests: a freshly generated project with a fake agent CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tac_bootstrap_cli import commands, scaffold

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _fresh_cli_state() -> Iterator[None]:
    commands.state.update(debug=False, argv=None)
    yield
    commands.state.update(debug=False, argv=None)


@pytest.fixture
def cli() -> Run:
    """``cli("doctor", path)`` -> click Result."""

    def run(*args: str | os.PathLike[str]) -> Result:
        return CliRunner().invoke(commands.app, [str(a) for a in args])

    return run


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
