"""After `init --framework X`, the framework skeleton's own commands (as config.yml writes them)
pass at the project root: install, test and lint pass, format passes and changes nothing, the first
stand-in-agent SDLC run passes every phase, and the run command serves the greeting over HTTP.

Slow: real toolchains, real servers, packages from the registries (PyPI, npm). One package manager
per language (uv, npm); the others' commands are the same scripts and tools (`test_skeletons.py`
checks each names what the skeleton has). A stack whose toolchain is missing here is skipped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tac_bootstrap_cli import scaffold

from .test_skeleton_runs import check, env_for, need, sdlc_passes_every_phase, sh, sources

pytestmark = pytest.mark.slow

CASES = [
    ("python", "fastapi", "uv"),
    ("python", "flask", "uv"),
    ("python", "django", "uv"),
    ("javascript", "express", "npm"),
    ("typescript", "express", "npm"),
    ("javascript", "react", "npm"),
    ("typescript", "react", "npm"),
    ("javascript", "nextjs", "npm"),
    ("typescript", "nextjs", "npm"),
]
GREETING = "Hello, world!"
# npm without its audit, funding and update round trips, and packages from its cache without asking
# the registry whether they changed (Next.js alone is ~330 MB); Next.js without telemetry.
QUIET = {
    "NPM_CONFIG_AUDIT": "false",
    "NPM_CONFIG_FUND": "false",
    "NPM_CONFIG_UPDATE_NOTIFIER": "false",
    "NPM_CONFIG_PREFER_OFFLINE": "true",
    "NEXT_TELEMETRY_DISABLED": "1",
}
# How long a dev server may take to answer its first request (Next.js compiles the page then).
SERVE_TIMEOUT = 120


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def served(framework: str, language: str, port: int) -> tuple[str, dict[str, str], list[str]]:
    """What the run command needs to serve on ``port`` (arguments after it, environment), and the
    paths to GET: the last one holds the greeting (Vite serves React's component as a module;
    the page itself is filled in by the browser)."""
    if framework in ("fastapi", "flask"):
        return f" --port {port}", {}, ["/"]
    if framework == "django":
        return f" 127.0.0.1:{port}", {}, ["/"]
    if framework == "express":
        return "", {"PORT": str(port)}, ["/"]
    if framework == "react":  # Vite listens on `localhost`, which may be ::1 only
        app = "/src/App.jsx" if language == "javascript" else "/src/App.tsx"
        return f" -- --host 127.0.0.1 --port {port} --strictPort", {}, ["/", app]
    return f" -- --port {port}", {}, ["/"]


def get(url: str) -> str | None:
    """The body of a 200 answer, None while nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return str(response.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def run_serves_the_greeting(
    root: Path, command: str, env: dict[str, str], framework: str, language: str
) -> None:
    """The run command, started in the background on a free port: every path answers 200, the
    last with the greeting; then the whole process group (reloaders, workers) is stopped."""
    port = free_port()
    args, extra, paths = served(framework, language, port)
    log = root.parent / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command + args, shell=True, cwd=root, env={**env, **extra}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        body = None
        while body is None and proc.poll() is None and time.monotonic() < deadline:
            body = get(f"http://127.0.0.1:{port}{paths[0]}")
            if body is None:
                time.sleep(0.25)
        output = log.read_text(errors="replace")
        assert body is not None, f"run: `{command + args}` never answered:\n{output}"
        for path in paths[1:]:
            body = get(f"http://127.0.0.1:{port}{path}")
            assert body is not None, f"run: GET {path} failed:\n{output}"
        assert GREETING in body, body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.mark.parametrize(("language", "framework", "pm"), CASES)
def test_framework_commands_the_sdlc_and_the_server_work_after_init(
    tmp_path: Path, language: str, framework: str, pm: str
) -> None:
    """A new user's first steps with a framework: install, test, lint, format, the first SDLC
    run, then the server."""
    need(language, pm)
    answers = scaffold.Answers(language=language, framework=framework, package_manager=pm)
    result = scaffold.init_project("my-app", tmp_path, answers=answers)
    assert not [n for n in result.notes if "no application skeleton" in n], result.notes
    root = tmp_path / "my-app"
    data = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))
    cmds = {k: str(v) for k, v in data["commands"].items()}
    env = env_for(root, **QUIET)
    for name in ("install", "test", "lint"):
        check(sh(cmds[name], root, env), f"{name}: {cmds[name]}")
    before = sources(root)
    check(sh(cmds["format"], root, env), f"format: {cmds['format']}")
    after = sources(root)
    assert after == before, sorted(p for p in after if after[p] != before.get(p))
    sdlc_passes_every_phase(root, cmds, env)
    run_serves_the_greeting(root, cmds["run"], env, framework, language)
