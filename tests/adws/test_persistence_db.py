"""adw_database: connect, schema and migrations, repositories, atomic, error translation."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    BUSY_TIMEOUT_S,
    MIGRATIONS,
    SCHEMA_PATH,
    SCHEMA_VERSION,
    TABLES,
    AgentLogRepository,
    AgentRepository,
    ConstraintError,
    DatabaseError,
    OrchestratorAgentRepository,
    PromptRepository,
    SchemaVersionError,
    SystemLogRepository,
    atomic,
    connect,
    init_schema,
    schema_version,
    split_statements,
)
from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import APPLICATION_ID, ForeignDatabaseError
from tac_bootstrap_cli._adws.adw_modules.observatory import listing as observatory_listing
from tac_bootstrap_cli._adws.adw_modules.observatory import readonly as observatory_readonly
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import (
    Agent,
    AgentLog,
    OrchestratorAgent,
    Prompt,
    SystemLog,
)

T0 = datetime(2026, 2, 4, 10, 0, tzinfo=UTC)


def pragma(conn: sqlite3.Connection, name: str) -> object:
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def master(path: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
        return list(rows)


def build_v1(path: Path) -> None:
    """A database as version 1 of the schema left it (no indexes), with rows."""
    conn = connect(path)
    conn.executescript(MIGRATIONS[0].script)
    conn.execute("PRAGMA user_version = 1")
    parent = OrchestratorAgentRepository(conn).create(OrchestratorAgent(name="legacy"))
    run = AgentRepository(conn).create(Agent(orchestrator_agent_id=parent.id, session_id="old"))
    AgentLogRepository(conn).create(AgentLog(agent_id=run.id, log_type="event", message="kept"))
    conn.close()


def build_v2(path: Path) -> tuple[str, str]:
    """A database as version 2 of the schema left it, with a prompt row; returns (agent, prompt)
    ids. The row is written in SQL: today's repository would write the version-3 columns."""
    conn = connect(path)
    conn.executescript(MIGRATIONS[0].script + MIGRATIONS[1].script)
    conn.execute("PRAGMA user_version = 2")
    parent = OrchestratorAgentRepository(conn).create(OrchestratorAgent(name="legacy"))
    run = AgentRepository(conn).create(Agent(orchestrator_agent_id=parent.id, session_id="old"))
    prompt_id = "00000000-0000-4000-8000-000000000002"
    conn.execute(
        "INSERT INTO prompts (id, agent_id, content, response, status, tokens_input,"
        " tokens_output, cost_usd, created_at, completed_at)"
        " VALUES (?, ?, 'old prompt', 'old answer', 'completed', 2100, 340, 0.0123, ?, ?)",
        (prompt_id, run.id, T0.isoformat(timespec="microseconds"), None),
    )
    conn.close()
    return run.id, prompt_id


# -- connect ----------------------------------------------------------------------------------


def test_connect_settings(db_path: Path) -> None:
    conn = connect(str(db_path))
    assert db_path.is_file()  # parent folders were created
    assert pragma(conn, "foreign_keys") == 1
    assert pragma(conn, "journal_mode") == "wal"
    assert pragma(conn, "synchronous") == 1  # NORMAL
    assert pragma(conn, "busy_timeout") == int(BUSY_TIMEOUT_S * 1000) >= 5000
    assert conn.isolation_level is None and not conn.in_transaction
    conn.close()


def test_connect_in_memory() -> None:
    conn = connect(":memory:")
    init_schema(conn)
    assert pragma(conn, "foreign_keys") == 1
    assert schema_version(conn) == SCHEMA_VERSION
    conn.close()


@pytest.mark.parametrize(
    "content",
    [
        b"hello, I am a text file\n" * 50,
        b"SQLite format 2\x00" + b"\x00" * 1000,
        b"x",  # SQLite alone would take a file this short for an empty database
        b"SQLite format 3\x00" + b"\x00" * 100,  # a header without a page
    ],
)
def test_not_a_database_is_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(DatabaseError, match="not a SQLite database") as info:
        connect(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]  # no -wal/-shm either


def test_corrupt_database_raises_database_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(DatabaseError, match=str(path)):
        init_schema(connect(path))


def test_connect_to_a_folder_or_under_a_file_fails(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=str(tmp_path)):
        connect(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatabaseError, match="file"):
        connect(blocker / "sub" / "run.db")


