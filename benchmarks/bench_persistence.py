"""Persistence figures: bulk insert with validation against raw ``executemany``, the logging API
against raw sqlite3 commit-per-event, latest-50 latency.

Usage: ``uv run python benchmarks/bench_persistence.py [--quick] [--rounds N]``

Everything runs in this process on real files in a temporary folder, with the production
settings (``adw_sqlite.connect``: WAL, ``synchronous=NORMAL``, foreign keys on, the full schema
and its indexes). Contestants are sampled interleaved (A, B, A, B..., the order rotating each
round) after a warm-up round that is not kept; every bulk sample gets a fresh database file made
before its timer starts, and the cyclic garbage collector is run (untimed) before each sample so
that no side pays for the other's garbage.

1. ``AgentLogRepository.create_many`` of 200,000 ``AgentLog`` rows given as field mappings (ids,
   strings, a metadata dict, an aware datetime), full validation included, against the floor:
   ``conn.executemany`` of the same rows already encoded (tuples of str; JSON text, timestamp
   text), one transaction. Target: <= 1.8x in CPU time (``process_time``); wall time printed too.
   Information: ``create_many`` of models built beforehand, and of models built one by one
   (``AgentLog(**fields)`` per row, the way before bulk validation).
2. Events through ``AgentRun.event("wrote file", path=..., action=..., bytes=...)``, one
   committed transaction each, against the floor: raw ``sqlite3`` on its own connection with the
   same pragmas, one ``INSERT`` per event in autocommit (the same row: a uuid4 id, the time as
   text, the metadata as JSON), in blocks of events taken in turns. Targets: the API's rate >=
   0.85x the floor's in the same run, and >= 10,000 events/s (meant for a quiet machine).
3. Latest 50 logs of one agent through ``AgentLogRepository.list(agent_id=..., limit=50)`` on
   1,000,000 rows of 1,000 agents interleaved (the worst layout), against the bare SQL, queries
   alternating. Target: median < 1 ms.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import Report, Sample, in_process, interleave

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    BUSY_TIMEOUT_S,
    AgentLogRepository,
    AgentRepository,
    OrchestratorAgentRepository,
    atomic,
    connect,
    init_schema,
)
from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import (
    Agent,
    AgentLog,
    format_timestamp,
    new_id,
)

INSERT = AgentLogRepository._insert_sql
START = datetime(2026, 1, 1, tzinfo=UTC)
AGENT = "00000000-0000-4000-8000-000000000001"
BULK_TARGET = 1.8
EVENTS_RATIO_TARGET = 0.85
EVENTS_RATE_TARGET = 10_000
LATEST_TARGET_MS = 1.0


def fresh_db(path: Path, agents: list[str]) -> sqlite3.Connection:
    """A new database with one run per id in ``agents``, under one orchestrator."""
    conn = connect(path)
    init_schema(conn)
    parent = OrchestratorAgentRepository(conn).get_or_create("bench")
    repo = AgentRepository(conn)
    for i, agent in enumerate(agents):
        repo.create(Agent(id=agent, orchestrator_agent_id=parent.id, session_id=f"s{i}"))
    return conn


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


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encoded(fields: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The same rows as tuples, encoded as the repository stores them."""
    return [
        (
            f["id"],
            f["agent_id"],
            f["log_type"],
            f["message"],
            _JSON.encode(f["metadata"]),
            format_timestamp(f["created_at"]),
        )
        for f in fields
    ]


# --- 1. bulk --------------------------------------------------------------------------------------


def bench_bulk(report: Report, folder: Path, n: int, rounds: int) -> None:
    fields = [log_fields(i, AGENT) for i in range(n)]
    rows = encoded(fields)
    built = [AgentLog(**f) for f in fields]

    def sampler(name: str, work: Callable[[sqlite3.Connection], object]) -> Callable[[int], Sample]:
        def sample(i: int) -> Sample:
            path = folder / f"bulk-{name}-{i}.db"
            conn = fresh_db(path, [AGENT])
            gc.collect()
            taken = in_process(lambda: work(conn))
            count = conn.execute("SELECT count(*) FROM agent_logs").fetchone()[0]
            conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            if count != n:
                raise AssertionError(f"{name}: {count} rows, expected {n}")
            return taken

        return sample

    def floor(conn: sqlite3.Connection) -> None:
        with atomic(conn):
            conn.executemany(INSERT, rows)

    results = interleave(
        {
            "floor": sampler("floor", floor),
            "create_many(mappings)": sampler(
                "mappings", lambda conn: AgentLogRepository(conn).create_many(fields)
            ),
            "create_many(built models)": sampler(
                "built", lambda conn: AgentLogRepository(conn).create_many(built)
            ),
            "create_many(AgentLog(**f) per row)": sampler(
                "one-by-one",
                lambda conn: AgentLogRepository(conn).create_many(AgentLog(**f) for f in fields),
            ),
        },
        rounds,
    )
    report.section(
        f"bulk insert of {n:,} agent_logs rows, one transaction (median of {rounds} interleaved)"
    )
    floor_s = results["floor"]
    for name, samples in results.items():
        rate = n / samples.wall
        report.figure(name, samples, f"{rate:,.0f} rows/s; CPU {samples.cpu / floor_s.cpu:.2f}x")
    ours = results["create_many(mappings)"]
    report.target(
        "create_many with validation / executemany floor, CPU",
        ours.cpu / floor_s.cpu,
        BULK_TARGET,
        detail=f"wall {ours.wall / floor_s.wall:.2f}x",
    )


