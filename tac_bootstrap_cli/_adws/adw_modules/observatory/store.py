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

import re
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, NamedTuple

from .caches import LISTINGS_KEPT, _Bounded
from .costs import (
    COSTS_WAIT_S,
    _CostBook,
    _CostsPass,
)
from .dialect import JsonList
from .events import _EVENTS_SQL, EVENTS_RANGE_MAX, _event
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
from .phases import PhaseReader
from .readonly import (
    _RUN_LOOKUP_PLAN,
    SESSION_AGENT,
    Reader,
    Source,
    SqliteSource,
    _json,
)

# Re-exported: the CLI (observe/server.py), adw_status.py and adw_observe.py import them from here.
from .readonly import ObserveError as ObserveError
from .records import EventCursor as EventCursor
from .records import (
    RunPage,
    _Listing,
)
from .runbuild import STALE_AFTER_S, RunBuilder


def _source(db: Path | str) -> Source:
    """The source of ``db``: PostgreSQL (``pgread``, importing psycopg) for a URL, else SQLite."""
    if isinstance(db, str) and db.startswith(("postgresql://", "postgres://")):
        from .pgread import PgSource

        return PgSource(db)
    return SqliteSource(Path(db))


class _Ask(NamedTuple):
    """One run listing asked for: its filters (``needle``: the search text, lower-cased) and
    page; ``per_page`` -1: every matching run."""

    status: str
    workflow: str
    needle: str
    page: int
    per_page: int


