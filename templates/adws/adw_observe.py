#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["starlette>=1.10", "uvicorn>=0.55", "jinja2>=3.1", "pyyaml>=6.0", "psycopg[binary]>=3.2"]
# ///
"""The observatory: a live local web page of every ADW run, prompt, tool call, token and dollar.

Usage: uv run adws/adw_observe.py [--team | --db URL] [--port N] [--host H] [--open] [--report FILE]
Serves the run-log database (``$TAC_DB_PATH``, else config.yml ``database.path``) read-only on
127.0.0.1 (another ``--host`` only with a warning) until Ctrl-C; the same app as
``tac-bootstrap observe``. ``--report FILE`` writes the same views as one static HTML file
instead (no server, no script). ``--team`` serves the team's PostgreSQL server instead
(``$TAC_DB_URL``, else config.yml ``database.url``: every machine's runs, as ``adw_sync.py``
ships them), ``--db URL`` a given one; psycopg is imported only then. Exit 0 when stopped, 1 when the database cannot be read, 2 on a usage
error.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path

from adw_modules.observatory.report import write_report
from adw_modules.observatory.server import EXPOSED_WARNING, LOCAL_HOSTS, serve
from adw_modules.observatory.store import ObserveError, Store
from adw_modules.utils import PROJECT_ROOT, db_path, db_url


def _target(args: argparse.Namespace) -> Path | str:
    """The local file, or the team's server with ``--team`` / ``--db``."""
    if not (args.team or args.db):
        return db_path(PROJECT_ROOT)
    url = args.db or db_url(PROJECT_ROOT)
    if not url:
        raise ObserveError("no team server: set database.url in config.yml or TAC_DB_URL")
    return str(url)


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C; 1 with a one-line error when the database cannot be observed."""
    parser = argparse.ArgumentParser(prog="adw_observe.py", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="port (default: a free one from 8765)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--open", action="store_true", help="open it in a browser")
    parser.add_argument("--report", type=Path, help="write one static HTML file; no server")
    parser.add_argument("--team", action="store_true", help="the team's server (database.url)")
    parser.add_argument("--db", metavar="URL", help="observe this postgresql:// URL instead")
    args = parser.parse_args(argv)
    if args.host not in LOCAL_HOSTS:
        print(f"warning: {EXPOSED_WARNING.format(host=args.host)}", file=sys.stderr)

    def ready(url: str) -> None:
        print(f"observatory: {url}", flush=True)
        print("reading the run log read-only; Ctrl-C to stop", file=sys.stderr, flush=True)
        if args.open:
            webbrowser.open(url)

    try:
        path = _target(args)
        if args.report is not None:
            store = Store(path, PROJECT_ROOT)
            try:
                detailed = write_report(store, args.report, title=store.label)
            finally:
                store.close()
            print(f"report: {args.report} ({detailed} runs in detail)")
            return 0
        serve(path, PROJECT_ROOT, host=args.host, port=args.port, on_ready=ready)
    except (ObserveError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
