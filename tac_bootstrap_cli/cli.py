"""Entry point of the ``tac-bootstrap`` script: a fast path for help/version, then the Typer app.

Startup time matters: ``tac-bootstrap --help`` and ``--version`` are answered from a text kept
equal to Typer's output by a test (``tests/cli/test_help.py``), so they import only this module.
Everything else goes to the Typer app in ``commands.py``, which imports heavy modules lazily.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Any

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli._helptext import ROOT_HELP
from tac_bootstrap_cli.errors import EXIT_INTERRUPTED, EXIT_USAGE


def _fast_path(args: list[str]) -> bool:
    """Answer ``--help`` (``-h``) / ``--version`` without importing Typer; True when answered."""
    if args in (["--help"], ["-h"]):
        sys.stdout.write(ROOT_HELP)
        return True
    if args == ["--version"]:
        sys.stdout.write(f"tac-bootstrap {__version__}\n")
        return True
    return False


def _interrupted_before_work(_signum: int, _frame: FrameType | None) -> None:
    """Ctrl-C while the CLI loads and parses: nothing has been touched yet, so say so and stop
    (Typer would swallow the KeyboardInterrupt there and exit with no message)."""
    os.write(2, b"interrupted: nothing was changed\n")
    os._exit(EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and exit with its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if _fast_path(args):
        sys.exit(0)
    debug = "--debug" in args
    # Python's cyclic collector runs every 700 new objects: a command creates ~300,000 (modules,
    # classes, compiled templates) that live until it ends, so its passes find nothing and cost
    # ~10% of a command (~15 ms of add-agentic). It stays off while a command runs (what is freed
    # by reference counting still is); a long-running one turns it back on (observe's server).
    import gc  # built in: no cost, but not needed by the fast path above

    collecting = gc.isenabled()
    # Our Pydantic models are internal (team-template metadata, generated models): third-party
    # Pydantic plugins have nothing to observe in them, and finding plugins reads the metadata of
    # every installed distribution when the first model is built (~20-30 ms). Typer does the same
    # for its own adapters. A value the user set is kept.
    plugins_were_set = "PYDANTIC_DISABLE_PLUGINS" in os.environ
    previous: list[Any] = []  # the SIGINT handler replaced, once it is
    try:  # everything changed below is put back by the finally, whatever fails first
        gc.disable()
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        # Until a command starts (commands/base.py restores Python's handler there), an
        # interrupt can only land in imports or argument parsing.
        previous.append(signal.signal(signal.SIGINT, _interrupted_before_work))
        from tac_bootstrap_cli.commands import app
        from tac_bootstrap_cli.commands.base import Invocation, lazy_group

        # Only the command that runs is built (Typer's app() would build all eleven); the real
        # command line reaches every command as Click's context object.
        lazy_group(app).main(
            args=args, prog_name="tac-bootstrap", standalone_mode=True, obj=Invocation(tuple(args))
        )
    except SystemExit:
        raise
    except (Exception, KeyboardInterrupt) as exc:  # outside a command (commands report their own)
        if debug:
            raise
        from tac_bootstrap_cli.commands.base import report_error

        sys.exit(report_error(exc))
    finally:
        if previous and signal.getsignal(signal.SIGINT) is _interrupted_before_work:
            signal.signal(signal.SIGINT, previous[0])  # an in-process caller gets its own back
        if not plugins_were_set:
            os.environ.pop("PYDANTIC_DISABLE_PLUGINS", None)
        if argv is None:
            # The program ends here: Python's last collection at exit would walk every object
            # once more to find nothing (~5 ms); frozen objects are skipped.
            gc.freeze()
        if collecting:
            gc.enable()  # an in-process caller (tests, embedding) gets its collector back


def __getattr__(name: str) -> Any:
    """``cli.app`` stays importable (tests, embedding) without making every start import Typer."""
    if name == "app":
        from tac_bootstrap_cli.commands import app

        return app
    raise AttributeError(name)


__all__ = ["EXIT_USAGE", "main"]
