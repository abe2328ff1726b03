"""Small pieces of the layer: ids, config, redaction, stream parsing, cron schedules."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
from datetime import datetime
from pathlib import Path

import pytest

from adw_modules import utils
from adw_modules.agent import parse_stream

ADWS = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_adw_ids_are_8_hex() -> None:
    ids = {utils.new_adw_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(utils.check_adw_id(i) == i for i in ids)
    with pytest.raises(ValueError, match="8 lower-case hex"):
        utils.check_adw_id("ABCDEF12")


def test_config_defaults_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAC_DB_PATH", raising=False)
    config = utils.load_config(tmp_path)
    assert utils.retry_policy(config) == (2, 10.0)
    assert utils.db_path(tmp_path, config) == tmp_path / "agents" / "orchestrator.db"
    (tmp_path / "config.yml").write_text(
        "workflows:\n  on_failure: {retries: 5, delay_seconds: 0}\ndatabase: {path: x/run.db}\n"
    )
    config = utils.load_config(tmp_path)
    assert utils.retry_policy(config) == (5, 0.0)
    assert utils.db_path(tmp_path, config) == tmp_path / "x" / "run.db"
    monkeypatch.setenv("TAC_DB_PATH", "other.db")
    assert utils.db_path(tmp_path, config) == tmp_path / "other.db"


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        "AKIAABCDEFGHIJKLMNOP",
        "password=hunter22",
        "API_KEY: 'abcd1234efgh'",
    ],
)
def test_redact_hides_secrets(secret: str) -> None:
    text = utils.redact(f"before {secret} after")
    assert "[REDACTED]" in text
    assert "abcdefghijklmnop" not in text and "hunter22" not in text and "abcd1234efgh" not in text


def test_summarize_truncates() -> None:
    text = utils.summarize({"x": "y" * 5000}, limit=100)
    assert text.endswith("chars]") and len(text) < 140


def test_parse_stream_takes_the_last_result_line() -> None:
    lines = [
        json.dumps({"type": "system", "subtype": "init"}),
        "not json",
        json.dumps({"type": "result", "result": "first"}),
        json.dumps({"type": "result", "result": "last", "usage": {"input_tokens": 3}}),
    ]
    assert parse_stream(lines)["result"] == "last"
    assert parse_stream([]) is None


def test_cron_matching() -> None:
    cron = _load(ADWS / "adw_triggers" / "trigger_cron.py", "trigger_cron")
    monday_9_05 = datetime(2024, 1, 1, 9, 5)
    assert cron.cron_matches("*/5 * * * *", monday_9_05)
    assert not cron.cron_matches("*/10 * * * *", monday_9_05)
    assert cron.cron_matches("5 9 * * 1", monday_9_05)
    assert cron.cron_matches("0-10 8-17 1 1 1-5", monday_9_05)
    assert not cron.cron_matches("5 9 * * 0,6", monday_9_05)
    with pytest.raises(ValueError):
        cron.parse_cron("* * *")
    with pytest.raises(ValueError):
        cron.parse_cron("61 * * * *")


@pytest.mark.parametrize(
    ("command", "code", "output", "expected"),
    [
        ("uv run pytest", 5, "collected 0 items\nno tests ran", "has no tests yet"),
        ("python -m pytest -q", 5, "", "has no tests yet"),
        ("pnpm test", 1, "No tests found, exiting with code 1", "has no tests yet"),
        ("pnpm vitest run", 1, "No test files found, exiting with code 1", "has no tests yet"),
        ("go test ./...", 1, 'go: warning: "./..." matched no packages', "has no tests yet"),
        ("gotest", 127, "sh: 1: gotest: not found", "command not found (exit 127)"),
        ("uv run pytest", 1, "1 failed, 3 passed", None),  # a real failure: the tester fixes it
        ("uv run pytest", 2, "ERROR collecting tests/test_x.py\nno tests ran", None),
        ("pytest", 1, "FAILED test_a.py::test_b", None),
    ],
)
def test_test_failures_a_retry_cannot_fix(
    tmp_path: Path, command: str, code: int, output: str, expected: str | None
) -> None:
    from adw_modules.workflow_ops import untestable

    for manifest in ("pyproject.toml", "package.json", "go.mod"):
        (tmp_path / manifest).write_text("")
    reason = untestable(tmp_path, command, code, output)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason and "\n" not in reason


@pytest.mark.parametrize(
    ("command", "install", "manifest", "hint"),
    [
        ("uv run pytest", "uv sync", "pyproject.toml", "uv init"),
        (
            "FOO=1 /usr/local/bin/poetry run pytest",
            "poetry install",
            "pyproject.toml",
            "poetry init",
        ),
        ("npm test", "npm install", "package.json", "npm init"),
        ("go test ./...", "", "go.mod", "go mod init"),
        ("cargo test", "cargo build", "Cargo.toml", "cargo init"),
    ],
)
def test_a_missing_manifest_says_so(
    tmp_path: Path, command: str, install: str, manifest: str, hint: str
) -> None:
    from adw_modules.workflow_ops import untestable

    project = tmp_path / "a" / "b"  # nothing in the project nor in its parents
    project.mkdir(parents=True)
    reason = untestable(project, command, 2, "error: no project found", install)
    assert reason is not None and f"has no {manifest} yet" in reason and hint in reason
    assert "commands.test" in reason  # how to skip the phase instead
    assert (f"`{install}`" in reason) == bool(install)  # install needs the manifest too
    (tmp_path / manifest).write_text("")  # a manifest in a parent folder counts (workspaces)
    assert untestable(project, command, 2, "error: boom", install) is None


def no_git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """A git that knows no user: no global/system config, no identity in the environment."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GIT_COMMITTER_EMAIL", raising=False)
    monkeypatch.delenv("EMAIL", raising=False)


def test_an_identity_less_git_commit_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adw_modules import git_ops

    no_git_identity(monkeypatch)
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    # Without this git may invent user@host; with it, no configured email is an error everywhere.
    subprocess.run(["git", "config", "user.useConfigOnly", "true"], cwd=repo, check=True)
    (repo / "a.txt").write_text("a")
    step = git_ops.commit_all("first", repo)
    assert not step.ok and step.error == "Author identity unknown"
    assert 'git config user.email "you@example.com"' in step.fix
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    assert git_ops.commit_all("first", elsewhere).error == ""  # not a repository: no warning
