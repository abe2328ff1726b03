#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0", "psycopg[binary]>=3.2"]
# ///
"""Ship the local run log (agents/orchestrator.db) to the team's PostgreSQL server.

The server is ``$TAC_DB_URL``, else ``database.url`` in config.yml (``postgresql://user@host/db``;
the password never goes there: PGPASSWORD or ~/.pgpass). Only rows that changed since the last
sync are sent; sending twice, two syncs at once or a sync killed half-way never duplicate or lose
a row (see adw_modules/adw_sync.py). Every workflow runs it at its end when a server is set.

Usage: uv run adws/adw_sync.py [--watch SECONDS] [--batch ROWS] [--url URL]
Exit 0 when every change made before it started is on the server, or when another sync of this
file held the lock for 10 s (it ships them; the next sync ships what that one leaves);
75 (EX_TEMPFAIL: try again later) when the server cannot be reached, with one line on stderr;
1 on any other failure; 2 on a usage error or when no server is configured.
From cron, e.g. every 5 minutes, appending to a log instead of mailing each offline run:
  */5 * * * * cd /path/to/project && uv run adws/adw_sync.py >>agents/sync.log 2>&1
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from adw_modules.adw_database import DatabaseError
from adw_modules.adw_postgres import redact
from adw_modules.adw_sync import BATCH_ROWS, ServerUnreachable, Syncer
from adw_modules.utils import PROJECT_ROOT, db_path, db_url, db_url_problem, load_config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_OFFLINE = 75  # sysexits.h EX_TEMPFAIL


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="adw_sync.py", description="Ship the local run log to the shared PostgreSQL server."
    )
    parser.add_argument("--url", help="the server (default: $TAC_DB_URL, else database.url)")
    parser.add_argument(
        "--watch", type=float, metavar="SECONDS", help="keep syncing, every SECONDS, until stopped"
    )
    parser.add_argument("--batch", type=int, default=BATCH_ROWS, help="changes per transaction")
    args = parser.parse_args(argv)
    if args.batch < 1 or (args.watch is not None and args.watch <= 0):
        parser.error("--batch and --watch must be positive")
    return args


def once(syncer: Syncer) -> int:
    """One sync; its outcome as one line (stdout on success, stderr otherwise) and exit code."""
    where = redact(syncer.url)
    try:
        result = syncer.run()
    except ServerUnreachable as exc:
        print(
            f"sync: PostgreSQL server {where} not reachable ({exc}); the rows stay in"
            f" {syncer.path} for the next sync",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_OFFLINE
    except DatabaseError as exc:
        print(f"sync: failed: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    print(result.summary(where), flush=True)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(PROJECT_ROOT)
        url = args.url or db_url(PROJECT_ROOT, config)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not url:
        print(
            "error: no server to sync to: set TAC_DB_URL or database.url in config.yml"
            " (postgresql://user@host/database)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if (problem := db_url_problem(url)) and "password" not in problem:
        print(f"error: {redact(url)}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    path = db_path(PROJECT_ROOT, config)
    if not path.exists() and args.watch is None:
        print(f"sync: nothing to ship yet ({path} does not exist)")
        return EXIT_OK
    syncer = Syncer(path, url, batch_rows=args.batch)
    try:
        code = once(syncer)
        while args.watch is not None:
            time.sleep(args.watch)
            code = once(syncer)
    except KeyboardInterrupt:
        code = EXIT_OK
    finally:
        syncer.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
