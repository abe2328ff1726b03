"""After `init`, each stack's own commands (as config.yml writes them) pass at the project root.

Slow: real toolchains, real subprocesses, packages from the registries (PyPI, npm). A stack whose
toolchain is missing here is skipped with one line naming the stack and the missing tool; `.ci/run`
installs every one of them, so in CI none is skipped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tac_bootstrap_cli import scaffold
from tac_bootstrap_cli.stacks import LANGUAGES

pytestmark = pytest.mark.slow

# Captured before the autouse fixture moves HOME: toolchains and download caches live there.
REAL_HOME = Path.home()
TOOL_ENV = {
    "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(REAL_HOME / ".rustup")),
    "CARGO_HOME": os.environ.get("CARGO_HOME", str(REAL_HOME / ".cargo")),
    "NPM_CONFIG_CACHE": os.environ.get("NPM_CONFIG_CACHE", str(REAL_HOME / ".npm")),
    "GOPATH": os.environ.get("GOPATH", str(REAL_HOME / "go")),
    "GOCACHE": os.environ.get("GOCACHE", str(REAL_HOME / ".cache" / "go-build")),
}
_uv = shutil.which("uv")
UV_CACHE = os.environ.get("UV_CACHE_DIR") or (
    subprocess.run(
        [_uv, "cache", "dir"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if _uv
    else ""
)

# stack -> the executables its commands need (.ci/run installs the ones a new machine lacks)
TOOLS = {
    ("python", "uv"): ("uv",),
    ("python", "pip"): (),
    ("python", "poetry"): ("poetry",),
    ("python", "pipenv"): ("pipenv",),
    **{(lang, pm): ("node", pm) for lang in ("javascript", "typescript") for pm in LANGUAGES[lang]},
    ("go", "go"): ("go", "gofmt"),
    ("rust", "cargo"): ("cargo", "cargo-clippy", "cargo-fmt"),
}
# Every stack but pip, which runs in a virtualenv (its own test below).
STACKS = [stack for stack in TOOLS if stack != ("python", "pip")]
# Source files the format command may rewrite: a fresh skeleton is formatted already.
SOURCES = {".py", ".js", ".ts", ".go", ".rs", ".json", ".toml"}
BUILT = {".venv", "node_modules", "target", "dist", ".git"}


def env_for(root: Path, **extra: str) -> dict[str, str]:
    """The test's environment without the generator's virtualenv, with the real tool homes."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "TAC_DB_PATH")}
    env.update(TOOL_ENV)
    if UV_CACHE:
        env["UV_CACHE_DIR"] = UV_CACHE
    env["CARGO_TARGET_DIR"] = str(root / "target")
    env.update(extra)
    return env


def sh(command: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one of the project's commands as an agent would: through the shell, at the root."""
    return subprocess.run(
        command, shell=True, cwd=root, env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip


def need(language: str, pm: str) -> None:
    """Skip, naming the stack and the missing tool, when its toolchain is not installed."""
    for tool in TOOLS[(language, pm)]:
        if shutil.which(tool, path=env_for(Path("/tmp"))["PATH"]) is None:
            pytest.skip(f"{language}-{pm}: skipped, `{tool}` is not installed on this machine")


def init(
    tmp_path: Path, language: str, pm: str, name: str = "my-app"
) -> tuple[Path, dict[str, str]]:
    """`init my-app` (or another name) and the commands its config.yml holds."""
    answers = scaffold.Answers(language=language, package_manager=pm)
    scaffold.init_project(name, tmp_path, answers=answers)
    root = tmp_path / name
    data = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))
    return root, {k: str(v) for k, v in data["commands"].items()}


def check(proc: subprocess.CompletedProcess[str], what: str) -> str:
    """The command's output, after asserting it succeeded (the output is the failure message)."""
    assert proc.returncode == 0, f"{what} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def sources(root: Path) -> dict[str, bytes]:
    """The project's source files (not what install or build made), by path."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.suffix in SOURCES and p.is_file() and not BUILT & set(p.relative_to(root).parts)
    }


def install_test_lint_run(root: Path, cmds: dict[str, str], env: dict[str, str]) -> None:
    """The stack's install, test, lint and run commands, each passing; run prints the greeting;
    format passes and changes nothing (the skeleton is written formatted)."""
    for name in ("install", "test", "lint"):
        check(sh(cmds[name], root, env), f"{name}: {cmds[name]}")
    out = check(sh(cmds["run"], root, env), f"run: {cmds['run']}")
    assert "Hello, world!" in out
    before = sources(root)
    check(sh(cmds["format"], root, env), f"format: {cmds['format']}")
    after = sources(root)
    assert after == before, sorted(p for p in after if after[p] != before.get(p))


@pytest.mark.parametrize(
    ("language", "pm"), [("python", "uv"), ("javascript", "npm"), ("rust", "cargo")]
)
def test_a_non_ascii_project_name_gives_packages_the_toolchains_take(
    tmp_path: Path, language: str, pm: str
) -> None:
    """`Café Ünïcode`: uv, npm and cargo take the package names (cafe_unicode, cafe-unicode),
    and the test command passes in the folder named as typed."""
    need(language, pm)
    root, cmds = init(tmp_path, language, pm, name="Café Ünïcode")
    env = env_for(root)
    for name in ("install", "test"):
        check(sh(cmds[name], root, env), f"{name}: {cmds[name]}")


def test_python_pip_commands_pass_in_a_virtualenv(tmp_path: Path) -> None:
    """pip: the README's way, a virtualenv, `python -m pip install -r requirements.txt`, then the
    commands as written (python, ruff from the virtualenv's PATH)."""
    root, cmds = init(tmp_path, "python", "pip")
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = env_for(root, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install_test_lint_run(root, cmds, env)
    sdlc_passes_every_phase(root, cmds, env)


def sdlc_passes_every_phase(root: Path, cmds: dict[str, str], env: dict[str, str]) -> None:
    """The first `adw_sdlc.py` run of the new project with the stand-in agent: every phase
    passes, and the test phase ran the project's real test command (its recorded event says it
    exited 0)."""
    ident = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    fake = root / "adws" / "adw_tests" / "fake_claude.py"
    env = {**env, "CLAUDE_CODE_PATH": str(fake), **ident}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    proc = sh('uv run --quiet adws/adw_sdlc.py "Add a health endpoint"', root, env)
    out = check(proc, "adw_sdlc.py")
    for phase in ("plan", "build", "test", "review", "document"):
        assert f"{phase}: done" in out, out
    assert "sdlc completed" in out
    with sqlite3.connect(root / "agents" / "orchestrator.db") as db:
        texts = [" ".join(str(c) for c in row) for row in db.execute("SELECT * FROM agent_logs")]
    ran = [t for t in texts if f"`{cmds['test']}` exited 0" in t]
    assert ran, texts[-5:]
    if cmds["test"].endswith("pytest"):
        assert "1 passed" in ran[0], ran[0]


@pytest.mark.parametrize(("language", "pm"), STACKS)
def test_stack_commands_and_the_sdlc_pass_after_init(
    tmp_path: Path, language: str, pm: str
) -> None:
    """A new user's first steps: install, test, lint, run, format, then the first SDLC run."""
    need(language, pm)
    root, cmds = init(tmp_path, language, pm)
    env = env_for(root)
    install_test_lint_run(root, cmds, env)
    sdlc_passes_every_phase(root, cmds, env)
