"""``add-agentic`` and ``render`` on existing projects: detection, user files, edits, symlinks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_support import Run, snapshot

from tac_bootstrap_cli.projectstate import MANIFEST_PATH, load_bases

FASTAPI_PROJECT = {
    "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["fastapi", "uvicorn"]\n'
    '[dependency-groups]\ndev = ["pytest", "ruff"]\n',
    "uv.lock": "",
    "app": {"main.py": "from fastapi import FastAPI\napp = FastAPI()\n"},
    "README.md": "# Shop\n\nOur shop.\n",
    ".gitignore": "__pycache__/\n.venv",
}


def test_detected_stack_and_commands_reach_config(
    cli: Run, tree: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    monkeypatch.chdir(project)
    result = cli("add-agentic")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["project"] == {
        "name": "shop",
        "language": "python",
        "framework": "fastapi",
        "package_manager": "uv",
    }
    assert config["commands"]["run"] == "uv run uvicorn app.main:app --reload"
    assert config["commands"]["lint"] == "uv run ruff check ."
    # the detected commands reach the rendered layer too
    rendered = "".join(
        p.read_text()
        for p in (project / ".claude").rglob("*")
        if p.is_file() and p.suffix in (".md", ".json")
    )
    assert "uv run pytest" in rendered


def test_users_readme_and_gitignore_are_merged_not_replaced(
    cli: Run, tree: Callable[..., Path]
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    assert cli("add-agentic", project).exit_code == 0
    readme = (project / "README.md").read_text()
    assert readme.startswith("# Shop\n\nOur shop.\n")
    assert "<!-- >>> tac-bootstrap >>> -->" in readme
    gitignore = (project / ".gitignore").read_text()
    assert gitignore.startswith("__pycache__/\n.venv\n")
    assert "# >>> tac-bootstrap >>>" in gitignore
    # the user edits their part; a rerun keeps it and changes nothing
    (project / "README.md").write_text("# Shop v2\n" + readme.split("\n", 1)[1])
    before = snapshot(project)
    again = cli("add-agentic", project)
    assert again.exit_code == 0, again.output
    assert "wrote 0 files" in again.stdout
    assert snapshot(project) == before


def test_user_edit_is_kept_and_listed_then_forced(cli: Run, tree: Callable[..., Path]) -> None:
    # A command file, not settings.json: an edited settings file is merged, and --force keeps
    # the user's keys in it (tests/security/test_settings_merge.py).
    project = tree(FASTAPI_PROJECT, name="shop")
    assert cli("add-agentic", project).exit_code == 0
    prime = project / ".claude" / "commands" / "prime.md"
    edited = prime.read_text() + "\nmine\n"
    prime.write_text(edited)
    result = cli("add-agentic", project, "--framework", "django")
    assert result.exit_code == 0, result.output
    assert prime.read_text() == edited
    assert "keep-user-edit" in result.stderr and ".claude/commands/prime.md" in result.stderr
    forced = cli("add-agentic", project, "--force")
    assert forced.exit_code == 0
    assert "mine" not in prime.read_text()


def test_files_that_existed_before_are_conflicts(cli: Run, tree: Callable[..., Path]) -> None:
    mine = "# our own feature command\n"
    project = tree({**FASTAPI_PROJECT, ".claude": {"commands": {"feature.md": mine}}}, name="shop")
    result = cli("add-agentic", project)
    assert result.exit_code == 0
    assert (project / ".claude" / "commands" / "feature.md").read_text() == mine
    assert "conflict" in result.stderr
    manifest = json.loads((project / MANIFEST_PATH).read_text())
    assert ".claude/commands/feature.md" not in manifest["files"]


EXISTING_SETTINGS = {
    "model": "opus",
    "permissions": {"allow": ["Bash(make:*)"], "deny": ["Read(./secrets/**)"]},
    "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo done"}]}]},
}


def test_existing_claude_settings_are_merged_key_by_key(
    cli: Run, tree: Callable[..., Path]
) -> None:
    settings_json = json.dumps(EXISTING_SETTINGS)
    project = tree({**FASTAPI_PROJECT, ".claude": {"settings.json": settings_json}}, name="shop")
    result = cli("add-agentic", project)
    assert result.exit_code == 0, result.output
    merged = json.loads((project / ".claude" / "settings.json").read_text())
    # What the user had stays, in its place, and ours is added beside it.
    assert merged["model"] == "opus"
    assert merged["permissions"]["allow"][0] == "Bash(make:*)"
    assert "Bash(uv run pytest:*)" in merged["permissions"]["allow"]
    assert merged["permissions"]["deny"][0] == "Read(./secrets/**)"
    stop = [h["command"] for entry in merged["hooks"]["Stop"] for h in entry["hooks"]]
    assert stop[0] == "echo done" and stop[1].endswith("run.sh stop")
    assert "PreToolUse" in merged["hooks"]
    assert "conflict" not in result.stderr
    # The manifest records our rendering, so the user's keys count as their edit from now on:
    # a rerun merges against our rendering (nothing new: not written, not listed), as upgrade does.
    recorded = json.loads((project / MANIFEST_PATH).read_text())["files"][".claude/settings.json"]
    base = load_bases(project)[recorded["sha256"]]
    assert hashlib.sha256(base).hexdigest() == recorded["sha256"]
    assert b"opus" not in base and b"PreToolUse" in base
    before = snapshot(project)
    again = cli("add-agentic", project)
    assert again.exit_code == 0 and snapshot(project) == before
    assert "settings.json" not in again.stderr


@pytest.mark.parametrize(
    ("existing", "why", "replaced_by_force"),
    [
        # never overwritten, even forced: its keys cannot be read, so they would be lost
        ('{"model": "opus",', "not valid JSON: line 1, column 18", False),
        ('["a list"]', "not a JSON object", True),
    ],
)
def test_existing_settings_that_cannot_be_merged_are_kept_and_listed(
    cli: Run, tree: Callable[..., Path], existing: str, why: str, replaced_by_force: bool
) -> None:
    project = tree({**FASTAPI_PROJECT, ".claude": {"settings.json": existing}}, name="shop")
    result = cli("add-agentic", project)
    assert result.exit_code == 0, result.output
    assert (project / ".claude" / "settings.json").read_text() == existing
    assert "conflict" in result.stderr and why in result.stderr
    forced = cli("add-agentic", project, "--force")
    assert forced.exit_code == 0, forced.output
    if replaced_by_force:
        hooks = json.loads((project / ".claude" / "settings.json").read_text())["hooks"]
        assert "PreToolUse" in hooks
    else:
        assert (project / ".claude" / "settings.json").read_text() == existing
        assert why in forced.stderr


def test_existing_settings_value_that_differs_from_ours_is_kept_and_listed(
    cli: Run, tree: Callable[..., Path]
) -> None:
    # Was: the whole file kept as a conflict. Now the rest is merged and the one value is listed.
    existing = '{"hooks": "none"}'
    project = tree({**FASTAPI_PROJECT, ".claude": {"settings.json": existing}}, name="shop")
    result = cli("add-agentic", project)
    assert result.exit_code == 0, result.output
    merged = json.loads((project / ".claude" / "settings.json").read_text())
    assert merged["hooks"] == "none" and "Bash(uv run pytest:*)" in merged["permissions"]["allow"]
    assert "merge-conflict" in result.stderr and 'hooks: yours "none" kept' in result.stderr
    forced = cli("add-agentic", project, "--force")
    assert forced.exit_code == 0, forced.output
    assert "PreToolUse" in json.loads((project / ".claude" / "settings.json").read_text())["hooks"]


def test_symlink_leading_outside_is_not_followed_even_with_force(
    cli: Run, tree: Callable[..., Path], tmp_path: Path
) -> None:
    outside = tmp_path / "dotfiles"
    outside.mkdir()
    project = tree(FASTAPI_PROJECT, name="shop")
    (project / ".claude").symlink_to(outside)
    for extra in ([], ["--force"]):
        result = cli("add-agentic", project, *extra)
        assert result.exit_code == 0, result.output
        assert list(outside.iterdir()) == []
        assert "symlink leading outside" in result.stderr


def test_dry_run_writes_nothing(cli: Run, tree: Callable[..., Path]) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    before = snapshot(project)
    result = cli("add-agentic", project, "--dry-run")
    assert result.exit_code == 0
    assert "Plan:" in result.stdout and "create" in result.stdout
    assert snapshot(project) == before


def test_not_a_folder_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    result = cli("add-agentic", tmp_path / "missing")
    assert result.exit_code == 2 and "is not a folder" in result.stderr


def test_folder_name_that_is_no_project_name_asks_for_name(cli: Run, tmp_path: Path) -> None:
    odd = tmp_path / "-odd"  # a name may not start with '-' (it would read as an option)
    odd.mkdir()
    result = cli("add-agentic", odd)
    assert result.exit_code == 2 and "--name" in result.stderr
    assert cli("add-agentic", odd, "--name", "numbers").exit_code == 0


def test_pip_project_installs_the_requirement_files_it_has(
    cli: Run, tree: Callable[..., Path]
) -> None:
    project = tree({"requirements-dev.txt": "pytest\nruff\n", "tests": {}}, name="tool")
    result = cli("add-agentic", project)
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["project"]["package_manager"] == "pip"
    assert config["commands"]["install"] == "python -m pip install -r requirements-dev.txt"


def test_package_manager_implies_the_language_when_nothing_is_detected(
    cli: Run, tree: Callable[..., Path]
) -> None:
    project = tree({"notes.txt": "no stack here\n"}, name="blank")
    result = cli("add-agentic", project, "--package-manager", "cargo")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["project"]["language"] == "rust"
    assert config["commands"]["test"] == "cargo test"


def test_package_manager_does_not_override_a_detected_language(
    cli: Run, tree: Callable[..., Path]
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    result = cli("add-agentic", project, "--package-manager", "npm")
    assert result.exit_code == 2
    assert "package manager 'npm' does not fit python" in result.stderr
    assert not (project / "config.yml").exists()


# --- render ----------------------------------------------------------------------------------------


def test_render_applies_an_edited_config_and_never_writes_it(
    cli: Run, tree: Callable[..., Path]
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    assert cli("add-agentic", project).exit_code == 0
    config = project / "config.yml"
    text = config.read_text().replace("test: uv run pytest", "test: uv run pytest -x --ff")
    config.write_text(text + "# my note\n")
    result = cli("render", project)
    assert result.exit_code == 0, result.output
    assert "update" in result.stdout
    assert config.read_text() == text + "# my note\n"
    rendered = "".join(p.read_text() for p in (project / ".claude").rglob("*.md") if p.is_file())
    assert "uv run pytest -x --ff" in rendered
    before = snapshot(project)
    again = cli("render", project)
    assert again.exit_code == 0 and "wrote 0 files" in again.stdout
    assert snapshot(project) == before


def test_malformed_config_names_file_line_and_key(cli: Run, tree: Callable[..., Path]) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    assert cli("add-agentic", project).exit_code == 0
    config = project / "config.yml"
    lines = config.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("retries:"))
    lines[index] = "    retries: many"
    config.write_text("\n".join(lines) + "\n")
    result = cli("render", project)
    assert result.exit_code == 2
    assert f"config.yml:{index + 1}: workflows.on_failure.retries:" in result.stderr
    assert "Traceback" not in result.output


def test_render_without_config_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    result = cli("render", tmp_path)
    assert result.exit_code == 2 and "config.yml: not found" in result.stderr


def test_render_after_deleting_a_file_recreates_it(cli: Run, tree: Callable[..., Path]) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    assert cli("add-agentic", project).exit_code == 0
    (project / "specs" / "README.md").unlink()
    result = cli("render", project)
    assert result.exit_code == 0
    assert (project / "specs" / "README.md").is_file()


def test_records_folder_leading_outside_stops_before_any_write(
    cli: Run, tree: Callable[..., Path], tmp_path: Path
) -> None:
    project = tree(FASTAPI_PROJECT, name="linked")
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / ".tac-bootstrap").symlink_to(outside)
    before = snapshot(project)
    result = cli("add-agentic", project, "--yes")
    assert result.exit_code == 1, result.output
    assert ".tac-bootstrap" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(project) == before
    assert list(outside.iterdir()) == []


def test_unwritable_folder_names_the_file_and_how_to_finish(
    cli: Run, tree: Callable[..., Path], freeze: Callable[[Path], None]
) -> None:
    project = tree({**FASTAPI_PROJECT, ".claude": {}}, name="frozen")
    freeze(project / ".claude")
    result = cli("add-agentic", project, "--yes")
    assert result.exit_code == 1, result.output
    assert "unexpected" not in result.stderr
    assert f"cannot write {project / '.claude'}" in result.stderr
    assert f"rerun `tac-bootstrap add-agentic {project} --yes`" in result.stderr


def test_commands_that_the_project_lacks_are_named_not_silently_proposed(
    cli: Run, tree: Callable[..., Path]
) -> None:
    package = {"name": "web", "scripts": {"test": "vitest run", "dev": "vite"},
               "devDependencies": {"vitest": "2", "vite": "5", "prettier": "3"}}  # fmt: skip
    project = tree({"package.json": json.dumps(package), "pnpm-lock.yaml": ""}, name="web")
    result = cli("add-agentic", project)
    assert result.exit_code == 0, result.output
    commands = yaml.safe_load((project / "config.yml").read_text())["commands"]
    assert commands["test"] == "pnpm test" and commands["run"] == "pnpm run dev"
    assert commands["format"] == "pnpm exec prettier --write ."  # a dependency, not a script
    # No lint script and no linter: the stack default stays (the templates need a command), and
    # the output says it will fail until the project has one.
    assert commands["lint"] == "pnpm run lint"
    assert "note: package.json has no lint script" in result.stdout
    assert "commands.lint" in result.stdout and "format script" not in result.stdout


def test_src_layout_fastapi_runs_its_own_module(cli: Run, tree: Callable[..., Path]) -> None:
    src = {"shop": {"__init__.py": "", "main.py": "from fastapi import FastAPI\napp = FastAPI()\n"}}
    project = tree({**FASTAPI_PROJECT, "app": {}, "src": src}, name="shop")
    result = cli("add-agentic", project)
    assert result.exit_code == 0, result.output
    commands = yaml.safe_load((project / "config.yml").read_text())["commands"]
    assert commands["run"] == "uv run uvicorn shop.main:app --app-dir src --reload"
    assert "note:" not in result.stdout
