"""``cli.main`` builds only the command that runs (``commands.base.lazy_group``): what the user
sees must be what Typer's own, eager, group gives, for help and for usage errors."""

from __future__ import annotations

import pytest
import typer.testing  # noqa: TID251 (drives the CLI in-process, as test_help does)
from cli_support import COMMAND_PATHS
from typer.testing import CliRunner  # noqa: TID251

from tac_bootstrap_cli.commands import app
from tac_bootstrap_cli.commands.base import LazyCommands, lazy_group

MISTAKES = [
    ["initt"],  # a suggestion from the command names
    ["runs", "-n", "0"],
    ["runs", "-n", "x"],
    ["runs", "show"],
    ["generate"],
    ["generate", "modles"],
    ["upgrade", "--no-such-option"],
    ["--version"],
    [],
]


def _both(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    eager = CliRunner().invoke(app, args, prog_name="tac-bootstrap")
    with monkeypatch.context() as m:
        m.setattr(typer.testing, "_get_command", lazy_group)
        lazy = CliRunner().invoke(app, args, prog_name="tac-bootstrap")
    return (eager.exit_code, eager.output), (lazy.exit_code, lazy.output)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "root")
def test_help_is_typers(path: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    eager, lazy = _both([*path, "--help"], monkeypatch)
    assert lazy == eager


@pytest.mark.parametrize("args", MISTAKES, ids=lambda a: " ".join(a) or "nothing")
def test_usage_errors_are_typers(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    eager, lazy = _both(args, monkeypatch)
    assert lazy == eager


def test_only_the_command_run_is_built() -> None:
    group = lazy_group(app)
    assert isinstance(group.commands, LazyCommands)
    assert list(group.commands) == [
        "init",
        "add-agentic",
        "render",
        "upgrade",
        "doctor",
        "observe",
        "runs",
        "generate",
    ]
    command = group.get_command(None, "render")  # type: ignore[arg-type]
    assert command is not None and command.name == "render"
    assert list(group.commands._made) == ["render"]
