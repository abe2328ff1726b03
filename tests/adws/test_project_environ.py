"""What the project's commands and the agent inherit from a workflow run with `uv run`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.utils import project_environ

OWN_BIN = str(Path(sys.prefix) / "bin")

pytestmark = pytest.mark.skipif(
    sys.prefix == sys.base_prefix, reason="the suite is not running in a virtual environment"
)


def test_the_workflows_own_environment_is_taken_off_path(tmp_path: Path) -> None:
    user_venv = str(tmp_path / ".venv" / "bin")
    environ = {
        "PATH": os.pathsep.join([OWN_BIN, user_venv, "/usr/bin"]),
        "VIRTUAL_ENV": sys.prefix,
        "HOME": "/home/u",
    }
    env = project_environ(tmp_path, environ)
    assert env["PATH"].split(os.pathsep) == [user_venv, "/usr/bin"]
    assert "VIRTUAL_ENV" not in env
    assert env["HOME"] == "/home/u"
    assert environ["VIRTUAL_ENV"] == sys.prefix  # the caller's mapping is not changed


def test_a_users_virtualenv_is_left_alone(tmp_path: Path) -> None:
    environ = {"PATH": os.pathsep.join(["/x/bin", "/usr/bin"]), "VIRTUAL_ENV": "/x"}
    assert project_environ(tmp_path, environ) == environ


def test_an_environment_inside_the_project_is_the_users() -> None:
    """The user ran the workflow with the project's own .venv: that is the project's Python."""
    root = Path(sys.prefix).parent
    environ = {"PATH": os.pathsep.join([OWN_BIN, "/usr/bin"]), "VIRTUAL_ENV": sys.prefix}
    assert project_environ(root, environ) == environ
