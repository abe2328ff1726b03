"""A phase (one Agent) as the run page shows it: its prompts, step attempts and a page of events.

An Agent's log summary (event count, steps, prompt metadata) is read once through the agent_id
index and then brought up to date from the rows added since; summaries are kept for the
``SUMMARIES_KEPT`` most recently shown phases and sessions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .caches import SUMMARIES_KEPT, _Bounded
from .costs import MIXED_JOIN, _counts_dict, _model_names, _split, _usage_of
from .events import _PAGE_SQL, _SUMMARY_COLUMNS, _event
from .readonly import Reader, _json
from .records import EVENTS_PAGE_MAX, EventCursor, _LogSummary


class PhaseReader:
    """Reads phases and event pages; holds the bounded cache of log summaries."""

    def __init__(self, raw_file: Callable[[str], Path | None]) -> None:
        """``raw_file`` says whether a recorded raw-output path may be linked."""
        self.raw_file = raw_file
        self._lock = threading.Lock()
        self._summaries = _Bounded(SUMMARIES_KEPT)  # Agent id -> _LogSummary

    def phase(
        self,
        conn: Reader,
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
        summary = self.summary(conn, agent_id)
        shown: list[dict[str, Any]] = []
        page: dict[str, Any] | None = None
        if events:
            shown, page = self.event_page(conn, agent_id, run_id, row[1], cursor)
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

    def event_page(
        self,
        conn: Reader,
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

    def summary(self, conn: Reader, agent_id: str) -> _LogSummary:
        """The count, steps and prompt metadata of all of an Agent's log rows.

        Read once through the agent_id index, then brought up to date from the rows added since
        (a range of rowids: the log is append-only); kept for the SUMMARIES_KEPT most recently
        shown phases and sessions. A database whose rowids went backwards is read again."""
        (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM agent_logs").fetchone()
        with self._lock:
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
