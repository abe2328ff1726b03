"""Fixtures for the persistence tests: real databases (SQLite files under tmp_path, a schema of
their own on a real PostgreSQL server), read-only paths.

Every test that takes ``conn`` runs once per backend (``conn[sqlite]``, ``conn[postgres]``): the
repository API is the same on both. A test about SQLite itself (pragmas, the file, its row text)
is marked ``sqlite_only``; the PostgreSQL server starts only when a test needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentRepository,
    Connection,
    OrchestratorAgentRepository,
    connect,
    init_schema,
    open_database,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test is about SQLite itself; run it on that backend only"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend`` (and so ``conn``) takes each backend, or SQLite alone for ``sqlite_only``."""
    if "backend" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", BACKENDS[:1] if only_sqlite else BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend ``conn`` is (parametrised by ``pytest_generate_tests``)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's database lives (not created yet)."""
    return tmp_path / "db" / "orchestrator.db"


@pytest.fixture
def conn(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[Connection]:
    """An open, initialised database: a SQLite file, or a fresh schema on PostgreSQL."""
    if backend == "postgres":
        connection: Connection = open_database(request.getfixturevalue("postgres_url"))
    else:
        connection = connect(db_path)
    init_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def agent(conn: Connection) -> Agent:
    """A stored run under a stored orchestrator agent, for rows that need a parent."""
    parent = OrchestratorAgentRepository(conn).get_or_create("planner")
    return AgentRepository(conn).create(Agent(orchestrator_agent_id=parent.id, session_id="s-1"))
