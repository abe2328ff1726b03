"""Several processes on one file, a writer killed mid-stream, and the modules as copied into a
generated project (imported as ``adw_modules``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    SystemLogRepository,
    connect,
)

REPO = Path(__file__).resolve().parents[2]
BASE = (
    "orch_database_models.py",
    "adw_sqlite.py",
    "adw_postgres.py",
    "adw_backend.py",
    "adw_database.py",
    "adw_logging.py",
)


def python(code: str, *args: str, cwd: Path = REPO) -> subprocess.Popen[str]:
    """Start ``python -c code args`` with the repo importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


WRITER = """
    import sys
    from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run, SystemLogHandler
    import logging
    path, name = sys.argv[1], sys.argv[2]
    log = logging.getLogger(name)
    log.addHandler(SystemLogHandler(path, source=name, strict=True))
    log.propagate = False
    with start_run(path, name, strict=True) as run:
        for i in range(1000):
            if i % 4 == 0:
                log.warning("system %d", i)
            else:
                run.event(f"{name} {i}", i=i)
    print(run.agent_id)
"""


def test_four_processes_write_one_file(tmp_path: Path) -> None:
    db_path = tmp_path / "shared.db"  # created by the racing writers themselves
    writers = [python(WRITER, str(db_path), f"w{n}") for n in range(4)]
    results = [w.communicate(timeout=120) for w in writers]
    for writer, (_, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err
        assert "locked" not in err and err == ""
    conn = connect(db_path)
    agents = AgentRepository(conn).list()
    assert sorted(a.name or "" for a in agents) == ["w0", "w1", "w2", "w3"]
    assert {a.status for a in agents} == {"completed"}
    logs = AgentLogRepository(conn)
    for n, (out, _) in enumerate(results):
        agent_id = out.strip()
        messages = {log.message for log in logs.list(agent_id=agent_id, limit=10_000)}
        assert messages == {f"w{n} {i}" for i in range(1000) if i % 4}
        system = SystemLogRepository(conn).list(source=f"w{n}", limit=10_000)
        assert sorted(s.message for s in system) == sorted(f"system {i}" for i in range(0, 1000, 4))
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


KILLED = """
    import sys
    from tac_bootstrap_cli._adws.adw_modules.adw_database import AgentLogRepository, connect
    from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
    from tac_bootstrap_cli._adws.adw_modules.orch_database_models import AgentLog
    path = sys.argv[1]
    events = start_run(path, "events", strict=True)
    batches = start_run(path, "batches", strict=True)
    conn = connect(path)
    repo = AgentLogRepository(conn)
    pad = "x" * 300
    print(events.agent_id, batches.agent_id, flush=True)
    i = 0
    while True:  # until killed
        events.event(f"event {i}", i=i, pad=pad)
        if i % 10 == 0:
            repo.create_many(
                AgentLog(agent_id=batches.agent_id, log_type="event", message=f"batch {i}",
                         metadata={"i": i, "pad": pad})
                for _ in range(100)
            )
        i += 1
"""


def test_writer_killed_mid_stream_leaves_whole_rows(tmp_path: Path) -> None:
    db_path = tmp_path / "killed.db"
    writer = python(KILLED, str(db_path))
    assert writer.stdout is not None
    events_id, batches_id = writer.stdout.readline().split()
    deadline = time.monotonic() + 30
    with sqlite3.connect(db_path) as watcher:
        while watcher.execute("SELECT count(*) FROM agent_logs").fetchone()[0] < 3000:
            assert time.monotonic() < deadline and writer.poll() is None, writer.stderr
            time.sleep(0.02)
    watcher.close()
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL

    conn = connect(db_path)  # recovers from the WAL the dead writer left
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    repo = AgentLogRepository(conn)
    events = repo.list(agent_id=events_id, limit=1_000_000)  # every row decodes as a model
    numbers = sorted(e.metadata["i"] for e in events if e.metadata)
    assert numbers == list(range(len(events)))  # a prefix: commits are whole and in order
    assert all(e.message == f"event {e.metadata['i']}" for e in events if e.metadata)
    assert all(len(e.metadata["pad"]) == 300 for e in events if e.metadata)
    batch_rows = repo.count(agent_id=batches_id)
    assert batch_rows > 0 and batch_rows % 100 == 0  # each create_many all or nothing
    assert AgentRepository(conn).get(events_id) is not None
    conn.close()


def test_modules_work_when_copied_as_adw_modules(tmp_path: Path) -> None:
    project = tmp_path / "project" / "adws"
    (project / "adw_modules").mkdir(parents=True)
    (project / "schema").mkdir()
    for name in ("__init__.py", *BASE):
        shutil.copy2(
            REPO / "tac_bootstrap_cli" / "_adws" / "adw_modules" / name,
            project / "adw_modules" / name,
        )
    shutil.copy2(
        REPO / "tac_bootstrap_cli" / "_adws" / "schema" / "schema_orchestrator.sql",
        project / "schema",
    )
    code = """
        import json, sys
        from adw_modules.adw_logging import start_run
        from adw_modules import adw_database
        with start_run("agents/run.db", "copied", strict=True) as run:
            run.event("hello")
        print(json.dumps([adw_database.__file__, str(adw_database.SCHEMA_PATH),
                          "adws" in sys.modules]))
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    module_file, schema, imported_adws = json.loads(done.stdout)
    assert Path(module_file).parent == project / "adw_modules"
    assert Path(schema) == project / "schema" / "schema_orchestrator.sql"
    assert imported_adws is False
    assert (project / "agents" / "run.db").is_file()


def test_base_modules_import_each_other_relatively() -> None:
    for name in BASE:
        source = (REPO / "tac_bootstrap_cli" / "_adws" / "adw_modules" / name).read_text(
            encoding="utf-8"
        )
        assert not re.search(r"^\s*(from|import)\s+(adws|adw_modules)\b", source, re.M), name
        imports = re.findall(r"^(?:from|import)\s+([\w.]+)", source, re.M)
        third_party = {i.split(".")[0] for i in imports if not i.startswith(".")}
        assert third_party <= set(sys.stdlib_module_names) | {"pydantic", "__future__"}, name
