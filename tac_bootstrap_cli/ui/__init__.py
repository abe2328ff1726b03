"""All terminal output and questions: Rich lives in this package and only here (ruff's banned-api
rule), and the CLI imports it only inside a command that prints.

One module per concept: ``console`` (the consoles, one-line messages, JSON, the progress line),
``plans`` (plans and what a writing command did, upgrade included), ``reports`` (doctor,
generated files, the run history, the observatory) and ``prompts`` (questions and the review
before writing). Rich's heavier parts (live spinner, tables, trees, prompts) are imported by
the function that draws them.
"""

from tac_bootstrap_cli.ui.console import (
    PROGRESS_DELAY,
    STEP_PROGRESS,
    err,
    info,
    out,
    print_json,
    progress,
    step_progress,
    warn,
)
from tac_bootstrap_cli.ui.plans import (
    _STYLE,
    counts_line,
    missing_command_notes,
    show_diffs,
    show_done,
    show_listed,
    show_plan,
    show_result,
    show_upgrade_plan,
    show_upgrade_result,
)
from tac_bootstrap_cli.ui.prompts import ask_commands, ask_name, ask_stack, confirm, review
from tac_bootstrap_cli.ui.reports import (
    show_doctor,
    show_generated,
    show_observing,
    show_run,
    show_runs,
)

__all__ = [
    "PROGRESS_DELAY",
    "STEP_PROGRESS",
    "_STYLE",
    "ask_commands",
    "ask_name",
    "ask_stack",
    "confirm",
    "counts_line",
    "err",
    "info",
    "missing_command_notes",
    "out",
    "print_json",
    "progress",
    "review",
    "show_diffs",
    "show_doctor",
    "show_done",
    "show_generated",
    "show_listed",
    "show_observing",
    "show_plan",
    "show_result",
    "show_run",
    "show_runs",
    "show_upgrade_plan",
    "show_upgrade_result",
    "step_progress",
    "warn",
]
