#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0"]
# ///
"""Recent ADW runs from the run-log database: phases, status, tokens and cost.

Tokens are shown as input / cache / output: the uncached input, the cache reads plus cache writes
(with prompt caching most input is there), and the output.

The runs are read by the observatory's store (``adw_modules/observatory/store.py``), the same
queries as ``adw_observe.py``'s ``/api/runs``: ``--json`` prints each run as that API does
(``phases`` one entry per phase Agent), plus its totals flat (``adw_id``, ``tokens_*``,
``num_turns``, ``models``, ``cost_usd``) and, with ``--adw-id``, each phase's latest log lines.

Usage: uv run adws/adw_status.py [--limit N] [--adw-id ID] [--json]
With --adw-id, the phase logs of that run are listed too. Exit 0; 1 when --adw-id names no
recorded run or the database cannot be read; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import Any

from adw_modules.adw_sqlite import DatabaseError, connect, init_schema
from adw_modules.observatory.store import EventCursor, ObserveError, Store
from adw_modules.utils import PROJECT_ROOT, db_path

LOGS_PER_PHASE = 200
FLAT = ("tokens_input", "tokens_cache_read", "tokens_cache_creation", "tokens_output", "num_turns")


def _flat(run: dict[str, Any]) -> dict[str, Any]:
    """An API run with its totals also at the top level (what this command printed before)."""
    totals = run["totals"]
    models = sorted({m for phase in run["phases"] for m in phase["models"]})
    return {
        "adw_id": run["id"],
        **run,
        **{key: totals[key] for key in FLAT},
        "models": models,
        "cost_usd": totals["cost_usd"],
    }


def collect(limit: int, adw_id: str | None) -> list[dict[str, Any]]:
    """The latest ``limit`` ADW runs (newest first), or the run ``adw_id`` with its logs.

    Raises ``ObserveError`` (or ``DatabaseError``) when the database cannot be read."""
    path = db_path()
    if not path.exists():
        return []
    conn = connect(path)  # an older schema is migrated first, as every ADW script does
    try:
        init_schema(conn)
    finally:
        conn.close()
    store = Store(path, PROJECT_ROOT)
    try:
        if not adw_id:
            return [_flat(run.as_dict()) for run in store.runs(per_page=limit).runs]
        detail = store.run(adw_id, EventCursor(latest=True, limit=LOGS_PER_PHASE))
    finally:
        store.close()
    if detail is None:
        return []
    run = _flat(detail["run"])
    for phase, shown in zip(run["phases"], detail["phases"], strict=True):
        phase["logs"] = [
            f"{e['created_at'][:19]} {e['log_type']}: {e['message']}" for e in shown["events"]
        ]
    return [run]


def tokens(entry: dict[str, Any]) -> str:
    """``input/cache/output`` tokens of a run or phase; cache = cache reads + cache writes."""
    cache = entry["tokens_cache_read"] + entry["tokens_cache_creation"]
    return f"{entry['tokens_input']}/{cache}/{entry['tokens_output']}"


def render(runs: list[dict[str, Any]]) -> str:
    """A plain-text table of the runs and their phases."""
    if not runs:
        return f"no ADW runs recorded yet in {db_path()}"
    lines = [
        f"{'ADW':<9} {'workflow':<11} {'phase':<9} {'agent':<12} {'status':<10} "
        f"{'tokens in/cache/out':>23} {'cost':>9}  started"
    ]
    for run in runs:
        lines.append(
            f"{run['adw_id']:<9} {run['workflow']!s:<11} {'(all)':<9} {'':<12} {run['status']:<10} "
            f"{tokens(run):>23} {run['cost_usd']:>9.4f}  {run['started_at'][:19]}"
        )
        for phase in run["phases"]:
            lines.append(
                f"{'':<9} {'':<11} {phase['phase']!s:<9} {phase['agent']!s:<12} {phase['status']:<10} "
                f"{tokens(phase):>23} {phase['cost_usd']:>9.4f}  {phase['started_at'][:19]}"
            )
            for entry in phase.get("logs", []):
                lines.append(f"{'':<22}{entry}")
    return "\n".join(lines)


def _positive(value: str) -> int:
    """An ``--limit`` value: a whole number of at least 1 (argparse exits 2 otherwise)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


def main(argv: list[str] | None = None) -> int:
    """Print the recent runs; exit 0 (also when nothing was recorded yet), 1 for an unknown
    --adw-id or a database that cannot be read."""
    parser = argparse.ArgumentParser(prog="adw_status.py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limit", type=_positive, default=10, help="how many runs to show (default 10)"
    )
    parser.add_argument("--adw-id", help="show one run with its logs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    adw_id = args.adw_id.strip().lower() if args.adw_id else None
    try:
        runs = collect(args.limit, adw_id)
    except (ObserveError, DatabaseError, sqlite3.Error) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    if adw_id and not runs:
        print(f"no ADW run {args.adw_id!r} (runs: uv run adws/adw_status.py)", file=sys.stderr)
        return 1
    print(json.dumps(runs, indent=2) if args.json else render(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
