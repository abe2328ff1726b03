#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = [
#   "pyyaml>=6.0",
#   "opentelemetry-sdk>=1.30",
#   "opentelemetry-exporter-otlp-proto-http>=1.30",
# ]
# ///
"""Send the hook events of interactive Claude Code sessions to an OpenTelemetry backend.

ADW runs send their own traces as they run; the events the hooks record outside an ADW (your
sessions in Claude Code) are sent by this command: one trace per session (a root
``invoke_agent claude-session`` span, sent when the session ends, and an ``execute_tool`` span
per tool call). Only what was recorded since the last export is sent: the position is kept per
endpoint in ``<database>-otlp-export.json`` beside the database, and moves only once the
collector took the spans, so a rerun sends nothing twice and a collector that is down loses
nothing (see adw_modules/adw_session_export.py). A session that never recorded its end (a killed
terminal) is closed once it has been silent for ``--stale-after`` hours (24 by default): its root
span ends at its last event and is marked ``adw.session.unfinished``, and the tool calls it left
open are sent with no length, marked ``adw.tool.unfinished``.

The endpoint is ``--endpoint``, else ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_ENDPOINT``, else ``telemetry.otlp_endpoint`` in config.yml, as for the
workflows; ``OTEL_EXPORTER_OTLP_HEADERS`` and ``OTEL_EXPORTER_OTLP_TIMEOUT`` (seconds, 2 by
default) apply.

Usage: uv run adws/adw_export.py --otlp [--endpoint URL] [--stale-after HOURS]
Exit 0 when the events were sent or there was nothing new (or another export is running);
1 when the collector could not be reached (one line on stderr; the rest waits for the next run);
2 on a usage error (no --otlp, no endpoint, a bad URL).
From cron, e.g. every 10 minutes:
  */10 * * * * cd /path/to/project && uv run adws/adw_export.py --otlp >>agents/export.log 2>&1
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from adw_modules import adw_telemetry
from adw_modules.adw_session_export import (
    STALE_AFTER,
    ExportError,
    exclusive,
    export_sessions,
    state_path,
)
from adw_modules.utils import PROJECT_ROOT, db_path, load_config, otlp_endpoint_problem

EXIT_OK = 0
EXIT_UNREACHABLE = 1
EXIT_USAGE = 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="adw_export.py",
        description="Send interactive sessions' hook events to an OpenTelemetry backend.",
    )
    parser.add_argument(
        "--otlp", action="store_true", help="export as OTLP/HTTP traces (the only format)"
    )
    parser.add_argument("--endpoint", help="OTLP/HTTP base URL (default: as the workflows)")
    parser.add_argument(
        "--stale-after",
        type=float,
        default=STALE_AFTER.total_seconds() / 3600,
        metavar="HOURS",
        help="close a session without SessionEnd once silent this long (default: %(default)g)",
    )
    args = parser.parse_args(argv)
    if args.stale_after < 0:
        parser.error("--stale-after: hours must be 0 or more")
    if not args.otlp:
        parser.error("say how to export: --otlp")
    if args.endpoint and (problem := otlp_endpoint_problem(args.endpoint)):
        parser.error(f"--endpoint: {problem}")
    return args


def _endpoint(args: argparse.Namespace, config: dict[str, Any]) -> str | None:
    if args.endpoint:
        return adw_telemetry.traces_url(args.endpoint)
    return adw_telemetry.endpoint(config)


def _export(db: Path, url: str, stale_after: timedelta) -> int:
    """One export of ``db`` to ``url`` under the export's lock; its line and exit code."""
    with exclusive(state_path(db)) as mine:
        if not mine:
            print("export: another export of this database is running; nothing done")
            return EXIT_OK
        try:
            result = export_sessions(
                db,
                url,
                project=PROJECT_ROOT.name,
                timeout=adw_telemetry.timeout_seconds(),
                stale_after=stale_after,
            )
        except ExportError as exc:
            print(
                f"export: collector at {url} not reachable ({exc}); {exc.result.spans} spans"
                " sent before it; the rest waits for the next export",
                file=sys.stderr,
                flush=True,
            )
            return EXIT_UNREACHABLE
    if result.spans:
        print(f"export: {result.spans} spans of {len(result.sessions)} sessions sent to {url}")
    else:
        print(f"export: nothing new to send to {url}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(PROJECT_ROOT)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    url = _endpoint(args, config)
    if url is None:
        print(
            "error: no endpoint: set OTEL_EXPORTER_OTLP_ENDPOINT or telemetry.otlp_endpoint in"
            " config.yml (e.g. http://localhost:6006 for Arize Phoenix), or pass --endpoint",
            file=sys.stderr,
        )
        return EXIT_USAGE
    db = db_path(PROJECT_ROOT, config)
    if not db.exists():
        print(f"export: nothing to send yet ({db} does not exist)")
        return EXIT_OK
    return _export(db, url, timedelta(hours=args.stale_after))


if __name__ == "__main__":
    sys.exit(main())
