"""After Ctrl-C or a failed write, the error names the exact command line whose rerun completes the job."""

from __future__ import annotations

import os
import re
import shlex
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import Run

from tac_bootstrap_cli import apply
from tac_bootstrap_cli.cli import main

RERUN = re.compile(r"rerun `([^`]*)` to complete the job")


class CtrlC:
    """Ctrl-C once the second file of an in-place apply is on disk, while armed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        # Every file of an in-place apply is written by _Folders.write.
        self._real = apply._Folders.write

    def arm(self) -> None:
        calls = {"n": 0}
        real = self._real

        def write_then_ctrl_c(*args: Any, **kwargs: Any) -> None:
            real(*args, **kwargs)
            calls["n"] += 1
            if calls["n"] == 2:
                os.kill(os.getpid(), signal.SIGINT)

        self._monkeypatch.setattr(apply._Folders, "write", write_then_ctrl_c)

    def disarm(self) -> None:
        self._monkeypatch.setattr(apply._Folders, "write", self._real)


@pytest.fixture
def ctrl_c(monkeypatch: pytest.MonkeyPatch) -> CtrlC:
    return CtrlC(monkeypatch)


def team(root: Path, text: str = "team v1\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "TEAM.md").write_text(text, encoding="utf-8")
    return root


def rerun_args(stderr: str) -> list[str]:
    match = RERUN.search(stderr)
    assert match is not None, stderr
    args = shlex.split(match.group(1))
    assert args[0] == "tac-bootstrap"
    return args[1:]


def test_add_agentic_names_the_whole_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ctrl_c: CtrlC
) -> None:
    project = tmp_path / "my project"
    project.mkdir()
    (project / "go.mod").write_text("module x\n")
    overlay = team(tmp_path / "team templates")
    argv = ["add-agentic", str(project), "--templates", str(overlay), "--yes"]
    ctrl_c.arm()
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 130
    err = capsys.readouterr().err
    assert f"rerun `{shlex.join(['tac-bootstrap', *argv])}` to complete the job" in err
    assert "'" + str(overlay) + "'" in err  # quoted for the shell


def test_the_rerun_command_completes_add_agentic_with_its_templates(
    cli: Run, tmp_path: Path, ctrl_c: CtrlC, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "-proj"  # a relative path that looks like an option
    project.mkdir()
    (project / "go.mod").write_text("module x\n")
    overlay = team(tmp_path / "team templates")
    ctrl_c.arm()
    result = cli("add-agentic", "--templates", overlay, "--name", "proj", "--", "-proj")
    assert result.exit_code == 130, result.output
    args = rerun_args(result.stderr)
    assert args[args.index("--templates") + 1] == str(overlay)
    ctrl_c.disarm()
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert (project / "TEAM.md").read_text() == "team v1\n"
    assert "templates:" in (project / "config.yml").read_text()


@pytest.mark.parametrize("command", ["render", "upgrade"])
def test_render_and_upgrade_name_their_options(
    cli: Run, tmp_path: Path, ctrl_c: CtrlC, command: str
) -> None:
    v1 = team(tmp_path / "v1")
    assert cli("init", "app", "-o", tmp_path, "--templates", v1).exit_code == 0
    project = tmp_path / "app"
    v2 = team(tmp_path / "v 2", "team v2\n")
    for name in ("MORE.md", "EVEN-MORE.md", "STILL-MORE.md"):
        (v2 / name).write_text(f"{name}\n")
    ctrl_c.arm()
    result = cli(command, project, "--force", "--templates", v2)
    assert result.exit_code == 130, result.output
    args = rerun_args(result.stderr)
    assert args[:2] == [command, str(project)]
    assert args[args.index("--templates") + 1] == str(v2) and "--force" in args
    ctrl_c.disarm()
    assert cli(*args).exit_code == 0
    assert (project / "STILL-MORE.md").is_file()


def test_a_failed_write_names_the_command_line_too(
    cli: Run, tmp_path: Path, freeze: Callable[[Path], None]
) -> None:
    project = tmp_path / "proj"
    (project / ".claude").mkdir(parents=True)
    (project / "go.mod").write_text("module x\n")
    overlay = team(tmp_path / "team")
    freeze(project / ".claude")
    result = cli("add-agentic", project, "--yes", "--templates", overlay)
    assert result.exit_code == 1, result.output
    args = rerun_args(result.stderr)
    assert args[args.index("--templates") + 1] == str(overlay)
