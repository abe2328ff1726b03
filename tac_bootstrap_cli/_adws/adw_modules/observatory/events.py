"""A phase's events: one row as the pages show it, and the SQL of its pages and summaries."""

from __future__ import annotations

from typing import Any, Final

from .readonly import SESSION_AGENT, _json, _meta

# Above this many new agent_logs rows, the events of given Agents are found through their index
# instead of the rowid range.
EVENTS_RANGE_MAX: Final = 20_000


_EVENTS_SQL = f"""SELECT l.rowid, l.agent_id, l.log_type, l.message, l.metadata, l.created_at,
 {_meta("adw_id")}, a.name FROM agent_logs l {{hint}} JOIN agents a ON a.id = l.agent_id"""  # noqa: S608


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
