"""Read-only queries over a run-log database (``schema_orchestrator.sql``) for the observatory.

Standard library only (plus ``adw_sqlite``'s constants): tac-bootstrap and generated projects
(``adws/adw_observe.py``) use the same file. Every connection is opened with ``mode=ro``: the
observatory can never change a database nor hold a write lock.

Memory stays bounded whatever the database holds: a page is the queries of that page (the runs
ordered, filtered and paged in SQL, their sums through the prompts' agent_id index, a phase's
events through the agent_logs index), and what is kept between requests is capped: the last run
listings (one page of run ids each), tasks and branches of the last runs shown, the log summaries
of the last phases shown, and the cost sums (one entry per day, workflow, phase and model), built
in the background on the first costs request (see specs/observatory.md, "Scale").
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
# What is kept between requests (least recently used dropped first): log summaries of phases and
# sessions, run listings (a page of run ids and the count), tasks of runs and Agents.
SUMMARIES_KEPT: Final = 256
LISTINGS_KEPT: Final = 32
TASKS_KEPT: Final = 4096
# How many rows after a prompt are searched for its "prompt metadata" event.
PROMPT_META_WINDOW: Final = 50
# How long a costs request waits for the sums before it answers "computing" (the first pass reads
# every prompt: about a second at 10,000 runs; it goes on in the background).
COSTS_WAIT_S: Final = 0.25
# Above this many new agent_logs rows, the events of given Agents are found through their index
# instead of the rowid range.
EVENTS_RANGE_MAX: Final = 20_000
MIXED_JOIN: Final = " + "
_TASK_RE = re.compile(r"<task>\n?(.*?)\n?</task>", re.DOTALL)
_META = "CASE WHEN json_valid({col}) THEN json_extract({col}, '$.{key}') END"
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
_BRANCH_RE = re.compile(r"\badw-([0-9a-f]{8})\b")


class ObserveError(Exception):
    """The database cannot be observed: missing, damaged, foreign or of another schema."""


def _meta(key: str, col: str = "a.metadata") -> str:
    """SQL for one metadata key; a row with invalid JSON reads as NULL instead of failing."""
    return _META.format(col=col, key=key)


# The run an Agent belongs to is its metadata's adw_id (an Agent without one is a run of its own).
# With an index on this expression a run's Agents are one index lookup; the schema has none yet,
# so finding them reads the agents table (~40,000 rows at 10,000 runs; see specs/observatory.md).
ADW_ID_SQL: Final = _meta("adw_id", "metadata")
RUN_INDEX_SQL: Final = f"CREATE INDEX idx_agents_adw_id ON agents ({ADW_ID_SQL}, created_at)"
_RUN_OF = f"coalesce({ADW_ID_SQL}, id)"
# The text of a prompt's first <task> block ('' when it is not closed), and which prompts have
# one: schema migration 5 indexes exactly these (TASK_INDEX_SQL, character for character), so a
# search reads that index (agent_id and the task text) instead of every prompt's content.
TASK_TEXT_SQL: Final = (
    "substr(content, instr(content, '<task>') + 6,"
    " max(instr(substr(content, instr(content, '<task>') + 6), '</task>') - 1, 0))"
)
TASK_WHERE_SQL: Final = "instr(content, '<task>') > 0"
TASK_INDEX_SQL: Final = (
    f"CREATE INDEX idx_prompts_task ON prompts (agent_id, {TASK_TEXT_SQL}) WHERE {TASK_WHERE_SQL}"
)
_RUN_LOOKUP_PLAN = f"EXPLAIN QUERY PLAN SELECT id FROM agents a WHERE {_meta('adw_id')} = ?"  # noqa: S608

_EVENTS_SQL = f"""SELECT l.rowid, l.agent_id, l.log_type, l.message, l.metadata, l.created_at,
 {_meta("adw_id")}, a.name FROM agent_logs l {{hint}} JOIN agents a ON a.id = l.agent_id"""  # noqa: S608


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


def _sums(row: tuple[Any, ...]) -> Tokens:
    """Tokens from SQL sums in the order count, input, cache read, cache creation, output, cost,
    turns (NULL sums of no rows read as 0)."""
    n, ti, tcr, tcc, tout, cost, turns = row
    return Tokens(
        int(n or 0),
        int(ti or 0),
        int(tcr or 0),
        int(tcc or 0),
        int(tout or 0),
        float(cost or 0.0),
        int(turns or 0),
    )


_SUMS = (
    "count(*), sum(tokens_input), sum(tokens_cache_read), sum(tokens_cache_creation),"
    " sum(tokens_output), sum(cost_usd), sum(num_turns)"
)


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


# Built from constants only (metadata keys, the session agent name): no outside text goes in.
# A phase Agent's row as a run is built from it.
_AGENT_SQL = f"""
SELECT a.rowid, a.id, a.name, a.status, a.created_at, a.started_at, a.completed_at,
       {_meta("adw_id")}, {_meta("workflow")}, {_meta("phase")}, {_meta("target")}
