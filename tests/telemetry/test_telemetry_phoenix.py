"""The trace of a stand-in-agent ``adw_plan_build.py`` run, read back from a real OTLP receiver:
Arize Phoenix from PyPI (pinned), started here on 127.0.0.1 with ``uv tool run``.

Asserted: the span tree (one ``invoke_workflow`` root, an ``invoke_agent`` per phase attempt, an
``execute_tool`` per tool call the hooks recorded, blocked or not), names and attributes, token
and cost totals equal to the ``prompts`` rows, tool span times equal to the hook rows' times, the
phase Agent rows holding the trace and span ids, and the ``TRACEPARENT`` the agent CLI got being
its phase span.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telemetry_support import (
    ADW_ID,
    SESSION_ID,
    calls,
    export,
    hook,
    make_project,
    phase_agents,
    phoenix_server,
    phoenix_spans,
    rows,
    tool,
)
from telemetry_support import run_workflow as run_adw

from tac_bootstrap_cli._adws.adw_modules.adw_telemetry import ns_of

PROJECT = "adw-demo"  # openinference.project.name: adw-<project folder>
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Phoenix server of this module (one per xdist worker that runs it); yields its URL."""
    with phoenix_server(tmp_path_factory.mktemp("phoenix")) as url:
        yield url


def _spans(url: str, trace_id: str, count: int) -> list[dict[str, Any]]:
    """The trace's spans, once Phoenix has ingested ``count`` of them."""
    return phoenix_spans(url, PROJECT, trace_id, count)


def _ns(stamp: str) -> int:
    return ns_of(stamp)


def test_plan_build_trace_in_phoenix(phoenix: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / "demo")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)  # the run makes a branch
    proc = run_adw(project, OTEL_EXPORTER_OTLP_ENDPOINT=phoenix)
    assert proc.returncode == 0, proc.stderr
    assert "warning: telemetry" not in proc.stderr  # everything was delivered
    agents = phase_agents(project)
    metas = {phase: json.loads(row["metadata"]) for phase, row in agents.items()}
    assert set(metas) == {"plan", "build"}
    (trace_id,) = {m["trace_id"] for m in metas.values()}
    spans = _spans(phoenix, trace_id, 7)
    by_id = {s["context"]["span_id"]: s for s in spans}
    names = sorted(s["name"] for s in spans)
    assert names == sorted(
        ["invoke_workflow plan_build"]
        + [f"invoke_agent {p}" for p in ("plan", "build")]
        + ["execute_tool Glob", "execute_tool Bash"] * 2
    )

    (root,) = [s for s in spans if s["parent_id"] is None]
    assert root["name"] == "invoke_workflow plan_build"
    assert root["attributes"]["adw.id"] == ADW_ID
    assert root["attributes"]["adw.task"] == "Add a health endpoint"
    assert root["attributes"]["vcs.branch"] == f"adw-{ADW_ID}-add-a-health-endpoint"
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_workflow"

    # One invoke_agent per phase attempt, under the root; its ids are the Agent row's.
    traceparents = [c["traceparent"] for c in calls(project)]
    for index, (phase, agent) in enumerate(
        zip(("plan", "build"), ("planner", "builder"), strict=True)
    ):
        span = by_id[metas[phase]["span_id"]]
        attrs = span["attributes"]
        assert span["name"] == f"invoke_agent {phase}"
        assert span["parent_id"] == root["context"]["span_id"]
        assert traceparents[index] == f"00-{trace_id}-{metas[phase]['span_id']}-01"
        assert attrs["gen_ai.agent.name"] == agent
        assert attrs["gen_ai.request.model"] == "sonnet"
        assert (attrs["adw.attempt"], attrs["adw.retry"], attrs["adw.status"]) == (
            1,
            0,
            "completed",
        )
        # Token and cost totals equal the prompts rows of that phase.
        (prompt,) = rows(project, "SELECT * FROM prompts WHERE agent_id = ?", agents[phase]["id"])
        cached = prompt["tokens_cache_read"] + prompt["tokens_cache_creation"]
        assert attrs["gen_ai.usage.input_tokens"] == prompt["tokens_input"] + cached
        assert attrs["gen_ai.usage.output_tokens"] == prompt["tokens_output"]
        assert attrs["gen_ai.usage.cache_read.input_tokens"] == prompt["tokens_cache_read"]
        assert attrs["gen_ai.usage.cache_creation.input_tokens"] == prompt["tokens_cache_creation"]
        assert attrs["adw.usage.uncached_input_tokens"] == prompt["tokens_input"]
        assert attrs["adw.cost_usd"] == pytest.approx(prompt["cost_usd"])
        assert attrs["gen_ai.response.model"] == prompt["models"].split(",")[0]

        # One execute_tool per tool call the hooks recorded, at the rows' times.
        tools = {
            s["attributes"]["gen_ai.tool.name"]: s
            for s in spans
            if s["parent_id"] == metas[phase]["span_id"]
        }
        assert set(tools) == {"Glob", "Bash"}
        hooks = rows(
            project,
            "SELECT created_at, metadata FROM agent_logs WHERE agent_id = ?"
            " AND json_extract(metadata, '$.tool_name') IS NOT NULL ORDER BY created_at",
            agents[phase]["id"],
        )
        events = [(json.loads(h["metadata"]), _ns(h["created_at"])) for h in hooks]
        (glob_start,) = [
            t for m, t in events if m["tool_name"] == "Glob" and m["hook_event"] == "PreToolUse"
        ]
        (glob_end,) = [
            t for m, t in events if m["tool_name"] == "Glob" and m["hook_event"] == "PostToolUse"
        ]
        glob = tools["Glob"]
        assert (_ns(glob["start_time"]), _ns(glob["end_time"])) == (glob_start, glob_end)
        assert glob_end > glob_start
        assert glob["attributes"]["adw.tool.blocked"] is False
        bash = tools["Bash"]["attributes"]
        assert bash["adw.tool.blocked"] is True
        assert ".env" in bash["adw.tool.block_reason"]
        assert bash["gen_ai.operation.name"] == "execute_tool"
        # Children lie within their parent.
        assert _ns(span["start_time"]) <= glob_start and glob_end <= _ns(span["end_time"])


