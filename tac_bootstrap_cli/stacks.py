"""What tac-bootstrap knows about each stack: languages, frameworks, package managers and their commands.

Plain data and small functions, no I/O: ``detect`` reads a project and picks from these tables,
``config`` validates answers against them.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES: dict[str, tuple[str, ...]] = {
    # language -> package managers, the first one is the default
    "python": ("uv", "poetry", "pip", "pipenv"),
    "typescript": ("npm", "pnpm", "yarn", "bun"),
    "javascript": ("npm", "pnpm", "yarn", "bun"),
    "go": ("go",),
    "rust": ("cargo",),
}

# What detection calls a package.json project without TypeScript evidence (tsconfig.json or a
# typescript dependency); also the language a JS package manager alone implies.
JS_DEFAULT_LANGUAGE = "javascript"


def language_for_package_manager(package_manager: str) -> str | None:
    """The language a package manager implies (npm -> javascript, cargo -> rust, poetry ->
    python, ...); None for a package manager no language uses."""
    languages = [lang for lang, managers in LANGUAGES.items() if package_manager in managers]
    if len(languages) == 1:
        return languages[0]
    if set(languages) == {"typescript", "javascript"}:
        return JS_DEFAULT_LANGUAGE
    return None


FRAMEWORKS: dict[str, tuple[str, ...]] = {
    # language -> frameworks, "none" first
    "python": ("none", "fastapi", "django", "flask"),
    "typescript": ("none", "nextjs", "react", "express"),
    "javascript": ("none", "nextjs", "react", "express"),
    "go": ("none",),
    "rust": ("none",),
}


@dataclass(frozen=True)
class StackCommands:
    """The shell commands an agent uses to work on a project."""

    install: str
    test: str
    lint: str
    format: str
    run: str


_PYTHON_RUNNERS = {"uv": "uv run ", "poetry": "poetry run ", "pipenv": "pipenv run ", "pip": ""}
_PYTHON_INSTALL = {
    "uv": "uv sync",
    "poetry": "poetry install",
    "pipenv": "pipenv install --dev",
    "pip": "python -m pip install -r requirements.txt",
}
# What starts each skeleton (app_templates/python/), as detection proposes it for that layout.
_PYTHON_RUN = {
    "fastapi": "uvicorn {slug}.main:app --app-dir src --reload",
    "django": "python manage.py runserver",
    "flask": "flask --app {slug} run --debug",
    "none": "python -m {slug}",
}
_JS_RUN_SCRIPT = {"nextjs": "dev", "react": "dev", "express": "start", "none": "start"}


def default_commands(
    language: str, package_manager: str, framework: str, slug: str
) -> StackCommands:
    """Commands for a stack when nothing better was detected in the project's own files."""
    if language == "python":
        prefix = _PYTHON_RUNNERS.get(package_manager, "")
        pytest = "python -m pytest" if package_manager == "pip" else "pytest"
        return StackCommands(
            install=_PYTHON_INSTALL.get(package_manager, _PYTHON_INSTALL["pip"]),
            test=f"{prefix}{pytest}",
            lint=f"{prefix}ruff check .",
            format=f"{prefix}ruff format .",
            run=prefix + _PYTHON_RUN.get(framework, _PYTHON_RUN["none"]).format(slug=slug),
        )
    if language in ("typescript", "javascript"):
        pm = package_manager
        script = _JS_RUN_SCRIPT.get(framework, "start")
        # npm needs `run` for scripts other than test/start; the others accept bare script names.
        run_script = f"npm run {script}" if pm == "npm" and script != "start" else f"{pm} {script}"
        if pm == "bun":
            run_script = f"bun run {script}"
        return StackCommands(
            install=f"{pm} install",
            test=f"{pm} test" if pm != "bun" else "bun run test",
            lint=f"{pm} run lint",
            format=f"{pm} run format",
            run=run_script,
        )
    if language == "go":
        return StackCommands(
            install="go mod download",
            test="go test ./...",
            lint="go vet ./...",
            format="gofmt -w .",
            run="go run .",
        )
    if language == "rust":
        return StackCommands(
            install="cargo fetch",
            test="cargo test",
            lint="cargo clippy -- -D warnings",
            format="cargo fmt",
            run="cargo run",
        )
    raise ValueError(f"unknown language: {language}")
