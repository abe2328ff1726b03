"""The run list in SQL: runs grouped, filtered by status, workflow and text, ordered and paged by SQLite."""

from __future__ import annotations

import re
from typing import Final

from .readonly import (
    _RUN_OF,
    ADW_ID_SQL,
    SESSION_AGENT,
    TASK_TEXT_SQL,
    TASK_WHERE_SQL,
    _meta,
)

_BRANCH_RE = re.compile(r"\badw-([0-9a-f]{8})\b")


# The run list, newest first, one page: each run's id, start and Agent rowids, and how many runs
# there are; then (rows with a NULL id) the workflows of every run (for the filter). Grouped by
# SQLite as it reads the table, in one pass: no row of the table is kept here.
_WF = f"coalesce({_meta('workflow', 'metadata')}, name, '?')"


_LIST_SQL = f"""
WITH r AS (
  SELECT run, min(created_at) AS start, workflow, group_concat(rid) AS rids
  FROM (SELECT {_RUN_OF} AS run, rowid AS rid, created_at, {_WF} AS workflow FROM agents
        WHERE name IS NOT '{SESSION_AGENT}') AS g
  GROUP BY run)
SELECT * FROM (SELECT run, start, rids, count(*) OVER () FROM r
               ORDER BY start DESC, run DESC LIMIT :limit OFFSET :offset) AS p
UNION ALL SELECT DISTINCT NULL, workflow, NULL, NULL FROM r
"""  # noqa: S608


# The same list where the agents table has the index RUN_INDEX_SQL: the Agents with an adw_id are
# grouped as that index holds them (no sort), those without one are runs of their own.
_LIST_INDEXED_SQL = f"""
WITH r AS (
  SELECT run, min(created_at) AS start, rid AS first, group_concat(rid) AS rids
  FROM (SELECT {ADW_ID_SQL} AS run, rowid AS rid, created_at FROM agents
        WHERE {ADW_ID_SQL} IS NOT NULL AND name IS NOT '{SESSION_AGENT}') AS g
  GROUP BY run
  UNION ALL
  SELECT id, created_at, rowid, rowid FROM agents
  WHERE {ADW_ID_SQL} IS NULL AND name IS NOT '{SESSION_AGENT}')
SELECT * FROM (SELECT run, start, rids, count(*) OVER () FROM r
               ORDER BY start DESC, run DESC LIMIT :limit OFFSET :offset) AS p
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
# SCOPE_MATCH_SQL is one piece of text so that dialect.py can give PostgreSQL its indexed form.
SCOPE_MATCH_SQL: Final = (
    "instr(lower(metadata), :piece) > 0 OR instr(lower(name), :piece) > 0"
    " OR instr(lower(id), :piece) > 0"
)


_SCOPE_RUNS_SQL = f"""SELECT DISTINCT {_RUN_OF} FROM agents
WHERE name IS NOT '{SESSION_AGENT}' AND ({SCOPE_MATCH_SQL})"""  # noqa: S608


_SCOPE_ROWS_SQL = f"""SELECT rowid FROM agents WHERE {ADW_ID_SQL} IN (SELECT value FROM json_each(?))
UNION SELECT rowid FROM agents WHERE id IN (SELECT value FROM json_each(?))"""  # noqa: S608


_SCOPE = "AND rowid IN (SELECT value FROM json_each(:scope))"


# Above this many runs a narrowed search would cost more than the grouping of every Agent.
SCOPE_RUNS_MAX: Final = 2000


# A piece of search text found as such in the metadata's JSON text: printable ASCII without the
# characters JSON escapes (a text with others is searched without narrowing).
_PLAIN_PIECE = re.compile(r"[!#-\[\]-~]+")


_PAGE_OF_RUNS = """
ORDER BY r.start DESC, r.run DESC LIMIT :limit OFFSET :offset) AS p
UNION ALL SELECT DISTINCT NULL, workflow, NULL, NULL FROM r
"""


_PAGE_ONLY = "ORDER BY r.start DESC, r.run DESC LIMIT :limit OFFSET :offset) AS p"


# The Agents still able to change (what a cached listing depends on besides new rows).
_OPEN_SQL = """
SELECT id, status, created_at, started_at, completed_at, metadata FROM agents
WHERE status IN ('running', 'pending') ORDER BY id
"""
