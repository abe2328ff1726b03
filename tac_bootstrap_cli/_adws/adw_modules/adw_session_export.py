"""OTLP export of the hook events recorded outside an ADW (``adws/adw_export.py --otlp``).

Interactive Claude Code sessions record their hook events under an Agent named
``claude-session`` (its id a uuid5 of the session id). Each session becomes one trace::

    invoke_agent claude-session     root; session.id, gen_ai.conversation.id, adw.session.cwd;
    │                               sent once, when the session's first SessionEnd is exported
    └── execute_tool <tool>         one per tool call, as the ADW export builds them
                                    (adw_telemetry.tool_calls / tool_span)

The ids are derived, not random: the trace id is the session Agent's id, the root span id and
each tool span id a hash of it (and of the call's ``tool_use_id``), so the spans of one session
sent by several exports form one trace, and a batch sent twice has the same ids.

Position: the last ``agent_logs`` rowid exported, per endpoint, in a state file beside the
database (``<db>-otlp-export.json``, written with ``adw_files.write_atomic``). Rows are read in
rowid order (a hook's row commits in rowid order: writers are serialised), in chunks; a chunk's
spans are sent in one synchronous request and the position moves only after the collector took
them, so a collector that is down leaves it where the last delivered chunk put it. A tool call
is sent with the chunk holding its end (its start found again by ``tool_use_id`` when it lies in
an earlier chunk); a call still open is left for a later export, unless its session ended.

A session that never records SessionEnd (its terminal was killed, the machine slept for good) is
closed by the export once it has been silent for ``stale_after`` (24 hours by default): its root
is sent ending at its last event, with ``adw.session.unfinished``, and the calls it left open as
zero-length spans at their start with ``adw.tool.unfinished``. Which sessions were closed so is
one time per endpoint in the state file (``stale_until``: every session silent since then was
closed), so no list of sessions grows there and a rerun closes none twice.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .adw_files import write_atomic
from .adw_telemetry import (
    ToolCall,
    capture_sdk_log,
    ns_of,
    resource_attributes,
    tool_calls,
    tool_span,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter

SESSION_AGENT: Final = "claude-session"
CHUNK_ROWS: Final = 1000
STATE_SUFFIX: Final = "-otlp-export.json"
STATE_VERSION: Final = 1
STALE_AFTER: Final = timedelta(hours=24)  # a session silent this long without SessionEnd is over

_CHUNK_SQL: Final = (
    "SELECT l.rowid, l.id, l.agent_id, l.created_at, l.metadata FROM agent_logs AS l"
    " JOIN agents AS a ON a.id = l.agent_id"
    " WHERE l.rowid > ? AND l.rowid <= ? AND a.name = ? AND l.log_type = 'event'"
    " ORDER BY l.rowid LIMIT ?"
)
# A tool call's start in an earlier chunk (filtered by tool_use_id in Python: metadata is text).
_STARTS_SQL: Final = (
    "SELECT created_at, metadata FROM agent_logs WHERE agent_id = ? AND rowid <= ?"
    " AND log_type = 'event' AND metadata LIKE '%\"PreToolUse\"%' ORDER BY rowid"
)
_ENDED_BEFORE_SQL: Final = (
    "SELECT 1 FROM agent_logs WHERE agent_id = ? AND rowid < ? AND log_type = 'event'"
    " AND message LIKE 'SessionEnd%' LIMIT 1"
)
# Sessions without SessionEnd whose last event lies in (since, until]: ids and that last time.
_STALE_SQL: Final = (
    "SELECT l.agent_id, max(l.created_at) AS last FROM agent_logs AS l"
    " JOIN agents AS a ON a.id = l.agent_id WHERE a.name = ? AND l.log_type = 'event'"
    " GROUP BY l.agent_id HAVING last > ? AND last <= ?"
    " AND sum(l.message LIKE 'SessionEnd%') = 0 ORDER BY last"
)
_TOOL_ROWS_SQL: Final = (
    "SELECT created_at, metadata FROM agent_logs WHERE agent_id = ? AND log_type = 'event'"
    " AND metadata LIKE '%\"tool_name\"%' ORDER BY rowid"
)
_AGENT_SQL: Final = "SELECT session_id, created_at, started_at, metadata FROM agents WHERE id = ?"


class ExportError(Exception):
    """The collector did not take a chunk; ``result`` says what was delivered before."""

    def __init__(self, reason: str, result: ExportResult) -> None:
        super().__init__(reason)
        self.result = result


@dataclass
class ExportResult:
    """What one export did: rows read, sessions seen, spans delivered, the position reached."""

    rows: int = 0
    spans: int = 0
    sessions: set[str] = field(default_factory=set)
    position: int = 0


def state_path(db: Path) -> Path:
    """The export's state file: beside the database, named after it."""
    return db.with_name(db.name + STATE_SUFFIX)


