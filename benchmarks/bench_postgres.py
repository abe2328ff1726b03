"""PostgreSQL figures (issue 16): bulk insert against the COPY floor, sync throughput, sync lag.

Usage: ``uv run python benchmarks/bench_postgres.py [--quick] [--rounds N] [--only PART]``

The server is the tests' throw-away PostgreSQL (``tests/pg_support.py``: Debian's binaries,
``initdb`` in a temporary folder, 127.0.0.1, ``fsync=off``, ``synchronous_commit=off``), or
``TEST_DATABASE_URL``; every part gets a schema of its own. Contestants are sampled interleaved
after a warm-up round that is not kept (``benchlib``), each sample on an emptied table, the cyclic
garbage collector run (untimed) before it.

1. ``bulk``: ``AgentLogRepository.create_many`` of 200,000 ``AgentLog`` field mappings (validation
   included) on PostgreSQL, against the floor: psycopg's ``COPY ... FROM STDIN`` of the same rows
   already encoded, one transaction. Target: <= 2x in wall time (the server's work is in
   neither process's CPU time; CPU ratio printed too). Information: ``executemany`` of the encoded
   rows (psycopg's pipeline), and the same ``create_many`` on SQLite against its ``executemany``
   floor (the figure ``bench_persistence.py`` holds to 1.8x CPU).
2. ``throughput``: ``adw_sync.sync`` of a local file holding 200,000 events (its first sync: the
   change log is filled and everything shipped), and of 20,000 more (an incremental sync), each
   into an empty schema; rows per second.
3. ``lag``: 4 processes (``tests/adws/sync_worker.py``), each with its own file, writing 10,000
   events at 1,000/s while syncing every second; the lag of each event is the server's clock when
   the row was inserted (a benchmark-only ``arrived_at`` column, ``clock_timestamp()``) minus its
   ``created_at`` (the time the event was committed locally, same host). Target: p95 < 2 s.
4. ``triggers``: what the change log costs the hooks and workflows once a file syncs: events
   (one commit each, ``AgentLogRepository.append``) into a file with the sync's triggers against
   one without, alternating blocks of 500. Information.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import REPO, Report, Sample, in_process, interleave

sys.path.insert(0, str(REPO))

import psycopg

from tac_bootstrap_cli._adws.adw_modules import adw_postgres, adw_sync
from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    Connection,
    OrchestratorAgentRepository,
    atomic,
    connect,
    init_schema,
    open_database,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent, new_id
from tests import pg_support

START = datetime(2026, 1, 1, tzinfo=UTC)
AGENT = "00000000-0000-4000-8000-000000000001"
BULK_TARGET = 2.0
LAG_TARGET_S = 2.0
COLUMNS = adw_sync.COLUMNS["agent_logs"]
INSERT_PG = AgentLogRepository(sqlite3.connect(":memory:"))._insert_sql.replace("?", "%s")
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def log_fields(i: int, agent: str) -> dict[str, Any]:
    """Field values of the i-th log row: a typical event with a little metadata."""
    return {
        "id": new_id(),
        "agent_id": agent,
        "log_type": "event",
        "message": f"wrote file src/module_{i}.py",
        "metadata": {"path": f"src/module_{i}.py", "action": "create", "bytes": i % 4096},
        "created_at": START + timedelta(microseconds=i),
    }


def encoded(fields: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows as the PostgreSQL repository binds them: JSON text, aware datetimes."""
    return [
        (f["id"], f["agent_id"], f["log_type"], f["message"], _JSON.encode(f["metadata"]),
         f["created_at"])
        for f in fields
    ]  # fmt: skip


