"""One "machine" of the many-machines sync scenario (tests/adws/test_sync_processes.py, and
benchmarks/bench_postgres.py for the lag): its own SQLite file, ``TOTAL`` events written at
``RATE`` per second (one committed row each), synced to the server every second by a thread.

Usage: python sync_worker.py DB URL TOTAL RATE [PAUSE_S]
Restartable: a restarted worker counts the events its file already holds and writes the rest.
Prints ``written N`` now and then, ``shipped HIGH`` after each batch the server committed (then
sleeps PAUSE_S before the local mark moves: the window a SIGKILL is aimed at) and ``done``.
"""

from __future__ import annotations

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


def main(path: Path, url: str, total: int, rate: float, pause_s: float) -> None:
    conn = connect(path)
    init_schema(conn)
    agents = AgentRepository(conn)
    found = agents.list(limit=1)
    if found:
        agent_id = found[0].id
    else:
        parent = OrchestratorAgentRepository(conn).get_or_create("adw")
        agent_id = agents.create(Agent(orchestrator_agent_id=parent.id, session_id="s")).id
    logs = AgentLogRepository(conn)
    written = int(conn.execute("SELECT count(*) FROM agent_logs").fetchone()[0])
    stop = threading.Event()
    failures: list[BaseException] = []

    def on_batch(batch: adw_sync.Batch) -> None:
        say(f"shipped {batch.high}")
        time.sleep(pause_s)  # committed on the server, not yet marked here

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
    began = time.monotonic()
    start = written
    while written < total:
        logs.append(agent_id, "event", f"event {written}")
        written += 1
        if written % 1000 == 0:
            say(f"written {written}")
        ahead = (written - start) / rate - (time.monotonic() - began)
        if ahead > 0:
            time.sleep(ahead)
    stop.set()
    thread.join()
    conn.close()
    if failures:
        raise failures[0]
    say("done")


if __name__ == "__main__":
    db, server, count, per_second, *rest = sys.argv[1:]
    main(Path(db), server, int(count), float(per_second), float(rest[0]) if rest else 0.0)
