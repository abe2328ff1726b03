"""What CLI-driven tests share besides fixtures: the ``cli`` fixture's type and file snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

# Every command path of the CLI, the root first (help, import and lazy-group tests walk them).
COMMAND_PATHS: list[list[str]] = [
    [],
    ["init"],
    ["add-agentic"],
    ["render"],
    ["upgrade"],
    ["doctor"],
    ["observe"],
    ["runs"],
    ["runs", "show"],
    ["generate"],
    ["generate", "models"],
]

Run = Callable[..., Result]  # the ``cli`` fixture: ``cli("init", "x", "-o", dir)`` -> Result


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` (outside .git) with its mtime (ns) and bytes."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
