"""One "machine" of the many-machines sync scenario (tests/adws/test_sync_processes.py, and
benchmarks/bench_postgres.py for the lag): its own SQLite file, ``TOTAL`` events written at
``RATE`` per second (one committed row each), synced to the server every second by a thread.

Usage: python sync_worker.py DB URL TOTAL RATE [PAUSE_S [KILL_AT]]
Restartable: a restarted worker counts the events its file already holds and writes the rest.
Prints ``written N`` now and then, ``shipped HIGH`` after each batch the server committed (then
sleeps PAUSE_S before the local mark moves) and ``done``. With KILL_AT > 0 the worker SIGKILLs
itself right after the first batch the server committed once KILL_AT events were written, before
its mark moves: the worst moment, hit exactly (a kill sent from outside, timed by the lines it
reads, could land late on a loaded machine).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tac_bootstrap_cli._adws.adw_modules import adw_sync  # noqa: E402
from tac_bootstrap_cli._adws.adw_modules.adw_database import (  # noqa: E402
    AgentLogRepository,
    AgentRepository,
    OrchestratorAgentRepository,
    connect,
    init_schema,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent  # noqa: E402

SYNC_EVERY_S = 1.0
_OUT = threading.Lock()


def say(line: str) -> None:
    """One whole line on stdout (two threads print: print() may interleave their pieces)."""
    with _OUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _agent_id(conn: sqlite3.Connection) -> str:
    """The file's one Agent (made on the first start)."""
    agents = AgentRepository(conn)
    found = agents.list(limit=1)
    if found:
        return found[0].id
    parent = OrchestratorAgentRepository(conn).get_or_create("adw")
    return agents.create(Agent(orchestrator_agent_id=parent.id, session_id="s")).id


def _write(conn: sqlite3.Connection, written: list[int], total: int, rate: float) -> None:
    """Append events, one committed row each, at ``rate`` per second up to ``total``."""
    logs, agent_id = AgentLogRepository(conn), _agent_id(conn)
    began, start = time.monotonic(), written[0]
    while written[0] < total:
        logs.append(agent_id, "event", f"event {written[0]}")
        written[0] += 1
        if written[0] % 1000 == 0:
            say(f"written {written[0]}")
        ahead = (written[0] - start) / rate - (time.monotonic() - began)
        if ahead > 0:
            time.sleep(ahead)


def main(path: Path, url: str, total: int, rate: float, pause_s: float, kill_at: int = 0) -> None:
    """Write ``total`` events at ``rate`` while a thread syncs every second; then ``done``."""
    conn = connect(path)
    init_schema(conn)
    written = [int(conn.execute("SELECT count(*) FROM agent_logs").fetchone()[0])]
    stop = threading.Event()
    failures: list[BaseException] = []

    def on_batch(batch: adw_sync.Batch) -> None:
        say(f"shipped {batch.high}")
        if kill_at and written[0] >= kill_at:  # committed on the server, not yet marked here
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(pause_s)

    def syncing() -> None:
        syncer = adw_sync.Syncer(path, url, on_batch=on_batch, lock_wait_s=60)
        try:
            while not stop.is_set():
                syncer.run()
                stop.wait(SYNC_EVERY_S)
            syncer.run()  # what was written last
        except BaseException as exc:
            failures.append(exc)
        finally:
            syncer.close()

    thread = threading.Thread(target=syncing)
    thread.start()
    _write(conn, written, total, rate)
    stop.set()
    thread.join()
    conn.close()
    if failures:
        raise failures[0]
    say("done")


if __name__ == "__main__":
    db, server, count, per_second, *rest = sys.argv[1:]
    pause = float(rest[0]) if rest else 0.0
    main(
        Path(db), server, int(count), float(per_second), pause, int(rest[1]) if len(rest) > 1 else 0
    )
