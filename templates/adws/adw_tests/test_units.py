"""Small pieces of the layer: ids, config, redaction, stream parsing and token totals, the agent
call's command and streaming, cron schedules, test-failure triage, git commits without secrets."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import types
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest

from adw_modules import utils
from adw_modules.agent import StreamTally, build_command, parse_stream, run_agent

ADWS = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
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
    result = parse_stream(lines)
    assert result is not None and result["result"] == "last"
    assert parse_stream([]) is None


def assistant(message_id: str, usage: Mapping[str, object], parent: str | None = None) -> str:
    """One stream-json assistant line."""
    message = {"id": message_id, "model": "claude-sonnet-4-5", "usage": usage, "content": []}
    return json.dumps({"type": "assistant", "message": message, "parent_tool_use_id": parent})


def usage(inp: int, read: int, create: int, out: int) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": create,
        "output_tokens": out,
    }


def totals(tally: StreamTally) -> tuple[int, int, int, int, str]:
    u = tally.usage()
    return (u.input, u.cache_read, u.cache_creation, u.output, u.source)


def test_usage_prefers_model_usage_then_result_usage_then_messages() -> None:
    lines = [
        assistant("msg_a", usage(10, 100, 5, 1)),
        assistant("msg_a", usage(10, 100, 5, 1)),  # the same message again: counted once
        assistant("msg_b", usage(20, 200, 0, 7)),
        assistant("msg_sub", usage(3, 30, 0, 2), parent="toolu_1"),  # a subagent's message
    ]
    tally = StreamTally()
    for line in lines:
        tally.feed(line)
    assert totals(tally) == (33, 330, 5, 10, "messages")
    assert tally.result is None and tally.num_turns() == 2 and tally.cost_usd() == 0.0
    assert tally.models() == ["claude-sonnet-4-5"]
    tally.feed(json.dumps({"type": "result", "usage": usage(30, 300, 5, 8), "num_turns": 2}))
    assert totals(tally) == (30, 300, 5, 8, "result")
    model_usage = {
        "claude-sonnet-4-5": {
            "inputTokens": 30,
            "outputTokens": 8,
            "cacheReadInputTokens": 300,
            "cacheCreationInputTokens": 5,
            "costUSD": 0.02,
        },
        "claude-haiku-4-5": {"inputTokens": 7, "outputTokens": 3, "costUSD": 0.001},
    }
    final = {
        "type": "result",
        "usage": usage(30, 300, 5, 8),
        "modelUsage": model_usage,
        "total_cost_usd": 0.021,
        "num_turns": 4,
        "duration_ms": 5120,
    }
    tally.feed(json.dumps(final))
    assert totals(tally) == (37, 300, 5, 11, "modelUsage")
    assert tally.models() == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    assert (tally.cost_usd(), tally.num_turns(), tally.duration_ms()) == (0.021, 4, 5120)
    assert tally.model_usage()["claude-haiku-4-5"] == {
        "input": 7,
        "cache_read": 0,
        "cache_creation": 0,
        "output": 3,
        "cost_usd": 0.001,
    }


def test_usage_ignores_junk_values() -> None:
    tally = StreamTally()
    tally.feed(
        assistant("m", {"input_tokens": -5, "output_tokens": "9", "cache_read_input_tokens": True})
    )
    tally.feed("not json")
    tally.feed('{"type": "assistant", "message": "text"}')
    assert totals(tally) == (0, 0, 0, 0, "messages")


def test_build_command_is_pure_and_passes_settings(tmp_path: Path) -> None:
    plain = build_command("claude", "do it", "sonnet")
    assert plain == [
        "claude",
        "-p",
        "do it",
        "--model",
        "sonnet",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "acceptEdits",
    ]
    settings = tmp_path / ".claude" / "settings.json"
    assert build_command("claude", "do it", "sonnet", settings) == [
        *plain,
        "--settings",
        str(settings),
    ]
    assert not settings.exists()  # building the command touches nothing


def test_a_stuck_agent_is_killed_and_its_output_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CODE_PATH", str(ADWS / "adw_tests" / "fake_claude.py"))
    monkeypatch.setenv("FAKE_CLAUDE_HANG", "60")  # prints its messages, then hangs, child too
    started = time.monotonic()
    result = run_agent(
        "Plan it", adw_id="0a1b2c3d", agent_name="planner", model="sonnet", root=tmp_path,
        config={}, timeout=2,
    )  # fmt: skip
    assert time.monotonic() - started < 30  # the child holding stdout was killed with it
    assert not result.ok and "stopped after 2 s" in result.stderr
    raw = tmp_path / "agents" / "0a1b2c3d" / "planner" / "raw_output.jsonl"
    types = [json.loads(line)["type"] for line in raw.read_text().splitlines()]
    assert types == ["system", "assistant", "assistant", "user", "assistant"]
    # No result line: the assistant messages count, the split one once.
    assert (result.input_tokens, result.cache_read_tokens, result.cache_creation_tokens) == (
        1000,
        6000,
        500,
    )
    assert result.output_tokens == 300 and result.usage_source == "messages"
    assert result.num_turns == 2 and result.duration_ms >= 2000


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
    # Day of month and day of week both restricted: either one fires (cron and croniter agree).
    assert cron.cron_matches("0 9 1 * 1", datetime(2024, 1, 8, 9, 0))  # a Monday, not the 1st
    assert cron.cron_matches("0 9 1 * 1", datetime(2024, 2, 1, 9, 0))  # the 1st, a Thursday
    assert cron.cron_matches("0 0 * * 7", datetime(2024, 1, 7))  # 7 is Sunday, like 0
    assert cron.cron_matches("0 0 * * sun", datetime(2024, 1, 7))
    with pytest.raises(ValueError, match="never fires"):
        cron.parse_cron("0 0 30 2 *")


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


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        (".env", True),
        ("a/b/.env.local", True),
        ("deploy/.ENV.Production", True),
        (".env.example", False),
        ("x/.env.local.sample", False),
        (".env.TEMPLATE", False),
        (".env.dist", False),
        ("env.py", False),
        (".envrc", False),
        ("docs/.env.md.bak/readme", False),
    ],
)
def test_secret_file_names(path: str, secret: bool) -> None:
    from adw_modules.git_ops import is_secret_file

    assert is_secret_file(path) is secret


def test_a_first_commit_leaves_secret_files_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adw_modules import git_ops

    no_git_identity(monkeypatch)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    (repo / ".env").write_text("KEY=1\n")
    (repo / ".env.example").write_text("KEY=\n")
    (repo / "app.py").write_text("print(1)\n")
    step = git_ops.commit_all("first", repo)  # no HEAD yet: unstaged with git rm --cached
    assert step.ok and step.withheld == (".env",) and "secret files left out: .env" in step.message
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        ".env.example",
        "app.py",
    ]
    assert (repo / ".env").read_text() == "KEY=1\n"
    again = git_ops.commit_all("second", repo)  # only the secret changed: nothing to commit
    assert (
        again.ok and again.withheld == (".env",) and again.message.startswith("nothing to commit")
    )
    assert git(repo, "status", "--porcelain", "--", ".env").startswith("??")  # untracked again


def test_the_review_diff_never_shows_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adw_modules import git_ops

    no_git_identity(monkeypatch)
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    git(repo, "init", "-q")
    for name in (".env", "sub/.ENV.local", "app.py"):
        (repo / name).write_text("old\n")
    git(repo, "add", "-f", ".")
    git(repo, "-c", "user.email=d@example.com", "-c", "user.name=D", "commit", "-q", "-m", "x")
    for name in (".env", "sub/.ENV.local", "app.py"):
        (repo / name).write_text(f"new-{name}\n")
    summary = git_ops.diff_summary(repo)
    assert "new-app.py" in summary
    assert "new-.env" not in summary and "new-sub/.ENV.local" not in summary
