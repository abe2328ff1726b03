"""Ship the local run log (a SQLite file) to a shared PostgreSQL server: incremental, idempotent.

Hooks and workflows keep writing the local file (fast, offline-safe); ``sync(path, url)`` sends
what changed since the last sync. How:

- **What changed**: on its first run against a file, the sync adds two tables and ten triggers to
  it (``sync_state``, ``sync_changes``, ``AFTER INSERT`` / ``AFTER UPDATE`` on the five tables):
  every write appends ``(seq, table, row id)`` to ``sync_changes``, ``seq`` a counter that only
  grows. In the same transaction every row already there is entered once, parents first, so the
  first sync ships the whole history through the same path. Files that never sync never pay for
  the triggers. An Agent that finishes after it was shipped is a new change: it is shipped again.
- **The high-water mark** lives in the same local file (``sync_state.mark``: the last ``seq`` the
  server has). It advances only after the server committed the batch; a crash in between means
  the batch is sent again, which the upserts make harmless. Kept beside the counter it counts, a
  restored backup of the file takes both back together (a mark kept on the server would then skip
  rows the restored file numbers again).
- **Batches**: ``BATCH_ROWS`` changes at a time, read in one SQLite read transaction (a consistent
  snapshot, so every parent a row needs is in this batch or an earlier one), written in one
  PostgreSQL transaction: ``COPY`` into a temporary staging table, then ``INSERT ... SELECT ...
  ON CONFLICT (id)``: ``DO NOTHING`` for the append-only logs, ``DO UPDATE ... WHERE
  sync_seq < EXCLUDED.sync_seq`` for Agents and Prompts (the version of a row is the snapshot's
  newest ``seq``, so a late or repeated send never replaces a newer version).
- **Machines**: a machine is one local file; its id (a UUID made by its first sync, kept in
  ``sync_state``) is stored in the ``machine`` column of every row it ships and in
  ``sync_machines`` (host, file, last ``seq``, rows sent), columns the server schema's own
  migrations add (``schema/sync_postgres.sql``). Orchestrator agents are shared by name (every
  machine has an ``adw``): the first one shipped keeps its id, the others' Agents point to it.
- **Two syncs at once** of one machine take turns on a PostgreSQL advisory lock (the second waits
  ``LOCK_WAIT_S``, then leaves it to the first). Without the lock they are still correct: a row
  is keyed by its UUID (no duplicate), a version only replaces an older one, and the mark only
  moves past what the server committed (no loss); the lock only saves the double work.
- Rows PostgreSQL refuses (NUL characters are replaced by U+FFFD first; e.g. an id that is no
  UUID) are skipped and reported, so one bad row never stops the sync. Deletions are not shipped:
  the server keeps the team's history.

The modules: ``adw_sync_log`` (the local change log: tables, triggers, reading batches, the mark),
``adw_sync_server`` (the server's schema, shipping a batch), and this one (one sync run, its lock,
the workflow-end sync); every name of the first two is importable from here.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from . import adw_sqlite
from .adw_sqlite import APPLICATION_ID
from .adw_sqlite import DatabaseError as DatabaseError  # importable from here, as before the split
from .adw_sync_log import (
    BATCH_ROWS,
    COLUMNS,
    Batch,
    local_ddl,
    machine_of,
    mark_shipped,
    newest_change,
    pending,
    prepare_local,
    read_batch,
)
from .adw_sync_server import (
    APPEND_ONLY,
    SYNC_SCHEMA_VERSION,
    Origin,
    ServerUnreachable,
    SyncError,
    _connect_server,
    prepare_server,
    ship,
)
from .adw_sync_server import CONNECT_TIMEOUT_S as CONNECT_TIMEOUT_S  # (as before the split)
from .adw_sync_server import SYNC_SCHEMA_PATH as SYNC_SCHEMA_PATH  # (as before the split)
from .adw_sync_server import SYNC_VERSION_TABLE as SYNC_VERSION_TABLE  # (as before the split)

if TYPE_CHECKING:
    from .adw_postgres import PgConnection

LOCK_WAIT_S: Final = 10.0
RUN_LOG_SYNC_TIMEOUT_S: Final = 300
# Two int4 keys (this application, the machine): apart from init_schema's one bigint key.
_LOCK_SQL: Final = "SELECT pg_try_advisory_lock(%s, hashtext(%s))"
_UNLOCK_SQL: Final = "SELECT pg_advisory_unlock(%s, hashtext(%s))"


@dataclass
class SyncResult:
    """What one ``sync`` did."""

    machine: str
    shipped: int = 0
    batches: int = 0
    mark: int = 0
    refused: list[str] = field(default_factory=list)
    skipped: str = ""  # why nothing was done (another sync held the lock), else ""

    def summary(self, where: str) -> str:
        """One line for the user."""
        if self.skipped:
            return f"sync: {self.skipped}"
        text = f"sync: {self.shipped} row(s) shipped to {where} in {self.batches} batch(es)"
        if self.refused:
            text += f"; {len(self.refused)} refused by the server (first: {self.refused[0]})"
        return text


def _lock(pg: PgConnection, machine: str, wait_s: float) -> bool:
    """Take this machine's advisory lock, waiting up to ``wait_s``; False when another sync of
    the same machine keeps it."""
    deadline = time.monotonic() + wait_s
    while True:
        row = pg.execute(_LOCK_SQL, (APPLICATION_ID, machine)).fetchone()
        if row and row[0]:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


OnBatch = Callable[[Batch], None]


@dataclass
class Syncer:
    """Syncs one local file to one server, keeping both connections between runs (``--watch``).

    ``on_batch`` is called after the server committed a batch and before the local mark moves:
    a crash there (what the tests provoke) makes the next sync send the batch again."""

    path: Path
    url: str
    batch_rows: int = BATCH_ROWS
    lock: bool = True
    lock_wait_s: float = LOCK_WAIT_S
    on_batch: OnBatch | None = None
    _local: sqlite3.Connection | None = None
    _pg: PgConnection | None = None

    def _open(self) -> tuple[sqlite3.Connection, PgConnection]:
        if self._local is None:
            self._local = adw_sqlite.connect(self.path)
            adw_sqlite.init_schema(self._local)
        if self._pg is None:
            pg = _connect_server(self.url)
            try:
                prepare_server(pg)
            except BaseException:
                pg.close()
                raise
            self._pg = pg
        return self._local, self._pg

    def run(self) -> SyncResult:
        """Ship every change made before this run began; a server error drops the connection (the
        next run reconnects) and leaves the mark where the last committed batch put it."""
        try:
            return self._run()
        except BaseException:
            self._drop_server()
            raise

    def _run(self) -> SyncResult:
        local, pg = self._open()
        machine, mark = prepare_local(local)
        result = SyncResult(machine=machine, mark=mark)
        if self.lock and not _lock(pg, machine, self.lock_wait_s):
            result.skipped = (
                "another sync of this file held its lock; the next sync ships what it leaves"
            )
            return result
        origin = Origin(machine, socket.gethostname(), str(self.path.resolve()))
        # Bounded: the changes made before this run began (a writer faster than the server
        # would otherwise keep it running); later ones are the next run's.
        upto = newest_change(local)
        try:
            while (batch := read_batch(local, result.mark, self.batch_rows, upto)) is not None:
                result.refused += ship(pg, batch, origin)
                if self.on_batch is not None:
                    self.on_batch(batch)
                mark_shipped(local, batch.high)
                result.mark = batch.high
                result.batches += 1
                result.shipped += batch.count
        finally:
            if self.lock:
                self._unlock(pg, machine)
        return result

    def _unlock(self, pg: PgConnection, machine: str) -> None:
        """Release the lock; on a broken connection drop it instead (the server then releases
        the lock itself), never hiding the error that broke it."""
        try:
            pg.execute(_UNLOCK_SQL, (APPLICATION_ID, machine))
        except Exception:
            self._drop_server()

    def _drop_server(self) -> None:
        if self._pg is not None:
            try:
                self._pg.close()
            finally:
                self._pg = None

    def close(self) -> None:
        """Close both connections."""
        self._drop_server()
        if self._local is not None:
            self._local.close()
            self._local = None


def sync(path: str | Path, url: str, **options: Any) -> SyncResult:
    """Ship the changes of the local file ``path`` to ``url`` once (options: ``Syncer``'s)."""
    syncer = Syncer(Path(path), url, **options)
    try:
        return syncer.run()
    finally:
        syncer.close()


# -- at the end of a workflow ------------------------------------------------------------------------


def _sync_command(script: Path) -> list[str] | None:
    """How to run ``adws/adw_sync.py``: with this interpreter when it has psycopg, else through
    ``uv run`` (which installs the script's own dependencies); None when neither can."""
    if importlib.util.find_spec("psycopg") is not None:
        return [sys.executable, str(script)]
    uv = shutil.which("uv")
    return [uv, "run", "--quiet", str(script)] if uv else None


def sync_run_log(root: Path, config: dict[str, Any]) -> None:
    """Ship the run log to the team's server when one is configured (``TAC_DB_URL`` or
    ``database.url``): ``adws/adw_sync.py`` in a process of its own (psycopg is its dependency,
    not the workflows'), its one line repeated on stderr. Never raises: an unreachable server, a
    missing script, a timeout are a line on stderr and the workflow's outcome stays its own."""
    from .utils import db_url

    try:
        url = db_url(root, config)
    except ValueError as exc:
        print(f"warning: run log not synced: {exc}", file=sys.stderr, flush=True)
        return
    if not url:
        return
    script = root / "adws" / "adw_sync.py"
    command = _sync_command(script) if script.is_file() else None
    if command is None:
        why = "neither psycopg nor uv found" if script.is_file() else f"{script} is missing"
        print(f"warning: run log not synced: {why}", file=sys.stderr, flush=True)
        return
    try:
        proc = subprocess.run(
            command,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=RUN_LOG_SYNC_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"warning: run log not synced: {exc}", file=sys.stderr, flush=True)
        return
    output = (proc.stdout + proc.stderr).strip()
    if output:
        print(output, file=sys.stderr, flush=True)


__all__ = [
    "APPEND_ONLY",
    "BATCH_ROWS",
    "COLUMNS",
    "SYNC_SCHEMA_VERSION",
    "Batch",
    "Origin",
    "ServerUnreachable",
    "SyncError",
    "SyncResult",
    "Syncer",
    "local_ddl",
    "machine_of",
    "mark_shipped",
    "newest_change",
    "pending",
    "prepare_local",
    "prepare_server",
    "read_batch",
    "ship",
    "sync",
    "sync_run_log",
]
