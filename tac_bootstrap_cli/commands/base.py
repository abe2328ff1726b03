"""What every command is built from: ``Command``/``Group`` (errors reported by ``report_error``,
usage lines without braces), the run's command line from Click's context, and the shared options,
help texts and epilogs.

The commands (``commands/__init__.py``) are declared with these, so they read as what each one
does. No module-level state: ``--debug`` and the command line are read from each run's context.
"""

from __future__ import annotations

import contextlib
import copy
import re
import shlex
import signal
import sys
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer._click.exceptions import ClickException
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.core import TyperCommand, TyperGroup

from tac_bootstrap_cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, Declined, TacError

EXIT_CODES = (
    "Exit codes: 0 success, 1 failure, 2 usage error (bad option, answer or config file),"
    " 130 interrupted (rerun to complete)."
)
# The writing commands also exit 1 when the user answers no to "Apply these changes?".
WRITE_EXIT_CODES = (
    "Exit codes: 0 success, 1 failure or changes declined (nothing written), 2 usage error"
    " (bad option, answer or config file), 130 interrupted (rerun to complete)."
)
UPGRADE_EXIT_CODES = (
    "Exit codes: 0 upgraded with no conflict left, 1 conflicts remain (listed, with how to"
    " resolve them) or failure, 2 usage error, 3 uncommitted changes in the git work tree"
    " (nothing done; --force goes on), 130 interrupted (rerun the same command to complete)."
)


def epilog(example: str, exit_codes: str | None = None) -> str:
    """Help's closing text: one example (each command has one), then the exit codes if any."""
    # \b keeps Click from re-wrapping the example into the next paragraph.
    text = f"\b\nExample: {example}"
    return f"{text}\n\n{exit_codes}" if exit_codes else text


EPILOG = epilog("tac-bootstrap init my-app", EXIT_CODES)
HELP = "Add an agentic layer (Claude Code + AI Developer Workflows) to a software project."
# A fixed help width keeps help text identical on every terminal (and the fast path exact);
# -h is --help on every command (subcommands inherit help_option_names from the root context).
CONTEXT = {"terminal_width": 80, "max_content_width": 80, "help_option_names": ["-h", "--help"]}

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
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# The argument of the commands that work on a project tac-bootstrap generated (upgrade, doctor,
# observe).
GeneratedProject = Annotated[
    Path, typer.Argument(metavar="PATH", help="The generated project (default: here).")
]

T = TypeVar("T")


@dataclass(frozen=True)
class Invocation:
    """The command line ``cli.main`` was given, handed to every command as Click's context
    object (the history records it, a rerun hint names it)."""

    argv: tuple[str, ...]


def command_line(ctx: typer.Context) -> list[str]:
    """This run's command line: the real one when ``cli.main`` ran it, else rebuilt from the
    command's path and parsed parameters (tests and embedding call the app directly)."""
    if isinstance(ctx.obj, Invocation):
        return ["tac-bootstrap", *ctx.obj.argv]
    arguments: list[str] = []
    options: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value is None or value is False:
            continue
        if param.param_type_name == "argument":
            arguments.append(str(value))
            continue
        options.append(next((o for o in param.opts if o.startswith("--")), param.opts[0]))
        if value is not True:
            options.append(str(value))
    command = ["tac-bootstrap", *command_name(ctx).split()]
    if any(a.startswith("-") for a in arguments):  # e.g. a folder named -x: not an option
        return [*command, *options, "--", *arguments]
    return [*command, *arguments, *options]


def command_name(ctx: typer.Context) -> str:
    """``init``, ``generate models``...: the command path without the program's name."""
    return ctx.command_path.partition(" ")[2]


def _debug(ctx: typer.Context) -> bool:
    """``--debug`` given to this command or to the program (``tac-bootstrap --debug init``)."""
    node: Any = ctx  # parents are Click's own contexts, typed apart from Typer's
    while node is not None:
        if node.params.get("debug"):
            return True
        node = node.parent
    return False


