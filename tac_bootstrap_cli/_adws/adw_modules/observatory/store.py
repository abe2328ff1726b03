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
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
# Events per phase on one page (the run and session views; the API takes up to EVENTS_PAGE_MAX).
EVENTS_PER_PAGE: Final = 200
EVENTS_PAGE_MAX: Final = 5000
# Phases and sessions whose log summary is kept (least recently used dropped first).
SUMMARIES_KEPT: Final = 256
# How many rows after a prompt are searched for its "prompt metadata" event.
PROMPT_META_WINDOW: Final = 50
MIXED_JOIN: Final = " + "
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


@dataclass(slots=True)
class Tokens:
    """Token and cost totals (``cached`` = cache reads + cache creation)."""

    prompts: int = 0
    tokens_input: int = 0
    tokens_cache_read: int = 0
    tokens_cache_creation: int = 0
    tokens_output: int = 0
    cost_usd: float = 0.0
    num_turns: int = 0

    @property
    def tokens_cached(self) -> int:
        """Cache reads plus cache writes."""
        return self.tokens_cache_read + self.tokens_cache_creation

    def add(self, other: Tokens, sign: int = 1) -> None:
        """Add ``other``'s counts to these (``sign=-1``: take them away)."""
        self.prompts += sign * other.prompts
        self.tokens_input += sign * other.tokens_input
        self.tokens_cache_read += sign * other.tokens_cache_read
        self.tokens_cache_creation += sign * other.tokens_cache_creation
        self.tokens_output += sign * other.tokens_output
        self.cost_usd += sign * other.cost_usd
        self.num_turns += sign * other.num_turns

    def as_dict(self) -> dict[str, Any]:
        """JSON form: the counts, ``tokens_cached``, and the cost rounded to 6 decimals."""
        return {
            "prompts": self.prompts,
            "tokens_input": self.tokens_input,
            "tokens_cache_read": self.tokens_cache_read,
            "tokens_cache_creation": self.tokens_cache_creation,
            "tokens_cached": self.tokens_cached,
            "tokens_output": self.tokens_output,
            "num_turns": self.num_turns,
            "cost_usd": round(self.cost_usd, 6),
        }


@dataclass(frozen=True)
class EventCursor:
    """Which events of a phase (or session) to show: the first ``limit`` (the default), those
    after or before the event ``after`` / ``before`` (an ``agent_logs`` rowid), or the latest.

    ``agent_id`` names the phase Agent the cursor is for; the run's other phases show their first
    page (an empty ``agent_id``: every phase, e.g. ``latest`` for all)."""

    agent_id: str = ""
    after: int | None = None
    before: int | None = None
    latest: bool = False
    limit: int = EVENTS_PER_PAGE

    def for_agent(self, agent_id: str) -> EventCursor:
        """This cursor for one phase: itself when it is that phase's, else the first page."""
        if self.agent_id in ("", agent_id):
            return self
        return EventCursor(limit=self.limit)


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
    members: list[_Agent] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON form (the API's, and ``adw_status.py --json``'s): ``phases`` has one entry per
        phase Agent, oldest first (a rerun phase appears once per attempt)."""
        return {
            "id": self.id,
            "workflow": self.workflow,
            "status": self.status,
            "task": self.task,
            "branch": self.branch,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": self.duration_s,
            "phases": [agent.summary() for agent in self.members],
            "agent_ids": list(self.agent_ids),
            "totals": self.totals.as_dict(),
        }


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
# Prompt sums per Agent, day and models of the prompts added since a rowid. NOT INDEXED: a
# range of rowids (what was added since the last pass), never a walk of the agent_id index.
_PROMPTS_SQL = """
SELECT agent_id, substr(created_at, 1, 10), coalesce(models, ''), count(*), sum(tokens_input),
       sum(tokens_cache_read), sum(tokens_cache_creation), sum(tokens_output), sum(cost_usd),
       sum(num_turns), max(created_at), max(rowid)
