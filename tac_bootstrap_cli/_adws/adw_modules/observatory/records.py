"""What the store answers with: token totals, runs, pages of runs, event cursors, and a run's phase Agents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from .readonly import _meta

# Events per phase on one page (the run and session views; the API takes up to EVENTS_PAGE_MAX).
EVENTS_PER_PAGE: Final = 200


EVENTS_PAGE_MAX: Final = 5000


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
    machine: str | None = None  # the host whose log held it (a team server only)
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
            "machine": self.machine,
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
# A phase Agent's row as a run is built from it; ``machine`` is known on a team server only
# (``dialect.to_postgres`` reads it there: the host name of the machine whose log held the row).
_AGENT_SQL = f"""
SELECT a.rowid, a.id, a.name, a.status, a.created_at, a.started_at, a.completed_at,
       {_meta("adw_id")}, {_meta("workflow")}, {_meta("phase")}, {_meta("target")},
       NULL AS machine
FROM agents a"""  # noqa: S608


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
    machine: str | None = None
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
    (
        rowid,
        aid,
        name,
        status,
        created,
        started,
        completed,
        adw_id,
        workflow,
        phase,
        target,
        machine,
    ) = row
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
        str(machine) if machine else None,
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
