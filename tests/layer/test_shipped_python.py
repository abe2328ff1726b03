"""Every Python file a project gets passes ``mypy --strict``, checked the way the project runs it.

The base modules (``tac_bootstrap_cli/_adws``) are part of this repository's own mypy run. The
files under ``templates/`` (ADW scripts, their tests, the cron trigger, the hooks) import them as
top-level ``adw_modules`` and import each other as siblings, as they do inside a project, so they
are checked in a run of their own with those folders on the search path: one run cannot see the
same file as both ``tac_bootstrap_cli._adws.adw_modules.x`` and ``adw_modules.x``. Ruff checks them
in the repository's ``ruff check .`` with the layer's own settings (the closest configuration file,
the same one projects use).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
# Where each group of files finds its imports: the shipped base modules, then the sibling folders.
SEARCH_PATH = [
    REPO / "tac_bootstrap_cli" / "_adws",
    TEMPLATES / "adws" / "adw_tests",
    TEMPLATES / "adws" / "adw_triggers",
    TEMPLATES / "adws",
    TEMPLATES / ".claude" / "hooks",
]


def shipped_python() -> list[Path]:
    """Every ``.py`` under ``templates/`` (none of them is Jinja: they are copied verbatim)."""
    return sorted(p for p in TEMPLATES.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_python_file_under_templates_is_in_a_checked_folder() -> None:
    folders = {p.parent for p in shipped_python()}
    assert folders <= set(SEARCH_PATH), folders - set(SEARCH_PATH)


def test_shipped_python_passes_mypy_strict() -> None:
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, SEARCH_PATH))}
    proc = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--python-version", "3.11",
            "--explicit-package-bases", "--no-error-summary",
            "--cache-dir", str(REPO / ".mypy_cache" / "shipped"),
            *map(str, shipped_python()),
        ],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
