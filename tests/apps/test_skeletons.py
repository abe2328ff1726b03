"""Application skeletons of `init` (app_templates/): which files, whose they are, what they name.

Fast tests, on the real filesystem: every command `config.yml` (and so the settings and the
README) names exists in the skeleton, for every framework and package manager, detection proposes
those same commands for it, the skeleton is never in the manifest, `--layer-only`, `add-agentic`
and `render` never write application files. `test_skeleton_runs.py` and `test_framework_runs.py`
run them.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tac_bootstrap_cli import scaffold
from tac_bootstrap_cli.config import ProjectConfig
from tac_bootstrap_cli.detect import detect
from tac_bootstrap_cli.plan import Action
from tac_bootstrap_cli.projectstate import load_manifest
from tac_bootstrap_cli.render import render_app
from tac_bootstrap_cli.scaffold import Answers, build_config
from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES

STACKS = [(lang, pm) for lang, pms in LANGUAGES.items() for pm in pms]
# Every framework skeleton with every package manager of its language.
FRAMEWORK_STACKS = [
    (lang, fw, pm) for lang, pms in LANGUAGES.items() for fw in FRAMEWORKS[lang][1:] for pm in pms
]

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
DJANGO_PROJECT = {
    f"my_app/{m}.py" for m in ("__init__", "settings", "urls", "views", "wsgi", "asgi")
}
FRAMEWORK_FILES = {
    ("python", "fastapi"): {"pyproject.toml", "src/my_app/__init__.py", "src/my_app/main.py",
                            "tests/test_main.py"},
    ("python", "flask"): {"pyproject.toml", "src/my_app/__init__.py", "tests/test_app.py"},
    ("python", "django"): {"pyproject.toml", "manage.py", "tests/test_views.py", *DJANGO_PROJECT},
    ("javascript", "express"): {"package.json", "src/index.js", "src/app.js", "src/greeting.js",
                                "test/app.test.js"},
    ("javascript", "react"): {"package.json", "index.html", "vite.config.js", "eslint.config.js",
                              "src/main.jsx", "src/App.jsx", "test/App.test.jsx"},
    ("javascript", "nextjs"): {"package.json", "next.config.js", "eslint.config.js",
                               "src/app/layout.jsx", "src/app/page.jsx", "test/page.test.jsx"},
    ("typescript", "express"): {"package.json", "tsconfig.json", "src/index.ts", "src/app.ts",
                                "src/greeting.ts", "src/app.test.ts"},
    ("typescript", "react"): {"package.json", "tsconfig.json", "index.html", "vite.config.ts",
                              "src/main.tsx", "src/App.tsx", "src/App.test.tsx"},
    ("typescript", "nextjs"): {"package.json", "tsconfig.json", "next.config.ts",
                               "src/app/layout.tsx", "src/app/page.tsx", "src/app/page.test.tsx"},
}  # fmt: skip


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
        config = ProjectConfig.from_data(
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


# What a framework's test needs beside pytest: FastAPI's (Starlette's) test client, pytest-django.
TEST_TOOLS = {"fastapi": ("httpx2",), "django": ("pytest-django",)}


def skeleton(
    language: str, framework: str, pm: str, name: str = "my-app"
) -> tuple[ProjectConfig, dict[str, str]]:
    """The config `init` would write for a stack and its skeleton's files, as text (no disk)."""
    config = build_config(Answers(name, language, framework, pm))
    files = render_app(config.template_context(), language)
    return config, {p: f.content.decode() for p, f in files.items()}


@pytest.mark.parametrize(("language", "framework", "pm"), FRAMEWORK_STACKS)
def test_a_framework_skeleton_has_its_files_and_nothing_else(
    language: str, framework: str, pm: str
) -> None:
    """None of the plain skeleton's files (`__main__.py`, `greeting.test.js`...) or another
    framework's leaks in; the manifests parse (TOML, JSON)."""
    _, files = skeleton(language, framework, pm)
    assert set(files) == FRAMEWORK_FILES[(language, framework)] | EXTRA.get(pm, set())
    for path, text in files.items():
        if path.endswith(".json"):
            json.loads(text)
        elif path.endswith(".toml") or path == "Pipfile":
            tomllib.loads(text)


def scripts_named(cmds: dict[str, str], pm: str) -> dict[str, str]:
    """The package.json script each JS command runs (`npm run lint` -> lint, `bun run test`)."""
    return {
        name: re.sub(rf"^{pm} (run )?", "", cmds[name])
        for name in ("test", "lint", "format", "run")
    }


