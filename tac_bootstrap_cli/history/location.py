"""Where the generator's history lives (``$TAC_BOOTSTRAP_DB``, else the user state folder), and
the one warning per process that a history problem costs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ORCHESTRATOR = "tac-bootstrap"
DB_ENV = "TAC_BOOTSTRAP_DB"
OFF = "off"  # TAC_BOOTSTRAP_DB=off: no history at all (a file named off: ./off)


def db_path() -> Path | None:
    """``$TAC_BOOTSTRAP_DB`` (None when it is ``off``), else ``history.db`` in the user state
    directory."""
    override = os.environ.get(DB_ENV)
    if override:
        if override.strip().lower() == OFF:
            return None
        return Path(override).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("tac-bootstrap", appauthor=False)) / "history.db"


_warned = False


def warn_once(message: str) -> None:
    """Print ``message`` on stderr, once per process: the history must never cost the command
    more than one line (the writer and the reader share it)."""
    global _warned
    if not _warned:
        _warned = True
        sys.stderr.write(f"tac-bootstrap: {message}\n")
