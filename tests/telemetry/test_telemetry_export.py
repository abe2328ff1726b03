"""adw_telemetry without a receiver: when it is on, what it reads, and that a collector that is
down or never answers costs a run at most the exporter timeout (exit 0, one stderr line).

The trace itself, against a real receiver, is in test_telemetry_phoenix.py. Timing figures are in
benchmarks/bench_telemetry.py; here the bounded work is asserted (the timeout the exporter got and
the one warning line), not the wall clock of a loaded machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from telemetry_support import (
    ADW_ID,
    TASK,
    calls,
    free_port,
    make_project,
    phase_agents,
    run_workflow,
    silent_server,
    telemetry_lines,
)

from tac_bootstrap_cli._adws.adw_modules import adw_telemetry as tel
from tests.layer.layer_support import run_env


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("tel") / "demo")


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "demo"
    shutil.copytree(template, root, symlinks=True)
    return root


def test_off_by_default_and_the_environment_wins_over_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert tel.endpoint({}) is None
    assert tel.endpoint({"telemetry": {"otlp_endpoint": ""}}) is None
    config = {"telemetry": {"otlp_endpoint": "http://cfg:4318/"}}
    assert tel.endpoint(config) == "http://cfg:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318")
    assert tel.endpoint(config) == "http://base:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://full:1234/custom")
    assert tel.endpoint(config) == "http://full:1234/custom"  # the signal URL is used as it is


def test_timeout_defaults_to_two_seconds_and_reads_the_sdk_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tel.timeout_seconds() == 2.0
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5")
    assert tel.timeout_seconds() == 5.0
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0.5")
    assert tel.timeout_seconds() == 0.5
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "soon")
    assert tel.timeout_seconds() == 2.0
    assert "not a number of seconds" in capsys.readouterr().err


def test_tool_calls_pair_hook_rows_by_tool_use_id() -> None:
    def row(at: str, **meta: object) -> tuple[str, str]:
        return f"2026-01-01T00:00:{at}+00:00", json.dumps(meta)

    calls_ = tel.tool_calls(
        [
            row("01.000000", hook_event="PreToolUse", tool_name="Read", tool_use_id="a"),
            row("01.500000", hook_event="PreToolUse", tool_name="Read", tool_use_id="b"),
            row("02.000000", hook_event="PostToolUse", tool_name="Read", tool_use_id="b"),
            row("03.250000", hook_event="PostToolUseFailure", tool_name="Read", tool_use_id="a"),
            row(
                "04.000000",
                hook_event="PreToolUse",
                tool_name="Bash",
                blocked=True,
                block_reason="no",
            ),
            row("05.000000", hook_event="PostToolUse", tool_name="Glob"),  # no start recorded
            row("06.000000", hook_event="Stop"),  # not a tool event
        ]
    )
    second = tel.ns_of("2026-01-01T00:00:01+00:00")
    shape = [
        (c.name, c.call_id, c.start_ns - second, c.end_ns - second, c.blocked, c.failed)
        for c in calls_
    ]
    assert shape == [
        ("Read", "a", 0, 2_250_000_000, False, True),
        ("Read", "b", 500_000_000, 1_000_000_000, False, False),
        ("Bash", None, 3_000_000_000, 3_000_000_000, True, False),
        ("Glob", None, 4_000_000_000, 4_000_000_000, False, False),
    ]
    assert calls_[2].block_reason == "no"


def test_off_the_workflow_imports_no_opentelemetry_module(project: Path) -> None:
    probe = (
        "import sys; sys.path.insert(0, 'adws')\n"
        "from adw_modules.workflow_ops import run_workflow\n"
        f"code = run_workflow('plan', ['plan'], [{TASK!r}, '--adw-id', {ADW_ID!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'opentelemetry')\n"
        "print('RESULT', code, loaded)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project,
        env=run_env(
            CLAUDE_CODE_PATH=str(project / "adws" / "adw_tests" / "fake_claude.py"),
            FAKE_CLAUDE_LOG=str(project / "calls.jsonl"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "RESULT 0 []" in proc.stdout, proc.stdout + proc.stderr
    assert [c["traceparent"] for c in calls(project)] == [None]
    assert "trace_id" not in json.loads(phase_agents(project)["plan"]["metadata"])
    assert telemetry_lines(proc.stderr) == []


def _check_bounded_failure(project: Path, proc: subprocess.CompletedProcess[str]) -> None:
    """Exit 0, one stderr line naming the lost spans and the 1 s bound; the run fully logged."""
    assert proc.returncode == 0, proc.stderr
    (line,) = telemetry_lines(proc.stderr)
    assert "spans not delivered to http://127.0.0.1:" in line, line
    assert "(timeout 1 s)" in line, line
    agents = phase_agents(project)
    assert {r["status"] for r in agents.values()} == {"completed"}
    # The phases were traced all the same: their ids are in the run log and the agent got them.
    metas = [json.loads(agents[p]["metadata"]) for p in ("plan", "build")]
    parents = [c["traceparent"] for c in calls(project)]
    assert parents == [f"00-{m['trace_id']}-{m['span_id']}-01" for m in metas]


def test_a_closed_port_costs_at_most_the_timeout_and_exits_0(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc = run_workflow(project, OTEL_EXPORTER_OTLP_ENDPOINT=url, OTEL_EXPORTER_OTLP_TIMEOUT="1")
    _check_bounded_failure(project, proc)
    (line,) = telemetry_lines(proc.stderr)
    assert line.split(" spans not delivered")[0].endswith("7 of 7"), line  # 1 + 2 x (1 + 2 tools)


def test_a_server_that_never_answers_costs_at_most_the_timeout(project: Path) -> None:
    with silent_server() as url:
        proc = run_workflow(
            project, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=url + "/v1/traces",
            OTEL_EXPORTER_OTLP_TRACES_TIMEOUT="1",
        )  # fmt: skip
    _check_bounded_failure(project, proc)


def test_finish_waits_for_delivery_at_most_the_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bound by construction: the processor's shutdown (which delivers, and may wait 30 s)
    runs in a daemon thread that ``finish`` joins once, for the configured timeout; a delivery
    that never returns is left behind. Asserted on the join, not on a clock."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1.5")
    trace = tel._OtelTrace(
        "http://127.0.0.1:9/v1/traces", workflow="w", adw_id=ADW_ID, task=TASK, project="demo"
    )
    never = threading.Event()  # a collector that never answers: shutdown blocks until released
    monkeypatch.setattr(trace.processor, "shutdown", never.wait)
    joins: list[tuple[str, float | None]] = []
    real_join = threading.Thread.join

    def join(self: threading.Thread, timeout: float | None = None) -> None:
        joins.append((getattr(self._target, "__name__", "?"), timeout))  # type: ignore[attr-defined]
        real_join(self, 0)  # waiting would only cost the test the time

    monkeypatch.setattr(threading.Thread, "join", join)
    try:
        trace.finish(branch="b")
    finally:
        never.set()
    assert joins == [("wait", 1.5)]
    (line,) = telemetry_lines(capsys.readouterr().err)
    assert "1 of 1 spans not delivered" in line and "(timeout 1.5 s)" in line, line