# -- schema -----------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_fresh_schema(conn: sqlite3.Connection) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == set(TABLES)
    indexes = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        if not r[0].startswith("sqlite_autoindex")
    ]
    assert len(indexes) >= 6
    assert schema_version(conn) == SCHEMA_VERSION == MIGRATIONS[-1].version
    fks = {
        (table, fk[2], fk[6])
        for table in TABLES
        for fk in conn.execute(f"PRAGMA foreign_key_list({table})")
    }
    assert fks == {
        ("agents", "orchestrator_agents", "CASCADE"),
        ("prompts", "agents", "CASCADE"),
        ("agent_logs", "agents", "CASCADE"),
    }


@pytest.mark.sqlite_only
def test_init_schema_is_idempotent(conn: sqlite3.Connection, db_path: Path) -> None:
    before = master(db_path)
    init_schema(conn)
    init_schema(conn)
    assert master(db_path) == before


def test_v1_file_migrates_with_rows_intact(tmp_path: Path) -> None:
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    build_v1(old)
    assert not [r for r in master(old) if r[0] == "index" and r[3]]  # v1 has no query indexes
    conn = connect(old)
    init_schema(conn)
    assert schema_version(conn) == SCHEMA_VERSION
    assert [log.message for log in AgentLogRepository(conn).list()] == ["kept"]
    assert OrchestratorAgentRepository(conn).get_or_create("legacy").name == "legacy"
    conn.close()
    new = connect(fresh)
    init_schema(new)
    new.close()
    assert master(old) == master(fresh)  # the schema file is the one source of truth


def test_v2_file_with_prompts_migrates_and_reads_back(tmp_path: Path) -> None:
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    agent_id, prompt_id = build_v2(old)
    conn = connect(old)
    init_schema(conn)
    assert schema_version(conn) == SCHEMA_VERSION == 5
    repo = PromptRepository(conn)
    migrated = repo.get(prompt_id)
    assert migrated is not None and migrated.agent_id == agent_id
    assert (migrated.content, migrated.response, migrated.status) == (
        "old prompt",
        "old answer",
        "completed",
    )
    assert (migrated.tokens_input, migrated.tokens_output, migrated.cost_usd) == (2100, 340, 0.0123)
    assert (migrated.tokens_cache_read, migrated.tokens_cache_creation) == (0, 0)
    assert (migrated.num_turns, migrated.duration_ms, migrated.models) == (0, 0, None)
    new_row = repo.create(
        Prompt(
            agent_id=agent_id,
            content="new",
            tokens_input=2100,
            tokens_cache_read=6000,
            tokens_cache_creation=500,
            tokens_output=700,
            num_turns=4,
            duration_ms=9000,
            models="claude-sonnet-4-5",
        )
    )
    assert repo.get(new_row.id) == new_row
    assert repo.count(agent_id=agent_id) == 2
    conn.close()
    new = connect(fresh)
    init_schema(new)
    new.close()
    assert master(old) == master(fresh)


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as raw:  # a rollback-journal file, as a newer tool might leave it
        raw.execute("CREATE TABLE future (x)")
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    before = path.read_bytes()
    conn = connect(path)
    with pytest.raises(SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}") as info:
        init_schema(conn)
    assert isinstance(info.value, DatabaseError) and str(path) in str(info.value)
    conn.close()
    assert path.read_bytes() == before


def test_foreign_tables_in_an_unversioned_file_are_not_overwritten(tmp_path: Path) -> None:
    # Before the ownership check, connect switched such a file to WAL (its header changed) and
    # only the migration was refused; now connect refuses it and nothing at all is written.
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE agents (whatever)")
    raw.close()
    before = path.read_bytes()
    with pytest.raises(ForeignDatabaseError, match="not a tac-bootstrap database") as info:
        connect(path)
    assert isinstance(info.value, DatabaseError) and "agents" in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_split_statements() -> None:
    script = "-- head; not a statement\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nSELECT 1;\n-- tail"
    assert split_statements(script) == [
        "-- head; not a statement\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "SELECT 1;",
    ]
    with pytest.raises(ValueError, match="unterminated"):
        split_statements("SELECT 1; SELECT 2")
    assert SCHEMA_PATH.name == "schema_orchestrator.sql" and SCHEMA_PATH.is_file()


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO orchestrator_agents VALUES ('i', ' ', NULL, 'active', NULL, 't', 't')",
        "INSERT INTO orchestrator_agents VALUES ('i', 'n', NULL, 'gone', NULL, 't', 't')",
        "INSERT INTO agents (id, orchestrator_agent_id, session_id, status, created_at) "
        "VALUES ('a', 'missing', 's', 'pending', 't')",
        "INSERT INTO system_logs VALUES ('i', 'loud', 'm', NULL, NULL, 't')",
    ],
)
@pytest.mark.sqlite_only
def test_check_and_foreign_key_constraints_in_sql(conn: sqlite3.Connection, sql: str) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(sql)


