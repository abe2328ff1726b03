"""The core is usable without the CLI: no Typer, no Rich below ``commands``/``ui``."""

from __future__ import annotations

import subprocess
import sys

CORE = (
    "tac_bootstrap_cli.scaffold",
    "tac_bootstrap_cli.plan",
    "tac_bootstrap_cli.apply",
    "tac_bootstrap_cli.detect",
    "tac_bootstrap_cli.manifest",
    "tac_bootstrap_cli.blocks",
    "tac_bootstrap_cli.history",
    "tac_bootstrap_cli.config",
    "tac_bootstrap_cli.render",
    "tac_bootstrap_cli.bases",
    "tac_bootstrap_cli.merge",
    "tac_bootstrap_cli.overlay",
    "tac_bootstrap_cli.upgrade",
    "tac_bootstrap_cli.gitutil",
    "tac_bootstrap_cli.projectdb",
    "tac_bootstrap_cli.claude_facts",
    "tac_bootstrap_cli.doctor",
)


def test_core_modules_import_neither_typer_nor_rich() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "print([m for m in ('typer', 'click', 'rich') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_library_use_without_cli(tmp_path: object) -> None:
    from pathlib import Path

    from tac_bootstrap_cli import scaffold

    result = scaffold.init_project("lib-use", Path(str(tmp_path)))
    assert result.written and (Path(str(tmp_path)) / "lib-use" / "config.yml").is_file()
