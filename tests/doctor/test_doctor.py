"""``doctor``: a healthy project is healthy; each planted defect is reported; --fix repairs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_support import Run

from tac_bootstrap_cli.doctor.claude import rule_problem, unquoted_project_dir
from tac_bootstrap_cli.projectstate import BASES_PATH, MANIFEST_PATH

from .conftest import doctor_json, findings

PRE = ".claude/hooks/pre_tool_use.py"


def test_healthy_project_reports_healthy(cli: Run, project: Path) -> None:
    result = cli("doctor", project)
    assert result.exit_code == 0, result.output
    assert "Healthy" in result.stdout
    code, report = doctor_json(cli, project)
    assert code == 0 and report["healthy"] is True and report["fixed"] == []
    assert findings(report, "fail") == [] and findings(report, "warn") == []
    names = {c["name"] for c in report["checks"]}
    assert {"config", "manifest", "files", "settings", "hooks", "commands", "agents"} <= names
    assert {"database", "tools.uv", "tools.agent", "gitignore", "bases"} <= names


def plant_settings_mistakes(project: Path) -> None:
    path = project / ".claude/settings.json"
    data = json.loads(path.read_text())
    hooks = data["hooks"]
    hooks["preToolUse"] = hooks.pop("PostToolUse")  # a known event, miscased
    hooks["FutureEvent"] = hooks["Stop"]  # unknown to us: a warning only
    hooks["Notification"][0]["matcher"] = 5
    hooks["Stop"][0]["hooks"][0]["timeout"] = 60000
    hooks["PreToolUse"][0]["hooks"][0]["async"] = True
    hooks["PreCompact"][0]["hooks"][0]["async"] = "yes"
    cmd = hooks["PreToolUse"][0]["hooks"][0]["command"]
    hooks["PreToolUse"][0]["hooks"][0]["command"] = (
        cmd.replace('"$CLAUDE_PROJECT_DIR"', "$CLAUDE_PROJECT_DIR") + " || true"
    )
    data["permissions"]["allow"].append("SlashCommand")
    data["permissions"]["ask"].append("Task")
    path.write_text(json.dumps(data, indent=2))


def test_each_planted_defect_is_reported(cli: Run, project: Path) -> None:
    plant_settings_mistakes(project)
    (project / ".claude/hooks/stop.py").unlink()  # missing hook script
    (project / ".claude/hooks/notification.py").chmod(0o644)  # not executable
    (project / ".claude/hooks/session_end.py").write_text("def broken(:\n")  # does not compile
    (project / "ai_docs/README.md").unlink()  # a generated file missing
    (project / ".claude/commands/bug.md").write_text("---\ndescription: [unclosed\n---\nx\n")
    (project / ".claude/commands/chore.md").write_text("---\ndescription: d\n---\nFix $1 now\n")
    (project / ".claude/agents/builder.md").write_text("---\ndescription: builds\n---\nx\n")
    db = project / "agents/orchestrator.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database, but it is long enough to look like one " * 20)
    gitignore = project / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("/agents/\n", ""))  # edited block

    code, report = doctor_json(cli, project)
    assert code == 1 and report["healthy"] is False
    fails = "\n".join(findings(report, "fail"))
    warns = "\n".join(findings(report, "warn"))
    for expected in (
        "'preToolUse' is miscased",
        "matcher 5 is not a string",
        "timeout 60000 looks like milliseconds",
        "guard runs in the background (async), so it can block nothing",
        "async 'yes' is not true or false",
        "$CLAUDE_PROJECT_DIR is not inside double quotes",
        "can never block",
        "tool 'SlashCommand' no longer exists",
        "hook script(s) missing: .claude/hooks/stop.py",
        "not executable: .claude/hooks/notification.py",
        "do not compile: .claude/hooks/session_end.py:1",
        "bug.md: frontmatter is not valid YAML",
        "chore.md: uses a positional argument like $1",
        "builder.md: name None missing or invalid",
        "agents/orchestrator.db does not open",
        ".gitignore does not ignore agents/",
    ):
        assert expected in fails, expected
    for expected in (
        "'FutureEvent' is unknown",
        "tool 'Task' was renamed",
        "edited since generated",
    ):
        assert expected in warns, expected
    for check in report["checks"]:  # every problem comes with a one-line remedy
        if check["status"] != "ok":
            assert check["remedy"] and "\n" not in check["remedy"], check
    human = cli("doctor", project)
    assert human.exit_code == 1 and "problems" in human.stdout and "->" in human.stdout


def make_v1_database(path: Path) -> None:
    from tac_bootstrap_cli._adws.adw_modules.adw_database import MIGRATIONS

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0].script)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_fix_repairs_what_it_can_and_leaves_user_edits_alone(cli: Run, project: Path) -> None:
    from tac_bootstrap_cli._adws.adw_modules.adw_database import SCHEMA_VERSION

    settings = project / ".claude/settings.json"
    settings.write_text(settings.read_text().replace('"timeout": 60', '"timeout": 60000', 1))
    edited = settings.read_bytes()
    (project / PRE).unlink()
    (project / ".claude/hooks/stop.py").chmod(0o644)
    (project / "specs/README.md").unlink()
    gitignore = project / ".gitignore"
    gitignore.write_text("node_modules/\n")  # the managed block is gone
    make_v1_database(project / "agents/orchestrator.db")
    (project / BASES_PATH).unlink()

    code, before = doctor_json(cli, project)
    assert code == 1
    fixable = {c["name"] for c in before["checks"] if c["fixable"]}
    # A deleted specs/README.md is a deletion, kept as upgrade keeps it (changed by the issue
    # "correct where it was only plausible": --fix restored it before).
    assert {"hooks", "database", "gitignore", "bases"} <= fixable and "files" not in fixable

    code, after = doctor_json(cli, project, "--fix")
    assert code == 1  # the millisecond timeout is the user's edit: reported, not changed
    fixed = "\n".join(after["fixed"])
    for expected in (
        f"restored {PRE}",
        "made .claude/hooks/stop.py executable",
        "migrated orchestrator.db from schema v1",
        "restored .gitignore",
        "recorded the bases",
    ):
        assert expected in fixed, expected
    assert [c["name"] for c in after["checks"] if c["status"] == "fail"] == ["settings.hooks"]
    assert settings.read_bytes() == edited
    assert not (project / "specs/README.md").exists()
    assert (project / PRE).stat().st_mode & 0o100
    assert gitignore.read_text().startswith("node_modules/\n")  # the user's line kept
    version = sqlite3.connect(project / "agents/orchestrator.db").execute("PRAGMA user_version")
    assert version.fetchone()[0] == SCHEMA_VERSION
    assert list((project / "agents").glob("orchestrator.db.bak-*"))


def test_missing_manifest_and_invalid_config(cli: Run, project: Path) -> None:
    (project / MANIFEST_PATH).unlink()
    config = project / "config.yml"
    config.write_text(config.read_text().replace("language: python", "language: cobol"))
    code, report = doctor_json(cli, project)
    assert code == 1
    fails = "\n".join(findings(report, "fail"))
    assert "manifest.json missing" in fails
    assert "config.yml:" in fails and "cobol" in fails


def test_missing_uv_fails_and_missing_agent_cli_warns(
    cli: Run, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CLAUDE_CODE_PATH")
    code, report = doctor_json(cli, project)
    assert code == 1
    assert any(f.startswith("tools.uv: uv not found") for f in findings(report, "fail"))
    assert any(f.startswith("tools.agent: agent CLI 'claude'") for f in findings(report, "warn"))


def test_not_a_folder_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    assert cli("doctor", tmp_path / "nope").exit_code == 2


@pytest.mark.parametrize(
    ("command", "unquoted"),
    [
        ('"$CLAUDE_PROJECT_DIR"/.claude/hooks/x.py', False),
        ('uv run "${CLAUDE_PROJECT_DIR}/x.py"', False),
        ("uv run $CLAUDE_PROJECT_DIR/x.py", True),
        ("uv run '$CLAUDE_PROJECT_DIR/x.py'", True),
        ('echo "a" $CLAUDE_PROJECT_DIR', True),
        ('echo "\\"$CLAUDE_PROJECT_DIR\\""', False),
        ("echo $CLAUDE_PROJECT_DIRX", False),
    ],
)
def test_project_dir_quoting(command: str, unquoted: bool) -> None:
    assert unquoted_project_dir(command) is unquoted


def test_permission_rule_syntax_and_background_hooks(cli: Run, project: Path) -> None:
    """Rules Claude Code rejects (and then skips the whole file for) and rules that can never
    match are failures with a remedy; an async layer hook loses its events in `claude -p`."""
    path = project / ".claude/settings.json"
    data = json.loads(path.read_text())
    data["permissions"]["deny"] += ["Bash(rm -rf /*:*)", "bash(ls:*)", "Bash(ls", "Read ./x"]
    data["hooks"]["PostToolUse"][0]["hooks"][0]["async"] = True
    path.write_text(json.dumps(data, indent=2))
    code, report = doctor_json(cli, project)
    assert code == 1
    checks = {c["message"]: c for c in report["checks"] if c["status"] != "ok"}
    mixed = next(c for m, c in checks.items() if "'Bash(rm -rf /*:*)' mixes *" in m)
    assert mixed["status"] == "fail" and "skips this settings file" in mixed["message"]
    assert "Bash(rm -rf /:*)" in mixed["remedy"] and "Bash(rm -rf /*)" in mixed["remedy"]
    fails = "\n".join(findings(report, "fail"))
    assert "'bash(ls:*)' tool 'bash' is miscased" in fails
    assert "'Bash(ls' unbalanced parentheses" in fails
    assert "'Read ./x' 'Read ./x' is not a tool name" in fails
    warns = "\n".join(findings(report, "warn"))
    assert "hooks.PostToolUse: runs in the background (async)" in warns
    for check in report["checks"]:
        if check["status"] != "ok":
            assert check["remedy"] and "\n" not in check["remedy"], check


def test_invalid_settings_json_says_claude_code_skips_the_file(cli: Run, project: Path) -> None:
    path = project / ".claude/settings.json"
    path.write_text(path.read_text().replace('"hooks": {', '"hooks": {,', 1))
    code, report = doctor_json(cli, project)
    assert code == 1
    (message,) = [f for f in findings(report, "fail") if f.startswith("settings:")]
    assert "not valid JSON" in message and "skips the whole file" in message


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("Bash(npm test:*)", None),
        ("Bash(rm -rf /:*)", None),
        ("Bash(npm run *)", None),
        ("Read(./.env.*)", None),
        ("WebFetch", None),
        ("mcp__github__create_issue", None),
        ("Bash(rm -rf /*:*)", "mixes *"),
        ("Bash(git * main:*)", "mixes *"),
        ("Bash(ls", "unbalanced"),
        ("WEBFETCH", "miscased"),
        ("Bash ls", "not a tool name"),
    ],
)
def test_rule_problem(rule: str, problem: str | None) -> None:
    found = rule_problem(rule)
    assert (found is None) if problem is None else (found is not None and problem in found[0])