FROM prompts NOT INDEXED WHERE rowid > ? GROUP BY 1, 2, 3
"""
# The prompts of one Agent that used several models, added since a rowid.
_MULTI_SQL = """
SELECT id, models, created_at, tokens_input, tokens_cache_read, tokens_cache_creation,
       tokens_output, cost_usd, num_turns
FROM prompts WHERE agent_id = ? AND models = ? AND rowid > ?
"""
# Workflow and phase of an Agent outside the run index (an interactive session), as costs group.
_OUTSIDE_SQL = f"""
SELECT coalesce({_meta("workflow")}, a.name, '?'), coalesce({_meta("phase")}, a.name, '?')
FROM agents a WHERE a.id = ?
"""  # noqa: S608


# The newest event of each of the given Agents (an index lookup per Agent).
_LAST_LOG_SQL = """
SELECT j.value, (SELECT max(l.created_at) FROM agent_logs l WHERE l.agent_id = j.value)
FROM json_each(?) j
"""
# One page of an Agent's events in (created_at, rowid) order: the idx_agent_logs_agent_created
# index holds exactly that order (rowid is its last column), so a page costs its own rows.
_PAGE_SQL = """
SELECT l.rowid, l.agent_id, l.log_type, l.message, l.metadata, l.created_at, ?, ?
FROM agent_logs l WHERE l.agent_id = ? AND l.message IS NOT 'prompt metadata'
"""
# What a phase's header needs from all its rows: the count, the steps, the prompts' metadata.
_SUMMARY_COLUMNS = """
SELECT rowid, log_type, message, created_at,
       CASE WHEN log_type <> 'event' OR message = 'prompt metadata' THEN metadata END
FROM agent_logs"""
# The rows written right after a prompt (its "prompt metadata" event is among the first).
_AFTER_PROMPT_SQL = """
SELECT message, metadata FROM agent_logs WHERE agent_id = ? AND created_at >= ?
ORDER BY created_at, rowid LIMIT ?
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
    models: set[str] = field(default_factory=set)

    @property
    def open(self) -> bool:
        """Still able to change (status, completion, metadata)."""
        return self.status in ("running", "pending")

    def summary(self) -> dict[str, Any]:
        """The phase as the run list's JSON shows it: totals flat, models used."""
        return {
            "phase": self.phase,
            "agent": self.name,
            "agent_id": self.id,
            "status": self.status,
            "started_at": self.started_at or self.created_at,
            "completed_at": self.completed_at,
            **self.totals.as_dict(),
            "models": sorted(self.models),
        }


