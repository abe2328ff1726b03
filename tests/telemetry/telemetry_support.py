"""Helpers of the telemetry tests: a generated project, its workflow run with the stand-in agent,
its run-log rows, and OTLP endpoints that fail (a closed port, a server that never answers)."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.layer.layer_support import run_env, write_project

ADW_ID = "0f0f0f0f"
TASK = "Add a health endpoint"


def make_project(dest: Path) -> Path:
    """A generated Python project (the layer as tac-bootstrap writes it)."""
    return write_project(dest, "python-uv")


def run_workflow(
    root: Path, script: str = "adw_plan_build.py", adw_id: str = ADW_ID, **env: str
) -> subprocess.CompletedProcess[str]:
    """``adws/<script>`` with the stand-in agent (running the project's hooks around its tool
    calls, one of them a Bash call the guard blocks), by this interpreter (it has the
    workflows' dependencies)."""
    return subprocess.run(
        [sys.executable, f"adws/{script}", TASK, "--adw-id", adw_id],
        cwd=root,
        env=run_env(
            CLAUDE_CODE_PATH=str(root / "adws" / "adw_tests" / "fake_claude.py"),
            FAKE_CLAUDE_LOG=str(root / "calls.jsonl"),
            FAKE_CLAUDE_HOOKS="1",
            FAKE_CLAUDE_BASH="cat .env",
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def calls(root: Path) -> list[dict[str, Any]]:
    """The stand-in agent's calls (argv, ADW_AGENT_ID, TRACEPARENT), in order."""
    lines = (root / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def rows(root: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    """Rows of the project's run log."""
    conn = sqlite3.connect(root / "agents" / "orchestrator.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def phase_agents(root: Path, adw_id: str = ADW_ID) -> dict[str, sqlite3.Row]:
    """The run's phase Agent rows, by phase."""
    found = rows(root, "SELECT * FROM agents WHERE json_extract(metadata, '$.adw_id') = ?", adw_id)
    return {json.loads(r["metadata"])["phase"]: r for r in found}


def telemetry_lines(stderr: str) -> list[str]:
    """The lines the telemetry module wrote on stderr."""
    return [line for line in stderr.splitlines() if line.startswith("warning: telemetry:")]


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[str]:
    """An HTTP endpoint that accepts connections and never answers; yields its base URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)  # read nothing, answer nothing

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


SESSION_ID = "5e55-10a1-interactive"


def hook(root: Path, name: str, **event: object) -> subprocess.CompletedProcess[str]:
    """The project's hook ``name`` (``pre_tool_use``, ...) run as Claude Code runs it in an
    interactive session (no ADW_AGENT_ID), with ``event`` on stdin (``session_id`` in it
    overrides ``SESSION_ID``: sessions of one Phoenix server need their own, as the trace id
    derives from it)."""
    event_name = "".join(part.title() for part in name.split("_"))
    payload = {"session_id": SESSION_ID, "hook_event_name": event_name, **event}
    return subprocess.run(
        ["/bin/sh", ".claude/hooks/run.sh", name],
        cwd=root,
        input=json.dumps(payload),
        env=run_env(CLAUDE_PROJECT_DIR=str(root)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tool(
    root: Path,
    name: str,
    call_id: str,
    *,
    end: bool = True,
    session_id: str = SESSION_ID,
    **tool_input: str,
) -> None:
    """A tool call of the interactive session: its PreToolUse and (``end``) PostToolUse."""
    event = {
        "tool_name": name, "tool_use_id": call_id, "tool_input": tool_input,
        "session_id": session_id,
    }  # fmt: skip
    hook(root, "pre_tool_use", **event)
    if end:
        hook(root, "post_tool_use", **event, tool_response="ok")


def export(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``adws/adw_export.py`` by this interpreter (it has the SDK)."""
    return subprocess.run(
        [sys.executable, "adws/adw_export.py", *args],
        cwd=root,
        env=run_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
