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
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench_hooks import render
from benchlib import PY, Report, Sample, interleave, isolated_env, ms, run_process

from tac_bootstrap_cli._adws.adw_modules import adw_telemetry
from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import connect, init_schema

TARGET = 0.05


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver stand-in: reads the request, answers 200 with an empty body."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report = Report("bench_telemetry", f"{args.events} tool calls per attempt")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        base = Path(tmp)
        root = render(base / "project")
        env = isolated_env(
            base, CLAUDE_PROJECT_DIR=str(root), PATH=f"{Path(PY).parent}:/usr/bin:/bin"
        )
        db = base / "trace.db"
        agent, start = make_db(db, args.events)
        begin = adw_telemetry.ns_of(start.isoformat())
        window = (begin, begin + (args.events + 5) * 1_000_000)
        attempts = interleave(
            {
                "attempt, export off": lambda _i: one_attempt(db, agent, None, window),
                "attempt, export on (+ finish)": lambda _i: one_attempt(db, agent, url, window),
            },
            args.rounds,
        )
        hooks = interleave({"one PostToolUse hook process": lambda _i: hook_event(root, env)}, 10)
    server.shutdown()
    report.section("per attempt")
    for samples in attempts.values():
        report.figure(samples.name, samples)
    report.figure("one recorded event (hook process)", hooks["one PostToolUse hook process"])
    off, on = attempts["attempt, export off"], attempts["attempt, export on (+ finish)"]
    per_event = max(on.wall - off.wall, 0.0) / args.events
    per_event_cpu = max(on.cpu - off.cpu, 0.0) / args.events
    event_cost = hooks["one PostToolUse hook process"].wall
    report.line(
        f"export adds {ms(per_event)} wall, {ms(per_event_cpu)} CPU per tool event"
        f" (one event costs {ms(event_cost)} recorded)"
    )
    report.section("target")
    report.target(
        "export on: added cost per event / cost of a recorded event",
        per_event / event_cost * 100,
        TARGET * 100,
        unit="%",
    )
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
