#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0"]
# ///
"""Recent ADW runs from the run-log database: phases, status, tokens and cost.

Tokens are shown as input / cache / output: the uncached input, the cache reads plus cache writes
(with prompt caching most input is there), and the output.

Usage: uv run adws/adw_status.py [--limit N] [--adw-id ID] [--json]
With --adw-id, the phase logs of that run are listed too. Exit 0; 1 when --adw-id names no
recorded run; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

from adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    OrchestratorAgentRepository,
    PromptRepository,
    connect,
    init_schema,
)
from adw_modules.utils import ORCHESTRATOR, db_path


def collect(limit: int, adw_id: str | None) -> list[dict[str, Any]]:
    """The latest ``limit`` ADW runs (newest first), each with its phases and totals."""
    path = db_path()
    if not path.exists():
        return []
    conn = connect(path)
    try:
        init_schema(conn)
        parent = OrchestratorAgentRepository(conn).list(name=ORCHESTRATOR, limit=1)
        if not parent:
            return []
        repo = AgentRepository(conn)
        # One run looked up by id may be older than any recent window: search every phase.
        window = repo.count(orchestrator_agent_id=parent[0].id) if adw_id else max(limit, 1) * 10
        agents = repo.list(orchestrator_agent_id=parent[0].id, limit=window)
        prompts = PromptRepository(conn)
        logs = AgentLogRepository(conn)
        runs: dict[str, dict[str, Any]] = {}
        phases: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for agent in agents:
            meta = agent.metadata or {}
            run_id = str(meta.get("adw_id") or "?")
            if adw_id and run_id != adw_id:
                continue
            agent_prompts = prompts.list(agent_id=agent.id, limit=1000)
            phase = {
                "phase": meta.get("phase"),
                "agent": agent.name,
                "agent_id": agent.id,
                "status": agent.status,
                "prompts": len(agent_prompts),
                "tokens_input": sum(p.tokens_input for p in agent_prompts),
                "tokens_cache_read": sum(p.tokens_cache_read for p in agent_prompts),
                "tokens_cache_creation": sum(p.tokens_cache_creation for p in agent_prompts),
                "tokens_output": sum(p.tokens_output for p in agent_prompts),
                "num_turns": sum(p.num_turns for p in agent_prompts),
                "models": sorted(
                    {m for p in agent_prompts for m in (p.models or "").split(",") if m}
                ),
                "cost_usd": round(sum(p.cost_usd for p in agent_prompts), 6),
                "started_at": agent.created_at.isoformat(timespec="seconds"),
            }
            if adw_id:
                phase["logs"] = [
                    f"{log.created_at.isoformat(timespec='seconds')} {log.log_type}: {log.message}"
                    for log in reversed(logs.list(agent_id=agent.id, limit=200))
                ]
            phases[run_id].append(phase)
            runs.setdefault(run_id, {"adw_id": run_id, "workflow": meta.get("workflow")})
        result = []
        for run_id, run in list(runs.items())[: None if adw_id else limit]:
            items = list(reversed(phases[run_id]))  # oldest phase first
            statuses = {p["status"] for p in items}
            run.update(
                status="failed"
                if "failed" in statuses
                else "running"
                if "running" in statuses
                else "completed",
                started_at=items[0]["started_at"],
                tokens_input=sum(p["tokens_input"] for p in items),
                tokens_cache_read=sum(p["tokens_cache_read"] for p in items),
                tokens_cache_creation=sum(p["tokens_cache_creation"] for p in items),
                tokens_output=sum(p["tokens_output"] for p in items),
                num_turns=sum(p["num_turns"] for p in items),
                models=sorted({m for p in items for m in p["models"]}),
                cost_usd=round(sum(p["cost_usd"] for p in items), 6),
                phases=items,
            )
            result.append(run)
        return result
    finally:
        conn.close()


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
            f"{tokens(run):>23} {run['cost_usd']:>9.4f}  {run['started_at']}"
        )
        for phase in run["phases"]:
            lines.append(
                f"{'':<9} {'':<11} {phase['phase']!s:<9} {phase['agent']!s:<12} {phase['status']:<10} "
                f"{tokens(phase):>23} {phase['cost_usd']:>9.4f}  {phase['started_at']}"
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
    --adw-id."""
    parser = argparse.ArgumentParser(prog="adw_status.py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limit", type=_positive, default=10, help="how many runs to show (default 10)"
    )
    parser.add_argument("--adw-id", help="show one run with its logs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    adw_id = args.adw_id.strip().lower() if args.adw_id else None
    runs = collect(args.limit, adw_id)
    if adw_id and not runs:
        print(f"no ADW run {args.adw_id!r} (runs: uv run adws/adw_status.py)", file=sys.stderr)
        return 1
    print(json.dumps(runs, indent=2) if args.json else render(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