def _reported(ctx: typer.Context, invoke: Callable[[], T]) -> T:
    """``invoke``, with an error turned into one line on stderr and its exit code by
    ``report_error``; ``--debug`` lets it through for the traceback."""
    # From here on an interrupt is the command's to handle (cli.main caught it until now, while
    # the CLI loaded and parsed its arguments).
    with contextlib.suppress(ValueError):  # not the main thread: cli.main set nothing there
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return invoke()
    except (typer.Exit, typer.Abort, ClickException):
        # A subcommand's arguments are parsed inside a group's invoke: a usage error there is
        # Click's to print with the usage line, exit 2, not an unexpected error.
        raise
    except (Exception, KeyboardInterrupt) as exc:
        if _debug(ctx):
            raise
        raise typer.Exit(report_error(exc, command_line(ctx))) from None


def report_error(exc: BaseException, command_line: list[str] | None = None) -> int:
    """The one place an error becomes what the user reads (one plain line on stderr) and the exit
    code; ``command_line`` (the whole one) completes the hint of an error a rerun completes."""
    # Plain writes here, not ui.py's consoles: a Ctrl-C can land while ui's heavy imports are
    # half done, and the report must not need them.
    if isinstance(exc, Declined):  # the user's own answer: no "error:" prefix, no rerun hint
        sys.stderr.write(f"{exc}\n")
        return exc.exit_code
    if isinstance(exc, TacError):
        if command_line is not None:
            exc.rerun_with(shlex.join(command_line))
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("interrupted; nothing more was written\n")
        return EXIT_INTERRUPTED
    if isinstance(exc, EOFError):  # Ctrl-D at a question: cancelled before anything was written
        sys.stderr.write("cancelled: input ended before every question was answered\n")
        return EXIT_INTERRUPTED
    # Unexpected: still one line; --debug shows the traceback.
    sys.stderr.write(
        f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)\n"
    )
    return EXIT_FAILURE


@dataclass(frozen=True)
class _Deferred(RuntimeParam):
    """A parameter's coercion, Typer's own built only for a value that needs it.

    Typer coerces every value but a bool flag's through a Pydantic ``TypeAdapter`` it builds on
    first use, even a ``None`` it then returns unchanged: ``init --help`` imported Pydantic for
    the root's unset ``--help`` (~60 ms, a third of the command). Values Typer's adapter would
    return unchanged are returned here without it: ``None`` (``RuntimeParam.coerce``), a ``str``
    for a ``str`` parameter, an ``int`` within its bounds for an ``int`` one (or the plain decimal
    digits of one, as typed: the ``int`` they are); a ``str`` for a
    ``Path`` one goes through Typer's own path checks as ``Path(value)``, which is what its
    Pydantic adapter makes of any ``str``. Anything else (a path given as a ``Path``, a number
    written otherwise, a bad value and its error) goes to Typer's own.
    """

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        info = self.parameter_info
        if info.parser is None and not (param.multiple or param.nargs != 1):
            if self.annotation is str and type(value) is str:
                return value
            if self.annotation is int and type(value) is int and _within(value, info):
                return value
            if self.annotation is int and type(value) is str and _CANONICAL_INT.fullmatch(value):
                # `-n 5`: plain decimal digits are the int Pydantic's lax mode makes of them
                # (signs, spaces, underscores, leading zeros and bad bounds go to Typer's own).
                number = int(value)
                if _within(number, info):
                    return number
            if self.annotation is Path and info.path_type is None and type(value) is str:
                # Typer's Path adapter turns a str into Path(str) with Pydantic (which does
                # exactly that for every str), then checks the path flags: the checks are kept.
                return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
        real = build_runtime_param(param.type_descriptor)
        param._runtime_param = real  # later values go straight to Typer's
        return real._coerce_value(value, param=param, ctx=ctx)


_CANONICAL_INT = re.compile(r"(?:0|[1-9][0-9]{0,17})")


