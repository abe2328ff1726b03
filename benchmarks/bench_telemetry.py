"""Telemetry benchmark: what OpenTelemetry export adds per recorded tool event, on vs off.

Run: ``uv run python benchmarks/bench_telemetry.py`` (``--events N``, default 400 tool calls per
attempt; ``--rounds R``, default 5). Renders a project (the library API), then:

- off, the cost of one event as it is today: the project's PostToolUse hook as Claude Code runs it
  (the command from ``.claude/settings.json`` through ``sh -c``, the event JSON on stdin; a whole
  process that writes its AgentLog row), median of the rounds;
- on, what export adds per event: a phase attempt (``adw_telemetry``'s ``attempt``) whose window
  holds N hook-recorded tool calls (2 N rows: PreToolUse + PostToolUse, written before the timer
  starts), wrapped by the switched-off trace and by the real one (OTLP/HTTP to a local collector
  stand-in that answers 200), interleaved; the figure is (on - off) / N, with the end-of-run
  flush (``finish``) included, then divided by the off cost of one event.

Target: export on adds under 5% to the cost of a recorded event.

Then whole processes (``--runs R``, default 5, after a warm-up run): the stand-in-agent
``adw_plan_build.py`` of a generated Python project (``CLAUDE_CODE_PATH`` =
``adws/adw_tests/fake_claude.py`` running the project's hooks around its tool calls, one of them a
Bash call the guard blocks, as in tests/telemetry), interleaved four ways, the exporter timeout
``--timeout`` (default 1 s):

- export off;
- export on, a healthy collector: a local OTLP/HTTP stand-in that answers 200 to ``/v1/traces``
  (the same as above; Phoenix would put its own ingestion on the 2 shared cores the benchmark
  measures on). Minus off, it is what export costs a run: importing and setting up the SDK,
  the spans, the delivery;
- export on, a closed port (nothing listens: connection refused);
- export on, a silent server (accepts the connection, reads nothing, never answers).

Target: each failing case takes at most the timeout longer than the healthy-collector case
(a collector that is down or slow costs a run no more than the configured timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchlib import (
    PY,
    Report,
    Sample,
    Samples,
    interleave,
    isolated_env,
    ms,
    run_process,
    write_layer,
)

from tac_bootstrap_cli._adws.adw_modules import adw_telemetry
from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import connect, init_schema

TARGET = 0.05
TASK = "Add a health endpoint"
OFF, HEALTHY = "plan_build, export off", "plan_build, healthy collector (200)"
AGAIN = "the same healthy collector (A/A)"  # a twin of HEALTHY: what noise alone does
CLOSED, SILENT = "closed port", "silent server"
# What the workflow processes must not inherit (a caller's endpoint, trace or run log).
_NOT_INHERITED = ("VIRTUAL_ENV", "TAC_DB_PATH", "ADW_AGENT_ID", "TRACEPARENT")


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver stand-in: reads the request, answers 200 with an empty body."""

    requests = 0  # POSTs answered (all servers of this class)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Run:
    """What ``attempt`` needs of an AgentRun: the Agent id and ``set_metadata``."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id

    def set_metadata(self, **meta: object) -> None:
        pass


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def make_db(path: Path, events: int) -> tuple[str, datetime]:
    """A run log with one Agent and ``events`` tool calls (2 rows each) one second from now."""
    conn = connect(path)
    init_schema(conn)
    now = datetime.now(UTC)
    orchestrator, agent = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = _stamp(now)
    with conn:
        conn.execute(
            "INSERT INTO orchestrator_agents (id, name, status, created_at, updated_at)"
            " VALUES (?, 'adw', 'active', ?, ?)",
            (orchestrator, stamp, stamp),
        )
        conn.execute(
            "INSERT INTO agents (id, orchestrator_agent_id, session_id, name, status, created_at,"
            " started_at) VALUES (?, ?, 's', 'builder', 'running', ?, ?)",
            (agent, orchestrator, stamp, stamp),
        )
    rows = []
    for i in range(events):
        at = now + timedelta(milliseconds=1 + i)
        for event in ("PreToolUse", "PostToolUse"):
            meta = {"hook_event": event, "tool_name": "Read", "tool_use_id": f"toolu_{i}"}
            rows.append((str(uuid.uuid4()), agent, f"{event}: Read", json.dumps(meta), _stamp(at)))
    conn.executemany(
        "INSERT INTO agent_logs (id, agent_id, log_type, message, metadata, created_at)"
        " VALUES (?, ?, 'event', ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    return agent, now


def one_attempt(db: Path, agent: str, url: str | None, window: tuple[int, int]) -> Sample:
    """One attempt over the rows in ``window`` (ns) plus ``finish``, in-process: off, the
    switched-off trace's ``attempt``; on, the attempt span with what ``attempt`` adds after the
    phase (the rows read, a tool span per call) and the bounded flush at the end."""
    began, began_cpu = time.perf_counter(), time.process_time()
    if url is None:
        with adw_telemetry.NO_TRACE.attempt(_Run(agent), "build", 1, db=db):
            pass
        adw_telemetry.NO_TRACE.finish()
    else:
        trace = adw_telemetry._OtelTrace(url, workflow="b", adw_id="0" * 8, task="t", project="b")
        span = trace.tracer.start_span("invoke_agent build", start_time=window[0])
        trace._from_rows(span, agent, db, *window)
        span.end(end_time=window[1])
        trace.finish()
        if trace.exporter.delivered != spans_ended(trace):
            raise SystemExit(f"only {trace.exporter.delivered} spans delivered")
    return Sample(time.perf_counter() - began, time.process_time() - began_cpu)


def spans_ended(trace: adw_telemetry.Trace) -> int:
    """Spans a trace ended (the root, the attempt and its tool spans)."""
    return int(getattr(trace, "ended", 0)) + 1  # + the attempt span ended here


def hook_event(root: Path, env: dict[str, str]) -> Sample:
    """One PostToolUse hook process as Claude Code runs it."""
    settings = json.loads((root / ".claude" / "settings.json").read_text(encoding="utf-8"))
    command = settings["hooks"]["PostToolUse"][0]["hooks"][0]["command"]
    event = {
        "session_id": "bench",
        "hook_event_name": "PostToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": "README.md"},
        "tool_use_id": f"toolu_{uuid.uuid4().hex}",
        "tool_response": "ok",
    }
    script = f"printf %s {json.dumps(json.dumps(event))} | {command}"
    return run_process(["sh", "-c", script], env, cwd=root)


@contextmanager
def silent_server() -> Iterator[str]:
    """An endpoint that accepts connections and never answers; yields its base URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # read nothing, answer nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


