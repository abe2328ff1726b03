"""The two consoles (stdout, stderr), one-line messages, JSON output and the progress line.

Rich is imported by the ``ui`` package only (ruff's banned-api rule), and only when something is
drawn by it: a one-line message to a file or pipe (``say``), where Rich would write the text
without any escape code, is written as that text without importing Rich (~25 ms of start-up for
``render``, ``add-agentic`` and ``init``); at a terminal, or for tables, trees, the spinner and
prompts, Rich draws.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_out: Console | None = None
_err: Console | None = None


def out() -> Console:
    """The stdout console (created on first use, so tests that swap sys.stdout see it)."""
    global _out
    if _out is None or _out.file is not sys.stdout:
        from rich.console import Console

        _out = Console(file=sys.stdout, highlight=False, soft_wrap=True, emoji=False)
    return _out


def err() -> Console:
    """The stderr console for warnings."""
    global _err
    if _err is None or _err.file is not sys.stderr:
        from rich.console import Console

        _err = Console(file=sys.stderr, highlight=False, soft_wrap=True, emoji=False)
    return _err


def escape(text: str) -> str:
    """``text`` as Rich markup that shows it literally (``rich.markup.escape``)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _writes_plain(file: IO[str]) -> bool:
    """True when our consoles would write to ``file`` no escape code at all: Rich's own test of
    a terminal (``Console.is_terminal``: ``TTY_COMPATIBLE``, ``FORCE_COLOR``, ``isatty()``) says
    no, and no notebook is running (Rich draws there itself)."""
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible == "1" or "IPython" in sys.modules:
        return False
    if tty_compatible == "0":
        return True
    if os.environ.get("FORCE_COLOR"):  # set and not empty: Rich takes it as a terminal
        return False
    try:
        return not file.isatty()
    except (AttributeError, ValueError):  # Rich's rules differ here: let Rich decide
        return False


def say(plain: str, markup: Callable[[], str], *, stderr: bool = False) -> None:
    """One line: ``plain`` as it is to a file or pipe (what Rich writes for ``markup()`` there:
    the text without styles), else ``markup()`` printed by the console.

    ``plain`` must be exactly the text of ``markup()``; only printable text goes the plain way
    (Rich drops control codes and expands tabs, so anything else is left to Rich).
    """
    file = sys.stderr if stderr else sys.stdout
    if plain.isprintable() and _writes_plain(file):
        file.write(plain + "\n")
        file.flush()
        return
    (err() if stderr else out()).print(markup())


def warn(message: str) -> None:
    """One warning line on stderr."""
    say(f"warning: {message}", lambda: f"[yellow]warning:[/] {escape(message)}", stderr=True)


def info(message: str) -> None:
    """One plain line on stdout."""
    say(message, lambda: escape(message))


def print_json(data: Any) -> None:
    """Machine-readable output: JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --- progress ----------------------------------------------------------------------------------

PROGRESS_DELAY = 0.5  # seconds a step runs before its progress line appears
_progress_active = False


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(message: str, delay: float = PROGRESS_DELAY) -> Iterator[None]:
    """A transient spinner line with ``message`` on stderr while the block runs, once it has run
    ``delay`` seconds; only when stderr is a terminal (pipes, files and tests get nothing)."""
    global _progress_active
    if _progress_active or not _stderr_is_terminal():  # one line at a time: the outer one shows
        yield
        return
    # No stdout/stderr redirection: our consoles write to sys.stdout/sys.stderr directly, and a
    # quick step must leave no trace at all (a spinner started at once would flash).
    from rich.live import Live
    from rich.spinner import Spinner

    live = Live(
        Spinner("dots", text=escape(message)),
        console=err(),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
        refresh_per_second=10,
    )
    lock = threading.Lock()
    finished = False

    def start() -> None:
        with lock:
            if not finished:
                live.start()

    timer = threading.Timer(delay, start)
    timer.daemon = True
    _progress_active = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:  # the timer may be starting the line right now: stop it after that
            finished = True
            live.stop()
        _progress_active = False


# The recorded steps that can take a while, and what the progress line says meanwhile (never the
# answers step: it may ask questions, and a spinner must not run over them).
STEP_PROGRESS = {
    "detect": "detecting the stack",
    "config": "reading config.yml",
    "render": "rendering the templates",
    "plan": "planning",
    "apply": "writing files",
    "git": "updating the git index",
    "database": "migrating the database",
    "generate": "generating",
}


def step_progress(step: str) -> AbstractContextManager[object]:
    """The progress line around a recorded step that can take a while (``UICallbacks.progress``)."""
    message = STEP_PROGRESS.get(step)
    return progress(f"{message}...") if message is not None else nullcontext()
