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
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from .caches import LISTINGS_KEPT, SUMMARIES_KEPT, TASKS_KEPT, _Bounded
from .costs import (
    COSTS_WAIT_S,
    MIXED_JOIN,
    _CostBook,
    _CostsPass,
    _counts_dict,
    _model_names,
    _split,
    _usage_of,
)
from .events import _EVENTS_SQL, _PAGE_SQL, _SUMMARY_COLUMNS, EVENTS_RANGE_MAX, _event
from .listing import (
    _BRANCH_RE,
    _FILTER_SQL,
    _LIST_INDEXED_SQL,
    _LIST_SQL,
    _OPEN_SQL,
    _PAGE_OF_RUNS,
    _PAGE_ONLY,
    _PLAIN_PIECE,
    _SCOPE,
    _SCOPE_ROWS_SQL,
    _SCOPE_RUNS_SQL,
    _SEARCH_SQL,
    _TASK_RUNS_SQL,
    _TASK_SEARCH_SQL,
    SCOPE_RUNS_MAX,
)
from .readonly import (
    _RUN_LOOKUP_PLAN,
    SESSION_AGENT,
    _json,
    _meta,
    epoch_seconds,
    open_readonly,
)

# Re-exported: the CLI (observe/server.py), adw_status.py and adw_observe.py import them from here.
from .readonly import ObserveError as ObserveError
from .records import (
    _AGENT_SQL,
    _SUMS,
    EVENTS_PAGE_MAX,
    Run,
    RunPage,
    _Agent,
    _agent,
    _Listing,
    _LogSummary,
    _sums,
)
from .records import EventCursor as EventCursor

# A running phase silent this long has lost its process: the agent CLI is stopped after 3,600 s
# and every finished call writes its prompt row (see specs/observatory.md, "Stale runs").
STALE_AFTER_S: Final = 3900.0


_TASK_RE = re.compile(r"<task>\n?(.*?)\n?</task>", re.DOTALL)


_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


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
