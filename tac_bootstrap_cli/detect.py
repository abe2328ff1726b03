"""Guess a project's language, framework, package manager and commands from the files it holds.

Only reads a handful of well-known files at the project root (plus a few entry points for the run
command); never executes anything. Every guess carries its evidence so the UI can say why.

A command is proposed only when the project has it (a package.json script, a tool among its
dependencies, a module that exists): one that would fail is left out and named in ``missing``.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tac_bootstrap_cli.stacks import JS_DEFAULT_LANGUAGE, default_commands

_MAX_READ = 1_000_000  # bytes; a manifest bigger than this is not worth parsing for a guess
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_DEV_REQS = re.compile(r"dev|test", re.IGNORECASE)
_NPM_NO_TEST = 'echo "Error: no test specified" && exit 1'


@dataclass
class Detection:
    """What the files of a project say about its stack; ``None`` fields were not detected."""

    language: str | None = None
    framework: str | None = None
    package_manager: str | None = None
    commands: dict[str, str] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # other stacks seen (e.g. a frontend beside)
    # Commands the project has nothing for, each with why (the stack default fills them).
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """True when a language was recognised."""
        return self.language is not None


def detect(root: Path) -> Detection:
    """Detect the stack of the project at ``root``; an empty ``Detection`` when nothing is known."""
    candidates = [d for d in (_python(root), _node(root), _go(root), _rust(root)) if d.found]
    if not candidates:
        return Detection()
    # A stack with a recognised framework is the application; one without is usually tooling.
    best = max(candidates, key=lambda d: d.framework not in (None, "none"))
    best.others = [d.language or "" for d in candidates if d is not best]
    return best


# --- reading helpers -------------------------------------------------------------------------


def _read_text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_READ:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _read_toml(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _normalize(dist: str) -> str:
    """PEP 503 name normalization (``Flask_Cors`` -> ``flask-cors``)."""
    return re.sub(r"[-_.]+", "-", dist).lower()


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQ_NAME.match(line)
        if match:
            names.add(_normalize(match.group(1)))
    return names


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# --- Python ----------------------------------------------------------------------------------


def _python_deps(root: Path, pyproject: dict[str, Any]) -> set[str]:
    project = _dict(pyproject.get("project"))
    lines = _strings(project.get("dependencies"))
    for extra in _dict(project.get("optional-dependencies")).values():
        lines += _strings(extra)
    for group in _dict(pyproject.get("dependency-groups")).values():
        lines += _strings(group)
    names = _requirement_names(lines)
    poetry = _dict(_dict(pyproject.get("tool")).get("poetry"))
    names |= {_normalize(n) for n in _dict(poetry.get("dependencies"))}
    names |= {_normalize(n) for n in _dict(poetry.get("dev-dependencies"))}
    for group in _dict(poetry.get("group")).values():
        names |= {_normalize(n) for n in _dict(_dict(group).get("dependencies"))}
    for req in sorted(root.glob("requirements*.txt")):
        names |= _requirement_names((_read_text(req) or "").splitlines())
    pipfile = _read_toml(root / "Pipfile")
    for section in ("packages", "dev-packages"):
        names |= {_normalize(n) for n in _dict(pipfile.get(section))}
    return names


def _python_package_manager(root: Path, tool: dict[str, Any]) -> str:
    if (root / "uv.lock").is_file() or "uv" in tool:
        return "uv"
    if (root / "poetry.lock").is_file() or "poetry" in tool:
        return "poetry"
    if (root / "Pipfile").is_file():
        return "pipenv"
    if (root / "pyproject.toml").is_file():
        return "uv"  # a pyproject without a lock: uv reads it as is
    return "pip"


def _python_framework(root: Path, deps: set[str]) -> str:
    if "django" in deps or (root / "manage.py").is_file():
        return "django"
    return next((name for name in ("fastapi", "flask") if name in deps), "none")


def _python_checkers(det: Detection, tools: set[str], flake8: bool, prefix: str) -> None:
    """Lint and format commands from the linters and formatters a project has (``tools``: its
    dependencies and ``[tool.*]`` tables; flake8 counts only as a dependency)."""
    if "ruff" in tools:
        det.commands["lint"] = f"{prefix}ruff check ."
        det.commands["format"] = f"{prefix}ruff format ."
    elif flake8:
        det.commands["lint"] = f"{prefix}flake8"
    if "format" not in det.commands and "black" in tools:
        det.commands["format"] = f"{prefix}black ."
    if "lint" not in det.commands:
        det.missing["lint"] = "neither ruff nor flake8 is among the dependencies"
    if "format" not in det.commands:
        det.missing["format"] = "neither ruff nor black is among the dependencies"


def _python(root: Path) -> Detection:
    det = Detection()
    pyproject_path = root / "pyproject.toml"
    pyproject = _read_toml(pyproject_path)
    tool = _dict(pyproject.get("tool"))
    markers = [
        name
        for name in ("pyproject.toml", "uv.lock", "poetry.lock", "Pipfile", "setup.py", "setup.cfg")
        if (root / name).is_file()
    ]
    requirements = sorted(p.name for p in root.glob("requirements*.txt") if p.is_file())
    markers += requirements
    if not markers:
        return det
    det.language = "python"
    det.evidence.append(f"python: {', '.join(markers)}")
    det.package_manager = _python_package_manager(root, tool)
    det.evidence.append(f"package manager {det.package_manager}")

    deps = _python_deps(root, pyproject)
    det.framework = _python_framework(root, deps)
    if det.framework != "none":
        det.evidence.append(f"framework {det.framework} (dependencies)")

    slug = _python_slug(root, pyproject)
    base = default_commands("python", det.package_manager, det.framework, slug)
    prefix = base.test.removesuffix("pytest").removesuffix("python -m ")
    if det.package_manager == "pip":
        det.commands["install"] = _pip_install(root, requirements)
    if "pytest" in deps or "pytest" in tool or (root / "tests").is_dir():
        det.commands["test"] = base.test
    else:
        det.missing["test"] = "pytest is not among the dependencies and there is no tests/ folder"
    _python_checkers(det, deps | set(tool), "flake8" in deps, prefix)
    scripts = _dict(_dict(pyproject.get("project")).get("scripts"))
    run = _python_run(root, det.framework, scripts, _python_packages(root, slug))
    if run:
        det.commands["run"] = prefix + run
    else:
        det.missing["run"] = _PYTHON_NO_RUN.get(det.framework, _PYTHON_NO_RUN["none"])
    return det


def _pip_install(root: Path, requirements: list[str]) -> str:
    """pip's install command from the files that exist: requirements.txt (else the project itself
    from setup.py/setup.cfg) plus the dev/test requirement files; any requirement file otherwise."""
    extras = [n for n in requirements if n != "requirements.txt" and _DEV_REQS.search(n)]
    args: list[str] = []
    if "requirements.txt" in requirements:
        args += ["-r", "requirements.txt"]
    elif (root / "setup.py").is_file() or (root / "setup.cfg").is_file():
        args += ["-e", "."]
    elif not extras:
        extras = requirements
    for name in extras:
        args += ["-r", name]
    return "python -m pip install " + shlex.join(args)


def _python_slug(root: Path, pyproject: dict[str, Any]) -> str:
    name = _dict(pyproject.get("project")).get("name")
    if not isinstance(name, str):
        name = root.name
    return re.sub(r"\W+", "_", name.lower()).strip("_") or "app"


# Folders at the root that hold no application package (the layer's own adws/ among them).
_NOT_PACKAGES = frozenset({"tests", "test", "docs", "adws", "scripts", "examples", "build", "dist"})
_NO_START = "no [project.scripts] entry, no package with __main__.py and no main.py"
_PYTHON_NO_RUN = {
    "django": f"there is no manage.py at the root, {_NO_START}",
    "fastapi": "no module assigns a FastAPI() app (main.py, app.py, or main/app/api.py in the"
    f" project's package), {_NO_START}",
    "flask": "no app.py or wsgi.py at the root and no package module creates a Flask() app,"
    f" {_NO_START}",
    "none": _NO_START,
}


def _python_packages(root: Path, slug: str) -> list[tuple[str, str]]:
    """The project's importable packages as (name, folder prefix): ``src/`` ones first, the one
    named like the project first within each."""
    found: list[tuple[str, str]] = []
    for prefix in ("src/", ""):
        base = root / prefix if prefix else root
        try:
            folders = sorted(p for p in base.iterdir() if p.is_dir())
        except OSError:
            continue
        named = [
            (p.name, prefix)
            for p in folders
            if p.name.isidentifier()
            and p.name not in _NOT_PACKAGES
            and (p / "__init__.py").is_file()
        ]
        found += sorted(named, key=lambda pkg: pkg[0] != slug)  # stable: then by name
    return found


def _assigns(path: Path, cls: str) -> str | None:
    """The name a module binds to a ``cls(...)`` instance at top level (``app = FastAPI()``)."""
    pattern = rf"^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:\w+\.)?{cls}\("
    match = re.search(pattern, _read_text(path) or "", re.MULTILINE)
    return match.group(1) if match else None


def _python_run(
    root: Path, framework: str, scripts: dict[str, Any], packages: list[tuple[str, str]]
) -> str | None:
    """A run command that fits the project's layout, or None when nothing would start it: the
    framework's server for the module that holds the app, else what starts the package."""
    if framework == "django" and (root / "manage.py").is_file():
        return "python manage.py runserver"
    if framework == "fastapi" and (server := _fastapi_run(root, packages)) is not None:
        return server
    if framework == "flask" and (server := _flask_run(root, packages)) is not None:
        return server
    if scripts:
        return str(next(iter(scripts)))
    for name, prefix in packages:
        if (root / prefix / name / "__main__.py").is_file():
            return f"python -m {name}"
    return "python main.py" if (root / "main.py").is_file() else None