@pytest.mark.sqlite_only
def test_numeric_and_enum_checks_in_sql(conn: sqlite3.Connection, agent: Agent) -> None:
    for column, value in (
        ("tokens_input", -1),
        ("tokens_output", -1),
        ("cost_usd", -0.5),
        ("tokens_cache_read", -1),
        ("tokens_cache_creation", -1),
        ("num_turns", -1),
        ("duration_ms", -1),
        ("models", ""),
        ("models", "  "),
    ):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(
                f"INSERT INTO prompts (id, agent_id, content, created_at, {column}) "
                "VALUES ('p', ?, 'c', 't', ?)",
                (agent.id, value),
            )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO agent_logs VALUES ('l', ?, 'note', 'm', NULL, 't')", (agent.id,))


@pytest.mark.sqlite_only
def test_every_index_serves_a_repository_query(conn: sqlite3.Connection) -> None:
    """Run each indexed query through the repositories, then check the plans SQLite chose."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    some_id = "00000000-0000-0000-0000-000000000001"
    AgentRepository(conn).list()
    AgentRepository(conn).list(orchestrator_agent_id=some_id)
    AgentRepository(conn).count(status="running")
    AgentRepository(conn).list(session_id="s")
    PromptRepository(conn).list(agent_id=some_id)
    AgentLogRepository(conn).list(agent_id=some_id, limit=50)
    AgentLogRepository(conn).list(agent_id=some_id, log_type="error")
    SystemLogRepository(conn).list()
    SystemLogRepository(conn).list(log_level="error")
    OrchestratorAgentRepository(conn).list(name="planner")
    # The observatory (a reader of the same schema) finds a workflow run's Agents by ADW id.
    conn.execute(
        f"SELECT id FROM agents a WHERE {observatory_readonly._meta('adw_id')} = ?", ("x",)
    )
    # ... and searches the task text of the prompts (schema migration 5).
    conn.execute(observatory_listing._TASK_SEARCH_SQL, {"q": "x"})
    conn.set_trace_callback(None)
    used: set[str] = set()
    for sql in statements:
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "USING" in plan and "TEMP B-TREE" not in plan, (sql, plan)
        used.update(word for word in plan.replace("(", " ").split() if word.startswith("idx_"))
    declared = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'idx_%'")
    }
    assert used == declared


# -- repositories -----------------------------------------------------------------------------


def test_crud_cycle(conn: sqlite3.Connection) -> None:
    repo = OrchestratorAgentRepository(conn)
    created = repo.create(OrchestratorAgent(name="builder", metadata={"tier": 1}))
    assert repo.get(created.id) == created
    assert repo.get(created.id.upper()) == created
    assert repo.get("not-a-uuid") is None
    created.description = "builds"
    created.metadata = {}
    updated = repo.update(created)
    assert updated is not None and updated.updated_at >= created.updated_at
    stored = repo.get(created.id)
    assert stored == updated and stored.description == "builds" and stored.metadata == {}
    assert repo.count() == 1 and repo.count(status="active") == 1
    assert repo.delete(created.id) is True
    assert repo.delete(created.id) is False
    assert repo.get(created.id) is None
    assert repo.update(created) is None


def test_update_writes_every_field(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentRepository(conn)
    agent.status = "completed"
    agent.completed_at = T0
    agent.model = "opus"
    agent.metadata = {"branch": "main"}
    assert repo.update(agent) == agent  # no updated_at on agents: returned as given
    assert repo.get(agent.id) == agent
    agent.metadata = None
    repo.update(agent)
    stored = repo.get(agent.id)
    assert stored is not None and stored.metadata is None and stored.model == "opus"


def test_list_newest_first_with_paging_and_filters(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    logs = [
        AgentLog(
            agent_id=agent.id,
            log_type="error" if i % 3 == 0 else "event",
            message=f"m{i}",
            created_at=T0 + timedelta(seconds=i % 5),  # equal timestamps: insertion order wins
        )
        for i in range(10)
    ]
    assert repo.create_many(logs) == 10
    expected = sorted(range(10), key=lambda i: (i % 5, i), reverse=True)
    assert [log.message for log in repo.list()] == [f"m{i}" for i in expected]
    assert [log.message for log in repo.list(limit=3, offset=2)] == [f"m{i}" for i in expected[2:5]]
    assert repo.list(limit=0) == []
    errors = repo.list(agent_id=agent.id.upper(), log_type="error")
    assert [log.message for log in errors] == ["m9", "m3", "m6", "m0"]
    assert repo.count(log_type="error") == 4 and repo.count(agent_id=agent.id) == 10
    assert repo.list(agent_id="00000000-0000-0000-0000-000000000000") == []


def test_none_filter_matches_null(conn: sqlite3.Connection) -> None:
    repo = SystemLogRepository(conn)
    repo.create(SystemLog(log_level="info", message="a", source="cli"))
    repo.create(SystemLog(log_level="info", message="b"))
    assert [log.message for log in repo.list(source=None)] == ["b"]
    assert [log.message for log in repo.list(source="cli")] == ["a"]


def test_unknown_filters_are_named(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="message, nope"):
        AgentLogRepository(conn).list(nope=1, message="x")
    with pytest.raises(ValueError, match="unknown filter"):
        AgentRepository(conn).count(created_at="x")
    with pytest.raises(ValueError, match=">= 0"):
        AgentRepository(conn).list(limit=-1)


def test_create_many_is_all_or_nothing(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    good = [AgentLog(agent_id=agent.id, log_type="event", message=str(i)) for i in range(5)]
    orphan = AgentLog(
        agent_id="00000000-0000-0000-0000-0000000000ff", log_type="event", message="orphan"
    )
    with pytest.raises(ConstraintError, match="agent_logs") as info:
        repo.create_many([*good, orphan])
    assert info.value.table == "agent_logs"
    assert repo.count() == 0 and not conn.in_transaction
    assert SystemLogRepository(conn).create_many([]) == 0


def test_constraint_errors_name_the_table(conn: sqlite3.Connection, agent: Agent) -> None:
    with pytest.raises(ConstraintError, match=r"orchestrator_agents.*UNIQUE"):
        OrchestratorAgentRepository(conn).create(OrchestratorAgent(name="planner"))
    with pytest.raises(ConstraintError, match=r"prompts.*FOREIGN KEY"):
        PromptRepository(conn).create(Prompt(agent_id=agent.orchestrator_agent_id, content="c"))
    with pytest.raises(ConstraintError, match=r"agents.*UNIQUE"):
        AgentRepository(conn).create(agent)
    with pytest.raises(TypeError, match="stores Agent"):
        AgentRepository(conn).create(OrchestratorAgent(name="x"))  # type: ignore[arg-type]


def test_delete_cascades(conn: sqlite3.Connection, agent: Agent) -> None:
    PromptRepository(conn).create(Prompt(agent_id=agent.id, content="c"))
    AgentLogRepository(conn).create(AgentLog(agent_id=agent.id, log_type="event", message="m"))
    assert OrchestratorAgentRepository(conn).delete(agent.orchestrator_agent_id)
    for repo in (AgentRepository(conn), PromptRepository(conn), AgentLogRepository(conn)):
        assert repo.count() == 0


def test_values_are_parameters_not_sql(conn: sqlite3.Connection) -> None:
    repo = SystemLogRepository(conn)
    nasty = "x'); DROP TABLE system_logs; --"
    repo.create(SystemLog(log_level="info", message=nasty, source=nasty))
    assert [log.message for log in repo.list(source=nasty)] == [nasty]
    assert repo.count() == 1


def test_get_or_create(conn: sqlite3.Connection) -> None:
    repo = OrchestratorAgentRepository(conn)
    first = repo.get_or_create("reviewer")
    assert repo.get_or_create("reviewer") == first
    assert repo.count(name="reviewer") == 1 and first.status == "active"


@pytest.mark.sqlite_only
def test_invalid_row_in_file_is_a_database_error(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO system_logs VALUES ('bad-id', 'info', 'm', NULL, '[1]', '2026-01-01')"
    )
    with pytest.raises(DatabaseError, match="system_logs: row 'bad-id' is invalid"):
        SystemLogRepository(conn).list()


# -- atomic -----------------------------------------------------------------------------------


def test_atomic_commits_and_rolls_back(conn: sqlite3.Connection) -> None:
    repo = SystemLogRepository(conn)
    with atomic(conn):
        repo.create(SystemLog(log_level="info", message="kept"))
    with pytest.raises(RuntimeError), atomic(conn):
        repo.create(SystemLog(log_level="info", message="lost"))
        raise RuntimeError
    assert [log.message for log in repo.list()] == ["kept"]
    assert not conn.in_transaction


def test_nested_atomic_uses_savepoints(conn: sqlite3.Connection) -> None:
    repo = SystemLogRepository(conn)
    with atomic(conn):
        repo.create(SystemLog(log_level="info", message="outer"))
        with pytest.raises(ConstraintError), atomic(conn):
            repo.create(SystemLog(log_level="info", message="inner"))
            repo.create(SystemLog(log_level="info", message="dup", id=repo.list()[0].id))
        with atomic(conn):
            repo.create(SystemLog(log_level="info", message="inner ok"))
        assert conn.in_transaction
    assert sorted(log.message for log in repo.list()) == ["inner ok", "outer"]
    assert not conn.in_transaction


@pytest.mark.sqlite_only
def test_atomic_holds_the_write_lock(db_path: Path, conn: sqlite3.Connection) -> None:
    other = sqlite3.connect(db_path, timeout=0)
    with atomic(conn):
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        assert other.execute("SELECT count(*) FROM agents").fetchone() == (0,)  # readers go on
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


@pytest.mark.sqlite_only
def test_text_with_nul_characters_round_trips(conn: sqlite3.Connection) -> None:
    """SQLite's length() stops at NUL, so a CHECK written with it would reject these."""
    parent = OrchestratorAgentRepository(conn).create(OrchestratorAgent(name="\x00planner"))
    run = Agent(orchestrator_agent_id=parent.id, session_id="\x00", name="a\x00b")
    AgentRepository(conn).create(run)
    assert AgentRepository(conn).get(run.id) == run
    assert OrchestratorAgentRepository(conn).get(parent.id) == parent


