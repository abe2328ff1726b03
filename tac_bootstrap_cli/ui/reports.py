"""Reports: doctor's findings, generated files, the run history, the observatory's address."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from tac_bootstrap_cli.ui.console import err, escape, out

if TYPE_CHECKING:
    from tac_bootstrap_cli.doctor import DoctorReport
    from tac_bootstrap_cli.history import RunDetail, RunSummary
    from tac_bootstrap_cli.modelgen import GenerateResult

_CHECK_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def show_doctor(report: DoctorReport) -> None:
    """One line per finding (status, name, message) with its remedy, then the verdict."""
    for line in report.fixed:
        out().print(f"[green]fixed:[/] {escape(line)}")
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for col in ("status", "check"):
        table.add_column(col, no_wrap=True)
    table.add_column("finding", overflow="fold")
    for check in report.checks:
        style = _CHECK_STYLE[check.status]
        text = escape(check.message)
        if check.remedy and check.status != "ok":
            text += f"\n[dim]-> {escape(check.remedy)}[/]"
        table.add_row(f"[{style}]{check.status}[/]", escape(check.name), text)
    out().print(table)
    fails = sum(c.status == "fail" for c in report.checks)
    warns = sum(c.status == "warn" for c in report.checks)
    fixable = sum(c.status == "fail" and c.fixable for c in report.checks)
    if report.healthy:
        extra = f" ({warns} warning{'s' * (warns != 1)})" if warns else ""
        out().print(f"[bold green]Healthy[/]{extra}: {escape(str(report.root))}")
    else:
        hint = f"; {fixable} can be repaired with --fix" if fixable else ""
        out().print(
            f"[bold red]{fails} problem{'s' * (fails != 1)}[/]{hint}: {escape(str(report.root))}"
        )


def show_generated(result: GenerateResult) -> None:
    """Files ``generate models`` wrote (or would write): created, updated or unchanged."""
    changed, created = set(result.changed), set(result.created)
    for path in result.files:
        if path in created:
            mark = "[green]create[/]   "
        elif path in changed:
            mark = "[yellow]update[/]   "
        else:
            mark = "[dim]unchanged[/]"
        out().print(f"  {mark} {escape(str(path))}")
    n_created = len(created & changed)
    counts = (
        f"{n_created} create, {len(changed) - n_created} update,"
        f" {len(result.files) - len(changed)} unchanged"
    )
    verb = "would write" if result.dry_run else "wrote"
    out().print(
        f"[bold]{'Dry run' if result.dry_run else 'Done'}:[/] {escape(result.module)}:"
        f" {verb} {len(changed)} files ({counts})."
    )
    tests = [path for path in result.files if path.parent.name == "tests"]
    if tests and not result.dry_run:
        # The tests import the package as a top-level module: they run from the output folder.
        folder = shlex.quote(str(tests[0].parent.parent))
        out().print(
            f"Run its tests: cd {escape(folder)} && python -m pytest tests/{escape(tests[0].name)}"
        )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def show_runs(runs: list[RunSummary]) -> None:
    """Recent runs as a table (the target folds rather than truncates: it is what people look for)."""
    if not runs:
        out().print("No runs recorded yet.")
        return
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for col in ("id", "time", "command", "status", "files", "duration"):
        # the command may wrap ("add-agentic --dry-run"); the target keeps room to stay readable
        table.add_column(col, no_wrap=col != "command", overflow="fold")
    table.add_column("target", overflow="fold", min_width=24)
    for r in runs:
        status = {"completed": "green", "failed": "red"}.get(r.status, "yellow")
        table.add_row(
            r.id[:8],
            r.started_at[5:16].replace("T", " "),  # MM-DD HH:MM: the year is rarely news
            escape(r.command + (" --dry-run" if r.dry_run else "")),
            f"[{status}]{r.status}[/]",
            "-" if r.files_changed is None else str(r.files_changed),
            _duration(r.duration_s),
            escape(_home(r.target)),
        )
    out().print(table)


def _home(path: str) -> str:
    """``/home/me/x`` -> ``~/x``: targets are read more than copied."""
    from pathlib import Path

    home = str(Path.home())
    return "~" + path[len(home) :] if home != "/" and path.startswith(home + "/") else path


def show_run(detail: RunDetail) -> None:
    """One run: its summary, command line, answers and every log line."""
    r = detail.run
    out().print(f"[bold]{escape(r.command)}[/] {escape(r.id)}  {r.status}  {escape(r.target)}")
    if detail.argv:
        out().print(f"command line: {escape(' '.join(detail.argv))}")
    if detail.prompt and detail.prompt.get("response"):
        out().print(f"summary: {escape(str(detail.prompt['response']))}")
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for col in ("time", "type", "message"):
        table.add_column(col, no_wrap=col != "message")
    table.add_column("details", overflow="fold")
    for log in detail.logs:
        meta = {k: v for k, v in log["metadata"].items() if k not in ("traceback",)}
        details = ", ".join(f"{k}={v}" for k, v in meta.items())
        table.add_row(str(log["time"])[11:23], log["type"], escape(log["message"]), escape(details))
    out().print(table)


def show_observing(url: str, db: str) -> None:
    """The observatory's URL on stdout (alone on its line, for scripts), the rest on stderr."""
    out().print(f"observatory: {url}", markup=False)
    err().print(f"reading {escape(db)} read-only; Ctrl-C to stop", highlight=False)