FROM agents a"""  # noqa: S608
# The run list, newest first, one page: each run's id, start and Agent rowids, and how many runs
# there are; then (rows with a NULL id) the workflows of every run (for the filter). Grouped by
# SQLite as it reads the table, in one pass: no row of the table is kept here.
_WF = f"coalesce({_meta('workflow', 'metadata')}, name, '?')"
_LIST_SQL = f"""
WITH r AS (
  SELECT run, min(created_at) AS start, workflow, group_concat(rid) AS rids
  FROM (SELECT {_RUN_OF} AS run, rowid AS rid, created_at, {_WF} AS workflow FROM agents
        WHERE name IS NOT '{SESSION_AGENT}')
  GROUP BY run)
SELECT * FROM (SELECT run, start, rids, count(*) OVER () FROM r
               ORDER BY start DESC, run DESC LIMIT :limit OFFSET :offset)
UNION ALL SELECT DISTINCT NULL, workflow, NULL, NULL FROM r
"""  # noqa: S608
# The same list where the agents table has the index RUN_INDEX_SQL: the Agents with an adw_id are
# grouped as that index holds them (no sort), those without one are runs of their own.
_LIST_INDEXED_SQL = f"""
WITH r AS (
  SELECT run, min(created_at) AS start, rid AS first, group_concat(rid) AS rids
  FROM (SELECT {ADW_ID_SQL} AS run, rowid AS rid, created_at FROM agents
        WHERE {ADW_ID_SQL} IS NOT NULL AND name IS NOT '{SESSION_AGENT}')
  GROUP BY run
  UNION ALL
  SELECT id, created_at, rowid, rowid FROM agents
  WHERE {ADW_ID_SQL} IS NULL AND name IS NOT '{SESSION_AGENT}')
SELECT * FROM (SELECT run, start, rids, count(*) OVER () FROM r
               ORDER BY start DESC, run DESC LIMIT :limit OFFSET :offset)
UNION ALL SELECT DISTINCT NULL, (SELECT {_WF} FROM agents WHERE rowid = r.first), NULL, NULL FROM r
"""  # noqa: S608
# The filtered run list: each run's status (its phases' latest Agents: any failed -> failed, else
# any open -> running, else completed), workflow (its first Agent's), phases and targets.
_FILTER_SQL = f"""
WITH a AS MATERIALIZED (
  SELECT {_RUN_OF} AS run, rowid AS rid, created_at, status, {_WF} AS workflow,
         coalesce({_meta("phase", "metadata")}, name, '?') AS phase,
         coalesce({_meta("target", "metadata")}, '') AS target
  FROM agents WHERE name IS NOT '{SESSION_AGENT}' /*scope*/),
r AS (SELECT run, min(created_at) AS start, workflow, group_concat(rid) AS rids,
             group_concat(phase, ' ') AS phases, group_concat(target, ' ') AS targets
      FROM a GROUP BY run),
l AS (SELECT run, status,
             row_number() OVER (PARTITION BY run, phase ORDER BY created_at DESC, rid DESC) AS n
      FROM a),
s AS (SELECT run, CASE WHEN max(status = 'failed') THEN 'failed'
                       WHEN max(status IN ('running', 'pending')) THEN 'running'
                       ELSE 'completed' END AS status
      FROM l WHERE n = 1 GROUP BY run)
