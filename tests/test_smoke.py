"""The CLI starts, reports its version and keeps heavy imports off its startup path."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.cli import app


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"tac-bootstrap {__version__}"


def test_help_lists_exit_codes() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes: 0 success, 1 failure, 2 usage error" in result.stdout


def test_help_path_imports_no_rich_jinja_or_pydantic() -> None:
    code = (
        "import sys\n"
        "from tac_bootstrap_cli.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('rich', 'jinja2', 'pydantic', 'yaml') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