@contextmanager
def server() -> Iterator[str]:
    """The URL of a PostgreSQL server for this run (``TEST_DATABASE_URL``, or a throw-away)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    started = pg_support.PostgresServer.start()
    try:
        yield started.url
    finally:
        started.stop()


@contextmanager
def schema(url: str) -> Iterator[str]:
    """A URL whose search_path is a new schema, dropped afterwards."""
    name = pg_support.new_schema_name()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    try:
        yield pg_support.schema_url(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


def with_agent(conn: Connection) -> None:
    parent = OrchestratorAgentRepository(conn).get_or_create("bench")
    AgentRepository(conn).create(Agent(id=AGENT, orchestrator_agent_id=parent.id, session_id="s"))


# --- 1. bulk ----------------------------------------------------------------------------------------


def bench_bulk(report: Report, url: str, folder: Path, n: int, rounds: int) -> None:
    fields = [log_fields(i, AGENT) for i in range(n)]
    rows = encoded(fields)
    pg = open_database(url)
    init_schema(pg)
    with_agent(pg)
    lite = connect(folder / "bulk.db")
    init_schema(lite)
    with_agent(lite)
    lite_rows = [(*r[:5], r[5].isoformat(timespec="microseconds")) for r in rows]

    def sampler(conn: Connection, work: Callable[[], object]) -> Callable[[int], Sample]:
        def sample(_i: int) -> Sample:
            conn.execute("DELETE FROM agent_logs")
            gc.collect()
            taken = in_process(work)
            count = conn.execute("SELECT count(*) FROM agent_logs").fetchone()[0]
            if count != n:
                raise AssertionError(f"{count} rows, expected {n}")
            return taken

        return sample

    def copy_floor() -> None:
        assert not isinstance(pg, sqlite3.Connection)
        with adw_postgres.atomic(pg):
            pg.copy_rows("agent_logs", COLUMNS, rows)

    def executemany() -> None:
        with atomic(pg):
            pg.executemany(INSERT_PG, rows)

    def lite_floor() -> None:
        with atomic(lite):
            lite.executemany(AgentLogRepository._insert_sql, lite_rows)

    results = interleave(
        {
            "postgres COPY (floor)": sampler(pg, copy_floor),
            "postgres create_many(mappings)": sampler(
                pg, lambda: AgentLogRepository(pg).create_many(fields)
            ),
            "postgres executemany (encoded rows)": sampler(pg, executemany),
            "sqlite executemany (floor)": sampler(lite, lite_floor),
            "sqlite create_many(mappings)": sampler(
                lite, lambda: AgentLogRepository(lite).create_many(fields)
            ),
        },
        rounds,
    )
    pg.close()
    lite.close()
    report.section(f"bulk insert of {n:,} agent_logs rows, one transaction (median of {rounds})")
    for name, samples in results.items():
        report.figure(name, samples, f"{n / samples.wall:,.0f} rows/s")
    floor = results["postgres COPY (floor)"]
    ours = results["postgres create_many(mappings)"]
    lite_ours, lite_floor_s = (
        results["sqlite create_many(mappings)"],
        results["sqlite executemany (floor)"],
    )
    report.line(
        f"sqlite: create_many / executemany floor {lite_ours.wall / lite_floor_s.wall:.2f}x wall,"
        f" {lite_ours.cpu / lite_floor_s.cpu:.2f}x CPU"
    )
    report.target(
        "postgres create_many with validation / COPY floor, wall",
        ours.wall / floor.wall,
        BULK_TARGET,
        detail=f"CPU {ours.cpu / floor.cpu:.2f}x",
    )


# --- 2. throughput -------------------------------------------------------------------------------------


def local_file(path: Path, n: int) -> None:
    conn = connect(path)
    init_schema(conn)
    with_agent(conn)
    AgentLogRepository(conn).create_many(log_fields(i, AGENT) for i in range(n))
    conn.close()


def bench_throughput(report: Report, url: str, folder: Path, n: int, rounds: int) -> None:
    base = folder / "base.db"
    local_file(base, n)
    more = n // 10

    def first(i: int) -> Sample:
        path = folder / f"first-{i}.db"
        shutil.copy(base, path)
        with schema(url) as target:
            gc.collect()
            taken = in_process(lambda: adw_sync.sync(path, target))
        path.unlink()
        return taken

    def incremental(i: int) -> Sample:
        path = folder / f"more-{i}.db"
        shutil.copy(base, path)
        with schema(url) as target:
            adw_sync.sync(path, target)
            conn = connect(path)
            AgentLogRepository(conn).create_many(log_fields(n + j, AGENT) for j in range(more))
            conn.close()
            gc.collect()
            taken = in_process(lambda: adw_sync.sync(path, target))
        path.unlink()
        return taken

    results = interleave({"first": first, "incremental": incremental}, rounds)
    report.section(f"sync throughput (median of {rounds})")
    report.figure(
        f"first sync of {n + 3:,} rows",
        results["first"],
        f"{(n + 3) / results['first'].wall:,.0f} rows/s",
    )
    report.figure(
        f"incremental sync of {more:,} rows",
        results["incremental"],
        f"{more / results['incremental'].wall:,.0f} rows/s",
    )


# --- 3. lag ---------------------------------------------------------------------------------------------


def bench_lag(report: Report, url: str, folder: Path, events: int, rate: int) -> None:
    worker = REPO / "tests" / "adws" / "sync_worker.py"
    with schema(url) as target:
        pg = adw_postgres.connect(target)
        adw_sync.prepare_server(pg)
        pg.execute(
            "ALTER TABLE agent_logs ADD COLUMN arrived_at TIMESTAMPTZ DEFAULT clock_timestamp()"
        )
        began = time.monotonic()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(worker),
                    str(folder / f"m{i}.db"),
                    target,
                    str(events),
                    str(rate),
                ],
                stdout=subprocess.DEVNULL,
            )
            for i in range(4)
        ]
        for proc in procs:
            if proc.wait(600) != 0:
                raise AssertionError("a sync worker failed")
        elapsed = time.monotonic() - began
        lags = [
            row[0]
            for row in pg.execute(
                "SELECT extract(epoch FROM arrived_at - created_at)::float8 FROM agent_logs"
            ).fetchall()
        ]
        pg.close()
    if len(lags) != 4 * events:
        raise AssertionError(f"{len(lags)} events on the server, expected {4 * events}")
    lags.sort()
    p50, p95 = statistics.median(lags), lags[int(0.95 * (len(lags) - 1))]
    report.section(
        f"sync lag: 4 processes x {events:,} events at {rate:,}/s each, syncing every second"
    )
    report.line(
        f"{len(lags):,} events in {elapsed:.1f} s; lag p50 {p50:.3f} s, p95 {p95:.3f} s,"
        f" max {lags[-1]:.3f} s"
    )
    report.target("sync lag p95 while running", p95, LAG_TARGET_S, unit="s")


# --- 4. the change log's cost on local writes ----------------------------------------------------


def bench_triggers(report: Report, folder: Path, block: int, rounds: int) -> None:
    """Events (one commit each, ``AgentLogRepository.append``) into a file that syncs (its
    triggers write a change entry per row) against one that never synced, in alternating blocks."""
    files = {}
    for name in ("plain", "syncing"):
        conn = connect(folder / f"events-{name}.db")
        init_schema(conn)
        with_agent(conn)
        if name == "syncing":
            adw_sync.prepare_local(conn)
        files[name] = conn

    def sampler(name: str) -> Callable[[int], Sample]:
        logs = AgentLogRepository(files[name])

        def sample(_i: int) -> Sample:
            def write() -> None:
                for j in range(block):
                    logs.append(AGENT, "event", "wrote file", {"path": f"src/m{j}.py", "bytes": j})

            return in_process(write)

        return sample

    results = interleave({name: sampler(name) for name in files}, rounds)
    for conn in files.values():
        conn.close()
    plain, syncing = results["plain"], results["syncing"]
    report.section(
        f"local events, one commit each, {rounds} blocks of {block} alternating (hooks' cost)"
    )
    report.figure("file that never synced", plain, f"{block / plain.wall:,.0f} events/s")
    report.figure(
        "file that syncs (change-log triggers)",
        syncing,
        f"{block / syncing.wall:,.0f} events/s; {plain.wall / syncing.wall:.2f}x the rate",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller N, for a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="samples (default 3)")
    parser.add_argument(
        "--only", choices=("bulk", "throughput", "lag", "triggers"), action="append"
    )
    args = parser.parse_args(argv)
    bulk_n, sync_n, events = (20_000, 20_000, 2_000) if args.quick else (200_000, 200_000, 10_000)
    rounds = args.rounds or (2 if args.quick else 3)
    parts = args.only or ["bulk", "throughput", "lag", "triggers"]
    report = Report(
        "postgresql benchmark",
        "quick: smaller sizes than the targets are set for" if args.quick else "full",
    )
    with server() as url, tempfile.TemporaryDirectory(prefix="bench-postgres-") as tmp:
        folder = Path(tmp)
        if "bulk" in parts:
            with schema(url) as target:
                bench_bulk(report, target, folder, bulk_n, rounds)
        if "throughput" in parts:
            bench_throughput(report, url, folder, sync_n, rounds)
        if "lag" in parts:
            bench_lag(report, url, folder, events, 1_000)
        if "triggers" in parts:
            bench_triggers(report, folder, 500, 10 if args.quick else 30)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
