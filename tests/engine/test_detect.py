"""Stack detection from the files of existing projects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tac_bootstrap_cli.detect import detect
from tac_bootstrap_cli.stacks import language_for_package_manager


def pkg(
    deps: dict[str, str] | None = None, scripts: dict[str, str] | None = None, **kw: Any
) -> str:
    return json.dumps({"name": "x", "dependencies": deps or {}, "scripts": scripts or {}, **kw})


CASES: list[tuple[str, dict[str, Any], tuple[str, str, str]]] = [
    (
        "uv fastapi",
        {
            "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["fastapi>=0.110", "uvicorn"]\n'
            '[dependency-groups]\ndev = ["pytest", "ruff"]\n',
            "uv.lock": "",
        },
        ("python", "fastapi", "uv"),
    ),
    (
        "poetry django",
        {
            "pyproject.toml": '[tool.poetry]\nname = "site"\n[tool.poetry.dependencies]\nDjango = "^5"\n',
            "poetry.lock": "",
            "manage.py": "",
        },
        ("python", "django", "poetry"),
    ),
    (
        "pip flask",
        {
            "requirements.txt": "Flask==3.0  # web\n-r other.txt\n",
            "requirements-dev.txt": "pytest\n",
        },
        ("python", "flask", "pip"),
    ),
    ("pipenv", {"Pipfile": '[packages]\nrequests = "*"\n'}, ("python", "none", "pipenv")),
    (
        "pnpm next",
        {
            "package.json": pkg({"next": "14", "react": "18"}, {"dev": "next dev", "lint": "x"}),
            "pnpm-lock.yaml": "",
            "tsconfig.json": "{}",
        },
        ("typescript", "nextjs", "pnpm"),
    ),
    (
        "yarn react js",
        {"package.json": pkg({"react": "18"}), "yarn.lock": ""},
        ("javascript", "react", "yarn"),
    ),
    (
        "bun express",
        {"package.json": pkg({"express": "4"}, {"start": "node ."}), "bun.lockb": b"\0"},
        ("javascript", "express", "bun"),
    ),
    (
        "npm declared pm",
        {"package.json": pkg(packageManager="pnpm@9.1.0")},
        ("javascript", "none", "pnpm"),
    ),
    ("npm lock", {"package.json": pkg(), "package-lock.json": "{}"}, ("javascript", "none", "npm")),
    ("go", {"go.mod": "module x\n", "cmd": {"srv": {"main.go": ""}}}, ("go", "none", "go")),
    ("rust", {"Cargo.toml": "[package]\nname='x'\n"}, ("rust", "none", "cargo")),
]


@pytest.mark.parametrize(
    ("files", "expected"),
    [pytest.param(files, expected, id=case) for case, files, expected in CASES],
)
def test_detects_stack(
    tree: Callable[..., Path], files: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    d = detect(tree(files))
    assert (d.language, d.framework, d.package_manager) == expected
    assert d.evidence


def test_nothing_known(tree: Callable[..., Path]) -> None:
    assert not detect(tree({"notes.txt": "hi"})).found


def test_python_commands_follow_the_tools_in_use(tree: Callable[..., Path]) -> None:
    root = tree(
        {
            "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["fastapi"]\n'
            '[tool.ruff]\nline-length = 100\n[tool.pytest.ini_options]\naddopts = "-q"\n',
            "uv.lock": "",
            "app": {"main.py": "from fastapi import FastAPI\n\napi = FastAPI()\n"},
        }
    )
    d = detect(root)
    assert d.commands["test"] == "uv run pytest"
    assert d.commands["lint"] == "uv run ruff check ."
    assert d.commands["run"] == "uv run uvicorn app.main:api --reload"


def test_node_commands_come_from_scripts(tree: Callable[..., Path]) -> None:
    root = tree(
        {
            "package.json": pkg(
                {"next": "14"},
                {"dev": "next dev", "lint": "next lint", "test": "vitest", "format": "prettier"},
            ),
            "pnpm-lock.yaml": "",
        }
    )
    assert detect(root).commands == {
        "test": "pnpm test",
        "lint": "pnpm run lint",
        "format": "pnpm run format",
        "run": "pnpm run dev",
    }


def test_npm_placeholder_test_script_is_ignored(tree: Callable[..., Path]) -> None:
    root = tree(
        {"package.json": pkg(scripts={"test": 'echo "Error: no test specified" && exit 1'})}
    )
    assert "test" not in detect(root).commands


def test_go_run_command_points_at_cmd(tree: Callable[..., Path]) -> None:
    root = tree({"go.mod": "module x\n", ".golangci.yml": "", "cmd": {"api": {"main.go": ""}}})
    assert detect(root).commands == {"lint": "golangci-lint run", "run": "go run ./cmd/api"}


def test_application_stack_wins_over_tooling(tree: Callable[..., Path]) -> None:
    # A Django site with a package.json only for frontend tooling is a Python project.
    root = tree(
        {
            "requirements.txt": "django\n",
            "manage.py": "",
            "package.json": pkg({"tailwindcss": "3"}),
        }
    )
    d = detect(root)
    assert (d.language, d.framework) == ("python", "django")
    assert d.others == ["javascript"]


def test_malformed_manifests_do_not_crash(tree: Callable[..., Path]) -> None:
    root = tree({"pyproject.toml": "[project\nbroken", "package.json": "{not json"})
    d = detect(root)
    assert d.found


def test_a_package_manager_implies_what_detection_would_say(tree: Callable[..., Path]) -> None:
    for manager, lock in (("npm", "package-lock.json"), ("pnpm", "pnpm-lock.yaml")):
        found = detect(tree({"package.json": pkg(), lock: ""}))
        assert (found.language, found.package_manager) == (
            language_for_package_manager(manager),
            manager,
        )
    assert language_for_package_manager("go") == detect(tree({"go.mod": "module x\n"})).language
    assert language_for_package_manager("cargo") == detect(tree({"Cargo.toml": ""})).language
    assert language_for_package_manager("maven") is None


@pytest.mark.parametrize(
    ("files", "install"),
    [
        ({"requirements-dev.txt": "pytest\n"}, "python -m pip install -r requirements-dev.txt"),
        ({"requirements.txt": "flask\n"}, "python -m pip install -r requirements.txt"),
        (
            {"requirements.txt": "", "requirements-dev.txt": "", "requirements-docs.txt": ""},
            "python -m pip install -r requirements.txt -r requirements-dev.txt",
        ),
        ({"requirements": {"base.txt": ""}, "setup.py": ""}, "python -m pip install -e ."),
        (
            {"setup.cfg": "", "requirements_test.txt": ""},
            "python -m pip install -e . -r requirements_test.txt",
        ),
        ({"requirements-prod.txt": ""}, "python -m pip install -r requirements-prod.txt"),
        ({"requirements (old).txt": ""}, "python -m pip install -r 'requirements (old).txt'"),
    ],
)
def test_pip_install_uses_the_requirement_files_that_exist(
    tree: Callable[..., Path], files: dict[str, Any], install: str
) -> None:
    found = detect(tree(files))
    assert found.package_manager == "pip"
    assert found.commands["install"] == install


# --- proposed commands exist in the project ---------------------------------------------------


def test_node_proposes_only_the_scripts_package_json_has(tree: Callable[..., Path]) -> None:
    root = tree({"package.json": pkg(scripts={"test": "vitest run", "dev": "vite"}),
                 "pnpm-lock.yaml": ""})  # fmt: skip
    found = detect(root)
    assert found.commands == {"test": "pnpm test", "run": "pnpm run dev"}
    assert set(found.missing) == {"lint", "format"}
    assert "no format script" in found.missing["format"]


@pytest.mark.parametrize(
    ("lock", "runner"),
    [("package-lock.json", "npx"), ("pnpm-lock.yaml", "pnpm exec"), ("yarn.lock", "yarn"),
     ("bun.lock", "bunx")],
)  # fmt: skip
def test_node_runs_a_dependency_tool_when_there_is_no_script(
    tree: Callable[..., Path], lock: str, runner: str
) -> None:
    deps = {"prettier": "3", "eslint": "9", "vitest": "2", "vite": "5"}
    found = detect(tree({"package.json": pkg(deps), lock: ""}))
    assert found.commands == {
        "test": f"{runner} vitest run",
        "lint": f"{runner} eslint .",
        "format": f"{runner} prettier --write .",
        "run": f"{runner} vite",
    }
    assert found.missing == {}


def test_node_scripts_win_over_tools(tree: Callable[..., Path]) -> None:
    scripts = {"format": "prettier -w src", "lint": "eslint src", "start": "node srv.js"}
    found = detect(tree({"package.json": pkg({"prettier": "3", "eslint": "9"}, scripts)}))
    assert found.commands["format"] == "npm run format"
    assert found.commands["lint"] == "npm run lint"
    assert found.commands["run"] == "npm start"


def test_node_typescript_lints_with_tsc_and_npm_placeholder_is_named(
    tree: Callable[..., Path],
) -> None:
    placeholder = 'echo "Error: no test specified" && exit 1'
    found = detect(tree({"package.json": pkg({"typescript": "5"}, {"test": placeholder})}))
    assert found.commands["lint"] == "npx tsc --noEmit"
    assert "only npm's placeholder" in found.missing["test"]


@pytest.mark.parametrize(
    ("files", "run"),
    [
        (
            {"package.json": pkg(main="lib/server.js"), "lib": {"server.js": ""}},
            "node lib/server.js",
        ),
        ({"package.json": pkg(main="dist/index.js"), "index.js": ""}, "node index.js"),
        ({"package.json": pkg(main="../../etc/passwd")}, None),
        ({"package.json": pkg(main="a\u0000b"), "app.js": ""}, "node app.js"),
        ({"package.json": pkg()}, None),
    ],
)
def test_node_run_starts_a_file_that_exists(
    tree: Callable[..., Path], files: dict[str, Any], run: str | None
) -> None:
    found = detect(tree(files))
    assert found.commands.get("run") == run
    assert ("run" in found.missing) == (run is None)


SRC_FASTAPI = {
    "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["fastapi"]\n'
    '[dependency-groups]\ndev = ["pytest", "ruff"]\n',
    "uv.lock": "",
}


@pytest.mark.parametrize(
    ("package", "run"),
    [
        # the module that assigns the app, imported from src/ whether or not it is installed
        ({"main.py": "from fastapi import FastAPI\napp = FastAPI()\n"},
         "uv run uvicorn svc.main:app --app-dir src --reload"),
        ({"api.py": "import fastapi\n\nserver: fastapi.FastAPI = fastapi.FastAPI(title='x')\n"},
         "uv run uvicorn svc.api:server --app-dir src --reload"),
        # no module holds an app: what starts the package
        ({"main.py": "def create():\n    ...\n", "__main__.py": "print('hi')\n"},
         "uv run python -m svc"),
    ],
)  # fmt: skip
def test_python_src_layout_runs_the_package_under_src(
    tree: Callable[..., Path], package: dict[str, str], run: str
) -> None:
    root = tree({**SRC_FASTAPI, "src": {"svc": {"__init__.py": "", **package}}})
    found = detect(root)
    assert found.framework == "fastapi"
    assert found.commands["run"] == run
    assert "uvicorn main:app" not in str(found.commands)


def test_python_src_layout_without_a_start_is_named_missing(tree: Callable[..., Path]) -> None:
    root = tree({**SRC_FASTAPI, "src": {"svc": {"__init__.py": "", "models.py": ""}}})
    found = detect(root)
    assert "run" not in found.commands
    assert "no module assigns a FastAPI() app" in found.missing["run"]


def test_python_package_with_main_module(tree: Callable[..., Path]) -> None:
    root = tree(
        {
            "pyproject.toml": '[project]\nname = "My Tool"\n',
            "tests": {"__init__.py": "", "__main__.py": ""},  # not the application
            "zzz": {"__init__.py": ""},
            "my_tool": {"__init__.py": "", "__main__.py": "print(1)\n"},
        }
    )
    found = detect(root)
    assert found.commands["run"] == "uv run python -m my_tool"
    # ruff and pytest are not dependencies: the stack default would fail, and that is said
    assert set(found.missing) == {"lint", "format"}


def test_flask_package_runs_with_flask_app(tree: Callable[..., Path]) -> None:
    root = tree(
        {
            "requirements.txt": "flask\n",
            "web": {"__init__.py": "from flask import Flask\n\napp = Flask(__name__)\n"},
        }
    )
    assert detect(root).commands["run"] == "flask --app web run --debug"
    assert detect(tree({"requirements.txt": "flask\n", "app.py": ""})).commands["run"] == (
        "flask run --debug"
    )


def test_go_without_an_entry_point_has_no_run_command(tree: Callable[..., Path]) -> None:
    found = detect(tree({"go.mod": "module x\n", "pkg": {"lib.go": ""}}))
    assert "run" not in found.commands and "cmd/*/main.go" in found.missing["run"]
