"""At a terminal: ``init`` asks for a missing name, ``add-agentic``/``render`` show the plan and ask
before changing files that exist, slow steps show a progress line. Each case runs the installed
``tac-bootstrap`` script in a pseudo-terminal, types the answers and checks the files on disk."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_support import Run, snapshot

from tac_bootstrap_cli.errors import EXIT_FAILURE

SCRIPT = Path(sys.executable).with_name("tac-bootstrap")
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-B])")

FASTAPI_PROJECT = {
    "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["fastapi", "uvicorn"]\n'
    '[dependency-groups]\ndev = ["pytest", "ruff"]\n',
    "uv.lock": "",
    "app": {"main.py": "from fastapi import FastAPI\napp = FastAPI()\n"},
    "README.md": "# Shop\n\nOur shop.\n",
    ".gitignore": "__pycache__/\n.venv\n",
}
# The questions add-agentic asks at a terminal before its plan (Enter keeps each proposal).
STACK_QUESTIONS = ("Language", "Framework", "Package manager")
COMMAND_QUESTIONS = tuple(f"{k} command" for k in ("Install", "Test", "Lint", "Format", "Run"))


class Terminal:
    """The real CLI in a pseudo-terminal: stdin, stdout and stderr are all the terminal."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200", "LINES": "50"}
        self._raw = bytearray()
        self._seen = 0  # how much of the screen the expectations have consumed
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the program
            try:
                os.chdir(cwd)
                os.execve(str(SCRIPT), [str(SCRIPT), *args], env)
            finally:
                os._exit(127)
        self.status: int | None = None

    @property
    def screen(self) -> str:
        """Everything shown so far, control sequences removed."""
        return ANSI.sub(b"", bytes(self._raw)).decode(errors="replace").replace("\r", "")

    def _read(self, seconds: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if ready:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the program closed the terminal
                chunk = b""
            self._raw.extend(chunk)

    def expect(self, text: str, timeout: float = 20) -> None:
        """Wait until ``text`` appears after what earlier expectations consumed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.screen.find(text, self._seen)
            if found >= 0:
                self._seen = found + len(text)
                return
            if self._exited():
                self._read(0.1)
                if self.screen.find(text, self._seen) < 0:
                    break
            self._read(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen}")

    def type(self, keys: str) -> None:
        """Type ``keys`` (``\\r`` is Enter)."""
        os.write(self.fd, keys.encode())

    def _exited(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = status
        return self.status is not None

    def wait(self, timeout: float = 30) -> int:
        """Read the screen until the program ends; its exit code."""
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() > deadline:
                raise AssertionError(f"still running; the screen:\n{self.screen}")
            self._read(0.1)
        self._read(0.1)
        assert self.status is not None
        return os.waitstatus_to_exitcode(self.status)

    def close(self) -> None:
        """Stop the program if it still runs."""
        if not self._exited():
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal() -> Callable[..., Terminal]:
    """``terminal(cwd, "init", ...)`` starts the CLI in a pseudo-terminal (stopped afterwards)."""
    started: list[Terminal] = []

    def start(cwd: Path, *args: str | Path) -> Terminal:
        started.append(Terminal([str(a) for a in args], cwd))
        return started[-1]

    yield start
    for term in started:
        term.close()


def _answer_stack_questions(term: Terminal) -> None:
    for question in (*STACK_QUESTIONS, *COMMAND_QUESTIONS):
        term.expect(question)
        term.type("\r")


# --- init without a name -------------------------------------------------------------------------


def test_init_asks_for_the_name_at_a_terminal(
    terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    term = terminal(tmp_path, "init", "--language", "go")
    term.expect("Project name")
    term.type("../escape\r")  # refused with the reason, then asked again
    term.expect("contains a path separator")
    term.expect("Project name")
    term.type("demo\r")
    _answer_stack_questions(term)
    assert term.wait() == 0, term.screen
    assert "Apply these changes?" not in term.screen  # a new project: nothing of yours changes
    config = yaml.safe_load((tmp_path / "demo" / "config.yml").read_text())
    assert config["project"]["name"] == "demo"
    assert config["project"]["language"] == "go"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_init_without_a_name_or_a_terminal_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    result = cli("init", "-o", tmp_path)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: missing argument NAME, the project name")
    assert "tac-bootstrap init my-app" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_without_a_name_reads_no_piped_input(tmp_path: Path) -> None:
    # A name on a pipe is not an answer: only a person at a terminal is asked.
    done = subprocess.run(
        [SCRIPT, "init"], cwd=tmp_path, input="demo\n", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "missing argument NAME" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


# --- plan and question -------------------------------------------------------------------------


def test_add_agentic_declined_writes_nothing(
    terminal: Callable[..., Terminal], tree: Callable[..., Path]
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    before = snapshot(project)
    term = terminal(project, "add-agentic")
    _answer_stack_questions(term)
    term.expect("Plan:")  # the dry run's tree, with its counts
    term.expect("existing files will change: .gitignore, README.md")
    term.expect("Apply these changes? [y/N]")
    term.type("n\r")
    assert term.wait() == EXIT_FAILURE, term.screen
    assert "cancelled: nothing was written" in term.screen
    assert "error" not in term.screen.lower()
    assert snapshot(project) == before


def test_add_agentic_accepted_applies_the_plan_it_showed(
    terminal: Callable[..., Terminal], tree: Callable[..., Path]
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    term = terminal(project, "add-agentic")
    _answer_stack_questions(term)
    term.expect("update")  # README.md and .gitignore get their block
    term.expect("Apply these changes? [y/N]")
    term.type("maybe\r")  # neither yes nor no: asked again
    term.expect("Please answer y or n.")
    term.expect("Apply these changes? [y/N]")
    term.type("y\r")
    assert term.wait() == 0, term.screen
    assert "Done:" in term.screen
    assert (project / "README.md").read_text().startswith("# Shop\n\nOur shop.\n")
    assert "# >>> tac-bootstrap >>>" in (project / ".gitignore").read_text()
    assert (project / ".claude" / "settings.json").is_file()


def test_yes_at_a_terminal_asks_nothing(
    terminal: Callable[..., Terminal], tree: Callable[..., Path]
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    term = terminal(project, "add-agentic", "--yes")
    assert term.wait() == 0, term.screen
    assert "Apply these changes?" not in term.screen and "Language" not in term.screen
    assert "# >>> tac-bootstrap >>>" in (project / ".gitignore").read_text()


def test_only_new_files_show_the_plan_without_a_question(
    terminal: Callable[..., Terminal], tree: Callable[..., Path]
) -> None:
    project = tree({"go.mod": "module example.com/tool\n"}, name="tool")
    term = terminal(project, "add-agentic")
    _answer_stack_questions(term)
    term.expect("Plan:")
    assert term.wait() == 0, term.screen
    assert "Apply these changes?" not in term.screen
    assert (project / ".gitignore").is_file() and (project / "config.yml").is_file()


def test_render_asks_before_updating_and_declining_keeps_every_byte(
    cli: Run, terminal: Callable[..., Terminal], tree: Callable[..., Path]
) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    assert cli("add-agentic", project).exit_code == 0  # no terminal: --yes implied
    config = project / "config.yml"
    config.write_text(config.read_text().replace("test: uv run pytest", "test: uv run pytest -x"))
    before = snapshot(project)
    term = terminal(project, "render")
    term.expect("Plan:")
    term.expect("Apply these changes? [y/N]")
    term.type("\r")  # Enter: the default is no
    assert term.wait() == EXIT_FAILURE, term.screen
    assert snapshot(project) == before
    again = terminal(project, "render")
    again.expect("Apply these changes? [y/N]")
    again.type("yes\r")
    assert again.wait() == 0, again.screen
    prime = (project / ".claude" / "commands" / "prime.md").read_text()
    assert "uv run pytest -x" in prime


def test_an_unchanged_render_at_a_terminal_shows_the_same_plan_from_its_receipt(
    cli: Run, terminal: Callable[..., Terminal], tree: Callable[..., Path]
) -> None:
    """At a terminal ``render`` shows its whole plan even when nothing changes; answered by the
    previous render's receipt it shows the same screen (the plan through the same ``review``)."""
    project = tree(FASTAPI_PROJECT, name="shop")
    assert cli("add-agentic", project).exit_code == 0
    full = terminal(project, "render")  # renders in full, and keeps a receipt: nothing changed
    assert full.wait() == 0, full.screen
    quick = terminal(project, "render")
    assert quick.wait() == 0, quick.screen
    assert "Plan:" in quick.screen and "unchanged" in quick.screen
    assert quick.screen == full.screen
    runs = json.loads(cli("runs", "--json", "-n", "2").stdout)
    steps = [
        [log["message"] for log in shown["logs"] if log["type"] == "step_end"]
        for shown in (json.loads(cli("runs", "show", r["id"], "--json").stdout) for r in runs)
    ]
    assert steps == [["receipt"], ["config", "render", "plan", "apply"]]


def test_without_a_terminal_yes_is_implied(tree: Callable[..., Path]) -> None:
    project = tree(FASTAPI_PROJECT, name="shop")
    done = subprocess.run(
        [SCRIPT, "add-agentic"],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Apply these changes?" not in done.stdout and "Plan:" not in done.stdout
    assert "# >>> tac-bootstrap >>>" in (project / ".gitignore").read_text()


# --- progress line -------------------------------------------------------------------------------

PROGRESS_CODE = (
    "import sys, time\n"
    "from tac_bootstrap_cli import ui\n"
    "with ui.progress('crunching numbers'):\n"
    "    time.sleep(float(sys.argv[1]))\n"
    "print('finished')\n"
)


def _progress_in_terminal(seconds: float) -> str:
    pid, fd = pty.fork()
    if pid == 0:
        try:
            env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
            os.execve(sys.executable, [sys.executable, "-c", PROGRESS_CODE, str(seconds)], env)
        finally:
            os._exit(127)
    raw = bytearray()
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 10)
            if not ready:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            raw.extend(chunk)
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    return ANSI.sub(b"", bytes(raw)).decode(errors="replace")


def test_a_slow_step_shows_a_progress_line_at_a_terminal() -> None:
    shown = _progress_in_terminal(1.2)
    assert "crunching numbers" in shown and "finished" in shown


def test_a_quick_step_shows_nothing() -> None:
    shown = _progress_in_terminal(0.05)
    assert "crunching numbers" not in shown and "finished" in shown


def test_no_progress_line_on_a_pipe() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRESS_CODE, "1.2"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("finished\n", "")