SELECT * FROM (SELECT r.run, r.start, r.rids, count(*) OVER () FROM r JOIN s USING (run)
WHERE (:status = '' OR s.status = :status) AND (:workflow = '' OR r.workflow = :workflow)
"""  # noqa: S608
# Text search: the run's id, workflow, phases and target, the <task> block of its prompts, or the
# run whose branch (adw-<id>-<slug>) is the text. The runs found by their task (:task_runs) come
# from the index of schema migration 5 (TASK_INDEX_SQL) alone, never the prompts' content.
_TASK_SEARCH_SQL = f"""SELECT agent_id FROM prompts
WHERE {TASK_WHERE_SQL} AND instr(lower({TASK_TEXT_SQL}), :q) > 0"""  # noqa: S608
_TASK_RUNS_SQL = f"""SELECT DISTINCT {_RUN_OF} FROM agents
WHERE id IN (SELECT value FROM json_each(:agents))"""  # noqa: S608
_SEARCH_SQL = """
AND (instr(lower(r.run || ' ' || r.workflow || ' ' || r.phases || ' ' || r.targets), :q) > 0
     OR r.run = :branch_run OR r.run IN (SELECT value FROM json_each(:task_runs)))
"""
# A search narrowed first: the runs with an Agent whose id, name or metadata text holds a piece of
# the text (no JSON read), whose rows alone then go through _FILTER_SQL (see _search_scope).
_SCOPE_RUNS_SQL = f"""SELECT DISTINCT {_RUN_OF} FROM agents
WHERE name IS NOT '{SESSION_AGENT}' AND (instr(lower(metadata), :piece) > 0
      OR instr(lower(name), :piece) > 0 OR instr(lower(id), :piece) > 0)"""  # noqa: S608
_SCOPE_ROWS_SQL = f"""SELECT rowid FROM agents WHERE {ADW_ID_SQL} IN (SELECT value FROM json_each(?))
UNION SELECT rowid FROM agents WHERE id IN (SELECT value FROM json_each(?))"""  # noqa: S608
_SCOPE = "AND rowid IN (SELECT value FROM json_each(:scope))"
# Above this many runs a narrowed search would cost more than the grouping of every Agent.
SCOPE_RUNS_MAX: Final = 2000
# A piece of search text found as such in the metadata's JSON text: printable ASCII without the
# characters JSON escapes (a text with others is searched without narrowing).
_PLAIN_PIECE = re.compile(r"[!#-\[\]-~]+")
_PAGE_OF_RUNS = """
ORDER BY r.start DESC, r.run DESC LIMIT :limit OFFSET :offset)
UNION ALL SELECT DISTINCT NULL, workflow, NULL, NULL FROM r
"""
_PAGE_ONLY = "ORDER BY r.start DESC, r.run DESC LIMIT :limit OFFSET :offset)"
# The Agents still able to change (what a cached listing depends on besides new rows).
_OPEN_SQL = """
SELECT id, status, created_at, started_at, completed_at, metadata FROM agents
WHERE status IN ('running', 'pending') ORDER BY id
"""
# Prompt sums of the given Agents, through the agent_id index.
_AGENT_SUMS_SQL = f"""
SELECT agent_id, {_SUMS}, max(created_at), group_concat(DISTINCT models) FROM prompts
WHERE agent_id IN (SELECT value FROM json_each(?)) GROUP BY agent_id
"""  # noqa: S608
# The newest event of each of the given Agents (an index lookup per Agent).
_LAST_LOG_SQL = """
SELECT j.value, (SELECT max(l.created_at) FROM agent_logs l WHERE l.agent_id = j.value)
FROM json_each(?) j
"""
_TASK_SQL = """
SELECT agent_id, substr(content, instr(content, '<task>'), 2000) FROM prompts
WHERE agent_id IN (SELECT value FROM json_each(?)) AND instr(content, '<task>') > 0
ORDER BY created_at DESC
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
# Cost sums of the prompts in a rowid range, per day, workflow, phase and models. NOT INDEXED: a
# range of rowids (what was added since the last pass), never a walk of the agent_id index.
_COSTS_SQL = f"""
SELECT substr(p.created_at, 1, 10), coalesce({_meta("workflow")}, a.name, '?'),
       coalesce({_meta("phase")}, a.name, '?'), coalesce(p.models, ''), count(*),
       sum(p.tokens_input), sum(p.tokens_cache_read), sum(p.tokens_cache_creation),
       sum(p.tokens_output), sum(p.cost_usd), sum(p.num_turns)
FROM prompts p NOT INDEXED LEFT JOIN agents a ON a.id = p.agent_id
WHERE p.rowid > ? AND p.rowid <= ? GROUP BY 1, 2, 3, 4
"""  # noqa: S608
# The prompts of several models in a rowid range, one by one (each is split by its own usage).
_SEVERAL_SQL = """
SELECT p.id, p.agent_id, p.models, p.created_at, p.tokens_input, p.tokens_cache_read,
       p.tokens_cache_creation, p.tokens_output, p.cost_usd, p.num_turns
FROM prompts p NOT INDEXED WHERE p.rowid > ? AND p.rowid <= ? AND instr(p.models, ',') > 0
"""
# Workflow and phase of the given Agents, as the costs group them.
_COST_AGENTS_SQL = f"""
SELECT a.id, coalesce({_meta("workflow")}, a.name, '?'), coalesce({_meta("phase")}, a.name, '?')
FROM agents a WHERE a.id IN (SELECT value FROM json_each(?))
"""  # noqa: S608
_COST_OPEN_SQL = f"""
SELECT a.id, coalesce({_meta("workflow")}, a.name, '?'), coalesce({_meta("phase")}, a.name, '?')
FROM agents a WHERE a.status IN ('running', 'pending')
"""  # noqa: S608
_COUNTED_SQL = f"SELECT {_SUMS} FROM prompts WHERE agent_id = ? AND rowid <= ?"  # noqa: S608


@dataclass
class _Agent:
    """One phase Agent of a run as the run list shows it."""

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


