"""The Typer commands: parse arguments, call ``scaffold``/``history``, hand results to ``ui``.

Heavy modules (Rich via ``ui``, Jinja2 and Pydantic via ``scaffold``) are imported inside the
commands, so building the app (for ``--help``) costs little more than importing Typer.
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, Declined, TacError, UsageError

if TYPE_CHECKING:
    from tac_bootstrap_cli.history import Recorder
    from tac_bootstrap_cli.operation import UICallbacks
    from tac_bootstrap_cli.plan import FileAction
    from tac_bootstrap_cli.scaffold import Answers, Result

EXIT_CODES = (
    "Exit codes: 0 success, 1 failure, 2 usage error (bad option, answer or config file),"
    " 130 interrupted (rerun to complete)."
)
# The writing commands also exit 1 when the user answers no to "Apply these changes?".
WRITE_EXIT_CODES = (
    "Exit codes: 0 success, 1 failure or changes declined (nothing written), 2 usage error"
    " (bad option, answer or config file), 130 interrupted (rerun to complete)."
)


def _epilog(example: str, exit_codes: str | None = None) -> str:
    """Help's closing text: one example (each command has one), then the exit codes if any."""
    # \b keeps Click from re-wrapping the example into the next paragraph.
    text = f"\b\nExample: {example}"
    return f"{text}\n\n{exit_codes}" if exit_codes else text


EPILOG = _epilog("tac-bootstrap init my-app", EXIT_CODES)
HELP = "Add an agentic layer (Claude Code + AI Developer Workflows) to a software project."
# A fixed help width keeps help text identical on every terminal (and the fast path exact);
# -h is --help on every command (subcommands inherit help_option_names from the root context).
CONTEXT = {"terminal_width": 80, "max_content_width": 80, "help_option_names": ["-h", "--help"]}


class Command(TyperCommand):
    """A Typer command whose usage line names a required argument ``NAME``, not ``{NAME}``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:  # Typer's own (vendored) Click context
        """The usage line's pieces, with Typer's braces around required arguments dropped."""
        # Braces read as shell brace expansion or a placeholder to fill in with braces.
        return [_unbraced(piece) for piece in super().collect_usage_pieces(ctx)]


def _unbraced(piece: str) -> str:
    if piece.startswith("{") and "}" in piece:
        name, _, rest = piece[1:].partition("}")
        return name + rest
    return piece


app = typer.Typer(
    name="tac-bootstrap",
    help=HELP,
    epilog=EPILOG,
    # Plain help output: Rich-formatted help would import Rich on every --help.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    context_settings=CONTEXT,
)
runs_app = typer.Typer(
    help="The generator's own history of runs.",
    epilog=_epilog("tac-bootstrap runs -n 5"),
    rich_markup_mode=None,
    invoke_without_command=True,
    context_settings=CONTEXT,
)
app.add_typer(runs_app, name="runs")
generate_app = typer.Typer(
    help="Generate code from declarative specs.",
    epilog=_epilog("tac-bootstrap generate models specs/models/shop.yaml -o src"),
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT,
)
app.add_typer(generate_app, name="generate")

state: dict[str, Any] = {"debug": False, "argv": None}


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
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Add an agentic layer (Claude Code + AI Developer Workflows) to a software project."""
    state["debug"] = debug
    # From here on an interrupt is the command's to handle (cli.main caught it until now).
    with contextlib.suppress(ValueError):  # not the main thread: cli.main set nothing there
        signal.signal(signal.SIGINT, signal.default_int_handler)


# --- shared options ----------------------------------------------------------------------------

Language = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        help="python, typescript, javascript, go or rust (default: detected, else python).",
    ),
]
Framework = Annotated[
    str | None,
    typer.Option(
        "--framework",
        help="fastapi, django, flask, nextjs, react, express or none (default: detected).",
    ),
]
# init makes a new project: there is nothing to detect, so its help names the real defaults.
NewLanguage = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        help="python, typescript, javascript, go or rust (default: python, or the one"
        " --package-manager implies).",
    ),
]
NewFramework = Annotated[
    str | None,
    typer.Option(
        "--framework",
        help="fastapi, django, flask, nextjs, react, express or none (default: none).",
    ),
]
PackageManager = Annotated[
    str | None,
    typer.Option(
        "--package-manager", help="uv, poetry, pip, pipenv, npm, pnpm, yarn, bun, go, cargo."
    ),
]
Yes = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Take the defaults, ask nothing (implied without a terminal)."
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")]
Force = Annotated[
    bool,
    typer.Option("--force", help="Overwrite files the user changed or that existed before."),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]
