"""The check runner: every check, in the order the report lists them, and ``--fix`` (repair what
can be repaired, then check again)."""

from __future__ import annotations

from pathlib import Path

from tac_bootstrap_cli.doctor.environment import check_database, check_tools
from tac_bootstrap_cli.doctor.formats import check_commands_and_agents, check_settings
from tac_bootstrap_cli.doctor.gitignore import check_gitignore
from tac_bootstrap_cli.doctor.hooks import check_hook_runs, check_hooks
from tac_bootstrap_cli.doctor.project import load_project
from tac_bootstrap_cli.doctor.report import Check, DoctorReport
from tac_bootstrap_cli.doctor.state import (
    check_config,
    check_conflicts,
    check_files,
    check_leftovers,
    check_manifest,
    check_templates,
)
from tac_bootstrap_cli.errors import TacError, UsageError

CHECKS = (
    check_config,
    check_templates,
    check_manifest,
    check_files,
    check_conflicts,
    check_settings,
    check_hooks,
    check_hook_runs,
    check_commands_and_agents,
    check_database,
    check_tools,
    check_gitignore,
    check_leftovers,
)


def diagnose(root: Path, *, run_hooks: bool = False) -> list[Check]:
    """Every check's findings for the project at ``root``, in ``CHECKS`` order; ``run_hooks``
    also runs hook code that is not what tac-bootstrap generates (the project's own code: only
    when trusted)."""
    from concurrent.futures import ThreadPoolExecutor

    project = load_project(root)
    project.run_any_hooks = run_hooks
    check_hooks(project)  # found once, here, before the run check's thread asks for it too
    # The hook processes take most of doctor's time (~250 ms: they run as Claude Code runs them,
    # each a process): they start first, on a thread that mostly waits for them, while the other
    # checks read the project on this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        runs = pool.submit(lambda: list(check_hook_runs(project)))
        found: list[Check] = []
        for check in CHECKS:
            found.extend(runs.result() if check is check_hook_runs else check(project))
    return found


def run_doctor(
    path: Path | None = None, *, fix: bool = False, run_hooks: bool = False
) -> DoctorReport:
    """Check the project at ``path``; with ``fix``, repair what can be repaired, then check again;
    with ``run_hooks``, also run hook code that is not what tac-bootstrap generates."""
    root = Path(path if path is not None else ".").absolute()
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder")
    checks = diagnose(root, run_hooks=run_hooks)
    fixed: list[str] = []
    if fix:
        for check in checks:
            if check.status != "ok" and check.fix is not None:
                try:
                    done = check.fix()
                except (OSError, TacError) as exc:
                    done = [f"could not repair {check.name}: {exc}"]
                fixed.extend(d for d in done if d not in fixed)
        if fixed:
            checks = diagnose(root, run_hooks=run_hooks)
    return DoctorReport(root, checks, fixed)
