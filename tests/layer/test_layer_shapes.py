"""The generated agentic layer has the documented shapes, for every stack (no subprocess but ruff).

The Claude Code facts these checks encode (hook events, seconds timeouts, exit code 2, tool names,
frontmatter keys, 0-based positional arguments) are listed with their sources in
specs/agentic-layer.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from layer_support import STACKS, config_for, rendered, write_project

from tac_bootstrap_cli.claude_facts import rule_problem
from tac_bootstrap_cli.render import BASE_MODULES, templates_root

HOOK_EVENTS = {
    "PreToolUse": "pre_tool_use",
    "PostToolUse": "post_tool_use",
    "UserPromptSubmit": "user_prompt_submit",
    "Notification": "notification",
    "Stop": "stop",
    "SubagentStop": "subagent_stop",
    "PreCompact": "pre_compact",
    "SessionStart": "session_start",
    "SessionEnd": "session_end",
}
# Tools that exist in today's Claude Code and that the layer may name (see the spec for the list
# checked). SlashCommand is gone, Task was renamed Agent, MultiEdit/LS/NotebookRead/TodoRead are
# no longer listed: none of them may appear.
LAYER_TOOLS = {"Read", "Write", "Edit", "Glob", "Grep", "Bash", "WebFetch", "WebSearch"}
REMOVED_TOOLS = {"SlashCommand", "Task", "MultiEdit", "LS", "NotebookRead", "TodoRead"}
COMMANDS = {
    "prime", "feature", "bug", "chore", "implement", "test", "review", "document",
    "commit", "pull_request", "classify_issue",
}  # fmt: skip
AGENTS = {"planner", "builder", "reviewer", "docs-writer"}
COMMAND_KEYS = {
    "description",
    "argument-hint",
    "allowed-tools",
    "model",
    "disable-model-invocation",
}
AGENT_KEYS = {"name", "description", "tools", "model", "color", "permissionMode"}
RULE = re.compile(r"^[A-Z][A-Za-z]+(\(.+\))?$")
PEP723 = re.compile(r"(?ms)^# /// script\n(.*?)^# ///$")
LAUNCHER = ".claude/hooks/run.sh"
WORKFLOWS = ["plan", "build", "test", "review", "document", "plan_build", "sdlc"]
ALL_STACKS = sorted(STACKS)


def text(stack: str, rel: str) -> str:
    """One rendered file as text."""
    return rendered(stack)[rel].content.decode("utf-8")


def frontmatter(source: str) -> tuple[dict[str, Any], str]:
    """The YAML frontmatter (must be a mapping) and the body of a Markdown file."""
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", source, re.S)
    assert match, "missing --- frontmatter ---"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    return data, match.group(2)


def tools_of(value: str) -> list[str]:
    """Tool names in an ``allowed-tools``/``tools`` value (``Bash(x:*)`` -> ``Bash``)."""
    names = []
    for item in re.split(r",\s*(?![^()]*\))", value):
        names.append(item.strip().split("(", 1)[0])
    return names


def check_settings(data: dict[str, Any], files: set[str]) -> None:
    """A small schema check of .claude/settings.json, as the docs describe it."""
    assert set(data) == {"$schema", "permissions", "hooks"}
    assert data["$schema"] == "https://json.schemastore.org/claude-code-settings.json"
    perms = data["permissions"]
    assert set(perms) <= {"allow", "ask", "deny", "defaultMode", "additionalDirectories"}
    for key in ("allow", "ask", "deny"):
        assert isinstance(perms[key], list) and perms[key]
        for rule in perms[key]:
            assert isinstance(rule, str) and RULE.match(rule), rule
            assert rule.split("(", 1)[0] in LAYER_TOOLS, rule
    assert set(data["hooks"]) == set(HOOK_EVENTS)
    for event, entries in data["hooks"].items():
        assert re.fullmatch(r"(?:[A-Z][a-z]+)+", event)  # PascalCase
        assert isinstance(entries, list) and len(entries) == 1
        entry = entries[0]
        assert set(entry) <= {"matcher", "hooks"}
        if "matcher" in entry:
            assert isinstance(entry["matcher"], str)
        for hook in entry["hooks"]:
            # No "async": `claude -p` cancels background hooks when it exits (events lost, and
            # SessionEnd may never run); the hooks record in-process in a few ms instead.
            assert set(hook) == {"type", "command", "timeout"}, event
            assert hook["type"] == "command"
            # Seconds: an int a human would pick, never a millisecond count.
            assert isinstance(hook["timeout"], int) and 1 <= hook["timeout"] <= 120
            command = hook["command"]
            script = f".claude/hooks/{HOOK_EVENTS[event]}.py"
            assert script in files and LAUNCHER in files
            assert "|| true" not in command and "|| exit 0" not in command
            assert not re.search(r"\b(pip|npm|npx|pnpm|yarn|go run|poetry)\b.*hook", command)
            check_launcher(event, command)


def check_launcher(event: str, command: str) -> None:
    """One short command per hook; the exit-code contract lives in the launcher (run.sh)."""
    # Claude Code repeats the command in every block message the model reads: keep it short.
    assert command == f'/bin/sh "$CLAUDE_PROJECT_DIR"/{LAUNCHER} {HOOK_EVENTS[event]}'
    assert len(command) < 80


def test_the_launcher_keeps_the_exit_code_contract() -> None:
    """uv exits 2 on its own errors and 2 means "block": only the guard may pass a 2 through."""
    source = text("go", LAUNCHER)
    assert source.count('[ "$hook" = pre_tool_use ]') == 2  # the guard's two fail-closed paths
    assert '[ "$1" -eq 2 ] && exit 2' in source  # only inside the guard's branch
    assert re.findall(r"exit (\d+)", source) == ["0", "2", "2", "1", "1", "2", "1"]
    assert "python3 -S -c" in source and 'uv run --quiet --script "$here/$hook.py"' in source
    assert "|| true" not in source and "async" not in source
    assert not rendered("go")[LAUNCHER].executable  # run through `sh`, no exec bit needed


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_settings_json_is_strict_json_with_the_documented_shape(stack: str) -> None:
    files = rendered(stack)
    data = json.loads(text(stack, ".claude/settings.json"))
    check_settings(data, set(files))


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_permissions_fit_the_stack(stack: str) -> None:
    perms = json.loads(text(stack, ".claude/settings.json"))["permissions"]
    commands = config_for(stack).commands
    for command in (commands.test, commands.lint, commands.run):
        assert f"Bash({command}:*)" in perms["allow"]
    assert f"Bash({commands.install}:*)" in perms["ask"]
    assert {
        "Read(./.env)",
        "Read(./**/.env.local)",
        "Edit(./**/.env.*.local)",
        "Bash(rm -rf /:*)",
        "Bash(git push --force origin main:*)",
        "Bash(git push -f origin master:*)",
    } <= set(perms["deny"])
    for rule in (r for key in ("allow", "ask", "deny") for r in perms[key]):
        # `*` with a trailing `:*` is a rule error: Claude Code would skip the whole file.
        assert rule_problem(rule) is None, rule
    # `.env.example` stays readable (Read rules apply to `cat` too, and cannot make exceptions).
    assert not [r for r in perms["deny"] if ".env.*)" in r or ".env*" in r]
    # Force pushes to feature branches stay allowed (the README and the guard say so).
    assert not [r for r in perms["deny"] if r.startswith("Bash(git push") and "main" not in r
                and "master" not in r]  # fmt: skip


def test_a_command_with_a_star_gets_no_prefix_rule() -> None:
    from tac_bootstrap_cli.render import render_project

    config = config_for("go")
    config = config.replace(
        commands=config.commands.replace(test="pytest tests/*", install="pip install -r req*.txt")
    )
    perms = json.loads(render_project(config.template_context())[".claude/settings.json"].content)
    rules = [r for key in ("allow", "ask", "deny") for r in perms["permissions"][key]]
    assert all(rule_problem(r) is None for r in rules)
    assert not [r for r in rules if "pytest" in r or "pip install" in r]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_json_file_parses(stack: str) -> None:
    json_files = [rel for rel in rendered(stack) if rel.endswith(".json")]
    assert ".claude/settings.json" in json_files
    for rel in json_files:
        json.loads(text(stack, rel))


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_commands_have_valid_frontmatter_and_use_arguments(stack: str) -> None:
    files = rendered(stack)
    found = {Path(rel).stem for rel in files if rel.startswith(".claude/commands/")}
    assert found >= COMMANDS
    for name in found:
        data, body = frontmatter(text(stack, f".claude/commands/{name}.md"))
        assert set(data) <= COMMAND_KEYS, name
        assert isinstance(data["description"], str) and data["description"].strip()
        assert isinstance(data["argument-hint"], str)
        tools = tools_of(data["allowed-tools"])
        assert set(tools) <= LAYER_TOOLS and not set(tools) & REMOVED_TOOLS, (name, tools)
        assert "$ARGUMENTS" in body, name
        # Positional arguments are 0-based today; $1 in an old template means the second word.
        assert not re.search(r"\$\d|\$ARGUMENTS\[", body), name
    commands = config_for(stack).commands
    assert commands.test in text(stack, ".claude/commands/test.md")
    assert commands.lint in text(stack, ".claude/commands/implement.md")
    assert commands.run in text(stack, ".claude/commands/prime.md")


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_agents_have_valid_frontmatter(stack: str) -> None:
    files = rendered(stack)
    found = {Path(rel).stem for rel in files if rel.startswith(".claude/agents/")}
    assert found >= AGENTS
    for name in found:
        data, body = frontmatter(text(stack, f".claude/agents/{name}.md"))
        assert set(data) <= AGENT_KEYS and {"name", "description", "tools", "model"} <= set(data)
        assert data["name"] == name and re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name)
        assert isinstance(data["description"], str) and data["description"].strip()
        assert set(tools_of(data["tools"])) <= LAYER_TOOLS
        assert data["model"] in {"sonnet", "opus", "haiku", "inherit"}
        assert body.strip()


@pytest.mark.parametrize(
    ("configured", "rendered_as"),
    [
        ("opus", "opus"),
        ("inherit", "inherit"),
        # Claude Code takes full model ids too (sub-agents docs: alias, full id or inherit).
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001"),
        (
            "us.anthropic.claude-opus-4-1-20250805-v1:0",
            "us.anthropic.claude-opus-4-1-20250805-v1:0",
        ),
        ("gpt-4o", "inherit"),
        ("claude sonnet", "inherit"),
        ("sonnet\nname: evil", "inherit"),
    ],
)
def test_agent_model_follows_config_and_never_falls_back_silently(
    configured: str, rendered_as: str
) -> None:
    from tac_bootstrap_cli.render import render_project

    config = config_for("go")
    config = config.replace(agent=config.agent.replace(model=configured))
    files = render_project(config.template_context())
    for agent in AGENTS:
        source = files[f".claude/agents/{agent}.md"].content.decode()
        data, _ = frontmatter(source)
        assert data["model"] == rendered_as and data["name"] == agent
        model_line = next(line for line in source.splitlines() if line.startswith("model:"))
        if rendered_as != configured:  # the fallback says why, in the file the user reads
            assert "not a Claude Code model alias" in model_line
            assert json.dumps(configured) in model_line
        else:
            assert "#" not in model_line


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_hooks_and_workflows_are_pep723_uv_scripts(stack: str) -> None:
    files = rendered(stack)
    scripts = [f".claude/hooks/{name}.py" for name in HOOK_EVENTS.values()]
    scripts += [f"adws/adw_{name}.py" for name in WORKFLOWS]
    scripts += ["adws/adw_status.py", "adws/adw_triggers/trigger_cron.py"]
    for rel in scripts:
        source = text(stack, rel)
        assert source.startswith("#!/usr/bin/env -S uv run --script\n"), rel
        meta = tomllib.loads(
            "\n".join(line[2:] for line in PEP723.search(source).group(1).splitlines())
        )
        assert meta["requires-python"] == ">=3.11"
        if rel.startswith(".claude/hooks/"):  # standard library only: no uv environment needed
            assert meta["dependencies"] == [], rel
        else:
            assert any(dep.startswith("pydantic") for dep in meta["dependencies"])
        assert files[rel].executable, rel
        assert 'if __name__ == "__main__":' in source
    assert "sys.stdin" in text(stack, ".claude/hooks/_hook_support.py")


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_python_file_compiles(stack: str) -> None:
    for rel, file in rendered(stack).items():
        if rel.endswith(".py"):
            compile(file.content, rel, "exec")


def ruff(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """This repository's ruff (as pinned in uv.lock), run from ``root`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", "."],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip


