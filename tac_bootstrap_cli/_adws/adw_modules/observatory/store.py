"""Read-only queries over a run-log database (``schema_orchestrator.sql``) for the observatory.

Standard library only (plus ``adw_sqlite``'s constants): tac-bootstrap and generated projects
(``adws/adw_observe.py``) use the same file. Every connection is opened with ``mode=ro``: the
observatory can never change a database nor hold a write lock.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

# Relative: the package is tac_bootstrap_cli._adws.adw_modules here and adw_modules in a generated project.
from ..adw_sqlite import APPLICATION_ID, SCHEMA_VERSION, TABLES  # noqa: TID252

SESSION_AGENT: Final = "claude-session"
# A running phase silent this long has lost its process: the agent CLI is stopped after 3,600 s
# and every finished call writes its prompt row (see specs/observatory.md, "Stale runs").
STALE_AFTER_S: Final = 3900.0
EVENTS_PER_AGENT: Final = 5000
_TASK_RE = re.compile(r"<task>\n?(.*?)\n?</task>", re.DOTALL)
_META = "CASE WHEN json_valid({col}) THEN json_extract({col}, '$.{key}') END"


_TASK_SQL = "SELECT agent_id, substr(content, instr(content, '<task>'), 2000) FROM prompts"
_TASK_WHERE = "AND instr(content, '<task>') > 0 ORDER BY created_at DESC"


class ObserveError(Exception):
    """The database cannot be observed: missing, damaged, foreign or of another schema."""


def _meta(key: str, col: str = "a.metadata") -> str:
    """SQL for one metadata key; a row with invalid JSON reads as NULL instead of failing."""
    return _META.format(col=col, key=key)


_EVENTS_SQL = f"""SELECT l.rowid, l.agent_id, l.log_type, l.message, l.metadata, l.created_at,
 {_meta("adw_id")}, a.name FROM agent_logs l JOIN agents a ON a.id = l.agent_id"""  # noqa: S608


def open_readonly(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open ``path`` read-only and check it is a run-log database of the supported schema."""
    if not path.exists():
        raise ObserveError(
            f"no database at {path}: nothing was recorded there yet"
            " (an ADW run or a Claude Code session with the layer's hooks creates it)"
        )
    if not path.is_file():
        raise ObserveError(f"{path} is not a regular file")
    uri = "file:" + quote(path.resolve().as_posix(), safe="/") + "?mode=ro"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=5, isolation_level=None, check_same_thread=check_same_thread
        )
    except sqlite3.Error as exc:
        raise ObserveError(f"cannot open {path}: {exc}") from None
    try:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        conn.close()
        raise ObserveError(f"{path} is not a readable SQLite database ({exc})") from None
    problem = None
    if app_id not in (0, APPLICATION_ID) or not tables.issuperset(TABLES):
        problem = f"{path} is not a tac-bootstrap run-log database"
    elif version > SCHEMA_VERSION:
        problem = (
            f"{path} has schema version {version}, newer than this tac-bootstrap reads"
            f" ({SCHEMA_VERSION}): upgrade tac-bootstrap"
        )
    elif version < SCHEMA_VERSION:
        problem = (
            f"{path} has the older schema version {version}: migrate it first"
            " (tac-bootstrap upgrade, or any ADW run)"
        )
    if problem:
        conn.close()
        raise ObserveError(problem)
    return conn


def epoch_seconds(text: str | None) -> float | None:
    """Seconds since the epoch of a stored timestamp (None stays None)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _json(text: str | None) -> dict[str, Any]:
    """A metadata column as a dict ({} when NULL or not a JSON object)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class Tokens:
    """Token and cost totals (``cached`` = cache reads + cache creation)."""

    prompts: int = 0
    tokens_input: int = 0
    tokens_cache_read: int = 0
    tokens_cache_creation: int = 0
    tokens_output: int = 0
    cost_usd: float = 0.0

    @property
    def tokens_cached(self) -> int:
        """Cache reads plus cache writes."""
        return self.tokens_cache_read + self.tokens_cache_creation

    def add(self, other: Tokens) -> None:
        """Add ``other``'s counts to these."""
        self.prompts += other.prompts
        self.tokens_input += other.tokens_input
        self.tokens_cache_read += other.tokens_cache_read
        self.tokens_cache_creation += other.tokens_cache_creation
        self.tokens_output += other.tokens_output
        self.cost_usd += other.cost_usd


