"""Guess a project's language, framework, package manager and commands from the files it holds.

Only reads a handful of well-known files at the project root (plus a few entry points for the run
command); never executes anything. Every guess carries its evidence so the UI can say why.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
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
    if (root / "uv.lock").is_file() or "uv" in tool:
        det.package_manager = "uv"
    elif (root / "poetry.lock").is_file() or "poetry" in tool:
        det.package_manager = "poetry"
    elif (root / "Pipfile").is_file():
        det.package_manager = "pipenv"
    elif pyproject_path.is_file():
        det.package_manager = "uv"  # a pyproject without a lock: uv reads it as is
    else:
        det.package_manager = "pip"
    det.evidence.append(f"package manager {det.package_manager}")

    deps = _python_deps(root, pyproject)
    if "django" in deps or (root / "manage.py").is_file():
        det.framework = "django"
    elif "fastapi" in deps:
        det.framework = "fastapi"
    elif "flask" in deps:
        det.framework = "flask"
    else:
        det.framework = "none"
    if det.framework != "none":
        det.evidence.append(f"framework {det.framework} (dependencies)")

    slug = _python_slug(root, pyproject)
    base = default_commands("python", det.package_manager, det.framework, slug)
    prefix = base.test.removesuffix("pytest").removesuffix("python -m ")
    if det.package_manager == "pip":
        det.commands["install"] = _pip_install(root, requirements)
    if "pytest" in deps or "pytest" in tool or (root / "tests").is_dir():
        det.commands["test"] = base.test
    if "ruff" in deps or "ruff" in tool:
        det.commands["lint"] = f"{prefix}ruff check ."
        det.commands["format"] = f"{prefix}ruff format ."
    elif "flake8" in deps:
        det.commands["lint"] = f"{prefix}flake8"
    if "format" not in det.commands and ("black" in deps or "black" in tool):
        det.commands["format"] = f"{prefix}black ."
    run = _python_run(root, det.framework, _dict(_dict(pyproject.get("project")).get("scripts")))
    if run:
        det.commands["run"] = prefix + run
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


def _python_run(root: Path, framework: str, scripts: dict[str, Any]) -> str | None:
    if framework == "django" and (root / "manage.py").is_file():
        return "python manage.py runserver"
    if framework == "fastapi":
        for rel in ("main.py", "app.py", "app/main.py", "src/main.py", "api/main.py"):
            text = _read_text(root / rel)
            match = re.search(r"^(\w+)\s*=\s*FastAPI\(", text or "", re.MULTILINE)
            if match:
                module = rel.removesuffix(".py").replace("/", ".")
                return f"uvicorn {module}:{match.group(1)} --reload"
        return None
    if framework == "flask":
        return "flask run --debug"
    if scripts:
        return str(next(iter(scripts)))
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

    pm = next((pm for lock, pm in _NODE_LOCKS if (root / lock).is_file()), None)
    declared = pkg.get("packageManager")
    if pm is None and isinstance(declared, str):
        name = declared.split("@", 1)[0]
        pm = name if name in ("npm", "pnpm", "yarn", "bun") else None
    det.package_manager = pm or "npm"
    det.evidence.append(f"package manager {det.package_manager}")

    if "next" in deps:
        det.framework = "nextjs"
    elif "express" in deps:
        det.framework = "express"
    elif "react" in deps:
        det.framework = "react"
    else:
        det.framework = "none"
    if det.framework != "none":
        det.evidence.append(f"framework {det.framework} (dependencies)")

    scripts = {k: v for k, v in _dict(pkg.get("scripts")).items() if isinstance(v, str)}
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
    return det


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
    return det


def _rust(root: Path) -> Detection:
    det = Detection()
    if not (root / "Cargo.toml").is_file():
        return det
    det.language, det.framework, det.package_manager = "rust", "none", "cargo"
    det.evidence.append("rust: Cargo.toml")
    return det
