"""Helpers of the telemetry tests: a generated project, its workflow run with the stand-in agent,
its run-log rows, and OTLP endpoints that fail (a closed port, a server that never answers)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.layer.layer_support import run_env, write_project

ADW_ID = "0f0f0f0f"
PHOENIX = "arize-phoenix==20.26.1"
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


@contextmanager
def phoenix_server(work: Path) -> Iterator[str]:
    """Arize Phoenix (``PHOENIX``, through ``uv tool run``) serving on 127.0.0.1 with its data in
    ``work``; yields its URL (OTLP/HTTP at ``/v1/traces``, spans back at ``/v1/projects/...``).
    Fails (never skips) when it cannot start."""
    uv = shutil.which("uv")
    if uv is None:
        raise AssertionError("uv is not on PATH; install it (python3 -m pip install uv)")
    port = free_port()
    with (work / "phoenix.log").open("w") as log:
        proc = subprocess.Popen(
            [uv, "tool", "run", "--from", PHOENIX, "phoenix", "serve"],
            env=run_env(
                PHOENIX_WORKING_DIR=str(work),
                PHOENIX_PORT=str(port),
                PHOENIX_GRPC_PORT=str(free_port()),
                PHOENIX_HOST="127.0.0.1",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_up(proc, f"http://127.0.0.1:{port}", work)
            yield f"http://127.0.0.1:{port}"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_up(proc: subprocess.Popen[bytes], url: str, work: Path) -> None:
    deadline = time.monotonic() + 240  # a cold uv cache downloads Phoenix first
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"phoenix serve exited {proc.returncode}: {_log_tail(work)}")
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).close()
            return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"phoenix serve not up after 240 s: {_log_tail(work)}"
                ) from None
            time.sleep(0.5)


def _log_tail(work: Path) -> str:
    return (work / "phoenix.log").read_text(errors="replace")[-2000:]


def phoenix_spans(url: str, project: str, trace_id: str, count: int) -> list[dict[str, Any]]:
    """The spans of ``trace_id`` in a Phoenix project, once it has ingested ``count`` of them
    (it does so in the background; after 30 s, what it has)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(
                f"{url}/v1/projects/{project}/spans?limit=1000", timeout=5
            ) as response:
                data = json.loads(response.read() or b"null")["data"]
        except urllib.error.HTTPError:
            data = []  # the project appears with its first span
        found = [s for s in data if s["context"]["trace_id"] == trace_id]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.3)