@dataclass
class _LogSummary:
    """What a page needs from every row of one Agent's log, kept up to date from the rows added
    since (``seen``: the database's largest ``agent_logs`` rowid when it was last read)."""

    seen: int = 0
    count: int = 0
    # (created_at, rowid, log_type, name, status) of the step_start / step_end rows
    steps: list[tuple[str, int, str, str, str]] = field(default_factory=list)
    prompt_meta: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Pending:
    """A prompt of several models whose per-model usage was not there yet (its Agent was open):
    counted in the mixed bucket until the usage arrives or the Agent ends."""

    prompt_id: str
    agent_id: str
    models: str
    created_at: str
    part: Tokens


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
        self._position: dict[str, int] = {}  # a run's place in _ordered
        self._live: dict[str, Run] = {}  # the runs still running (or stale), by id
        self._open_ids: set[str] = set()  # the Agents still running or pending
        self._agent_rowid = 0
        self._prompt_rowid = 0
        self._reset_costs()
        # Log summaries of the phases and sessions last shown (see _summary), least recent first.
        self._summaries: OrderedDict[str, _LogSummary] = OrderedDict()
        self._summary_lock = threading.Lock()

    def _reset_costs(self) -> None:
        """Empty the cost sums (kept with the run index, from the same pass over new prompts)."""
        self._cost_total = Tokens()
        self._cost_groups: dict[str, defaultdict[str, Tokens]] = {
            name: defaultdict(Tokens) for name in ("day", "workflow", "phase", "model")
        }
        self._mixed_keys: set[str] = set()
        self._split_prompts = 0
        self._pending: list[_Pending] = []
        self._outside: dict[str, tuple[str, str]] = {}
        self._cost_version = 0
        self._costs_cache: tuple[int, dict[str, Any]] | None = None

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
            runs, live = self._ordered, list(self._live.values())
        now = time.time()
        for run in live:  # staleness moves with the clock, not with the database
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
            self._open_ids, self._ordered, self._live = set(), [], {}
            self._reset_costs()
        touched: set[str] = set()
        # Agents whose log moved, that ended, or that are new: their pending prompts may settle.
        moved: set[str] = set()
        opened = sorted(self._open_ids)
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
                agent.models, agent.last_log = known.models, known.last_log
                if agent == known:
                    continue  # an open Agent read again, unchanged
                if (known.workflow, known.phase) != (agent.workflow, agent.phase):
                    self._move_costs(known, agent)  # metadata of an open Agent changed
            else:
                self._run_agents[agent.run_id].append(aid)
            self._agents[aid] = agent
            if agent.open:
                self._open_ids.add(aid)
            else:
                self._open_ids.discard(aid)
            self._agent_rowid = max(self._agent_rowid, rowid)
            touched.add(agent.run_id)
            moved.add(aid)
        since = self._prompt_rowid
        several: list[tuple[str, str]] = []
        for row in conn.execute(_PROMPTS_SQL, (since,)):
            aid, day, models = row[:3]
            n, ti, tcr, tcc, tout, cost, turns, last, top = row[3:]
            self._prompt_rowid = max(self._prompt_rowid, top)
            part = Tokens(n, ti or 0, tcr or 0, tcc or 0, tout or 0, cost or 0.0, turns or 0)
            found = self._agents.get(aid)
            if found is None:  # a prompt of an interactive session
                workflow, phase = self._outside_agent(conn, aid)
            else:
                found.totals.add(part)
                found.last_prompt = max(found.last_prompt or "", last or "") or None
                found.models.update(m for m in models.split(",") if m)
                touched.add(found.run_id)
                workflow, phase = found.workflow, found.phase
            self._cost_total.add(part)
            self._cost_groups["day"][day or "?"].add(part)
            self._cost_groups["workflow"][workflow].add(part)
            self._cost_groups["phase"][phase].add(part)
            if "," in models and len(_model_names(models)) > 1:
                several.append((aid, models))
            else:
                self._cost_groups["model"][models or "(unknown)"].add(part)
            self._cost_version += 1
        for aid, models in several:
            for p in conn.execute(_MULTI_SQL, (aid, models, since)):
                part = _tokens(1, [int(v or 0) for v in p[3:7]], float(p[7] or 0.0), int(p[8] or 0))
                self._pending.append(_Pending(p[0], aid, p[1], p[2], part))
                self._add_model(_mixed_key(p[1]), part)  # until its per-model usage is read
                moved.add(aid)
        # The last event of an open Agent tells whether its process is still alive.
        for aid, last in conn.execute(_LAST_LOG_SQL, (json.dumps(sorted(self._open_ids)),)):
            agent = self._agents[aid]
            if last != agent.last_log:
                agent.last_log = last
                touched.add(agent.run_id)
                moved.add(aid)
        if self._pending and moved:
            self._settle(conn, moved)
        if not touched:
            return
        new_runs = [r for r in touched if r not in self._runs]
        for run_id in touched:
            self._runs[run_id] = self._run_of(run_id)
        self._tasks_from_prompts(conn, [self._runs[r] for r in touched])
        if new_runs or len(self._ordered) != len(self._runs):
            self._ordered = sorted(
                self._runs.values(), key=lambda r: (r.started_at, r.id), reverse=True
            )
            self._position = {r.id: i for i, r in enumerate(self._ordered)}
        else:  # same runs, same order: swap in the rebuilt objects (a copy: readers keep theirs)
            ordered = list(self._ordered)
            for run_id in touched:
                ordered[self._position[run_id]] = self._runs[run_id]
            self._ordered = ordered
        for run_id in touched:
            run = self._runs[run_id]
            if run.status in ("running", "stale"):
                self._live[run_id] = run
            else:
                self._live.pop(run_id, None)

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
            run.members.append(agent)
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
        per_page = max(1, per_page)
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

    def run(self, run_id: str, cursor: EventCursor | None = None) -> dict[str, Any] | None:
        """One run with its phases, attempts, prompts and a page of each phase's events (the
        first ``EVENTS_PER_PAGE`` unless ``cursor`` says otherwise); None when unknown."""
        found = next((r for r in self.all_runs() if r.id == run_id), None)
        if found is None:
            return None
        cursor = cursor or EventCursor()
        with self.read() as conn:
            phases = [
                self._phase(conn, agent.id, found.id, cursor.for_agent(agent.id))
                for agent in found.members
            ]
        return {"run": found.as_dict(), "phases": phases}

    def _phase(
        self, conn: sqlite3.Connection, agent_id: str, run_id: str, cursor: EventCursor
    ) -> dict[str, Any]:
        row = conn.execute(
            "SELECT id, name, model, status, created_at, started_at, completed_at, metadata"
            " FROM agents WHERE id = ?",
            (agent_id,),
        ).fetchone()
        meta = _json(row[7])
        summary = self._summary(conn, agent_id)
        events, page = self._event_page(conn, agent_id, run_id, row[1], cursor)
        prompts = []
        for p in conn.execute(
            "SELECT id, content, response, status, tokens_input, tokens_cache_read,"
            " tokens_cache_creation, tokens_output, cost_usd, num_turns, duration_ms, models,"
            " created_at FROM prompts WHERE agent_id = ? ORDER BY created_at, rowid",
            (agent_id,),
        ):
            extra = summary.prompt_meta.get(p[0], {})
            raw = extra.get("raw_output")
            models = p[11] or ""
            names = _model_names(models)
            parts = _split(names, [p[4], p[5], p[6], p[7]], p[8], _usage_of(extra))
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
                    "models": models,
                    # "a + b" for a call of several models; per_model only when its usage was
                    # recorded per model (else the totals above are the call's, not one model's).
                    "models_label": MIXED_JOIN.join(names),
                    "per_model": (
                        None
                        if parts is None
                        else [
                            {"model": m, **_counts_dict(c), "cost_usd": cost}
                            for m, c, cost in parts
                        ]
                    ),
                    "created_at": p[12],
                    "raw_output": raw if isinstance(raw, str) and self.raw_file(raw) else None,
                }
            )
        attempts: list[dict[str, Any]] = []
        open_steps: dict[str, dict[str, Any]] = {}
        for created, _rowid, log_type, name, status in sorted(summary.steps):
            if log_type == "step_start":
                step = {"name": name, "start": created, "end": None, "status": ""}
                open_steps[name] = step
                attempts.append(step)
            elif log_type == "step_end" and name in open_steps:
                step = open_steps.pop(name)
                step["end"] = created
                step["status"] = status
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
            "events": events,
            "events_total": summary.count,
            "events_page": page,
        }

    # --- events -------------------------------------------------------------------------------

    def _event_page(
        self,
        conn: sqlite3.Connection,
        agent_id: str,
        run_id: str | None,
        name: str | None,
        cursor: EventCursor,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One page of an Agent's events (``prompt metadata`` rows left out), in time order,
        and where it stands: ``has_before`` / ``has_after`` and the cursors for the pages
        around it (``before`` = its first event's id, ``after`` = its last one's)."""
        limit = max(1, min(cursor.limit, EVENTS_PAGE_MAX))
        ref = cursor.after if cursor.after is not None else cursor.before
        anchor = None
        if ref is not None:
            anchor = conn.execute(
                "SELECT created_at FROM agent_logs WHERE rowid = ? AND agent_id = ?",
                (ref, agent_id),
            ).fetchone()
        args: list[object] = [run_id, name, agent_id]
        where, forward, mode = "", True, "first"
        if anchor is not None and cursor.after is not None:
            mode, where = "after", " AND l.created_at >= ? AND (l.created_at > ? OR l.rowid > ?)"
            args += [anchor[0], anchor[0], ref]
        elif anchor is not None:
            mode, where = "before", " AND l.created_at <= ? AND (l.created_at < ? OR l.rowid < ?)"
            args += [anchor[0], anchor[0], ref]
            forward = False
        elif cursor.latest:
            mode, forward = "latest", False
        desc = "" if forward else " DESC"
        sql = f"{_PAGE_SQL}{where} ORDER BY l.created_at{desc}, l.rowid{desc} LIMIT ?"  # fixed text
        rows = conn.execute(sql, (*args, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit] if forward else rows[:limit][::-1]
        events = [_event(r) for r in rows]
        page = {
            "mode": mode,
            "limit": limit,
            "has_before": mode == "after" or (not forward and more),
            "has_after": mode == "before" or (forward and more),
            "before": events[0]["id"] if events else ref,
            "after": events[-1]["id"] if events else ref,
        }
        return events, page

    def _summary(self, conn: sqlite3.Connection, agent_id: str) -> _LogSummary:
        """The count, steps and prompt metadata of all of an Agent's log rows.

        Read once through the agent_id index, then brought up to date from the rows added since
        (a range of rowids: the log is append-only); kept for the SUMMARIES_KEPT most recently
        shown phases and sessions. A database whose rowids went backwards is read again."""
        (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM agent_logs").fetchone()
        with self._summary_lock:
            summary = self._summaries.pop(agent_id, None)
            added = top - summary.seen if summary is not None else 0
            # Reading the new rows costs what was added to the whole log; reading the Agent's
            # rows again costs its own rows: take the cheaper (and start over after a VACUUM).
            if summary is None or added < 0 or added > max(5 * summary.count, 20_000):
                summary = _LogSummary()
                rows = conn.execute(
                    f"{_SUMMARY_COLUMNS} WHERE agent_id = ? AND rowid <= ?", (agent_id, top)
                )
            else:
                rows = conn.execute(
                    f"{_SUMMARY_COLUMNS} NOT INDEXED WHERE rowid > ? AND rowid <= ? AND agent_id = ?",
                    (summary.seen, top, agent_id),
                )
            for rowid, log_type, message, created, meta in rows:
                if log_type in ("step_start", "step_end"):
                    status = str(_json(meta).get("status") or "")
                    summary.steps.append((created, rowid, log_type, message, status))
                elif message == "prompt metadata" and log_type == "event":
                    data = _json(meta)
                    summary.prompt_meta[str(data.get("prompt_id"))] = data
                    continue
                summary.count += 1
            summary.seen = top
            self._summaries[agent_id] = summary
            while len(self._summaries) > SUMMARIES_KEPT:
                self._summaries.popitem(last=False)
            return summary

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

    def sessions(self, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        """Interactive Claude Code sessions (Agents named ``claude-session``), newest first:
        ``limit`` of them after the first ``offset``."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT a.id, a.session_id, a.status, a.created_at, a.completed_at, a.metadata,"
                " (SELECT max(created_at) FROM agent_logs l WHERE l.agent_id = a.id)"
                " FROM agents a WHERE a.name = ? ORDER BY a.created_at DESC, a.rowid DESC"
                " LIMIT ? OFFSET ?",
                (SESSION_AGENT, max(0, limit), max(0, offset)),
            ).fetchall()
            counts = {r[0]: self._summary(conn, r[0]).count for r in rows}
        return [
            {
                "agent_id": r[0],
                "session_id": r[1],
                "status": r[2],
                "created_at": r[3],
                "completed_at": r[4],
                "cwd": str(_json(r[5]).get("cwd") or ""),
                "events": counts[r[0]],
                "last_event_at": r[6],
            }
            for r in rows
        ]

    def session(self, agent_id: str, cursor: EventCursor | None = None) -> dict[str, Any] | None:
        """One session with a page of its events (as ``run`` pages a phase); None when unknown."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT id, session_id, status, created_at, completed_at FROM agents"
                " WHERE id = ? AND name = ?",
                (agent_id, SESSION_AGENT),
            ).fetchone()
            if row is None:
                return None
            events, page = self._event_page(
                conn, agent_id, None, SESSION_AGENT, (cursor or EventCursor()).for_agent(agent_id)
            )
            total = self._summary(conn, agent_id).count
        keys = ("agent_id", "session_id", "status", "created_at", "completed_at")
        return {
            **dict(zip(keys, row, strict=True)),
            "events": events,
            "events_total": total,
            "events_page": page,
        }

    # --- costs --------------------------------------------------------------------------------

    def costs(self) -> dict[str, Any]:
        """Cost and tokens per day, workflow, phase and model, with the totals.

        The sums are kept with the run index, from the same pass over the prompts added since
        the last one (SQL sums of those rows, added up): a page costs the change, never a scan
        of ``prompts``. Per model, a prompt of several models is split by the per-model usage
        recorded with it; without that usage it stays whole under ``a + b`` (``mixed``)."""
        self.all_runs()  # brings the index, and the sums with it, up to date
        with self._index_lock:
            if self._costs_cache is not None and self._costs_cache[0] == self._cost_version:
                return self._costs_cache[1]
            result: dict[str, Any] = {"totals": self._cost_total.as_dict()}
            for name, groups in self._cost_groups.items():
                rows = [
                    {"key": key, **t.as_dict(), "mixed": key in self._mixed_keys}
                    for key, t in groups.items()
                    if t.prompts
                ]
                if name == "day":
                    rows.sort(key=lambda r: r["key"])
                else:
                    rows.sort(key=lambda r: (-r["cost_usd"], r["key"]))
                if name != "model":
                    for r in rows:
                        del r["mixed"]
                result[name] = rows
            result["models_split"] = self._split_prompts
            result["models_mixed"] = sum(
                t.prompts
                for key, t in self._cost_groups["model"].items()
                if key in self._mixed_keys
            )
            self._costs_cache = (self._cost_version, result)
            return result

    def _add_model(self, key: str, part: Tokens, sign: int = 1) -> None:
        self._cost_groups["model"][key].add(part, sign)
        if MIXED_JOIN in key:
            self._mixed_keys.add(key)
        self._cost_version += 1

    def _move_costs(self, old: _Agent, new: _Agent) -> None:
        """An Agent's prompts now count under its new workflow / phase."""
        for name, before, after in (
            ("workflow", old.workflow, new.workflow),
            ("phase", old.phase, new.phase),
        ):
            self._cost_groups[name][before].add(old.totals, -1)
            self._cost_groups[name][after].add(old.totals)
        self._cost_version += 1

    def _outside_agent(self, conn: sqlite3.Connection, agent_id: str) -> tuple[str, str]:
        """Workflow and phase, as the costs group them, of an Agent the run index leaves out."""
        if agent_id not in self._outside:
            row = conn.execute(_OUTSIDE_SQL, (agent_id,)).fetchone()
            self._outside[agent_id] = (str(row[0]), str(row[1])) if row else ("?", "?")
        return self._outside[agent_id]

    def _settle(self, conn: sqlite3.Connection, moved: set[str]) -> None:
        """Split the pending prompts of several models whose per-model usage is there now; those
        whose Agent ended without it stay whole in the mixed bucket. Only the prompts of the
        Agents in ``moved`` (new log rows, new prompts, a new status) are looked at again."""
        waiting: list[_Pending] = []
        for p in self._pending:
            if p.agent_id not in moved:
                waiting.append(p)
                continue
            usage = _usage_of(self._prompt_meta(conn, p.agent_id, p.prompt_id, p.created_at))
            counts = [p.part.tokens_input, p.part.tokens_cache_read]
            counts += [p.part.tokens_cache_creation, p.part.tokens_output]
            parts = _split(_model_names(p.models), counts, p.part.cost_usd, usage)
            if parts is None:
                agent = self._agents.get(p.agent_id)
                if agent is not None and agent.open:
                    waiting.append(p)  # agent.py writes the usage right after the prompt
                continue
            self._add_model(_mixed_key(p.models), p.part, -1)
            for model, part_counts, part_cost in parts:
                self._add_model(model, _tokens(1, part_counts, part_cost))
            self._split_prompts += 1
        self._pending = waiting

    def _prompt_meta(
        self, conn: sqlite3.Connection, agent_id: str, prompt_id: str, created_at: str
    ) -> dict[str, Any]:
        """The ``prompt metadata`` event ``agent.py`` logs right after a prompt ({} if none)."""
        for message, text in conn.execute(
            _AFTER_PROMPT_SQL, (agent_id, created_at, PROMPT_META_WINDOW)
        ):
            if message == "prompt metadata":
                meta = _json(text)
                if meta.get("prompt_id") == prompt_id:
                    return meta
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


