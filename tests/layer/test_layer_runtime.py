"""The generated layer runs: hook commands as Claude Code runs them, the generated test suite, and
the issue's end-to-end scenario (init, git init, plan_build with a fake claude, the guard hook).

Hooks run on the system python3 (standard library only); some tests take the uv fallback and the
generated suite starts uv environments, so they are slow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from layer_support import rendered, run_env, write_project

pytestmark = pytest.mark.slow

BASH = shutil.which("bash") or "/bin/bash"
SESSION = "5d1f9a7e-2c3b-4d5e-8f90-a1b2c3d4e5f6"
BENIGN: dict[str, dict[str, Any]] = {
    "PreToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls -la"}},
    "PostToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_response": {}},
    "UserPromptSubmit": {"prompt": "hello"},
    "Notification": {"message": "Claude is waiting for your input"},
    "Stop": {"stop_hook_active": False},
    "SubagentStop": {"stop_hook_active": False},
    "PreCompact": {"trigger": "auto", "custom_instructions": ""},
    "SessionStart": {"source": "startup"},
    "SessionEnd": {"reason": "other"},
}


def event(name: str, root: Path, **fields: Any) -> str:
    """A hook event as Claude Code sends it on stdin."""
    base = {
        "session_id": SESSION,
        "transcript_path": str(root / "transcript.jsonl"),
        "cwd": str(root),
        "permission_mode": "default",
        "hook_event_name": name,
    }
    return json.dumps({**base, **BENIGN[name], **fields})


def settings_commands(root: Path) -> dict[str, str]:
    """Event name -> the shell command .claude/settings.json registers for it."""
    data = json.loads((root / ".claude" / "settings.json").read_text())
    return {name: entries[0]["hooks"][0]["command"] for name, entries in data["hooks"].items()}


def run_hook_command(
    command: str, root: Path, stdin: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a hook command the way Claude Code does: a shell, $CLAUDE_PROJECT_DIR set."""
    return subprocess.run(
        [BASH, "-c", command],
        cwd=root,
        input=stdin,
        env=run_env(CLAUDE_PROJECT_DIR=str(root), **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Query a run-log database."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.mark.usefixtures("uv")
@pytest.mark.parametrize("stack", ["go", "python-uv"])
def test_every_settings_hook_command_runs_and_the_guard_blocks(stack: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", stack)
    # A broken project environment must not matter: hooks never touch the project's environment.
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\ndependencies = ["no-such-package-tac-xyz==9"]\n'
    )
    commands = settings_commands(root)
    for name, command in commands.items():
        proc = run_hook_command(command, root, event(name, root))
        assert proc.returncode == 0, (name, proc.stderr)
        assert proc.stdout == "" and proc.stderr == "", (name, proc.stdout, proc.stderr)
    db = root / "agents" / "orchestrator.db"
    logged = [m for (m,) in rows(db, "SELECT message FROM agent_logs")]
    assert sorted(m.split(":")[0] for m in logged) == sorted(commands)  # one row per event
    assert rows(db, "SELECT name, status FROM agents") == [("claude-session", "completed")]
    blocked = run_hook_command(
        commands["PreToolUse"],
        root,
        event("PreToolUse", root, tool_input={"command": "rm -rf /"}),
    )
    assert blocked.returncode == 2, blocked.stderr  # the shell command keeps the hook's exit 2
    assert "BLOCKED" in blocked.stderr


def fake_bin(folder: Path, **scripts: str) -> Path:
    """A folder of executables (name -> shell body) to put first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f"#!{BASH}\n{body}\n")
        path.chmod(0o755)
    return folder


# A python3 older than the hooks need: it runs run.sh's bootstrap with version_info 3.8.
OLD_PYTHON = (
    f'exec {sys.executable} -S -c \'import sys; sys.version_info = (3, 8, 0, "final", 0);'
    ' code = sys.argv[1]; sys.argv[:] = ["-c", *sys.argv[2:]]; exec(code)\' "${@:3}"'
)
UV_BROKEN = "echo 'error: Failed to initialize cache at /proc/nocache' >&2; exit 2"


@pytest.mark.usefixtures("uv")
def test_an_old_python3_hands_every_hook_to_uv(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", "go")
    bin_dir = fake_bin(tmp_path / "bin", python3=OLD_PYTHON)
    path = f"{bin_dir}:{os.environ['PATH']}"
    commands = settings_commands(root)
    for name, command in commands.items():
        proc = run_hook_command(command, root, event(name, root), PATH=path)
        assert proc.returncode == 0, (name, proc.stderr)
    db = root / "agents" / "orchestrator.db"
    assert rows(db, "SELECT count(*) FROM agent_logs") == [(len(commands),)]
    payload = event("PreToolUse", root, tool_input={"command": "rm -rf ../project"})
    blocked = run_hook_command(commands["PreToolUse"], root, payload, PATH=path)
    assert blocked.returncode == 2 and "BLOCKED" in blocked.stderr


def test_a_failing_uv_never_blocks_and_the_guard_fails_closed(tmp_path: Path) -> None:
    """uv exits 2 on its own errors: only the guard may pass a 2 through (failing closed)."""
    root = write_project(tmp_path / "project", "go")
    bin_dir = fake_bin(tmp_path / "bin", uv=UV_BROKEN, python3=OLD_PYTHON)
    path = f"{bin_dir}:{os.environ['PATH']}"
    commands = settings_commands(root)
    for name, command in commands.items():
        if name == "PreToolUse":
            continue
        proc = run_hook_command(command, root, event(name, root), PATH=path)
        assert proc.returncode == 1, (name, proc.stderr)  # a non-blocking error, message shown
        assert "Failed to initialize cache" in proc.stderr
    guard = run_hook_command(commands["PreToolUse"], root, event("PreToolUse", root), PATH=path)
    assert guard.returncode == 2 and "Failed to initialize cache" in guard.stderr
    # With a working python3, uv is never asked: a broken uv changes nothing.
    ok_path = f"{fake_bin(tmp_path / 'uv-only', uv=UV_BROKEN)}:{os.environ['PATH']}"
    for name, command in commands.items():
        proc = run_hook_command(command, root, event(name, root), PATH=ok_path)
        assert proc.returncode == 0, (name, proc.stderr)


def test_without_uv_every_hook_works_under_a_bare_python3(tmp_path: Path) -> None:
    """The system python3 without site-packages (no pydantic, no PyYAML) and no uv anywhere."""
    root = write_project(tmp_path / "project", "go")
    bin_dir = fake_bin(tmp_path / "bin", python3=f'exec {sys.executable} -S "$@"')
    bare_path = f"{bin_dir}:/usr/bin:/bin"
    assert not any(Path(d, "uv").exists() for d in bare_path.split(":"))
    commands = settings_commands(root)
    for name, command in commands.items():
        proc = run_hook_command(command, root, event(name, root), PATH=bare_path)
        assert proc.returncode == 0 and proc.stderr == "", (name, proc.stderr)
    payload = event("PreToolUse", root, tool_input={"command": "rm -rf /"})
    guard = run_hook_command(commands["PreToolUse"], root, payload, PATH=bare_path)
    assert guard.returncode == 2 and "BLOCKED" in guard.stderr
    db = root / "agents" / "orchestrator.db"
    logged = rows(db, "SELECT message, metadata FROM agent_logs ORDER BY created_at")
    assert len(logged) == len(commands) + 1
    assert logged[-1][0] == "PreToolUse: Bash rm -rf /"
    assert json.loads(logged[-1][1])["blocked"] is True


def test_without_a_usable_python3_and_uv_the_guard_blocks_and_others_report(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path / "project", "go")
    commands = settings_commands(root)
    old_only = str(fake_bin(tmp_path / "old", python3=OLD_PYTHON))
    for path in (str(fake_bin(tmp_path / "empty")), old_only):
        guard = run_hook_command(commands["PreToolUse"], root, event("PreToolUse", root), PATH=path)
        assert guard.returncode == 2 and "needs python3 >= 3.11 or uv" in guard.stderr, path
        stop = run_hook_command(commands["Stop"], root, event("Stop", root), PATH=path)
        assert stop.returncode == 1 and "needs python3 >= 3.11 or uv" in stop.stderr, path


def test_the_guard_fails_closed_when_it_cannot_run(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", "go")
    commands = settings_commands(root)
    guard = commands["PreToolUse"]
    # A python3 that dies before deciding (e.g. macOS's stub without the developer tools).
    broken = fake_bin(
        tmp_path / "broken", python3="echo 'xcrun: error: invalid developer path' >&2; exit 1"
    )
    proc = run_hook_command(guard, root, event("PreToolUse", root), PATH=str(broken))
    assert proc.returncode == 2
    assert "could not run with python3 (exit 1)" in proc.stderr
    stop = run_hook_command(commands["Stop"], root, event("Stop", root), PATH=str(broken))
    assert stop.returncode == 1 and "failed with python3 (exit 1)" in stop.stderr
    # A guard script that crashes after reading the event blocks too; other hooks never do.
    hooks_dir = root / ".claude" / "hooks"
    (hooks_dir / "_hook_support.py").write_text("raise RuntimeError('broken install')\n")
    proc = run_hook_command(guard, root, event("PreToolUse", root))
    assert proc.returncode == 2 and "broken install" in proc.stderr
    stop = run_hook_command(commands["Stop"], root, event("Stop", root))
    assert stop.returncode == 1 and "broken install" in stop.stderr
    # Neither python3 nor uv: nothing can check the command, so it does not run.
    empty = fake_bin(tmp_path / "empty")
    proc = run_hook_command(guard, root, event("PreToolUse", root), PATH=str(empty))
    assert proc.returncode == 2 and "needs python3 >= 3.11 or uv" in proc.stderr


def test_generated_suite_passes_in_a_python_uv_project(tmp_path: Path, uv: str) -> None:
    root = write_project(tmp_path / "project", "python-uv")
    proc = subprocess.run(
        [uv, "run", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root / "adws",
        env=run_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def _cli_has_init() -> bool:
    import typer

    from tac_bootstrap_cli.cli import app

    return "init" in getattr(typer.main.get_command(app), "commands", {})


def init_demo(tmp_path: Path) -> Path:
    """`tac-bootstrap init demo --yes` when the CLI has it, else the same files from the engine."""
    if _cli_has_init():
        proc = subprocess.run(
            # the layer alone: these scenarios are about a project with no application yet
            [sys.executable, "-m", "tac_bootstrap_cli", "init", "demo", "--yes", "--layer-only"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        root = tmp_path / "demo"
    else:
        root = write_project(tmp_path / "demo", "python-uv", delay_seconds=None)
    config_file = root / "config.yml"
    config = yaml.safe_load(config_file.read_text())
    assert config["workflows"]["on_failure"]["retries"] == 2  # the documented default
    config["workflows"]["on_failure"]["delay_seconds"] = 0  # keep the retry test fast
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def test_end_to_end_scenario(tmp_path: Path, uv: str) -> None:
    root = init_demo(tmp_path)
    assert {".claude/settings.json", "adws/adw_plan_build.py"} <= set(rendered("python-uv"))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    fake = root / "adws" / "adw_tests" / "fake_claude.py"
    assert os.access(fake, os.X_OK)
    env = run_env(CLAUDE_CODE_PATH=str(fake))

    def workflow(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [uv, "run", "adws/adw_plan_build.py", *args],
            cwd=root,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    ok = workflow("Add a health endpoint")
    assert ok.returncode == 0, ok.stderr
    db = root / "agents" / "orchestrator.db"
    agents = rows(
        db,
        "SELECT a.id, a.name, a.status FROM agents a JOIN orchestrator_agents o"
        " ON o.id = a.orchestrator_agent_id WHERE o.name = 'adw' ORDER BY a.created_at",
    )
    assert [(name, status) for _, name, status in agents] == [
        ("planner", "completed"),
        ("builder", "completed"),
    ]
    for agent_id, _, _ in agents:
        assert rows(
            db,
            "SELECT tokens_input, tokens_output, cost_usd FROM prompts WHERE agent_id = ?",
            agent_id,
        ) == [(1200, 340, 0.0123)]
        types = {
            t for (t,) in rows(db, "SELECT log_type FROM agent_logs WHERE agent_id = ?", agent_id)
        }
        assert {"step_start", "step_end", "event"} <= types
    assert list((root / "specs").glob("*-add-a-health-endpoint.md"))

    failing = workflow("Add a metrics endpoint", FAKE_CLAUDE_FAIL="1")
    assert failing.returncode != 0
    (failed_id,) = rows(db, "SELECT id FROM agents WHERE status = 'failed'")[0]
    assert rows(db, "SELECT count(*) FROM prompts WHERE agent_id = ?", failed_id) == [(3,)]
    assert rows(
        db, "SELECT count(*) FROM agent_logs WHERE agent_id = ? AND log_type = 'error'", failed_id
    ) == [(1,)]

    hook = root / ".claude" / "hooks" / "pre_tool_use.py"
    before = rows(db, "SELECT count(*) FROM agent_logs")[0][0]

    def pipe(command: str) -> subprocess.CompletedProcess[str]:
        payload = event("PreToolUse", root, tool_input={"command": command})
        return subprocess.run(
            [str(hook)], cwd=root, input=payload, env=env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip

    assert pipe("rm -rf /").returncode == 2
    harmless = pipe("ls -la")
    assert harmless.returncode == 0, harmless.stderr
    assert rows(db, "SELECT count(*) FROM agent_logs")[0][0] == before + 2  # blocked one too
    assert shutil.which("git")


def test_sdlc_on_a_fresh_project_says_what_is_missing(tmp_path: Path, uv: str) -> None:
    """A freshly initialised Python/uv project in a git repository without an identity: the run
    names its branch on stdout, warns that git refused the commit (and how to fix it), and its
    test phase stops at once saying the project has no pyproject.toml yet (no retries)."""
    root = init_demo(tmp_path)
    no_identity = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env = {
        k: v
        for k, v in run_env(CLAUDE_CODE_PATH=str(root / "adws/adw_tests/fake_claude.py")).items()
        if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_")) and k != "EMAIL"
    }
    env.update(no_identity)
    for args in (["-c", "init.defaultBranch=main", "init", "-q"],
                 ["symbolic-ref", "HEAD", "refs/heads/main"],
                 ["config", "user.useConfigOnly", "true"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=root, env=env, check=True)

    def script(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [uv, "run", "--quiet", *args], cwd=root, env=env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip

    proc = script("adws/adw_sdlc.py", "Add a health endpoint")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert re.fullmatch(
        r"branch: adw-([0-9a-f]{8})-add-a-health-endpoint \(from main; back: git switch main\)",
        first,
    ), first
    adw_id = first.split("-")[1]
    branch = subprocess.run(
        ["git", "symbolic-ref", "--short", "HEAD"], cwd=root, env=env, capture_output=True,
        text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert branch == first.split()[1]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: ADW {adw_id}: build: the changes were not committed (git: Author identity"
        ' unknown); set a git identity: git config user.email "you@example.com" && git config'
        ' user.name "Your Name" (add --global for every repository), then commit them:'
        " git add -A && git commit"
    ]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: ADW {adw_id} sdlc: test failed: the project has no pyproject.toml yet, which"
        " `uv run pytest` needs (as does `uv sync`, commands.install): create the project first"
        " (e.g. `uv init`), or empty commands.test in config.yml to skip the test phase"
    ]
    assert proc.stderr.count("test: attempt") == 1  # not retried

    unknown = script("adws/adw_status.py", "--adw-id", "nothere")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == "no ADW run 'nothere' (runs: uv run adws/adw_status.py)"
    known = script("adws/adw_status.py", "--adw-id", adw_id)
    assert known.returncode == 0 and "failed" in known.stdout, known.stderr
