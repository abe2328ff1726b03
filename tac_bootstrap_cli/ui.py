"""All terminal output and questions (Rich lives here and only here; imported lazily by the CLI).

Over 500 lines on purpose: the house rule is that terminal output lives in this one module, so
every command's screens (plans, results, upgrade conflicts, doctor, runs, questions, progress)
are here, one section each.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.prompt import Prompt
from rich.spinner import Spinner
from rich.table import Table
from rich.tree import Tree

from tac_bootstrap_cli.errors import TacError

# The project's modules are imported where a screen needs them (the history's screens need none
# of the generator's: `runs` does not load templates, config models or Jinja2).
if TYPE_CHECKING:
    from tac_bootstrap_cli.answers import Answers
    from tac_bootstrap_cli.detect import Detection
    from tac_bootstrap_cli.doctor import DoctorReport
    from tac_bootstrap_cli.history import RunDetail, RunSummary
    from tac_bootstrap_cli.modelgen import GenerateResult
    from tac_bootstrap_cli.operation import Result
    from tac_bootstrap_cli.plan import FileAction, Plan
    from tac_bootstrap_cli.upgrade import UpgradeResult

# Keyed by each plan.Action's value (a StrEnum: its members look themselves up here).
_STYLE = {
    "create": "green",
    "update": "yellow",
    "unchanged": "dim",
    "keep-user-edit": "magenta",
    "conflict": "red",
    "obsolete": "cyan",
    "merge": "blue",
    "merge-conflict": "bold red",
    "delete": "red",
    "keep-removed": "magenta",
    "user-deleted": "magenta",
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


# --- progress ----------------------------------------------------------------------------------

PROGRESS_DELAY = 0.5  # seconds a step runs before its progress line appears
_progress_active = False


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(message: str, delay: float = PROGRESS_DELAY) -> Iterator[None]:
    """A transient spinner line with ``message`` on stderr while the block runs, once it has run
    ``delay`` seconds; only when stderr is a terminal (pipes, files and tests get nothing)."""
    global _progress_active
    if _progress_active or not _stderr_is_terminal():  # one line at a time: the outer one shows
        yield
        return
    # No stdout/stderr redirection: our consoles write to sys.stdout/sys.stderr directly, and a
    # quick step must leave no trace at all (a spinner started at once would flash).
    live = Live(
        Spinner("dots", text=escape(message)),
        console=err(),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
        refresh_per_second=10,
    )
    lock = threading.Lock()
    finished = False

    def start() -> None:
        with lock:
            if not finished:
                live.start()

    timer = threading.Timer(delay, start)
    timer.daemon = True
    _progress_active = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:  # the timer may be starting the line right now: stop it after that
            finished = True
            live.stop()
        _progress_active = False


# The recorded steps that can take a while, and what the progress line says meanwhile (never the
# answers step: it may ask questions, and a spinner must not run over them).
STEP_PROGRESS = {
    "detect": "detecting the stack",
    "config": "reading config.yml",
    "render": "rendering the templates",
    "plan": "planning",
    "apply": "writing files",
    "git": "updating the git index",
    "database": "migrating the database",
    "generate": "generating",
}


def step_progress(step: str) -> AbstractContextManager[object]:
    """The progress line around a recorded step that can take a while (``UICallbacks.progress``)."""
    message = STEP_PROGRESS.get(step)
    return progress(f"{message}...") if message is not None else nullcontext()


# --- plans and results -------------------------------------------------------------------------


def counts_line(plan: Plan) -> str:
    """``12 create, 3 unchanged`` with colours."""
    parts = [f"[{_STYLE[a]}]{n} {a.value}[/]" for a, n in plan.counts().items()]
    return ", ".join(parts) or "nothing to do"


def show_plan(plan: Plan, *, title: str, hide_unchanged: bool = False) -> None:
    """The whole plan as a tree of folders with each file's action and reason, then the counts."""
    from tac_bootstrap_cli.plan import Action

    tree = Tree(f"[bold]{escape(title)}[/]")
    folders: dict[PurePosixPath, Tree] = {PurePosixPath("."): tree}

    def folder(path: PurePosixPath) -> Tree:
        if path not in folders:
            folders[path] = folder(path.parent).add(f"[bold blue]{escape(path.name)}/[/]")
        return folders[path]

    for fa in plan.actions:
        if hide_unchanged and fa.action is Action.UNCHANGED:
            continue
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
    # A settings file merged with your values kept is written, yet listed.
    title = "Needs a look" if any(fa.writes for fa in listed) else "Not written"
    err().print(f"[bold]{title} ({len(listed)}):[/]")
    for fa in listed:
        err().print(
            f"  [{_STYLE[fa.action]}]{fa.action.value:<14}[/] {escape(fa.path)}: {escape(fa.reason)}"
        )
        _show_disputes(fa)


