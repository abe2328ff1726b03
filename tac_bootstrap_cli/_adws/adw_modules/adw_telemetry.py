"""OpenTelemetry export of ADW runs: one trace per run, sent over OTLP/HTTP. Off by default.

On when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (the full URL) or ``OTEL_EXPORTER_OTLP_ENDPOINT``
(a base URL; ``/v1/traces`` is added) is set, else when config.yml has ``telemetry:
otlp_endpoint: <base URL>``; the environment wins. ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` work as the SDK defines them. Off, nothing
of OpenTelemetry is imported: ``start_workflow`` returns ``NO_TRACE``, whose methods do nothing.

The trace (GenAI semantic conventions)::

    invoke_workflow <workflow>     adw.id, adw.task, vcs.branch
    └── invoke_agent <phase>       one per phase attempt: model, tokens, cost, status, retry
        └── execute_tool <tool>    one per tool event the hooks recorded in that attempt

The agent CLI of an attempt gets ``TRACEPARENT`` (W3C) naming the attempt's span
(``agent_environ``), so Claude Code's own spans nest under it. The tool spans are built when the
attempt ends, from the ``agent_logs`` rows the hooks wrote (their times are the spans' times);
tokens and cost come from the attempt's ``prompts`` rows. The phase's ``agents`` row keeps
``trace_id`` and ``span_id`` in its metadata.

Export never fails or stalls a run: spans go to a background ``BatchSpanProcessor`` with a bounded
queue; at the end the processor is shut down within the exporter timeout
(``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` / ``OTEL_EXPORTER_OTLP_TIMEOUT``, seconds as the Python SDK
reads them; 2 s by default here), and when spans were not delivered one line on stderr says how
many and why. The SDK's own log lines are kept off stderr (the reason goes into that one line).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .utils import otlp_endpoint_problem

if TYPE_CHECKING:  # the SDK is imported only when export is on
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.trace import Span, Tracer

TRACES_ENDPOINT_ENV: Final = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENDPOINT_ENV: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
TIMEOUT_ENVS: Final = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
DEFAULT_TIMEOUT_S: Final = 2.0
MAX_QUEUE_SIZE: Final = 2048
TRACES_PATH: Final = "/v1/traces"
TASK_LIMIT: Final = 1000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# The hook events that open and close one tool call (their rows' metadata has ``hook_event``).
_TOOL_START: Final = "PreToolUse"
_TOOL_ENDS: Final = ("PostToolUse", "PostToolUseFailure")
# The traceparent of the phase attempt running now (for the agent CLI's environment).
_current_traceparent: str | None = None


def warn(message: str) -> None:
    """One line on stderr (never raises)."""
    with suppress(OSError, ValueError):
        print(f"warning: telemetry: {message}", file=sys.stderr, flush=True)


def endpoint(config: Mapping[str, Any] | None = None) -> str | None:
    """The OTLP/HTTP traces URL, or None when export is off (see the module docstring)."""
    traces = os.environ.get(TRACES_ENDPOINT_ENV, "").strip()
    if traces:
        return traces
    base = os.environ.get(ENDPOINT_ENV, "").strip()
    if not base:
        section = (config or {}).get("telemetry") or {}
        base = str(section.get("otlp_endpoint") or "").strip() if isinstance(section, dict) else ""
        problem = otlp_endpoint_problem(base) if base else None
        if problem:  # what `tac-bootstrap render` and doctor refuse: off, with one line
            warn(f"config.yml: telemetry.otlp_endpoint: {problem}; export is off")
            return None
    return traces_url(base) if base else None


def traces_url(base: str) -> str:
    """The traces URL of an OTLP/HTTP base URL (``/v1/traces`` added unless there)."""
    base = base.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def timeout_seconds() -> float:
    """The exporter timeout: the first valid positive value of ``TIMEOUT_ENVS``, else 2 s."""
    for name in TIMEOUT_ENVS:
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            warn(f"{name}={raw!r} is not a number of seconds; using {DEFAULT_TIMEOUT_S:g} s")
            return DEFAULT_TIMEOUT_S
        if value > 0:
            return value
    return DEFAULT_TIMEOUT_S


def agent_environ() -> dict[str, str]:
    """What the agent CLI's environment gets: ``TRACEPARENT`` of the attempt span, when on."""
    return {"TRACEPARENT": _current_traceparent} if _current_traceparent else {}


