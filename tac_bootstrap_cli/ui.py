"""All terminal output and questions (Rich lives here and only here; imported lazily by the CLI)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table
from rich.tree import Tree

from tac_bootstrap_cli.detect import Detection
from tac_bootstrap_cli.history import RunDetail, RunSummary
from tac_bootstrap_cli.plan import Action, FileAction, Plan
from tac_bootstrap_cli.scaffold import COMMAND_NAMES, Answers, Result
from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES

_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.UNCHANGED: "dim",
    Action.KEEP: "magenta",
    Action.CONFLICT: "red",
    Action.OBSOLETE: "cyan",
}

_out: Console | None = None
_err: Console | None = None


def out() -> Console:
    """The stdout console (created on first use, so tests that swap sys.stdout see it)."""
    global _out
    if _out is None or _out.file is not sys.stdout:
        _out = Console(file=sys.stdout, highlight=False, soft_wrap=True, emoji=False)
    return _out


def err() -> Console:
    """The stderr console for warnings."""
    global _err
    if _err is None or _err.file is not sys.stderr:
        _err = Console(file=sys.stderr, highlight=False, soft_wrap=True, emoji=False)
    return _err


def warn(message: str) -> None:
    """One warning line on stderr."""
    err().print(f"[yellow]warning:[/] {escape(message)}")


def info(message: str) -> None:
    """One plain line on stdout."""
    out().print(escape(message))


# --- plans and results -------------------------------------------------------------------------


def counts_line(plan: Plan) -> str:
    """``12 create, 3 unchanged`` with colours."""
    parts = [f"[{_STYLE[a]}]{n} {a.value}[/]" for a, n in plan.counts().items()]
    return ", ".join(parts) or "nothing to do"


def show_plan(plan: Plan, *, title: str) -> None:
    """The whole plan as a tree of folders with each file's action and reason, then the counts."""
    tree = Tree(f"[bold]{escape(title)}[/]")
    folders: dict[PurePosixPath, Tree] = {PurePosixPath("."): tree}

    def folder(path: PurePosixPath) -> Tree:
        if path not in folders:
            folders[path] = folder(path.parent).add(f"[bold blue]{escape(path.name)}/[/]")
        return folders[path]

    for fa in plan.actions:
        p = PurePosixPath(fa.path)
        style = _STYLE[fa.action]
        quiet = fa.action is Action.UNCHANGED or fa.reason == "new file"
        reason = "" if quiet else f" [dim]({escape(fa.reason)})[/]"
        folder(p.parent).add(f"[{style}]{fa.action.value:<14}[/] {escape(p.name)}{reason}")
    out().print(tree)
    out().print(f"Plan: {counts_line(plan)}")


def show_listed(actions: Iterable[FileAction]) -> None:
    """Files that were kept, conflicted or left behind: one line each (greppable), with why."""
    listed = list(actions)
    if not listed:
        return
    err().print(f"[bold]Not written ({len(listed)}):[/]")
    for fa in listed:
        err().print(
            f"  [{_STYLE[fa.action]}]{fa.action.value:<14}[/] {escape(fa.path)}: {escape(fa.reason)}"
        )


def show_result(result: Result) -> None:
    """What a command did (or, for a dry run, would do), and what the user should do next."""
    for note in result.notes:
        out().print(f"[dim]note:[/] {escape(note)}")
    show_listed(result.plan.listed())
    if result.dry_run:
        out().print("[bold]Dry run:[/] nothing was written.")
        return
    n = len(result.written)
    out().print(
        f"[bold green]Done:[/] {escape(result.command)} wrote {n} file{'s' * (n != 1)} in"
        f" {escape(str(result.target))} ({counts_line(result.plan)})"
    )
    if result.command == "init":
        out().print(f"Next: cd {escape(_shell_word(str(result.target)))} and run `claude`.")


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


# --- questions ---------------------------------------------------------------------------------


def ask_stack(proposal: Answers, detection: Detection | None) -> Answers:
    """Ask name, language, framework and package manager, offering the proposal as defaults."""
    if detection is not None and detection.found:
        out().print(f"[dim]Detected: {escape('; '.join(detection.evidence))}[/]")
    name = proposal.name
    if name is None or name == "":
        name = Prompt.ask("Project name", console=out())
    language = Prompt.ask(
        "Language", choices=list(LANGUAGES), default=proposal.language or "python", console=out()
    )
    frameworks = list(FRAMEWORKS[language])
    fw_default = proposal.framework if proposal.framework in frameworks else frameworks[0]
    framework = Prompt.ask("Framework", choices=frameworks, default=fw_default, console=out())
    managers = list(LANGUAGES[language])
    pm_default = proposal.package_manager if proposal.package_manager in managers else managers[0]
    pm = Prompt.ask("Package manager", choices=managers, default=pm_default, console=out())
    return Answers(name, language, framework, pm, dict(proposal.commands))


def ask_commands(commands: dict[str, str]) -> dict[str, str]:
    """Ask each command the agents will run, offering the detected or default one."""
    answered = dict(commands)
    for key in COMMAND_NAMES:
        answered[key] = Prompt.ask(
            f"{key.capitalize()} command", default=commands.get(key, ""), console=out()
        )
    return answered


# --- history -----------------------------------------------------------------------------------


def print_json(data: Any) -> None:
    """Machine-readable output: JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def show_runs(runs: list[RunSummary]) -> None:
    """Recent runs as a table (the target folds rather than truncates: it is what people look for)."""
    if not runs:
        out().print("No runs recorded yet.")
        return
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
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for col in ("time", "type", "message"):
        table.add_column(col, no_wrap=col != "message")
    table.add_column("details", overflow="fold")
    for log in detail.logs:
        meta = {k: v for k, v in log["metadata"].items() if k not in ("traceback",)}
        details = ", ".join(f"{k}={v}" for k, v in meta.items())
        table.add_row(str(log["time"])[11:23], log["type"], escape(log["message"]), escape(details))
    out().print(table)