def _fastapi_run(root: Path, packages: list[tuple[str, str]]) -> str | None:
    for rel in ("main.py", "app.py", "app/main.py", "src/main.py", "api/main.py"):
        app = _assigns(root / rel, "FastAPI")
        if app:
            module = rel.removesuffix(".py").replace("/", ".")
            return f"uvicorn {module}:{app} --reload"
    for name, prefix in packages:
        for module in ("main", "app", "api"):
            app = _assigns(root / prefix / name / f"{module}.py", "FastAPI")
            if app:
                # --app-dir: a src/ package imports even where the project is not installed.
                app_dir = f" --app-dir {prefix.rstrip('/')}" if prefix else ""
                return f"uvicorn {name}.{module}:{app}{app_dir} --reload"
    return None


def _flask_run(root: Path, packages: list[tuple[str, str]]) -> str | None:
    if (root / "app.py").is_file() or (root / "wsgi.py").is_file():
        return "flask run --debug"  # the two modules Flask finds by itself
    for name, prefix in packages:
        for module, rel in ((name, "__init__.py"), (f"{name}.app", "app.py")):
            path = root / prefix / name / rel
            if _assigns(path, "Flask") or "def create_app(" in (_read_text(path) or ""):
                return f"flask --app {module} run --debug"
    return None