def _show_disputes(fa: FileAction) -> None:
    """Settings values both sides changed: each with both values and how to take ours."""
    for line in fa.disputes:
        err().print(f"      {escape(line)}")


def show_result(result: Result) -> None:
    """What a command did (or, for a dry run, would do), and what the user should do next."""
    from tac_bootstrap_cli.scaffold import APP_REASON

    for note in [*result.notes, *missing_command_notes(result)]:
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
        cd = escape(_shell_word(str(result.target)))
        if any(fa.reason == APP_REASON for fa in result.plan.actions):
            # The skeleton's own commands first: they are what proves the project works.
            c = result.config.commands
            out().print(
                f"Next: cd {cd}, {escape(c.install)}, {escape(c.test)}, {escape(c.run)};"
                " then run `claude`."
            )
        else:
            out().print(f"Next: cd {cd} and run `claude`.")


def missing_command_notes(result: Result) -> list[str]:
    """One note per command the detection found nothing for that ``config.yml`` still holds as
    the stack default (which would fail until the project has it)."""
    from tac_bootstrap_cli.stacks import default_commands

    det, p = result.detection, result.config.project
    if det is None or (det.language, det.framework, det.package_manager) != (
        p.language,
        p.framework,
        p.package_manager,
    ):
        return []  # another stack was chosen: the detection says nothing about its commands
    defaults = vars(default_commands(p.language, p.package_manager, p.framework, p.slug))
    notes = []
    for key, why in det.missing.items():
        command = getattr(result.config.commands, key)
        if command == defaults.get(key):
            notes.append(
                f"{why}, so commands.{key} stays the stack default `{command}`, which fails until"
                f" the project has it (or set commands.{key} in config.yml, then `tac-bootstrap"
                " render`)"
            )
    return notes


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)


# --- upgrade -----------------------------------------------------------------------------------


def show_upgrade_plan(plan: Plan, *, diff: bool = False, dry_run: bool = False) -> None:
    """Before anything is written: every file that changes or needs attention (one line each, so
    long reasons are never cut), and the counts."""
    from tac_bootstrap_cli.plan import Action

    out().print(f"[bold]Upgrade plan for {escape(str(plan.root))}{' (dry run)' * dry_run}:[/]")
    for fa in plan.actions:
        if fa.action is not Action.UNCHANGED:
            out().print(
                f"  [{_STYLE[fa.action]}]{fa.action.value:<14}[/] {escape(fa.path)}:"
                f" {escape(fa.reason)}"
            )
    out().print(f"Plan: {counts_line(plan)}")
    if diff:
        show_diffs(plan)


def show_diffs(plan: Plan) -> None:
    """A unified diff (disk -> result) for each file the plan writes or deletes."""
    import difflib

    for fa in plan.actions:
        if not fa.writes:
            continue
        before = fa.before or b""
        after = fa.content or b""
        try:
            a, b = before.decode("utf-8"), after.decode("utf-8")
        except UnicodeDecodeError:
            out().print(f"[bold]{escape(fa.path)}[/]: binary file differs")
            continue
        lines = difflib.unified_diff(
            a.splitlines(keepends=True),
            b.splitlines(keepends=True),
            fromfile=f"a/{fa.path}" if fa.before is not None else "/dev/null",
            tofile=f"b/{fa.path}" if fa.content is not None else "/dev/null",
        )
        for line in lines:
            text = escape(line.rstrip("\n"))
            style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1])
            out().print(f"[{style}]{text}[/]" if style else text)