def _agent(row: tuple[Any, ...]) -> _Agent:
    """An ``_AGENT_SQL`` row."""
    rowid, aid, name, status, created, started, completed, adw_id, workflow, phase, target = row
    return _Agent(
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


@dataclass
class _Listing:
    """One page of the run list as the query gives it: (run id, start, Agent rowids) rows, how
    many runs match, the page, and the workflows of every run (the filter's choices)."""

    rows: list[tuple[Any, str, str]]
    total: int
    page: int
    workflows: list[str]


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


class _Bounded(OrderedDict[Any, Any]):
    """A dict that keeps its ``cap`` most recently used entries."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def use(self, key: Any) -> Any:
        """The value of ``key`` (None if absent), now the most recently used."""
        if key not in self:
            return None
        self.move_to_end(key)
        return self[key]

    def keep(self, key: Any, value: Any) -> None:
        """Store ``value``; the least recently used entries go beyond the cap."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.cap:
            self.popitem(last=False)


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
        # What is kept between requests, each capped (see the module's docstring).
        self._cache_lock = threading.Lock()
        self._listings = _Bounded(LISTINGS_KEPT)  # (signature, filters, page) -> one page of ids
        self._states = _Bounded(TASKS_KEPT)  # adw_id -> (mtime, task, branch) of adw_state.json
        self._tasks = _Bounded(TASKS_KEPT)  # Agent id -> the <task> of its prompts ("" if none)
        self._summaries = _Bounded(SUMMARIES_KEPT)  # Agent id -> _LogSummary
        self._summary_lock = threading.Lock()
        self._indexed: bool | None = None  # see _run_index
        self._book = _CostBook()
        self._costs_lock = threading.Lock()
        self._costs_job: _CostsPass | None = None

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

    def _signature(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """What a run listing depends on: the Agents added (their largest rowid), the rows of the
        open Agents (only those change), and the prompts added (a search reads their tasks)."""
        top_agent, top_prompt = conn.execute(
            "SELECT coalesce((SELECT max(rowid) FROM agents), 0),"
            " coalesce((SELECT max(rowid) FROM prompts), 0)"
        ).fetchone()
        return int(top_agent), hash(tuple(conn.execute(_OPEN_SQL))), int(top_prompt)

    def runs(
        self,
        *,
        status: str = "",
        workflow: str = "",
        q: str = "",
        page: int = 1,
        per_page: int = 50,
    ) -> RunPage:
        """The runs matching the filters (status, workflow, text in the id, workflow, phases,
        target or task), newest first (by their first Agent's creation), one page.

        The page is a query for that page: SQLite orders, filters and counts the runs as it reads
        the agents table, and only the page's runs are built; a listing is kept (LISTINGS_KEPT)
        until an Agent is added or an open one changes (or, for a search, a prompt is added)."""
        per_page, page = max(1, per_page), max(1, page)
        needle = q.strip().lower()
        with self.read() as conn:
            sig = self._signature(conn)
            if status in ("running", "stale"):
                # Running or stale is the clock's call: build every run SQL calls running (only
                # runs with an open Agent), then keep those of the asked status.
                found = self._listing(conn, sig, "running", workflow, needle, 1, -1)
                every = [r for r in self._build(conn, found.rows) if r.status == status]
                total = len(every)
                page = min(page, max(1, -(-total // per_page)))
                runs = every[(page - 1) * per_page : page * per_page]
            else:
                status = status if status in ("completed", "failed") else ""
                found = self._listing(conn, sig, status, workflow, needle, page, per_page)
                runs, total, page = self._build(conn, found.rows), found.total, found.page
        pages = max(1, -(-total // per_page))
        return RunPage(runs, total, page, pages, found.workflows)

    def _listing(
        self,
        conn: sqlite3.Connection,
        sig: tuple[int, int, int],
        status: str,
        workflow: str,
        needle: str,
        page: int,
        per_page: int,
    ) -> _Listing:
        """One page of run ids, the count, the page shown and the workflows; ``per_page`` -1:
        every matching run. Kept until the Agents change (a search: or a prompt is added)."""
        key = (sig if needle else sig[:2], status, workflow, needle, page, per_page)
        with self._cache_lock:
            found = self._listings.use(key)
        if found is None:
            found = self._query_listing(conn, status, workflow, needle, page, per_page)
            with self._cache_lock:
                self._listings.keep(key, found)
        return found  # type: ignore[no-any-return]

    def _query_listing(
        self,
        conn: sqlite3.Connection,
        status: str,
        workflow: str,
        needle: str,
        page: int,
        per_page: int,
    ) -> _Listing:
        """The listing's query; a page past the end is the last page."""
        params: dict[str, object] = {
            "status": status,
            "workflow": workflow,
            "limit": per_page,
            "offset": (page - 1) * per_page if per_page > 0 else 0,
        }
        every: list[str] | None = None  # the workflows of every run, when not from this query
        if not (status or workflow or needle):
            sql = _LIST_INDEXED_SQL if self._run_index(conn) else _LIST_SQL
        elif not needle:
            sql = _FILTER_SQL + _PAGE_OF_RUNS
        else:
            branch = _BRANCH_RE.search(needle)
            branch_run = branch.group(1) if branch else ""
            task_agents = [r[0] for r in conn.execute(_TASK_SEARCH_SQL, {"q": needle})]
            task_runs = [r[0] for r in conn.execute(_TASK_RUNS_SQL, (json.dumps(task_agents),))]
            params.update(q=needle, branch_run=branch_run, task_runs=json.dumps(task_runs))
            scope = self._search_scope(conn, needle, [branch_run, *task_runs])
            sql = _FILTER_SQL + _SEARCH_SQL + _PAGE_OF_RUNS
            if scope is not None:
                params["scope"] = json.dumps(scope)
                sql = _FILTER_SQL.replace("/*scope*/", _SCOPE) + _SEARCH_SQL + _PAGE_ONLY
                every = self._workflows(conn)
        rows, workflows = [], []
        for run, start, rids, total in conn.execute(sql, params):
            if run is None:
                workflows.append(str(start))
            else:
                rows.append((run, str(start), str(rids), int(total)))
        if every is not None:
            workflows = every
        if rows or page == 1:
            listing = [(r[0], r[1], r[2]) for r in rows]
            return _Listing(listing, rows[0][3] if rows else 0, page, sorted(workflows))
        count = self._query_listing(conn, status, workflow, needle, 1, 1).total
        if count == 0:
            return _Listing([], 0, 1, sorted(workflows))
        return self._query_listing(conn, status, workflow, needle, -(-count // per_page), per_page)

    def _search_scope(
        self, conn: sqlite3.Connection, needle: str, found: list[str]
    ) -> list[int] | None:
        """The rowids of the Agents of every run a search can match (more than it matches, never
        fewer), or None when the text cannot narrow it (then every Agent is grouped).

        A match in the run's id, workflow, phases or targets (joined by spaces) holds the text's
        longest space-free piece inside one field, and every field is an Agent's id, name or a
        metadata value, found as such in its metadata's JSON text when the piece is plain ASCII
        without the characters JSON escapes; ``found`` are the runs found otherwise (task,
        branch)."""
        piece = max(needle.split(" "), key=len)
        if piece == "?" or not _PLAIN_PIECE.fullmatch(piece):  # '?': the default of a field
            return None
        runs = {r[0] for r in conn.execute(_SCOPE_RUNS_SQL, {"piece": piece})}
        runs.update(run for run in found if run)
        if len(runs) > SCOPE_RUNS_MAX:
            return None
        text = json.dumps(sorted(runs))
        return [r[0] for r in conn.execute(_SCOPE_ROWS_SQL, (text, text))]

    def _workflows(self, conn: sqlite3.Connection) -> list[str]:
        """The workflows of every run (the filter's choices), kept until the Agents change."""
        key = ("workflows", self._signature(conn)[:2])
        with self._cache_lock:
            found = self._listings.use(key)
        if found is None:
            found = self._query_listing(conn, "", "", "", 1, 0).workflows
            with self._cache_lock:
                self._listings.keep(key, found)
        return found  # type: ignore[no-any-return]

    def _run_index(self, conn: sqlite3.Connection) -> bool:
        """Whether the agents table has an index on the adw_id expression (RUN_INDEX_SQL: the
        schema has none yet); looked at once, in the query plan SQLite chooses."""
        if self._indexed is None:
            plan = conn.execute(_RUN_LOOKUP_PLAN, ("",)).fetchall()
            self._indexed = any("<expr>=?" in str(row[-1]) for row in plan)
        return self._indexed

    def _build(self, conn: sqlite3.Connection, rows: list[tuple[Any, str, str]]) -> list[Run]:
        """The runs of listing rows, in their order: their Agents' rows (by rowid), prompt sums
        (through the agent_id index), the newest event of the open ones, and tasks."""
        if not rows:
            return []
        rowids = [int(x) for _, _, rids in rows for x in rids.split(",") if x]
        agents = [
            _agent(r)
            for r in conn.execute(
                f"{_AGENT_SQL} WHERE a.rowid IN (SELECT value FROM json_each(?))",  # noqa: S608
                (json.dumps(rowids),),
            )
        ]
        self._fill(conn, agents)
        by_run: dict[str, list[_Agent]] = defaultdict(list)
        for agent in agents:
            by_run[agent.run_id].append(agent)
        runs = [self._run_of(str(r[0]), by_run[str(r[0])]) for r in rows if by_run.get(str(r[0]))]
        self._fill_tasks(conn, runs)
        return runs

    def _fill(self, conn: sqlite3.Connection, agents: list[_Agent]) -> None:
        """Each Agent's prompt sums and models, and the newest event of the open ones."""
        by_id = {a.id: a for a in agents}
        for row in conn.execute(_AGENT_SUMS_SQL, (json.dumps(list(by_id)),)):
            agent = by_id[row[0]]
            agent.totals = _sums(row[1:8])
            agent.last_prompt = row[8]
            agent.models = {m for m in str(row[9] or "").split(",") if m}
        opened = [a.id for a in agents if a.open]
        if opened:
            for aid, last in conn.execute(_LAST_LOG_SQL, (json.dumps(opened),)):
                by_id[aid].last_log = last

    def _run_agents(self, conn: sqlite3.Connection, run_id: str) -> list[_Agent]:
        """The Agents of the run ``run_id`` (an adw_id, or the id of an Agent without one)."""
        row = conn.execute(
            f"{_AGENT_SQL} WHERE a.id = ? AND a.name IS NOT ?", (run_id, SESSION_AGENT)
        ).fetchone()
        if row is not None and not row[7]:
            return [_agent(row)]
        where, args = f"{_meta('adw_id')} = ?", [run_id]
        if _PLAIN_ID.fullmatch(run_id):
            # Without an index on the adw_id this reads the agents table: the id's own text must
            # be in the metadata (a cheap test) before its JSON is read.
            where, args = f"instr(a.metadata, ?) > 0 AND {where}", [run_id, run_id]
        rows = conn.execute(
            f"{_AGENT_SQL} WHERE {where} AND a.name IS NOT ?", (*args, SESSION_AGENT)
        ).fetchall()
        return [_agent(r) for r in rows]

    def _state(self, adw_id: str) -> tuple[str, str]:
        """(task, branch) from ``agents/<adw_id>/adw_state.json`` when the project has it."""
        if self.project is None or not re.fullmatch(r"[0-9a-f]{8}", adw_id):
            return "", ""
        text = f"{self.project}/agents/{adw_id}/adw_state.json"
        try:
            mtime = os.stat(text).st_mtime  # noqa: PTH116
        except OSError:
            return "", ""
        with self._cache_lock:
            cached = self._states.use(adw_id)
        if cached and cached[0] == mtime:
            return cached[1], cached[2]
        try:
            data = json.loads(Path(text).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        task, branch = str(data.get("task") or ""), str(data.get("branch") or "")
        with self._cache_lock:
            self._states.keep(adw_id, (mtime, task, branch))
        return task, branch

    def _fill_tasks(self, conn: sqlite3.Connection, runs: list[Run]) -> None:
        """Missing tasks from the ``<task>`` block of a run's first prompt that has one (read
        through the agent_id index for the Agents not in the task cache)."""
        wanted = [run for run in runs if not run.task]
        with self._cache_lock:
            missing = [a for run in wanted for a in run.agent_ids if a not in self._tasks]
        opened = {a.id for run in wanted for a in run.members if a.open}
        found: dict[str, str] = {}
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for aid, text in conn.execute(_TASK_SQL, (json.dumps(chunk),)):
                match = _TASK_RE.search(text or "")
                if match:
                    found[aid] = match.group(1).strip()  # the oldest prompt's (rows newest first)
        with self._cache_lock:
            for aid in missing:
                if aid in found or aid not in opened:  # an open one may still write its prompt
                    self._tasks.keep(aid, found.get(aid, ""))
            for run in wanted:
                tasks = (found.get(a) or self._tasks.use(a) for a in run.agent_ids)
                run.task = next((t for t in tasks if t), "")

    def _run_of(self, run_id: str, agents: list[_Agent]) -> Run:
        """One run from its Agents; a phase's latest Agent gives its status."""
        agents = sorted(agents, key=lambda a: (a.created_at, a.rowid))
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
        now = time.time()
        if "failed" in statuses:
            run.status = "failed"
        elif statuses & {"running", "pending"}:
            stale = now - run.last_activity > self.stale_after
            run.status, run.ended_at = ("stale" if stale else "running"), None
        begin, end = epoch_seconds(run.started_at), epoch_seconds(run.ended_at)
        if begin is not None:
            run.duration_s = (end if end is not None else now) - begin
        if first.target:
            run.task = first.target
        else:
            run.task, run.branch = self._state(run_id)
        return run

    def run(
        self, run_id: str, cursor: EventCursor | None = None, *, events: bool = True
    ) -> dict[str, Any] | None:
        """One run with its phases, attempts, prompts and a page of each phase's events (the
        first ``EVENTS_PER_PAGE`` unless ``cursor`` says otherwise; none with ``events=False``,
        what a live page asks for); None when unknown."""
        cursor = cursor or EventCursor()
        with self.read() as conn:
            agents = self._run_agents(conn, run_id)
            if not agents:
                return None
            self._fill(conn, agents)
            found = self._run_of(run_id, agents)
            self._fill_tasks(conn, [found])
            phases = [
                self._phase(conn, agent.id, found.id, cursor.for_agent(agent.id), events=events)
                for agent in found.members
            ]
        return {"run": found.as_dict(), "phases": phases}

    def _phase(
        self,
        conn: sqlite3.Connection,
        agent_id: str,
        run_id: str,
        cursor: EventCursor,
        *,
        events: bool = True,
    ) -> dict[str, Any]:
        row = conn.execute(
            "SELECT id, name, model, status, created_at, started_at, completed_at, metadata"
            " FROM agents WHERE id = ?",
            (agent_id,),
        ).fetchone()
        meta = _json(row[7])
        summary = self._summary(conn, agent_id)
        shown: list[dict[str, Any]] = []
        page: dict[str, Any] | None = None
        if events:
            shown, page = self._event_page(conn, agent_id, run_id, row[1], cursor)
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
            "events": shown,
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
            summary: _LogSummary | None = self._summaries.pop(agent_id, None)
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
            self._summaries.keep(agent_id, summary)
            return summary

    def events_after(
        self, after: int, limit: int = 500, agents: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Events (``agent_logs`` rows) with a rowid above ``after``, oldest first; only those
        of ``agents`` (Agent ids) when given: what a live page asks for, the events after the
        newest it shows."""
        with self.read() as conn:
            if agents is None:
                sql = f"{_EVENTS_SQL.format(hint='')} WHERE l.rowid > ? ORDER BY l.rowid LIMIT ?"
                rows = conn.execute(sql, (after, limit)).fetchall()
                return [_event(r) for r in rows]
            (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM agent_logs").fetchone()
            # The rows added since ``after`` (a rowid range) when they are few, else each Agent's
            # rows through its index: whichever reads fewer.
            hint = "NOT INDEXED" if top - after <= EVENTS_RANGE_MAX else ""
            where = " WHERE l.rowid > ? AND l.agent_id IN (SELECT value FROM json_each(?))"
            sql = _EVENTS_SQL.format(hint=hint) + where + " ORDER BY l.rowid LIMIT ?"
            rows = conn.execute(sql, (after, json.dumps(agents), limit)).fetchall()
            return [_event(r) for r in rows]

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

    def session(
        self, agent_id: str, cursor: EventCursor | None = None, *, events: bool = True
    ) -> dict[str, Any] | None:
        """One session with a page of its events (as ``run`` pages a phase; none with
        ``events=False``); None when unknown."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT id, session_id, status, created_at, completed_at FROM agents"
                " WHERE id = ? AND name = ?",
                (agent_id, SESSION_AGENT),
            ).fetchone()
            if row is None:
                return None
            shown: list[dict[str, Any]] = []
            page: dict[str, Any] | None = None
            if events:
                shown, page = self._event_page(
                    conn,
                    agent_id,
                    None,
                    SESSION_AGENT,
                    (cursor or EventCursor()).for_agent(agent_id),
                )
            total = self._summary(conn, agent_id).count
        keys = ("agent_id", "session_id", "status", "created_at", "completed_at")
        return {
            **dict(zip(keys, row, strict=True)),
            "events": shown,
            "events_total": total,
            "events_page": page,
        }

    # --- costs --------------------------------------------------------------------------------

    def costs(self, wait: float | None = COSTS_WAIT_S) -> dict[str, Any] | None:
        """Cost and tokens per day, workflow, phase and model, with the totals; None when the
        sums are not ready after ``wait`` seconds (None: wait for them).

        The sums are kept from pass to pass, each pass reading the prompts added since the last
        one (SQL sums of those rows, added up): the first pass reads every prompt, in the
        background, and a costs request waits for it at most ``wait`` seconds; later passes cost
        the change. Per model, a prompt of several models is split by the per-model usage
        recorded with it; without that usage it stays whole under ``a + b`` (``mixed``)."""
        with self._costs_lock:
            job = self._costs_job
            if job is None or not job.is_alive():
                job = _CostsPass(self)
                self._costs_job = job
                job.start()
        job.join(wait)
        if job.is_alive():
            return None
        if job.error is not None:
            raise job.error
        with self._book.lock:
            return self._book.result()

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


class _CostsPass(threading.Thread):
    """One pass of the cost sums over a fresh snapshot, in the background (see Store.costs)."""

    def __init__(self, store: Store) -> None:
        super().__init__(daemon=True, name="observatory-costs")
        self.store = store
        self.error: Exception | None = None

    def run(self) -> None:
        """Bring the sums up to date; an error is kept for the request that waits for it."""
        try:
            with self.store.read() as conn, self.store._book.lock:
                self.store._book.update(conn)
        except Exception as exc:  # re-raised in the thread of the request that waits for it
            self.error = exc


class _CostBook:
    """Cost sums per day, workflow, phase and model, brought up to date from the prompts added
    since the last pass (a rowid range: prompts are only ever added). What it keeps is one entry
    per day, workflow, phase and model, plus the open Agents' workflow and phase (an open Agent's
    metadata may still change, which moves its sums) and the prompts of several models still
    waiting for their per-model usage."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Empty sums (a first pass, or a database whose rowids went backwards)."""
        self.total = Tokens()
        self.groups: dict[str, defaultdict[str, Tokens]] = {
            name: defaultdict(Tokens) for name in ("day", "workflow", "phase", "model")
        }
        self.mixed_keys: set[str] = set()
        self.split = 0
        self.pending: list[_Pending] = []
        self.open: dict[str, tuple[str, str]] = {}  # open Agent -> (workflow, phase) counted
        self.prompt_top = 0
        self.log_top = 0
        self.version = 0
        self.cache: tuple[int, dict[str, Any]] | None = None

    def update(self, conn: sqlite3.Connection) -> None:
        """Fold in what changed since the last pass."""
        top_prompt, top_log = conn.execute(
            "SELECT coalesce((SELECT max(rowid) FROM prompts), 0),"
            " coalesce((SELECT max(rowid) FROM agent_logs), 0)"
        ).fetchone()
        if top_prompt < self.prompt_top or top_log < self.log_top:
            self.reset()  # a VACUUM or a restore: read again from scratch
        self._move(conn)
        added = top_prompt > self.prompt_top
        if added:
            self._count(conn, self.prompt_top, top_prompt)
            self.prompt_top = top_prompt
        self.open = {str(r[0]): (str(r[1]), str(r[2])) for r in conn.execute(_COST_OPEN_SQL)}
        ended = any(p.agent_id not in self.open for p in self.pending)
        if self.pending and (added or ended or top_log != self.log_top):
            self._settle(conn)
        self.log_top = top_log

    def _move(self, conn: sqlite3.Connection) -> None:
        """The counted prompts of an Agent whose workflow or phase changed while it was open now
        count under its new ones."""
        if not self.open:
            return
        for aid, workflow, phase in conn.execute(_COST_AGENTS_SQL, (json.dumps(list(self.open)),)):
            before = self.open[aid]
            if (workflow, phase) == before:
                continue
            part = _sums(conn.execute(_COUNTED_SQL, (aid, self.prompt_top)).fetchone())
            for name, old, new in (("workflow", before[0], workflow), ("phase", before[1], phase)):
                self.groups[name][old].add(part, -1)
                self.groups[name][new].add(part)
            self.version += 1

    def _count(self, conn: sqlite3.Connection, since: int, top: int) -> None:
        """Add the prompts of the rowid range (since, top]."""
        for row in conn.execute(_COSTS_SQL, (since, top)):
            day, workflow, phase, models = row[:4]
            part = _sums(row[4:11])
            self.total.add(part)
            self.groups["day"][day or "?"].add(part)
            self.groups["workflow"][workflow].add(part)
            self.groups["phase"][phase].add(part)
            if len(_model_names(models)) < 2:  # several models: one by one, below
                self.groups["model"][models or "(unknown)"].add(part)
        for p in conn.execute(_SEVERAL_SQL, (since, top)):
            if len(_model_names(p[2])) < 2:
                continue
            part = _tokens(1, [int(v or 0) for v in p[4:8]], float(p[8] or 0.0), int(p[9] or 0))
            self.pending.append(_Pending(p[0], p[1], p[2], p[3], part))
            self._add_model(_mixed_key(p[2]), part)  # until its per-model usage is read
        self.version += 1

    def _add_model(self, key: str, part: Tokens, sign: int = 1) -> None:
        self.groups["model"][key].add(part, sign)
        if MIXED_JOIN in key:
            self.mixed_keys.add(key)
        self.version += 1

    def _settle(self, conn: sqlite3.Connection) -> None:
        """Split the pending prompts of several models whose per-model usage is there now; those
        whose Agent ended without it stay whole in the mixed bucket."""
        waiting: list[_Pending] = []
        for p in self.pending:
            usage = _usage_of(_prompt_meta(conn, p.agent_id, p.prompt_id, p.created_at))
            counts = [p.part.tokens_input, p.part.tokens_cache_read]
            counts += [p.part.tokens_cache_creation, p.part.tokens_output]
            parts = _split(_model_names(p.models), counts, p.part.cost_usd, usage)
            if parts is None:
                if p.agent_id in self.open:
                    waiting.append(p)  # agent.py writes the usage right after the prompt
                continue
            self._add_model(_mixed_key(p.models), p.part, -1)
            for model, part_counts, part_cost in parts:
                self._add_model(model, _tokens(1, part_counts, part_cost))
            self.split += 1
        self.pending = waiting

    def result(self) -> dict[str, Any]:
        """The sums as the costs page and ``/api/costs`` show them."""
        if self.cache is not None and self.cache[0] == self.version:
            return self.cache[1]
        result: dict[str, Any] = {"computing": False, "totals": self.total.as_dict()}
        for name, groups in self.groups.items():
            rows = [
                {"key": key, **t.as_dict(), "mixed": key in self.mixed_keys}
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
        result["models_split"] = self.split
        result["models_mixed"] = sum(
            t.prompts for key, t in self.groups["model"].items() if key in self.mixed_keys
        )
        self.cache = (self.version, result)
        return result


def _prompt_meta(
    conn: sqlite3.Connection, agent_id: str, prompt_id: str, created_at: str
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