def _within(value: int, info: Any) -> bool:
    """``value`` passes the parameter's ``min``/``max`` (not clamped: Typer's would change it)."""
    low_ok = info.min is None or value >= info.min
    return not info.clamp and low_ok and (info.max is None or value <= info.max)


def _defer_coercion(params: list[Any]) -> None:
    """Give each parameter whose coercion Typer has not built yet the ``_Deferred`` one."""
    for param in params:
        if getattr(param, "_runtime_param", False) is None:
            descriptor = param.type_descriptor
            param._runtime_param = _Deferred(descriptor.parameter_info, descriptor.annotation)


class Root(TyperGroup):
    """The program's group (and ``generate``): Typer's, coercing with ``_Deferred``."""

    def list_commands(self, ctx: Any) -> list[str]:
        """The subcommands' names in the order they were declared (none of them is built)."""
        del ctx  # Click's signature; the names need no context
        return list(self.commands)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse as Typer does, with ``_Deferred`` coercion (help option included)."""
        _defer_coercion(self.get_params(ctx))
        return super().parse_args(ctx, args)


class Command(TyperCommand):
    """A Typer command whose errors ``report_error`` maps, and whose usage line names a required
    argument ``NAME``, not ``{NAME}``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse as Typer does, with ``_Deferred`` coercion (help option included)."""
        _defer_coercion(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:  # Typer's own (vendored) Click context
        """Run the command; an error becomes its message and exit code."""
        return _reported(ctx, lambda: super(Command, self).invoke(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """The usage line's pieces, with Typer's braces around required arguments dropped."""
        # Braces read as shell brace expansion or a placeholder to fill in with braces.
        return [_unbraced(piece) for piece in super().collect_usage_pieces(ctx)]


class Group(Root):
    """A Typer group whose own callback's errors ``report_error`` maps (``runs``)."""

    def invoke(self, ctx: Any) -> Any:
        """Run the callback (and subcommand); an error becomes its message and exit code."""
        return _reported(ctx, lambda: super(Group, self).invoke(ctx))


def _unbraced(piece: str) -> str:
    if piece.startswith("{") and "}" in piece:
        name, _, rest = piece[1:].partition("}")
        return name + rest
    return piece


class LazyCommands(MutableMapping[str, Any]):
    """A group's subcommands, each turned into a Click command by Typer when first looked up.

    Typer builds every command's parameters when it builds a group (``get_type_hints`` and a
    ``compile`` per annotation for each of the CLI's eleven commands) although one runs; here
    only the command that is run, or whose help is shown, is built. Names keep their order.
    """

    def __init__(self, makers: dict[str, Callable[[], Any]]) -> None:
        self._makers = dict(makers)
        self._made: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._makers.setdefault(name, lambda: command)
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._makers[name]
        self._made.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def lazy_group(app: typer.Typer) -> TyperGroup:
    """The Click group Typer makes of ``app``, with its subcommands built on first use.

    The group itself (its callback's options) is Typer's own, from a copy of ``app`` without
    subcommands; each subcommand is then what Typer's ``get_group`` would have built for it
    (a subgroup whole, with its own few subcommands), made when it is looked up. Help texts
    and behaviour are Typer's: ``tests/cli/test_lazy_group.py`` compares both ways.
    """
    from functools import partial

    from typer.main import get_command_from_info, get_command_name, get_group, get_group_from_info

    shell = copy.copy(app)
    shell.registered_commands = []
    shell.registered_groups = []
    group = get_group(shell)
    makers: dict[str, Callable[[], Any]] = {}
    for info in app.registered_commands:
        callback = info.callback
        name = info.name or get_command_name(callback.__name__ if callback else "")
        makers[name] = partial(
            get_command_from_info,
            info,
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
        )
    for sub in app.registered_groups:
        if not sub.name:  # not used by this CLI: Typer merges such a group's commands
            return get_group(app)
        makers[sub.name] = partial(
            get_group_from_info,
            sub,
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
    group.commands = LazyCommands(makers)
    return group
