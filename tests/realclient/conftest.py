"""The real Claude Code CLI, installed from npm and driven against ``fake_api.FakeAPI``.

The CLI version is pinned in ``package.json`` / ``package-lock.json`` beside this file and installed
with ``npm ci`` into a cache folder keyed by the lock file's hash (a few seconds the first time,
nothing afterwards). ``REALCLIENT_VERSION=latest`` (or any version) runs the suite against that
version instead, installed with ``npm install`` into its own cache folder.

Every session runs with a throwaway HOME, telemetry, non-essential traffic and the auto-updater
off, and ``ANTHROPIC_BASE_URL`` pointing at the scripted server on 127.0.0.1. Without ``npm`` the
tests skip with one line, except in CI (``CI`` set), where they fail: CI must prove them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_api import FakeAPI

HERE = Path(__file__).resolve().parent
PACKAGE = "@anthropic-ai/claude-code"
API_KEY = "sk-ant-api03-realclient-test-key-000000000000"
# Read before the autouse fixture moves HOME: installs and downloads are shared between runs.
_CACHE_ROOT = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tac-bootstrap-realclient"
)
_UV_CACHE = (
    os.environ.get("UV_CACHE_DIR")
    or subprocess.run(
        [shutil.which("uv") or "uv", "cache", "dir"], capture_output=True, text=True, check=False
    ).stdout.strip()
)
# Modes the ADWs and users run in: the default, what the workflows use, and bypass.
MODES = {
    "default": [],
    "acceptEdits": ["--permission-mode", "acceptEdits"],
    "bypass": ["--dangerously-skip-permissions"],
}
STACKS = {
    "python-uv": ("demo", ["--language", "python", "--package-manager", "uv"]),
    "typescript-pnpm": ("web-app", ["--language", "typescript", "--package-manager", "pnpm"]),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives the real CLI: marked ``realclient`` and ``slow``."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.realclient)
            item.add_marker(pytest.mark.slow)


def pinned_version() -> str:
    """The version ``package.json`` pins."""
    return str(json.loads((HERE / "package.json").read_text())["dependencies"][PACKAGE])


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        message = "npm is not installed: the real Claude Code CLI tests cannot run"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run them: .ci/run installs npm)")
        pytest.skip(message)
    return npm


def _binary(folder: Path) -> Path:
    """The CLI of an install; the platform package's binary when the wrapper was not set up."""
    wrapper = folder / "node_modules" / ".bin" / "claude"
    candidates = [wrapper, *sorted((folder / "node_modules" / "@anthropic-ai").glob("*/claude"))]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        probe = subprocess.run(
            [str(candidate), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        if probe.returncode == 0 and "Claude Code" in probe.stdout:
            return candidate
    raise RuntimeError(f"no working claude binary under {folder}")


def install_cli(version: str) -> tuple[Path, str]:
    """Install (once, under a lock) and return the CLI binary and the version it reports."""
    npm = _npm()
    if version in ("", "pinned", pinned_version()):
        lock = (HERE / "package-lock.json").read_bytes()
        folder = _CACHE_ROOT / f"pinned-{hashlib.sha256(lock).hexdigest()[:16]}"
        command = [npm, "ci", "--no-audit", "--no-fund"]
    else:
        folder = _CACHE_ROOT / f"npm-{version}"
        command = [npm, "install", "--no-audit", "--no-fund", f"{PACKAGE}@{version}"]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # xdist workers or two runs install once
        done = folder / ".installed"
        if not done.exists() or version == "latest":
            for name in ("package.json", "package-lock.json"):
                if command[1] == "ci":
                    shutil.copy2(HERE / name, folder / name)
            if command[1] != "ci":
                (folder / "package.json").write_text('{"name": "realclient", "private": true}')
            proc = subprocess.run(
                command, cwd=folder, capture_output=True, text=True, timeout=900, check=False
            )
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout}\n{proc.stderr}")
            done.touch()
    binary = _binary(folder)
    reported = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()[0]
    return binary, reported


@dataclass(frozen=True)
class ClaudeCLI:
    """The installed CLI under test."""

    path: Path
    version: str


@pytest.fixture(scope="session")
def claude_cli() -> ClaudeCLI:
    """The real Claude Code CLI (pinned, or ``$REALCLIENT_VERSION``)."""
    path, version = install_cli(os.environ.get("REALCLIENT_VERSION", "pinned"))
    return ClaudeCLI(path, version)


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A scripted Messages API on 127.0.0.1 for one test."""
    with FakeAPI() as server:
        yield server


@dataclass
class Run:
    """One finished ``claude`` process: exit code, stream-json messages, stderr."""

    returncode: int
    messages: list[dict[str, Any]]
    stderr: str
    stdout: str

    @property
    def init(self) -> dict[str, Any]:
        """The ``system``/``init`` message."""
        return next(m for m in self.messages if m.get("subtype") == "init")

    @property
    def result(self) -> dict[str, Any]:
        """The final ``result`` message."""
        return next(m for m in reversed(self.messages) if m.get("type") == "result")

    def tool_results(self) -> list[dict[str, Any]]:
        """Every ``tool_result`` block Claude Code sent back to the model, in order."""
        found = []
        for message in self.messages:
            content = (message.get("message") or {}).get("content")
            if message.get("type") == "user" and isinstance(content, list):
                found += [b for b in content if b.get("type") == "tool_result"]
        return found

    def hook_outcomes(self) -> list[tuple[str, str]]:
        """``(event, outcome)`` of every hook response in the stream (``--include-hook-events``)."""
        return [
            (str(m.get("hook_event")), str(m.get("outcome")))
            for m in self.messages
            if m.get("subtype") == "hook_response"
        ]


def claude_env(home: Path, api: FakeAPI, **extra: str) -> dict[str, str]:
    """The environment of a Claude Code process: throwaway HOME, the fake API, nothing leaking."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "CLAUDE", "TAC_DB", "ADW_", "OTEL_"))
        and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(
        HOME=str(home),
        ANTHROPIC_BASE_URL=api.url,
        ANTHROPIC_API_KEY=API_KEY,
        DISABLE_TELEMETRY="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_ERROR_REPORTING="1",
        # bypass mode refuses to start as root unless it is told it runs in a sandbox
        IS_SANDBOX="1",
    )
    if _UV_CACHE:
        env["UV_CACHE_DIR"] = _UV_CACHE
    env.update(extra)
    return env


@dataclass
class Sessions:
    """Runs ``claude -p`` in a project as a user (or a workflow) would."""

    cli: ClaudeCLI
    api: FakeAPI
    home: Path

    def run(
        self,
        project: Path,
        prompt: str,
        *args: str,
        mode: str = "default",
        timeout: float = 240,
        **env: str,
    ) -> Run:
        """``claude -p PROMPT --output-format stream-json --verbose --include-hook-events``."""
        command = [
            str(self.cli.path),
            "-p",
            prompt,
            "--output-format",
            "stream-json",
            "--verbose",
            "--include-hook-events",
            *MODES[mode],
            *args,
        ]
        proc = subprocess.run(
            command,
            cwd=project,
            env=claude_env(self.home, self.api, **env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        messages = []
        for line in proc.stdout.splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                messages.append(json.loads(line))
        return Run(proc.returncode, messages, proc.stderr, proc.stdout)

    def trust(self, project: Path) -> None:
        """Mark ``project`` trusted in the throwaway HOME, as the interactive dialog would."""
        config = self.home / ".claude.json"
        data = json.loads(config.read_text()) if config.exists() else {}
        projects = data.setdefault("projects", {})
        projects.setdefault(str(project), {})["hasTrustDialogAccepted"] = True
        data["hasCompletedOnboarding"] = True
        config.write_text(json.dumps(data))


@pytest.fixture
def sessions(claude_cli: ClaudeCLI, api: FakeAPI, tmp_path: Path) -> Sessions:
    """Claude Code sessions against this test's scripted API, with a throwaway HOME."""
    home = tmp_path / "claude-home"
    home.mkdir()
    return Sessions(claude_cli, api, home)


def init_project(parent: Path, stack: str, *extra: str) -> Path:
    """``tac-bootstrap init`` a project of ``stack`` under ``parent``, as a user would, in git."""
    name, options = STACKS[stack]
    cli = Path(sys.executable).with_name("tac-bootstrap")
    proc = subprocess.run(
        [str(cli), "init", name, "-o", str(parent), "--yes", *options, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    project = parent / name
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "config", "user.email", "test@example.com"],
        ["git", "config", "user.name", "Test"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "init"],
    ):
        subprocess.run(command, cwd=project, check=True, capture_output=True)
    return project


@pytest.fixture(params=list(STACKS))
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A freshly initialised project of each stack (never opened interactively: not trusted)."""
    return init_project(tmp_path / "work", str(request.param))


@pytest.fixture
def python_project(tmp_path: Path) -> Path:
    """A freshly initialised Python/uv project."""
    return init_project(tmp_path / "work", "python-uv")


def db_rows(project: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of the project's run log (read-only)."""
    path = project / "agents" / "orchestrator.db"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def hook_event_counts(project: Path, session_id: str | None = None) -> dict[str, int]:
    """How many AgentLog rows each hook event left (of one Claude session, when given)."""
    sql = (
        "SELECT json_extract(l.metadata, '$.hook_event'), count(*) FROM agent_logs l"
        " JOIN agents a ON a.id = l.agent_id WHERE json_extract(l.metadata, '$.hook_event')"
        " IS NOT NULL"
    )
    params: tuple[Any, ...] = ()
    if session_id is not None:
        sql += " AND a.session_id = ?"
        params = (session_id,)
    return dict(db_rows(project, sql + " GROUP BY 1", *params))


def _seed_home(home: Path, project: Path) -> None:
    """What an interactive first run would ask once: onboarding done, key approved, folder trusted."""
    config = home / ".claude.json"
    data = json.loads(config.read_text()) if config.exists() else {}
    data.update(hasCompletedOnboarding=True, theme="dark")
    data["customApiKeyResponses"] = {"approved": [API_KEY[-20:]], "rejected": []}
    data.setdefault("projects", {})[str(project)] = {
        "hasTrustDialogAccepted": True,
        "hasCompletedProjectOnboarding": True,
    }
    config.write_text(json.dumps(data))


class Terminal:
    """A program in a pseudo-terminal, as a person at a terminal runs it."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.screen = bytearray()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the program
            try:
                os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self._status: int | None = None
        self.last_output = time.monotonic()

    def pump(self, seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        """Read what the program shows for up to ``seconds``, or until ``until()``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return
                if chunk:
                    self.screen.extend(chunk)
                    self.last_output = time.monotonic()

    def exited(self) -> bool:
        """True once the program has ended."""
        if self._status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self._status = status
        return self._status is not None

    def wait(self, seconds: float) -> bool:
        """Read the screen until the program ends (True) or ``seconds`` pass (False)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(0.2)
            if self.exited():
                return True
            time.sleep(0.05)  # the terminal may close before the process is reaped
        return False

    def quiet_for(self, seconds: float) -> Callable[[], bool]:
        """A condition: the program has shown something and then nothing for ``seconds``."""
        return lambda: bool(self.screen) and time.monotonic() - self.last_output > seconds

    def type(self, keys: bytes) -> None:
        """Type ``keys``."""
        os.write(self.fd, keys)

    def close(self) -> str:
        """Stop the program if it still runs; what the screen showed, control codes removed."""
        if not self.exited():
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        os.close(self.fd)
        return re.sub(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]", b"", bytes(self.screen)).decode(
            errors="replace"
        )


def _terminal_env(sessions: Sessions) -> dict[str, str]:
    return claude_env(sessions.home, sessions.api, TERM="xterm-256color", COLUMNS="120", LINES="50")


def claude_doctor(sessions: Sessions, project: Path) -> str:
    """What ``claude doctor`` shows for a project. Newer versions print and exit; older ones
    draw an interactive report and wait for a key: both run in a terminal, read until done."""
    sessions.trust(project)
    terminal = Terminal([str(sessions.cli.path), "doctor"], project, _terminal_env(sessions))
    try:
        quiet = terminal.quiet_for(5)
        terminal.pump(120, lambda: terminal.exited() or quiet())
    finally:
        report = terminal.close()
    return report


def interactive_session(
    sessions: Sessions, project: Path, prompt: str, done: Callable[[], bool], timeout: float = 90
) -> str:
    """Run the interactive TUI in a pseudo-terminal: type nothing but the prompt (given on the
    command line), wait until ``done()``, then ``/exit``; returns what the terminal showed."""
    _seed_home(sessions.home, project)
    terminal = Terminal([str(sessions.cli.path), prompt], project, _terminal_env(sessions))
    try:
        terminal.pump(timeout, done)
        terminal.pump(1.0)  # let the turn's Stop hook finish before leaving
        terminal.type(b"/exit\r")
        if not terminal.wait(60):
            raise AssertionError("the interactive session did not exit after /exit")
    finally:
        screen = terminal.close()
    return screen
