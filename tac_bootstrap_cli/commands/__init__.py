"""The Typer commands: parse arguments, call the library functions, hand results to ``ui``.

Each command only turns its arguments into a call a library user could make (``scaffold``,
``upgrade``, ``generate``, ``doctor``, ``history``) and shows what it returns. Errors become a
message and an exit code in one place (``base.report_error``), through ``base.Command``. Nothing
is kept between runs at module level: ``--debug`` and the command line come from Click's context.
Heavy modules (Rich via ``ui``, Jinja2 and Pydantic via ``scaffold``) are imported inside the
commands, so building the app (for ``--help``) costs little more than importing Typer.

One module (a reason for its length): the declarations of every command, one per command, so the
command line reads in one place; what they share lives in ``base``.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.commands.base import (
    CONTEXT,
    EPILOG,
    EXIT_CODES,
    HELP,
    UPGRADE_EXIT_CODES,
    WRITE_EXIT_CODES,
    AsJson,
    Command,
    Debug,
    DryRun,
    Force,
    Framework,
    GeneratedProject,
    Group,
    Language,
    NewFramework,
    NewLanguage,
    PackageManager,
    Root,
    Templates,
    Trust,
    Yes,
    command_line,
    command_name,
    epilog,
)
from tac_bootstrap_cli.errors import EXIT_FAILURE, UsageError

if TYPE_CHECKING:
    from tac_bootstrap_cli.operation import Settings, UICallbacks

T = TypeVar("T")


def _typer(**options: Any) -> typer.Typer:
    """A Typer app with the CLI's shared settings: plain help (Rich-formatted help would import
    Rich on every --help) and ``CONTEXT``."""
    return typer.Typer(rich_markup_mode=None, context_settings=CONTEXT, **options)


app = _typer(
    cls=Root,
    name="tac-bootstrap",
    help=HELP,
    epilog=EPILOG,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
)
runs_app = _typer(
    cls=Group,
    help="The generator's own history of runs.",
    epilog=epilog("tac-bootstrap runs -n 5"),
    invoke_without_command=True,
)
app.add_typer(runs_app, name="runs")
generate_app = _typer(
    cls=Root,
    help="Generate code from declarative specs.",
    epilog=epilog("tac-bootstrap generate models specs/models/shop.yaml -o src"),
    no_args_is_help=True,
)
app.add_typer(generate_app, name="generate")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tac-bootstrap {__version__}")
        raise typer.Exit()


@app.callback(epilog=EPILOG)
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    debug: Debug = False,  # read from the context by each command (_debug)
) -> None:
    """Add an agentic layer (Claude Code + AI Developer Workflows) to a software project."""
    # An interrupt stays cli.main's until the command itself starts (base._reported): the
    # subcommand's arguments are parsed after this callback, and parsing is not work.


# --- what the writing commands share -----------------------------------------------------------


def _interactive(yes: bool) -> bool:
    return not yes and stdin_is_tty()


def stdin_is_tty() -> bool:
    """True when a person can answer questions (a separate function so tests can pretend)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _callbacks(*, ask: bool, review: bool, always_show: bool, dry_run: bool) -> UICallbacks:
    """What the command shows and asks: ``ask`` the stack questions; ``review`` the plan and, when
    files that exist would change, "Apply these changes?" (``always_show``: the plan even when
    only new files are written)."""
    from tac_bootstrap_cli import ui
    from tac_bootstrap_cli.operation import UICallbacks

    callbacks = UICallbacks()
    if ask:
        callbacks.ask_stack = ui.ask_stack
        callbacks.ask_commands = ui.ask_commands
    if dry_run:
        callbacks.on_plan = lambda plan: ui.show_plan(plan, title=f"{plan.root} (dry run)")
    elif review:
        callbacks.confirm = lambda plan: ui.review(plan, always_show=always_show)
    return callbacks


@dataclasses.dataclass(frozen=True)
class Writing:
    """The options a writing command was given that the operation takes as they are."""

    dry_run: bool = False
    force: bool = False
    templates: Path | None = None
    trust: bool = False