Templates = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        metavar="DIR",
        help="Team templates laid over the built-in ones (remembered in config.yml).",
    ),
]
Trust = Annotated[
    bool,
    typer.Option(
        "--trust",
        help="Trust the team templates that come with the project, as they are now"
        " (remembered outside it; needed again when they change).",
    ),
]


@contextlib.contextmanager
def _guard(debug: bool, argv: list[str] | None = None) -> Iterator[None]:
    """Map errors to one line on stderr and an exit code; ``--debug`` shows the traceback.

    ``argv``: the command line; an error that a rerun completes names it (shell-quoted)."""
    debug = debug or bool(state["debug"])
    try:
        yield
    except Declined as exc:  # the user's own answer: no "error:" prefix, no rerun hint
        if debug:
            raise
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(exc.exit_code) from None
    except TacError as exc:
        if argv is not None:
            exc.rerun_with(shlex.join(argv))
        if debug:
            raise
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        if debug:
            raise
        sys.stderr.write("interrupted; nothing more was written\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except EOFError:  # Ctrl-D at a question: the user cancelled before anything was written
        if debug:
            raise
        sys.stderr.write("cancelled: input ended before every question was answered\n")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:  # unexpected: still one line, unless --debug
        if debug:
            raise
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)\n"
        )
        raise typer.Exit(EXIT_FAILURE) from None


def _argv(command: str, arguments: list[str], params: dict[str, Any]) -> list[str]:
    """The command line (for the history, and to say what to rerun): the real one from
    ``main``, else rebuilt from the arguments and options (when called without ``main``)."""
    if state["argv"] is not None:
        return ["tac-bootstrap", *state["argv"]]
    rebuilt = ["tac-bootstrap", *command.split()]
    options: list[str] = []
    for key, value in params.items():
        if value is None or value is False:
            continue
        options.append(f"--{key.replace('_', '-')}")
        if value is not True:
            options.append(str(value))
    if any(a.startswith("-") for a in arguments):  # e.g. a folder named -x: not an option
        return [*rebuilt, *options, "--", *arguments]
    return [*rebuilt, *arguments, *options]


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


# The recorder's steps that can take a while, and what the progress line says meanwhile.
_PROGRESS = {
    "detect": "detecting the stack",
    "config": "reading config.yml",
    "render": "rendering the templates",
    "plan": "planning",
    "apply": "writing files",
    "git": "updating the git index",
    "database": "migrating the database",
    "generate": "generating",
}


class _Progressing:
    """A ``Recorder`` that records through ``inner`` and shows a progress line for slow steps
    (never around questions: the ``answers`` step may ask some)."""

    def __init__(self, inner: Recorder) -> None:
        self._inner = inner

    @contextlib.contextmanager
    def step(self, name: str, **meta: object) -> Iterator[Any]:
        """The inner step, with a progress line (at a terminal, after a moment) for slow ones."""
        from tac_bootstrap_cli import ui

        with self._inner.step(name, **meta) as result:
            message = _PROGRESS.get(name)
            if message is None:
                yield result
            else:
                with ui.progress(f"{message}..."):
                    yield result

    def file_action(self, fa: FileAction, *, written: bool) -> None:
        """Recorded by the inner recorder."""
        self._inner.file_action(fa, written=written)

    def warning(self, message: str, **meta: object) -> None:
        """Recorded by the inner recorder."""
        self._inner.warning(message, **meta)

    def note_answers(self, answers: Mapping[str, Any]) -> None:
        """Recorded by the inner recorder."""
        self._inner.note_answers(answers)

    def set_metadata(self, **meta: object) -> None:
        """Recorded by the inner recorder."""
        self._inner.set_metadata(**meta)

    def set_summary(self, summary: str) -> None:
        """Recorded by the inner recorder."""
        self._inner.set_summary(summary)


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


def _answers(
    name: str | None, language: str | None, framework: str | None, package_manager: str | None
) -> Answers:
    from tac_bootstrap_cli.scaffold import Answers

    return Answers(name, language, framework, package_manager)


def _finish(result: Result) -> None:
    from tac_bootstrap_cli import ui

    ui.show_result(result)


# --- commands ----------------------------------------------------------------------------------


