"""Fixtures for the persistence tests: real SQLite files under tmp_path, read-only paths."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adws.adw_modules.adw_database import (
    AgentRepository,
    OrchestratorAgentRepository,
    connect,
    init_schema,
)
from adws.adw_modules.orch_database_models import Agent

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's database lives (not created yet)."""
    return tmp_path / "db" / "orchestrator.db"


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    """An open, initialised database file."""
    connection = connect(db_path)
    init_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def agent(conn: sqlite3.Connection) -> Agent:
    """A stored run under a stored orchestrator agent, for rows that need a parent."""
    parent = OrchestratorAgentRepository(conn).get_or_create("planner")
    return AgentRepository(conn).create(Agent(orchestrator_agent_id=parent.id, session_id="s-1"))


Freeze = Callable[[Path], None]


@pytest.fixture
def freeze() -> Iterator[Freeze]:
    """``freeze(path)`` makes a file or folder unwritable, even for root (chattr +i), and undoes
    it afterwards; skips the test where neither permissions nor chattr can do that."""
    frozen: list[tuple[Path, int]] = []

    def _freeze(path: Path) -> None:
        mode = path.stat().st_mode
        if os.geteuid() == 0:
            chattr = shutil.which("chattr")
            if chattr is None or subprocess.run([chattr, "+i", str(path)]).returncode != 0:
                pytest.skip("running as root without a working chattr: cannot make read-only")
        else:
            path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        frozen.append((path, mode))
        try:  # prove it, so the test cannot pass for the wrong reason
            if path.is_dir():
                (path / ".probe").touch()
            else:
                with path.open("ab"):
                    pass
        except PermissionError:
            return
        pytest.skip(f"{path} stays writable here")

    yield _freeze
    for path, mode in reversed(frozen):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(mode)
