"""Claude Code's own spans nest under the ``TRACEPARENT`` it is started with: proven with the real
pinned CLI against the scripted API, exporting to a real OTLP receiver (Arize Phoenix, as in
tests/telemetry) or, where a test must see that something was *not* sent, to a recording
OTLP/HTTP endpoint here (the CLI's exporters have flushed when it exits).

What the pinned version (2.1.332) does, and these tests pin:

- traces need ``CLAUDE_CODE_ENABLE_TELEMETRY=1`` **and** ``CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1``
  and ``OTEL_TRACES_EXPORTER=otlp``; without the beta flag only logs and metrics are sent;
- in ``-p`` mode its root span ``claude_code.interaction`` (``gen_ai.operation.name``
  ``invoke_agent``, ``parent.source`` ``env``) is the child of ``TRACEPARENT``'s span, in its
  trace; ``claude_code.llm_request`` (one per model request) and ``claude_code.tool`` (one per
  tool call, with ``claude_code.tool.execution`` under it) are below it; without
  ``TRACEPARENT`` the interaction starts a trace of its own;
- through ``adw_plan_build.py``: the user's telemetry variables reach the CLI unchanged, and each
  phase's ``invoke_agent`` span is the parent of that phase's ``claude_code.interaction``: one
  trace from the workflow down to Claude Code's model requests and tool calls.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, Sessions, claude_env, db_rows
from fake_api import FakeAPI, Usage, call, say

from tests.telemetry.telemetry_support import phoenix_server, phoenix_spans

# What a user sets to get Claude Code's traces (the endpoint comes with each test).
CLAUDE_TRACES = {
    "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
    "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
}
INTERACTION = "claude_code.interaction"
PROBE = "TRACEPARENT-PROBE: say hello from the shell"


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Phoenix server of this module; yields its URL."""
    with phoenix_server(tmp_path_factory.mktemp("phoenix")) as url:
        yield url


def _script_probe(api: FakeAPI) -> None:
    api.script(
        "TRACEPARENT-PROBE",
        call("Bash", command="echo hello", description="say hello"),
        say("said hello"),
    )


def _probe(sessions: Sessions, work: Path, **env: str) -> Run:
    """``claude -p PROBE`` in bypass mode (the Bash call needs no approval) with ``env``."""
    return sessions.run(work, PROBE, mode="bypass", timeout=240, **env)


def _descends(span: dict[str, Any], root_id: str, by_id: dict[str, dict[str, Any]]) -> bool:
    """True when ``span`` is ``root_id`` or below it (following parent ids inside ``by_id``)."""
    seen: dict[str, Any] | None = span
    while seen is not None:
        if seen["context"]["span_id"] == root_id:
            return True
        seen = by_id.get(seen["parent_id"] or "")
    return False