@app.command(
    cls=Command,
    epilog=_epilog("tac-bootstrap init my-app --language go -o ~/code", WRITE_EXIT_CODES),
)
def init(
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
    argv = _argv("init", [] if name is None else [name], _params(locals()))
    with _guard(debug, argv):
        if name is None:
            name = _project_name(yes)
        from tac_bootstrap_cli import scaffold
        from tac_bootstrap_cli.history import RunRecorder
        from tac_bootstrap_cli.trust import granting

        with RunRecorder("init", argv, dry_run=dry_run) as rec, granting(trust):
            result = scaffold.init_project(
                name,
                output_dir,
                answers=_answers(name, language, framework, package_manager),
                force=force,
                dry_run=dry_run,
                # A new project is all new files: the plan is shown (and asked about) only
                # when files that exist would change (--force into a folder, a rerun).
                ui=_callbacks(
                    ask=_interactive(yes),
                    review=_interactive(yes),
                    always_show=False,
                    dry_run=dry_run,
                ),
                recorder=_Progressing(rec),
                overlay=templates,
                layer_only=layer_only,
            )
        _finish(result)


@app.command(
    "add-agentic",
    cls=Command,
    epilog=_epilog("tac-bootstrap add-agentic ~/code/shop --dry-run", WRITE_EXIT_CODES),
)
def add_agentic(
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
    argv = _argv("add-agentic", [str(path)], {"name": name, **_params(locals())})
    with _guard(debug, argv):
        from tac_bootstrap_cli import scaffold
        from tac_bootstrap_cli.history import RunRecorder
        from tac_bootstrap_cli.trust import granting

        with RunRecorder("add-agentic", argv, dry_run=dry_run) as rec, granting(trust):
            result = scaffold.add_agentic(
                path,
                answers=_answers(name, language, framework, package_manager),
                force=force,
                dry_run=dry_run,
                ui=_callbacks(
                    ask=_interactive(yes),
                    review=_interactive(yes),
                    always_show=True,
                    dry_run=dry_run,
                ),
                recorder=_Progressing(rec),
                overlay=templates,
            )
        _finish(result)


@app.command(
    cls=Command,
    epilog=_epilog("tac-bootstrap render ~/code/shop", WRITE_EXIT_CODES),
)
def render(
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
    argv = _argv("render", [str(path)], _params(locals()))
    with _guard(debug, argv):
        from tac_bootstrap_cli import scaffold
        from tac_bootstrap_cli.history import RunRecorder
        from tac_bootstrap_cli.trust import granting

        with RunRecorder("render", argv, dry_run=dry_run) as rec, granting(trust):
            result = scaffold.render_again(
                path,
                force=force,
                dry_run=dry_run,
                ui=_callbacks(
                    ask=False, review=_interactive(yes), always_show=True, dry_run=dry_run
                ),
                recorder=_Progressing(rec),
                overlay=templates,
            )
        _finish(result)


UPGRADE_EPILOG = (
    "Exit codes: 0 upgraded with no conflict left, 1 conflicts remain (listed, with how to"
    " resolve them) or failure, 2 usage error, 3 uncommitted changes in the git work tree"
    " (nothing done; --force goes on), 130 interrupted (rerun the same command to complete)."
)


@app.command(cls=Command, epilog=_epilog("tac-bootstrap upgrade --dry-run --diff", UPGRADE_EPILOG))
def upgrade(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The generated project (default: here).")
    ] = Path(),
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
    argv = _argv("upgrade", [str(path)], {**_params(locals()), "diff": diff})
    with _guard(debug, argv):
        from tac_bootstrap_cli import ui
        from tac_bootstrap_cli import upgrade as upgrading
        from tac_bootstrap_cli.history import RunRecorder
        from tac_bootstrap_cli.operation import UICallbacks
        from tac_bootstrap_cli.trust import granting

        callbacks = UICallbacks(
            on_plan=lambda plan: ui.show_upgrade_plan(plan, diff=diff, dry_run=dry_run)
        )
        with RunRecorder("upgrade", argv, dry_run=dry_run) as rec, granting(trust):
            result = upgrading.upgrade(
                path,
                dry_run=dry_run,
                force=force,
                overlay=templates,
                ui=callbacks,
                recorder=_Progressing(rec),
            )
        ui.show_upgrade_result(result)
    if result.conflicts:
        raise typer.Exit(EXIT_FAILURE)


@app.command(
    cls=Command,
    epilog=_epilog(
        "tac-bootstrap doctor --fix",
        "Exit codes: 0 healthy (warnings allowed), 1 problems remain, 2 usage error.",
    ),
)
def doctor(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The generated project (default: here).")
    ] = Path(),
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    debug: Debug = False,
) -> None:
    """Check the agentic layer's health; each problem with a one-line remedy."""
    with _guard(debug):
        from tac_bootstrap_cli import ui
        from tac_bootstrap_cli.doctor import run_doctor

        with ui.progress("checking the layer" + " and running its hooks" * run_hooks + "..."):
            report = run_doctor(path, fix=fix, run_hooks=run_hooks)
        if as_json:
            ui.print_json(report.as_dict())
        else:
            ui.show_doctor(report)
    if not report.healthy:
        raise typer.Exit(EXIT_FAILURE)


def _params(local: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "output_dir",
        "language",
        "framework",
        "package_manager",
        "yes",
        "dry_run",
        "force",
        "templates",
        "trust",
        "layer_only",
    )
    return {
        k: (str(local[k]) if isinstance(local[k], Path) else local[k]) for k in keep if k in local
    }


@generate_app.command(
    "models",
    cls=Command,
    epilog=_epilog("tac-bootstrap generate models specs/models/shop.yaml -o src", EXIT_CODES),
)
def generate_models(
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
    debug: Debug = False,
) -> None:
    """Generate Pydantic models, a SQLite schema, a repository and tests from SPEC."""
    with _guard(debug):
        from tac_bootstrap_cli import modelgen, ui
        from tac_bootstrap_cli.history import RunRecorder

        argv = _argv("generate models", [str(spec)], {"out": str(out), **_params(locals())})
        with RunRecorder("generate models", argv, dry_run=dry_run) as rec:
            rec.set_metadata(target=str(out.resolve()), spec=str(spec))
            with _Progressing(rec).step("generate"):
                result = modelgen.generate_models(spec, out, dry_run=dry_run, force=force)
            rec.set_metadata(files_changed=0 if dry_run else len(result.changed))
            rec.set_summary(
                f"generate models {result.module}: {len(result.changed)} of"
                f" {len(result.files)} files {'would change' if dry_run else 'changed'}"
            )
        ui.show_generated(result)


@runs_app.callback()
def runs(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10_000, help="How many runs to list.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    debug: Debug = False,
) -> None:
    """List recent runs of tac-bootstrap (time, command, target, status, files, duration)."""
    if ctx.invoked_subcommand is not None:
        return
    with _guard(debug):
        from tac_bootstrap_cli import history, ui

        found = history.list_runs(limit)
        if as_json:
            ui.print_json([r.as_dict() for r in found])
        else:
            ui.show_runs(found)


@runs_app.command("show", cls=Command, epilog=_epilog("tac-bootstrap runs show 3f2a"))
def runs_show(
    run_id: Annotated[
        str, typer.Argument(metavar="RUN_ID", help="A run id (or a unique prefix of one).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    debug: Debug = False,
) -> None:
    """Show one run: command line, answers, summary, logs."""
    with _guard(debug):
        from tac_bootstrap_cli import history, ui

        detail = history.show_run(run_id)
        if as_json:
            ui.print_json(detail.as_dict())
        else:
            ui.show_run(detail)


@app.command(
    cls=Command,
    epilog=_epilog(
        "tac-bootstrap observe ~/code/shop --open",
        "Exit codes: 0 stopped (Ctrl-C), 1 no readable database, 2 usage error.",
    ),
)
def observe(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The generated project (default: here).")
    ] = Path(),
    history: Annotated[
        bool, typer.Option("--history", help="Observe tac-bootstrap's own run history instead.")
    ] = False,
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
    with _guard(debug):
        from tac_bootstrap_cli import ui
        from tac_bootstrap_cli.observe import server
        from tac_bootstrap_cli.observe.server import ObserveError

        try:
            target = server.history_target() if history else server.project_target(path)
            if report is not None:
                detailed = server.write_report(target, report)
                ui.info(f"report: {report} ({detailed} runs in detail)")
                return
            if host not in server.LOCAL_HOSTS:
                ui.warn(server.EXPOSED_WARNING.format(host=host))

            def ready(url: str) -> None:
                ui.show_observing(url, str(target.db))
                if open_browser:
                    import webbrowser

                    webbrowser.open(url)

            server.serve(target, host=host, port=port, on_ready=ready)
        except ObserveError as exc:
            raise TacError(str(exc)) from None