def show_upgrade_result(result: UpgradeResult) -> None:
    """Notes, the files that need a person, conflicts with how to resolve them, then the outcome."""
    from tac_bootstrap_cli.plan import Action

    for note in result.notes:
        out().print(f"[dim]note:[/] {escape(note)}")
    if result.dirty and not result.dry_run:
        warn(f"went on with {len(result.dirty)} uncommitted change(s) in the work tree (--force)")
    show_listed(fa for fa in result.plan.listed() if not fa.conflicts)
    if result.renames:
        actions = {fa.path: fa.action for fa in result.plan.actions}
        err().print("[bold]Renamed by the new version[/] (the old file goes only if unedited):")
        for old, new in result.renames.items():
            fate = "kept: edited by you" if actions.get(old) is Action.KEEP_REMOVED else "removed"
            err().print(f"  {escape(old)} -> {escape(new)} ({fate})")
    conflicts = result.conflicts
    if conflicts:
        err().print(f"[bold red]Conflicts ({len(conflicts)} files):[/]")
        marked = False
        for fa in conflicts:
            line = f"  [red]{fa.conflicts:>3}[/] in {escape(fa.path)}"
            if fa.disputes or fa.action is Action.CONFLICT:
                # settings: valid JSON with your values kept, or a file that does not parse
                err().print(f"{line}: {escape(fa.reason)}")
                _show_disputes(fa)
            else:
                marked = True
                err().print(line)
        if marked:
            how = (
                "edit each file, keep what you want between <<<<<<< yours / ======= / >>>>>>>"
                " and delete the markers"
            )
            if result.git_root is not None:
                how += ", then `git add <file>` (git status lists them as both modified)"
            err().print(f"To resolve: {escape(how)}; then run `tac-bootstrap doctor`.")
    db = result.database
    if db is not None:
        if db.done:
            out().print(
                f"Database {escape(str(db.path))}: schema v{db.from_version} -> v{db.to_version}"
                f" (backup: {escape(str(db.backup))})"
            )
        else:
            out().print(
                f"Database {escape(str(db.path))}: would migrate schema v{db.from_version} ->"
                f" v{db.to_version} (after a backup copy)"
            )
    versions = f"{result.from_version or '?'} -> {result.to_version}"
    if result.from_overlay or result.to_overlay:
        versions += f", team templates {result.from_overlay or '-'} -> {result.to_overlay or '-'}"
    if result.dry_run:
        out().print(f"[bold]Dry run[/] ({escape(versions)}): nothing was written.")
        return
    n = len(result.written)
    state = f"[red]{len(conflicts)} with conflicts[/]" if conflicts else "[green]no conflicts[/]"
    out().print(
        f"[bold green]Upgraded[/] {escape(str(result.target))} ({escape(versions)}): changed {n}"
        f" file{'s' * (n != 1)} ({counts_line(result.plan)}); {state}."
    )


# --- doctor ------------------------------------------------------------------------------------

_CHECK_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def show_doctor(report: DoctorReport) -> None:
    """One line per finding (status, name, message) with its remedy, then the verdict."""
    for line in report.fixed:
        out().print(f"[green]fixed:[/] {escape(line)}")
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


# --- questions ---------------------------------------------------------------------------------


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


def ask_stack(proposal: Answers, detection: Detection | None) -> Answers:
    """Ask name, language, framework and package manager, offering the proposal as defaults."""
    from tac_bootstrap_cli.answers import Answers
    from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES

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


def ask_name(check: Callable[[str], object]) -> str:
    """Ask for the project name until ``check`` (which raises ``TacError``) accepts one."""
    while True:
        name = Prompt.ask("Project name", console=out())
        try:
            check(name)
        except TacError as exc:  # say why and ask again: the person is right here
            err().print(f"[red]{escape(str(exc))}[/]")
            continue
        return name


def confirm(question: str) -> bool:
    """``question [y/N]``: True for y/yes, False for n/no or Enter; anything else asks again."""
    while True:
        answer = out().input(f"{escape(question)} \\[y/N] ").strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("", "n", "no"):
            return False
        err().print("Please answer y or n.")


def review(plan: Plan, *, always_show: bool) -> bool:
    """Before writing: the plan (as ``--dry-run`` shows it; with ``always_show`` False only when
    files that exist would change), and if some would, whether to apply it (True: go on)."""
    from tac_bootstrap_cli.operation import existing_changes

    changing = existing_changes(plan)
    if not changing and not always_show:
        return True
    show_plan(plan, title=str(plan.root))
    if not changing:
        return True  # only new files: nothing of the user's is touched
    n = len(changing)
    names = ", ".join(fa.path for fa in changing)
    out().print(f"{n} existing file{'s' * (n != 1)} will change: {escape(names)}")
    return confirm("Apply these changes?")


def ask_commands(commands: dict[str, str]) -> dict[str, str]:
    """Ask each command the agents will run, offering the detected or default one."""
    from tac_bootstrap_cli.answers import COMMAND_NAMES

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


# --- observe -----------------------------------------------------------------------------------


def show_observing(url: str, db: str) -> None:
    """The observatory's URL on stdout (alone on its line, for scripts), the rest on stderr."""
    out().print(f"observatory: {url}", markup=False)
    err().print(f"reading {escape(db)} read-only; Ctrl-C to stop", highlight=False)