# --- 2. events ------------------------------------------------------------------------------------


def raw_events(path: Path, agent: str) -> tuple[sqlite3.Connection, Callable[[int, int], None]]:
    """The floor: a plain sqlite3 connection with the same pragmas, one INSERT per event."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA journal_mode = WAL")
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def write(start: int, count: int) -> None:
        for i in range(start, start + count):
            meta = {"path": f"src/{i}.py", "action": "create", "bytes": i}
            conn.execute(
                INSERT,
                (
                    str(uuid.uuid4()),
                    agent,
                    "event",
                    "wrote file",
                    dumps(meta),
                    datetime.now(UTC).isoformat(timespec="microseconds"),
                ),
            )

    return conn, write


def bench_events(report: Report, folder: Path, block: int, rounds: int) -> None:
    floor_path = folder / "events-floor.db"
    fresh_db(floor_path, [AGENT]).close()
    floor_conn, floor_write = raw_events(floor_path, AGENT)
    run = start_run(folder / "events-api.db", "bench", strict=True)
    counter = {"floor": 0, "api": 0}

    def floor(_i: int) -> Sample:
        gc.collect()
        taken = in_process(lambda: floor_write(counter["floor"], block))
        counter["floor"] += block
        return taken

    def api(_i: int) -> Sample:
        gc.collect()

        def write() -> None:
            for i in range(counter["api"], counter["api"] + block):
                run.event("wrote file", path=f"src/{i}.py", action="create", bytes=i)

        taken = in_process(write)
        counter["api"] += block
        return taken

    with run:
        results = interleave({"raw sqlite3 (floor)": floor, "AgentRun.event": api}, rounds)
    floor_conn.close()
    rates = {name: block / samples.wall for name, samples in results.items()}  # median rate
    report.section(
        f"committed events, one transaction each (blocks of {block:,} events,"
        f" median of {rounds} interleaved blocks)"
    )
    for name, samples in results.items():
        report.figure(f"{name}, per block", samples, f"{rates[name]:,.0f} events/s")
    api_rate, floor_rate = rates["AgentRun.event"], rates["raw sqlite3 (floor)"]
    report.target(
        "events/s, AgentRun.event / raw sqlite3",
        api_rate / floor_rate,
        EVENTS_RATIO_TARGET,
        at_least=True,
        detail=(
            f"by CPU time {results['raw sqlite3 (floor)'].cpu / results['AgentRun.event'].cpu:.2f}x"
        ),
    )
    report.target(
        "events/s through AgentRun.event",
        api_rate,
        EVENTS_RATE_TARGET,
        at_least=True,
        unit="/s",
        detail="meant for a quiet machine",
    )


# --- 3. latest 50 ---------------------------------------------------------------------------------


def bench_latest(report: Report, folder: Path, rows: int, agents: int, queries: int) -> None:
    rng = random.Random(2)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(agents)]
    conn = fresh_db(folder / "latest.db", ids)
    chunk = 100_000
    for start in range(0, rows, chunk):
        fields = [log_fields(i, rng.choice(ids)) for i in range(start, min(rows, start + chunk))]
        with atomic(conn):
            conn.executemany(INSERT, encoded(fields))
    conn.close()

    conn = connect(folder / "latest.db")  # a new connection: nothing cached in SQLite yet
    repo = AgentLogRepository(conn)
    sql = (
        "SELECT * FROM agent_logs WHERE agent_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 50"
    )
    picks = [rng.choice(ids) for _ in range(queries + 20)]
    results = interleave(
        {
            "AgentLogRepository.list(agent_id, limit=50)": lambda i: in_process(
                lambda: repo.list(agent_id=picks[i], limit=50)
            ),
            "bare SQL": lambda i: in_process(lambda: conn.execute(sql, (picks[i],)).fetchall()),
        },
        queries,
        warmup=20,  # the OS page cache, as in any long-lived reader
    )
    assert len(repo.list(agent_id=picks[0], limit=50)) == 50
    conn.close()
    report.section(
        f"latest 50 logs of one agent, {rows:,} rows of {agents:,} agents interleaved"
        f" (median of {queries:,} queries, alternating)"
    )
    for name, samples in results.items():
        report.figure(name, samples)
    api = results["AgentLogRepository.list(agent_id, limit=50)"]
    report.target("latest 50 via list(), median", api.wall * 1000, LATEST_TARGET_MS, unit=" ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller N, for a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="bulk samples (default 5)")
    parser.add_argument("--only", choices=("bulk", "events", "latest"), action="append")
    args = parser.parse_args(argv)
    if args.quick:
        bulk_n, block, event_rounds, latest_n, queries = 20_000, 250, 12, 100_000, 200
    else:
        bulk_n, block, event_rounds, latest_n, queries = 200_000, 500, 40, 1_000_000, 1_000
    rounds = args.rounds or (3 if args.quick else 5)
    parts = args.only or ["bulk", "events", "latest"]
    report = Report(
        "persistence benchmark",
        "quick: smaller sizes than the targets are set for; a smoke run" if args.quick else "full",
    )
    with tempfile.TemporaryDirectory(prefix="bench-persistence-") as tmp:
        folder = Path(tmp)
        if "bulk" in parts:
            bench_bulk(report, folder, bulk_n, rounds)
        if "events" in parts:
            bench_events(report, folder, block, event_rounds)
        if "latest" in parts:
            bench_latest(report, folder, latest_n, 1_000, queries)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