def _derived_id(bits: int, *parts: str) -> int:
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return int.from_bytes(digest[: bits // 8], "big") or 1  # 0 is the invalid id


def session_trace_id(agent_id: str) -> int:
    """The trace id of a session: its Agent's id (a uuid, 128 bits)."""
    import uuid

    return uuid.UUID(agent_id).int or _derived_id(128, agent_id)


def session_root_id(agent_id: str) -> int:
    """The span id of a session's root span."""
    return _derived_id(64, "root", agent_id)


# -- the position ----------------------------------------------------------------------------------


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable: start over (the ids make a resend land on the same spans)
    return data if isinstance(data, dict) and data.get("version") == STATE_VERSION else {}


def load_position(conn: sqlite3.Connection, path: Path, url: str) -> int:
    """The last rowid exported to ``url``; checked against the row it named (a VACUUM renumbers
    rowids, a new database starts again at 1): found by its id, else by its time, else 0."""
    mark = _entry(path, url)
    if not isinstance(mark.get("rowid"), int):
        return 0
    rowid, row_id = mark["rowid"], str(mark.get("id") or "")
    found = conn.execute("SELECT id FROM agent_logs WHERE rowid = ?", (rowid,)).fetchone()
    if found is not None and found[0] == row_id:
        return int(rowid)
    moved = conn.execute("SELECT rowid FROM agent_logs WHERE id = ?", (row_id,)).fetchone()
    if moved is not None:
        return int(moved[0])
    (before,) = conn.execute(
        "SELECT coalesce(max(rowid), 0) FROM agent_logs WHERE created_at <= ?",
        (str(mark.get("created_at") or ""),),
    ).fetchone()
    return int(before)


def _entry(path: Path, url: str) -> dict[str, Any]:
    """The state file's entry of ``url`` (empty when none)."""
    entry = (_read_state(path).get("positions") or {}).get(url)
    return entry if isinstance(entry, dict) else {}


def _save_entry(path: Path, url: str, **values: Any) -> None:
    """Set ``values`` in the entry of ``url``, keeping the rest of the state file."""
    state = _read_state(path)
    known = state.get("positions")
    positions: dict[str, Any] = known if isinstance(known, dict) else {}
    entry = positions.get(url)
    positions[url] = {**(entry if isinstance(entry, dict) else {}), **values}
    text = json.dumps({"version": STATE_VERSION, "positions": positions}, indent=1) + "\n"
    write_atomic(path, text.encode("utf-8"), durable=True)


def save_position(conn: sqlite3.Connection, path: Path, url: str, rowid: int) -> None:
    """Remember ``rowid`` (and the row's id and time, to find it again) for ``url``."""
    row = conn.execute("SELECT id, created_at FROM agent_logs WHERE rowid = ?", (rowid,)).fetchone()
    _save_entry(
        path, url, rowid=rowid, id=row[0] if row else None, created_at=row[1] if row else None
    )


def load_stale_until(path: Path, url: str) -> str:
    """The time up to which silent sessions were closed for ``url`` ("" when none was)."""
    return str(_entry(path, url).get("stale_until") or "")


@contextmanager
def exclusive(path: Path) -> Iterator[bool]:
    """Hold the export's lock (``<state>.lock``); yields False when another export holds it."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one export at a time is the user's business
        yield True
        return
    with path.with_name(path.name + ".lock").open("a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# -- the spans -------------------------------------------------------------------------------------


@dataclass
class _Row:
    rowid: int
    agent_id: str
    created_at: str
    meta: dict[str, Any]
    text: str


def _rows(raw: list[tuple[Any, ...]]) -> list[_Row]:
    found = []
    for rowid, _id, agent_id, created_at, text in raw:
        try:
            meta = json.loads(text or "{}")
        except ValueError:
            meta = {}
        found.append(
            _Row(rowid, agent_id, created_at, meta if isinstance(meta, dict) else {}, text)
        )
    return found


class _Spans:
    """Builds a chunk's spans with derived ids through the SDK, and sends them synchronously."""

    def __init__(self, url: str, project: str, timeout: float) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
        from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

        class Next(RandomIdGenerator):
            """The ids set before each span starts (random when none is)."""

            trace_id: int | None = None
            span_id: int | None = None

            def generate_span_id(self) -> int:
                return self.span_id or super().generate_span_id()

            def generate_trace_id(self) -> int:
                return self.trace_id or super().generate_trace_id()

        class Collect(SpanProcessor):
            def __init__(self) -> None:
                self.spans: list[ReadableSpan] = []

            def on_end(self, span: ReadableSpan) -> None:
                self.spans.append(span)

        self.log = capture_sdk_log()
        self.ids, self.collected = Next(), Collect()
        self.provider = TracerProvider(
            resource=Resource.create(resource_attributes(project)),
            id_generator=self.ids,
            shutdown_on_exit=False,
        )
        self.provider.add_span_processor(self.collected)
        self.tracer = self.provider.get_tracer("adw.sessions")
        self.exporter: SpanExporter = OTLPSpanExporter(endpoint=url, timeout=timeout)

    def parent(self, agent_id: str) -> Any:
        """The context of the session's root span (sent or not yet)."""
        from opentelemetry import trace
        from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

        root = SpanContext(
            session_trace_id(agent_id),
            session_root_id(agent_id),
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        return trace.set_span_in_context(NonRecordingSpan(root))

    def tool(self, agent_id: str, call: ToolCall) -> None:
        key = call.call_id or f"{call.name}@{call.start_ns}"
        self.ids.span_id = _derived_id(64, "tool", agent_id, key)
        tool_span(self.tracer, self.parent(agent_id), call)

    def root(
        self, agent: sqlite3.Row | None, agent_id: str, ended_at: str, *, unfinished: bool = False
    ) -> None:
        """The session's root span, ending at ``ended_at`` (its SessionEnd, or its last event
        when it never recorded one: ``unfinished``)."""
        from opentelemetry.context import Context

        started = (agent["started_at"] or agent["created_at"]) if agent else ended_at
        cwd = ""
        if agent is not None:
            with_cwd = json.loads(agent["metadata"] or "{}")
            cwd = str(with_cwd.get("cwd") or "") if isinstance(with_cwd, dict) else ""
        session = str(agent["session_id"] or "") if agent else ""
        self.ids.trace_id, self.ids.span_id = session_trace_id(agent_id), session_root_id(agent_id)
        span = self.tracer.start_span(
            f"invoke_agent {SESSION_AGENT}",
            context=Context(),
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": SESSION_AGENT,
                "gen_ai.conversation.id": session,
                "session.id": session,
                "adw.session.cwd": cwd,
                "adw.session.unfinished": unfinished,
                "openinference.span.kind": "AGENT",
            },
            start_time=min(ns_of(started), ns_of(ended_at)),
        )
        span.end(end_time=ns_of(ended_at))
        self.ids.trace_id = None

    def send(self) -> int:
        """Send what was built; the number of spans, or ``ExportError``'s reason as RuntimeError."""
        from opentelemetry.sdk.trace.export import SpanExportResult

        spans, self.collected.spans = self.collected.spans, []
        if spans and self.exporter.export(spans) is not SpanExportResult.SUCCESS:
            raise RuntimeError(self.log.last or "the collector did not accept the spans")
        return len(spans)

    def close(self) -> None:
        self.exporter.shutdown()


def _session_calls(
    conn: sqlite3.Connection, agent_id: str, rows: list[_Row], before: int
) -> list[ToolCall]:
    """The tool calls to send for one session's rows of a chunk (see the module docstring)."""
    tool_rows = [r for r in rows if r.meta.get("tool_name")]
    started = {
        r.meta.get("tool_use_id") for r in tool_rows if r.meta.get("hook_event") == "PreToolUse"
    }
    wanted = {
        r.meta.get("tool_use_id")
        for r in tool_rows
        if r.meta.get("hook_event") != "PreToolUse" and r.meta.get("tool_use_id") not in started
    } - {None}
    earlier: list[tuple[str, str | None]] = []
    if wanted:
        for created_at, text in conn.execute(_STARTS_SQL, (agent_id, before)):
            meta = json.loads(text or "{}")
            if isinstance(meta, dict) and meta.get("tool_use_id") in wanted:
                earlier.append((created_at, text))
    ended = any(r.meta.get("hook_event") == "SessionEnd" for r in rows)
    calls = tool_calls(earlier + [(r.created_at, r.text) for r in tool_rows])
    return [c for c in calls if c.closed or ended]  # an open call waits for its end


def _chunk(conn: sqlite3.Connection, spans: _Spans, rows: list[_Row], before: int) -> set[str]:
    """Build the spans of one chunk (``before``: the position it starts after)."""
    by_session: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        by_session[row.agent_id].append(row)
    for agent_id, mine in by_session.items():
        for call in _session_calls(conn, agent_id, mine, before):
            spans.tool(agent_id, call)
        end = next((r for r in mine if r.meta.get("hook_event") == "SessionEnd"), None)
        if (
            end is not None
            and not conn.execute(_ENDED_BEFORE_SQL, (agent_id, end.rowid)).fetchone()
        ):
            agent = conn.execute(_AGENT_SQL, (agent_id,)).fetchone()
            spans.root(agent, agent_id, end.created_at)
    return set(by_session)


def _close_silent(conn: sqlite3.Connection, spans: _Spans, since: str, until: str) -> set[str]:
    """Build the spans closing the sessions without SessionEnd last heard of in (since, until]:
    the root ending at the last event, the calls left open as zero-length spans."""
    closed = set()
    for agent_id, last in conn.execute(_STALE_SQL, (SESSION_AGENT, since, until)).fetchall():
        for call in tool_calls(conn.execute(_TOOL_ROWS_SQL, (agent_id,)).fetchall()):
            if not call.closed:  # never ended: sent now, lasting no time (marked unfinished)
                spans.tool(agent_id, call)
        spans.root(
            conn.execute(_AGENT_SQL, (agent_id,)).fetchone(), agent_id, last, unfinished=True
        )
        closed.add(agent_id)
    return closed


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def export_sessions(
    db: Path,
    url: str,
    *,
    project: str,
    timeout: float,
    stale_after: timedelta = STALE_AFTER,
) -> ExportResult:
    """Send the sessions' events recorded since the last export to ``url`` (OTLP/HTTP traces),
    then close the sessions silent for ``stale_after`` that never recorded SessionEnd.

    Raises ``ExportError`` when the collector did not take a chunk (the position stays after the
    last chunk it took). The caller holds ``exclusive(state_path(db))``.
    """
    from .adw_sqlite import connect

    path = state_path(db)
    conn = connect(db)
    conn.row_factory = sqlite3.Row
    spans = _Spans(url, project, timeout)
    try:
        result = ExportResult(position=load_position(conn, path, url))
        _export_rows(conn, spans, path, url, result)
        until = _stamp(datetime.now(UTC) - stale_after)
        result.sessions |= _close_silent(conn, spans, load_stale_until(path, url), until)
        _send(spans, result)
        _save_entry(path, url, stale_until=until)
        return result
    finally:
        spans.close()
        conn.close()


def _send(spans: _Spans, result: ExportResult) -> None:
    try:
        result.spans += spans.send()
    except RuntimeError as exc:
        raise ExportError(str(exc), result) from None


def _export_rows(
    conn: sqlite3.Connection, spans: _Spans, path: Path, url: str, result: ExportResult
) -> None:
    """The rows after ``result.position`` up to the last one now, chunk by chunk, each sent
    before the position moves past it."""
    position = result.position
    (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM agent_logs").fetchone()
    while True:
        raw = conn.execute(_CHUNK_SQL, (position, top, SESSION_AGENT, CHUNK_ROWS)).fetchall()
        rows = _rows([tuple(r) for r in raw])
        last = rows[-1].rowid if len(rows) == CHUNK_ROWS else top
        result.sessions |= _chunk(conn, spans, rows, position)
        _send(spans, result)
        result.rows += len(rows)
        if last != position:
            save_position(conn, path, url, last)
            position = result.position = last
        if last >= top:
            return
