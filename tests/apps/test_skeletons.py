"""Application skeletons of `init` (app_templates/): which files, whose they are, what they name.

Fast tests, on the real filesystem: every command `config.yml` (and so the settings and the
README) names exists in the skeleton, the skeleton is never in the manifest, `--layer-only`,
`add-agentic` and `render` never write application files. `test_skeleton_runs.py` runs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tac_bootstrap_cli import scaffold
from tac_bootstrap_cli.manifest import load_manifest
from tac_bootstrap_cli.plan import Action
from tac_bootstrap_cli.render import render_app
from tac_bootstrap_cli.stacks import LANGUAGES

STACKS = [(lang, pm) for lang, pms in LANGUAGES.items() for pm in pms]

APP_FILES = {
    "python": {"pyproject.toml", "src/my_app/__init__.py", "src/my_app/__main__.py",
               "tests/test_my_app.py"},
    "javascript": {"package.json", "src/index.js", "src/greeting.js", "test/greeting.test.js"},
    "typescript": {"package.json", "tsconfig.json", "src/index.ts", "src/greeting.ts",
                   "src/greeting.test.ts"},
    "go": {"go.mod", "main.go", "main_test.go"},
    "rust": {"Cargo.toml", "src/main.rs"},
}  # fmt: skip
EXTRA = {"pip": {"requirements.txt"}, "pipenv": {"Pipfile"}}


def init(tmp_path: Path, language: str, pm: str, **kw: object) -> Path:
    """`init my-app` for one stack, through the library call the CLI makes."""
    answers = scaffold.Answers(language=language, package_manager=pm)
    scaffold.init_project("my-app", tmp_path, answers=answers, **kw)  # type: ignore[arg-type]
    return tmp_path / "my-app"


def commands(root: Path) -> dict[str, str]:
    """The commands config.yml holds (what the settings allow and the README names)."""
    data = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))
    return {k: str(v) for k, v in data["commands"].items()}


@pytest.mark.parametrize(("language", "pm"), STACKS)
def test_init_writes_the_skeleton_outside_the_manifest(
    tmp_path: Path, language: str, pm: str
) -> None:
    root = init(tmp_path, language, pm)
    expected = APP_FILES[language] | EXTRA.get(pm, set())
    assert all((root / p).is_file() for p in expected), sorted(expected)
    manifest = load_manifest(root)
    assert manifest is not None
    assert not expected & set(manifest.files)  # the user's code: render/upgrade never touch it


@pytest.mark.parametrize(("language", "pm"), STACKS)
def test_every_named_command_exists(tmp_path: Path, language: str, pm: str) -> None:
    """Scripts the JS commands run are in package.json; Python's run module is the package."""
    root = init(tmp_path, language, pm)
    cmds = commands(root)
    if language in ("javascript", "typescript"):
        scripts = json.loads((root / "package.json").read_text())["scripts"]
        for name in ("test", "lint", "format", "run"):
            script = re.sub(rf"^{pm} (run )?", "", cmds[name])
            assert script in scripts, (name, cmds[name], sorted(scripts))
    elif language == "python":
        module = cmds["run"].split("python -m ")[1]
        assert (root / "src" / module / "__main__.py").is_file()
        assert "pytest" in cmds["test"] and "ruff check" in cmds["lint"]
        pyproject = (root / "pyproject.toml").read_text()
        assert "pytest" in pyproject and "ruff" in pyproject  # the dev group
        if pm == "poetry":
            assert "[tool.poetry.group.dev.dependencies]" in pyproject
        else:
            assert "[dependency-groups]" in pyproject
    elif language == "go":
        assert cmds["run"] == "go run ." and "package main" in (root / "main.go").read_text()
    else:
        assert cmds["run"] == "cargo run" and "fn main()" in (root / "src/main.rs").read_text()


def test_layer_only_writes_no_application_file(tmp_path: Path) -> None:
    root = init(tmp_path, "python", "uv", layer_only=True)
    assert not (root / "pyproject.toml").exists() and not (root / "src").exists()
    assert (root / ".claude" / "settings.json").is_file()


def test_add_agentic_writes_no_application_file(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    root.mkdir()
    (root / "notes.txt").write_text("mine\n")
    result = scaffold.add_agentic(root, answers=scaffold.Answers(language="python"))
    created = {a.path for a in result.plan.actions}
    assert not created & APP_FILES["python"]
    assert not (root / "pyproject.toml").exists() and not (root / "src").exists()


def test_init_into_a_non_empty_folder_with_force_writes_no_application_file(
    tmp_path: Path,
) -> None:
    """--force adds the layer to what is there (an existing project): no skeleton over it."""
    root = tmp_path / "my-app"
    root.mkdir()
    (root / "main.py").write_text("print('mine')\n")
    init(tmp_path, "python", "uv", force=True)
    assert not (root / "pyproject.toml").exists()


def test_render_and_rerun_leave_the_skeleton_alone(tmp_path: Path) -> None:
    """Edited or deleted application files are neither rewritten, listed nor called obsolete."""
    root = init(tmp_path, "python", "uv")
    (root / "src/my_app/__init__.py").write_text("# mine\n")
    (root / "tests/test_my_app.py").unlink()
    rerun = scaffold.init_project("my-app", tmp_path, answers=scaffold.Answers(language="python"))
    for result in (scaffold.render_again(root), rerun):
        paths = {a.path for a in result.plan.actions}
        assert not paths & APP_FILES["python"]
        assert not result.plan.listed()
    assert (root / "src/my_app/__init__.py").read_text() == "# mine\n"
    assert not (root / "tests/test_my_app.py").exists()


def test_framework_without_skeleton_says_so(tmp_path: Path) -> None:
    answers = scaffold.Answers(language="python", framework="fastapi", package_manager="uv")
    result = scaffold.init_project("my-app", tmp_path, answers=answers)
    assert not (tmp_path / "my-app" / "pyproject.toml").exists()
    assert any("no application skeleton for fastapi" in n for n in result.notes)


def test_init_plan_lists_the_skeleton_as_created(tmp_path: Path) -> None:
    plan = scaffold.init_project(
        "my-app", tmp_path, answers=scaffold.Answers(language="rust"), dry_run=True
    ).plan
    assert not (tmp_path / "my-app").exists()
    actions = {a.path: a for a in plan.actions}
    assert actions["src/main.rs"].action is Action.CREATE
    assert actions["src/main.rs"].reason == scaffold.APP_REASON


def test_skeleton_names_escape_hostile_project_names() -> None:
    """A name with quotes, `$` and non-ASCII letters: package.json parses, names are the slug."""
    from tac_bootstrap_cli.config import ProjectConfig

    for language, pm in (("javascript", "npm"), ("typescript", "pnpm")):
        config = ProjectConfig.model_validate(
            {"project": {"name": 'my "app" $x é', "language": language, "package_manager": pm}}
        )
        files = render_app(config.template_context(), language)
        assert json.loads(files["package.json"].content)["name"] == "my-app-x-e"  # ASCII


def test_cli_init_names_the_next_commands_and_layer_only_writes_the_layer(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """The CLI: the skeleton's commands are the next step; `--layer-only` writes no app file."""
    result = cli("init", "my-app", "-o", tmp_path, "--language", "rust")
    assert result.exit_code == 0, result.output
    assert "cargo test" in result.output and (tmp_path / "my-app/src/main.rs").is_file()
    result = cli("init", "bare", "-o", tmp_path, "--layer-only")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "bare/pyproject.toml").exists()
    assert (tmp_path / "bare/.claude/settings.json").is_file()