def _recorded(
    ctx: typer.Context, callbacks: UICallbacks, call: Callable[[Settings], T], given: Writing
) -> T:
    """``call`` (a library function) with the options every command that writes takes: force,
    dry run, team templates, trust (``given``), the UI callbacks (with the progress line) and
    this run's history recorder. The one body of init, add-agentic, render, upgrade and generate
    models."""
    from tac_bootstrap_cli import ui
    from tac_bootstrap_cli.history import RunRecorder

    with RunRecorder(command_name(ctx), command_line(ctx), dry_run=given.dry_run) as recorder:
        return call(
            {
                "force": given.force,
                "dry_run": given.dry_run,
                "overlay": given.templates,
                "trust": given.trust,
                "ui": dataclasses.replace(callbacks, progress=ui.step_progress),
                "recorder": recorder,
            }
        )


def _project_name(yes: bool) -> str:
    """The name ``init`` was not given: asked for at a terminal, else a usage error."""
    if not _interactive(yes):
        raise UsageError(
            "missing argument NAME, the project name",
            hint="as in `tac-bootstrap init my-app`; it is asked for only at a terminal",
        )
    from tac_bootstrap_cli import ui
    from tac_bootstrap_cli.names import validate_project_name

    return ui.ask_name(validate_project_name)


# --- commands ----------------------------------------------------------------------------------


@app.command(
    cls=Command,
    epilog=epilog("tac-bootstrap init my-app --language go -o ~/code", WRITE_EXIT_CODES),
)
def init(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="Project name; the folder DIR/NAME is created (asked for at a terminal when"
            " left out).",
            show_default=False,
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Where to create the project (default: here)."),
    ] = None,
    language: NewLanguage = None,
    framework: NewFramework = None,
    package_manager: PackageManager = None,
    yes: Yes = False,
    dry_run: DryRun = False,
    force: Force = False,
    templates: Templates = None,
    trust: Trust = False,
    layer_only: Annotated[
        bool,
        typer.Option(
            "--layer-only",
            help="Only the agentic layer, no application skeleton (by default a new project"
            " gets a minimal app for its stack whose test, lint and run commands work).",
        ),
    ] = False,
    debug: Debug = False,
) -> None:
    """Create DIR/NAME: a minimal application for the stack with the agentic layer (all or
    nothing)."""
    from tac_bootstrap_cli import scaffold, ui

    named = name if name is not None else _project_name(yes)
    answers = scaffold.Answers(named, language, framework, package_manager)
    asking = _interactive(yes)
    # A new project is all new files: the plan is shown (and asked about) only when files that
    # exist would change (--force into a folder, a rerun).
    callbacks = _callbacks(ask=asking, review=asking, always_show=False, dry_run=dry_run)
    result = _recorded(
        ctx,
        callbacks,
        lambda settings: scaffold.init_project(
            named, output_dir, answers=answers, layer_only=layer_only, **settings
        ),
        Writing(dry_run, force, templates, trust),
    )
    ui.show_result(result)


@app.command(
    "add-agentic",
    cls=Command,
    epilog=epilog("tac-bootstrap add-agentic ~/code/shop --dry-run", WRITE_EXIT_CODES),
)
def add_agentic(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The existing project (default: here).")
    ] = Path(),
    name: Annotated[
        str | None, typer.Option("--name", help="Project name (default: the folder's name).")
    ] = None,
    language: Language = None,
    framework: Framework = None,
    package_manager: PackageManager = None,
    yes: Yes = False,
    dry_run: DryRun = False,
    force: Force = False,
    templates: Templates = None,
    trust: Trust = False,
    debug: Debug = False,
) -> None:
    """Add the layer to an existing project (stack detected)."""
    from tac_bootstrap_cli import scaffold, ui

    answers = scaffold.Answers(name, language, framework, package_manager)
    asking = _interactive(yes)
    callbacks = _callbacks(ask=asking, review=asking, always_show=True, dry_run=dry_run)
    result = _recorded(
        ctx,
        callbacks,
        lambda settings: scaffold.add_agentic(path, answers=answers, **settings),
        Writing(dry_run, force, templates, trust),
    )
    ui.show_result(result)