def test_interactive_sessions_export_once_each(phoenix: str, tmp_path: Path) -> None:
    """adw_export.py --otlp: one trace per session (trace id = the session Agent's id), a tool
    span per call with the hook rows' times, a blocked call marked, a call still open sent with
    its end by a later export, the root once the session ended; reruns send nothing again."""
    project = make_project(tmp_path / "demo")
    hook(project, "session_start", source="startup")
    tool(project, "Read", "toolu_read", file_path="README.md")
    blocked = hook(
        project, "pre_tool_use", tool_name="Bash", tool_use_id="toolu_bash",
        tool_input={"command": "cat .env"},
    )  # fmt: skip
    assert blocked.returncode == 2, blocked.stderr
    tool(project, "Glob", "toolu_glob", end=False, pattern="*.py")  # still running

    first = export(project, "--otlp", OTEL_EXPORTER_OTLP_ENDPOINT=phoenix)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("export: 2 spans of 1 sessions sent"), first.stdout
    again = export(project, "--otlp", OTEL_EXPORTER_OTLP_ENDPOINT=phoenix)
    assert again.returncode == 0 and "nothing new" in again.stdout, again.stdout + again.stderr

    glob = {"tool_name": "Glob", "tool_use_id": "toolu_glob", "tool_input": {"pattern": "*.py"}}
    hook(project, "post_tool_use", **glob, tool_response="ok")
    hook(project, "session_end", reason="exit")
    second = export(project, "--otlp", OTEL_EXPORTER_OTLP_ENDPOINT=phoenix)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("export: 2 spans of 1 sessions sent"), second.stdout
    assert "nothing new" in export(project, "--otlp", OTEL_EXPORTER_OTLP_ENDPOINT=phoenix).stdout

    (agent,) = rows(project, "SELECT * FROM agents WHERE name = 'claude-session'")
    assert agent["session_id"] == SESSION_ID
    trace_id = agent["id"].replace("-", "")
    spans = _spans(phoenix, trace_id, 4)
    time.sleep(1)  # anything sent twice would have arrived by now
    spans = _spans(phoenix, trace_id, 4)
    assert sorted(s["name"] for s in spans) == sorted(
        ["invoke_agent claude-session"] + [f"execute_tool {t}" for t in ("Read", "Bash", "Glob")]
    )
    (root,) = [s for s in spans if s["parent_id"] is None]
    assert root["attributes"]["session.id"] == SESSION_ID
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    tools = {s["attributes"]["gen_ai.tool.name"]: s for s in spans if s is not root}
    assert {s["parent_id"] for s in tools.values()} == {root["context"]["span_id"]}
    assert tools["Bash"]["attributes"]["adw.tool.blocked"] is True
    events = {
        (m["tool_name"], m["hook_event"]): _ns(r["created_at"])
        for r in rows(project, "SELECT * FROM agent_logs WHERE agent_id = ?", agent["id"])
        if "tool_name" in (m := json.loads(r["metadata"]))
    }
    for name in ("Read", "Glob"):
        span = tools[name]
        assert _ns(span["start_time"]) == events[(name, "PreToolUse")]
        assert _ns(span["end_time"]) == events[(name, "PostToolUse")]
        assert span["attributes"]["gen_ai.tool.call.id"] == f"toolu_{name.lower()}"
    session_end = max(_ns(r["created_at"]) for r in rows(
        project, "SELECT created_at FROM agent_logs WHERE agent_id = ?", agent["id"]
    ))  # fmt: skip
    assert _ns(root["end_time"]) == session_end
    assert _ns(root["start_time"]) <= min(events.values())