@dataclass
class Run:
    """One ADW run (its phase Agents), or one generator command in the history database."""

    id: str
    workflow: str
    status: str = "completed"
    task: str = ""
    branch: str = ""
    started_at: str = ""
    ended_at: str | None = None
    duration_s: float | None = None
    phases: list[str] = field(default_factory=list)
    agent_ids: list[str] = field(default_factory=list)
    totals: Tokens = field(default_factory=Tokens)
    last_activity: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON form (the API's)."""
        data = asdict(self)
        data.pop("last_activity")
        data["totals"]["tokens_cached"] = self.totals.tokens_cached
        data["totals"]["cost_usd"] = round(self.totals.cost_usd, 6)
        return data


@dataclass
class RunPage:
    """One page of the filtered run list."""

    runs: list[Run]
    total: int
    page: int
    pages: int
    workflows: list[str]


# Built once from constants (metadata keys, the session agent name): no outside text.
# Phase Agents (everything but interactive sessions) added since a rowid, or still open.
_AGENTS_SQL = f"""
SELECT a.rowid, a.id, a.name, a.status, a.created_at, a.started_at, a.completed_at,
       {_meta("adw_id")}, {_meta("workflow")}, {_meta("phase")}, {_meta("target")}
FROM agents a
WHERE a.name IS NOT '{SESSION_AGENT}'
  AND (a.rowid > ? OR a.id IN (SELECT value FROM json_each(?)))
"""  # noqa: S608
# Prompt totals per Agent of the prompts added since a rowid.
_PROMPTS_SQL = """
SELECT agent_id, count(*), sum(tokens_input), sum(tokens_cache_read), sum(tokens_cache_creation),
       sum(tokens_output), sum(cost_usd), max(created_at), max(rowid)
FROM prompts WHERE rowid > ? GROUP BY agent_id
"""


# The newest event of each of the given Agents (an index lookup per Agent).
_LAST_LOG_SQL = """
SELECT j.value, (SELECT max(l.created_at) FROM agent_logs l WHERE l.agent_id = j.value)
FROM json_each(?) j
"""


@dataclass
class _Agent:
    """What the run list keeps of one phase Agent."""

    rowid: int
    id: str
    name: str
    status: str
    created_at: str
    started_at: str | None
    completed_at: str | None
    run_id: str
    workflow: str
    phase: str
    target: str | None
    totals: Tokens = field(default_factory=Tokens)
    last_prompt: str | None = None
    last_log: str | None = None

    @property
    def open(self) -> bool:
        """Still able to change (status, completion, metadata)."""
        return self.status in ("running", "pending")


class Store:
    """The observatory's view of one database file (and, for tasks and raw output, its project)."""

    def __init__(
        self, db_path: Path, project: Path | None = None, *, stale_after: float = STALE_AFTER_S
    ) -> None:
        """Check the file once (raises ``ObserveError``); later reads open their own connection."""
        self.db_path = db_path
        self.project = project
        self.stale_after = stale_after
        # One connection kept open to watch PRAGMA data_version, which moves when any other
        # connection commits (hooks and workflows write from their own processes).
        self._watch = open_readonly(db_path, check_same_thread=False)
        self._watch_lock = threading.Lock()
        self._state_cache: dict[str, tuple[float, str, str]] = {}
        self._task_cache: dict[str, str] = {}
        # The run index (see _refresh): Agents by id, their ids per run, the runs, newest first.
        self._index_lock = threading.Lock()
        self._index_stamp: int | None = None
        self._agents: dict[str, _Agent] = {}
        self._run_agents: dict[str, list[str]] = defaultdict(list)
        self._runs: dict[str, Run] = {}
        self._ordered: list[Run] = []
        self._agent_rowid = 0
        self._prompt_rowid = 0
        self._costs_cache: tuple[Any, dict[str, Any]] | None = None

    def stamp(self) -> int:
        """A number that changes whenever another connection commits to the database."""
        with self._watch_lock:
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        """Close the watching connection."""
        with self._watch_lock:
            self._watch.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A fresh read-only connection inside one read transaction (a consistent snapshot)."""
        conn = open_readonly(self.db_path)
        try:
            conn.execute("BEGIN")
            yield conn
        finally:
            conn.close()

    # --- runs ---------------------------------------------------------------------------------

    def _state(self, adw_id: str) -> tuple[str, str]:
        """(task, branch) from ``agents/<adw_id>/adw_state.json`` when the project has it."""
        if self.project is None or not re.fullmatch(r"[0-9a-f]{8}", adw_id):
            return "", ""
        # os.stat of a string: a first pass over 10,000 runs makes 10,000 of these, and building
        # a Path for each cost more than the rest of the pass.
        text = f"{self.project}/agents/{adw_id}/adw_state.json"
        try:
            mtime = os.stat(text).st_mtime  # noqa: PTH116
        except OSError:
            return "", ""
        path = Path(text)
        cached = self._state_cache.get(adw_id)
        if cached and cached[0] == mtime:
            return cached[1], cached[2]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        task, branch = str(data.get("task") or ""), str(data.get("branch") or "")
        self._state_cache[adw_id] = (mtime, task, branch)
        return task, branch

    def _tasks_from_prompts(self, conn: sqlite3.Connection, runs: list[Run]) -> None:
        """Fill missing tasks from the ``<task>`` block of a run's first prompt that has one."""
        wanted = {aid: run for run in runs if not run.task for aid in run.agent_ids}
        missing = [aid for aid in wanted if aid not in self._task_cache]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"{_TASK_SQL} WHERE agent_id IN ({marks}) {_TASK_WHERE}"
            rows = conn.execute(sql, chunk).fetchall()
            for aid in chunk:
                agent = self._agents.get(aid)
                if agent is None or not agent.open:  # an open one may still write its prompt
                    self._task_cache.setdefault(aid, "")
            for aid, text in rows:
                match = _TASK_RE.search(text or "")
                if match:
                    self._task_cache[aid] = match.group(1).strip()
        for aid, run in wanted.items():
            if not run.task and self._task_cache.get(aid):
                run.task = self._task_cache[aid]

    def all_runs(self) -> list[Run]:
        """Every run, newest first; brought up to date when another connection committed."""
        key = self.stamp()  # taken before reading: a commit in between only costs another pass
        with self._index_lock:
            if key != self._index_stamp:
                with self.read() as conn:
                    self._refresh(conn)
                self._index_stamp = key
            runs = self._ordered
        now = time.time()
        for run in runs:  # staleness moves with the clock, not with the database
            if run.status in ("running", "stale"):
                run.status = "stale" if now - run.last_activity > self.stale_after else "running"
                begin = epoch_seconds(run.started_at)
                run.duration_s = None if begin is None else now - begin
        return runs

    def _refresh(self, conn: sqlite3.Connection) -> None:
        """Fold what changed since the last pass into the run index.

        Rows are only ever added, and only open (running/pending) Agents change, so a pass reads
        the Agents and prompts past the last rowids seen plus the open Agents: its cost follows
        the change, not the size of the database. A database whose rowids went backwards (a
        VACUUM, a restore) is read again from scratch.
        """
        top_agent, top_prompt = conn.execute(
            "SELECT coalesce((SELECT max(rowid) FROM agents), 0),"
            " coalesce((SELECT max(rowid) FROM prompts), 0)"
        ).fetchone()
        if top_agent < self._agent_rowid or top_prompt < self._prompt_rowid:
            self._agents, self._run_agents, self._runs = {}, defaultdict(list), {}
            self._agent_rowid = self._prompt_rowid = 0
        touched: set[str] = set()
        opened = [a.id for a in self._agents.values() if a.open]
        for row in conn.execute(_AGENTS_SQL, (self._agent_rowid, json.dumps(opened))):
            rowid, aid, name, status, created, started, completed = row[:7]
            adw_id, workflow, phase, target = row[7:]
            known = self._agents.get(aid)
            agent = _Agent(
                rowid,
                aid,
                name or "?",
                status,
                created,
                started,
                completed,
                str(adw_id) if adw_id else aid,
                str(workflow or name or "?"),
                str(phase or name or "?"),
                str(target) if target and not adw_id else None,
            )
            if known is not None:
                agent.totals, agent.last_prompt = known.totals, known.last_prompt
            else:
                self._run_agents[agent.run_id].append(aid)
            self._agents[aid] = agent
            self._agent_rowid = max(self._agent_rowid, rowid)
            touched.add(agent.run_id)
        for aid, n, ti, tcr, tcc, tout, cost, last, top in conn.execute(
            _PROMPTS_SQL, (self._prompt_rowid,)
        ):
            self._prompt_rowid = max(self._prompt_rowid, top)
            found = self._agents.get(aid)
            if found is None:
                continue  # a prompt of an interactive session
            found.totals.add(Tokens(n, ti or 0, tcr or 0, tcc or 0, tout or 0, cost or 0.0))
            found.last_prompt = max(found.last_prompt or "", last or "") or None
            touched.add(found.run_id)
        still_open = [a.id for a in self._agents.values() if a.open]
        # The last event of an open Agent tells whether its process is still alive.
        for aid, last in conn.execute(_LAST_LOG_SQL, (json.dumps(still_open),)):
            agent = self._agents[aid]
            if last != agent.last_log:
                agent.last_log = last
                touched.add(agent.run_id)
        new_runs = [r for r in touched if r not in self._runs]
        for run_id in touched:
            self._runs[run_id] = self._run_of(run_id)
        if touched:
            self._tasks_from_prompts(conn, [self._runs[r] for r in touched])
            if new_runs or len(self._ordered) != len(self._runs):
                self._ordered = sorted(
                    self._runs.values(), key=lambda r: (r.started_at, r.id), reverse=True
                )
            else:  # same runs, same order: swap in the rebuilt objects
                self._ordered = [self._runs[r.id] for r in self._ordered]

    def _run_of(self, run_id: str) -> Run:
        """One run from its Agents (oldest first); a phase's latest Agent gives its status."""
        agents = sorted(
            (self._agents[aid] for aid in self._run_agents[run_id]),
            key=lambda a: (a.created_at, a.rowid),
        )
        first = agents[0]
        run = Run(
            id=run_id, workflow=first.workflow, started_at=first.started_at or first.created_at
        )
        latest: dict[str, str] = {}
        last = ""
        for agent in agents:
            if agent.phase not in run.phases:
                run.phases.append(agent.phase)
            run.agent_ids.append(agent.id)
            run.totals.add(agent.totals)
            if agent.completed_at and (run.ended_at is None or agent.completed_at > run.ended_at):
                run.ended_at = agent.completed_at
            # Stored timestamps are fixed-width UTC text: the largest string is the latest time.
            last = max(
                agent.created_at,
                agent.started_at or "",
                agent.last_prompt or "",
                agent.last_log or "",
                last,
            )
            latest[agent.phase] = agent.status
        run.last_activity = epoch_seconds(last) or 0.0
        statuses = set(latest.values())
        if "failed" in statuses:
            run.status = "failed"
        elif statuses & {"running", "pending"}:
            run.status, run.ended_at = "running", None
        begin, end = epoch_seconds(run.started_at), epoch_seconds(run.ended_at)
        if begin is not None:
            run.duration_s = (end if end is not None else time.time()) - begin
        if first.target:
            run.task = first.target
        else:
            run.task, run.branch = self._state(run_id)
        if not run.task:
            run.task = next(
                (self._task_cache[a] for a in run.agent_ids if self._task_cache.get(a)), ""
            )
        return run

    def runs(
        self,
        *,
        status: str = "",
        workflow: str = "",
        q: str = "",
        page: int = 1,
        per_page: int = 50,
    ) -> RunPage:
        """The runs matching the filters (status, workflow, text in id/task/branch), one page."""
        every = self.all_runs()
        needle = q.strip().lower()
        found = [
            r
            for r in every
            if (not status or r.status == status)
            and (not workflow or r.workflow == workflow)
            and (
                not needle
                or needle
                in f"{r.id}\n{r.workflow}\n{r.task}\n{r.branch}\n{' '.join(r.phases)}".lower()
            )
        ]
        pages = max(1, -(-len(found) // per_page))
        page = min(max(1, page), pages)
        chunk = found[(page - 1) * per_page : page * per_page]
        workflows = sorted({r.workflow for r in every})
        return RunPage(chunk, len(found), page, pages, workflows)

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run with its phases, attempts, prompts and events; None when unknown."""
        found = next((r for r in self.all_runs() if r.id == run_id), None)
        if found is None:
            return None
        with self.read() as conn:
            phases = [self._phase(conn, aid) for aid in found.agent_ids]
        return {"run": found.as_dict(), "phases": phases}

    def _phase(self, conn: sqlite3.Connection, agent_id: str) -> dict[str, Any]:
        row = conn.execute(
            "SELECT id, name, model, status, created_at, started_at, completed_at, metadata"
            " FROM agents WHERE id = ?",
            (agent_id,),
        ).fetchone()
        meta = _json(row[7])
        events = self._events(conn, "agent_id = ?", (agent_id,), EVENTS_PER_AGENT)
        prompt_meta = {
            str(e["meta"].get("prompt_id")): e["meta"]
            for e in events
            if e["message"] == "prompt metadata"
        }
        prompts = []
        for p in conn.execute(
            "SELECT id, content, response, status, tokens_input, tokens_cache_read,"
            " tokens_cache_creation, tokens_output, cost_usd, num_turns, duration_ms, models,"
            " created_at FROM prompts WHERE agent_id = ? ORDER BY created_at, rowid",
            (agent_id,),
        ):
            extra = prompt_meta.get(p[0], {})
            raw = extra.get("raw_output")
            prompts.append(
                {
                    "id": p[0],
                    "content": p[1],
                    "response": p[2],
                    "status": p[3],
                    "tokens_input": p[4],
                    "tokens_cache_read": p[5],
                    "tokens_cache_creation": p[6],
                    "tokens_output": p[7],
                    "cost_usd": p[8],
                    "num_turns": p[9],
                    "duration_ms": p[10],
                    "models": p[11] or "",
                    "created_at": p[12],
                    "raw_output": raw if isinstance(raw, str) and self.raw_file(raw) else None,
                }
            )
        attempts: list[dict[str, Any]] = []
        open_steps: dict[str, dict[str, Any]] = {}
        for e in events:
            if e["log_type"] == "step_start":
                step = {"name": e["message"], "start": e["created_at"], "end": None, "status": ""}
                open_steps[e["message"]] = step
                attempts.append(step)
            elif e["log_type"] == "step_end" and e["message"] in open_steps:
                step = open_steps.pop(e["message"])
                step["end"] = e["created_at"]
                step["status"] = str(e["meta"].get("status") or "")
        return {
            "agent_id": row[0],
            "name": row[1],
            "phase": str(meta.get("phase") or row[1] or "?"),
            "model": row[2],
            "status": row[3],
            "created_at": row[4],
            "started_at": row[5] or row[4],
            "completed_at": row[6],
            "prompts": prompts,
            "attempts": attempts,
            "events": [e for e in events if e["message"] != "prompt metadata"],
            # How many rows the phase has when the list above stopped at EVENTS_PER_AGENT.
            "events_total": (
                conn.execute(
                    "SELECT count(*) FROM agent_logs WHERE agent_id = ?", (agent_id,)
                ).fetchone()[0]
                if len(events) >= EVENTS_PER_AGENT
                else len(events)
            ),
        }

    # --- events -------------------------------------------------------------------------------

    def _events(
        self, conn: sqlite3.Connection, where: str, args: tuple[Any, ...], limit: int
    ) -> list[dict[str, Any]]:
        sql = f"{_EVENTS_SQL} WHERE {where} ORDER BY l.rowid LIMIT ?"  # where: a fixed string
        rows = conn.execute(
            sql,
            (*args, limit),
        ).fetchall()
        return [_event(r) for r in rows]

    def events_after(self, after: int, limit: int = 500) -> list[dict[str, Any]]:
        """Events (``agent_logs`` rows) with a rowid above ``after``, oldest first."""
        with self.read() as conn:
            return self._events(conn, "l.rowid > ?", (after,), limit)

    def last_event_id(self) -> int:
        """The newest ``agent_logs`` rowid (0 when empty)."""
        with self.read() as conn:
            return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM agent_logs").fetchone()[0])

    # --- sessions -----------------------------------------------------------------------------

    def sessions(self, limit: int = 200) -> list[dict[str, Any]]:
        """Interactive Claude Code sessions (Agents named ``claude-session``), newest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT a.id, a.session_id, a.status, a.created_at, a.completed_at, a.metadata,"
                " (SELECT count(*) FROM agent_logs l WHERE l.agent_id = a.id),"
                " (SELECT max(created_at) FROM agent_logs l WHERE l.agent_id = a.id)"
                " FROM agents a WHERE a.name = ? ORDER BY a.created_at DESC, a.rowid DESC LIMIT ?",
                (SESSION_AGENT, limit),
            ).fetchall()
        return [
            {
                "agent_id": r[0],
                "session_id": r[1],
                "status": r[2],
                "created_at": r[3],
                "completed_at": r[4],
                "cwd": str(_json(r[5]).get("cwd") or ""),
                "events": r[6],
                "last_event_at": r[7],
            }
            for r in rows
        ]

    def session(self, agent_id: str) -> dict[str, Any] | None:
        """One session with its events; None when unknown."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT id, session_id, status, created_at, completed_at FROM agents"
                " WHERE id = ? AND name = ?",
                (agent_id, SESSION_AGENT),
            ).fetchone()
            if row is None:
                return None
            events = self._events(conn, "l.agent_id = ?", (agent_id,), EVENTS_PER_AGENT)
        keys = ("agent_id", "session_id", "status", "created_at", "completed_at")
        return {**dict(zip(keys, row, strict=True)), "events": events}

    # --- costs --------------------------------------------------------------------------------

    def costs(self) -> dict[str, Any]:
        """Cost and tokens per day, workflow, phase and model, with the totals (SQL sums)."""
        sums = (
            "count(*), coalesce(sum(p.tokens_input), 0), coalesce(sum(p.tokens_cache_read), 0),"
            " coalesce(sum(p.tokens_cache_creation), 0), coalesce(sum(p.tokens_output), 0),"
            " coalesce(sum(p.cost_usd), 0.0)"
        )
        groups = {
            "day": "substr(p.created_at, 1, 10)",
            "workflow": f"coalesce({_meta('workflow')}, a.name, '?')",
            "phase": f"coalesce({_meta('phase')}, a.name, '?')",
            "model": "coalesce(p.models, '(unknown)')",
        }
        result: dict[str, Any] = {}
        with self.read() as conn:
            # Only new prompts or Agents change these sums (events, the hot writes, do not).
            key = conn.execute(
                "SELECT (SELECT max(rowid) FROM prompts), (SELECT max(rowid) FROM agents),"
                " (SELECT count(*) FROM prompts)"
            ).fetchone()
            if self._costs_cache is not None and self._costs_cache[0] == key:
                return self._costs_cache[1]
            total = conn.execute(f"SELECT {sums} FROM prompts p").fetchone()  # noqa: S608
            result["totals"] = _tokens_dict(total)
            for name, expr in groups.items():
                order = "1" if name == "day" else "7 DESC, 1"
                rows = conn.execute(
                    f"SELECT {expr}, {sums} FROM prompts p JOIN agents a ON a.id = p.agent_id"  # noqa: S608
                    f" GROUP BY 1 ORDER BY {order}"
                ).fetchall()
                result[name] = [{"key": str(r[0]), **_tokens_dict(r[1:])} for r in rows]
            result["model"] = self._per_model(conn, result["model"])
        self._costs_cache = (key, result)
        return result

    def _per_model(
        self, conn: sqlite3.Connection, grouped: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Split the prompts that used several models (``models`` = ``a,b``) by the per-model
        usage their ``prompt metadata`` event carries: tokens as counted per model, cost in
        proportion to each model's cost, the last model taking the remainder so that the sum
        stays the prompt's own. Without that usage a prompt stays under its combined key."""
        totals: dict[str, list[float]] = {}

        def add(model: str, n: int, counts: list[int], cost: float) -> None:
            row = totals.setdefault(model, [0, 0, 0, 0, 0, 0.0])
            row[0] += n
            for i, count in enumerate(counts, 1):
                row[i] += count
            row[5] += cost

        for entry in grouped:
            if "," not in entry["key"]:
                add(
                    entry["key"],
                    entry["prompts"],
                    [entry[k] for k in _COUNTS],
                    entry["cost_usd"],
                )
        for pid, agent_id, models, ti, tcr, tcc, tout, cost in conn.execute(
            "SELECT id, agent_id, models, tokens_input, tokens_cache_read,"
            " tokens_cache_creation, tokens_output, cost_usd FROM prompts"
            " WHERE instr(models, ',') > 0"
        ):
            counts = [ti, tcr, tcc, tout]
            usage = self._model_usage(conn, agent_id, pid)
            names = [m for m in models.split(",") if m]
            if not usage or set(usage) != set(names):
                add(models, 1, counts, cost)
                continue
            per_cost = [_nonneg(usage[m].get("cost_usd")) for m in names]
            weight_total = sum(per_cost)
            per_counts = [[int(_nonneg(usage[m].get(k))) for k in _USAGE] for m in names]
            exact = [sum(c[i] for c in per_counts) for i in range(4)] == counts
            left_cost, left_counts = cost, list(counts)
            for i, model in enumerate(names):
                last = i == len(names) - 1
                share = per_cost[i] / weight_total if weight_total else 1 / len(names)
                part_cost = left_cost if last else cost * share
                if exact:
                    part_counts = per_counts[i]
                elif last:
                    part_counts = left_counts
                else:
                    part_counts = [int(c * share) for c in counts]
                add(model, 1, part_counts, part_cost)
                left_cost -= part_cost
                left_counts = [a - b for a, b in zip(left_counts, part_counts, strict=True)]
        rows = [
            {"key": model, **_tokens_dict([int(r[0]), *map(int, r[1:5]), r[5]])}
            for model, r in totals.items()
        ]
        return sorted(rows, key=lambda r: (-r["cost_usd"], r["key"]))

    def _model_usage(
        self, conn: sqlite3.Connection, agent_id: str, prompt_id: str
    ) -> dict[str, dict[str, Any]]:
        """The ``model_usage`` recorded with a prompt (``agent.py`` logs it as an event)."""
        for (text,) in conn.execute(
            "SELECT metadata FROM agent_logs WHERE agent_id = ? AND message = 'prompt metadata'",
            (agent_id,),
        ):
            meta = _json(text)
            if meta.get("prompt_id") == prompt_id:
                usage = meta.get("model_usage")
                if isinstance(usage, dict):
                    return {str(k): v for k, v in usage.items() if isinstance(v, dict)}
        return {}

    # --- files --------------------------------------------------------------------------------

    def raw_file(self, rel: str) -> Path | None:
        """The project file ``rel`` if it is a raw stream output: a ``.jsonl`` file inside a run's
        ``agents/<adw_id>/`` folder (never the database, nor anything outside)."""
        if self.project is None or not rel:
            return None
        base = (self.project / "agents").resolve()
        try:
            path = (self.project / rel).resolve()
        except (OSError, ValueError):
            return None
        if not path.is_relative_to(base) or path.suffix != ".jsonl" or not path.is_file():
            return None
        run_folder = path.relative_to(base).parts[0]
        return path if re.fullmatch(r"[0-9a-f]{8}", run_folder) else None


_COUNTS = ("tokens_input", "tokens_cache_read", "tokens_cache_creation", "tokens_output")
# The keys of agent.py's model_usage, in _COUNTS order.
_USAGE = ("input", "cache_read", "cache_creation", "output")


def _nonneg(value: object) -> float:
    """A usage number from recorded JSON: finite and >= 0, else 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if number >= 0 and number != float("inf") else 0.0


def _tokens_dict(row: Any) -> dict[str, Any]:
    n, ti, tcr, tcc, tout, cost = row
    return {
        "prompts": n,
        "tokens_input": ti,
        "tokens_cache_read": tcr,
        "tokens_cache_creation": tcc,
        "tokens_cached": tcr + tcc,
        "tokens_output": tout,
        "cost_usd": round(cost, 6),
    }


def _event(row: Any) -> dict[str, Any]:
    """One ``agent_logs`` row as the pages and the API show it."""
    rowid, agent_id, log_type, message, metadata, created_at, adw_id, agent_name = row
    meta = _json(metadata)
    tool = meta.get("tool_name")
    blocked = bool(meta.get("blocked"))
    outcome = ""
    if blocked:
        outcome = f"blocked: {meta.get('block_reason') or ''}"
    elif "tool_response" in meta:
        outcome = str(meta.get("tool_response") or "")[:500]
    elif "error" in meta:
        outcome = str(meta.get("error"))[:500]
    elif "status" in meta:
        outcome = str(meta["status"])
    return {
        "id": rowid,
        "agent_id": agent_id,
        "run_id": adw_id or (None if agent_name == SESSION_AGENT else agent_id),
        "agent": agent_name,
        "log_type": log_type,
        "message": message,
        "hook_event": meta.get("hook_event"),
        "tool_name": str(tool) if tool else None,
        "tool_input": str(meta.get("tool_input") or "")[:1000] or None,
        "blocked": blocked,
        "block_reason": meta.get("block_reason") if blocked else None,
        "outcome": outcome,
        "created_at": created_at,
        "meta": meta,
    }
