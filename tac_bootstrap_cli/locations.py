"""Where tac-bootstrap's own files are: the built-in templates (in the package when installed, at
the repository's root in a checkout), the user cache folder (compiled templates, render
receipts) and the answers file in a project (``config.yml``).

Standard library only (platformdirs when the cache folder is asked for): ``render``'s receipt
check (``uptodate``) reads these without loading the template engine.
"""

from __future__ import annotations

import os
from pathlib import Path

from tac_bootstrap_cli.errors import TacError

PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_FILE = "config.yml"  # a project's answers, at its root
# Tool caches that appear when someone runs a linter or tests inside templates/: never templates.
IGNORED_DIRS = frozenset(
    {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".hypothesis", ".git"}
)


def templates_root() -> Path:
    """The built-in templates: inside the package when installed, at the repo root in a checkout."""
    for candidate in (PACKAGE_DIR / "templates", PACKAGE_DIR.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise TacError(f"built-in templates not found next to {PACKAGE_DIR}; reinstall tac-bootstrap")


def app_templates_root() -> Path:
    """The application skeletons (``app_templates/<language>/``), beside ``templates/``.

    A sibling folder, not a subtree of ``templates/``: everything under ``templates/`` is the
    layer, which ``add-agentic``, ``render`` and ``upgrade`` write; only ``init`` reads this one.
    """
    for candidate in (PACKAGE_DIR / "app_templates", PACKAGE_DIR.parent / "app_templates"):
        if candidate.is_dir():
            return candidate
    raise TacError(
        f"application templates not found next to {PACKAGE_DIR}; reinstall tac-bootstrap"
    )


def cache_root() -> Path | None:
    """The user cache folder of tac-bootstrap; None when caching is off (``TAC_BOOTSTRAP_NO_CACHE``)."""
    if os.environ.get("TAC_BOOTSTRAP_NO_CACHE"):
        return None
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tac-bootstrap", appauthor=False))