def test_a_session_without_session_end_is_closed_once_silent(phoenix: str, tmp_path: Path) -> None:
    """A killed terminal records no SessionEnd: once the session has been silent for
    --stale-after hours, the export sends its root ending at its last event and the call it left
    open with no length, both marked unfinished; a rerun closes nothing again."""
    project = make_project(tmp_path / "demo")
    session = "5e55-10a1-killed"  # its own trace (the other test's session is in this Phoenix)
    hook(project, "session_start", source="startup", session_id=session)
    tool(project, "Read", "toolu_read", session_id=session, file_path="README.md")
    tool(project, "Glob", "toolu_glob", end=False, session_id=session, pattern="*.py")  # killed

    fresh = export(project, "--otlp", OTEL_EXPORTER_OTLP_ENDPOINT=phoenix)  # silent < 24 h
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.startswith("export: 1 spans of 1 sessions sent"), fresh.stdout
    closing = export(project, "--otlp", "--stale-after", "0", OTEL_EXPORTER_OTLP_ENDPOINT=phoenix)
    assert closing.returncode == 0, closing.stderr
    assert closing.stdout.startswith("export: 2 spans of 1 sessions sent"), closing.stdout
    again = export(project, "--otlp", "--stale-after", "0", OTEL_EXPORTER_OTLP_ENDPOINT=phoenix)
    assert "nothing new" in again.stdout, again.stdout + again.stderr

    (agent,) = rows(project, "SELECT * FROM agents WHERE name = 'claude-session'")
    events = rows(
        project, "SELECT created_at, metadata FROM agent_logs WHERE agent_id = ?", agent["id"]
    )
    spans = _spans(phoenix, agent["id"].replace("-", ""), 3)
    assert sorted(s["name"] for s in spans) == sorted(
        ["invoke_agent claude-session", "execute_tool Read", "execute_tool Glob"]
    )
    (root,) = [s for s in spans if s["parent_id"] is None]
    assert root["attributes"]["adw.session.unfinished"] is True
    assert _ns(root["end_time"]) == max(_ns(e["created_at"]) for e in events)
    tools = {s["attributes"]["gen_ai.tool.name"]: s for s in spans if s is not root}
    assert {s["parent_id"] for s in tools.values()} == {root["context"]["span_id"]}
    (glob_start,) = [
        _ns(e["created_at"]) for e in events if '"toolu_glob"' in (e["metadata"] or "")
    ]
    glob = tools["Glob"]
    assert (_ns(glob["start_time"]), _ns(glob["end_time"])) == (glob_start, glob_start)
    assert glob["attributes"]["adw.tool.unfinished"] is True
    assert "adw.tool.unfinished" not in tools["Read"]["attributes"]
