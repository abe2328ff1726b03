"""The web stack stays out of every other command, and the app stays out of the CLI stack."""

from __future__ import annotations

import json
import subprocess
import sys


def _loaded(code: str, names: tuple[str, ...]) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {names!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_other_commands_never_import_the_web_stack() -> None:
    code = (
        "from tac_bootstrap_cli.cli import main\n"
        "for args in (['init', '--help'], ['runs', '--help'], ['observe', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
    )
    assert (
        _loaded(
            code,
            ("starlette", "uvicorn", "anyio", "tac_bootstrap_cli._adws.adw_modules.observatory"),
        )
        == []
    )


def test_the_app_imports_neither_typer_nor_rich() -> None:
    code = (
        "import tac_bootstrap_cli._adws.adw_modules.observatory.app, tac_bootstrap_cli._adws.adw_modules.observatory.report\n"
        "import tac_bootstrap_cli._adws.adw_modules.observatory.server, tac_bootstrap_cli.observe.server\n"
    )
    assert _loaded(code, ("typer", "click", "rich", "tac_bootstrap_cli.ui")) == []