# -- ownership: application_id, older files of ours, foreign and special files ----------------------


def test_a_new_database_carries_the_application_id(db_path: Path) -> None:
    conn = connect(db_path)
    init_schema(conn)
    conn.close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    raw.close()


def test_an_older_file_of_ours_without_application_id_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    build_v1(path)  # as releases before application_id made it
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA application_id").fetchone()[0] == 0
    raw.close()
    conn = connect(path)
    init_schema(conn)
    assert schema_version(conn) == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert AgentLogRepository(conn).count() == 1
    conn.close()


def test_a_current_file_of_ours_without_application_id_gets_it(db_path: Path) -> None:
    conn = connect(db_path)
    init_schema(conn)
    conn.execute("PRAGMA application_id = 0")
    conn.close()
    conn = connect(db_path)
    init_schema(conn)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


@pytest.mark.parametrize("app_id", [1, 0x7FFFFFFF, -1])
def test_another_applications_file_is_refused_even_with_our_tables(
    tmp_path: Path, app_id: int
) -> None:
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as raw:
        raw.executescript(MIGRATIONS[0].script)
        raw.execute(f"PRAGMA application_id = {app_id}")
        raw.execute("PRAGMA user_version = 1")
    raw.close()
    before = path.read_bytes()
    with pytest.raises(ForeignDatabaseError, match="application_id"):
        connect(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.db"]


def test_special_files_are_refused_before_sqlite_opens_them(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/null")):
        with pytest.raises(DatabaseError, match="not a regular file"):
            connect(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.db"]
    assert not Path("/dev/null-journal").exists()


@pytest.mark.parametrize("cut", ["half", "last page"])
def test_a_truncated_file_of_ours_is_refused_untouched(tmp_path: Path, cut: str) -> None:
    path = tmp_path / "cut.db"
    conn = connect(path)
    init_schema(conn)
    conn.execute("PRAGMA journal_mode = DELETE")  # no -wal: the file alone is the database
    conn.close()
    data = path.read_bytes()
    assert len(data) >= 3 * 4096
    path.write_bytes(data[: len(data) // 4096 // 2 * 4096] if cut == "half" else data[:-4096])
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="malformed"):
        connect(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.db"]
