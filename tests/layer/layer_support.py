"""Shared helpers of the agentic-layer tests: render a project for a stack, write it, run it.

A module with its own name (not ``conftest``): several test folders have a conftest.py, and
``from conftest import ...`` would depend on which one was imported last.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo, dump_config
from tac_bootstrap_cli.render import RenderedFile, render_project

# name -> (project name, language, package manager); the issue asks for these four at least.
STACKS: dict[str, tuple[str, str, str]] = {
    "python-uv": ("demo", "python", "uv"),
    "python-poetry": ("poetry-app", "python", "poetry"),
    "typescript-pnpm": ("web-app", "typescript", "pnpm"),
    "go": ("go-svc", "go", "go"),
    # A name that breaks naive quoting in JSON, YAML, shell and Python.
    "hostile-name": ('my "app" $x \\ é', "python", "pip"),
}


def _real_uv_cache() -> str | None:
    """uv's cache as it is before the autouse fixture moves HOME (so runs reuse downloads)."""
    if os.environ.get("UV_CACHE_DIR"):
        return os.environ["UV_CACHE_DIR"]
    uv = shutil.which("uv")
    if uv is None:
        return None
    proc = subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


UV_CACHE_DIR = _real_uv_cache()


def config_for(stack: str) -> ProjectConfig:
    """The answers of one test stack."""
    name, language, manager = STACKS[stack]
    return ProjectConfig(project=ProjectInfo(name=name, language=language, package_manager=manager))


@cache
def rendered(stack: str) -> dict[str, RenderedFile]:
    """The rendered files of a stack (cached: rendering is pure)."""
    return render_project(config_for(stack).template_context())


def write_project(dest: Path, stack: str, *, delay_seconds: float | None = 0) -> Path:
    """Write a stack's project (plus config.yml) to ``dest``, as the CLI would."""
    config = config_for(stack)
    if delay_seconds is not None:
        workflows = config.workflows
        on_failure = workflows.on_failure.replace(delay_seconds=delay_seconds)
        config = config.replace(workflows=workflows.replace(on_failure=on_failure))
    for rel, file in rendered(stack).items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.content)
        path.chmod(file.mode)
    (dest / "config.yml").write_text(dump_config(config), encoding="utf-8")
    return dest


def run_env(**extra: str) -> dict[str, str]:
    """The environment for running generated scripts: the real uv cache, no inherited overrides."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TAC_DB_PATH", "ADW_AGENT_ID", "VIRTUAL_ENV")
    }
    if UV_CACHE_DIR:
        env["UV_CACHE_DIR"] = UV_CACHE_DIR
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def uv() -> str:
    """The uv executable; the runtime tests need it (it is the layer's one prerequisite)."""
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv is not on PATH; install it (python3 -m pip install uv)")
    return found
