"""Runs assembled from their Agents' rows: prompt sums, newest events, status, task and branch.

A run is an ADW (the Agents sharing an ``adw_id``) or a lone Agent; its task comes from the
``<task>`` block of its prompts or the project's ``agents/<adw_id>/adw_state.json``, both kept in
bounded caches (``TASKS_KEPT``) between requests.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Final

from .caches import TASKS_KEPT, _Bounded
from .dialect import JsonList
from .readonly import SESSION_AGENT, Reader, _meta, epoch_seconds
from .records import _AGENT_SQL, _SUMS, Run, _Agent, _agent, _sums

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


class RunBuilder:
    """Builds ``Run`` records from listing rows or a run id; holds the task and state caches."""

    def __init__(self, project: Path | None, stale_after: float) -> None:
        """Runs of the database's Agents; ``project`` (if any) gives tasks from run state files."""
        self.project = project
        self.stale_after = stale_after
        self._lock = threading.Lock()
        self._states = _Bounded(TASKS_KEPT)  # adw_id -> (mtime, task, branch) of adw_state.json
        self._tasks = _Bounded(TASKS_KEPT)  # Agent id -> the <task> of its prompts ("" if none)

    def build(self, conn: Reader, rows: list[tuple[Any, str, str]]) -> list[Run]:
        """The runs of listing rows, in their order: their Agents' rows (by rowid), prompt sums
        (through the agent_id index), the newest event of the open ones, and tasks."""
        if not rows:
            return []
        rowids = [int(x) for _, _, rids in rows for x in rids.split(",") if x]
        agents = [
            _agent(r)
            for r in conn.execute(
                f"{_AGENT_SQL} WHERE a.rowid IN (SELECT value FROM json_each(?))",  # noqa: S608
                (JsonList(rowids),),
            )
        ]
        self.fill(conn, agents)
        by_run: dict[str, list[_Agent]] = defaultdict(list)
        for agent in agents:
            by_run[agent.run_id].append(agent)
        runs = [self.run_of(str(r[0]), by_run[str(r[0])]) for r in rows if by_run.get(str(r[0]))]
        self.fill_tasks(conn, runs)
        return runs

    def fill(self, conn: Reader, agents: list[_Agent]) -> None:
        """Each Agent's prompt sums and models, and the newest event of the open ones."""
        by_id = {a.id: a for a in agents}
        for row in conn.execute(_AGENT_SUMS_SQL, (JsonList(list(by_id)),)):
            agent = by_id[row[0]]
            agent.totals = _sums(row[1:8])
            agent.last_prompt = row[8]
            agent.models = {m for m in str(row[9] or "").split(",") if m}
        opened = [a.id for a in agents if a.open]
        if opened:
            for aid, last in conn.execute(_LAST_LOG_SQL, (JsonList(opened),)):
                by_id[aid].last_log = last

    def run_agents(self, conn: Reader, run_id: str) -> list[_Agent]:
        """The Agents of the run ``run_id`` (an adw_id, or the id of an Agent without one)."""
        row = conn.execute(
            f"{_AGENT_SQL} WHERE a.id IN (SELECT value FROM json_each(?)) AND a.name IS NOT ?",  # noqa: S608
            (JsonList([run_id]), SESSION_AGENT),
        ).fetchone()
        if row is not None and not row[7]:  # an Agent without an adw_id is a run of its own
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
        with self._lock:
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
        with self._lock:
            self._states.keep(adw_id, (mtime, task, branch))
        return task, branch

    def fill_tasks(self, conn: Reader, runs: list[Run]) -> None:
        """Missing tasks from the ``<task>`` block of a run's first prompt that has one (read
        through the agent_id index for the Agents not in the task cache)."""
        wanted = [run for run in runs if not run.task]
        with self._lock:
            missing = [a for run in wanted for a in run.agent_ids if a not in self._tasks]
        opened = {a.id for run in wanted for a in run.members if a.open}
        found: dict[str, str] = {}
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for aid, text in conn.execute(_TASK_SQL, (JsonList(chunk),)):
                match = _TASK_RE.search(text or "")
                if match:
                    found[aid] = match.group(1).strip()  # the oldest prompt's (rows newest first)
        with self._lock:
            for aid in missing:
                if aid in found or aid not in opened:  # an open one may still write its prompt
                    self._tasks.keep(aid, found.get(aid, ""))
            for run in wanted:
                tasks = (found.get(a) or self._tasks.use(a) for a in run.agent_ids)
                run.task = next((t for t in tasks if t), "")

    def run_of(self, run_id: str, agents: list[_Agent]) -> Run:
        """One run from its Agents; a phase's latest Agent gives its status."""
        agents = sorted(agents, key=lambda a: (a.created_at, a.rowid))
        first = agents[0]
        run = Run(
            id=run_id,
            workflow=first.workflow,
            started_at=first.started_at or first.created_at,
            machine=first.machine,
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
