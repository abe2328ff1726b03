"""Persistence benchmark: bulk insert vs raw sqlite3, committed events/s, latest-50 latency.

Run: ``uv run python benchmarks/bench_persistence.py`` (``--quick`` for smaller N). Prints one
line per figure and PASS/FAIL per target; exits 1 when a target is missed.

Targets (see benchmarks/README.md):
- ``AgentLogRepository.create_many`` of already-built models within 2.5x of the floor, a raw
  ``executemany`` of the same rows in one transaction on the same schema and indexes;
- >= 10,000 committed events/s through ``AgentRun.event`` (one commit per event);
- median of "latest 50 logs of one agent" through ``AgentLogRepository.list`` < 1 ms on a
  table of 1,000,000 rows whose agents' rows are interleaved (the worst layout for it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
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

INSERT = (
    "INSERT INTO agent_logs (id, agent_id, log_type, message, metadata, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
START = datetime(2026, 1, 1, tzinfo=UTC)


def fresh_db(folder: Path, name: str, agents: int) -> tuple[Any, list[str]]:
    """A new database with ``agents`` runs under one orchestrator."""
    conn = connect(folder / f"{name}.db")
    init_schema(conn)
    parent = OrchestratorAgentRepository(conn).get_or_create("bench")
    repo = AgentRepository(conn)
    ids = [
        repo.create(Agent(orchestrator_agent_id=parent.id, session_id=f"s{i}")).id
        for i in range(agents)
    ]
    return conn, ids


def log_fields(i: int, agent_ids: list[str], rng: random.Random) -> dict[str, Any]:
    """Field values of the i-th log row: a typical event with a little metadata."""
    return {
        "id": new_id(),
        "agent_id": rng.choice(agent_ids),
        "log_type": "event",
        "message": f"wrote file src/module_{i}.py",
        "metadata": {"path": f"src/module_{i}.py", "action": "create", "bytes": i % 4096},
        "created_at": START + timedelta(microseconds=i),
    }


def raw_rows(fields: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The same rows as plain tuples, encoded the way the repository stores them."""
    import json

    return [
        (
            f["id"],
            f["agent_id"],
            f["log_type"],
            f["message"],
            json.dumps(f["metadata"], separators=(",", ":"), ensure_ascii=False),
            format_timestamp(f["created_at"]),
        )
        for f in fields
    ]


def timed(action: Callable[[], object]) -> float:
    """Seconds taken by ``action``."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_bulk(folder: Path, n: int) -> tuple[float, float, float]:
    """Seconds for: raw executemany, create_many of built models, construction + create_many."""
    rng = random.Random(1)
    fields = [log_fields(i, ["00000000-0000-4000-8000-000000000000"], rng) for i in range(n)]

    conn, (agent,) = fresh_db(folder, "floor", 1)
    for f in fields:
        f["agent_id"] = agent
    rows = raw_rows(fields)

    def floor() -> None:
        with atomic(conn):
            conn.executemany(INSERT, rows)

    floor_s = timed(floor)
    conn.close()

    conn, (agent,) = fresh_db(folder, "create_many", 1)
    for f in fields:
        f["agent_id"] = agent
    models = [AgentLog(**f) for f in fields]
    repo = AgentLogRepository(conn)
    built_s = timed(lambda: repo.create_many(models))
    conn.close()

    conn, (agent,) = fresh_db(folder, "construct", 1)
    for f in fields:
        f["agent_id"] = agent
    repo = AgentLogRepository(conn)
    constructed_s = timed(lambda: repo.create_many(AgentLog(**f) for f in fields))
    conn.close()
    return floor_s, built_s, constructed_s


def bench_events(folder: Path, n: int) -> float:
    """Committed events per second through the logging API."""
    run = start_run(folder / "events.db", "bench", strict=True)
    with run:
        run.event("warm-up")

        def events() -> None:
            for i in range(n):
                run.event("wrote file", path=f"src/{i}.py", action="create", bytes=i)

        seconds = timed(events)
    return n / seconds


def bench_latest(folder: Path, rows: int, agents: int, queries: int) -> tuple[float, float]:
    """Median ms of list(agent_id=..., limit=50) and of the bare SQL, over ``rows`` rows."""
    rng = random.Random(2)
    conn, ids = fresh_db(folder, "latest", agents)
    chunk = 100_000
    for start in range(0, rows, chunk):
        fields = [log_fields(i, ids, rng) for i in range(start, min(rows, start + chunk))]
        with atomic(conn):
            conn.executemany(INSERT, raw_rows(fields))
    conn.close()

    conn = connect(folder / "latest.db")  # a new connection: nothing cached in SQLite yet
    repo = AgentLogRepository(conn)
    sql = (
        "SELECT * FROM agent_logs WHERE agent_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 50"
    )
    picks = [rng.choice(ids) for _ in range(queries)]
    for agent in picks[:20]:  # warm-up: the OS page cache, as in any long-lived reader
        repo.list(agent_id=agent, limit=50)
    api = [timed(lambda a=a: repo.list(agent_id=a, limit=50)) for a in picks]  # type: ignore[misc]
    bare = [timed(lambda a=a: conn.execute(sql, (a,)).fetchall()) for a in picks]  # type: ignore[misc]
    assert len(repo.list(agent_id=picks[0], limit=50)) == 50
    conn.close()
    return statistics.median(api) * 1000, statistics.median(bare) * 1000


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark, print the figures and targets; 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller N, for a smoke run")
    args = parser.parse_args(argv)
    bulk_n, events_n, latest_n, queries = (
        (20_000, 3_000, 100_000, 200) if args.quick else (200_000, 20_000, 1_000_000, 1_000)
    )
    agents = 1_000
    results: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="bench-persistence-") as tmp:
        folder = Path(tmp)
        print(
            f"persistence benchmark ({'quick' if args.quick else 'full'}), python {sys.version.split()[0]}"
        )

        floor_s, built_s, constructed_s = bench_bulk(folder, bulk_n)
        ratio = built_s / floor_s
        results.append(ratio <= 2.5)
        print(
            f"floor: executemany {bulk_n:,} agent_log rows, one transaction: {floor_s:.3f} s ({bulk_n / floor_s:,.0f} rows/s)"
        )
        print(
            f"create_many, models already built (target): {built_s:.3f} s ({bulk_n / built_s:,.0f} rows/s), {ratio:.2f}x floor (<= 2.5x) {verdict(ratio <= 2.5)}"
        )
        print(
            f"create_many incl. model construction (info): {constructed_s:.3f} s, {constructed_s / floor_s:.2f}x floor"
        )

        rate = bench_events(folder, events_n)
        results.append(rate >= 10_000)
        print(
            f"events through AgentRun.event, one commit each: {events_n:,} -> {rate:,.0f} events/s (>= 10,000) {verdict(rate >= 10_000)}"
        )

        api_ms, bare_ms = bench_latest(folder, latest_n, agents, queries)
        results.append(api_ms < 1.0)
        print(
            f"latest 50 logs of one agent, {latest_n:,} rows / {agents:,} agents interleaved, median of {queries:,}: {api_ms:.3f} ms via list() (< 1 ms) {verdict(api_ms < 1.0)}; bare SQL {bare_ms:.3f} ms"
        )
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