# A user's own Python project at the root: stricter rules and ruff's default line length.
USER_PYPROJECT = """\
[project]
name = "user-app"
version = "0.1.0"
requires-python = ">=3.11"

[tool.ruff]
line-length = 88

[tool.ruff.lint]
select = ["ALL"]
ignore = ["D203", "D213", "COM812"]
"""


@pytest.mark.parametrize("stack", ALL_STACKS)
@pytest.mark.parametrize("user_config", [False, True], ids=["alone", "under-user-ruff-config"])
def test_layer_python_passes_ruff_check_and_format_from_the_project_root(
    stack: str, user_config: bool, tmp_path: Path
) -> None:
    """`ruff check .` and `ruff format --check .` in a generated project (outside this repo).

    The layer ships its own ruff settings (adws/pyproject.toml, .claude/hooks/ruff.toml) and ruff
    uses the closest one, so the project's lint/format commands never flag or rewrite the layer
    (a reformatted file would look like a user edit to upgrade and doctor), whatever ruff's
    defaults or the project's own [tool.ruff] say.
    """
    root = write_project(tmp_path / "project", stack)
    python = [p.relative_to(root).as_posix() for p in root.rglob("*.py")]
    assert python and all(p.startswith(("adws/", ".claude/hooks/")) for p in python)
    if user_config:
        (root / "pyproject.toml").write_text(USER_PYPROJECT, encoding="utf-8")
    for args in (["check"], ["format", "--check"]):
        proc = ruff(root, *args)
        assert proc.returncode == 0, (args, proc.stdout + proc.stderr)
    if user_config:  # the user's settings still apply to the user's own code
        (root / "app.py").write_text("import os\n", encoding="utf-8")
        assert ruff(root, "check").returncode == 1


