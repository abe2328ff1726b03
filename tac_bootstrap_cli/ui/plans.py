"""Plans and what a writing command did: the plan tree, the listed files, results, upgrade's plan,
diffs, conflicts and outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from tac_bootstrap_cli.ui.console import err, escape, out, say, warn

if TYPE_CHECKING:
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


def counts_line(plan: Plan) -> str:
    """``12 create, 3 unchanged`` with colours."""
    return _counts({a.value: n for a, n in plan.counts().items()}, markup=True)


def _counts(counts: Mapping[str, int], *, markup: bool) -> str:
    """``12 create, 3 unchanged`` for paths per action (by value), coloured with ``markup``."""
    parts = [f"[{_STYLE[a]}]{n} {a}[/]" if markup else f"{n} {a}" for a, n in counts.items()]
    return ", ".join(parts) or "nothing to do"


def show_plan(plan: Plan, *, title: str, hide_unchanged: bool = False) -> None:
    """The whole plan as a tree of folders with each file's action and reason, then the counts."""
    from rich.tree import Tree

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

    # Each line as plain text and as markup: a pipe gets the text without Rich (ui.console.say).
    for note in [*result.notes, *missing_command_notes(result)]:
        say(f"note: {note}", _markup("[dim]note:[/] {}", note))
    show_listed(result.plan.listed())
    if result.dry_run:
        say("Dry run: nothing was written.", _markup("[bold]Dry run:[/] nothing was written."))
        return
    n, command, target = len(result.written), result.command, str(result.target)
    show_done(command, target, n, {a.value: count for a, count in result.plan.counts().items()})
    if command == "init":
        cd = _shell_word(target)
        if any(fa.reason == APP_REASON for fa in result.plan.actions):
            # The skeleton's own commands first: they are what proves the project works.
            c = result.config.commands
            say(
                f"Next: cd {cd}, {c.install}, {c.test}, {c.run}; then run `claude`.",
                _markup(
                    "Next: cd {}, {}, {}, {}; then run `claude`.", cd, c.install, c.test, c.run
                ),
            )
        else:
            say(f"Next: cd {cd} and run `claude`.", _markup("Next: cd {} and run `claude`.", cd))


def show_done(command: str, target: str, written: int, counts: Mapping[str, int]) -> None:
    """The closing line of a writing command: how many files it wrote where, and the paths per
    action (``render`` answered by its receipt says it too)."""
    files = f"file{'s' * (written != 1)}"
    say(
        f"Done: {command} wrote {written} {files} in {target} ({_counts(counts, markup=False)})",
        lambda: (
            f"[bold green]Done:[/] {escape(command)} wrote {written} {files} in"
            f" {escape(target)} ({_counts(counts, markup=True)})"
        ),
    )


def _markup(template: str, *values: str) -> Callable[[], str]:
    """``template`` (markup) with each ``{}`` an escaped value, made when called (``say``)."""
    return lambda: template.format(*(escape(value) for value in values))


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
    for note in result.notes:
        out().print(f"[dim]note:[/] {escape(note)}")
    if result.dirty and not result.dry_run:
        warn(f"went on with {len(result.dirty)} uncommitted change(s) in the work tree (--force)")
    show_listed(fa for fa in result.plan.listed() if not fa.conflicts)
    _show_renames(result)
    _show_conflicts(result)
    _show_database(result)
    versions = f"{result.from_version or '?'} -> {result.to_version}"
    if result.from_overlay or result.to_overlay:
        versions += f", team templates {result.from_overlay or '-'} -> {result.to_overlay or '-'}"
    if result.dry_run:
        out().print(f"[bold]Dry run[/] ({escape(versions)}): nothing was written.")
        return
    n = len(result.written)
    conflicts = result.conflicts
    state = f"[red]{len(conflicts)} with conflicts[/]" if conflicts else "[green]no conflicts[/]"
    out().print(
        f"[bold green]Upgraded[/] {escape(str(result.target))} ({escape(versions)}): changed {n}"
        f" file{'s' * (n != 1)} ({counts_line(result.plan)}); {state}."
    )


def _show_renames(result: UpgradeResult) -> None:
    """Files the new version renamed, and whether the old one goes."""
    from tac_bootstrap_cli.plan import Action

    if not result.renames:
        return
    actions = {fa.path: fa.action for fa in result.plan.actions}
    err().print("[bold]Renamed by the new version[/] (the old file goes only if unedited):")
    for old, new in result.renames.items():
        fate = "kept: edited by you" if actions.get(old) is Action.KEEP_REMOVED else "removed"
        err().print(f"  {escape(old)} -> {escape(new)} ({fate})")


def _show_conflicts(result: UpgradeResult) -> None:
    """Each file with conflicts, then how to resolve the marked ones."""
    from tac_bootstrap_cli.plan import Action

    conflicts = result.conflicts
    if not conflicts:
        return
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


def _show_database(result: UpgradeResult) -> None:
    """The project database's schema migration, done or (dry run) to be done."""
    db = result.database
    if db is None:
        return
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
