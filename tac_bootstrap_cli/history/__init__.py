"""The generator's own run history, kept with the ``adws`` base modules in a local SQLite file.

Two sides, one file: ``recorder`` records each command run (``RunRecorder``; the pipeline only
knows the ``Recorder`` protocol) through ``writer`` (``adw_logging``'s rows, plain ``sqlite3``,
loaded only when history is on), ``runs`` reads them back for ``tac-bootstrap runs`` and never
writes; ``location`` says where the file is (``$TAC_BOOTSTRAP_DB``, ``off`` for none).
"""

from tac_bootstrap_cli.history.location import DB_ENV, OFF, ORCHESTRATOR, db_path
from tac_bootstrap_cli.history.recorder import NullRecorder, Recorder, RunRecorder
from tac_bootstrap_cli.history.runs import RunDetail, RunSummary, list_runs, show_run

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
