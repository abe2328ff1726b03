"""The generator's own run history, kept with the ``adws`` base modules in a local SQLite file.

Two sides, one file: ``recorder`` records each command run (``RunRecorder``; the pipeline only
knows the ``Recorder`` protocol) through ``writer`` (``adw_logging``'s rows, plain ``sqlite3``,
loaded only when history is on), ``runs`` reads them back for ``tac-bootstrap runs`` and never
writes; ``location`` says where the file is (``$TAC_BOOTSTRAP_DB``, ``off`` for none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tac_bootstrap_cli.history.location import DB_ENV, OFF, ORCHESTRATOR, db_path
from tac_bootstrap_cli.history.recorder import NullRecorder, Recorder, RunRecorder

if TYPE_CHECKING:
    from tac_bootstrap_cli.history.runs import RunDetail, RunSummary, list_runs, show_run

_READERS = ("RunDetail", "RunSummary", "list_runs", "show_run")


def __getattr__(name: str) -> Any:
    """The reading side (``runs``) on first use: a command that only records never loads it."""
    if name in _READERS:
        import tac_bootstrap_cli.history.runs as runs

        return getattr(runs, name)
    raise AttributeError(name)


__all__ = [
    "DB_ENV",
    "OFF",
    "ORCHESTRATOR",
    "NullRecorder",
    "Recorder",
    "RunDetail",
    "RunRecorder",
    "RunSummary",
    "db_path",
    "list_runs",
    "show_run",
]
