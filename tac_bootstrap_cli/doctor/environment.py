"""The environment the layer runs in: the project database (opens, intact, current schema) and
the tools on PATH (uv, the agent CLI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from tac_bootstrap_cli.doctor.project import Project
from tac_bootstrap_cli.doctor.report import Check, ok, shown_path
from tac_bootstrap_cli.projectdb import inspect_db, migrate_db, project_db_path


def check_database(p: Project) -> Iterator[Check]:
    """The project database opens, passes ``integrity_check`` and has the current schema."""
    path = project_db_path(p.root, p.config)
    status = inspect_db(path)
    shown = shown_path(p.root, path)
    if not status.exists:
        yield ok("database", f"{shown} not created yet (created on first use)")
    elif status.error is not None:
        yield Check(
            "database",
            "fail",
            f"{shown} does not open: {status.error}",
            "move the file aside; the layer creates a new one",
        )
    elif status.integrity != "ok":
        yield Check(
            "database",
            "fail",
            f"{shown} integrity_check: {status.integrity}",
            "restore it from a backup or move it aside (the layer creates a new one)",
        )
    elif status.newer:
        yield Check(
            "database",
            "fail",
            f"{shown} schema v{status.version} is newer than this tac-bootstrap knows",
            "upgrade tac-bootstrap",
        )
    elif status.outdated:
        yield Check(
            "database",
            "fail",
            f"{shown} schema v{status.version} is out of date",
            "`tac-bootstrap doctor --fix` (or `upgrade`) backs it up and migrates it",
            fixable=True,
            fix=lambda: _migrate(path),
        )
    else:
        yield ok("database", f"{shown} healthy (schema v{status.version})")


def _migrate(path: Path) -> list[str]:
    migration = migrate_db(path)
    if migration is None:
        return []
    return [
        f"migrated {path.name} from schema v{migration.from_version} to v{migration.to_version}"
        f" (backup {migration.backup.name if migration.backup else '-'})"
    ]


def check_tools(p: Project) -> Iterator[Check]:
    """``uv`` (hooks and workflows run through it) and the agent CLI on PATH."""
    if shutil.which("uv") is None:
        yield Check(
            "tools.uv",
            "fail",
            "uv not found on PATH: the workflows run through it (and the hooks, when python3"
            " >= 3.11 is missing)",
            "install uv: https://docs.astral.sh/uv/ (or python3 -m pip install uv)",
        )
    else:
        yield ok("tools.uv", "uv found")
    explicit = os.environ.get("CLAUDE_CODE_PATH")
    cli = explicit or (p.config.agent.cli if p.config is not None else "claude")
    found = (
        Path(explicit).is_file() and os.access(explicit, os.X_OK)
        if explicit
        else shutil.which(cli) is not None
    )
    if found:
        yield ok("tools.agent", f"agent CLI {cli} found")
    else:
        yield Check(
            "tools.agent",
            "warn",
            f"agent CLI {cli!r} not found"
            + (" (CLAUDE_CODE_PATH)" if explicit else " on PATH")
            + ": the ADW workflows cannot run",
            "install Claude Code (npm install -g @anthropic-ai/claude-code) or set"
            " CLAUDE_CODE_PATH",
        )
