"""adw_sync: the local SQLite run log shipped to a real PostgreSQL server.

Every test has a fresh schema on the session's server (``postgres_url``) and SQLite files under
``tmp_path`` (one per "machine"). What is checked: everything arrives once, only changes travel
afterwards, a changed row travels again and replaces the older version (never the reverse), a
crash between the server's commit and the local mark only re-sends, two syncs at once (with and
without the lock) neither duplicate nor lose, machines share orchestrator agents by name, rows the
server cannot take are reported and skipped, an unreachable server is one line and exit 75.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tac_bootstrap_cli._adws.adw_modules import adw_sync
from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    PromptRepository,
    SystemLogRepository,
    connect,
    init_schema,
)
from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import (
    AgentLog,
    SystemLog,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A plain psycopg connection to the test's schema, for reading what arrived."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


def scalar(pg: psycopg.Connection[Any], sql: str, *params: Any) -> Any:
    row = pg.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def write_run(path: Path, events: int, name: str = "builder") -> str:
    """A finished run with ``events`` events, a prompt and a system log row; returns its id."""
    with start_run(path, name, strict=True) as run:
        for i in range(events):
            run.event(f"event {i}", i=i)
        run.prompt("the prompt", response="ok", tokens_input=3, tokens_output=4, cost_usd=0.5)
    conn = connect(path)
    SystemLogRepository(conn).create(SystemLog(log_level="info", message="hello", source="t"))
    conn.close()
    return run.agent_id


def local_counts(path: Path) -> dict[str, int]:
    conn = connect(path)
    try:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in adw_sync.COLUMNS
        }
    finally:
        conn.close()


def server_counts(pg: psycopg.Connection[Any]) -> dict[str, int]:
    return {t: scalar(pg, f"SELECT count(*) FROM {t}") for t in adw_sync.COLUMNS}


def test_first_sync_ships_everything_then_only_changes(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    db = tmp_path / "a.db"
    agent_id = write_run(db, 50)
    first = adw_sync.sync(db, postgres_url)
    before = local_counts(db)
    assert before == {
        "orchestrator_agents": 1,
        "agents": 1,
        "prompts": 1,
        "agent_logs": 50,
        "system_logs": 1,
    }
    assert first.shipped == sum(before.values())
    assert server_counts(pg) == local_counts(db)
    # Every row says where it came from; the machine is known by host and file.
    for table in adw_sync.COLUMNS:
        assert (
            scalar(pg, f"SELECT count(*) FROM {table} WHERE machine::text <> %s", first.machine)
            == 0
        )
    _host, source, last_seq, sent = pg.execute(
        "SELECT hostname, source, last_seq, rows_sent FROM sync_machines"
    ).fetchone()  # type: ignore[misc]
    assert source == str(db.resolve()) and last_seq == first.mark and sent == first.shipped
    assert adw_sync.machine_of(db) == first.machine
    # What arrived reads back through the same repositories, equal to the local models.
    from tac_bootstrap_cli._adws.adw_modules.adw_database import open_database

    server = open_database(postgres_url)
    local = connect(db)
    try:
        assert AgentRepository(server).get(agent_id) == AgentRepository(local).get(agent_id)
        assert AgentLogRepository(server).list(agent_id=agent_id, limit=100) == AgentLogRepository(
            local
        ).list(agent_id=agent_id, limit=100)
        assert PromptRepository(server).list() == PromptRepository(local).list()
    finally:
        server.close()
        local.close()

    assert adw_sync.sync(db, postgres_url).shipped == 0  # nothing changed: nothing sent
    write_run(db, 5)
    again = adw_sync.sync(db, postgres_url)
    # Only the new run, its logs, its prompt and the new system log row travel.
    assert again.shipped == sum(local_counts(db).values()) - sum(before.values()) == 1 + 5 + 1 + 1
    assert server_counts(pg) == local_counts(db)
    assert adw_sync.pending(db) == 0


def test_a_row_changed_after_shipping_is_shipped_again(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    db = tmp_path / "a.db"
    run = start_run(db, "builder", strict=True)  # still running when first shipped
    run.event("started")
    adw_sync.sync(db, postgres_url)
    assert scalar(pg, "SELECT status FROM agents WHERE id = %s", run.agent_id) == "running"
    run.prompt("p", response="r", tokens_input=10, tokens_output=20, cost_usd=1.25)
    run.finish()
    result = adw_sync.sync(db, postgres_url)
    assert result.shipped >= 2  # the Agent again, its new prompt, the logs of the end
    assert scalar(pg, "SELECT status FROM agents WHERE id = %s", run.agent_id) == "completed"
    assert scalar(pg, "SELECT count(*) FROM agents") == 1
    assert scalar(pg, "SELECT sum(cost_usd) FROM prompts") == 1.25
    assert server_counts(pg) == local_counts(db)


def test_an_older_version_never_replaces_a_newer_one(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    db = tmp_path / "a.db"
    agent_id = write_run(db, 1)
    conn = connect(db)
    machine, mark = adw_sync.prepare_local(conn)
    old = adw_sync.read_batch(conn, mark)
    agents = AgentRepository(conn)
    stored = agents.get(agent_id)
    assert stored is not None and old is not None
    agents.update(stored.model_copy(update={"name": "renamed"}))
    new = adw_sync.read_batch(conn, mark)
    assert new is not None and new.version > old.version
    conn.close()
    from tac_bootstrap_cli._adws.adw_modules import adw_postgres

    server = adw_postgres.connect(postgres_url)
    adw_sync.prepare_server(server)
    origin = adw_sync.Origin(machine, "host", str(db))
    adw_sync.ship(server, new, origin)
    adw_sync.ship(server, old, origin)  # late: e.g. a second sync that read before the change
    adw_sync.ship(server, new, origin)  # repeated: a re-send after a crash
    server.close()
    assert scalar(pg, "SELECT name FROM agents WHERE id = %s", agent_id) == "renamed"
    assert server_counts(pg) == local_counts(db)


class Crash(Exception):
    pass


def test_a_crash_between_the_server_commit_and_the_mark_only_resends(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    db = tmp_path / "a.db"
    write_run(db, 300)

    def crash(batch: adw_sync.Batch) -> None:
        if batch.after > 0:  # the second batch: committed on the server, not marked locally
            raise Crash

    with pytest.raises(Crash):
        adw_sync.sync(db, postgres_url, batch_rows=100, on_batch=crash)
    sent = scalar(pg, "SELECT count(*) FROM agent_logs")
    assert 0 < sent < 302
    result = adw_sync.sync(db, postgres_url, batch_rows=100)
    assert result.shipped > 100  # the unmarked batch went again ...
    assert server_counts(pg) == local_counts(db)  # ... and is there once
    assert scalar(pg, "SELECT rows_sent FROM sync_machines") > sum(local_counts(db).values())


def _write_runs(
    db: Path, runs: list[str], errors: list[BaseException], done: threading.Event
) -> None:
    """8 runs of 60 events each, their ids in ``runs``; ``done`` set at the end."""
    try:
        for _ in range(8):
            with start_run(db, "builder", strict=True) as run:
                runs.append(str(run.agent_id))
                for i in range(60):
                    run.event(f"e{i}")
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)
    finally:
        done.set()


def _sync_until(
    db: Path, url: str, lock: bool, done: threading.Event, errors: list[BaseException]
) -> None:
    """Sync in small batches while the writer runs, then once more."""
    try:
        syncer = adw_sync.Syncer(db, url, batch_rows=37, lock=lock, lock_wait_s=30)
        while not done.is_set():
            syncer.run()
        syncer.run()
        syncer.close()
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)


@pytest.mark.parametrize("lock", [True, False], ids=["locked", "unlocked"])
def test_two_syncs_at_once_neither_duplicate_nor_lose(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any], lock: bool
) -> None:
    db = tmp_path / "a.db"
    writer_done = threading.Event()
    errors: list[BaseException] = []
    runs: list[str] = []
    write_run(db, 1)  # the file exists before the syncs start
    threads = [threading.Thread(target=_write_runs, args=(db, runs, errors, writer_done))] + [
        threading.Thread(target=_sync_until, args=(db, postgres_url, lock, writer_done, errors))
        for _ in "ab"
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    adw_sync.sync(db, postgres_url)
    assert server_counts(pg) == local_counts(db)
    for table in adw_sync.COLUMNS:
        assert scalar(pg, f"SELECT count(DISTINCT id) FROM {table}") == local_counts(db)[table]
    # Every run's final state (completed) won over the earlier "running" versions.
    assert scalar(pg, "SELECT count(*) FROM agents WHERE status = 'completed'") == len(runs) + 1


def test_a_sync_waits_for_the_lock_then_leaves_the_rows_to_the_next(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    db = tmp_path / "a.db"
    write_run(db, 3)
    machine = adw_sync.sync(db, postgres_url).machine
    write_run(db, 2)
    pg.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (adw_sync.APPLICATION_ID, machine))
    try:
        held = adw_sync.sync(db, postgres_url, lock_wait_s=0.3)
    finally:
        pg.execute(
            "SELECT pg_advisory_unlock(%s, hashtext(%s))", (adw_sync.APPLICATION_ID, machine)
        )
    assert held.shipped == 0 and "held its lock" in held.summary("server")
    assert adw_sync.pending(db) == 6  # change entries: the new Agent twice (started, finished)
    assert adw_sync.sync(db, postgres_url).shipped == 5  # rows: each once
    assert server_counts(pg) == local_counts(db)


def test_machines_share_orchestrators_by_name(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    first, second = tmp_path / "laptop.db", tmp_path / "ci.db"
    run_a, run_b = write_run(first, 3), write_run(second, 4)
    machine_a = adw_sync.sync(first, postgres_url).machine
    machine_b = adw_sync.sync(second, postgres_url).machine
    assert machine_a != machine_b
    assert scalar(pg, "SELECT count(*) FROM orchestrator_agents") == 1  # "adw" once
    orchestrator = scalar(pg, "SELECT id::text FROM orchestrator_agents")
    for run, machine in ((run_a, machine_a), (run_b, machine_b)):
        row = pg.execute(
            "SELECT orchestrator_agent_id::text, machine::text FROM agents WHERE id = %s", (run,)
        ).fetchone()
        assert row == (orchestrator, machine)
    assert scalar(pg, "SELECT count(*) FROM agent_logs") == 3 + 4
    assert scalar(pg, "SELECT count(*) FROM sync_machines") == 2
    assert adw_sync.sync(second, postgres_url).shipped == 0


def test_rows_the_server_cannot_take_are_reported_and_skipped(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    db = tmp_path / "a.db"
    agent_id = write_run(db, 2)
    conn = connect(db)
    logs = AgentLogRepository(conn)
    logs.create(AgentLog(agent_id=agent_id, log_type="event", message="nul \x00 inside"))
    # Written by another tool: an id PostgreSQL's uuid type refuses.
    conn.execute(
        "INSERT INTO system_logs (id, log_level, message, created_at) VALUES"
        " ('not-a-uuid', 'info', 'foreign', '2026-01-01T00:00:00.000000+00:00')"
    )
    conn.close()
    result = adw_sync.sync(db, postgres_url)
    assert len(result.refused) == 1 and "system_logs not-a-uuid" in result.refused[0]
    assert "1 refused by the server" in result.summary("server")
    assert (
        scalar(pg, "SELECT count(*) FROM agent_logs WHERE message = %s", "nul \ufffd inside") == 1
    )
    assert scalar(pg, "SELECT count(*) FROM system_logs") == 1  # the valid one
    assert adw_sync.pending(db) == 0  # not retried until it changes


def test_the_local_file_gets_the_change_log_only_when_it_syncs(
    tmp_path: Path, postgres_url: str
) -> None:
    db = tmp_path / "a.db"
    write_run(db, 1)
    names = "SELECT name FROM sqlite_master WHERE name LIKE 'sync%' ORDER BY name"
    conn = sqlite3.connect(db)
    assert conn.execute(names).fetchall() == []
    assert adw_sync.pending(db) == 5  # every row, before the first sync
    adw_sync.sync(db, postgres_url)
    assert len(conn.execute(names).fetchall()) == 2 + 10  # two tables, ten triggers
    assert conn.execute("SELECT count(*) FROM sync_changes").fetchone()[0] == 1  # trimmed
    conn.close()
    # The file still opens and migrates as before; its schema version is unchanged.
    again = connect(db)
    init_schema(again)
    again.close()


def test_the_server_schema_is_migrated_once_and_refused_when_newer(
    tmp_path: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    db = tmp_path / "a.db"
    write_run(db, 1)
    adw_sync.sync(db, postgres_url)
    adw_sync.sync(db, postgres_url)
    assert scalar(pg, "SELECT count(*) FROM sync_schema_version") == adw_sync.SYNC_SCHEMA_VERSION
    pg.execute("INSERT INTO sync_schema_version (version) VALUES (99)")
    with pytest.raises(adw_sync.SyncError, match="sync schema version 99"):
        adw_sync.sync(db, postgres_url)


def unreachable_url() -> str:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://nobody@127.0.0.1:{port}/nothing"


def test_an_unreachable_server_raises_server_unreachable(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    write_run(db, 1)
    with pytest.raises(adw_sync.ServerUnreachable):
        adw_sync.sync(db, unreachable_url())
    assert adw_sync.pending(db) == 5  # nothing marked


def run_script(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``adws/adw_sync.py`` as it runs in a project: the shipped modules beside it."""
    return subprocess.run(
        [sys.executable, str(project / "adws" / "adw_sync.py"), *args],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the sync script and the base modules as a project gets them."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(REPO / "tac_bootstrap_cli" / "_adws", root / "adws")
    shutil.copy(REPO / "templates" / "adws" / "adw_sync.py", root / "adws" / "adw_sync.py")
    return root


def test_the_script_ships_and_says_so(
    project: Path, postgres_url: str, pg: psycopg.Connection[Any]
) -> None:
    nothing = run_script(project, TAC_DB_URL=postgres_url)
    assert nothing.returncode == 0 and "nothing to ship yet" in nothing.stdout
    write_run(project / "agents" / "orchestrator.db", 3)
    done = run_script(project, TAC_DB_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sync: 7 row(s) shipped to postgresql://")
    assert scalar(pg, "SELECT count(*) FROM agent_logs") == 3


def test_the_script_offline_is_one_line_and_exit_75(project: Path) -> None:
    write_run(project / "agents" / "orchestrator.db", 1)
    proc = run_script(project, TAC_DB_URL=unreachable_url())
    assert proc.returncode == 75
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not reachable" in lines[0] and "next sync" in lines[0]


def test_the_script_without_a_server_or_with_a_password(project: Path) -> None:
    proc = run_script(project, TAC_DB_URL="")
    assert proc.returncode == 2 and "TAC_DB_URL or database.url" in proc.stderr
    (project / "config.yml").write_text(
        "database:\n  url: postgresql://me:secret@db.example/runs\n", encoding="utf-8"
    )
    proc = run_script(project, TAC_DB_URL="")
    assert proc.returncode == 2
    assert "database.url: must not hold a password" in proc.stderr
    assert "secret" not in proc.stderr


# -- the URL: TAC_DB_URL or database.url, never with a password ------------------------------------


def test_the_server_url_comes_from_the_environment_then_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tac_bootstrap_cli._adws.adw_modules.utils import db_url, load_config

    monkeypatch.delenv("TAC_DB_URL", raising=False)
    assert db_url(tmp_path, load_config(tmp_path)) is None  # SQLite alone: the default
    config = {"database": {"url": "postgresql://team@db.example/runs"}}
    assert db_url(tmp_path, config) == "postgresql://team@db.example/runs"
    monkeypatch.setenv("TAC_DB_URL", "postgresql://me:pw@localhost/mine")  # the environment may
    assert db_url(tmp_path, config) == "postgresql://me:pw@localhost/mine"
    monkeypatch.delenv("TAC_DB_URL")
    with pytest.raises(ValueError, match=r"config.yml: database.url: must not hold a password"):
        db_url(tmp_path, {"database": {"url": "postgresql://team:secret@db.example/runs"}})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://team:secret@db.example/runs", "must not hold a password"),
        ("postgresql://team@db.example/runs?password=secret", "must not hold a password"),
        ("mysql://team@db.example/runs", "must be a postgresql://"),
    ],
)
def test_the_config_check_refuses_a_url_with_a_password(url: str, problem: str) -> None:
    from tac_bootstrap_cli.config import parse_config
    from tac_bootstrap_cli.errors import ConfigError

    text = f"project:\n  name: demo\ndatabase:\n  url: {url}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    message = str(caught.value)
    assert message.startswith(f"config.yml:4: database.url: {problem}")
    assert "secret" not in message


