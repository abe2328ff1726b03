"""Helpers for upgrade, overlay and doctor tests: the CLI in-process, overlays, real git."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from tac_bootstrap_cli import commands

Run = Callable[..., Result]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _fresh_cli_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    commands.state.update(debug=False, argv=None)
    yield
    commands.state.update(debug=False, argv=None)


@pytest.fixture
def cli() -> Run:
    """``cli("upgrade", path)`` -> click Result (exit_code, stdout, stderr)."""

    def run(*args: str | os.PathLike[str], input: str | None = None) -> Result:
        return CliRunner().invoke(commands.app, [str(a) for a in args], input=input)

    return run


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run git in ``cwd``; its stdout."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_ENV},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def git_commit_all(project: Path, message: str = "snapshot") -> None:
    """``git init`` (once), then add and commit everything."""
    if not (project / ".git").exists():
        git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message, "--allow-empty")


def make_overlay(
    root: Path, files: Mapping[str, str | bytes], meta: Mapping[str, Any] | None = None
) -> Path:
    """An overlay folder: ``files`` by template path, plus ``tac-template.yml`` from ``meta``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if meta is not None:
        (root / "tac-template.yml").write_text(yaml.safe_dump(dict(meta)), encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` (outside .git) with its mtime (ns) and bytes."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