def _model_names(models: str | None) -> list[str]:
    """The model ids of a ``prompts.models`` value, in order, each once."""
    return list(dict.fromkeys(m.strip() for m in (models or "").split(",") if m.strip()))


def _mixed_key(models: str) -> str:
    """The per-model bucket of a prompt of several models that cannot be split: ``a + b``."""
    return MIXED_JOIN.join(sorted(_model_names(models)))


def _usage_of(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``model_usage`` of a ``prompt metadata`` event ({} when absent or malformed)."""
    usage = meta.get("model_usage")
    if not isinstance(usage, dict):
        return {}
    return {str(k): v for k, v in usage.items() if isinstance(v, dict)}


def _split(
    names: list[str], counts: list[int], cost: float, usage: dict[str, dict[str, Any]]
) -> list[tuple[str, list[int], float]] | None:
    """A prompt of several models split by its recorded per-model usage: tokens as counted per
    model (when they add up to the prompt's, else in proportion), cost in proportion to each
    model's cost, the last model taking the remainder so that the parts sum to the prompt's own.
    None when the prompt used one model, or its usage does not name exactly its models."""
    if len(names) < 2 or not usage or set(usage) != set(names):
        return None
    per_cost = [_nonneg(usage[m].get("cost_usd")) for m in names]
    weight_total = sum(per_cost)
    per_counts = [[int(_nonneg(usage[m].get(k))) for k in _USAGE] for m in names]
    exact = [sum(c[i] for c in per_counts) for i in range(4)] == counts
    left_cost, left_counts = cost, list(counts)
    parts: list[tuple[str, list[int], float]] = []
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
        parts.append((model, part_counts, part_cost))
        left_cost -= part_cost
        left_counts = [a - b for a, b in zip(left_counts, part_counts, strict=True)]
    return parts


def _tokens(prompts: int, counts: list[int], cost: float, turns: int = 0) -> Tokens:
    """Tokens from counts in _COUNTS order."""
    ti, tcr, tcc, tout = counts
    return Tokens(prompts, ti, tcr, tcc, tout, cost, turns)


def _counts_dict(counts: list[int]) -> dict[str, int]:
    data = dict(zip(_COUNTS, counts, strict=True))
    data["tokens_cached"] = data["tokens_cache_read"] + data["tokens_cache_creation"]
    return data


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
