"""The PostgreSQL backend itself: the schema translated from SQLite's, migrations, errors.

(The repository API's own tests run on both backends through ``conn``; see conftest.py.)
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from tac_bootstrap_cli._adws.adw_modules import adw_postgres
from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLES,
    AgentRepository,
    ConstraintError,
    DatabaseError,
    OrchestratorAgentRepository,
    Repository,
    SchemaVersionError,
    SystemLogRepository,
    init_schema,
    open_database,
    schema_version,
)
from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import ForeignDatabaseError
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import (
    Agent,
    OrchestratorAgent,
    SystemLog,
)

PG_TYPES = {"uuid": {"uuid"}, "time": {"timestamp with time zone"}, "json": {"jsonb"}}


def catalog(url: str) -> dict[str, object]:
    """What a schema holds, as PostgreSQL describes it (comparable between two schemas)."""
    with psycopg.connect(url) as raw:
        columns = raw.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " ORDER BY table_name, column_name"
        ).fetchall()
        indexes = raw.execute(
            "SELECT indexname, regexp_replace(indexdef, ' ON \\S+\\.', ' ON ') FROM pg_indexes"
            " WHERE schemaname = current_schema() ORDER BY indexname"
        ).fetchall()
        constraints = raw.execute(
            "SELECT conrelid::regclass::text, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2, 3"
        ).fetchall()
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def test_column_types_follow_the_models(postgres_url: str) -> None:
    """The translator's naming conventions give every model field its PostgreSQL type."""
    conn = open_database(postgres_url)
    init_schema(conn)
    types = dict(
        ((t, c), d)
        for t, c, d in conn.raw.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        ).fetchall()
    )
    conn.close()
    for repo in Repository.__subclasses__():
        for column, kind in repo._kinds.items():
            allowed = PG_TYPES.get(kind, {"text", "bigint", "double precision"})
            assert types[(repo.table, column)] in allowed, (repo.table, column, kind)
    assert {t for t, _ in types} == {*TABLES, "schema_version"}


def test_fresh_schema_has_sqlites_indexes_foreign_keys_and_checks(postgres_url: str) -> None:
    conn = open_database(postgres_url)
    init_schema(conn)
    conn.close()
    found = catalog(postgres_url)
    sqlite_indexes = {
        word for m in MIGRATIONS for word in m.script.split() if word.startswith("idx_")
    }
    assert {name for name, _ in found["indexes"] if name.startswith("idx_")} == sqlite_indexes  # type: ignore[attr-defined]
    fks = [c for c in found["constraints"] if c[1] == "f"]  # type: ignore[attr-defined]
    assert sorted((t, d.split("REFERENCES ")[1]) for t, _, d in fks) == [
        ("agent_logs", "agents(id) ON DELETE CASCADE"),
        ("agents", "orchestrator_agents(id) ON DELETE CASCADE"),
        ("prompts", "agents(id) ON DELETE CASCADE"),
    ]
    checks = [c for c in found["constraints"] if c[1] == "c"]  # type: ignore[attr-defined]
    assert len(checks) >= 15


def test_a_version_1_schema_migrates_to_what_a_fresh_one_is(postgres_server: str) -> None:
    from tests import pg_support

    urls = []
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        for _ in range(2):
            schema = pg_support.new_schema_name()
            admin.execute(f"CREATE SCHEMA {schema}")
            urls.append(pg_support.schema_url(postgres_server, schema))
    old_url, fresh_url = urls
    try:
        old = open_database(old_url)
        old.execute(adw_postgres._VERSION_DDL)
        old.execute(adw_postgres.migrations()[0].script)
        old.execute("INSERT INTO schema_version (version) VALUES (1)")
        parent = OrchestratorAgentRepository(old).create(OrchestratorAgent(name="legacy"))
        assert schema_version(old) == 1
        init_schema(old)
        assert schema_version(old) == SCHEMA_VERSION
        assert OrchestratorAgentRepository(old).get(parent.id) == parent
        old.close()
        fresh = open_database(fresh_url)
        init_schema(fresh)
        init_schema(fresh)  # idempotent
        fresh.close()
        assert catalog(old_url) == catalog(fresh_url)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            for url in urls:
                schema = url.split("search_path%3D")[1].split("%2C")[0]
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    conn = open_database(postgres_url)
    init_schema(conn)
    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}"):
        init_schema(conn)
    conn.close()


def test_someone_elses_tables_are_not_taken_over(postgres_url: str) -> None:
    conn = open_database(postgres_url)
    conn.execute("CREATE TABLE agents (whatever TEXT)")
    with pytest.raises(ForeignDatabaseError, match="agents"):
        init_schema(conn)
    assert schema_version(conn) == 0
    conn.close()


def test_constraint_errors_read_as_sqlites(postgres_url: str) -> None:
    conn = open_database(postgres_url)
    init_schema(conn)
    with pytest.raises(psycopg.errors.CheckViolation) as info:
        conn.execute(
            "INSERT INTO system_logs (id, log_level, message, created_at)"
            " VALUES (gen_random_uuid(), 'loud', 'm', now())"
        )
    translated = adw_postgres.error(info.value, "system_logs")
    assert isinstance(translated, ConstraintError) and translated.table == "system_logs"
    assert str(translated).startswith("system_logs: CHECK constraint failed: ")
    conn.close()


def test_nul_characters_are_a_database_error_on_postgresql(postgres_url: str) -> None:
    """PostgreSQL text cannot hold NUL; SQLite can (a documented difference)."""
    conn = open_database(postgres_url)
    init_schema(conn)
    with pytest.raises(DatabaseError, match="NUL"):
        SystemLogRepository(conn).create(SystemLog(log_level="info", message="a\x00b"))
    conn.close()


def test_ids_that_are_no_uuid_match_nothing(postgres_url: str) -> None:
    conn = open_database(postgres_url)
    init_schema(conn)
    repo = AgentRepository(conn)
    assert repo.get("not-a-uuid") is None and repo.delete("nope") is False
    assert repo.count(orchestrator_agent_id="nope") == 0
    parent = OrchestratorAgentRepository(conn).get_or_create("p")
    run = repo.create(Agent(orchestrator_agent_id=parent.id, session_id="s"))
    assert repo.list(orchestrator_agent_id=parent.id.upper()) == [run]
    conn.close()


def test_unknown_sqlite_is_refused_by_the_translator() -> None:
    with pytest.raises(adw_postgres.TranslationError, match="instr"):
        adw_postgres.translate("CREATE INDEX i ON t (instr(a, 'x'));")
    with pytest.raises(adw_postgres.TranslationError):
        adw_postgres.translate("CREATE VIRTUAL TABLE f USING fts5(a);")
    assert adw_postgres.translate("CREATE INDEX i ON t (a, created_at);") == (
        "CREATE INDEX i ON t (a, created_at, rowid);\n"
    )


def test_the_sqlite_path_never_imports_psycopg() -> None:
    code = (
        "import sys\n"
        "from tac_bootstrap_cli._adws.adw_modules import adw_database, adw_logging\n"
        "c = adw_database.open_database(':memory:'); adw_database.init_schema(c)\n"
        "assert 'psycopg' not in sys.modules and 'tac_bootstrap_cli._adws.adw_modules.adw_postgres'"
        " not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_bad_url_is_a_database_error_without_the_password() -> None:
    with pytest.raises(DatabaseError) as info:
        open_database("postgresql://me:secret@127.0.0.1:1/none?connect_timeout=2")
    assert "secret" not in str(info.value) and "***" in str(info.value)
