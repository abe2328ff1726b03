"""One-line messages to a file or pipe are written without Rich (``ui.console.say``): the bytes
must be exactly what Rich's console writes for the same markup there."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from tac_bootstrap_cli.ui import console

SAMPLES = [
    "Done: render wrote 0 files in /tmp/app (98 unchanged)",
    "note: [not markup] \\ [bold]x[/] \\[y] trailing \\",
    "Next: cd 'a b', uv sync, uv run pytest, uv run python -m app; then run `claude`.",
    "  unicode: é ß 漢字 🙂, a long line " + "x" * 300 + "   ",
    "",
]


def _rich(markup: str) -> str:
    """What the stdout console (Rich) writes for ``markup`` to a file."""
    saved, sys.stdout = sys.stdout, io.StringIO()
    try:
        console.out().print(markup)
        return sys.stdout.getvalue()
    finally:
        sys.stdout = saved


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("stderr", [False, True])
def test_say_writes_what_rich_writes_to_a_pipe(
    text: str, stderr: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    markup = f"[bold green]{console.escape(text)}[/]"
    console.say(text, lambda: markup, stderr=stderr)
    captured = capsys.readouterr()
    written = captured.err if stderr else captured.out
    assert written == _rich(markup)


@pytest.mark.parametrize("text", ["tab\there", "bell\x07", "cr\rlf"])
def test_text_rich_would_change_goes_to_rich(
    text: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    console.say(text, lambda: console.escape(text))
    assert capsys.readouterr().out == _rich(console.escape(text))


@pytest.mark.parametrize(
    ("env", "plain"),
    [
        ({}, True),
        ({"FORCE_COLOR": "1"}, False),
        ({"FORCE_COLOR": ""}, True),
        ({"TTY_COMPATIBLE": "1"}, False),
        ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, True),
    ],
)
def test_plain_only_where_rich_sees_no_terminal(
    env: dict[str, str], plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert console._writes_plain(sys.stdout) is plain
    assert console.out().is_terminal is not plain  # Rich's own verdict


def test_a_plain_message_imports_no_rich() -> None:
    code = (
        "import sys\n"
        "from tac_bootstrap_cli import ui\n"
        "ui.info('hello [x]'); ui.warn('careful')\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'rich'], 'rich imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_no_color()
    )
    assert (done.stdout, done.stderr) == ("hello [x]\n", "warning: careful\n")


def _no_color() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