def test_layer_ruff_settings_agree_with_the_base_modules() -> None:
    """One style for the layer: the base modules are formatted with this repository's settings."""
    generator = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())[
        "tool"
    ]["ruff"]
    adws_ruff = tomllib.loads(text("go", "adws/pyproject.toml"))["tool"]["ruff"]
    hooks_ruff = tomllib.loads(text("go", ".claude/hooks/ruff.toml"))
    assert adws_ruff["line-length"] == hooks_ruff["line-length"] == generator["line-length"]
    assert adws_ruff["target-version"] == hooks_ruff["target-version"] == "py311"
    assert adws_ruff["lint"] == hooks_ruff["lint"]
    assert adws_ruff["lint"]["select"]  # explicit: a newer ruff's defaults change nothing


def test_python_in_templates_is_never_jinja() -> None:
    """Python sources are copied verbatim, so no answer can break their syntax or quoting."""
    assert not list(templates_root().rglob("*.py.j2"))


def test_base_modules_are_the_generators_own() -> None:
    from tac_bootstrap_cli.render import render_project
    from tac_bootstrap_cli.render.engine import base_module_source

    files = render_project(config_for("go").template_context())  # fresh: compared with disk now
    for rel in BASE_MODULES:
        assert files[rel].content == base_module_source(rel).read_bytes()
        assert not (templates_root() / rel).exists()  # never duplicated in templates/


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_gitignore_and_readme_blocks(stack: str) -> None:
    gitignore = text(stack, ".gitignore")
    assert "/agents/" in gitignore.splitlines()
    readme = text(stack, "README.md")
    assert "uv" in readme and "adw_plan_build.py" in readme and "cd adws && uv run pytest" in readme
    assert config_for(stack).commands.test in readme