@pytest.mark.parametrize(("language", "framework", "pm"), FRAMEWORK_STACKS)
def test_every_command_a_framework_stack_names_exists(
    language: str, framework: str, pm: str
) -> None:
    """The defaults (stacks.py) name what the framework's skeleton has: a package.json script,
    the module uvicorn or flask loads, manage.py; the test and lint tools in the dev group."""
    config, files = skeleton(language, framework, pm)
    cmds = config.commands.to_data()
    if language != "python":
        scripts = json.loads(files["package.json"])["scripts"]
        for name, script in scripts_named(cmds, pm).items():
            assert script in scripts, (name, cmds[name], sorted(scripts))
        assert cmds["install"] == f"{pm} install"
        return
    run = cmds["run"]
    if framework == "fastapi":
        assert "uvicorn my_app.main:app --app-dir src" in run
        assert "app = FastAPI()" in files["src/my_app/main.py"]
    elif framework == "flask":
        assert "flask --app my_app run" in run
        assert "def create_app() -> Flask:" in files["src/my_app/__init__.py"]
    else:
        assert run.endswith("python manage.py runserver")
        assert '"my_app.settings"' in files["manage.py"]
        assert 'ROOT_URLCONF = "my_app.urls"' in files["my_app/settings.py"]
    assert "pytest" in cmds["test"] and "ruff check" in cmds["lint"]
    assert "ruff format" in cmds["format"]
    pyproject = tomllib.loads(files["pyproject.toml"])
    if pm == "poetry":
        dev = set(pyproject["tool"]["poetry"]["group"]["dev"]["dependencies"])
    else:
        dev = {re.split("[<>=]", d)[0] for d in pyproject["dependency-groups"]["dev"]}
    need = {"pytest", "ruff", *TEST_TOOLS.get(framework, ())}
    assert need <= dev, (need, dev)
    if pm == "pip":  # the install command's file has the framework and the tools
        assert "requirements.txt" in cmds["install"]
        assert need <= {
            re.split("[<>=]", line)[0] for line in files["requirements.txt"].splitlines()
        }
    if framework == "django":  # not a package: nothing builds or installs it
        assert "build-system" not in pyproject
        assert (
            pyproject["tool"]["pytest"]["ini_options"]["DJANGO_SETTINGS_MODULE"]
            == "my_app.settings"
        )


DETECTABLE = [
    (lang, fw, pm) for lang, fw, pm in FRAMEWORK_STACKS if pm in ("uv", "poetry", "pipenv", "npm")
]


@pytest.mark.parametrize(("language", "framework", "pm"), DETECTABLE)
def test_detection_proposes_the_commands_init_wrote(
    tmp_path: Path, language: str, framework: str, pm: str
) -> None:
    """`add-agentic` on a framework skeleton detects its stack and proposes the very commands
    `init` put in config.yml (pip is left out: a pyproject without a lock reads as uv)."""
    config, files = skeleton(language, framework, pm)
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    det = detect(tmp_path)
    assert (det.language, det.framework, det.package_manager) == (language, framework, pm)
    assert not det.missing, det.missing
    cmds = config.commands.to_data()
    assert det.commands == {k: cmds[k] for k in det.commands}, det.commands
    assert {"test", "lint", "format", "run"} <= set(det.commands)


def test_framework_skeletons_escape_hostile_project_names() -> None:
    """A name with quotes, `<`, `$` and accents: the HTML title is escaped, Next's title is a JS
    string, the manifests parse; package and module names are the ASCII slug."""
    name = 'my "app" <b> $x é'
    for language in ("javascript", "typescript"):
        for framework in ("express", "react", "nextjs"):
            _, files = skeleton(language, framework, "npm", name)
            assert json.loads(files["package.json"])["name"] == "my-app-b-x-e"
            if framework == "react":
                assert "<title>my &#34;app&#34; &lt;b&gt; $x é</title>" in files["index.html"]
            if framework == "nextjs":
                ext = "jsx" if language == "javascript" else "tsx"
                title = re.search(r"title: (.*),\n", files[f"src/app/layout.{ext}"])
                assert title is not None and json.loads(title.group(1)) == name
    for framework in ("fastapi", "flask", "django"):
        for pm in LANGUAGES["python"]:
            _, files = skeleton("python", framework, pm, name)
            assert tomllib.loads(files["pyproject.toml"])["project"]["name"] == "my_app_b_x_e"