def test_a_url_without_a_password_is_kept_in_config() -> None:
    from tac_bootstrap_cli.config import dump_config, parse_config

    config = parse_config("project:\n  name: demo\ndatabase:\n  url: postgresql://team@db/runs\n")
    assert config.database.url == "postgresql://team@db/runs"
    assert parse_config(dump_config(config)) == config
    plain = parse_config("project:\n  name: demo\n")
    assert plain.database.url is None and "url" not in dump_config(plain)  # absent by default


def test_doctor_fails_on_a_url_with_a_password(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from tac_bootstrap_cli import scaffold

    fake = tmp_path / "fake-claude"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CLAUDE_CODE_PATH", str(fake))
    project = scaffold.init_project("app", tmp_path).target
    config = project / "config.yml"
    config.write_text(
        config.read_text() + "  url: postgresql://team:secret@db.example/runs\n", encoding="utf-8"
    )
    assert "database:\n  path:" in config.read_text()  # the url landed in the database section
    result = cli("doctor", project, "--json")
    report = json.loads(result.stdout)
    fails = [f"{c['name']}: {c['message']}" for c in report["checks"] if c["status"] == "fail"]
    assert result.exit_code == 1
    assert any("database.url: must not hold a password" in f for f in fails), fails
    assert "secret" not in result.stdout


# -- at the end of every workflow -------------------------------------------------------------------


def test_a_workflow_syncs_at_its_end(
    project: Path,
    postgres_url: str,
    pg: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tac_bootstrap_cli._adws.adw_modules.workflow_ops import run_workflow

    monkeypatch.setenv("TAC_DB_URL", postgres_url)
    # The test phase without a test command: a whole workflow that needs no agent.
    assert run_workflow("test", ["test"], ["check it"], root=project) == 0
    err = capsys.readouterr().err
    assert "sync: " in err and "row(s) shipped to postgresql://" in err
    assert scalar(pg, "SELECT count(*) FROM agents WHERE metadata ->> 'workflow' = 'test'") == 1
    assert server_counts(pg) == local_counts(project / "agents" / "orchestrator.db")


def test_a_workflow_without_a_server_still_succeeds(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tac_bootstrap_cli._adws.adw_modules.workflow_ops import run_workflow

    monkeypatch.setenv("TAC_DB_URL", unreachable_url())
    assert run_workflow("test", ["test"], ["check it"], root=project) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "sync" in line]
    assert len(lines) == 1 and "not reachable" in lines[0], lines
    monkeypatch.delenv("TAC_DB_URL")  # no server configured: not a word about syncing
    assert run_workflow("test", ["test"], ["check it"], root=project) == 0
    assert "sync" not in capsys.readouterr().err
    (project / "config.yml").write_text(
        "database:\n  url: postgresql://team:secret@db.example/runs\n", encoding="utf-8"
    )
    assert run_workflow("test", ["test"], ["check it"], root=project) == 0
    err = capsys.readouterr().err
    assert "run log not synced" in err and "must not hold a password" in err
    assert "secret" not in err