def ns_of(stamp: str) -> int:
    """Nanoseconds since the epoch of a stored timestamp (exact, no float rounding)."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ((moment - _EPOCH) // timedelta(microseconds=1)) * 1000


def _stamp(ns: int) -> str:
    """The stored form of a time (fixed width, so text order is time order)."""
    moment = _EPOCH + timedelta(microseconds=ns // 1000)
    return moment.isoformat(timespec="microseconds")


@dataclass
class ToolCall:
    """One tool call as the hooks recorded it."""

    name: str
    start_ns: int
    end_ns: int
    call_id: str | None = None
    blocked: bool = False
    block_reason: str | None = None
    failed: bool = False
    closed: bool = False  # its end was recorded (or it was blocked): False = still open, or lost


def tool_calls(rows: Sequence[tuple[str, str | None]]) -> list[ToolCall]:
    """Tool calls from ``(created_at, metadata JSON)`` hook rows in time order.

    A ``PreToolUse`` opens a call, the ``PostToolUse(Failure)`` with the same ``tool_use_id``
    (else the oldest open call of that tool) closes it; a blocked call ends where it was blocked;
    an unclosed call or an end without a start lasts no time.
    """
    import json

    calls: list[ToolCall] = []
    open_calls: dict[str, ToolCall] = {}  # by tool_use_id, or "<name>\0<n>" without one
    for created_at, text in rows:
        try:
            meta = json.loads(text or "{}")
        except ValueError:
            continue
        if not isinstance(meta, dict) or not meta.get("tool_name"):
            continue
        event, name, at = meta.get("hook_event"), str(meta["tool_name"]), ns_of(created_at)
        call_id = meta.get("tool_use_id") if isinstance(meta.get("tool_use_id"), str) else None
        if event == _TOOL_START:
            call = ToolCall(name, at, at, call_id)
            calls.append(call)
            if meta.get("blocked"):
                call.blocked, call.block_reason = True, str(meta.get("block_reason") or "")
                call.closed = True
            else:
                open_calls[call_id or f"{name}\0{len(calls)}"] = call
        elif event in _TOOL_ENDS:
            key = call_id if call_id in open_calls else None
            if key is None:
                key = next((k for k, c in open_calls.items() if c.name == name), None)
            if key is None:
                call = ToolCall(name, at, at, call_id)
                calls.append(call)
            else:
                call = open_calls.pop(key)
            call.end_ns, call.failed, call.closed = at, event != "PostToolUse", True
    return calls


def tool_span(tracer: Tracer, parent: Any, call: ToolCall) -> None:
    """The ``execute_tool`` span of ``call`` under ``parent`` (a context), ended at its end."""
    from opentelemetry.trace import StatusCode

    attributes: dict[str, str | bool] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.name,
        "adw.tool.blocked": call.blocked,
        "openinference.span.kind": "TOOL",
    }
    if call.call_id:
        attributes["gen_ai.tool.call.id"] = call.call_id
    if call.block_reason:
        attributes["adw.tool.block_reason"] = call.block_reason[:500]
    if not call.closed:  # its end was never recorded: the span lasts no time
        attributes["adw.tool.unfinished"] = True
    span = tracer.start_span(
        f"execute_tool {call.name}", context=parent, attributes=attributes, start_time=call.start_ns
    )
    if call.failed:
        span.set_status(StatusCode.ERROR, "PostToolUseFailure")
    span.end(end_time=call.end_ns)


class Trace:
    """The trace of one ADW run; this base class is the switched-off one (``NO_TRACE``)."""

    enabled = False

    @contextmanager
    def attempt(self, run: Any, phase: str, attempt: int, **about: Any) -> Iterator[None]:
        """Wrap one phase attempt: its span, and ``TRACEPARENT`` for the agent CLI meanwhile.

        ``about``: ``agent`` (the agent's name), ``model`` (as requested), ``db`` (the run log).
        """
        del run, phase, attempt, about  # switched off: nothing to record
        yield

    def finish(self, *, branch: str | None = None, error: str | None = None) -> None:
        """End the root span and deliver what is queued, within the timeout."""
        del branch, error  # switched off: nothing to end


NO_TRACE: Final = Trace()


def start_workflow(
    config: Mapping[str, Any], *, workflow: str, adw_id: str, task: str, project: str
) -> Trace:
    """The trace of this run: ``NO_TRACE`` when export is off or the SDK cannot start."""
    url = endpoint(config)
    if url is None:
        return NO_TRACE
    try:
        return _OtelTrace(url, workflow=workflow, adw_id=adw_id, task=task, project=project)
    except Exception as exc:  # a missing or broken SDK must not stop the run
        warn(f"export to {url} is off for this run: {type(exc).__name__}: {exc}")
        return NO_TRACE


class _LastMessage(logging.Handler):
    """Keeps the SDK's last warning (the reason given in the one stderr line)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.last = " ".join(record.getMessage().split())[:300]
        except Exception:
            self.last = str(record.msg)[:300]


def capture_sdk_log() -> _LastMessage:
    """Keep the SDK's log lines off stderr; the returned handler holds its last warning."""
    handler = _LastMessage()
    sdk_log = logging.getLogger("opentelemetry")
    sdk_log.addHandler(handler)
    sdk_log.propagate = False  # its lines would reach stderr through logging's last resort
    return handler


def _counting(exporter: SpanExporter) -> Any:
    """``exporter`` wrapped so that the spans it delivered are counted."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Counting(SpanExporter):
        def __init__(self) -> None:
            self.delivered = 0

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            result = exporter.export(spans)
            if result is SpanExportResult.SUCCESS:
                self.delivered += len(spans)
            return result

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return exporter.force_flush(timeout_millis)

    return Counting()


def resource_attributes(project: str) -> dict[str, str]:
    """Resource attributes this module sets: only those the environment does not."""
    given = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    attrs: dict[str, str] = {}
    if not os.environ.get("OTEL_SERVICE_NAME") and "service.name=" not in given:
        attrs["service.name"] = f"adw-{project}"
    if "openinference.project.name=" not in given:  # Arize Phoenix groups traces by it
        attrs["openinference.project.name"] = os.environ.get("OTEL_SERVICE_NAME") or (
            f"adw-{project}"
        )
    return attrs


class _OtelTrace(Trace):
    """The trace, exported through the OpenTelemetry SDK."""

    enabled = True

    def __init__(self, url: str, *, workflow: str, adw_id: str, task: str, project: str) -> None:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self.url, self.timeout = url, timeout_seconds()
        self.log = capture_sdk_log()
        self.exporter = _counting(OTLPSpanExporter(endpoint=url, timeout=self.timeout))
        self.provider: TracerProvider = TracerProvider(
            resource=Resource.create(resource_attributes(project)), shutdown_on_exit=False
        )
        self.processor = BatchSpanProcessor(
            self.exporter, max_queue_size=MAX_QUEUE_SIZE, export_timeout_millis=self.timeout * 1000
        )
        self.provider.add_span_processor(self.processor)
        self.tracer: Tracer = self.provider.get_tracer("adw")
        self.ended = 0
        # A caller's TRACEPARENT (a CI job's trace) makes this run part of that trace.
        parent = TraceContextTextMapPropagator().extract(
            {"traceparent": os.environ["TRACEPARENT"]} if os.environ.get("TRACEPARENT") else {}
        )
        self.root: Span = self.tracer.start_span(
            f"invoke_workflow {workflow}",
            context=parent,
            attributes={
                "gen_ai.operation.name": "invoke_workflow",
                "adw.id": adw_id,
                "adw.workflow": workflow,
                "adw.task": task[:TASK_LIMIT],
                "openinference.span.kind": "CHAIN",
            },
        )
        self.root_context = trace.set_span_in_context(self.root)
        context = self.root.get_span_context()
        self.trace_id = f"{context.trace_id:032x}"
        self.root_span_id = f"{context.span_id:016x}"

    @contextmanager
    def attempt(self, run: Any, phase: str, attempt: int, **about: Any) -> Iterator[None]:
        global _current_traceparent
        from opentelemetry.trace import StatusCode

        span = self.tracer.start_span(
            f"invoke_agent {phase}",
            context=self.root_context,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": str(about.get("agent") or phase),
                "gen_ai.request.model": str(about.get("model") or ""),
                "adw.phase": phase,
                "adw.attempt": attempt,
                "adw.retry": attempt - 1,
                "openinference.span.kind": "AGENT",
            },
        )
        span_id = f"{span.get_span_context().span_id:016x}"
        started = time.time_ns()
        _current_traceparent = f"00-{self.trace_id}-{span_id}-01"
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            _current_traceparent = None
            ended = max(time.time_ns(), started)
            agent_id = getattr(run, "agent_id", None)
            try:
                if agent_id:
                    self._from_rows(span, str(agent_id), Path(about["db"]), started, ended)
                    run.set_metadata(trace_id=self.trace_id, span_id=span_id)
            except Exception as exc:  # the run log is the workflow's business, not ours
                span.set_attribute("adw.telemetry_error", f"{type(exc).__name__}: {exc}")
            span.set_attribute("adw.status", "failed" if error else "completed")
            if error is not None:
                span.set_status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:500])
            span.end(end_time=ended)
            self.ended += 1

    def _from_rows(self, span: Span, agent_id: str, db: Path, start: int, end: int) -> None:
        """Tokens and cost from the attempt's prompts rows, a tool span per tool call."""
        from opentelemetry import trace

        from .adw_sqlite import connect

        window = (agent_id, _stamp(start), _stamp(end + 1000))
        conn = connect(db)
        try:
            prompts = conn.execute(
                "SELECT tokens_input, tokens_cache_read, tokens_cache_creation, tokens_output,"
                " cost_usd, models FROM prompts WHERE agent_id = ? AND created_at >= ?"
                " AND created_at <= ? ORDER BY created_at",
                window,
            ).fetchall()
            hooks = conn.execute(
                "SELECT created_at, metadata FROM agent_logs WHERE agent_id = ?"
                " AND created_at >= ? AND created_at <= ? AND log_type = 'event'"
                " AND metadata LIKE '%\"tool_name\"%' ORDER BY created_at, rowid",
                window,
            ).fetchall()
        finally:
            conn.close()
        uncached, cache_read, cache_creation, output = (
            sum(r[i] for r in prompts) for i in range(4)
        )
        models = [m for r in prompts for m in (r[5] or "").split(",") if m]
        span.set_attributes(
            {
                # GenAI conventions: input_tokens counts every input token, cached ones too.
                "gen_ai.usage.input_tokens": uncached + cache_read + cache_creation,
                "gen_ai.usage.output_tokens": output,
                "gen_ai.usage.cache_read.input_tokens": cache_read,
                "gen_ai.usage.cache_creation.input_tokens": cache_creation,
                "adw.usage.uncached_input_tokens": uncached,
                "adw.cost_usd": float(sum(r[4] for r in prompts)),
                "adw.prompts": len(prompts),
            }
        )
        if models:
            span.set_attribute("gen_ai.response.model", models[0])
            span.set_attribute("adw.models", ",".join(dict.fromkeys(models)))
        context = trace.set_span_in_context(span)
        for call in tool_calls(hooks):
            tool_span(self.tracer, context, call)
            self.ended += 1

    def finish(self, *, branch: str | None = None, error: str | None = None) -> None:
        from opentelemetry.trace import StatusCode

        try:
            if branch:
                self.root.set_attribute("vcs.branch", branch)
            self.root.set_attribute("adw.status", "failed" if error else "completed")
            if error:
                self.root.set_status(StatusCode.ERROR, error[:500])
            self.root.end()
            self.ended += 1
            # Bounded: the worker gets `timeout` to send the rest, then is abandoned (a daemon).
            # BatchSpanProcessor.shutdown() may wait 30 s: it runs in a daemon thread given
            # `timeout`, then is left behind (the process exits without waiting for it).
            closing = threading.Thread(target=self.processor.shutdown, daemon=True)
            closing.start()
            closing.join(self.timeout)
        except Exception as exc:
            warn(f"{type(exc).__name__}: {exc}")
        lost = self.ended - self.exporter.delivered
        if lost > 0:
            reason = self.log.last or f"no answer within {self.timeout:g} s"
            warn(
                f"{lost} of {self.ended} spans not delivered to {self.url} "
                f"(timeout {self.timeout:g} s): {reason}"
            )