# --- JavaScript / TypeScript -----------------------------------------------------------------

_NODE_LOCKS = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lockb", "bun"),
    ("bun.lock", "bun"),
    ("package-lock.json", "npm"),
)


def _node(root: Path) -> Detection:
    det = Detection()
    text = _read_text(root / "package.json")
    if text is None:
        return det
    try:
        pkg = _dict(json.loads(text))
    except ValueError:
        pkg = {}
    deps: set[str] = set()
    for section in ("dependencies", "devDependencies", "peerDependencies"):
        deps |= set(_dict(pkg.get(section)))
    is_ts = (root / "tsconfig.json").is_file() or "typescript" in deps
    det.language = "typescript" if is_ts else JS_DEFAULT_LANGUAGE
    det.evidence.append(f"{det.language}: package.json" + (" + tsconfig.json" if is_ts else ""))

    det.package_manager = _node_package_manager(root, pkg)
    det.evidence.append(f"package manager {det.package_manager}")

    # The first framework among the dependencies, in this order (Next.js apps depend on react).
    frameworks = (("next", "nextjs"), ("express", "express"), ("react", "react"))
    det.framework = next((name for dep, name in frameworks if dep in deps), "none")
    if det.framework != "none":
        det.evidence.append(f"framework {det.framework} (dependencies)")

    scripts = {k: v for k, v in _dict(pkg.get("scripts")).items() if isinstance(v, str)}
    _node_script_commands(det, scripts)
    # No script: a tool the project depends on, run through the package manager; else nothing.
    pm = det.package_manager
    for key, tools in _NODE_TOOLS.items():
        if key in det.commands:
            continue
        command = _node_tool_command(key, tools, deps, pm, lambda: _node_entry(root, pkg))
        if command is not None:
            det.commands[key] = command
        else:
            names = ", ".join(dep for dep, _ in tools)
            script = "only npm's placeholder" if key in scripts else f"no {key} script"
            det.missing[key] = f"package.json has {script} and no {names} dependency"
    return det