@app.command(
    cls=Command,
    epilog=epilog("tac-bootstrap render ~/code/shop", WRITE_EXIT_CODES),
)
def render(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The project holding config.yml (default: here).")
    ] = Path(),
    yes: Yes = False,
    dry_run: DryRun = False,
    force: Force = False,
    templates: Templates = None,
    trust: Trust = False,
    debug: Debug = False,
) -> None:
    """Render again from PATH/config.yml (which is not changed)."""
    from tac_bootstrap_cli import ui

    review = _interactive(yes)
    if not (dry_run or force or templates or trust):
        from tac_bootstrap_cli.uptodate import render_from_receipt

        settled = render_from_receipt(path, command_line(ctx))
        if settled is not None:  # nothing changed since a render that changed nothing
            if review:  # the plan a terminal sees, as the full render shows it
                ui.review(settled.plan(), always_show=True)
            ui.show_done("render", str(settled.target), 0, {"unchanged": len(settled.files)})
            return
    from tac_bootstrap_cli import scaffold

    callbacks = _callbacks(ask=False, review=review, always_show=True, dry_run=dry_run)
    result = _recorded(
        ctx,
        callbacks,
        lambda settings: scaffold.render_again(path, **settings),
        Writing(dry_run, force, templates, trust),
    )
    ui.show_result(result)


@app.command(
    cls=Command, epilog=epilog("tac-bootstrap upgrade --dry-run --diff", UPGRADE_EXIT_CODES)
)
def upgrade(
    ctx: typer.Context,
    path: GeneratedProject = Path(),
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan (and diffs with --diff); write nothing."),
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Show a unified diff for each file that changes.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Go on although the git work tree has uncommitted changes."),
    ] = False,
    templates: Templates = None,
    trust: Trust = False,
    debug: Debug = False,
) -> None:
    """Bring the project to the installed templates, merging your edits (3-way)."""
    from tac_bootstrap_cli import ui
    from tac_bootstrap_cli import upgrade as upgrading
    from tac_bootstrap_cli.operation import UICallbacks

    callbacks = UICallbacks(
        on_plan=lambda plan: ui.show_upgrade_plan(plan, diff=diff, dry_run=dry_run)
    )
    result = _recorded(
        ctx,
        callbacks,
        lambda settings: upgrading.upgrade(path, **settings),
        Writing(dry_run, force, templates, trust),
    )
    ui.show_upgrade_result(result)
    if result.conflicts:
        raise typer.Exit(EXIT_FAILURE)


@app.command(
    cls=Command,
    epilog=epilog(
        "tac-bootstrap doctor --fix",
        "Exit codes: 0 healthy (warnings allowed), 1 problems remain, 2 usage error.",
    ),
)
def doctor(
    path: GeneratedProject = Path(),
    fix: Annotated[
        bool,
        typer.Option("--fix", help="Repair what can be repaired without touching your edits."),
    ] = False,
    run_hooks: Annotated[
        bool,
        typer.Option(
            "--run-hooks",
            help="Also run hook code that is not what tac-bootstrap generates (the project's"
            " own code: only in a project you trust).",
        ),
    ] = False,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Check the agentic layer's health; each problem with a one-line remedy."""
    from tac_bootstrap_cli import ui
    from tac_bootstrap_cli.doctor import run_doctor

    with ui.progress("checking the layer" + " and running its hooks" * run_hooks + "..."):
        found = run_doctor(path, fix=fix, run_hooks=run_hooks)
    if as_json:
        ui.print_json(found.as_dict())
    else:
        ui.show_doctor(found)
    if not found.healthy:
        raise typer.Exit(EXIT_FAILURE)


class ModelDialect(StrEnum):
    """``generate models --dialect``: the names of ``modelgen.dialects.DIALECTS`` (not imported
    here: modelgen loads PyYAML, and only the command itself needs it)."""

    SQLITE = "sqlite"
    POSTGRES = "postgres"


@generate_app.command(
    "models",
    cls=Command,
    epilog=epilog("tac-bootstrap generate models specs/models/shop.yaml -o src", EXIT_CODES),
)
def generate_models(
    ctx: typer.Context,
    spec: Annotated[
        Path,
        typer.Argument(metavar="SPEC", help="The model spec (YAML), e.g. specs/models/x.yaml."),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="DIR", help="Where the package and its tests go."),
    ] = Path(),
    dry_run: DryRun = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite output files that were not generated by us."),
    ] = False,
    dialect: Annotated[
        ModelDialect,
        typer.Option(
            "--dialect",
            help="The database: sqlite (stdlib sqlite3) or postgres (psycopg 3;"
            " its tests use TEST_DATABASE_URL).",
        ),
    ] = ModelDialect.SQLITE,
    debug: Debug = False,
) -> None:
    """Generate Pydantic models, a database schema, a repository and tests from SPEC."""
    from tac_bootstrap_cli import operation, ui

    result = _recorded(
        ctx,
        operation.UICallbacks(),
        lambda settings: operation.generate_models(spec, out, dialect.value, **settings),
        Writing(dry_run, force),
    )
    ui.show_generated(result)