class Store:
    """The observatory's view of one run log: a local SQLite file (and, for tasks and raw output,
    its project), or a team's PostgreSQL server (a ``postgresql://`` URL: every machine's runs)."""

    def __init__(
        self, db: Path | str, project: Path | None = None, *, stale_after: float = STALE_AFTER_S
    ) -> None:
        """Check the database once (raises ``ObserveError``); later reads take a snapshot each."""
        self.db_path = db
        self.project = project
        self.stale_after = stale_after
        self.source = _source(db)
        self.label = self.source.label  # for titles and messages: a URL without its password
        self.team = self.source.team  # a run's machine is known (the sync's server columns)
        # What is kept between requests, each capped (see the module's docstring).
        self._cache_lock = threading.Lock()
        self._listings = _Bounded(LISTINGS_KEPT)  # (signature, filters, page) -> one page of ids
        self._runs = RunBuilder(project, stale_after)
        self._phases = PhaseReader(self.raw_file)
        self._indexed: bool | None = None  # see _run_index
        self._book = _CostBook()
        self._costs_lock = threading.Lock()
        self._costs_job: _CostsPass | None = None

    def stamp(self) -> int:
        """A number that changes whenever another connection commits to the database."""
        return self.source.stamp()

    def close(self) -> None:
        """Close the connections kept open."""
        self.source.close()

    def read(self) -> AbstractContextManager[Reader]:
        """A snapshot: one read-only transaction on a connection of its own."""
        return self.source.snapshot()

    # --- runs ---------------------------------------------------------------------------------

    def _signature(self, conn: Reader) -> tuple[int, int, int]:
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
                found = self._listing(conn, sig, _Ask("running", workflow, needle, 1, -1))
                every = [r for r in self._runs.build(conn, found.rows) if r.status == status]
                total = len(every)
                page = min(page, max(1, -(-total // per_page)))
                runs = every[(page - 1) * per_page : page * per_page]
            else:
                status = status if status in ("completed", "failed") else ""
                found = self._listing(conn, sig, _Ask(status, workflow, needle, page, per_page))
                runs, total, page = self._runs.build(conn, found.rows), found.total, found.page
        pages = max(1, -(-total // per_page))
        return RunPage(runs, total, page, pages, found.workflows)

    def _listing(self, conn: Reader, sig: tuple[int, int, int], ask: _Ask) -> _Listing:
        """One page of run ids, the count, the page shown and the workflows; ``per_page`` -1:
        every matching run. Kept until the Agents change (a search: or a prompt is added)."""
        key = (sig if ask.needle else sig[:2], *ask)
        with self._cache_lock:
            found = self._listings.use(key)
        if found is None:
            found = self._query_listing(conn, ask)
            with self._cache_lock:
                self._listings.keep(key, found)
        return found  # type: ignore[no-any-return]

    def _query_listing(self, conn: Reader, ask: _Ask) -> _Listing:
        """The listing's query; a page past the end is the last page."""
        status, workflow, needle, page, per_page = ask
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
            task_runs = [
                r[0] for r in conn.execute(_TASK_RUNS_SQL, {"agents": JsonList(task_agents)})
            ]
            params.update(q=needle, branch_run=branch_run, task_runs=JsonList(task_runs))
            scope = self._search_scope(conn, needle, [branch_run, *task_runs])
            sql = _FILTER_SQL + _SEARCH_SQL + _PAGE_OF_RUNS
            if scope is not None:
                params["scope"] = JsonList(scope)
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
        count = self._query_listing(conn, ask._replace(page=1, per_page=1)).total
        if count == 0:
            return _Listing([], 0, 1, sorted(workflows))
        return self._query_listing(conn, ask._replace(page=-(-count // per_page)))

    def _search_scope(self, conn: Reader, needle: str, found: list[str]) -> list[int] | None:
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
        text = JsonList(sorted(runs))
        return [r[0] for r in conn.execute(_SCOPE_ROWS_SQL, (text, text))]

    def _workflows(self, conn: Reader) -> list[str]:
        """The workflows of every run (the filter's choices), kept until the Agents change."""
        key = ("workflows", self._signature(conn)[:2])
        with self._cache_lock:
            found = self._listings.use(key)
        if found is None:
            found = self._query_listing(conn, _Ask("", "", "", 1, 0)).workflows
            with self._cache_lock:
                self._listings.keep(key, found)
        return found  # type: ignore[no-any-return]

    def _run_index(self, conn: Reader) -> bool:
        """Whether the agents table has an index on the adw_id expression (RUN_INDEX_SQL: the
        schema has none yet); looked at once, in the query plan SQLite chooses."""
        if self._indexed is None and self.source.dialect != "sqlite":
            self._indexed = False  # PostgreSQL: no such index (the run list groups every Agent)
        if self._indexed is None:
            plan = conn.execute(_RUN_LOOKUP_PLAN, ("",)).fetchall()
            self._indexed = any("<expr>=?" in str(row[-1]) for row in plan)
        return self._indexed

    def run(
        self, run_id: str, cursor: EventCursor | None = None, *, events: bool = True
    ) -> dict[str, Any] | None:
        """One run with its phases, attempts, prompts and a page of each phase's events (the
        first ``EVENTS_PER_PAGE`` unless ``cursor`` says otherwise; none with ``events=False``,
        what a live page asks for); None when unknown."""
        cursor = cursor or EventCursor()
        with self.read() as conn:
            agents = self._runs.run_agents(conn, run_id)
            if not agents:
                return None
            self._runs.fill(conn, agents)
            found = self._runs.run_of(run_id, agents)
            self._runs.fill_tasks(conn, [found])
            phases = [
                self._phases.phase(
                    conn, agent.id, found.id, cursor.for_agent(agent.id), events=events
                )
                for agent in found.members
            ]
        return {"run": found.as_dict(), "phases": phases}

    # --- events -------------------------------------------------------------------------------

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
            rows = conn.execute(sql, (after, JsonList(agents), limit)).fetchall()
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
            counts = {r[0]: self._phases.summary(conn, r[0]).count for r in rows}
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
                " WHERE id IN (SELECT value FROM json_each(?)) AND name = ?",
                (JsonList([agent_id]), SESSION_AGENT),
            ).fetchone()
            if row is None:
                return None
            shown: list[dict[str, Any]] = []
            page: dict[str, Any] | None = None
            if events:
                shown, page = self._phases.event_page(
                    conn,
                    agent_id,
                    None,
                    SESSION_AGENT,
                    (cursor or EventCursor()).for_agent(agent_id),
                )
            total = self._phases.summary(conn, agent_id).count
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
                job = _CostsPass(self.read, self._book)
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