def test_gitignore_covers_a_database_outside_agents() -> None:
    from tac_bootstrap_cli.render import render_project

    config = config_for("go")
    config = config.replace(database=config.database.replace(path="data/run.db"))
    files = render_project(config.template_context())
    lines = files[".gitignore"].content.decode().splitlines()
    assert {"/data/run.db", "/data/run.db-wal", "/agents/"} <= set(lines)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_layer_folders_and_suite_exist(stack: str) -> None:
    files = set(rendered(stack))
    expected = {
        "adws/adw_modules/agent.py", "adws/adw_modules/state.py", "adws/adw_modules/git_ops.py",
        "adws/adw_modules/workflow_ops.py", "adws/adw_modules/data_types.py",
        "adws/adw_modules/utils.py", "adws/adw_tests/fake_claude.py", "adws/adw_tests/conftest.py",
        "adws/pyproject.toml", "specs/README.md", "specs/inbox/.gitkeep", "ai_docs/README.md",
        "app_docs/README.md",
    }  # fmt: skip
    assert expected <= files
    assert rendered(stack)["adws/adw_tests/fake_claude.py"].executable


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_readme_tells_the_truth_about_running_without_uv(stack: str) -> None:
    """Every hook runs with the system python3 first (standard library only), so without uv they
    all still work (tests/layer/test_layer_runtime.py runs that); only with neither python3 nor uv
    does the guard block every tool call."""
    guard = json.loads(text(stack, ".claude/settings.json"))["hooks"]["PreToolUse"][0]["hooks"][0]
    assert guard["command"].endswith("run.sh pre_tool_use")
    assert "python3 -S -c" in text(stack, LAUNCHER)
    readme = " ".join(text(stack, "README.md").split())
    assert "Without uv the PreToolUse guard blocks every tool call" not in readme
    assert (
        "Without uv, every hook still works: they run with the system `python3` (3.11 or newer,"
        " standard library only)" in readme
    )
    assert "only with neither `python3` nor uv does the guard block every tool call" in readme
