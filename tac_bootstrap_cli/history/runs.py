"""Reading the generator's history back (``tac-bootstrap runs``, ``runs show``): never written.

The file is opened read-only and never created, migrated or switched to WAL; a file that is not
ours, or cannot be read, costs one warning and reads as empty.
"""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tac_bootstrap_cli.errors import UsageError
from tac_bootstrap_cli.history.location import DB_ENV, OFF, ORCHESTRATOR, db_path, warn_once

if TYPE_CHECKING:
    from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent


@dataclass
class RunSummary:
    """One run as the ``runs`` table shows it."""

    id: str
    command: str
    status: str
    started_at: str
    completed_at: str | None
    duration_s: float | None
    target: str
    files_changed: int | None
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return dict(vars(self))


@dataclass
class RunDetail:
    """One run with its prompt and logs (oldest first)."""

    run: RunSummary
    argv: list[str]
    prompt: dict[str, Any] | None
    logs: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            **self.run.as_dict(),
            "argv": self.argv,
            "prompt": self.prompt,
            "logs": self.logs,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(agent: Agent) -> RunSummary:
    meta = agent.metadata or {}
    started = agent.started_at or agent.created_at
    duration = (
        (agent.completed_at - started).total_seconds()
        if agent.completed_at is not None and started is not None
        else None
    )
    files = meta.get("files_changed")
    return RunSummary(
        id=agent.id,
        command=agent.name or "?",
        status=agent.status,
        started_at=_iso(started) or "",
        completed_at=_iso(agent.completed_at),
        duration_s=round(duration, 3) if duration is not None else None,
        target=str(meta.get("target", "")),
        files_changed=files if isinstance(files, int) else None,
        dry_run=bool(meta.get("dry_run", False)),
    )


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that creates nothing beside the file: SQLite's ``mode=ro`` on a WAL
    database makes ``-wal``/``-shm`` files it cannot remove, so without a ``-wal`` (no writer has
    the file open) the file is read as immutable; with one, those files exist already."""
    uri = "file:" + path.as_posix().replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    if not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return sqlite3.connect(uri, uri=True, timeout=10)


@contextmanager
def _open(path: Path | None) -> Iterator[sqlite3.Connection | None]:
    """The history read-only (never created, migrated or switched to WAL); None when there is
    nothing to read. A file that cannot be read costs one warning, not the command."""
    from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import (
        SCHEMA_VERSION,
        DatabaseError,
        check_owner,
    )

    if path is None:
        warn_once(f"run history is off ({DB_ENV}={OFF})")
        yield None
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        warn_once(f"run history unreadable ({path}): {exc.strerror or exc}")
        yield None
        return
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        if not stat.S_ISREG(st.st_mode):
            warn_once(f"run history unreadable ({path}): not a regular file")
        yield None
        return
    conn: sqlite3.Connection | None = None
    try:
        conn = _read_only(path)
        check_owner(conn, path)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"schema version {version} is newer than {SCHEMA_VERSION}; upgrade tac-bootstrap"
            )
    except (sqlite3.Error, DatabaseError) as exc:
        if conn is not None:
            conn.close()
        reason = " ".join(str(exc).split())
        if "not a database" in reason:
            reason = f"{path} is not a SQLite database"
        warn_once(f"run history unreadable ({path}): {reason}")
        yield None
        return
    try:
        yield conn
    finally:
        conn.close()


def list_runs(limit: int = 20, path: Path | None = None) -> list[RunSummary]:
    """The most recent runs, newest first."""
    from tac_bootstrap_cli._adws.adw_modules.adw_database import (
        AgentRepository,
        OrchestratorAgentRepository,
    )

    with _open(path or db_path()) as conn:
        if conn is None:
            return []
        orch = OrchestratorAgentRepository(conn).list(name=ORCHESTRATOR, limit=1)
        if not orch:
            return []
        agents = AgentRepository(conn).list(limit=limit, orchestrator_agent_id=orch[0].id)
        return [_summary(a) for a in agents]


def show_run(run_id: str, path: Path | None = None) -> RunDetail:
    """One run (by id or unique id prefix) with its prompt and logs."""
    from tac_bootstrap_cli._adws.adw_modules.adw_database import (
        AgentLogRepository,
        DatabaseError,
        PromptRepository,
    )

    with _open(path or db_path()) as conn:
        if conn is None:
            raise UsageError(f"no run {run_id!r}: the history is empty")
        agent = _find_agent(conn, run_id)
        if agent is None:
            raise UsageError(f"no run {run_id!r}", hint="see tac-bootstrap runs")
        logs = AgentLogRepository(conn).list(limit=100_000, agent_id=agent.id)
        try:
            prompts = PromptRepository(conn).list(limit=1, agent_id=agent.id)
        except DatabaseError:  # an older schema (not migrated: runs only reads) lacks columns
            prompts = []
    prompt = None
    if prompts:
        p = prompts[0]
        prompt = {"content": p.content, "response": p.response, "status": p.status}
    meta = agent.metadata or {}
    argv = meta.get("argv")
    return RunDetail(
        run=_summary(agent),
        argv=[str(a) for a in argv] if isinstance(argv, list) else [],
        prompt=prompt,
        logs=[
            {
                "time": _iso(log.created_at),
                "type": log.log_type,
                "message": log.message,
                "metadata": log.metadata or {},
            }
            for log in reversed(logs)
        ],
    )


def _find_agent(conn: sqlite3.Connection, run_id: str) -> Agent | None:
    """The run whose id is ``run_id`` or starts with it (any unique prefix, even one character);
    None when no run matches; a UsageError when several do."""
    from tac_bootstrap_cli._adws.adw_modules.adw_database import (
        AgentRepository,
        OrchestratorAgentRepository,
    )

    repo = AgentRepository(conn)
    prefix = run_id.strip().lower()
    if not prefix:
        return None
    try:
        found = repo.get(prefix)
    except Exception:  # not a well-formed id: try it as a prefix below
        found = None
    if found is not None:
        return found
    orch = OrchestratorAgentRepository(conn).list(name=ORCHESTRATOR, limit=1)
    if not orch:
        return None
    # substr, not LIKE: no character of the prefix is a wildcard.
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM agents WHERE orchestrator_agent_id = ? AND substr(id, 1, ?) = ?",
            (orch[0].id, len(prefix), prefix),
        )
    ]
    if len(ids) > 1:
        raise UsageError(
            f"run id prefix {run_id!r} is ambiguous ({len(ids)} runs); give more characters"
        )
    return repo.get(ids[0]) if ids else None
