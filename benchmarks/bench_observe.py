"""The observatory at scale: 10,000 ADW runs and 1,000,000 events, pages served in < 200 ms p95.

``uv run python benchmarks/bench_observe.py`` (``--quick``: 1,000 runs / 100,000 events) builds a
run-log database in a temporary folder with the real schema (``init_schema``), rows written with
``executemany`` as the layer writes them (4 phase Agents per run, 2 prompts per phase, events
spread over all phases, 1% of runs still running), starts the real ``tac-bootstrap observe`` on a
free port and times GET requests over one keep-alive connection (localhost: what the server
spends). Figures:

- runs page, cached: the run list built once and reused while the database does not change;
- runs page after a write: an event committed by another connection before every request, so
  the list is brought up to date each time (what a page sees while a workflow runs);
- run page: one run's phases, prompts and events (Gantt included);
- costs page and the event API.

Prints one line per figure and PASS/FAIL against 200 ms p95; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import connect, init_schema  # noqa: E402

TARGET_MS = 200.0
PHASES = (("plan", "planner"), ("build", "builder"), ("test", "tester"), ("review", "reviewer"))


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="microseconds")


def build(db: Path, runs: int, events: int) -> list[str]:
    """Fill ``db``; returns the ADW ids."""
    conn = connect(db)
    init_schema(conn)
    rnd = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orch = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO orchestrator_agents (id, name, status, created_at, updated_at)"
        " VALUES (?, 'adw', 'active', ?, ?)",
        (orch, _ts(start), _ts(start)),
    )
    agents, prompts, adw_ids = [], [], []
    per_agent = events // (runs * len(PHASES))
    for i in range(runs):
        adw_id = f"{i:08x}"
        adw_ids.append(adw_id)
        t = start + timedelta(minutes=5 * i)
        workflow = rnd.choice(("plan_build", "sdlc", "plan_build_test"))
        running = i % 100 == 99
        for j, (phase, name) in enumerate(PHASES):
            aid = str(uuid.uuid4())
            began = t + timedelta(seconds=60 * j)
            done = None if running and j == len(PHASES) - 1 else _ts(began + timedelta(seconds=50))
            status = "running" if done is None else rnd.choice(("completed",) * 9 + ("failed",))
            meta = json.dumps({"adw_id": adw_id, "phase": phase, "workflow": workflow})
            agents.append(
                (
                    aid,
                    orch,
                    str(uuid.uuid4()),
                    name,
                    "sonnet",
                    status,
                    _ts(began),
                    _ts(began),
                    done,
                    meta,
                )
            )
            for k in range(2):
                prompts.append(
                    (
                        str(uuid.uuid4()),
                        aid,
                        f"You are the {name}.\n<task>\nTask number {i}\n</task>" + " x" * 200,
                        "done " * 50,
                        rnd.randint(100, 5000),
                        rnd.randint(100, 5000),
                        rnd.randint(0, 90000),
                        rnd.randint(0, 9000),
                        round(rnd.random(), 6),
                        rnd.randint(1, 20),
                        rnd.randint(1000, 90000),
                        "claude-sonnet-4",
                        _ts(began + timedelta(seconds=10 + k)),
                        _ts(began + timedelta(seconds=20 + k)),
                    )
                )
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO agents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", agents)
    conn.executemany(
        "INSERT INTO prompts (id, agent_id, content, response, tokens_input, tokens_output,"
        " tokens_cache_read, tokens_cache_creation, cost_usd, num_turns, duration_ms, models,"
        " created_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        prompts,
    )
    conn.execute("COMMIT")

    def logs():  # type: ignore[no-untyped-def]
        # Interleaved as real writers interleave them: round-robin over the agents.
        for n in range(per_agent):
            for a in agents:
                began = datetime.fromisoformat(a[6]) + timedelta(seconds=n)
                meta = json.dumps(
                    {"hook_event": "PreToolUse", "tool_name": "Bash", "tool_input": f"ls {n}"}
                )
                yield (
                    str(uuid.uuid4()),
                    a[0],
                    "event",
                    f"PreToolUse: Bash ls {n}",
                    meta,
                    _ts(began),
                )

    conn.execute("BEGIN")
    conn.executemany("INSERT INTO agent_logs VALUES (?, ?, ?, ?, ?, ?)", logs())
    conn.execute("COMMIT")
    conn.close()
    return adw_ids


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _time(conn: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    elapsed = (time.perf_counter() - started) * 1000
    if resp.status != 200:
        raise SystemExit(f"GET {path}: {resp.status} {body[:200]!r}")
    return elapsed


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> int:
    """Build, serve, measure; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 runs / 100,000 events")
    parser.add_argument("--requests", type=int, default=40, help="requests per figure")
    args = parser.parse_args()
    runs, events = (1_000, 100_000) if args.quick else (10_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        db = project / "agents" / "orchestrator.db"
        db.parent.mkdir()
        began = time.perf_counter()
        adw_ids = build(db, runs, events)
        print(f"built {runs:,} runs, {events:,} events in {time.perf_counter() - began:.1f} s"
              f" ({db.stat().st_size / 1e6:.0f} MB)")  # fmt: skip
        port = _port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tac_bootstrap_cli",
                "observe",
                str(project),
                "--port",
                str(port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=REPO,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not re.match(r"observatory: http://", line):
                raise SystemExit(f"observe did not start: {line!r}")
            http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            started = time.perf_counter()
            _time(http_conn, "/")
            print(
                f"first runs page (builds the run list): {(time.perf_counter() - started) * 1000:.0f} ms"
            )
            writer = sqlite3.connect(db, isolation_level=None)
            agent = writer.execute("SELECT id FROM agents ORDER BY rowid DESC LIMIT 1").fetchone()[
                0
            ]
            rnd = random.Random(1)

            def write_event() -> None:
                writer.execute(
                    "INSERT INTO agent_logs VALUES (?, ?, 'event', 'bench', '{}', ?)",
                    (str(uuid.uuid4()), agent, _ts(datetime.now(UTC))),
                )

            figures: list[tuple[str, list[float]]] = []
            n = args.requests
            figures.append(("runs page, cached", [_time(http_conn, "/") for _ in range(n)]))
            figures.append(
                ("runs page, page 100 + search", [_time(http_conn, "/?q=task+number+9&page=2") for _ in range(n)])
            )  # fmt: skip
            after_write = []
            for _ in range(n):
                write_event()
                after_write.append(_time(http_conn, "/"))
            figures.append(("runs page after a write", after_write))
            figures.append(
                ("run page", [_time(http_conn, f"/runs/{rnd.choice(adw_ids)}") for _ in range(n)])
            )
            run_after = []
            for _ in range(n):
                write_event()
                run_after.append(_time(http_conn, f"/runs/{rnd.choice(adw_ids)}"))
            figures.append(("run page after a write", run_after))
            figures.append(("costs page", [_time(http_conn, "/costs") for _ in range(n)]))
            figures.append(
                ("events API (500 after an id)", [_time(http_conn, f"/api/events?after={events - 600}") for _ in range(n)])
            )  # fmt: skip
            writer.close()
        finally:
            proc.terminate()
            proc.wait(10)
    failed = False
    for name, values in figures:
        p95 = _p95(values)
        target = name.startswith(("runs page", "run page"))
        verdict = ("PASS" if p95 < TARGET_MS else "FAIL") if target else "info"
        failed |= verdict == "FAIL"
        print(f"{name:34} median {statistics.median(values):7.1f} ms  p95 {p95:7.1f} ms  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
