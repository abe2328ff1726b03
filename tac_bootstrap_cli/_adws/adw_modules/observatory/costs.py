"""Cost sums per day, workflow, phase and model, kept up to date in the background from the prompts added."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Final

from .dialect import JsonList
from .readonly import Reader, _json, _meta
from .records import _SUMS, Tokens, _sums

# How many rows after a prompt are searched for its "prompt metadata" event.
PROMPT_META_WINDOW: Final = 50


# How long a costs request waits for the sums before it answers "computing" (the first pass reads
# every prompt: about a second at 10,000 runs; it goes on in the background).
COSTS_WAIT_S: Final = 0.25


MIXED_JOIN: Final = " + "


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
class _Pending:
    """A prompt of several models whose per-model usage was not there yet (its Agent was open):
    counted in the mixed bucket until the usage arrives or the Agent ends."""

    prompt_id: str
    agent_id: str
    models: str
    created_at: str
    part: Tokens


class _CostsPass(threading.Thread):
    """One pass of the cost sums over a fresh snapshot, in the background (see Store.costs)."""

    def __init__(self, read: Callable[[], AbstractContextManager[Reader]], book: _CostBook) -> None:
        """A pass that brings ``book`` up to date from a snapshot ``read()`` opens."""
        super().__init__(daemon=True, name="observatory-costs")
        self.read, self.book = read, book
        self.error: Exception | None = None

    def run(self) -> None:
        """Bring the sums up to date; an error is kept for the request that waits for it."""
        try:
            with self.read() as conn, self.book.lock:
                self.book.update(conn)
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

    def update(self, conn: Reader) -> None:
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

    def _move(self, conn: Reader) -> None:
        """The counted prompts of an Agent whose workflow or phase changed while it was open now
        count under its new ones."""
        if not self.open:
            return
        for aid, workflow, phase in conn.execute(_COST_AGENTS_SQL, (JsonList(list(self.open)),)):
            before = self.open[aid]
            if (workflow, phase) == before:
                continue
            part = _sums(conn.execute(_COUNTED_SQL, (aid, self.prompt_top)).fetchone())
            for name, old, new in (("workflow", before[0], workflow), ("phase", before[1], phase)):
                self.groups[name][old].add(part, -1)
                self.groups[name][new].add(part)
            self.version += 1

    def _count(self, conn: Reader, since: int, top: int) -> None:
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

    def _settle(self, conn: Reader) -> None:
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


def _prompt_meta(conn: Reader, agent_id: str, prompt_id: str, created_at: str) -> dict[str, Any]:
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
