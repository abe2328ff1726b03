#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0"]
# ///
"""Run a workflow for each new task file dropped into ``specs/inbox/``, on the cron schedule.

Usage: uv run adws/adw_triggers/trigger_cron.py [--once] [--workflow plan_build|sdlc]

The schedule is ``workflows.cron`` of config.yml (5 fields: minute hour day month weekday; ``*``,
lists, ranges and ``*/n`` steps); the workflow is ``workflows.default_workflow``. Each ``.md`` or
``.txt`` file in ``specs/inbox/`` runs once: processed files are remembered in
``agents/trigger_cron_state.json``. ``--once`` checks the inbox now and exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

# adws/adw_triggers/ is this script's folder; the shared modules live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adw_modules.adw_logging import SystemLogHandler
from adw_modules.utils import PROJECT_ROOT, db_path, load_config

INBOX = "specs/inbox"
STATE_FILE = "agents/trigger_cron_state.json"
WORKFLOWS = ("plan_build", "sdlc")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))

log = logging.getLogger("adw.trigger_cron")


def _field_values(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        step = 1
        stepped = "/" in part
        if stepped:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step <= 0:
                raise ValueError(f"bad step in {field!r}")
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            start, end = (int(x) for x in part.split("-", 1))
        else:
            start = end = int(part)
            if stepped:  # "5/15" = from 5 to the end, every 15
                end = high
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(f"{field!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def parse_cron(expression: str) -> list[set[int]]:
    """The allowed values of the five cron fields; ``ValueError`` on a malformed expression."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron {expression!r} must have 5 fields (minute hour day month weekday)")
    parsed = [_field_values(f, low, high) for f, (low, high) in zip(fields, _RANGES, strict=True)]
    if 7 in parsed[4]:
        parsed[4].add(0)
    return parsed


def cron_matches(expression: str, moment: datetime) -> bool:
    """True when ``moment`` (to the minute) is on the cron schedule."""
    minute, hour, day, month, weekday = parse_cron(expression)
    cron_weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday; Python: 0 = Monday
    return (
        moment.minute in minute
        and moment.hour in hour
        and moment.day in day
        and moment.month in month
        and cron_weekday in weekday
    )


def _load_state(root: Path) -> dict[str, str]:
    try:
        data = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_state(root: Path, state: dict[str, str]) -> None:
    path = root / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def new_task_files(root: Path) -> list[Path]:
    """Task files in the inbox that have not run yet, oldest first."""
    inbox = root / INBOX
    if not inbox.is_dir():
        return []
    done = _load_state(root)
    files = [p for p in inbox.iterdir() if p.is_file() and p.suffix in (".md", ".txt")]
    return sorted(
        (p for p in files if p.name not in done),
        key=lambda p: (p.stat().st_mtime, p.name),
    )


def process_inbox(root: Path, workflow: str) -> int:
    """Run ``workflow`` once per new task file; returns how many runs failed."""
    failures = 0
    state = _load_state(root)
    for task_file in new_task_files(root):
        script = root / "adws" / f"adw_{workflow}.py"
        log.info("running %s for %s", workflow, task_file.name)
        # This interpreter is a `uv run --script` environment with the workflows' dependencies.
        proc = subprocess.run(
            [sys.executable, str(script), "--issue-file", str(task_file)],
            cwd=root,
            check=False,
        )
        outcome = "completed" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
        if proc.returncode != 0:
            failures += 1
            log.error("%s for %s %s", workflow, task_file.name, outcome)
        else:
            log.info("%s for %s %s", workflow, task_file.name, outcome)
        # Recorded either way: a failing task is not retried every minute (drop it in again).
        state[task_file.name] = f"{datetime.now().isoformat(timespec='seconds')} {outcome}"
        _save_state(root, state)
    return failures


def main(argv: list[str] | None = None) -> int:
    """Watch the inbox on the cron schedule (or once with ``--once``)."""
    parser = argparse.ArgumentParser(prog="trigger_cron.py", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="process the inbox now and exit")
    parser.add_argument("--workflow", choices=WORKFLOWS, help="default: workflows.default_workflow")
    args = parser.parse_args(argv)
    root = PROJECT_ROOT
    config = load_config(root)
    workflow = args.workflow or str(config["workflows"].get("default_workflow") or "plan_build")
    expression = str(config["workflows"].get("cron") or "*/5 * * * *")
    try:
        parse_cron(expression)
    except ValueError as exc:
        print(f"error: config.yml workflows.cron: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    handler = SystemLogHandler(db_path(root, config), source="trigger_cron")
    log.addHandler(handler)
    try:
        if args.once:
            return 1 if process_inbox(root, workflow) else 0
        log.info("watching %s on %r with %s (Ctrl-C stops)", INBOX, expression, workflow)
        last_minute = None
        while True:
            now = datetime.now().replace(second=0, microsecond=0)
            if now != last_minute and cron_matches(expression, now):
                last_minute = now
                process_inbox(root, workflow)
            time.sleep(20)
    except KeyboardInterrupt:
        return 0
    finally:
        handler.close()


if __name__ == "__main__":
    sys.exit(main())