@runs_app.callback()
def runs(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10_000, help="How many runs to list.")
    ] = 20,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """List recent runs of tac-bootstrap (time, command, target, status, files, duration)."""
    if ctx.invoked_subcommand is not None:
        return
    from tac_bootstrap_cli import history, ui

    found = history.list_runs(limit)
    if as_json:
        ui.print_json([r.as_dict() for r in found])
    else:
        ui.show_runs(found)


@runs_app.command("show", cls=Command, epilog=epilog("tac-bootstrap runs show 3f2a"))
def runs_show(
    run_id: Annotated[
        str, typer.Argument(metavar="RUN_ID", help="A run id (or a unique prefix of one).")
    ],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Show one run: command line, answers, summary, logs."""
    from tac_bootstrap_cli import history, ui

    detail = history.show_run(run_id)
    if as_json:
        ui.print_json(detail.as_dict())
    else:
        ui.show_run(detail)


@app.command(
    cls=Command,
    epilog=epilog(
        "tac-bootstrap observe ~/code/shop --open; tac-bootstrap observe ~/code/shop --team",
        "Exit codes: 0 stopped (Ctrl-C), 1 no readable database, 2 usage error.",
    ),
)
def observe(
    path: GeneratedProject = Path(),
    history: Annotated[
        bool, typer.Option("--history", help="Observe tac-bootstrap's own run history instead.")
    ] = False,
    team: Annotated[
        bool,
        typer.Option(
            "--team",
            help="Every machine's runs on the team's PostgreSQL (TAC_DB_URL or database.url).",
        ),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", metavar="URL", help="Observe this postgresql:// URL (or file) instead."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Port (default: a free one from 8765)."),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; anything but 127.0.0.1 is exposed."),
    ] = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help="Open it in a browser.")] = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE", help="Write one static HTML file; no server."),
    ] = None,
    debug: Debug = False,
) -> None:
    """Serve a live local page of the ADW runs, prompts, tool calls, tokens and costs."""
    from tac_bootstrap_cli import ui
    from tac_bootstrap_cli.errors import TacError
    from tac_bootstrap_cli.observe import server
    from tac_bootstrap_cli.observe.server import ObserveError

    try:
        if history:
            target = server.history_target()
        elif team or db:
            target = server.team_target(path, db)
        else:
            target = server.project_target(path)
        if report is not None:
            detailed = server.write_report(target, report)
            ui.info(f"report: {report} ({detailed} runs in detail)")
            return
        if host not in server.LOCAL_HOSTS:
            ui.warn(server.EXPOSED_WARNING.format(host=host))

        def ready(url: str) -> None:
            ui.show_observing(url, target.shown)
            if open_browser:
                import webbrowser

                webbrowser.open(url)

        # The server runs for hours: the cyclic collector the CLI keeps off for short commands
        # (cli.main) is needed again.
        gc.enable()
        server.serve(target, host=host, port=port, on_ready=ready)
    except ObserveError as exc:
        raise TacError(str(exc)) from None