def _node_package_manager(root: Path, pkg: dict[str, Any]) -> str:
    """The lock file's package manager, else package.json's ``packageManager``, else npm."""
    pm = next((pm for lock, pm in _NODE_LOCKS if (root / lock).is_file()), None)
    declared = pkg.get("packageManager")
    if pm is None and isinstance(declared, str):
        name = declared.split("@", 1)[0]
        pm = name if name in ("npm", "pnpm", "yarn", "bun") else None
    return pm or "npm"


def _node_script_commands(det: Detection, scripts: dict[str, str]) -> None:
    """Commands from package.json's scripts, run the package manager's way."""
    pm = det.package_manager
    run_script = "bun run" if pm == "bun" else f"{pm} run"
    if "test" in scripts and scripts["test"].strip() != _NPM_NO_TEST:
        det.commands["test"] = "bun run test" if pm == "bun" else f"{pm} test"
    if "lint" in scripts:
        det.commands["lint"] = f"{run_script} lint"
    if "format" in scripts:
        det.commands["format"] = f"{run_script} format"
    if "dev" in scripts:
        det.commands["run"] = f"{run_script} dev"
    elif "start" in scripts:
        det.commands["run"] = "bun run start" if pm == "bun" else f"{pm} start"


# What runs a package's own tools without a script (``npm exec`` needs ``--`` before options).
_NODE_EXEC = {"npm": "npx", "pnpm": "pnpm exec", "yarn": "yarn", "bun": "bunx"}
# Per command without a script: (dependency, command line of its tool), the first one present wins.
_NODE_TOOLS: dict[str, tuple[tuple[str, str], ...]] = {
    "test": (("vitest", "vitest run"), ("jest", "jest"), ("mocha", "mocha")),
    "lint": (
        ("eslint", "eslint ."),
        ("@biomejs/biome", "biome lint ."),
        ("typescript", "tsc --noEmit"),
    ),
    "format": (("prettier", "prettier --write ."), ("@biomejs/biome", "biome format --write .")),
    "run": (("next", "next dev"), ("vite", "vite")),
}


def _node_tool_command(
    key: str,
    tools: tuple[tuple[str, str], ...],
    deps: set[str],
    pm: str,
    entry: Callable[[], str | None],
) -> str | None:
    """Command ``key`` from the first of its ``tools`` the project depends on, run through the
    package manager (a run command from the package's entry file as a last resort)."""
    found = next((command for dep, command in tools if dep in deps), None)
    if found is not None:
        return f"{_NODE_EXEC[pm]} {found}"
    if key == "run":
        file = entry()
        return None if file is None else f"node {file}"
    return None


def _node_entry(root: Path, pkg: dict[str, Any]) -> str | None:
    """The file ``node`` would start: package.json's ``main`` if it exists, else a usual name."""
    main = pkg.get("main")
    candidates = [main] if isinstance(main, str) else []
    candidates += ["index.js", "server.js", "app.js", "index.mjs", "server.mjs"]
    top = root.resolve()
    for rel in candidates:
        try:
            path = (root / rel).resolve()
            if path.is_relative_to(top) and path.is_file():  # never a file outside the project
                return shlex.quote(path.relative_to(top).as_posix())
        except (OSError, ValueError):  # unreadable, or a name no file can have (a NUL byte)
            continue
    return None


# --- Go and Rust -----------------------------------------------------------------------------


def _go(root: Path) -> Detection:
    det = Detection()
    if not (root / "go.mod").is_file():
        return det
    det.language, det.framework, det.package_manager = "go", "none", "go"
    det.evidence.append("go: go.mod")
    if any((root / f).is_file() for f in (".golangci.yml", ".golangci.yaml", ".golangci.toml")):
        det.commands["lint"] = "golangci-lint run"
    if not list(root.glob("*.go")):
        mains = sorted(p.parent.name for p in root.glob("cmd/*/main.go"))
        if mains:
            det.commands["run"] = f"go run ./cmd/{mains[0]}"
        else:
            det.missing["run"] = "no .go file at the root and no cmd/*/main.go"
    return det


def _rust(root: Path) -> Detection:
    det = Detection()
    if not (root / "Cargo.toml").is_file():
        return det
    det.language, det.framework, det.package_manager = "rust", "none", "cargo"
    det.evidence.append("rust: Cargo.toml")
    return det