def test_claude_code_spans_nest_under_the_traceparent(
    sessions: Sessions, api: FakeAPI, phoenix: str, tmp_path: Path
) -> None:
    """One ``claude -p`` turn with a Bash call: every span Claude Code sends is in our trace,
    and its root is the child of our span."""
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    work = tmp_path / "work"
    work.mkdir()
    _script_probe(api)

    run = _probe(
        sessions,
        work,
        TRACEPARENT=f"00-{trace_id}-{parent_id}-01",
        OTEL_EXPORTER_OTLP_ENDPOINT=phoenix,
        OTEL_RESOURCE_ATTRIBUTES="openinference.project.name=claude-code-probe",
        **CLAUDE_TRACES,
    )

    assert run.returncode == 0, run.stderr
    assert run.result.get("is_error") is False, run.result
    requests = len(api.exchanges)  # every model request the CLI made (the two scripted turns)
    spans = phoenix_spans(phoenix, "claude-code-probe", trace_id, 3 + requests)
    names = [s["name"] for s in spans]
    assert names.count(INTERACTION) == 1, names
    assert names.count("claude_code.llm_request") == requests, names
    assert names.count("claude_code.tool") == 1, names
    (interaction,) = [s for s in spans if s["name"] == INTERACTION]
    # The root of Claude Code's spans is the child of the span TRACEPARENT named.
    assert interaction["parent_id"] == parent_id
    assert interaction["attributes"]["parent.source"] == "env"
    assert interaction["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    # Everything else hangs below it.
    by_id = {s["context"]["span_id"]: s for s in spans}
    root_id = interaction["context"]["span_id"]
    assert all(_descends(s, root_id, by_id) for s in spans), [
        (s["name"], s["parent_id"]) for s in spans
    ]
    (tool,) = [s for s in spans if s["name"] == "claude_code.tool"]
    assert tool["parent_id"] == root_id
    assert tool["attributes"]["tool_name"] == "Bash"


class _Recorder:
    """An OTLP/HTTP endpoint on 127.0.0.1 that answers 200 and keeps each request (http/json)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                recorder.received.append((self.path, json.loads(body or b"{}")))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def paths(self) -> set[str]:
        return {path for path, _ in self.received}

    def spans(self) -> list[dict[str, Any]]:
        return [
            span
            for path, body in self.received
            if path == "/v1/traces"
            for resource in body.get("resourceSpans", [])
            for scope in resource.get("scopeSpans", [])
            for span in scope.get("spans", [])
        ]


@contextmanager
def _recorder() -> Iterator[_Recorder]:
    recorder = _Recorder()
    thread = threading.Thread(target=recorder.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        recorder.server.shutdown()
        recorder.server.server_close()


def test_no_spans_without_the_beta_flag_and_own_trace_without_traceparent(
    sessions: Sessions, api: FakeAPI, tmp_path: Path
) -> None:
    """``CLAUDE_CODE_ENABLE_TELEMETRY`` alone sends logs and metrics but no spans; with the beta
    flag and no ``TRACEPARENT`` the spans form a trace of their own."""
    work = tmp_path / "work"
    work.mkdir()
    _script_probe(api)
    given = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    everything = {
        **CLAUDE_TRACES,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
    }
    without_beta = {
        k: v for k, v in everything.items() if k != "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA"
    }

    with _recorder() as recorder:
        run = _probe(
            sessions, work, TRACEPARENT=given, OTEL_EXPORTER_OTLP_ENDPOINT=recorder.url,
            **without_beta,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert recorder.paths() == {"/v1/logs", "/v1/metrics"}  # delivered before the CLI exited

    with _recorder() as recorder:
        run = _probe(sessions, work, OTEL_EXPORTER_OTLP_ENDPOINT=recorder.url, **everything)
    assert run.returncode == 0, run.stderr
    spans = recorder.spans()
    (interaction,) = [s for s in spans if s["name"] == INTERACTION]
    assert not interaction.get("parentSpanId")
    attributes = {a["key"]: a["value"] for a in interaction["attributes"]}
    assert attributes["parent.source"] == {"stringValue": "none"}
    assert {s["traceId"] for s in spans} == {interaction["traceId"]}


ADW_ID = "7ace0001"
SPEC = f"specs/{ADW_ID}-add-a-health-endpoint.md"


def _script_adw(api: FakeAPI, project: Path) -> None:
    api.script(
        "You are the planner of AI Developer Workflow",
        call(
            "Write",
            Usage(2100, 120, 6000, 500),
            file_path=str(project / SPEC),
            content="# Plan: health endpoint\n\n## Steps\n1. add health.py\n",
        ),
        say(SPEC, Usage(300, 15, 8100, 0)),
    )
    api.script(
        "You are the builder of AI Developer Workflow",
        call(
            "Write",
            Usage(1800, 200, 5000, 700),
            file_path=str(project / "health.py"),
            content='def health() -> str:\n    return "ok"\n',
        ),
        say("Added health.py.", Usage(60, 25, 5900, 0)),
    )


def test_adw_phase_spans_parent_claude_codes_spans(
    sessions: Sessions, api: FakeAPI, phoenix: str, python_project: Path
) -> None:
    """``adw_plan_build.py`` with the real CLI, the user's Claude Code telemetry variables set
    and one endpoint for both: one trace, each phase's ``claude_code.interaction`` under the
    phase's ``invoke_agent`` span."""
    project = python_project  # named demo: the workflow's Phoenix project is adw-demo
    _script_adw(api, project)
    env = claude_env(
        sessions.home,
        api,
        CLAUDE_CODE_PATH=str(sessions.cli.path),
        OTEL_EXPORTER_OTLP_ENDPOINT=phoenix,
        # Claude Code's resource has no Phoenix project of its own: this puts both in one.
        OTEL_RESOURCE_ATTRIBUTES="openinference.project.name=adw-demo",
        **CLAUDE_TRACES,
    )

    proc = subprocess.run(
        ["uv", "run", "adws/adw_plan_build.py", "Add a health endpoint", "--adw-id", ADW_ID],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning: telemetry" not in proc.stderr
    phases = {
        json.loads(meta)["phase"]: json.loads(meta)
        for (meta,) in db_rows(
            project,
            "SELECT metadata FROM agents WHERE json_extract(metadata, '$.adw_id') = ?",
            ADW_ID,
        )
    }
    assert set(phases) == {"plan", "build"}
    (trace_id,) = {meta["trace_id"] for meta in phases.values()}
    # Ours: root, two phases, two tool spans; Claude Code's: per phase an interaction, a tool,
    # an llm_request per model request.
    spans = phoenix_spans(phoenix, "adw-demo", trace_id, 5 + 2 * 2 + len(api.exchanges))
    by_id = {s["context"]["span_id"]: s for s in spans}
    interactions = [s for s in spans if s["name"] == INTERACTION]
    assert sorted(by_id[s["parent_id"]]["name"] for s in interactions) == [
        "invoke_agent build",
        "invoke_agent plan",
    ]
    for phase, meta in phases.items():
        (interaction,) = [s for s in interactions if s["parent_id"] == meta["span_id"]]
        assert interaction["attributes"]["parent.source"] == "env"
        below = [
            s["attributes"]["tool_name"]
            for s in spans
            if s["name"] == "claude_code.tool"
            and s["parent_id"] == interaction["context"]["span_id"]
        ]
        assert below == ["Write"], (phase, below)
    assert sum(s["name"] == "claude_code.llm_request" for s in spans) == len(api.exchanges)
