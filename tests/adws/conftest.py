"""Fixtures for the persistence tests: real SQLite files under tmp_path, read-only paths."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentRepository,
    OrchestratorAgentRepository,
    connect,
    init_schema,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent

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
