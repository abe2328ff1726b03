"""Helpers for CLI tests: run a command in-process with CliRunner and read back what it wrote."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tac_bootstrap_cli import commands

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _fresh_cli_state() -> Iterator[None]:
    commands.state.update(debug=False, argv=None)
    yield
    commands.state.update(debug=False, argv=None)


@pytest.fixture
def cli() -> Run:
    """``cli("init", "x", "-o", dir)`` -> click Result (exit_code, stdout, stderr)."""

    def run(*args: str | os.PathLike[str], input: str | None = None) -> Result:
        return CliRunner().invoke(commands.app, [str(a) for a in args], input=input)

    return run


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` with its mtime (ns) and bytes."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
