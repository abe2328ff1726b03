"""Command line of tac-bootstrap: parse arguments, call the core, hand results to ``ui``.

Startup time matters (``--help`` must cost little more than importing Typer), so this module
imports nothing heavy at module level: Rich, Jinja2 and Pydantic are imported inside commands.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.errors import EXIT_FAILURE, EXIT_USAGE, TacError

_EPILOG = "Exit codes: 0 success, 1 failure, 2 usage error (bad option, answer or config file)."

app = typer.Typer(
    name="tac-bootstrap",
    help="Add an agentic layer (Claude Code + AI Developer Workflows) to a software project.",
    epilog=_EPILOG,
    # Plain help output: Rich-formatted help would import Rich on every --help.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
)

_state = {"debug": False}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tac-bootstrap {__version__}")
        raise typer.Exit()


@app.callback()
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
    _state["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``tac-bootstrap`` script: run the app and map errors to exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="tac-bootstrap", standalone_mode=True)
    except TacError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the one place an unexpected error becomes a one-line message
        if debug:
            raise
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)\n"
        )
        sys.exit(EXIT_FAILURE)


__all__ = ["EXIT_USAGE", "app", "main"]
