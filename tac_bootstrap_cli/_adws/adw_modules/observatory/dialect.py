"""The observatory's SQL on PostgreSQL: its SQLite queries translated, construct by construct.

The queries are written once, for SQLite (their plans are what the scale figures measure); a
store over a ``postgresql://`` URL runs each through ``to_postgres`` first (cached per text). The
translation knows exactly the constructs these queries use and refuses any other SQLite-only one
(``SqlTranslationError``), so a new query that PostgreSQL would read differently fails the
two-backend tests instead of being mistranslated. The same decision as the schema's
(``adw_postgres.translate``; see specs/observatory.md, "Team view").

What differs, and what it becomes:
- metadata JSON: ``CASE WHEN json_valid(m) THEN json_extract(m, '$.k') END`` -> ``(m ->> 'k')``
  (JSONB is always valid); the metadata and ids as text where they are searched or merged;
- ``instr`` -> ``strpos``; the task text of migration 5 -> its PostgreSQL section's expression;
  ``group_concat`` -> ``string_agg``; ``IS NOT 'x'`` -> ``IS DISTINCT FROM 'x'``; ``max(bool)`` ->
  ``bool_or``; a day of a timestamp -> ``to_char``; ``LIMIT -1`` (no limit) -> ``LIMIT NULL``;
- SQLite's bare column beside ``min()`` (the workflow of a run's first Agent) -> ``array_agg``
  ordered by time;
- a JSON array parameter (``json_each(?)``) -> ``unnest`` of a typed array: rowids as bigint,
  ids as uuid (text that is no UUID matches nothing, as in ``adw_database``), the rest text;
- ``NOT INDEXED`` hints dropped (PostgreSQL's planner has no such hint);
- placeholders: ``?`` -> ``%s``, ``:name`` -> ``%(name)s`` (values are always bound).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Final

from .listing import SCOPE_MATCH_SQL
from .readonly import TASK_TEXT_SQL

# migration 5's expression in schema_orchestrator.postgres.sql (strpos for instr, GREATEST).
PG_TASK_TEXT_SQL: Final = (
    "substr(content, strpos(content, '<task>') + 6,"
    " GREATEST(strpos(substr(content, strpos(content, '<task>') + 6), '</task>') - 1, 0))"
)


# The text a search's narrowing looks in (an Agent's metadata, name and id, joined by spaces: a
# piece never holds one, so it is in the joined text exactly when it is in one of the three), as
# the trigram index idx_agents_search holds it: PG_SCOPE_INDEX_SQL, sync migration 3 in
# schema/sync_postgres.sql. The planner uses the index only for this expression, to the letter.
PG_SCOPE_TEXT_SQL: Final = (
    "lower(coalesce(metadata::text, '') || ' ' || coalesce(name, '') || ' ' || id::text)"
)


PG_SCOPE_INDEX_SQL: Final = (
    f"CREATE INDEX idx_agents_search ON agents USING gin (({PG_SCOPE_TEXT_SQL}) gin_trgm_ops)"
)


# A text parameter as a LIKE pattern finding it anywhere (its wildcards and escape escaped).
def _like_anywhere(param: str) -> str:
    escaped = f"replace(replace(replace({param}, '\\', '\\\\'), '%', '\\%'), '_', '\\_')"
    return f"('%' || {escaped} || '%')"


_UUID_TEXT: Final = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"


_UUID_RE: Final = re.compile(_UUID_TEXT.strip("'"), re.IGNORECASE)


class SqlTranslationError(ValueError):
    """A query holds SQLite SQL that ``to_postgres`` does not know."""


class JsonList(str):
    """A list parameter: its JSON text on SQLite (read by ``json_each``), the list on PostgreSQL
    (bound as an array)."""

    __slots__ = ("values",)

    values: list[object]

    def __new__(cls, values: list[object] | list[str] | list[int]) -> JsonList:
        made = super().__new__(cls, json.dumps(values))
        made.values = list(values)
        return made


def is_uuid(text: str) -> bool:
    """Whether ``text`` can be an id on PostgreSQL (a UUID)."""
    return bool(_UUID_RE.fullmatch(text))


# Exact pieces of the queries' text (constants of listing, costs, runbuild).
_EXACT: Final = (
    (TASK_TEXT_SQL, PG_TASK_TEXT_SQL),
    (  # the task search: an ILIKE that migration 5's trigram index answers, then the exact test
        f"instr(lower({PG_TASK_TEXT_SQL}), :q) > 0",
        f"{PG_TASK_TEXT_SQL} ILIKE {_like_anywhere(':q')} AND instr(lower({PG_TASK_TEXT_SQL}), :q)"
        " > 0",
    ),
    # the narrowing: a LIKE that sync migration 3's trigram index answers (the piece is lower
    # case already, LIKE matches as strpos does, the index rechecks each row it finds)
    (SCOPE_MATCH_SQL, f"{PG_SCOPE_TEXT_SQL} LIKE {_like_anywhere(':piece')}"),
    ("max(status = 'failed')", "bool_or(status = 'failed')"),
    ("max(status IN ('running', 'pending'))", "bool_or(status IN ('running', 'pending'))"),
    (
        "min(created_at) AS start, workflow,",
        "min(created_at)::text AS start, (array_agg(workflow ORDER BY created_at, rid))[1]"
        " AS workflow,",
    ),
    ("substr(p.created_at, 1, 10)", "to_char(p.created_at, 'YYYY-MM-DD')"),
    ("LIMIT :limit", "LIMIT NULLIF(:limit, -1)"),
    (  # DISTINCT gives its NULLs a type (text) before the UNION: name the count's
        "SELECT DISTINCT NULL, workflow, NULL, NULL FROM r",
        "SELECT DISTINCT NULL, workflow, NULL, NULL::bigint FROM r",
    ),
    ("lower(metadata)", "lower(metadata::text)"),
    ("lower(id)", "lower(id::text)"),
    ("instr(a.metadata, ?)", "instr(a.metadata::text, ?)"),
)


_JSON_VALID_CASE = re.compile(
    r"CASE WHEN json_valid\(([\w.]+)\) THEN json_extract\(\1, '\$\.(\w+)'\) END"
)


_EACH = r"\(SELECT value FROM json_each\((\?|:\w+)\)\)"


_IN_ROWIDS = re.compile(r"\b(\w+\.)?rowid IN " + _EACH)


_IN_IDS = re.compile(r"\b(\w+\.)?(agent_)?id IN " + _EACH)


_IN_TEXT = re.compile(r" IN " + _EACH)


_EACH_TABLE = re.compile(r"FROM json_each\((\?|:\w+)\) (\w+)")


_GROUP_CONCAT = re.compile(r"group_concat\((DISTINCT )?([\w.]+)\)")


_GROUP_CONCAT_SEP = re.compile(r"group_concat\(([\w.]+), ('[^']*')\)")


_LEFT = re.compile(
    r"json_each|json_extract|json_valid|group_concat|\binstr\(|INDEXED|PRAGMA|EXPLAIN"
)


_RUN_OF_JSONB: Final = "coalesce((metadata ->> 'adw_id'), id)"


def _uuids(param: str) -> str:
    """The UUIDs of a text-array parameter (others dropped: they match no id)."""
    # A placeholder and constants only.
    select = f"SELECT value::uuid FROM unnest(CAST({param} AS text[])) AS t(value)"  # noqa: S608
    return f"{select} WHERE value ~* {_UUID_TEXT}"


def _rewrite(sql: str, team: bool) -> str:
    for old, new in _EXACT:
        sql = sql.replace(old, new)
    if team:  # the server's own column: which machine's log the row came from
        sql = sql.replace(
            "NULL AS machine",
            "(SELECT hostname FROM sync_machines m WHERE m.machine = a.machine) AS machine",
        )
    sql = _JSON_VALID_CASE.sub(r"(\1 ->> '\2')", sql)
    sql = sql.replace(_RUN_OF_JSONB, f"{_RUN_OF_JSONB[:-3]}id::text)")
    sql = _IN_ROWIDS.sub(
        lambda m: f"{m[1] or ''}rowid IN (SELECT unnest(CAST({m[2]} AS bigint[])))", sql
    )
    sql = _IN_IDS.sub(lambda m: f"{m[1] or ''}{m[2] or ''}id IN ({_uuids(m[3])})", sql)
    sql = _IN_TEXT.sub(lambda m: f" IN (SELECT unnest(CAST({m[1]} AS text[])))", sql)
    sql = _EACH_TABLE.sub(lambda m: f"FROM ({_uuids(m[1])}) AS {m[2]}", sql)
    sql = _GROUP_CONCAT.sub(lambda m: f"string_agg({m[1] or ''}{m[2]}::text, ',')", sql)
    sql = _GROUP_CONCAT_SEP.sub(r"string_agg(\1, \2)", sql)
    sql = re.sub(r"\bIS NOT (?!NULL\b)", "IS DISTINCT FROM ", sql)
    sql = re.sub(r"\s*\bNOT INDEXED\b", "", sql)
    return re.sub(r"\binstr\(", "strpos(", sql)


@lru_cache(maxsize=512)
def to_postgres(sql: str, team: bool = False) -> str:
    """``sql`` (an observatory query, SQLite's text) for psycopg; ``team``: the server has the
    sync's ``machine`` column and ``sync_machines`` (a run's machine is shown)."""
    sql = _rewrite(sql, team)
    left = _LEFT.search(sql)
    if left is not None:
        raise SqlTranslationError(f"no PostgreSQL translation for {left[0]!r} in: {sql}")
    parts = sql.replace("%", "%%").split("'")
    for i in range(0, len(parts), 2):  # outside quotes: the placeholders
        parts[i] = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", parts[i].replace("?", "%s"))
    return "'".join(parts)
