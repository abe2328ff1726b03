"""Helpers of the observatory tests: a run-log database filled through the real repository API,
and the real ``tac-bootstrap observe`` server started in a subprocess on a free port.

A module with its own name (not ``conftest``), as in tests/layer.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run

XSS_SCRIPT = "<script>window.__pwned=1</script>"
XSS_IMG = '"><img src=x onerror="window.__pwned=2">'
HOSTILE = f"echo {XSS_SCRIPT} {XSS_IMG}"
RUN_OK = "a1b2c3d4"
RUN_FAILED = "0badf00d"
RUN_LIVE = "1eaf1eaf"
RUN_STALE = "5ca1ab1e"
SESSION_ID = "session-1234-abcd"
# The build prompt's per-model usage (sums: the prompt's own tokens; costs 0.40 + 0.05 of 0.4567).
BUILD_USAGE = {
    "claude-sonnet-4": {
        "input": 1500,
        "cache_read": 40000,
        "cache_creation": 800,
        "output": 2500,
        "cost_usd": 0.40,
    },
    "claude-haiku-4": {
        "input": 500,
        "cache_read": 10000,
        "cache_creation": 200,
        "output": 500,
        "cost_usd": 0.05,
    },
}


class _At(NamedTuple):
    """Which phase of which run an Agent records."""

    adw_id: str
    workflow: str
    phase: str
    agent: str


def _phase(
    db: Path,
    at: _At,
    *,
    prompts: list[dict[str, Any]],
    tools: list[tuple[str, str, str | None]] = (),  # type: ignore[assignment]
    attempts: int = 1,
    end: Literal["completed", "failed", "open"] = "completed",
) -> str:
    """One phase Agent as workflow_ops.run_phase records it (``end``: how its last attempt ends;
    ``open``: still running); returns its id."""
    adw_id, workflow, phase, agent = at
    fail, finish = end == "failed", end != "open"
    meta = {"adw_id": adw_id, "phase": phase, "workflow": workflow}
    run = start_run(db, agent, orchestrator="adw", model="sonnet", metadata=meta, strict=True)
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        try:
            with run.step(f"{phase} attempt {attempt}", attempt=attempt):
                for name, tool_input, block in tools:
                    extra: dict[str, Any] = (
                        {"blocked": True, "block_reason": block} if block else {}
                    )
                    run.event(
                        f"PreToolUse: {name}",
                        hook_event="PreToolUse",
                        tool_name=name,
                        tool_input=tool_input,
                        **extra,
                    )
                    if not block:
                        run.event(
                            f"PostToolUse: {name}",
                            hook_event="PostToolUse",
                            tool_name=name,
                            tool_input=tool_input,
                            tool_response="ok",
                        )
                for p in prompts:
                    record = run.prompt(**{k: v for k, v in p.items() if k not in ("raw", "usage")})
                    if (p.get("raw") or p.get("usage")) and record is not None:
                        run.event(  # as agent.py records it
                            "prompt metadata",
                            prompt_id=record.id,
                            raw_output=p.get("raw"),
                            model_usage=p.get("usage"),
                        )
                if fail or not last:
                    raise RuntimeError(f"{phase} attempt {attempt} failed")
        except RuntimeError:
            if last and fail:
                run.error(f"{phase} failed after {attempt} attempt(s)")
                run.finish("failed")
                return str(run.agent_id)
    if finish:
        run.finish("completed")
    return str(run.agent_id)


def fill(project: Path) -> Path:
    """A project folder whose ``agents/orchestrator.db`` holds four runs and one session."""
    db = project / "agents" / "orchestrator.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    raw = f"agents/{RUN_OK}/planner/raw_output.jsonl"
    (project / raw).parent.mkdir(parents=True, exist_ok=True)
    (project / raw).write_text('{"type":"result","result":"done"}\n', encoding="utf-8")
    state = project / "agents" / RUN_OK / "adw_state.json"
    state.write_text(
        json.dumps({"adw_id": RUN_OK, "task": "Add a health endpoint", "branch": "adw-a1b2c3d4-x"}),
        encoding="utf-8",
    )
    _phase(
        db,
        _At(RUN_OK, "plan_build", "plan", "planner"),
        prompts=[
            {
                "content": "You are the planner.\n<task>\nAdd a health endpoint\n</task>",
                "response": "specs/a1b2c3d4-add.md",
                "tokens_input": 1200,
                "tokens_cache_read": 30000,
                "tokens_cache_creation": 4000,
                "tokens_output": 800,
                "cost_usd": 0.1234,
                "num_turns": 4,
                "duration_ms": 12000,
                "models": ["claude-sonnet-4"],
                "raw": raw,
            }
        ],
        tools=[("Read", '{"file_path": "README.md"}', None)],
    )
    _phase(
        db,
        _At(RUN_OK, "plan_build", "build", "builder"),
        prompts=[
            {
                "content": "You are the builder.",
                "response": "implemented",
                "tokens_input": 2000,
                "tokens_cache_read": 50000,
                "tokens_cache_creation": 1000,
                "tokens_output": 3000,
                "cost_usd": 0.4567,
                "num_turns": 9,
                "duration_ms": 40000,
                "models": ["claude-sonnet-4", "claude-haiku-4"],
                "usage": BUILD_USAGE,
            }
        ],
        tools=[("Bash", '{"command": "uv run pytest"}', None)],
    )
    _phase(
        db,
        _At(RUN_FAILED, "sdlc", "plan", "planner"),
        prompts=[
            {
                "content": f"You are the planner.\n<task>\n{XSS_SCRIPT} task {XSS_IMG}\n</task>",
                "response": f"I ran {XSS_SCRIPT} {XSS_IMG}",
                "tokens_input": 10,
                "tokens_output": 20,
                "cost_usd": 0.0101,
                "models": ["claude-opus-4"],
                "status": "failed",
            }
        ],
        tools=[
            ("Bash", json.dumps({"command": HOSTILE}), None),
            ("Bash", '{"command": "rm -rf /"}', "recursive rm of / is blocked"),
        ],
        attempts=2,
        end="failed",
    )
    _phase(
        db,
        _At(RUN_LIVE, "plan_build", "plan", "planner"),
        prompts=[],
        end="open",
    )
    _phase(db, _At(RUN_STALE, "plan_build", "plan", "planner"), prompts=[], end="open")
    conn = sqlite3.connect(db)
    with conn:  # the stale run: its process died long ago
        old = "2026-01-01T00:00:00.000000+00:00"
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM agents WHERE json_extract(metadata, '$.adw_id') = ?", (RUN_STALE,)
            )
        ]
        for agent_id in ids:
            conn.execute(
                "UPDATE agents SET created_at = ?, started_at = ? WHERE id = ?",
                (old, old, agent_id),
            )
            conn.execute("UPDATE agent_logs SET created_at = ? WHERE agent_id = ?", (old, agent_id))
    conn.close()
    session = start_run(
        db, "claude-session", orchestrator="claude-code", session_id=SESSION_ID, strict=True
    )
    session.event(
        "PreToolUse: Bash",
        hook_event="PreToolUse",
        tool_name="Bash",
        tool_input=json.dumps({"command": HOSTILE}),
    )
    session.event(
        "PreToolUse: Bash",
        hook_event="PreToolUse",
        tool_name="Bash",
        tool_input='{"command": "cat .env"}',
        blocked=True,
        block_reason=".env files are secret",
    )
    session.finish("completed")
    return db


BIG_RUN = "b16b16b1"


def big_phase(project: Path, events: int, *, adw_id: str = BIG_RUN) -> str:
    """A running build phase of ``events`` tool events (every tenth sharing its predecessor's
    timestamp), framed by a step whose end comes last, with a prompt of two models and its
    ``prompt metadata`` event two thirds in; returns the Agent id. Rows are written in one
    transaction with explicit timestamps (milliseconds apart, from the Agent's start)."""
    import uuid
    from datetime import UTC, datetime, timedelta

    db = project / "agents" / "orchestrator.db"
    meta = {"adw_id": adw_id, "phase": "build", "workflow": "sdlc"}
    run = start_run(db, "builder", orchestrator="adw", model="sonnet", metadata=meta, strict=True)
    agent_id = str(run.agent_id)
    raw = f"agents/{adw_id}/builder/raw_output.jsonl"
    (project / raw).parent.mkdir(parents=True, exist_ok=True)
    (project / raw).write_text('{"type":"result"}\n', encoding="utf-8")
    conn = sqlite3.connect(db, timeout=10)
    # Back-dated: every row is in the past, so events written now come after all of them.
    t0 = datetime.now(UTC) - timedelta(milliseconds=events + 1000)

    def at(ms: int) -> str:
        return (t0 + timedelta(milliseconds=ms)).isoformat(timespec="microseconds")

    def row(log_type: str, message: str, data: dict[str, Any], ms: int) -> tuple[str, ...]:
        return (str(uuid.uuid4()), agent_id, log_type, message, json.dumps(data), at(ms))

    rows = [row("step_start", "build attempt 1", {"attempt": 1}, 1)]
    ms = 1
    for n in range(events):
        ms += 0 if n % 10 == 9 else 1
        tool = {"hook_event": "PreToolUse", "tool_name": "Read", "tool_input": f"file-{n}"}
        rows.append(row("event", f"PreToolUse: Read file-{n}", tool, ms))
        if n == events * 2 // 3:
            prompt_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO prompts (id, agent_id, content, response, status, tokens_input,"
                " tokens_output, cost_usd, created_at, tokens_cache_read, tokens_cache_creation,"
                " num_turns, duration_ms, models) VALUES (?, ?, 'You are the builder.', 'done',"
                " 'completed', 10, 20, 0.5, ?, 0, 0, 3, 1000, 'claude-opus-4,claude-haiku-4')",
                (prompt_id, agent_id, at(ms)),
            )
            usage = {"prompt_id": prompt_id, "raw_output": raw}  # no per-model usage
            rows.append(row("event", "prompt metadata", usage, ms))
    rows.append(row("step_end", "build attempt 1", {"status": "completed"}, ms + 1))
    with conn:
        conn.execute(
            "UPDATE agents SET created_at = ?, started_at = ? WHERE id = ?",
            (at(0), at(0), agent_id),
        )
        conn.executemany("INSERT INTO agent_logs VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return agent_id


def add_event(db: Path, agent_id: str, message: str, **meta: Any) -> None:
    """Write one hook-like event on ``agent_id`` from this process, as a hook does."""
    import uuid
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat(timespec="microseconds")
    with sqlite3.connect(db, timeout=10) as conn:
        conn.execute(
            "INSERT INTO agent_logs (id, agent_id, log_type, message, metadata, created_at)"
            " VALUES (?, ?, 'event', ?, ?, ?)",
            (str(uuid.uuid4()), agent_id, message, json.dumps(meta), now),
        )
    conn.close()


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``tac-bootstrap observe`` process."""

    url: str
    proc: subprocess.Popen[str]

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """GET ``path``: status, headers (lower-case names), body text."""
        request = urllib.request.Request(self.url.rstrip("/") + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return (
                    resp.status,
                    {k.lower(): v for k, v in resp.headers.items()},
                    resp.read().decode(errors="replace"),
                )
        except urllib.error.HTTPError as exc:
            return (
                exc.code,
                {k.lower(): v for k, v in exc.headers.items()},
                exc.read().decode(errors="replace"),
            )

    def json(self, path: str) -> Any:
        """GET ``path`` as JSON (status 200 expected)."""
        status, _, body = self.get(path)
        assert status == 200, (path, status, body)
        return json.loads(body)


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Run ``tac-bootstrap observe ARGS --port <free>`` until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tac_bootstrap_cli", "observe", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise AssertionError(f"observe exited {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
            match = re.match(r"observatory: (http://\S+)", line)
            if match:
                yield Server(match.group(1), proc)
                break
        else:
            raise AssertionError(f"no URL printed in 30 s (last line {line!r})")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def add_prompt(
    db: Path, agent_id: str, content: str, response: str, cost: float, models: str
) -> None:
    """Write one prompt row on ``agent_id`` from this process, as ``agent.py`` does."""
    import uuid
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat(timespec="microseconds")
    with sqlite3.connect(db, timeout=10) as conn:
        conn.execute(
            "INSERT INTO prompts (id, agent_id, content, response, status, tokens_input,"
            " tokens_output, cost_usd, created_at, models) VALUES (?, ?, ?, ?, 'completed', 10, 20,"
            " ?, ?, ?)",
            (str(uuid.uuid4()), agent_id, content, response, cost, now, models),
        )
    conn.close()


def writer_main(db: str, agent_id: str) -> None:
    """``python observe_support.py DB AGENT_ID``: for each stdin line write to the database from
    this separate process (as hooks and workflows do) and answer ``ok`` once it is committed.

    A plain line is one tool event on AGENT_ID (its text as message and tool input); a JSON line
    is ``{"prompt": content, "response", "cost", "models"}`` (a prompt on AGENT_ID),
    ``{"phase": name, "adw_id", "model", "tool_input"}`` (a new phase Agent of that run, with one
    event) or ``{"session": id, "tool_input"}`` (a new interactive session, with one event)."""
    for line in sys.stdin:
        text = line.rstrip("\n")
        order = json.loads(text) if text.startswith("{") else {}
        if "prompt" in order:
            add_prompt(
                Path(db),
                agent_id,
                order["prompt"],
                order.get("response", ""),
                float(order.get("cost", 0.25)),
                order.get("models", "claude-sonnet-4"),
            )
        elif "phase" in order:
            meta = {"adw_id": order["adw_id"], "phase": order["phase"], "workflow": "plan_build"}
            run = start_run(
                db,
                "builder",
                orchestrator="adw",
                model=order.get("model"),
                metadata=meta,
                strict=True,
            )
            run.event("PreToolUse: Bash", hook_event="PreToolUse", tool_name="Bash",
                      tool_input=order["tool_input"])  # fmt: skip
        elif "session" in order:
            run = start_run(
                db, "claude-session", orchestrator="claude-code", session_id=order["session"],
                strict=True,
            )  # fmt: skip
            run.event("PreToolUse: Bash", hook_event="PreToolUse", tool_name="Bash",
                      tool_input=order["tool_input"])  # fmt: skip
        else:
            add_event(
                Path(db), agent_id, text, hook_event="PreToolUse", tool_name="Bash", tool_input=text
            )
        sys.stdout.write("ok\n")
        sys.stdout.flush()


if __name__ == "__main__":
    writer_main(sys.argv[1], sys.argv[2])
