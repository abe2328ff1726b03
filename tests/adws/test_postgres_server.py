"""The test PostgreSQL server itself: real, local, disposable, one schema per test."""

from __future__ import annotations

import psycopg


def test_the_server_is_a_real_postgresql_on_loopback(postgres_server: str) -> None:
    with psycopg.connect(postgres_server) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None and int(version[0]) >= 130000
        if "127.0.0.1" in postgres_server:  # ours, not TEST_DATABASE_URL's
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)


def test_each_test_gets_an_empty_schema_of_its_own(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        assert schema is not None and schema[0].startswith("t_")
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
        assert tables == (0,)
