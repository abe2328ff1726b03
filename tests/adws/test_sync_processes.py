"""Many machines, one server: the acceptance scenario of issue 16's sync.

Four processes (``sync_worker.py``), each with its own SQLite file, each writing 10,000 events
while syncing every second; two of them are SIGKILLed right after the server committed a batch and
before their local mark moved (the worst moment: the batch is sent again after the restart; the
worker sends the signal to itself at that point, so the kill lands there at any machine load),
then restarted. At the end the server holds exactly 40,000 events, none twice, none missing: the same
ids as the four files. Counts only; the lag while running is measured by
``benchmarks/bench_postgres.py`` (no wall-clock asserts here).
"""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg

WORKER = Path(__file__).with_name("sync_worker.py")
MACHINES = 4
EVENTS = 10_000
RATE = 2_000  # events per second and machine
PAUSE_S = 0.3  # after a server commit, before the mark
KILLED = (0, 1)
TIMEOUT_S = 240


class Worker:
    """One worker process and the lines it printed (read by a thread, so it never blocks)."""

    def __init__(self, db: Path, url: str, kill_at: int = 0) -> None:
        self.db, self.url = db, url
        self.lines: queue.Queue[str] = queue.Queue()
        self.start(kill_at)

    def start(self, kill_at: int = 0) -> None:
        """Start (or restart) the worker; ``kill_at`` > 0: it SIGKILLs itself mid-sync there."""
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                str(self.db),
                self.url,
                str(EVENTS),
                str(RATE),
                str(PAUSE_S),
                str(kill_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line.strip())

    def killed(self) -> None:
        """Wait for the worker's own SIGKILL (it must not finish first)."""
        self.proc.wait(TIMEOUT_S)
        assert self.proc.returncode == -signal.SIGKILL, (self.db.name, self.proc.returncode)

    def finish(self) -> None:
        _, err = self.proc.communicate(timeout=TIMEOUT_S)
        assert self.proc.returncode == 0, err


def local_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM agent_logs")}
    finally:
        conn.close()


def test_four_machines_two_killed_mid_sync_ship_every_event_once(
    tmp_path: Path, postgres_url: str
) -> None:
    workers = [
        Worker(
            tmp_path / f"machine-{i}.db",
            postgres_url,
            kill_at=2_000 + 1_000 * i if i in KILLED else 0,
        )
        for i in range(MACHINES)
    ]
    try:
        for index in KILLED:
            workers[index].killed()
            workers[index].start()  # the same file: it writes the rest and syncs on
        for worker in workers:
            worker.finish()
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.kill()

    with psycopg.connect(postgres_url, autocommit=True) as pg:

        def one(sql: str, *params: Any) -> Any:
            row = pg.execute(sql, params).fetchone()
            assert row is not None
            return row[0]

        assert one("SELECT count(*) FROM agent_logs") == MACHINES * EVENTS
        assert one("SELECT count(DISTINCT id) FROM agent_logs") == MACHINES * EVENTS
        assert one("SELECT count(*) FROM agents") == MACHINES
        assert one("SELECT count(*) FROM orchestrator_agents") == 1  # "adw", shared by name
        for worker in workers:
            ids = local_ids(worker.db)
            assert len(ids) == EVENTS
            machine = one(
                "SELECT machine::text FROM sync_machines WHERE source = %s",
                str(worker.db.resolve()),
            )
            server = {
                row[0]
                for row in pg.execute(
                    "SELECT id::text FROM agent_logs WHERE machine = %s", (machine,)
                )
            }
            assert server == ids  # none missing, none from elsewhere
        # The kills landed between a server commit and the local mark: those batches went twice.
        for index, worker in enumerate(workers):
            sent = one(
                "SELECT rows_sent FROM sync_machines WHERE source = %s", str(worker.db.resolve())
            )
            if index in KILLED:
                assert sent > EVENTS + 2, (worker.db.name, sent)
    for worker in workers:
        conn = sqlite3.connect(worker.db)
        assert conn.execute("SELECT count(*) FROM sync_changes").fetchone()[0] == 1  # all marked
        conn.close()