def closed_port() -> str:
    """The base URL of a port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def workflow_env(base: Path, root: Path) -> dict[str, str]:
    """The stand-in-agent workflow's environment (tests/telemetry's), export off."""
    env = isolated_env(
        base,
        CLAUDE_CODE_PATH=str(root / "adws" / "adw_tests" / "fake_claude.py"),
        FAKE_CLAUDE_LOG=str(base / "calls.jsonl"),
        FAKE_CLAUDE_HOOKS="1",
        FAKE_CLAUDE_BASH="cat .env",
    )
    return {k: v for k, v in env.items() if not k.startswith("OTEL_") and k not in _NOT_INHERITED}


# Runs an ADW script as ``python SCRIPT ARGS...`` would, timing two methods of the trace on the
# way (the script's own process: only these two calls are wrapped). Each call appends
# "<method> <seconds>" to $BENCH_TIMING: __init__ is the SDK's import and setup, finish the end of
# the run (the root span, the bounded delivery).
TIMED_RUNNER = """\
import os
import runpy
import sys
import time

script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(script))
from adw_modules import adw_telemetry


def timed(name):
    method = getattr(adw_telemetry._OtelTrace, name)

    def wrapper(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            with open(os.environ["BENCH_TIMING"], "a", encoding="utf-8") as f:
                f.write(f"{name} {time.perf_counter() - started}\\n")

    setattr(adw_telemetry._OtelTrace, name, wrapper)


timed("__init__")
timed("finish")
runpy.run_path(script, run_name="__main__")
"""


@dataclass
class Case:
    """One contestant of the whole-workflow comparison: its endpoint and its timing file."""

    name: str
    url: str | None
    timing: Path


def plan_build(root: Path, env: dict[str, str], case: Case, timeout: float, kept: bool) -> Sample:
    """One ``adw_plan_build.py`` process (exit 0 required); export to ``case.url`` when given."""
    env = {**env, "BENCH_TIMING": str(case.timing) if kept else os.devnull}
    if case.url is not None:
        env |= {
            "OTEL_EXPORTER_OTLP_ENDPOINT": case.url,
            "OTEL_EXPORTER_OTLP_TIMEOUT": f"{timeout:g}",
        }
    runner = root.parent / "timed_runner.py"
    if not runner.exists():
        runner.write_text(TIMED_RUNNER, encoding="utf-8")
    adw_id = uuid.uuid4().hex[:8]
    command = [PY, str(runner), "adws/adw_plan_build.py", TASK, "--adw-id", adw_id]
    return run_process(command, env, cwd=root)


def workflows(
    base: Path, healthy: str, runs: int, timeout: float
) -> dict[str, tuple[Case, Samples]]:
    """The four contestants of the whole-process comparison, interleaved."""
    root = write_layer(base / "demo", "demo", "python", "uv")
    env = workflow_env(base, root)
    with silent_server() as silent:
        cases = [
            Case(name, url, base / f"timing-{n}.txt")
            for n, (name, url) in enumerate(
                [
                    (OFF, None),
                    (HEALTHY, healthy),
                    (AGAIN, healthy),
                    (CLOSED, closed_port()),
                    (SILENT, silent),
                ]
            )
        ]
        samples = interleave(
            {c.name: (lambda i, c=c: plan_build(root, env, c, timeout, i > 0)) for c in cases},
            runs,
        )
    return {c.name: (c, samples[c.name]) for c in cases}


def timings(case: Case, method: str) -> list[float]:
    """The seconds the kept runs of ``case`` spent in ``_OtelTrace.<method>``."""
    if not case.timing.exists():
        return []
    lines = case.timing.read_text(encoding="utf-8").split("\n")
    return [float(line.split()[1]) for line in lines if line.startswith(method + " ")]


def paired(failing: Samples, healthy: Samples) -> list[float]:
    """Round-by-round wall differences (the runs of one round met the same machine)."""
    return [f.wall - h.wall for f, h in zip(failing.items, healthy.items, strict=True)]


def report_workflows(report: Report, runs: dict[str, tuple[Case, Samples]], timeout: float) -> None:
    """Medians of the four, the SDK's cost, and each failing case's extra time vs the bound."""
    report.section(f"whole workflow: stand-in-agent plan_build, exporter timeout {timeout:g} s")
    for case, samples in runs.values():
        inner = [
            f"{label} {ms(statistics.median(found))}"
            for label, method in (("SDK setup", "__init__"), ("finish", "finish"))
            if (found := timings(case, method))
        ]
        report.figure(case.name, samples, "; ".join(inner))
    off, healthy = runs[OFF][1], runs[HEALTHY][1]
    report.line(
        f"the SDK's own cost (healthy collector - off): {ms(healthy.wall - off.wall)} wall,"
        f" {ms(healthy.cpu - off.cpu)} CPU"
    )
    # Noise: how far two identical cases land apart, round by round (their median distance).
    noise = statistics.median(abs(d) for d in paired(runs[AGAIN][1], healthy))
    report.line(f"noise (|A/A| paired, median): {ms(noise)}")
    report.section(
        f"target: a failing collector adds at most the timeout ({timeout:g} s) + noise ({ms(noise)})"
    )
    for name in (CLOSED, SILENT):
        extra = paired(runs[name][1], healthy)
        waited = timings(runs[name][0], "finish")
        report.target(
            f"{name} - healthy collector, median of paired runs",
            statistics.median(extra),
            timeout + noise,
            unit="s",
            detail=f"vs the bare {timeout:g} s: {statistics.median(extra) - timeout:+.3f} s;"
            f" rounds {min(extra):.3f}-{max(extra):.3f} s;"
            f" finish() waited max {max(waited, default=0.0):.3f} s",
        )


def per_event(report: Report, base: Path, url: str, events: int, rounds: int) -> None:
    """The per-event figures and their target (see the module docstring)."""
    root = write_layer(base / "project", "bench", "go", "go")
    env = isolated_env(base, CLAUDE_PROJECT_DIR=str(root), PATH=f"{Path(PY).parent}:/usr/bin:/bin")
    db = base / "trace.db"
    agent, start = make_db(db, events)
    begin = adw_telemetry.ns_of(start.isoformat())
    window = (begin, begin + (events + 5) * 1_000_000)
    attempts = interleave(
        {
            "attempt, export off": lambda _i: one_attempt(db, agent, None, window),
            "attempt, export on (+ finish)": lambda _i: one_attempt(db, agent, url, window),
        },
        rounds,
    )
    hooks = interleave({"one PostToolUse hook process": lambda _i: hook_event(root, env)}, 10)
    report.section(f"per attempt ({events} tool calls)")
    for samples in attempts.values():
        report.figure(samples.name, samples)
    report.figure("one recorded event (hook process)", hooks["one PostToolUse hook process"])
    off, on = attempts["attempt, export off"], attempts["attempt, export on (+ finish)"]
    added = max(on.wall - off.wall, 0.0) / events
    added_cpu = max(on.cpu - off.cpu, 0.0) / events
    event_cost = hooks["one PostToolUse hook process"].wall
    report.line(
        f"export adds {ms(added)} wall, {ms(added_cpu)} CPU per tool event"
        f" (one event costs {ms(event_cost)} recorded)"
    )
    report.section("target: export's cost per event")
    report.target(
        "export on: added cost per event / cost of a recorded event",
        added / event_cost * 100,
        TARGET * 100,
        unit="%",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="whole workflow runs per case")
    parser.add_argument("--timeout", type=float, default=1.0, help="exporter timeout, seconds")
    parser.add_argument("--only", choices=("events", "workflow"), help="one part only")
    args = parser.parse_args()
    report = Report("bench_telemetry", f"{args.events} tool calls per attempt; {args.runs} runs")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        if args.only != "workflow":
            per_event(
                report, Path(tmp) / "events", base_url + "/v1/traces", args.events, args.rounds
            )
        if args.only != "events":
            before = _Collector.requests
            runs = workflows(Path(tmp) / "workflow", base_url, args.runs, args.timeout)
            if _Collector.requests - before < args.runs + 1:
                raise SystemExit("the healthy collector did not get every run's trace")
            report_workflows(report, runs, args.timeout)
    server.shutdown()
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
